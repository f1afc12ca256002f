package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kansoku/kansoku/internal/api"
	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/audit"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/throttle"
)

const (
	account = "123456789012"
	region  = "us-east-1"
)

var arns = httpapi.ARNs{Region: region, AccountID: account}

// creds is the credential store behind the authenticator: one API token
// for alice.
type creds struct {
	tokenID string
	hash    []byte
}

var alice = auth.Principal{ID: "AIDAALICE", Name: "alice", ARN: "arn:aws:iam::123456789012:user/alice"}

func (c creds) AccessKeySecret(_ context.Context, id string) (auth.Principal, string, error) {
	return auth.Principal{}, "", auth.ErrUnknownAccessKey(id)
}

func (c creds) SessionCredentials(_ context.Context, id, _ string) (*auth.Identity, string, error) {
	return nil, "", auth.ErrUnknownAccessKey(id)
}

func (c creds) APIToken(_ context.Context, id string) (auth.Principal, []byte, error) {
	if id != c.tokenID {
		return auth.Principal{}, nil, auth.ErrUnknownToken()
	}
	return alice, c.hash, nil
}

// authz allows everything but the actions and resources it is told to
// deny, and remembers what it was asked.
type authz struct {
	mu     sync.Mutex
	deny   map[string]bool
	checks []string
}

func (a *authz) Authorize(_ context.Context, id *auth.Identity, action, resource string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.checks = append(a.checks, action+" "+resource)
	if id == nil || a.deny[action] || a.deny[resource] {
		return apierr.AccessDenied("User is not authorized to perform: %s on resource: %s", action, resource)
	}
	return nil
}

func (a *authz) asked() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.checks...)
}

type workspaces map[string]bool

func (w workspaces) Active(id string) (metastore.Workspace, bool) {
	return metastore.Workspace{ID: id}, w[id]
}

type maxRequestBytes int

func (m maxRequestBytes) For(string) *limits.Limits { return &limits.Limits{MaxRequestBytes: int(m)} }

type auditor struct {
	mu     sync.Mutex
	events []audit.Event
}

func (a *auditor) Record(e audit.Event) {
	a.mu.Lock()
	a.events = append(a.events, e)
	a.mu.Unlock()
}

func (a *auditor) recorded() []audit.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]audit.Event(nil), a.events...)
}

type env struct {
	srv     *api.Server
	token   string
	authz   *authz
	audit   *auditor
	reg     *prometheus.Registry
	ready   bool
	handled []string
	mu      sync.Mutex
}

func (e *env) handle(name string) {
	e.mu.Lock()
	e.handled = append(e.handled, name)
	e.mu.Unlock()
}

func (e *env) wasHandled(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, h := range e.handled {
		if h == name {
			return true
		}
	}
	return false
}

// newEnv builds a server over test routes, one of each kind the
// components declare.
func newEnv(t *testing.T, opts ...func(*api.Options)) *env {
	t.Helper()
	id, token, hash := auth.NewAPIToken()
	e := &env{token: token, authz: &authz{deny: map[string]bool{}}, audit: &auditor{}, reg: prometheus.NewRegistry(), ready: true}
	echo := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			e.handle(name)
			ws, _ := tenant.Workspace(r.Context())
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"body": string(httpapi.Body(r)), "workspace": ws,
				"caller": httpapi.Identity(r).PrincipalName, "secretAccessKey": "s3cr3t"})
		}
	}
	named := func(r *http.Request) ([]string, error) {
		var in struct{ Name string }
		if err := httpapi.DecodeJSON(r, &in); err != nil {
			return nil, err
		}
		return []string{arns.Kansoku("thing", in.Name)}, nil
	}
	control := func(name, method, pattern, action string) httpapi.Route {
		return httpapi.Route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, Action: action, MaxBody: 64, Handler: echo(name)}
	}
	routes := []httpapi.Route{
		control("PutThing", "PUT", "/things/{id}", "kansoku:PutThing"),
		control("ListWorkspaceThings", "GET", "/workspaces/{workspaceId}/things", "aps:ListWorkspaceThings"),
		control("ListAccountThings", "GET", "/things", "aps:ListAccountThings"),
		{Name: "CreateNamed", Method: "POST", Pattern: "/named", Plane: httpapi.Control, Action: "kansoku:CreateNamed", Resources: named,
			MaxBody: httpapi.KiB, Handler: echo("CreateNamed")},
		httpapi.DataRoute("QueryThings", "GET", "/api/v1/things", "aps:QueryMetrics", echo("QueryThings")),
		{Name: "RemoteWrite", Method: "POST", Pattern: "/workspaces/{workspaceId}/api/v1/remote_write", Plane: httpapi.Write,
			Action: "aps:RemoteWrite", Workspace: true, MaxBody: httpapi.WriteBodyLimit, Handler: echo("RemoteWrite")},
		{Name: "WhoAmI", Method: "GET", Pattern: "/whoami", Plane: httpapi.Control, Action: "kansoku:WhoAmI", AuthOnly: true, NoAudit: true,
			MaxBody: 64, Handler: echo("WhoAmI")},
		{Name: "Explode", Method: "GET", Pattern: "/workspaces/{workspaceId}/api/v1/explode", Plane: httpapi.Data, Action: "aps:QueryMetrics",
			Workspace: true, MaxBody: 64, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })},
	}
	o := api.Options{
		Logger: slog.New(slog.DiscardHandler), Registerer: e.reg, Gatherer: e.reg, ARNs: arns,
		Authn: auth.NewAuthenticator(account, region, creds{tokenID: id, hash: hash}, nil), Authz: e.authz,
		Workspaces: workspaces{"ws-active": true}, Limits: maxRequestBytes(100), Audit: e.audit,
		Ready: func() bool { return e.ready }, BodyReadTimeout: time.Second,
	}
	for _, f := range opts {
		f(&o)
	}
	e.srv = api.New(o, api.Routes{Workspaces: routes})
	return e
}

