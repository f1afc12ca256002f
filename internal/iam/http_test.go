package iam

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
)

// call runs one of the Service's routes as the middleware would hand it a
// request: authenticated as id, body read, authorizer in the context.
func (f *fixture) call(t *testing.T, id *auth.Identity, name string, path map[string]string, body string) *httptest.ResponseRecorder {
	t.Helper()
	for _, rt := range f.svc.Routes() {
		if rt.Name != name {
			continue
		}
		r := httptest.NewRequest(rt.Method, "/", strings.NewReader(body))
		for k, v := range path {
			r.SetPathValue(k, v)
		}
		c := httpapi.WithRequest(r.Context(), "req-1", slog.New(slog.DiscardHandler), f.svc)
		c = httpapi.WithBody(auth.WithIdentity(c, id), []byte(body))
		w := httptest.NewRecorder()
		rt.Handler.ServeHTTP(w, r.WithContext(c))
		return w
	}
	t.Fatalf("no route %s", name)
	return nil
}

func errorType(w *httptest.ResponseRecorder) string { return w.Header().Get("X-Amzn-ErrorType") }

func TestNobodyDeletesTheirOwnUserOrSigningKey(t *testing.T) {
	f := newFixture(t)
	admin := f.user(t, "admin", AdministratorAccess)
	k, err := f.svc.CreateAccessKey(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin.AccessKeyID = k.AccessKeyID
	if w := f.call(t, admin, "DeleteUser", map[string]string{"userName": "admin"}, ""); w.Code != http.StatusConflict {
		t.Errorf("deleting oneself: %d %s", w.Code, w.Body)
	}
	if w := f.call(t, admin, "DeleteAccessKey", map[string]string{"accessKeyId": k.AccessKeyID}, ""); w.Code != http.StatusConflict {
		t.Errorf("deleting the key that signed the request: %d %s", w.Code, w.Body)
	}
	if _, _, err := f.svc.AccessKeySecret(ctx, k.AccessKeyID); err != nil {
		t.Fatalf("the signing key is gone: %v", err)
	}
}

// `kansoku keys create --name X` makes user X on first use, which needs
// iam:CreateUser besides iam:CreateAccessKey; policies given with it need
// iam:AttachUserPolicy, each asked of the authorizer.
func TestCreatingAKeyForANewUserNeedsCreateUser(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.CreatePolicy(ctx, "keys-only", "", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	keysOnly := f.user(t, "keys-only", f.svc.PolicyARN("keys-only"))
	w := f.call(t, keysOnly, "CreateAccessKey", nil, `{"userName":"newcomer"}`)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "iam:CreateUser") {
		t.Fatalf("without iam:CreateUser: %d %s", w.Code, w.Body)
	}
	if _, err := f.svc.User(ctx, "newcomer"); err == nil {
		t.Fatal("the user was created anyway")
	}

	admin := f.user(t, "admin", AdministratorAccess)
	w = f.call(t, admin, "CreateAccessKey", nil, `{"userName":"newcomer","policyArns":["AmazonPrometheusQueryAccess"]}`)
	if w.Code != http.StatusOK {
		t.Fatalf("admin: %d %s", w.Code, w.Body)
	}
	var out struct {
		AccessKey struct{ AccessKeyID, SecretAccessKey, UserName, Status string }
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.AccessKey.UserName != "newcomer" || out.AccessKey.SecretAccessKey == "" || out.AccessKey.Status != StatusActive {
		t.Fatalf("answer %s", w.Body)
	}
	pols, err := f.svc.AttachedUserPolicies(ctx, "newcomer")
	if err != nil || len(pols) != 1 || pols[0].Name != "AmazonPrometheusQueryAccess" {
		t.Fatalf("newcomer's policies: %+v %v", pols, err)
	}
}

func TestIAMErrorsAsAWSNamesThem(t *testing.T) {
	f := newFixture(t)
	admin := f.user(t, "admin", AdministratorAccess)
	p, err := f.svc.CreatePolicy(ctx, "p", "", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:*","Resource":"*"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	f.user(t, "bob", p.ARN)
	for _, c := range []struct {
		route  string
		path   map[string]string
		body   string
		status int
		typ    string
	}{
		{"GetUser", map[string]string{"userName": "carol"}, "", 404, "ResourceNotFoundException"},
		{"CreateUser", nil, `{"userName":"bob"}`, 409, "ConflictException"},
		{"CreateUser", nil, `{"userName":"no spaces"}`, 400, "ValidationException"},
		{"DeletePolicy", map[string]string{"policyArn": p.ARN}, "", 409, "DeleteConflictException"},
		{"CreatePolicy", nil, `{"policyName":"q","policyDocument":"{}"}`, 400, "MalformedPolicyDocumentException"},
		{"UpdateAccessKey", map[string]string{"accessKeyId": "AKIANOSUCHKEY0000000"}, `{"status":"Inactive"}`, 404, "ResourceNotFoundException"},
		{"CreateAPIToken", nil, `{"ttlSeconds":-1}`, 400, "ValidationException"},
	} {
		w := f.call(t, admin, c.route, c.path, c.body)
		if w.Code != c.status || errorType(w) != c.typ {
			t.Errorf("%s %v %s: %d %s %s, want %d %s", c.route, c.path, c.body, w.Code, errorType(w), w.Body, c.status, c.typ)
		}
	}
}
