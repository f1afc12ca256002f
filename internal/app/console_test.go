package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/testenv"
)

// browser is a cookie-keeping client, as the console's pages are.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func newBrowser(t *testing.T, s *testenv.Server) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: s.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, body any, headers map[string]string) (int, map[string]any, http.Header) {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, resp.Header
}

// signIn signs in and keeps the CSRF token.
func (b *browser) signIn(creds map[string]any) int {
	b.t.Helper()
	code, m, _ := b.do("POST", "/console/api/session", creds, nil)
	if code == 200 {
		b.csrf, _ = m["csrfToken"].(string)
	}
	return code
}

// change sends a state-changing request with the CSRF token.
func (b *browser) change(method, path string, body any) (int, map[string]any) {
	code, m, _ := b.do(method, path, body, map[string]string{auth.CSRFHeader: b.csrf})
	return code, m
}

func adminKey(s *testenv.Server) map[string]any {
	return map[string]any{"accessKeyId": s.Admin.Creds.AccessKeyID, "secretAccessKey": s.Admin.Creds.SecretAccessKey}
}

func TestConsoleSessions(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	b := newBrowser(t, s)

	// Static files are served with a strict CSP; the root redirects.
	code, _, h := b.do("GET", "/", nil, nil)
	if code != 302 || h.Get("Location") != "/console/" {
		t.Fatalf("root: %d %s", code, h.Get("Location"))
	}
	resp, err := http.Get(s.URL + "/console/")
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("console page: %v %v", resp, err)
	}
	resp.Body.Close()

	// Without a session the APIs refuse the browser.
	if code, _, _ := b.do("GET", "/workspaces", nil, nil); code != 403 {
		t.Fatalf("before sign-in: %d", code)
	}
	// Wrong secret; unknown user: the same answer.
	for _, bad := range []map[string]any{{"accessKeyId": s.Admin.Creds.AccessKeyID, "secretAccessKey": "nope"}, {"user": "nobody", "password": "whatever-it-is"}} {
		if code, m, _ := b.do("POST", "/console/api/session", bad, nil); code != 401 || !strings.Contains(m["message"].(string), "sign-in failed") {
			t.Fatalf("bad sign-in: %d %v", code, m)
		}
	}
	// The access key signs in; the cookie is HttpOnly and SameSite=Strict.
	code, m, h := b.do("POST", "/console/api/session", adminKey(s), nil)
	if code != 200 || m["user"] != "admin" || m["csrfToken"] == "" {
		t.Fatalf("sign-in: %d %v", code, m)
	}
	b.csrf = m["csrfToken"].(string)
	cookie := h.Get("Set-Cookie")
	if !strings.Contains(cookie, auth.SessionCookie+"=") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Fatalf("cookie: %s", cookie)
	}
	// Reads work with the cookie alone...
	if code, m, _ := b.do("GET", "/workspaces", nil, nil); code != 200 {
		t.Fatalf("list with the session: %d %v", code, m)
	}
	if code, m, _ := b.do("GET", "/console/api/session", nil, nil); code != 200 || m["csrfToken"] != b.csrf {
		t.Fatalf("session info: %d %v", code, m)
	}
	// ...changes need the CSRF token, and the same origin.
	if code, _, _ := b.do("POST", "/workspaces", map[string]any{"alias": "nope"}, nil); code != 403 {
		t.Fatalf("change without CSRF token: %d", code)
	}
	if code, _, _ := b.do("POST", "/workspaces", map[string]any{"alias": "nope"}, map[string]string{auth.CSRFHeader: b.csrf, "Origin": "https://evil.example"}); code != 403 {
		t.Fatalf("change from another origin: %d", code)
	}
	code, m = b.change("POST", "/workspaces", map[string]any{"alias": "from-console"})
	if code != 202 || m["workspaceId"] == nil {
		t.Fatalf("create with CSRF token: %d %v", code, m)
	}
	// The audit trail has the sign-ins, good and bad.
	var ev struct {
		Events []struct {
			EventName string
			ErrorCode string
		}
	}
	waitFor(t, func() bool {
		_ = s.App.Audit().Flush(ctx)
		if err := s.Admin.JSON(ctx, "GET", "/admin/v1/audit", map[string][]string{"eventName": {"ConsoleLogin"}}, nil, &ev); err != nil {
			return false
		}
		return len(ev.Events) == 3
	})
	// Sign-out ends the session for good.
	if code, _ := b.change("DELETE", "/console/api/session", nil); code != 204 {
		t.Fatalf("sign-out: %d", code)
	}
	if code, _, _ := b.do("GET", "/workspaces", nil, nil); code != 403 {
		t.Fatalf("after sign-out: %d", code)
	}

	// Passwords: set by an admin, at least 12 characters.
	if err := s.Admin.JSON(ctx, "PUT", "/admin/v1/users/admin/console-password", nil, map[string]any{"password": "short"}, nil); apiErr(t, err).Status != 400 {
		t.Fatal("short password accepted")
	}
	if err := s.Admin.JSON(ctx, "PUT", "/admin/v1/users/admin/console-password", nil, map[string]any{"password": "correct horse battery"}, nil); err != nil {
		t.Fatal(err)
	}
	if code := b.signIn(map[string]any{"user": "admin", "password": "correct horse battery!"}); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	if code := b.signIn(map[string]any{"user": "admin", "password": "correct horse battery"}); code != 200 {
		t.Fatalf("password sign-in: %d", code)
	}
	if code, _, _ := b.do("GET", "/workspaces", nil, nil); code != 200 {
		t.Fatalf("password session: %d", code)
	}
	// A forged cookie is refused.
	u, _ := http.NewRequest("GET", s.URL+"/workspaces", nil)
	u.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: "abc.def"})
	resp, _ = http.DefaultClient.Do(u)
	if resp.StatusCode != 403 {
		t.Fatalf("forged cookie: %d", resp.StatusCode)
	}
	resp.Body.Close()
	// Sign-in attempts are throttled per address.
	throttled := false
	for i := 0; i < 20 && !throttled; i++ {
		code, _, _ := b.do("POST", "/console/api/session", map[string]any{"accessKeyId": "AKIAUNKNOWN", "secretAccessKey": "x"}, nil)
		throttled = code == 429
	}
	if !throttled {
		t.Fatal("sign-in attempts are not throttled")
	}
}