// do serves one request; token "" sends no credentials.
func (e *env) do(method, target, token string, body io.Reader) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, body)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	return w
}

// spyBody is a request body that notes whether it was read or closed.
type spyBody struct {
	io.Reader
	read, closed bool
}

func (b *spyBody) Read(p []byte) (int, error) { b.read = true; return b.Reader.Read(p) }
func (b *spyBody) Close() error               { b.closed = true; return nil }

// A request that fails authentication is refused from its headers: its
// body is never read (the connection is closed instead), so nobody
// unauthenticated makes the server buffer anything.
func TestAuthenticationComesBeforeTheBody(t *testing.T) {
	e := newEnv(t)
	for name, header := range map[string]string{
		"no credentials":  "",
		"malformed token": "Bearer nonsense",
		"unknown token":   "Bearer " + unknownToken(),
		"forged token":    "Bearer " + e.token[:len(e.token)-4] + "AAAA",
		"unknown key": "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN000000000/20261202/us-east-1/aps/aws4_request, " +
			"SignedHeaders=host;x-amz-date, Signature=00",
	} {
		t.Run(name, func(t *testing.T) {
			body := &spyBody{Reader: strings.NewReader(`{"big":"body"}`)}
			r := httptest.NewRequest("POST", "/workspaces/ws-active/api/v1/remote_write", nil)
			r.Body, r.ContentLength = body, 15<<20
			if header != "" {
				r.Header.Set("Authorization", header)
				r.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
			}
			w := httptest.NewRecorder()
			e.srv.ServeHTTP(w, r)
			if w.Code != http.StatusForbidden || w.Header().Get("X-Amzn-ErrorType") == "" {
				t.Fatalf("got %d %q %s, want 403 with an error type", w.Code, w.Header().Get("X-Amzn-ErrorType"), w.Body)
			}
			if body.read || !body.closed {
				t.Fatalf("body read=%v closed=%v; want unread and closed", body.read, body.closed)
			}
			if e.wasHandled("RemoteWrite") {
				t.Fatal("the handler ran")
			}
		})
	}
	body := &spyBody{Reader: strings.NewReader("samples")}
	r := httptest.NewRequest("POST", "/workspaces/ws-active/api/v1/remote_write", body)
	r.Header.Set("Authorization", "Bearer "+e.token)
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"body":"samples"`) || !strings.Contains(w.Body.String(), `"caller":"alice"`) {
		t.Fatalf("authenticated: %d %s", w.Code, w.Body)
	}
}

// Bodies are read up to the route's limit, and remote_write's up to the
// workspace's max_request_bytes when that is lower; a declared length over
// the limit is refused without reading.
func TestBodyLimits(t *testing.T) {
	e := newEnv(t)
	if w := e.do("PUT", "/things/a", e.token, strings.NewReader(strings.Repeat("x", 64))); w.Code != http.StatusOK {
		t.Fatalf("a body at the limit: %d %s", w.Code, w.Body)
	}
	w := e.do("PUT", "/things/a", e.token, strings.NewReader(strings.Repeat("x", 65)))
	if w.Code != http.StatusRequestEntityTooLarge || w.Header().Get("X-Amzn-ErrorType") != "RequestEntityTooLargeException" ||
		!strings.Contains(w.Body.String(), "the limit is 64 bytes") {
		t.Fatalf("over the route's limit: %d %s %s", w.Code, w.Header().Get("X-Amzn-ErrorType"), w.Body)
	}

	// Chunked (no Content-Length): read up to the limit, then refused.
	chunked := httptest.NewRequest("PUT", "/things/a", io.MultiReader(strings.NewReader(strings.Repeat("x", 65)), strings.NewReader("")))
	chunked.ContentLength = -1
	chunked.Header.Set("Authorization", "Bearer "+e.token)
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, chunked)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a chunked body over the limit: %d", rec.Code)
	}

	body := &spyBody{Reader: strings.NewReader("x")}
	declared := httptest.NewRequest("POST", "/workspaces/ws-active/api/v1/remote_write", nil)
	declared.Body, declared.ContentLength = body, 101
	declared.Header.Set("Authorization", "Bearer "+e.token)
	rec = httptest.NewRecorder()
	e.srv.ServeHTTP(rec, declared)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") ||
		!strings.Contains(rec.Body.String(), "max_request_bytes") || body.read {
		t.Fatalf("remote_write declaring more than the workspace's 100 bytes: %d %q %s (read %v)", rec.Code, rec.Header().Get("Content-Type"), rec.Body, body.read)
	}
	if w := e.do("POST", "/workspaces/ws-active/api/v1/remote_write", e.token, strings.NewReader(strings.Repeat("x", 100))); w.Code != http.StatusOK {
		t.Fatalf("remote_write at the workspace's limit: %d %s", w.Code, w.Body)
	}
}

// A route's resources come from the request before authorization; when
// they cannot be known (a body with data after its JSON value), the
// request is answered then, and neither authorized nor handled.
func TestResourcesBeforeAuthorization(t *testing.T) {
	e := newEnv(t)
	w := e.do("POST", "/named", e.token, strings.NewReader(`{"name":"allowed"} {"name":"denied"}`))
	if w.Code != http.StatusBadRequest || w.Header().Get("X-Amzn-ErrorType") != "ValidationException" ||
		!strings.Contains(w.Body.String(), "data after the JSON value") {
		t.Fatalf("trailing JSON: %d %s", w.Code, w.Body)
	}
	if len(e.authz.asked()) != 0 || e.wasHandled("CreateNamed") {
		t.Fatalf("trailing JSON reached authorization %v or the handler", e.authz.asked())
	}
	e.authz.deny[arns.Kansoku("thing", "denied")] = true
	if w := e.do("POST", "/named", e.token, strings.NewReader(`{"name":"denied"}`)); w.Code != http.StatusForbidden {
		t.Fatalf("a denied resource: %d %s", w.Code, w.Body)
	}
	if w := e.do("POST", "/named", e.token, strings.NewReader(`{"name":"allowed"}`)); w.Code != http.StatusOK {
		t.Fatalf("an allowed resource: %d %s", w.Code, w.Body)
	}
	want := []string{"kansoku:CreateNamed " + arns.Kansoku("thing", "denied"), "kansoku:CreateNamed " + arns.Kansoku("thing", "allowed")}
	if got := e.authz.asked(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("authorized %v, want %v", got, want)
	}
}

// Without a Resources function a route is authorized on its workspace
// (the pattern has {workspaceId}), on the account for AMP actions, on "*"
// for Kansoku's own; AuthOnly routes need a caller and no permission.
func TestDefaultResources(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ method, target, want string }{
		{"GET", "/workspaces/ws-any/things", "aps:ListWorkspaceThings " + arns.Workspace("ws-any")},
		{"GET", "/things", "aps:ListAccountThings arn:aws:aps:us-east-1:123456789012:*"},
		{"PUT", "/things/x", "kansoku:PutThing *"},
		{"GET", "/workspaces/ws-active/api/v1/things", "aps:QueryMetrics " + arns.Workspace("ws-active")},
	} {
		e.authz.checks = nil
		if w := e.do(c.method, c.target, e.token, nil); w.Code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", c.method, c.target, w.Code, w.Body)
		}
		if got := e.authz.asked(); len(got) != 1 || got[0] != c.want {
			t.Errorf("%s %s authorized %v, want %s", c.method, c.target, got, c.want)
		}
	}
	e.authz.checks = nil
	e.authz.deny["kansoku:WhoAmI"] = true
	if w := e.do("GET", "/whoami", e.token, nil); w.Code != http.StatusOK || len(e.authz.asked()) != 0 {
		t.Fatalf("an AuthOnly route: %d, authorized %v", w.Code, e.authz.asked())
	}
	if w := e.do("GET", "/whoami", "", nil); w.Code != http.StatusForbidden {
		t.Fatalf("an AuthOnly route without credentials: %d", w.Code)
	}
}

// The same refusal speaks each plane's language: AWS's JSON on the
// control plane, Prometheus' envelope on the data plane, plain text for
// remote_write (what Prometheus logs).
func TestErrorPlanes(t *testing.T) {
	e := newEnv(t)
	e.authz.deny["ws-denied"] = true
	e.authz.deny[arns.Workspace("ws-active")] = true

	w := e.do("GET", "/workspaces/ws-active/things", e.token, nil)
	var awsErr struct {
		Message string `json:"message"`
		Type    string `json:"__type"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &awsErr); err != nil || w.Code != 403 || awsErr.Type != "AccessDeniedException" ||
		w.Header().Get("X-Amzn-ErrorType") != "AccessDeniedException" || !strings.Contains(awsErr.Message, "aps:ListWorkspaceThings") {
		t.Fatalf("control plane: %d %s", w.Code, w.Body)
	}

	w = e.do("GET", "/workspaces/ws-active/api/v1/things", e.token, nil)
	var prom struct{ Status, ErrorType, Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &prom); err != nil || w.Code != 403 || prom.Status != "error" || prom.ErrorType != "forbidden" ||
		w.Header().Get("X-Amzn-ErrorType") != "AccessDeniedException" {
		t.Fatalf("data plane: %d %s", w.Code, w.Body)
	}

	w = e.do("POST", "/workspaces/ws-active/api/v1/remote_write", e.token, strings.NewReader("x"))
	if w.Code != 403 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") ||
		!strings.HasPrefix(w.Body.String(), "User is not authorized to perform: aps:RemoteWrite") {
		t.Fatalf("write plane: %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}

	if w := e.do("GET", "/workspaces/ws-gone/api/v1/things", e.token, nil); w.Code != 404 || !strings.Contains(w.Body.String(), `"errorType":"not_found"`) {
		t.Fatalf("an unknown workspace on the data plane: %d %s", w.Code, w.Body)
	}
	if w := e.do("POST", "/workspaces/ws-gone/api/v1/remote_write", e.token, nil); w.Code != 404 || !strings.Contains(w.Body.String(), "does not exist or is not ACTIVE") {
		t.Fatalf("an unknown workspace on the write plane: %d %s", w.Code, w.Body)
	}
	if w := e.do("GET", "/workspaces/bad%20id/api/v1/things", e.token, nil); w.Code != 400 {
		t.Fatalf("an invalid workspace id: %d %s", w.Code, w.Body)
	}
	e.ready = false
	if w := e.do("POST", "/workspaces/ws-gone/api/v1/remote_write", e.token, nil); w.Code != 503 || w.Header().Get("X-Amzn-ErrorType") != "ServiceUnavailableException" {
		t.Fatalf("a workspace not open yet while the server starts: %d %v", w.Code, w.Header())
	}
	if w := e.do("GET", "/nowhere", e.token, nil); w.Code != 404 || w.Header().Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Fatalf("an unknown path: %d %s", w.Code, w.Body)
	}
}

