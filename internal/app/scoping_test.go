package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/client"
	"github.com/kansoku/kansoku/internal/testenv"
)

// tenants is the attack report's setup: workspaces A and B, u1 with "*"
// on A only, u2 with "*" on everything but an explicit Deny on B.
type tenants struct {
	s      *testenv.Server
	a, b   string
	u1, u2 *client.Client
}

func newTenants(t *testing.T) *tenants {
	s := testenv.Start(t, testenv.Options{})
	a, b := s.CreateWorkspace(t, "A"), s.CreateWorkspace(t, "B")
	acct := s.App.Info().Account.ID
	ns := func(ws string) string {
		return fmt.Sprintf("arn:aws:aps:us-east-1:%s:rulegroupsnamespace/%s/*", acct, ws)
	}
	p1 := createPolicy(t, s, "u1", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":[%q,%q]}]}`, s.WorkspaceARN(a), ns(a)))
	p2 := createPolicy(t, s, "u2", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"*","Resource":"*"},
		{"Effect":"Deny","Action":"*","Resource":[%q,%q]},
		{"Effect":"Deny","Action":["iam:*","kansoku:CreateAPIToken","kansoku:SetConsolePassword"],"Resource":"*"}]}`, s.WorkspaceARN(b), ns(b)))
	return &tenants{s: s, a: a, b: b, u1: s.User(t, "u1", p1), u2: s.User(t, "u2", p2)}
}

func rawJSON(t *testing.T, c *client.Client, method, path, body string) (int, string) {
	t.Helper()
	resp, b, err := c.Raw(ctx, method, path, nil, "application/json", []byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// F7: trailing data after a JSON body no longer switches authorization to
// the account: the request is refused before authorization.
func TestTrailingDataCannotBypassADeny(t *testing.T) {
	x := newTenants(t)
	body := fmt.Sprintf(`{"name":"x","awsAccountId":"123456789012","workspaceId":%q,"regions":["us-east-1"],"services":["ec2"]}`, x.b)
	if code, b := rawJSON(t, x.u2, "POST", "/admin/v1/aws/integrations", body); code != 403 || !strings.Contains(b, "explicit deny") {
		t.Fatalf("plain: %d %s", code, b)
	}
	for _, trail := range []string{" {}", "x", ` {"workspaceId":"ws-other"}`, "]"} {
		code, b := rawJSON(t, x.u2, "POST", "/admin/v1/aws/integrations", body+trail)
		if code != 400 || !strings.Contains(b, "after the JSON value") && !strings.Contains(b, "parse") {
			t.Fatalf("with trailing %q: %d %s", trail, code, b)
		}
	}
	if list, _ := x.s.App.AWS().List(ctx, x.b); len(list) != 0 {
		t.Fatalf("an integration was created in the denied workspace: %+v", list)
	}
	// The same decoder for AMP's shapes: trailing data is refused there too.
	if code, b := rawJSON(t, x.u1, "POST", "/workspaces/"+x.a+"/rulegroupsnamespaces", `{"name":"n","data":"Z3JvdXBzOiBbXQ=="} {"name":"../x"}`); code != 400 {
		t.Fatalf("namespace with trailing data: %d %s", code, b)
	}
}

// F10: listings show only what the caller may see: a Deny on a workspace
// hides its integrations (and their External IDs).
func TestListingsAreFilteredPerItem(t *testing.T) {
	x := newTenants(t)
	var ids = map[string]string{}
	for _, ws := range []string{x.a, x.b} {
		var out struct {
			Integration struct{ ID, ExternalID string } `json:"integration"`
		}
		if err := x.s.Admin.JSON(ctx, "POST", "/admin/v1/aws/integrations", nil, map[string]any{"name": "i-" + ws[:6], "awsAccountId": "123456789012",
			"workspaceId": ws, "regions": []string{"us-east-1"}, "services": []string{"ec2"}}, &out); err != nil {
			t.Fatal(err)
		}
		ids[ws] = out.Integration.ExternalID
	}
	code, b := rawJSON(t, x.u2, "GET", "/admin/v1/aws/integrations", "")
	if code != 200 || !strings.Contains(b, ids[x.a]) || strings.Contains(b, ids[x.b]) {
		t.Fatalf("u2's listing: %d %s", code, b)
	}
	if code, b := rawJSON(t, x.u2, "GET", "/admin/v1/aws/integrations?workspace="+x.b, ""); code != 403 {
		t.Fatalf("u2 listing B: %d %s", code, b)
	}
	// "*" on workspace A alone does not grant A's integrations.
	if code, b := rawJSON(t, x.u1, "GET", "/admin/v1/aws/integrations?workspace="+x.a, ""); code != 403 || !strings.Contains(b, "arn:aws:kansoku:") {
		t.Fatalf("u1 listing A: %d %s", code, b)
	}
	if code, b := rawJSON(t, x.u2, "GET", "/admin/v1/hosts", ""); code != 200 {
		t.Fatalf("u2 hosts: %d %s", code, b)
	}
	// Unknown objects are 404, not authorized against something broader.
	if code, b := rawJSON(t, x.u2, "GET", "/admin/v1/aws/integrations/awsi-0000000000000000", ""); code != 404 {
		t.Fatalf("unknown integration: %d %s", code, b)
	}
}

// F11: limits are a resource of their own, and values are range-checked.
func TestTenantsCannotLiftTheirOwnLimits(t *testing.T) {
	x := newTenants(t)
	path := "/admin/v1/workspaces/" + x.a + "/limits"
	code, b := rawJSON(t, x.u1, "PATCH", path, `{"ingestion_rate": 1e9}`)
	limitsARN := fmt.Sprintf("arn:aws:kansoku:us-east-1:%s:limits/%s", x.s.App.Info().Account.ID, x.a)
	if code != 403 || !strings.Contains(b, limitsARN) {
		t.Fatalf("u1 lifting A's limits: %d %s", code, b)
	}
	if code, b := rawJSON(t, x.u1, "GET", "/admin/v1/workspaces/"+x.a+"/usage", ""); code != 200 {
		t.Fatalf("u1 reading A's usage: %d %s", code, b)
	}
	for _, bad := range []string{`{"min_evaluation_interval":"1ms"}`, `{"query_timeout":"87600h"}`, `{"max_samples_per_query":9223372036854775807}`,
		`{"max_request_bytes":1073741824}`, `{"max_query_length":"0s"}`, `{"max_alerts_size_bytes":-1}`, `{"max_label_value_length":0}`,
		`{"max_subquery_steps":0}`, `{"ingestion_rate":"NaN"}`, `[1]`, `{"ingestion_rate":1} {}`} {
		if code, b := rawJSON(t, x.s.Admin, "PATCH", path, bad); code != 400 {
			t.Errorf("admin setting %s: %d %s", bad, code, b)
		}
	}
	if code, b := rawJSON(t, x.s.Admin, "PATCH", path, `{"ingestion_rate": 5000}`); code != 200 {
		t.Fatalf("admin setting a sane limit: %d %s", code, b)
	}
}

// F12: the tag APIs accept this installation's ARNs only, in canonical form.
func TestTagsNeedTheCanonicalARN(t *testing.T) {
	x := newTenants(t)
	canon := x.s.WorkspaceARN(x.b)
	for _, arn := range []string{strings.Replace(canon, "arn:aws:", "arn:aws-cn:", 1), strings.Replace(canon, "arn:aws:", "arn:awsx:", 1)} {
		if code, b := rawJSON(t, x.u2, "POST", "/tags/"+url.PathEscape(arn), `{"tags":{"pwn":"1"}}`); code != 400 {
			t.Fatalf("tag %s: %d %s", arn, code, b)
		}
	}
	if code, b := rawJSON(t, x.u2, "POST", "/tags/"+url.PathEscape(canon), `{"tags":{"pwn":"1"}}`); code != 403 {
		t.Fatalf("canonical ARN of B: %d %s", code, b)
	}
	other := strings.Replace(canon, x.s.App.Info().Account.ID, "999999999999", 1)
	if code, b := rawJSON(t, x.u2, "POST", "/tags/"+url.PathEscape(other), `{"tags":{"a":"1"}}`); code != 404 {
		t.Fatalf("another account's ARN: %d %s", code, b)
	}
}

// F8: console passwords and token deletion are authorized on the user
// they concern; changing one's own password in the console needs the
// current one and signs out one's other sessions.
func TestPasswordAndTokenPermissionsAreScoped(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	self := createPolicy(t, s, "self", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["kansoku:SetConsolePassword","kansoku:DeleteAPIToken","kansoku:CreateAPIToken"],"Resource":"arn:aws:iam::%s:user/${aws:username}"},
		{"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*"}]}`, s.App.Info().Account.ID))
	u5 := s.User(t, "u5", self)
	if code, b := rawJSON(t, u5, "PUT", "/admin/v1/users/u5/console-password", `{"password":"u5 password one"}`); code != 204 {
		t.Fatalf("u5 setting its own password: %d %s", code, b)
	}
	if code, b := rawJSON(t, u5, "PUT", "/admin/v1/users/admin/console-password", `{"password":"taken over by u5"}`); code != 403 || !strings.Contains(b, "user/admin") {
		t.Fatalf("u5 setting admin's password: %d %s", code, b)
	}
	var adminTok struct {
		APIToken struct{ ID string } `json:"apiToken"`
	}
	if err := s.Admin.JSON(ctx, "POST", "/admin/v1/tokens", nil, map[string]any{"name": "admin's"}, &adminTok); err != nil {
		t.Fatal(err)
	}
	if code, b := rawJSON(t, u5, "DELETE", "/admin/v1/tokens/"+adminTok.APIToken.ID, ""); code != 403 {
		t.Fatalf("u5 deleting admin's token: %d %s", code, b)
	}
	var own struct {
		APIToken struct{ ID string } `json:"apiToken"`
	}
	if err := u5.JSON(ctx, "POST", "/admin/v1/tokens", nil, map[string]any{"name": "own"}, &own); err != nil {
		t.Fatal(err)
	}
	if code, b := rawJSON(t, u5, "DELETE", "/admin/v1/tokens/"+own.APIToken.ID, ""); code != 204 {
		t.Fatalf("u5 deleting its own token: %d %s", code, b)
	}

	// In the console: two sessions of u5; changing the password from one
	// needs the current password and ends the other.
	first, second := newBrowser(t, s), newBrowser(t, s)
	for _, b := range []*browser{first, second} {
		if code := b.signIn(map[string]any{"user": "u5", "password": "u5 password one"}); code != 200 {
			t.Fatalf("sign-in: %d", code)
		}
	}
	if code, m := first.change("PUT", "/admin/v1/users/u5/console-password", map[string]any{"password": "u5 password two"}); code != 403 {
		t.Fatalf("without the current password: %d %v", code, m)
	}
	if code, m := first.change("PUT", "/admin/v1/users/u5/console-password", map[string]any{"password": "u5 password two", "currentPassword": "wrong one here"}); code != 403 {
		t.Fatalf("with a wrong current password: %d %v", code, m)
	}
	if code, m := first.change("PUT", "/admin/v1/users/u5/console-password", map[string]any{"password": "u5 password two", "currentPassword": "u5 password one"}); code != 204 {
		t.Fatalf("with the current password: %d %v", code, m)
	}
	if code, _, _ := first.do("GET", "/workspaces", nil, nil); code != 200 {
		t.Fatalf("the changing session was signed out: %d", code)
	}
	if code, _, _ := second.do("GET", "/workspaces", nil, nil); code != 403 {
		t.Fatalf("the other session survived the password change: %d", code)
	}
}

