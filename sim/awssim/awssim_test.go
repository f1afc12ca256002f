package awssim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKeyID  = "AKIAAWSSIMTESTKEY001"
	testSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNl"
	testRegion = "eu-west-1"
)

func newTestServer(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.Region == "" {
		opts.Region = testRegion
	}
	if opts.Credentials == nil {
		opts.Credentials = map[string]string{testKeyID: testSecret}
	}
	sim := New(opts)
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	return sim, ts
}

type rawResponse struct {
	status int
	header http.Header
	body   string
}

// doSigned sends a form POST signed for service/region with the given key.
func doSigned(t *testing.T, baseURL, keyID, secret, service, region string, form url.Values, signTime time.Time) rawResponse {
	t.Helper()
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, baseURL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, signTime); err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func wantError(t *testing.T, r rawResponse, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if !strings.Contains(r.body, "<Code>"+code+"</Code>") {
		t.Fatalf("body does not carry error code %s: %s", code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/xml" {
		t.Fatalf("Content-Type = %q, want text/xml", ct)
	}
	if r.header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("no x-amzn-RequestId header")
	}
}

func publishForm(topic, message string) url.Values {
	return url.Values{
		"Action":   {"Publish"},
		"Version":  {"2010-03-31"},
		"TopicArn": {topic},
		"Message":  {message},
	}
}

const testTopic = "arn:aws:sns:eu-west-1:123456789012:alerts"

func TestSignatureVerification(t *testing.T) {
	sim, ts := newTestServer(t, Options{})
	sim.AddTopic(testTopic)
	now := time.Now()

	t.Run("missing auth", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/", strings.NewReader(publishForm(testTopic, "hi").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r := do(t, req)
		wantError(t, r, http.StatusForbidden, "MissingAuthenticationToken")
		if !strings.Contains(r.body, "<Type>Sender</Type>") {
			t.Fatalf("want Type Sender: %s", r.body)
		}
	})
	t.Run("malformed auth", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/", strings.NewReader("Action=Publish"))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
		wantError(t, do(t, req), http.StatusBadRequest, "IncompleteSignature")
	})
	t.Run("wrong secret", func(t *testing.T) {
		r := doSigned(t, ts.URL, testKeyID, "not-the-secret", "sns", testRegion, publishForm(testTopic, "hi"), now)
		wantError(t, r, http.StatusForbidden, "SignatureDoesNotMatch")
		if !strings.Contains(r.body, `<ErrorResponse xmlns="`+snsXMLNS+`">`) {
			t.Fatalf("error not in SNS's envelope: %s", r.body)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		r := doSigned(t, ts.URL, "AKIAUNKNOWNKEY000000", testSecret, "sns", testRegion, publishForm(testTopic, "hi"), now)
		wantError(t, r, http.StatusForbidden, "InvalidClientTokenId")
	})
	t.Run("wrong region", func(t *testing.T) {
		r := doSigned(t, ts.URL, testKeyID, testSecret, "sns", "us-west-2", publishForm(testTopic, "hi"), now)
		wantError(t, r, http.StatusForbidden, "SignatureDoesNotMatch")
	})
	t.Run("expired", func(t *testing.T) {
		r := doSigned(t, ts.URL, testKeyID, testSecret, "sns", testRegion, publishForm(testTopic, "hi"), now.Add(-time.Hour))
		wantError(t, r, http.StatusForbidden, "SignatureDoesNotMatch")
	})
	t.Run("unknown service", func(t *testing.T) {
		r := doSigned(t, ts.URL, testKeyID, testSecret, "glue", testRegion, publishForm(testTopic, "hi"), now)
		wantError(t, r, http.StatusBadRequest, "UnknownService")
	})
	t.Run("body changed after signing", func(t *testing.T) {
		body := publishForm(testTopic, "hi").Encode()
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "sns", testRegion, now); err != nil {
			t.Fatal(err)
		}
		tampered := publishForm(testTopic, "hx").Encode()
		req.Body = io.NopCloser(strings.NewReader(tampered))
		req.ContentLength = int64(len(tampered))
		wantError(t, do(t, req), http.StatusForbidden, "SignatureDoesNotMatch")
	})
	t.Run("good", func(t *testing.T) {
		r := doSigned(t, ts.URL, testKeyID, testSecret, "sns", testRegion, publishForm(testTopic, "hi"), now)
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if !strings.HasPrefix(r.body, `<PublishResponse xmlns="`+snsXMLNS+`"><PublishResult><MessageId>`) ||
			!strings.Contains(r.body, "</MessageId></PublishResult><ResponseMetadata><RequestId>"+r.header.Get("x-amzn-RequestId")+"</RequestId></ResponseMetadata></PublishResponse>") {
			t.Fatalf("unexpected response body: %s", r.body)
		}
	})
	// Only the good request was published.
	got := sim.Published(testTopic)
	if len(got) != 1 || got[0].Message != "hi" || got[0].AccessKeyID != testKeyID {
		t.Fatalf("Published = %+v, want the one good message", got)
	}
}

