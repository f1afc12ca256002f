package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/client"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/testenv"
)

var ctx = context.Background()

func apiErr(t *testing.T, err error) *client.APIError {
	t.Helper()
	var e *client.APIError
	if !errors.As(err, &e) {
		t.Fatalf("want API error, got %v", err)
	}
	return e
}

func TestWorkspaceLifecycle(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	var created struct {
		WorkspaceID string            `json:"workspaceId"`
		ARN         string            `json:"arn"`
		Status      map[string]string `json:"status"`
		Tags        map[string]string `json:"tags"`
	}
	err := s.Admin.JSON(ctx, "POST", "/workspaces", nil, map[string]any{"alias": "  team-a  ", "tags": map[string]string{"env": "dev"}, "clientToken": "tok-1"}, &created)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.WorkspaceID, "ws-") || len(created.WorkspaceID) != 39 {
		t.Fatalf("workspace id %q", created.WorkspaceID)
	}
	wantARN := fmt.Sprintf("arn:aws:aps:us-east-1:%s:workspace/%s", s.App.Info().Account.ID, created.WorkspaceID)
	if created.ARN != wantARN || created.Status["statusCode"] != "CREATING" || created.Tags["env"] != "dev" {
		t.Fatalf("create response %+v", created)
	}
	ws := created.WorkspaceID
	s.WaitStatus(t, ws, "ACTIVE")

	// Same client token, same parameters: the same workspace.
	var again struct{ WorkspaceID string }
	if err := s.Admin.JSON(ctx, "POST", "/workspaces", nil, map[string]any{"alias": "team-a", "tags": map[string]string{"env": "dev"}, "clientToken": "tok-1"}, &again); err != nil || again.WorkspaceID != ws {
		t.Fatalf("idempotent retry: %v %v", again, err)
	}
	// Same token, other parameters: ConflictException.
	err = s.Admin.JSON(ctx, "POST", "/workspaces", nil, map[string]any{"alias": "other", "clientToken": "tok-1"}, nil)
	if e := apiErr(t, err); e.Status != 409 || e.Type != "ConflictException" {
		t.Fatalf("token reuse: %v", e)
	}

	var d struct {
		Workspace map[string]any `json:"workspace"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws, nil, nil, &d); err != nil {
		t.Fatal(err)
	}
	if d.Workspace["alias"] != "team-a" || d.Workspace["prometheusEndpoint"] != s.URL+"/workspaces/"+ws+"/" {
		t.Fatalf("describe: %v", d.Workspace)
	}
	if _, ok := d.Workspace["createdAt"].(float64); !ok {
		t.Fatalf("createdAt must be epoch seconds (a JSON number): %v", d.Workspace["createdAt"])
	}

	if err := s.Admin.JSON(ctx, "POST", "/workspaces/"+ws+"/alias", nil, map[string]any{"alias": "renamed"}, nil); err != nil {
		t.Fatal(err)
	}
	var l struct {
		Workspaces []map[string]any `json:"workspaces"`
		NextToken  string           `json:"nextToken"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/workspaces", url.Values{"alias": {"ren"}}, nil, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Workspaces) != 1 || l.Workspaces[0]["alias"] != "renamed" || l.NextToken != "" {
		t.Fatalf("list by alias prefix: %+v", l)
	}
	if _, has := l.Workspaces[0]["prometheusEndpoint"]; has {
		t.Fatal("WorkspaceSummary has no prometheusEndpoint")
	}

	// Data is written, then the workspace is deleted with its data.
	code, body, err := testenv.RemoteWrite(ctx, s.Admin, ws, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: testenv.Series("__name__", "up", "job", "a"), Samples: []prompb.Sample{{Timestamp: time.Now().UnixMilli(), Value: 1}}}}})
	if err != nil || code != 200 {
		t.Fatalf("remote write: %d %s %v", code, body, err)
	}
	dir := filepath.Join(s.DataDir, "workspaces", ws)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("workspace dir: %v", err)
	}
	if err := s.Admin.JSON(ctx, "DELETE", "/workspaces/"+ws, url.Values{"clientToken": {"del-1"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws, nil, nil, nil)
		if err != nil && apiErr(t, err).Type == "ResourceNotFoundException" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("workspace never went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("workspace data still on disk: %v", err)
	}
	code, _, _ = testenv.RemoteWrite(ctx, s.Admin, ws, &prompb.WriteRequest{})
	if code != 404 {
		t.Fatalf("remote_write to a deleted workspace: %d", code)
	}
}

func TestControlPlaneValidation(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) { c.Workspace.MaxPerAccount = 2 }})
	cases := []struct {
		name, method, path string
		query              url.Values
		body               any
		status             int
		typ                string
	}{
		{"unknown workspace", "GET", "/workspaces/ws-nope", nil, nil, 404, "ResourceNotFoundException"},
		{"bad workspace id", "GET", "/workspaces/" + url.PathEscape("bad/id"), nil, nil, 400, "ValidationException"},
		{"id too long", "GET", "/workspaces/" + strings.Repeat("a", 80), nil, nil, 400, "ValidationException"},
		{"alias too long", "POST", "/workspaces", nil, map[string]any{"alias": strings.Repeat("a", 101)}, 400, "ValidationException"},
		{"blank alias", "POST", "/workspaces", nil, map[string]any{"alias": "   "}, 400, "ValidationException"},
		{"reserved tag prefix", "POST", "/workspaces", nil, map[string]any{"tags": map[string]string{"aws:x": "y"}}, 400, "ValidationException"},
		{"tag key too long", "POST", "/workspaces", nil, map[string]any{"tags": map[string]string{strings.Repeat("k", 129): "y"}}, 400, "ValidationException"},
		{"maxResults out of range", "GET", "/workspaces", url.Values{"maxResults": {"5000"}}, nil, 400, "ValidationException"},
		{"maxResults not a number", "GET", "/workspaces", url.Values{"maxResults": {"ten"}}, nil, 400, "ValidationException"},
		{"bad nextToken", "GET", "/workspaces", url.Values{"nextToken": {"!!"}}, nil, 400, "ValidationException"},
		{"unknown route", "GET", "/nothing-here", nil, nil, 404, "UnknownOperationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Admin.JSON(ctx, tc.method, tc.path, tc.query, tc.body, nil)
			e := apiErr(t, err)
			if e.Status != tc.status || e.Type != tc.typ {
				t.Fatalf("got %d %s (%s), want %d %s", e.Status, e.Type, e.Message, tc.status, tc.typ)
			}
		})
	}
	t.Run("malformed JSON", func(t *testing.T) {
		resp, b, err := s.Admin.Raw(ctx, "POST", "/workspaces", nil, "application/json", []byte("{not json"), nil)
		if err != nil || resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" || !strings.Contains(string(b), "CANNOT_PARSE") {
			t.Fatalf("%v %s %v", resp.StatusCode, b, err)
		}
	})
	t.Run("quota", func(t *testing.T) {
		s.CreateWorkspace(t, "one")
		s.CreateWorkspace(t, "two")
		err := s.Admin.JSON(ctx, "POST", "/workspaces", nil, map[string]any{"alias": "three"}, nil)
		e := apiErr(t, err)
		if e.Status != 402 || e.Type != "ServiceQuotaExceededException" || !strings.Contains(e.Message, "Maximum workspaces per account") {
			t.Fatalf("got %v", e)
		}
	})
	t.Run("pagination", func(t *testing.T) {
		var seen []string
		tok := ""
		for {
			q := url.Values{"maxResults": {"1"}}
			if tok != "" {
				q.Set("nextToken", tok)
			}
			var l struct {
				Workspaces []struct{ WorkspaceID string } `json:"workspaces"`
				NextToken  string                         `json:"nextToken"`
			}
			if err := s.Admin.JSON(ctx, "GET", "/workspaces", q, nil, &l); err != nil {
				t.Fatal(err)
			}
			for _, w := range l.Workspaces {
				seen = append(seen, w.WorkspaceID)
			}
			if l.NextToken == "" {
				break
			}
			tok = l.NextToken
		}
		if len(seen) != 2 || seen[0] == seen[1] {
			t.Fatalf("pages: %v", seen)
		}
	})
}