// A handler that panics answers 500 in its plane's format, and the next
// request is served.
func TestPanicsAnswerInternalError(t *testing.T) {
	e := newEnv(t)
	w := e.do("GET", "/workspaces/ws-active/api/v1/explode", e.token, nil)
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"errorType":"internal"`) {
		t.Fatalf("a panic: %d %s", w.Code, w.Body)
	}
	if w := e.do("GET", "/workspaces/ws-active/api/v1/things", e.token, nil); w.Code != 200 {
		t.Fatalf("after a panic: %d", w.Code)
	}
	if got := requests(t, e.reg, "Explode", "500"); got != 1 {
		t.Fatalf("kansoku_http_requests_total{route=Explode,code=500} = %v", got)
	}
}

// requests is kansoku_http_requests_total for a route and status code.
func requests(t *testing.T, reg *prometheus.Registry, route, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "kansoku_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// Control-plane calls and every refusal go to the audit trail, with the
// request's parameters and the answer's elements, secrets hidden; data
// reads and routes marked NoAudit do not.
func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	if w := e.do("PUT", "/things/t1?note=hi&X-Amz-Signature=abc", e.token, strings.NewReader(`{"password":"hunter2","size":3}`)); w.Code != 200 {
		t.Fatal(w.Code)
	}
	e.do("GET", "/workspaces/ws-active/api/v1/things", e.token, nil)
	e.do("GET", "/whoami", e.token, nil)
	e.do("GET", "/workspaces/ws-active/api/v1/things", e.token[:len(e.token)-4]+"AAAA", nil)

	events := e.audit.recorded()
	if len(events) != 2 {
		t.Fatalf("recorded %d events, want the PutThing call and the refusal: %+v", len(events), events)
	}
	put := events[0]
	if put.EventName != "PutThing" || put.EventSource != "kansoku" || put.UserIdentity.UserName != "alice" ||
		put.UserIdentity.AuthMethod != string(auth.MethodToken) || put.AWSRegion != region || put.RecipientAccountID != account {
		t.Errorf("the call's event: %+v", put)
	}
	params := put.RequestParameters
	if params["id"] != "t1" || params["note"] != "hi" || params["size"] != float64(3) || params["password"] != audit.Hidden {
		t.Errorf("request parameters: %v", params)
	}
	if _, ok := params["X-Amz-Signature"]; ok {
		t.Errorf("presigned-URL material recorded: %v", params)
	}
	if put.ResponseElements["secretAccessKey"] != audit.Hidden || put.ResponseElements["caller"] != "alice" {
		t.Errorf("response elements: %v", put.ResponseElements)
	}
	if len(put.Resources) != 1 || put.Resources[0].ARN != "*" {
		t.Errorf("resources: %+v", put.Resources)
	}

	refused := events[1]
	if refused.EventName != "QueryMetrics" || refused.ErrorCode != auth.CodeUnrecognizedClient || refused.UserIdentity.Type != "Unknown" ||
		!strings.HasPrefix(refused.UserIdentity.AccessKeyID, "token:") {
		t.Errorf("the refusal's event: %+v", refused)
	}
}

func unknownToken() string {
	_, token, _ := auth.NewAPIToken()
	return token
}

// The control-plane quota: aps: control-plane routes take a token of the
// account's bucket; beyond the burst they are ThrottlingException (429,
// Retry-After), audited; Kansoku's own admin routes and the data plane
// are not counted.
func TestControlPlaneThrottling(t *testing.T) {
	e := newEnv(t, func(o *api.Options) { o.Throttle = throttle.NewLocal(throttle.Config{Rate: 0.001, Burst: 3}) })
	for i := 0; i < 3; i++ {
		if w := e.do("GET", "/things", e.token, nil); w.Code != 200 {
			t.Fatalf("call %d within the burst: %d %s", i, w.Code, w.Body)
		}
	}
	w := e.do("GET", "/workspaces/ws-active/things", e.token, nil)
	if w.Code != 429 || w.Header().Get("X-Amzn-ErrorType") != "ThrottlingException" || w.Header().Get("Retry-After") == "" ||
		!strings.Contains(w.Body.String(), "Rate exceeded") {
		t.Fatalf("beyond the burst: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if e.wasHandled("ListWorkspaceThings") {
		t.Fatal("a throttled request reached its handler")
	}
	for _, path := range []string{"/workspaces/ws-active/api/v1/things", "/whoami"} {
		if w := e.do("GET", path, e.token, nil); w.Code != 200 {
			t.Fatalf("%s is not throttled: %d", path, w.Code)
		}
	}
	if w := e.do("PUT", "/things/x", e.token, strings.NewReader(`{}`)); w.Code != 200 {
		t.Fatalf("kansoku: admin routes are not throttled: %d", w.Code)
	}
	var throttled bool
	for _, ev := range e.audit.recorded() {
		if ev.EventName == "ListWorkspaceThings" && ev.ErrorCode == "ThrottlingException" {
			throttled = true
		}
	}
	if !throttled {
		t.Fatalf("the throttled call is not in the audit trail: %+v", e.audit.recorded())
	}
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var counted float64
	for _, mf := range mfs {
		if mf.GetName() == "kansoku_control_plane_throttled_total" {
			for _, m := range mf.GetMetric() {
				counted += m.GetCounter().GetValue()
			}
		}
	}
	if counted != 1 {
		t.Fatalf("kansoku_control_plane_throttled_total: %v", counted)
	}
}