func TestConsolePermissionsAndDashboards(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "dash")
	ro := s.User(t, "viewer", "AmazonPrometheusQueryAccess", "KansokuReadOnlyAccess")
	b := newBrowser(t, s)
	if code := b.signIn(map[string]any{"accessKeyId": ro.Creds.AccessKeyID, "secretAccessKey": ro.Creds.SecretAccessKey}); code != 200 {
		t.Fatalf("viewer sign-in: %d", code)
	}
	// The console asks what the user may do, to hide the rest.
	code, m := b.change("POST", "/console/api/permissions", map[string]any{"checks": []map[string]string{
		{"action": "aps:QueryMetrics", "resource": s.WorkspaceARN(ws)},
		{"action": "aps:DeleteWorkspace", "resource": s.WorkspaceARN(ws)},
		{"action": "kansoku:PutDashboard", "resource": s.WorkspaceARN(ws)},
		{"action": "kansoku:ListDashboards", "resource": s.WorkspaceARN(ws)},
	}})
	if code != 200 || strings.Trim(strings.ReplaceAll(jsonString(m["allowed"]), " ", ""), "") != "[true,false,false,true]" {
		t.Fatalf("permissions: %d %v", code, m)
	}
	// And the server refuses what is hidden.
	if code, _ := b.change("DELETE", "/workspaces/"+ws, nil); code != 403 {
		t.Fatalf("viewer deleted a workspace: %d", code)
	}
	dash := map[string]any{"title": "Overview", "timeRange": "6h", "refresh": "30s", "panels": []map[string]any{
		{"title": "Up", "type": "stat", "query": "sum(up)"},
		{"title": "Load", "type": "line", "query": "rate(node_cpu_seconds_total[5m])"},
	}}
	if code, _ := b.change("POST", "/admin/v1/workspaces/"+ws+"/dashboards", dash); code != 403 {
		t.Fatalf("viewer created a dashboard: %d", code)
	}

	// The admin saves, lists, updates, exports and deletes dashboards.
	var created struct {
		Dashboard struct {
			ID      string
			Version int
			Panels  []map[string]any
		}
	}
	if err := s.Admin.JSON(ctx, "POST", "/admin/v1/workspaces/"+ws+"/dashboards", nil, dash, &created); err != nil || len(created.Dashboard.Panels) != 2 {
		t.Fatalf("create: %+v %v", created, err)
	}
	id := created.Dashboard.ID
	for name, bad := range map[string]map[string]any{
		"bad panel type": {"title": "x", "panels": []map[string]any{{"title": "p", "type": "pie", "query": "up"}}},
		"bad query":      {"title": "x", "panels": []map[string]any{{"title": "p", "type": "line", "query": "sum("}}},
		"no title":       {"title": " ", "panels": []map[string]any{}},
		"bad range":      {"title": "x", "timeRange": "forever", "panels": []map[string]any{}},
	} {
		if e := apiErr(t, s.Admin.JSON(ctx, "POST", "/admin/v1/workspaces/"+ws+"/dashboards", nil, bad, nil)); e.Status != 400 {
			t.Errorf("%s: %+v", name, e)
		}
	}
	dash["title"], dash["version"] = "Overview v2", created.Dashboard.Version
	if err := s.Admin.JSON(ctx, "PUT", "/admin/v1/workspaces/"+ws+"/dashboards/"+id, nil, dash, nil); err != nil {
		t.Fatal(err)
	}
	// A stale version is a conflict.
	if e := apiErr(t, s.Admin.JSON(ctx, "PUT", "/admin/v1/workspaces/"+ws+"/dashboards/"+id, nil, dash, nil)); e.Status != 409 {
		t.Fatalf("stale put: %+v", e)
	}
	// The viewer reads it.
	code, m, _ = b.do("GET", "/admin/v1/workspaces/"+ws+"/dashboards", nil, nil)
	if code != 200 || !strings.Contains(jsonString(m), `"title":"Overview v2"`) {
		t.Fatalf("viewer list: %d %v", code, m)
	}
	if err := s.Admin.JSON(ctx, "DELETE", "/admin/v1/workspaces/"+ws+"/dashboards/"+id, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/dashboards/"+id, nil, nil, nil)); e.Status != 404 {
		t.Fatalf("after delete: %+v", e)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
