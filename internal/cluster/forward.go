package cluster

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/auth"
)

// Headers of a request one node forwards to another.
const (
	ForwardedHeader          = "X-Kansoku-Forwarded"
	ForwardedSignatureHeader = "X-Kansoku-Forwarded-Signature"
)

// maxForwardAge bounds how old a forwarded request may be (replay).
const maxForwardAge = 30 * time.Second

// forwarded is what a node vouches for when it forwards a request it has
// authenticated and authorized to the node that owns the request's
// singleton (a workspace's Alertmanager or ruler).
type forwarded struct {
	Identity *auth.Identity   `json:"identity"`
	Request  auth.RequestInfo `json:"request"` // the client's address, TLS
	From     string           `json:"from"`
	Method   string           `json:"method"`
	Path     string           `json:"path"` // with the raw query
	BodyHash string           `json:"bodyHash"`
	Time     int64            `json:"time"` // unix ms
}

// Forwarder sends requests to their owner and checks those it receives.
// Its key is derived from the installation's sealing key, which every node
// of a cluster shares; nothing without it can forge a forwarded request.
type Forwarder struct {
	key    []byte
	self   string
	client *http.Client
	now    func() time.Time
}

// NewForwarder returns a forwarder for node self keyed by the sealing key.
func NewForwarder(sealingKey []byte, self string) *Forwarder {
	m := hmac.New(sha256.New, sealingKey)
	m.Write([]byte("kansoku cluster forwarding v1"))
	return &Forwarder{key: m.Sum(nil), self: self, client: &http.Client{Timeout: 2 * time.Minute}, now: time.Now}
}

func (f *Forwarder) sign(payload string) string {
	m := hmac.New(sha256.New, f.key)
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))
}

func bodyHash(body []byte) string {
	s := sha256.Sum256(body)
	return hex.EncodeToString(s[:])
}

// Forward sends r, which this node has authenticated as id and authorized,
// with its body, to node to, and copies the answer to w.
func (f *Forwarder) Forward(w http.ResponseWriter, r *http.Request, to NodeInfo, id *auth.Identity, body []byte) error {
	target, err := url.Parse(to.URL)
	if err != nil {
		return fmt.Errorf("owner node %s has no usable URL %q: %w", to.ID, to.URL, err)
	}
	info, _ := auth.RequestInfoFrom(r.Context())
	fw := forwarded{Identity: id, Request: info, From: f.self, Method: r.Method, Path: r.URL.RequestURI(), BodyHash: bodyHash(body), Time: f.now().UnixMilli()}
	raw, err := json.Marshal(fw)
	if err != nil {
		return err
	}
	payload := base64.StdEncoding.EncodeToString(raw)
	out, err := http.NewRequestWithContext(r.Context(), r.Method, strings.TrimRight(target.String(), "/")+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	for _, k := range []string{"Content-Type", "Accept", "Accept-Encoding"} {
		if v := r.Header.Values(k); len(v) > 0 {
			out.Header[k] = v
		}
	}
	out.Header.Set(ForwardedHeader, payload)
	out.Header.Set(ForwardedSignatureHeader, f.sign(payload))
	resp, err := f.client.Do(out)
	if err != nil {
		return fmt.Errorf("forward to %s: %w", to.ID, err)
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body) // the client may be gone
	return nil
}

// IsForwarded reports whether r claims to be forwarded by a node.
func IsForwarded(r *http.Request) bool { return r.Header.Get(ForwardedHeader) != "" }

// Verify checks a forwarded request and returns the identity the
// forwarding node authenticated and what it knew of the client's request
// (its address, for aws:SourceIp). body is the request's body as received.
func (f *Forwarder) Verify(r *http.Request, body []byte) (*auth.Identity, auth.RequestInfo, error) {
	payload := r.Header.Get(ForwardedHeader)
	sig := r.Header.Get(ForwardedSignatureHeader)
	if payload == "" || sig == "" {
		return nil, auth.RequestInfo{}, errors.New("not a forwarded request")
	}
	if !hmac.Equal([]byte(f.sign(payload)), []byte(sig)) {
		return nil, auth.RequestInfo{}, errors.New("forwarded request: bad signature")
	}
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, auth.RequestInfo{}, errors.New("forwarded request: bad payload")
	}
	var fw forwarded
	if err := json.Unmarshal(raw, &fw); err != nil || fw.Identity == nil {
		return nil, auth.RequestInfo{}, errors.New("forwarded request: bad payload")
	}
	age := f.now().Sub(time.UnixMilli(fw.Time))
	if age > maxForwardAge || age < -maxForwardAge {
		return nil, auth.RequestInfo{}, errors.New("forwarded request: too old (" + strconv.FormatInt(int64(age/time.Second), 10) + " s)")
	}
	if fw.Method != r.Method || fw.Path != r.URL.RequestURI() || fw.BodyHash != bodyHash(body) {
		return nil, auth.RequestInfo{}, errors.New("forwarded request: it is not the request that was signed")
	}
	return fw.Identity, fw.Request, nil
}