func TestAddCredentialsAndClock(t *testing.T) {
	past := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	sim, ts := newTestServer(t, Options{Now: func() time.Time { return past }})
	sim.AddTopic(testTopic)
	sim.AddCredentials("AKIAADDEDLATER000000", "later-secret")
	// Signed "now" while the simulator's clock says 2020: too far apart.
	r := doSigned(t, ts.URL, "AKIAADDEDLATER000000", "later-secret", "sns", testRegion, publishForm(testTopic, "x"), time.Now())
	wantError(t, r, http.StatusForbidden, "SignatureDoesNotMatch")
	r = doSigned(t, ts.URL, "AKIAADDEDLATER000000", "later-secret", "sns", testRegion, publishForm(testTopic, "x"), past.Add(time.Minute))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := sim.Published(testTopic); len(got) != 1 || !got[0].Time.Equal(past) {
		t.Fatalf("Published = %+v, want one message stamped %s", got, past)
	}
}

func TestActions(t *testing.T) {
	sim, ts := newTestServer(t, Options{})
	sim.AddTopic(testTopic)
	now := time.Now()
	send := func(form url.Values) rawResponse {
		return doSigned(t, ts.URL, testKeyID, testSecret, "sns", testRegion, form, now)
	}
	t.Run("unknown action", func(t *testing.T) {
		wantError(t, send(url.Values{"Action": {"Frobnicate"}, "Version": {"2010-03-31"}}), http.StatusBadRequest, "InvalidAction")
	})
	t.Run("missing action", func(t *testing.T) {
		wantError(t, send(url.Values{"Version": {"2010-03-31"}}), http.StatusBadRequest, "MissingAction")
	})
	t.Run("GET with query parameters", func(t *testing.T) {
		q := publishForm(testTopic, "via GET")
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/?"+q.Encode(), nil)
		creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sns", testRegion, now); err != nil {
			t.Fatal(err)
		}
		if r := do(t, req); r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	})
}

func TestQueryIndexed(t *testing.T) {
	params, _ := url.ParseQuery("A.entry.2.Name=b&A.entry.1.Name=a&A.entry.1.Value.X=1&A.entry.10.Name=j&B.member.2=y&B.member.1=x&Other=1")
	got, err := queryIndexed(params, "A.entry")
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]string{{"Name": "a", "Value.X": "1"}, {"Name": "b"}, {"Name": "j"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("queryIndexed = %v, want %v", got, want)
	}
	list, err := queryList(params, "B.member")
	if err != nil || !reflect.DeepEqual(list, []string{"x", "y"}) {
		t.Fatalf("queryList = %v, %v", list, err)
	}
	for _, bad := range []string{"A.entry.0.Name=x", "A.entry.01.Name=x", "A.entry.x.Name=x", "A.entry.1.Name=x&A.entry.1.Name=y"} {
		p, _ := url.ParseQuery(bad)
		if _, err := queryIndexed(p, "A.entry"); err == nil || err.status != http.StatusBadRequest {
			t.Errorf("queryIndexed(%q) = %v, want a 400 error", bad, err)
		}
	}
	if _, err := queryList(params, "A.entry"); err == nil {
		t.Errorf("queryList over structure members should fail")
	}
}

func TestRequestBodyLimit(t *testing.T) {
	_, ts := newTestServer(t, Options{})
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/", bytes.NewReader(make([]byte, maxRequestBody+1)))
	r := do(t, req)
	wantError(t, r, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge")
}
