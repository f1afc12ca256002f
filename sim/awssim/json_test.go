package awssim

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Shared fixtures of the ELB, RDS, Lambda, SQS and DynamoDB tests: one
// account in one region, with a reader (ReadOnlyAccess), an outsider
// (allowed nothing these services offer) and a user whose inline policy
// the test chooses.

const (
	resAccount       = "210987654321"
	resRegion        = "ap-northeast-1"
	resReaderKey     = "AKIARESREADER0000001"
	resReaderSecret  = "reader-secret-reader-secret-reader-secret"
	resOutsiderKey   = "AKIARESOUTSIDER00001"
	resOutsiderSecre = "outsider-secret-outsider-secret-outsider"
	resScopedKey     = "AKIARESSCOPED0000001"
	resScopedSecret  = "scoped-secret-scoped-secret-scoped-secret"
)

// resScenario is a scenario with rg as the account's resources in
// resRegion; scopedPolicy (may be empty) is the scoped user's policy.
func resScenario(rg *Region, scopedPolicy string) *Scenario {
	scoped := []string{}
	if scopedPolicy != "" {
		scoped = append(scoped, scopedPolicy)
	}
	return &Scenario{Accounts: []Account{{
		ID: resAccount,
		Users: []User{
			{Name: "reader", AccessKeys: []AccessKey{{ID: resReaderKey, Secret: resReaderSecret}}, Policies: []string{"ReadOnlyAccess"}},
			{Name: "outsider", AccessKeys: []AccessKey{{ID: resOutsiderKey, Secret: resOutsiderSecre}},
				Policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}]}`}},
			{Name: "scoped", AccessKeys: []AccessKey{{ID: resScopedKey, Secret: resScopedSecret}}, Policies: scoped},
		},
		Regions: map[string]*Region{resRegion: rg},
	}}}
}

// newResServer starts a simulator with resScenario(rg, scopedPolicy).
func newResServer(t *testing.T, rg *Region, scopedPolicy string) (*Server, *httptest.Server) {
	t.Helper()
	sim := New(Options{})
	if err := sim.SetScenario(resScenario(rg, scopedPolicy)); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	return sim, ts
}

// resConfig is an SDK configuration for the simulator at url, signing
// with the given key, without retries.
func resConfig(url, keyID, secret string) aws.Config {
	return aws.Config{
		HTTPClient:   bufferedBodies{},
		Region:       resRegion,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// callSummary is a call as "Action" or "Action:ErrorCode".
func callSummary(c Call) string {
	if c.ErrorCode == "" {
		return c.Action
	}
	return c.Action + ":" + c.ErrorCode
}

// wantCalls checks the calls the simulator recorded for service (and
// resets the log), and that each names the caller and the region.
func wantCalls(t *testing.T, sim *Server, service string, want ...string) {
	t.Helper()
	var got []string
	for _, c := range sim.Calls() {
		if c.Service != service {
			continue
		}
		got = append(got, callSummary(c))
		if c.Region != resRegion || c.Account != resAccount || !strings.HasPrefix(c.Principal, "arn:aws:iam::"+resAccount+":user/") {
			t.Errorf("call %+v: wrong region, account or principal", c)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("calls of %s:\n got %q\nwant %q", service, got, want)
	}
	sim.ResetCalls()
}

// taggingARNs returns the ARNs the tagging API reports for the account's
// resources of a service.
func taggingARNs(sim *Server, service string) map[string]bool {
	out := map[string]bool{}
	for _, r := range sim.MetricResources(resAccount, resRegion) {
		if r.Service == service {
			out[r.ARN] = true
		}
	}
	return out
}

func TestPageAfter(t *testing.T) {
	items := []string{"d", "a", "c", "b", "e"}
	id := func(s string) string { return s }
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		page, more := pageAfter(items, id, after, 2)
		got = append(got, strings.Join(page, ""))
		if !more {
			break
		}
		after = page[len(page)-1]
	}
	if want := []string{"ab", "cd", "e"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pages %q, want %q", got, want)
	}
	// Continuing after a deleted item resumes at the next one.
	if page, more := pageAfter([]string{"a", "c"}, id, "b", 5); !reflect.DeepEqual(page, []string{"c"}) || more {
		t.Errorf("after deleted item: %q %v", page, more)
	}
	if items[0] != "d" {
		t.Error("pageAfter sorted its argument")
	}
}

func TestResumeToken(t *testing.T) {
	tok := resumeToken("lambda", "fn-1")
	if after, ok := parseResumeToken("lambda", tok); !ok || after != "fn-1" {
		t.Errorf("round trip: %q %v", after, ok)
	}
	if _, ok := parseResumeToken("sqs", tok); ok {
		t.Error("a token of another listing was accepted")
	}
	if _, ok := parseResumeToken("lambda", "not base64!"); ok {
		t.Error("garbage was accepted")
	}
}

func TestDigests(t *testing.T) {
	if a, b := digestDigits(10, "x", "y"), digestDigits(10, "x", "y"); a != b || len(a) != 10 || a[0] == '0' {
		t.Errorf("digestDigits %q %q", a, b)
	}
	if digestDigits(10, "x", "y") == digestDigits(10, "x", "z") {
		t.Error("digestDigits ignores its input")
	}
	if a := digestAlnum(40, "q"); len(a) != 40 || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		t.Errorf("digestAlnum %q", a)
	}
	tm := digestTime("a")
	if tm != digestTime("a") || tm.Year() < 2023 || tm.Year() > 2024 || tm.Nanosecond() != 0 {
		t.Errorf("digestTime %v", tm)
	}
	if u := digestUUID("t"); len(u) != 36 || u[14] != '4' {
		t.Errorf("digestUUID %q", u)
	}
	if s := epochSeconds(time.Unix(1700000000, 250e6)); s != "1700000000.250" {
		t.Errorf("epochSeconds %s", s)
	}
}

// exchangeRecorder is an SDK HTTP client that keeps the last request and
// response (with its body) for wire-level assertions.
type exchangeRecorder struct {
	req  *http.Request
	resp *http.Response
	body string
}

func (h *exchangeRecorder) Do(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	h.req, h.resp, h.body = r, resp, string(b)
	return resp, nil
}

// bufferedBodies sends requests with their body read into memory first.
// The SDK closes a request's body once the response has come, which can
// race with net/http's last read of it (the check for bytes beyond
// Content-Length): the transport then closes the connection under the
// response being read ("use of closed network connection"). A simulator
// answers fast enough to lose that race now and then.
type bufferedBodies struct{}

func (bufferedBodies) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		data, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return http.DefaultClient.Do(r)
}