// TestEveryRouteNeedsAuth walks the route table: nothing but health answers
// without credentials.
func TestEveryRouteNeedsAuth(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "x")
	for _, r := range s.App.API().Routes() {
		path := strings.NewReplacer("{workspaceId}", ws, "{name}", "job", "{accessKeyId}", "AKIAX", "{tokenId}", "t", "{$}", "", "{path...}", "").Replace(r.Pattern)
		req, _ := http.NewRequest(r.Method, s.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if r.Public {
			if r.Method == "POST" { // console sign-in: nothing without credentials
				if resp.StatusCode != 400 {
					t.Errorf("%s %s: sign-in without credentials answered %d", r.Method, path, resp.StatusCode)
				}
				continue
			}
			if resp.StatusCode != 200 {
				t.Errorf("%s %s: public route answered %d", r.Method, path, resp.StatusCode)
			}
			continue
		}
		want := "MissingAuthenticationTokenException"
		if r.Plane == httpapi.Query { // IAM's and STS's own code
			want = "MissingAuthenticationToken"
		}
		if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != want {
			t.Errorf("%s %s without credentials: %d %s %s", r.Method, path, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), b)
		}
	}
}

func TestTokens(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "x")
	tc := s.Token(t)
	var out map[string]any
	if err := tc.JSON(ctx, "GET", "/workspaces/"+ws+"/api/v1/labels", nil, nil, &out); err != nil {
		t.Fatalf("bearer token: %v", err)
	}
	// Basic auth with the token as password (promtool's URL user info).
	req, _ := http.NewRequest("GET", strings.Replace(s.URL, "http://", "http://kansoku:"+tc.Token+"@", 1)+"/workspaces/"+ws+"/api/v1/labels", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("basic auth: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	// A wrong secret with a real token id is refused.
	bad := *tc
	bad.Token = tc.Token[:len(tc.Token)-4] + "AAAA"
	if e := apiErr(t, bad.JSON(ctx, "GET", "/workspaces/"+ws+"/api/v1/labels", nil, nil, nil)); e.Status != 403 {
		t.Fatalf("forged token: %v", e)
	}
	// Revoked tokens stop working at once.
	var list struct {
		APITokens []struct{ ID string } `json:"apiTokens"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/tokens", nil, nil, &list); err != nil || len(list.APITokens) != 1 {
		t.Fatalf("list tokens: %v %v", list, err)
	}
	if err := s.Admin.JSON(ctx, "DELETE", "/admin/v1/tokens/"+list.APITokens[0].ID, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if e := apiErr(t, tc.JSON(ctx, "GET", "/workspaces/"+ws+"/api/v1/labels", nil, nil, nil)); e.Status != 403 || !strings.Contains(e.Message, "revoked") {
		t.Fatalf("revoked token: %v", e)
	}
	// Expired tokens are refused.
	var short struct {
		APIToken struct{ Token string } `json:"apiToken"`
	}
	if err := s.Admin.JSON(ctx, "POST", "/admin/v1/tokens", nil, map[string]any{"ttlSeconds": 1}, &short); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	sc := *tc
	sc.Token = short.APIToken.Token
	if e := apiErr(t, sc.JSON(ctx, "GET", "/workspaces/"+ws+"/api/v1/labels", nil, nil, nil)); e.Status != 403 || !strings.Contains(e.Message, "expired") {
		t.Fatalf("expired token: %v", e)
	}
}

func TestAccessKeys(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	var created struct {
		AccessKey struct {
			AccessKeyID, SecretAccessKey, UserName string
		} `json:"accessKey"`
	}
	if err := s.Admin.JSON(ctx, "POST", "/admin/v1/keys", nil, map[string]any{"userName": "ci", "policyArns": []string{"AmazonPrometheusFullAccess"}}, &created); err != nil {
		t.Fatal(err)
	}
	k := created.AccessKey
	if k.UserName != "ci" || !strings.HasPrefix(k.AccessKeyID, "AKIA") || len(k.SecretAccessKey) != 40 {
		t.Fatalf("created %+v", k)
	}
	ci := client.New(s.URL, "us-east-1", aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey})
	if err := ci.JSON(ctx, "GET", "/workspaces", nil, nil, nil); err != nil {
		t.Fatalf("new key: %v", err)
	}
	var list struct {
		AccessKeys []map[string]any `json:"accessKeys"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/keys", nil, nil, &list); err != nil || len(list.AccessKeys) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
	for _, k := range list.AccessKeys {
		if _, has := k["secretAccessKey"]; has {
			t.Fatal("listing must never return secrets")
		}
	}
	// A request signed for another region is refused.
	other := client.New(s.URL, "eu-west-1", ci.Creds)
	if e := apiErr(t, other.JSON(ctx, "GET", "/workspaces", nil, nil, nil)); e.Type != "InvalidSignatureException" {
		t.Fatalf("other region: %v", e)
	}
	if err := s.Admin.JSON(ctx, "DELETE", "/admin/v1/keys/"+k.AccessKeyID, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if e := apiErr(t, ci.JSON(ctx, "GET", "/workspaces", nil, nil, nil)); e.Type != "UnrecognizedClientException" {
		t.Fatalf("deleted key: %v", e)
	}
	// Nobody deletes the key that signs the request.
	if e := apiErr(t, s.Admin.JSON(ctx, "DELETE", "/admin/v1/keys/"+s.Admin.Creds.AccessKeyID, nil, nil, nil)); e.Status != 409 {
		t.Fatalf("self-delete: %v", e)
	}
	// Secrets are not stored in clear.
	raw, _ := os.ReadFile(filepath.Join(s.DataDir, "kansoku.db"))
	wal, _ := os.ReadFile(filepath.Join(s.DataDir, "kansoku.db-wal"))
	if bytes.Contains(raw, []byte(k.SecretAccessKey)) || bytes.Contains(wal, []byte(k.SecretAccessKey)) {
		t.Fatal("secret access key found in clear in the metadata database")
	}
}

func push(t *testing.T, c *client.Client, ws string, series ...prompb.TimeSeries) {
	t.Helper()
	code, body, err := testenv.RemoteWrite(ctx, c, ws, &prompb.WriteRequest{Timeseries: series})
	if err != nil || code != 200 {
		t.Fatalf("remote write to %s: %d %s %v", ws, code, body, err)
	}
}

func sample(t time.Time, v float64, kv ...string) prompb.TimeSeries {
	return prompb.TimeSeries{Labels: testenv.Series(kv...), Samples: []prompb.Sample{{Timestamp: t.UnixMilli(), Value: v}}}
}

type promResp struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func get(t *testing.T, c *client.Client, path string, q url.Values) (int, promResp) {
	t.Helper()
	resp, b, err := c.Raw(ctx, "GET", path, q, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pr promResp
	if err := json.Unmarshal(b, &pr); err != nil {
		t.Fatalf("%s: not JSON: %s", path, b)
	}
	return resp.StatusCode, pr
}

func TestWriteAndQuery(t *testing.T) {
	testWriteAndQuery(t, testenv.Start(t, testenv.Options{}), false)
}

// testWriteAndQuery: what the query API answers, in either sample store.
// Over Cortex, stats=all has AMP's samples statistics but no timings.
func testWriteAndQuery(t *testing.T, s *testenv.Server, overCortex bool) {
	a := s.CreateWorkspace(t, "a")
	b := s.CreateWorkspace(t, "b")
	now := time.Now().Truncate(time.Second)
	push(t, s.Admin, a,
		sample(now.Add(-2*time.Minute), 1, "__name__", "http_requests_total", "job", "api", "code", "200"),
		sample(now.Add(-1*time.Minute), 2, "__name__", "http_requests_total", "job", "api", "code", "500"))
	push(t, s.Admin, b, sample(now, 42, "__name__", "only_in_b", "job", "b"))

	tc := s.Token(t)
	code, r := get(t, tc, "/workspaces/"+a+"/api/v1/query", url.Values{"query": {"sum(http_requests_total)"}, "time": {fmt.Sprint(now.Unix())}, "stats": {"all"}})
	if code != 200 || r.Status != "success" {
		t.Fatalf("query: %d %+v", code, r)
	}
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Value []any `json:"value"`
		} `json:"result"`
		Stats struct {
			Samples struct {
				TotalQueryableSamples        int     `json:"totalQueryableSamples"`
				TotalQueryableSamplesPerStep [][]any `json:"totalQueryableSamplesPerStep"`
			} `json:"samples"`
			Timings map[string]float64 `json:"timings"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.ResultType != "vector" || len(data.Result) != 1 || data.Result[0].Value[1] != "3" {
		t.Fatalf("result %s", r.Data)
	}
	if data.Stats.Samples.TotalQueryableSamples != 2 || len(data.Stats.Samples.TotalQueryableSamplesPerStep) != 1 {
		t.Fatalf("stats=all: %s", r.Data)
	}
	if _, ok := data.Stats.Timings["evalTotalTime"]; !ok && !overCortex {
		t.Fatalf("stats timings missing: %s", r.Data)
	}

	// POST form queries (Grafana) work too.
	resp, body, err := tc.Raw(ctx, "POST", "/workspaces/"+a+"/api/v1/query_range", nil, "application/x-www-form-urlencoded",
		[]byte(url.Values{"query": {"http_requests_total"}, "start": {fmt.Sprint(now.Add(-3 * time.Minute).Unix())}, "end": {fmt.Sprint(now.Unix())}, "step": {"30s"}}.Encode()), nil)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), `"resultType":"matrix"`) {
		t.Fatalf("query_range POST: %v %s %v", resp.StatusCode, body, err)
	}

	// Tenant isolation: b's series are not in a, and a's not in b.
	_, r = get(t, tc, "/workspaces/"+a+"/api/v1/label/__name__/values", nil)
	if string(r.Data) != `["http_requests_total"]` {
		t.Fatalf("a's metric names: %s", r.Data)
	}
	_, r = get(t, tc, "/workspaces/"+b+"/api/v1/series", url.Values{"match[]": {`{__name__=~".+"}`}})
	if strings.Contains(string(r.Data), "http_requests_total") || !strings.Contains(string(r.Data), "only_in_b") {
		t.Fatalf("b's series: %s", r.Data)
	}
	_, r = get(t, tc, "/workspaces/"+b+"/api/v1/query", url.Values{"query": {"http_requests_total"}})
	if !strings.Contains(string(r.Data), `"result":[]`) {
		t.Fatalf("b sees a's data: %s", r.Data)
	}

	// Prometheus-style errors.
	code, r = get(t, tc, "/workspaces/"+a+"/api/v1/query", url.Values{"query": {"sum("}})
	if code != 400 || r.Status != "error" || r.ErrorType != "bad_data" || !strings.Contains(r.Error, "parse error") {
		t.Fatalf("bad query: %d %+v", code, r)
	}
	code, r = get(t, tc, "/workspaces/ws-does-not-exist/api/v1/query", url.Values{"query": {"up"}})
	if code != 404 || r.Status != "error" || r.ErrorType != "not_found" {
		t.Fatalf("unknown workspace: %d %+v", code, r)
	}
	code, r = get(t, tc, "/workspaces/"+a+"/api/v1/query", url.Values{"query": {"up"}, "timeout": {"nonsense"}})
	if code != 400 || r.ErrorType != "bad_data" {
		t.Fatalf("bad timeout: %d %+v", code, r)
	}
	code, r = get(t, tc, "/workspaces/"+a+"/api/v1/status/buildinfo", nil)
	if code != 200 || !strings.Contains(string(r.Data), `"version":"3.15.0"`) {
		t.Fatalf("buildinfo: %d %s", code, r.Data)
	}
}

func TestMetadataEndpoint(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "m")
	code, body, err := testenv.RemoteWrite(ctx, s.Admin, ws, &prompb.WriteRequest{Metadata: []prompb.MetricMetadata{
		{MetricFamilyName: "http_requests_total", Type: prompb.MetricMetadata_COUNTER, Help: "Total requests."},
		{MetricFamilyName: "temperature", Type: prompb.MetricMetadata_GAUGE, Help: "Temp.", Unit: "celsius"},
	}})
	if err != nil || code != 200 {
		t.Fatalf("%d %s %v", code, body, err)
	}
	_, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/metadata", nil)
	want := `{"http_requests_total":[{"type":"counter","help":"Total requests.","unit":""}],"temperature":[{"type":"gauge","help":"Temp.","unit":"celsius"}]}`
	if string(r.Data) != want {
		t.Fatalf("metadata:\n got %s\nwant %s", r.Data, want)
	}
	_, r = get(t, s.Admin, "/workspaces/"+ws+"/api/v1/metadata", url.Values{"metric": {"temperature"}})
	if !strings.Contains(string(r.Data), "celsius") || strings.Contains(string(r.Data), "http_requests") {
		t.Fatalf("metadata?metric=: %s", r.Data)
	}
	_, r = get(t, s.Admin, "/workspaces/"+ws+"/api/v1/metadata", url.Values{"limit": {"1"}})
	var m map[string]any
	_ = json.Unmarshal(r.Data, &m)
	if len(m) != 1 {
		t.Fatalf("limit=1: %s", r.Data)
	}
}

func TestBadInputLeavesDataIntact(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "bad")
	now := time.Now()
	push(t, s.Admin, ws, sample(now, 7, "__name__", "keep_me", "job", "x"))
	big := make([]byte, 1<<20+1)
	_, _ = rand.Read(big) // incompressible: snappy keeps it over 1 MB
	cases := []struct {
		name   string
		body   []byte
		hdr    http.Header
		status int
		want   string
	}{
		{"garbage", []byte("\x00\x01garbage"), nil, 400, "snappy"},
		{"snappy of garbage", snappy.Encode(nil, []byte("\xff\xff\xffnot protobuf")), nil, 400, "protobuf"},
		{"over 1 MB", snappy.Encode(nil, big), nil, 413, "too large"},
		{"gzip encoding", []byte("x"), http.Header{"Content-Encoding": {"gzip"}}, 415, "Content-Encoding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Content-Encoding": {"snappy"}}
			for k, v := range tc.hdr {
				h[k] = v
			}
			resp, b, err := s.Admin.Raw(ctx, "POST", "/workspaces/"+ws+"/api/v1/remote_write", nil, "application/x-protobuf", tc.body, h)
			if err != nil || resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
				t.Fatalf("got %v %q %v, want %d %q", resp.StatusCode, b, err, tc.status, tc.want)
			}
		})
	}
	t.Run("invalid labels", func(t *testing.T) {
		code, body, _ := testenv.RemoteWrite(ctx, s.Admin, ws, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{sample(now, 1, "__name__", "bad-name")}})
		if code != 400 || !strings.Contains(body, "invalid metric name") {
			t.Fatalf("%d %s", code, body)
		}
	})
	_, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {"keep_me"}, "time": {fmt.Sprint(now.Unix() + 1)}})
	if !strings.Contains(string(r.Data), `"7"`) {
		t.Fatalf("stored data damaged: %s", r.Data)
	}
	_, r = get(t, s.Admin, "/workspaces/"+ws+"/api/v1/label/__name__/values", nil)
	if string(r.Data) != `["keep_me"]` {
		t.Fatalf("bad input stored something: %s", r.Data)
	}
}

func TestRestartReusesInstallation(t *testing.T) {
	dir := t.TempDir()
	s := testenv.Start(t, testenv.Options{DataDir: dir})
	if s.App.Info().FirstStart == nil {
		t.Fatal("first start must mint the admin key")
	}
	account := s.App.Info().Account.ID
	ws := s.CreateWorkspace(t, "persist")
	now := time.Now()
	push(t, s.Admin, ws, sample(now, 5, "__name__", "persisted"))
	s.Stop()

	s2 := testenv.Start(t, testenv.Options{DataDir: dir})
	if s2.App.Info().FirstStart != nil || s2.App.Info().Account.ID != account {
		t.Fatalf("restart made a new installation: %+v", s2.App.Info().Account)
	}
	_, r := get(t, s2.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {"persisted"}, "time": {fmt.Sprint(now.Unix() + 1)}})
	if !strings.Contains(string(r.Data), `"5"`) {
		t.Fatalf("data lost across restart: %s", r.Data)
	}
	s2.Stop()
	// Another region than the one fixed at first start is refused.
	_, err := testStartErr(dir, "eu-west-1")
	if err == nil || !strings.Contains(err.Error(), "region") {
		t.Fatalf("region change: %v", err)
	}
}

func TestSelfMetrics(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "metered")
	push(t, s.Admin, ws, sample(time.Now(), 1, "__name__", "up"), sample(time.Now(), 1, "__name__", "up", "job", "b"))
	resp, b, err := s.Admin.Raw(ctx, "GET", "/metrics", nil, "", nil, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode, err)
	}
	for _, want := range []string{
		`kansoku_ingest_samples_ingested_total{workspace="` + ws + `"} 2`,
		`prometheus_tsdb_head_series{workspace="` + ws + `"} 2`,
		`kansoku_http_requests_total{code="200",method="POST",route="RemoteWrite"} 1`,
		`kansoku_build_info`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
