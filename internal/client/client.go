// Package client is a small Go client for Kansoku's APIs, signing requests
// with SigV4 (service aps) through aws-sdk-go-v2's signer, or sending a
// bearer token. The kansoku CLI commands, the benchmark and the end-to-end
// tests use it.
package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client talks to one Kansoku server.
type Client struct {
	BaseURL string // e.g. http://localhost:9393, no trailing slash
	Region  string
	Creds   aws.Credentials
	Token   string // bearer token; used instead of SigV4 when set
	HTTP    *http.Client
	signer  *v4.Signer
}

// New returns a SigV4-signing client.
func New(baseURL, region string, creds aws.Credentials) *Client {
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), Region: region, Creds: creds,
		HTTP: &http.Client{Timeout: 2 * time.Minute}, signer: v4.NewSigner()}
}

// APIError is a non-2xx response.
type APIError struct {
	Status  int
	Type    string // x-amzn-ErrorType or Prometheus errorType
	Message string
}

func (e *APIError) Error() string {
	if e.Type != "" {
		return fmt.Sprintf("%s (HTTP %d): %s", e.Type, e.Status, e.Message)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
}

// Sign adds authentication to req, whose body is body.
func (c *Client) Sign(ctx context.Context, req *http.Request, body []byte) error {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
		return nil
	}
	sum := sha256.Sum256(body)
	if c.signer == nil {
		c.signer = v4.NewSigner()
	}
	return c.signer.SignHTTP(ctx, c.Creds, req, hex.EncodeToString(sum[:]), "aps", c.Region, time.Now().UTC())
}

// Raw sends a request and returns the response with its body read.
func (c *Client) Raw(ctx context.Context, method, path string, query url.Values, contentType string, body []byte, headers http.Header) (*http.Response, []byte, error) {
	u := c.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if err := c.Sign(ctx, req, body); err != nil {
		return nil, nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// JSON sends in as a JSON body (nil: no body) and decodes a 2xx response
// into out (nil: ignored).
func (c *Client) JSON(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	ct := ""
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
		ct = "application/json"
	}
	resp, b, err := c.Raw(ctx, method, path, query, ct, body, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return responseError(resp, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode response of %s %s: %w", method, path, err)
		}
	}
	return nil
}

func responseError(resp *http.Response, b []byte) error {
	e := &APIError{Status: resp.StatusCode, Type: resp.Header.Get("X-Amzn-ErrorType")}
	var body struct {
		Message   string `json:"message"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
	}
	if json.Unmarshal(b, &body) == nil {
		e.Message = body.Message
		if e.Message == "" {
			e.Message = body.Error
		}
		if e.Type == "" {
			e.Type = body.ErrorType
		}
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(b))
	}
	return e
}

// Settings are where a client connects and with which credentials.
type Settings struct {
	URL    string
	Region string
	Creds  aws.Credentials
	Token  string
}

// LoadCredentialsFile reads a shell-style KEY=VALUE file such as
// <data.dir>/admin-credentials.
func LoadCredentialsFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if ok {
			out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return out, sc.Err()
}

// Resolve fills in Settings from, in order: what is already set, the
// environment (KANSOKU_URL, KANSOKU_TOKEN, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION/AWS_DEFAULT_REGION),
// and the credentials file.
func (s Settings) Resolve(credentialsFile string) (Settings, error) {
	if s.URL == "" {
		s.URL = os.Getenv("KANSOKU_URL")
	}
	if s.URL == "" {
		s.URL = "http://localhost:9393"
	}
	if s.Token == "" {
		s.Token = os.Getenv("KANSOKU_TOKEN")
	}
	if s.Creds.AccessKeyID == "" {
		s.Creds = aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
	}
	if s.Region == "" {
		s.Region = os.Getenv("AWS_REGION")
	}
	if s.Region == "" {
		s.Region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if (s.Creds.AccessKeyID == "" || s.Region == "") && credentialsFile != "" {
		if m, err := LoadCredentialsFile(credentialsFile); err == nil {
			if s.Creds.AccessKeyID == "" {
				s.Creds = aws.Credentials{AccessKeyID: m["AWS_ACCESS_KEY_ID"], SecretAccessKey: m["AWS_SECRET_ACCESS_KEY"]}
			}
			if s.Region == "" {
				s.Region = m["AWS_DEFAULT_REGION"]
			}
		}
	}
	if s.Region == "" {
		s.Region = "us-east-1"
	}
	if s.Token == "" && (s.Creds.AccessKeyID == "" || s.Creds.SecretAccessKey == "") {
		return s, fmt.Errorf("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or KANSOKU_TOKEN), or point --data.dir at a data directory holding admin-credentials")
	}
	return s, nil
}

// FromSettings returns a client for s.
func FromSettings(s Settings) *Client {
	c := New(s.URL, s.Region, s.Creds)
	c.Token = s.Token
	return c
}
