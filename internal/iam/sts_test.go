package iam

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/iam/policy"
	"github.com/kansoku/kansoku/internal/metastore"
)

func (f *fixture) role(t *testing.T, name, trust string, policies ...string) metastore.Role {
	t.Helper()
	r, err := f.svc.CreateRole(ctx, CreateRoleInput{Name: name, TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range policies {
		if err := f.svc.AttachRolePolicy(ctx, name, p); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func trusting(principal string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole"}]}`, principal)
}

// sessionIdentity authenticates temporary credentials as the middleware does.
func (f *fixture) sessionIdentity(t *testing.T, c Credentials) (*auth.Identity, error) {
	t.Helper()
	id, secret, err := f.svc.SessionCredentials(ctx, c.AccessKeyID, c.SessionToken)
	if err != nil {
		return nil, err
	}
	if secret != c.SecretAccessKey {
		t.Fatalf("the session's secret does not round-trip")
	}
	id.AccountID, id.AccessKeyID, id.Method = account, c.AccessKeyID, auth.MethodSigV4
	return id, nil
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := apierr.As(err)
	if !ok || e.Type != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func TestAssumeRoleSessions(t *testing.T) {
	f := newFixture(t)
	alice := f.user(t, "alice")
	bob := f.user(t, "bob")
	f.role(t, "Writer", trusting(alice.PrincipalARN), "arn:aws:iam::aws:policy/AmazonPrometheusRemoteWriteAccess")
	ws := "arn:aws:aps:us-east-1:123456789012:workspace/ws-1"

	out, err := f.svc.AssumeRole(ctx, alice, AssumeRoleInput{RoleARN: f.svc.RoleARN("/", "Writer"), SessionName: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.sessionIdentity(t, out.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	if id.PrincipalARN != "arn:aws:sts::123456789012:assumed-role/Writer/s1" || !id.IsRoleSession() {
		t.Fatalf("identity %+v", id)
	}
	if err := f.svc.Authorize(ctx, id, "aps:RemoteWrite", ws); err != nil {
		t.Fatalf("the role's policy: %v", err)
	}
	if err := f.svc.Authorize(ctx, id, "aps:DeleteWorkspace", ws); err == nil {
		t.Fatal("beyond the role's policy")
	}
	// Nobody else is trusted; a missing role looks the same.
	if _, err := f.svc.AssumeRole(ctx, bob, AssumeRoleInput{RoleARN: f.svc.RoleARN("/", "Writer"), SessionName: "s1"}); err == nil {
		t.Fatal("bob assumed a role that trusts only alice")
	}
	_, err = f.svc.AssumeRole(ctx, alice, AssumeRoleInput{RoleARN: f.svc.RoleARN("/", "Nope"), SessionName: "s1"})
	wantCode(t, err, "AccessDenied")

	// Tampering: one byte, another key's token, a token sealed with
	// another installation's key.
	raw, _ := base64.StdEncoding.DecodeString(out.Credentials.SessionToken)
	raw[len(raw)/2] ^= 1
	_, _, err = f.svc.SessionCredentials(ctx, out.Credentials.AccessKeyID, base64.StdEncoding.EncodeToString(raw))
	wantAuthErr(t, err, "altered")
	_, _, err = f.svc.SessionCredentials(ctx, "ASIAAAAAAAAAAAAAAAAA", out.Credentials.SessionToken)
	wantAuthErr(t, err, "not issued for access key")
	_, _, err = f.svc.SessionCredentials(ctx, out.Credentials.AccessKeyID, "")
	wantAuthErr(t, err, "need their session token")
	_, _, err = f.svc.SessionCredentials(ctx, "AKIAAAAAAAAAAAAAAAAA", out.Credentials.SessionToken)
	wantAuthErr(t, err, "long-term key")

	// A client cannot make a token of its own choosing: the seal needs the
	// installation's key.
	forged, _ := json.Marshal(sealedSession{Version: 1, KeyID: "ASIAFORGEDFORGEDFORG", Secret: "x", Session: auth.Session{RoleID: "AROAX", Expires: time.Now().Add(time.Hour)}})
	_, _, err = f.svc.SessionCredentials(ctx, "ASIAFORGEDFORGEDFORG", base64.StdEncoding.EncodeToString(forged))
	wantAuthErr(t, err, "altered")

	// Expiry.
	f.clock.Advance(time.Hour)
	_, _, err = f.svc.SessionCredentials(ctx, out.Credentials.AccessKeyID, out.Credentials.SessionToken)
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Code != auth.CodeExpiredToken {
		t.Fatalf("expired: %v", err)
	}

	// Deleting the role ends its sessions at once on this node; a new role
	// of the same name (a new id) does not bring them back.
	out, err = f.svc.AssumeRole(ctx, alice, AssumeRoleInput{RoleARN: f.svc.RoleARN("/", "Writer"), SessionName: "s2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DetachRolePolicy(ctx, "Writer", "arn:aws:iam::aws:policy/AmazonPrometheusRemoteWriteAccess"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteRole(ctx, "Writer"); err != nil {
		t.Fatal(err)
	}
	f.role(t, "Writer", trusting(alice.PrincipalARN))
	_, err = f.sessionIdentity(t, out.Credentials)
	wantAuthErr(t, err, "no longer exists")
}

func TestTrustThroughTheAccount(t *testing.T) {
	f := newFixture(t)
	alice := f.user(t, "alice")
	f.role(t, "Shared", trusting(account))
	arn := f.svc.RoleARN("/", "Shared")
	// The account root delegates to alice's own policies: none yet.
	if _, err := f.svc.AssumeRole(ctx, alice, AssumeRoleInput{RoleARN: arn, SessionName: "s1"}); err == nil {
		t.Fatal("assumed through the account root without an identity policy")
	}
	if err := f.svc.PutInlinePolicy(ctx, OwnerUser, "alice", "assume", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":%q}]}`, arn)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AssumeRole(ctx, alice, AssumeRoleInput{RoleARN: arn, SessionName: "s1"}); err != nil {
		t.Fatalf("with an identity policy: %v", err)
	}
	// An explicit Deny in alice's policies wins even over a trust policy
	// that names her.
	f.role(t, "Named", trusting(alice.PrincipalARN))
	if err := f.svc.PutInlinePolicy(ctx, OwnerUser, "alice", "deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AssumeRole(ctx, alice, AssumeRoleInput{RoleARN: f.svc.RoleARN("/", "Named"), SessionName: "s1"}); err == nil {
		t.Fatal("an explicit deny in the caller's policy was ignored")
	}
}

// Attack: escalating through IAM. A user allowed only to create roles
// cannot give one more power, nor make one that trusts them and carries
// an administrator policy; a session policy cannot widen a role.
func TestPrivilegeEscalation(t *testing.T) {
	f := newFixture(t)
	mallory := f.user(t, "mallory")
	if err := f.svc.PutInlinePolicy(ctx, OwnerUser, "mallory", "create", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateRole","sts:AssumeRole"],"Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	roleARN := f.svc.RoleARN("/", "mine")
	if err := f.svc.Authorize(ctx, mallory, "iam:CreateRole", roleARN); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:CreatePolicyVersion", "iam:AttachUserPolicy", "iam:PutUserPolicy"} {
		if err := f.svc.Authorize(ctx, mallory, action, roleARN); err == nil {
			t.Errorf("mallory may %s", action)
		}
	}
	// A role she made (trusting herself) has no permissions of its own.
	f.role(t, "mine", trusting(mallory.PrincipalARN))
	out, err := f.svc.AssumeRole(ctx, mallory, AssumeRoleInput{RoleARN: roleARN, SessionName: "esc",
		Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.sessionIdentity(t, out.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"iam:AttachRolePolicy", "aps:DeleteWorkspace", "iam:CreateRole"} {
		if err := f.svc.Authorize(ctx, id, action, "*"); err == nil {
			t.Errorf("a session policy of * widened the role to %s", action)
		}
	}
	// A session policy naming a managed policy that grants more does not widen either.
	out, err = f.svc.AssumeRole(ctx, mallory, AssumeRoleInput{RoleARN: roleARN, SessionName: "esc2", PolicyARNs: []string{AdministratorAccess}})
	if err != nil {
		t.Fatal(err)
	}
	if id, err = f.sessionIdentity(t, out.Credentials); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Authorize(ctx, id, "aps:ListWorkspaces", "*"); err == nil {
		t.Error("AdministratorAccess as a session policy widened the role")
	}
}

func TestSessionBounds(t *testing.T) {
	f := newFixture(t)
	alice := f.user(t, "alice")
	f.role(t, "R", trusting(alice.PrincipalARN))
	arn := f.svc.RoleARN("/", "R")
	tags := map[string]string{}
	for i := range 51 {
		tags[fmt.Sprintf("k%d", i)] = "v"
	}
	bad := []struct {
		in   AssumeRoleInput
		code string
	}{
		{AssumeRoleInput{RoleARN: arn, SessionName: "s"}, "ValidationError"},
		{AssumeRoleInput{RoleARN: arn, SessionName: "s1", Duration: 2 * time.Hour}, "ValidationError"},
		{AssumeRoleInput{RoleARN: arn, SessionName: "s1", Duration: time.Minute}, "ValidationError"},
		{AssumeRoleInput{RoleARN: arn, SessionName: "s1", Tags: tags}, "ValidationError"},
		{AssumeRoleInput{RoleARN: arn, SessionName: "s1", Policy: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"` + strings.Repeat("a", 2100) + `"}]}`}, "ValidationError"},
		{AssumeRoleInput{RoleARN: arn, SessionName: "s1", Policy: `{"Statement":"nope"}`}, "MalformedPolicyDocumentException"},
		{AssumeRoleInput{RoleARN: arn, SessionName: "s1", ExternalID: "x"}, "ValidationError"},
		{AssumeRoleInput{RoleARN: arn, SessionName: "s1", Tags: map[string]string{"a": "b"}, TransitiveKeys: []string{"c"}}, "InvalidParameterValue"},
		{AssumeRoleInput{RoleARN: arn, SessionName: "s1", PolicyARNs: []string{"arn:aws:iam::123456789012:policy/none"}}, "ValidationError"},
	}
	for _, tc := range bad {
		_, err := f.svc.AssumeRole(ctx, alice, tc.in)
		wantCode(t, err, tc.code)
	}
	// Trust and role policy documents are bounded as IAM's quotas say.
	long := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + account + `"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"` + strings.Repeat("e", 2048) + `"}}}]}`
	_, err := f.svc.CreateRole(ctx, CreateRoleInput{Name: "Long", TrustPolicy: long})
	wantCode(t, err, "LimitExceededException")
	// Role chaining is limited to an hour.
	out, err := f.svc.AssumeRole(ctx, alice, AssumeRoleInput{RoleARN: arn, SessionName: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := f.sessionIdentity(t, out.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UpdateAssumeRolePolicy(ctx, "R", trusting(f.svc.RoleARN("/", "R"))); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UpdateRole(ctx, "R", nil, ptr(int64(7200))); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.AssumeRole(ctx, sess, AssumeRoleInput{RoleARN: arn, SessionName: "s2", Duration: 2 * time.Hour})
	wantCode(t, err, "ValidationError")
	if _, err := f.svc.AssumeRole(ctx, sess, AssumeRoleInput{RoleARN: arn, SessionName: "s2"}); err != nil {
		t.Fatalf("chained within the hour: %v", err)
	}
	// GetSessionToken is for long-term keys only.
	alice.Method = auth.MethodSigV4
	if _, err := f.svc.GetSessionToken(ctx, alice, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetSessionToken(ctx, sess, 0); err == nil {
		t.Fatal("GetSessionToken with session credentials")
	}
}

func ptr[T any](v T) *T { return &v }

// The condition keys of a role session.
func TestSessionConditionKeys(t *testing.T) {
	f := newFixture(t)
	alice := f.user(t, "alice")
	r := f.role(t, "R", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+alice.PrincipalARN+`"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`)
	if err := f.svc.TagPrincipal(ctx, OwnerRole, "R", map[string]string{"team": "obs", "tier": "gold"}); err != nil {
		t.Fatal(err)
	}
	out, err := f.svc.AssumeRole(ctx, alice, AssumeRoleInput{RoleARN: r.ARN, SessionName: "s1", Tags: map[string]string{"tier": "silver"}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.sessionIdentity(t, out.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	_, tags, err := f.svc.principalOf(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	c := f.svc.requestContext(ctx, id, tags)
	want := map[string]string{
		"aws:PrincipalArn": r.ARN, "aws:userid": r.ID + ":s1", "aws:PrincipalType": "AssumedRole", "aws:PrincipalTag/team": "obs",
		"aws:PrincipalTag/tier": "silver", "aws:MultiFactorAuthPresent": "false", "aws:TokenIssueTime": f.clock.Now().UTC().Format(time.RFC3339),
	}
	for k, v := range want {
		if got := c[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %v, want %s", k, got, v)
		}
	}
	if _, ok := c["aws:username"]; ok {
		t.Error("a role session has no aws:username")
	}
	// Long-term keys have no aws:MultiFactorAuthPresent: Null says true,
	// and BoolIfExists false holds.
	uc := f.svc.requestContext(ctx, alice, nil)
	p := policy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*",
	  "Condition":{"Null":{"aws:MultiFactorAuthPresent":"true"},"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`)
	if d := policy.Evaluate([]policy.NamedPolicy{{Name: "p", Policy: p}}, policy.Request{Action: "aps:ListWorkspaces", Resource: "*", Context: uc}); !d.Allowed() {
		t.Errorf("long-term keys: %v", d)
	}
	if d := policy.Evaluate([]policy.NamedPolicy{{Name: "p", Policy: p}}, policy.Request{Action: "aps:ListWorkspaces", Resource: "*", Context: c}); d.Allowed() {
		t.Errorf("a session has the key (false): Null true must not hold: %v", d)
	}
}

// testIssuer is an OIDC issuer on loopback.
type testIssuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newTestIssuer(t *testing.T, mux func(iss *testIssuer) http.Handler) *testIssuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &testIssuer{key: key}
	if mux == nil {
		mux = func(iss *testIssuer) http.Handler {
			m := http.NewServeMux()
			m.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
				_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss.srv.URL, "jwks_uri": iss.srv.URL + "/keys"})
			})
			m.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
				_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig", Algorithm: "RS256"}}})
			})
			return m
		}
	}
	iss.srv = httptest.NewTLSServer(mux(iss))
	t.Cleanup(iss.srv.Close)
	return iss
}

func (iss *testIssuer) token(t *testing.T, key *rsa.PrivateKey, issuer, sub, aud string, exp time.Time) string {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: issuer, Subject: sub, Audience: jwt.Audience{aud}, Expiry: jwt.NewNumericDate(exp)}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) oidcThroughFirewall(t *testing.T, iss *testIssuer, allow []string) {
	fw, err := egress.New(egress.Config{AllowNetworks: allow, MaxRequestBytes: 1 << 16, MaxResponseBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.SetOIDCOptions(OIDCOptions{Dial: fw.DialContext, RootCAs: iss.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, Timeout: 2 * time.Second, MaxBody: 4096})
}

// Attack: an issuer on loopback (or a metadata address) is not fetched
// unless the operator opened its network; redirects to other hosts, big
// answers and slow issuers are refused.
func TestOIDCKeyFetchIsBounded(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(time.Now()) // tokens are checked against the clock
	iss := newTestIssuer(t, nil)
	if _, err := f.svc.CreateOIDCProvider(ctx, CreateOIDCProviderInput{URL: iss.srv.URL, ClientIDs: []string{"sts.amazonaws.com"}}); err != nil {
		t.Fatal(err)
	}
	tok := iss.token(t, iss.key, iss.srv.URL, "sub-1", "sts.amazonaws.com", time.Now().Add(time.Hour))

	f.oidcThroughFirewall(t, iss, nil)
	_, err := f.svc.VerifyWebIdentity(ctx, tok)
	var idp *idpError
	if !errors.As(err, &idp) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("a loopback issuer without the operator's consent: %v", err)
	}
	f.oidcThroughFirewall(t, iss, []string{"127.0.0.0/8"})
	wi, err := f.svc.VerifyWebIdentity(ctx, tok)
	if err != nil || wi.Subject != "sub-1" {
		t.Fatalf("an allowed issuer: %+v %v", wi, err)
	}

	// Hostile issuers.
	for name, h := range map[string]func(iss *testIssuer) http.Handler{
		"redirect to another host": func(iss *testIssuer) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://169.254.169.254/latest/meta-data/", http.StatusFound)
			})
		},
		"huge answer": func(iss *testIssuer) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`{"issuer":"` + strings.Repeat("x", 1<<16) + `"}`))
			})
		},
		"slow": func(iss *testIssuer) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-time.After(5 * time.Second):
				case <-r.Context().Done():
				}
			})
		},
	} {
		bad := newTestIssuer(t, h)
		f2 := newFixture(t)
		f2.clock.Set(time.Now())
		if _, err := f2.svc.CreateOIDCProvider(ctx, CreateOIDCProviderInput{URL: bad.srv.URL, ClientIDs: []string{"a"}}); err != nil {
			t.Fatal(err)
		}
		f2.oidcThroughFirewall(t, bad, []string{"127.0.0.0/8"})
		start := time.Now()
		_, err := f2.svc.VerifyWebIdentity(ctx, bad.token(t, bad.key, bad.srv.URL, "s", "a", time.Now().Add(time.Hour)))
		if !errors.As(err, &idp) || time.Since(start) > 4*time.Second {
			t.Errorf("%s: %v after %s", name, err, time.Since(start))
		}
	}

	// Provider URLs must be https; tokens are bounded.
	_, err = f.svc.CreateOIDCProvider(ctx, CreateOIDCProviderInput{URL: "http://169.254.169.254/", ClientIDs: []string{"a"}})
	wantCode(t, err, "InvalidInputException")
	_, err = f.svc.VerifyWebIdentity(ctx, strings.Repeat("a", MaxWebIdentityTokenLength+1))
	var iit *invalidIdentityTokenError
	if !errors.As(err, &iit) {
		t.Fatalf("an oversized token: %v", err)
	}
	// alg "none" is never accepted.
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+iss.srv.URL+`","sub":"x","aud":"sts.amazonaws.com","exp":9999999999}`)) + "."
	if _, err := f.svc.VerifyWebIdentity(ctx, none); !errors.As(err, &iit) {
		t.Fatalf("alg none: %v", err)
	}
}

