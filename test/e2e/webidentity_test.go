package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// oidcIssuer is a small OpenID Connect issuer on loopback (TLS): its
// discovery document and JWKS, and tokens signed with its key, as a
// Kubernetes API server issues service-account tokens for IRSA.
type oidcIssuer struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	caFile string
}

func newOIDCIssuer(t *testing.T) *oidcIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &oidcIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss.srv.URL, "jwks_uri": iss.srv.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	iss.srv = httptest.NewTLSServer(mux)
	t.Cleanup(iss.srv.Close)
	iss.caFile = filepath.Join(t.TempDir(), "issuer-ca.pem")
	if err := os.WriteFile(iss.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: iss.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return iss
}

// host is the issuer URL without https:// (its condition keys' prefix).
func (o *oidcIssuer) host() string { return strings.TrimPrefix(o.srv.URL, "https://") }

// token signs claims with key (the issuer's when nil) as kid k1.
func (o *oidcIssuer) token(t *testing.T, key *rsa.PrivateKey, issuer, sub, aud string, exp time.Time) string {
	t.Helper()
	if key == nil {
		key = o.key
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: issuer, Subject: sub, Audience: jwt.Audience{aud},
		IssuedAt: jwt.NewNumericDate(time.Now().Add(-time.Minute)), Expiry: jwt.NewNumericDate(exp)}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func writeToken(t *testing.T, tok string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestWebIdentityIRSA is IRSA's flow against Kansoku: an OIDC provider
// registered with `aws iam create-open-id-connect-provider`, a role whose
// trust policy names it with a condition on the service account, and the
// AWS CLI and Prometheus finding the role through AWS_ROLE_ARN and
// AWS_WEB_IDENTITY_TOKEN_FILE as EKS sets them. Tokens from another
// issuer, for another audience or subject, expired or signed by another
// key are refused.
func TestWebIdentityIRSA(t *testing.T) {
	iss := newOIDCIssuer(t)
	s := startServer(t, "", "--iam.oidc-allow-network=127.0.0.0/8", "--iam.oidc-ca-file="+iss.caFile)
	admin := cli{t: t, bin: need(t, "/usr/bin/aws"), env: awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1"), url: s.URL}
	var me struct{ Account string }
	admin.ok(&me, "sts", "get-caller-identity")
	ws := createWorkspace(t, s.Admin, "irsa")

	var prov struct{ OpenIDConnectProviderArn string }
	admin.ok(&prov, "iam", "create-open-id-connect-provider", "--url", iss.srv.URL, "--client-id-list", "sts.amazonaws.com",
		"--thumbprint-list", "9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
	if prov.OpenIDConnectProviderArn != "arn:aws:iam::"+me.Account+":oidc-provider/"+iss.host() {
		t.Fatalf("provider ARN: %+v", prov)
	}
	var got struct {
		Url            string
		ClientIDList   []string
		ThumbprintList []string
	}
	admin.ok(&got, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", prov.OpenIDConnectProviderArn)
	if got.Url != iss.host() || len(got.ClientIDList) != 1 || len(got.ThumbprintList) != 1 {
		t.Fatalf("get-open-id-connect-provider: %+v", got)
	}
	sub := "system:serviceaccount:monitoring:prometheus"
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity",
	  "Condition":{"StringEquals":{%q:%q,%q:"sts.amazonaws.com"}}}]}`, prov.OpenIDConnectProviderArn, iss.host()+":sub", sub, iss.host()+":aud")
	roleARN := "arn:aws:iam::" + me.Account + ":role/amp-ingest"
	admin.ok(nil, "iam", "create-role", "--role-name", "amp-ingest", "--assume-role-policy-document", trust)
	admin.ok(nil, "iam", "attach-role-policy", "--role-name", "amp-ingest", "--policy-arn", "arn:aws:iam::aws:policy/AmazonPrometheusRemoteWriteAccess")
	admin.ok(nil, "iam", "put-role-policy", "--role-name", "amp-ingest", "--policy-name", "list", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*"}]}`)

	good := iss.token(t, nil, iss.srv.URL, sub, "sts.amazonaws.com", time.Now().Add(time.Hour))

	// The unsigned STS call, by the CLI v2.
	anon := cli{t: t, bin: admin.bin, url: s.URL, env: []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1", "AWS_PAGER="}}
	var wi struct {
		stsCreds
		SubjectFromWebIdentityToken, Provider, Audience string
	}
	anon.ok(&wi, "sts", "assume-role-with-web-identity", "--role-arn", roleARN, "--role-session-name", "prom", "--web-identity-token", good)
	if wi.SubjectFromWebIdentityToken != sub || wi.Audience != "sts.amazonaws.com" || wi.Provider != iss.host() ||
		wi.AssumedRoleUser.Arn != "arn:aws:sts::"+me.Account+":assumed-role/amp-ingest/prom" {
		t.Fatalf("assume-role-with-web-identity: %+v", wi)
	}
	admin.with(wi.env()...).ok(nil, "amp", "list-workspaces")

	// Refusals.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, tc := range map[string]struct{ tok, code string }{
		"another key":           {iss.token(t, other, iss.srv.URL, sub, "sts.amazonaws.com", time.Now().Add(time.Hour)), "InvalidIdentityToken"},
		"unregistered issuer":   {iss.token(t, nil, "https://issuer.invalid", sub, "sts.amazonaws.com", time.Now().Add(time.Hour)), "InvalidIdentityToken"},
		"wrong audience":        {iss.token(t, nil, iss.srv.URL, sub, "someone-else", time.Now().Add(time.Hour)), "InvalidIdentityToken"},
		"expired":               {iss.token(t, nil, iss.srv.URL, sub, "sts.amazonaws.com", time.Now().Add(-10*time.Minute)), "ExpiredToken"},
		"other service account": {iss.token(t, nil, iss.srv.URL, "system:serviceaccount:default:intruder", "sts.amazonaws.com", time.Now().Add(time.Hour)), "AccessDenied"},
		"not a JWT":             {"not-a-jwt", "InvalidIdentityToken"},
	} {
		out := anon.fails(tc.code, "sts", "assume-role-with-web-identity", "--role-arn", roleARN, "--role-session-name", "prom", "--web-identity-token", tc.tok)
		if strings.Contains(out, "ASIA") {
			t.Fatalf("%s: credentials in a refusal: %s", name, out)
		}
	}
	// Other operations stay signed.
	anon.fails("MissingAuthenticationToken", "sts", "get-caller-identity", "--no-sign-request")

	// The CLI v1 as IRSA configures it.
	tokenFile := writeToken(t, good)
	irsa := anon.with("AWS_ROLE_ARN="+roleARN, "AWS_WEB_IDENTITY_TOKEN_FILE="+tokenFile, "AWS_ROLE_SESSION_NAME=irsa-cli", "AWS_ENDPOINT_URL_STS="+s.URL)
	irsa.bin = awsV1(t)
	var who struct{ Arn string }
	irsa.ok(&who, "sts", "get-caller-identity")
	if who.Arn != "arn:aws:sts::"+me.Account+":assumed-role/amp-ingest/irsa-cli" {
		t.Fatalf("web identity through the environment: %+v", who)
	}
	irsa.ok(nil, "amp", "list-workspaces")

	// An issuer Kansoku cannot reach (air-gapped): its keys given inline
	// with `kansoku iam set-oidc-keys`.
	const offline = "https://oidc.cluster.invalid/id/AIRGAP"
	var offProv struct{ OpenIDConnectProviderArn string }
	admin.ok(&offProv, "iam", "create-open-id-connect-provider", "--url", offline, "--client-id-list", "sts.amazonaws.com", "--thumbprint-list", "9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
	offTrust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity",
	  "Condition":{"StringEquals":{"oidc.cluster.invalid/id/AIRGAP:sub":%q}}}]}`, offProv.OpenIDConnectProviderArn, sub)
	admin.ok(nil, "iam", "create-role", "--role-name", "airgapped", "--assume-role-policy-document", offTrust)
	offTok := iss.token(t, nil, offline, sub, "sts.amazonaws.com", time.Now().Add(time.Hour))
	anon.fails("IDPCommunicationError", "sts", "assume-role-with-web-identity", "--role-arn", "arn:aws:iam::"+me.Account+":role/airgapped",
		"--role-session-name", "off", "--web-identity-token", offTok)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &iss.key.PublicKey, KeyID: "k1", Use: "sig", Algorithm: "RS256"}}})
	jwksFile := writeToken(t, string(jwks))
	if out, code := s.kansoku(t, "iam", "set-oidc-keys", offProv.OpenIDConnectProviderArn, "--jwks", jwksFile); code != 0 {
		t.Fatalf("kansoku iam set-oidc-keys: %s", out)
	}
	anon.ok(nil, "sts", "assume-role-with-web-identity", "--role-arn", "arn:aws:iam::"+me.Account+":role/airgapped",
		"--role-session-name", "off", "--web-identity-token", offTok)

	// Prometheus 3.15 as on EKS: the token file, the role, remote_write with sigv4.
	cfg := fmt.Sprintf(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ['127.0.0.1:%%d']
remote_write:
  - url: %s/workspaces/%s/api/v1/remote_write
    sigv4:
      region: us-east-1
    queue_config:
      batch_send_deadline: 500ms
`, s.URL, ws)
	port := freePort(t)
	cfg = fmt.Sprintf(cfg, port)
	p := startPrometheusEnv(t, cfg, []string{"HOME=" + t.TempDir(), "AWS_ROLE_ARN=" + roleARN, "AWS_WEB_IDENTITY_TOKEN_FILE=" + tokenFile,
		"AWS_ENDPOINT_URL_STS=" + s.URL, "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true"}, fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	waitFor(t, 60*time.Second, "samples Prometheus wrote with its web identity", func() bool {
		var r struct {
			Data struct{ Result []any } `json:"data"`
		}
		err := s.Admin.JSON(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {`up{job="self"}`}}, nil, &r)
		return err == nil && len(r.Data.Result) == 1
	})
	if l := p.log(); strings.Contains(l, "HTTP status 4") {
		t.Fatalf("Prometheus was refused:\n%s", lastLines(l, 20))
	}

	// `kansoku iam revoke-role-sessions` ends the sessions issued so far.
	if out, code := s.kansoku(t, "iam", "revoke-role-sessions", "amp-ingest"); code != 0 || !strings.Contains(out, "AWSRevokeOlderSessions") {
		t.Fatalf("kansoku iam revoke-role-sessions: %s", out)
	}
	admin.with(wi.env()...).fails("AccessDeniedException", "amp", "list-workspaces")
}
