package console

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/audit"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
)

type recorder struct{ events []audit.Event }

func (r *recorder) Record(e audit.Event) { r.events = append(r.events, e) }

// allowOnly allows one action on one resource.
type allowOnly struct{ action, resource string }

func (a allowOnly) Authorize(_ context.Context, _ *auth.Identity, action, resource string) error {
	if action == a.action && resource == a.resource {
		return nil
	}
	return apierr.AccessDenied("no")
}

func (f *fixture) http(rec *recorder) HTTP {
	return HTTP{Sessions: f.sessions, Dashboards: NewDashboards(f.db), UserARN: func(n string) string { return "arn:aws:iam::123456789012:user/" + n },
		Audit: rec, ARNs: httpapi.ARNs{Region: "us-east-1", AccountID: "123456789012"}, Logger: slog.New(slog.DiscardHandler)}
}

func route(t *testing.T, h HTTP, name string) httpapi.Route {
	t.Helper()
	for _, rt := range h.Routes() {
		if rt.Name == name {
			return rt
		}
	}
	t.Fatalf("no route %s", name)
	return httpapi.Route{}
}

// Sign-in is public, so the middleware records nothing: the handler puts
// every attempt in the audit trail itself, and sets the session cookie
// HttpOnly and SameSite=Strict.
func TestSignInRoute(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	signIn := route(t, f.http(rec), "ConsoleSignIn")
	if signIn.Plane != httpapi.Public {
		t.Fatalf("sign-in is on the %s plane", signIn.Plane)
	}
	post := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/console/api/session", strings.NewReader(body))
		r.RemoteAddr = "192.0.2.7:5555"
		w := httptest.NewRecorder()
		signIn.Handler.ServeHTTP(w, r)
		return w
	}
	if w := post(`{"accessKeyId":"AKIAALICE","secretAccessKey":"wrong"}`); w.Code != http.StatusUnauthorized {
		t.Fatalf("a wrong secret: %d %s", w.Code, w.Body)
	}
	if w := post(`{"accessKeyId":"AKIAALICE","unknown":1}`); w.Code != http.StatusBadRequest {
		t.Fatalf("an unknown member: %d %s", w.Code, w.Body)
	}
	w := post(`{"accessKeyId":"AKIAALICE","secretAccessKey":"alice-secret"}`)
	if w.Code != http.StatusOK {
		t.Fatalf("sign-in: %d %s", w.Code, w.Body)
	}
	c := w.Result().Cookies()
	if len(c) != 1 || c[0].Name != auth.SessionCookie || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || c[0].Secure {
		t.Fatalf("cookie %+v", c)
	}
	if len(rec.events) != 2 {
		t.Fatalf("%d sign-in events, want the failure and the success", len(rec.events))
	}
	failed, ok := rec.events[0], rec.events[1]
	if failed.EventName != "ConsoleLogin" || failed.ErrorCode != "AccessDenied" || failed.SourceIPAddress != "192.0.2.7" ||
		failed.RequestParameters["accessKeyId"] != "AKIAALICE" {
		t.Errorf("failed sign-in event %+v", failed)
	}
	if ok.ErrorCode != "" || ok.UserIdentity.UserName != "alice" || ok.UserIdentity.AuthMethod != MethodAccessKey {
		t.Errorf("sign-in event %+v", ok)
	}
	for _, e := range rec.events {
		if b, _ := json.Marshal(e); strings.Contains(string(b), "alice-secret") || strings.Contains(string(b), `"wrong"`) {
			t.Fatalf("a secret reached the audit trail: %s", b)
		}
	}
}

// The console asks which actions the user may do, and is told with the
// server's own authorizer; a check without a resource is on the account.
func TestPermissionsRoute(t *testing.T) {
	f := newFixture(t)
	perms := route(t, f.http(nil), "ConsolePermissions")
	ask := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/console/api/permissions", nil)
		c := httpapi.WithRequest(r.Context(), "req-1", slog.New(slog.DiscardHandler), allowOnly{"aps:ListWorkspaces", "arn:aws:aps:us-east-1:123456789012:*"})
		c = httpapi.WithBody(auth.WithIdentity(c, &auth.Identity{PrincipalName: "alice"}), []byte(body))
		w := httptest.NewRecorder()
		perms.Handler.ServeHTTP(w, r.WithContext(c))
		return w
	}
	w := ask(`{"checks":[{"action":"aps:ListWorkspaces"},{"action":"aps:CreateWorkspace"},{"action":"aps:ListWorkspaces","resource":"*"}]}`)
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"allowed":[true,false,false]}` {
		t.Fatalf("permissions: %d %s", w.Code, w.Body)
	}
	many := `{"checks":[` + strings.Repeat(`{"action":"a"},`, 200) + `{"action":"a"}]}`
	if w := ask(many); w.Code != 400 {
		t.Fatalf("201 checks: %d", w.Code)
	}
}