// F13: failed sign-ins are throttled, successful ones are not; origins
// must match exactly.
func TestSignInThrottlingAndOrigin(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	b := newBrowser(t, s)
	for i := 0; i < 30; i++ {
		if code := b.signIn(adminKey(s)); code != 200 {
			t.Fatalf("successful sign-in #%d: %d (successes must not count)", i+1, code)
		}
	}
	c := newBrowser(t, s)
	if code := c.signIn(adminKey(s)); code != 200 {
		t.Fatal(code)
	}
	for _, origin := range []string{"null", "https://" + strings.TrimPrefix(s.URL, "http://"), "http://evil.example"} {
		code, _, _ := c.do("POST", "/workspaces", map[string]any{"alias": "x"}, map[string]string{"X-CSRF-Token": c.csrf, "Origin": origin})
		if code != 403 {
			t.Errorf("Origin %s: %d", origin, code)
		}
	}
	if code, _, _ := c.do("POST", "/workspaces", map[string]any{"alias": "ok"}, map[string]string{"X-CSRF-Token": c.csrf, "Origin": s.URL}); code != 202 {
		t.Errorf("same origin: %d", code)
	}
	throttled := false
	// 10 failures at once, then one per 6 s: enough tries to be throttled
	// even when each PBKDF2 check takes seconds (-race on a busy machine).
	for i := 0; i < 40 && !throttled; i++ {
		code, _, _ := b.do("POST", "/console/api/session", map[string]any{"user": "nobody", "password": "wrong password!"}, nil)
		throttled = code == http.StatusTooManyRequests
	}
	if !throttled {
		t.Fatal("failed sign-ins are not throttled")
	}

}