// Inline keys serve air-gapped installations: no fetch at all.
func TestOIDCInlineKeys(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(time.Now())
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig", Algorithm: "RS256"}}})
	issuer := "https://oidc.cluster.internal/id/ABC"
	if _, err := f.svc.CreateOIDCProvider(ctx, CreateOIDCProviderInput{URL: issuer, ClientIDs: []string{"sts.amazonaws.com"}, JWKS: string(jwks)}); err != nil {
		t.Fatal(err)
	}
	iss := &testIssuer{}
	if _, err := f.svc.VerifyWebIdentity(ctx, iss.token(t, key, issuer, "s", "sts.amazonaws.com", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1"}}})
	_, err := f.svc.CreateOIDCProvider(ctx, CreateOIDCProviderInput{URL: "https://other.example", ClientIDs: []string{"a"}, JWKS: string(priv)})
	wantCode(t, err, "InvalidInputException")
}

// TestRolePaths: IAM's path is /, or / ... / of printable ASCII, at most
// 512 characters.
func TestRolePaths(t *testing.T) {
	f := newFixture(t)
	alice := f.user(t, "alice")
	long := "/" + strings.Repeat("p", 510) + "/"
	for i, tc := range []struct {
		path string
		ok   bool
	}{
		{"/", true},
		{"/team/ops/", true},
		{long, true},
		{"/" + strings.Repeat("p", 511) + "/", false}, // 513 characters
		{"team/", false},
		{"/team", false},
		{"/te am/", false},
		{"/tëam/", false},
	} {
		_, err := f.svc.CreateRole(ctx, CreateRoleInput{Name: fmt.Sprintf("R%d", i), Path: tc.path, TrustPolicy: trusting(alice.PrincipalARN)})
		if (err == nil) != tc.ok {
			t.Errorf("path %.40q (%d characters): %v, want ok=%v", tc.path, len(tc.path), err, tc.ok)
		}
	}
}
