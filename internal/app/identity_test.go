package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kansoku/kansoku/internal/testenv"
)

// queryCall sends a query-protocol form to POST /, signed for service
// (none when empty), and returns the status, the error code header and
// the body.
func queryCall(t *testing.T, s *testenv.Server, service string, form url.Values, extra string) (int, string, string) {
	t.Helper()
	body := form.Encode() + extra
	req, _ := http.NewRequest("POST", s.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if service != "" {
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), s.Admin.Creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), string(b)
}

// The query endpoint's boundaries: only AssumeRoleWithWebIdentity goes
// unsigned, and in a small body; each service's scope reaches its own
// operations only; aps routes take no sts or iam scope.
func TestQueryEndpointBoundaries(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	who := url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}

	if code, typ, body := queryCall(t, s, "sts", who, ""); code != 200 || !strings.Contains(body, "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">") ||
		!strings.Contains(body, ":user/admin</Arn>") {
		t.Fatalf("signed GetCallerIdentity: %d %s %s", code, typ, body)
	}
	if code, typ, _ := queryCall(t, s, "", who, ""); code != 403 || typ != "MissingAuthenticationToken" {
		t.Fatalf("unsigned GetCallerIdentity: %d %s", code, typ)
	}
	if code, typ, _ := queryCall(t, s, "iam", who, ""); code != 403 || typ != "SignatureDoesNotMatch" {
		t.Fatalf("an STS operation signed for iam: %d %s", code, typ)
	}
	if code, typ, _ := queryCall(t, s, "aps", who, ""); code != 403 || typ != "SignatureDoesNotMatch" {
		t.Fatalf("POST / signed for aps: %d %s", code, typ)
	}
	if code, typ, body := queryCall(t, s, "sts", url.Values{"Action": {"NoSuchThing"}}, ""); code != 400 || typ != "InvalidAction" || !strings.Contains(body, "<Type>Sender</Type>") {
		t.Fatalf("unknown action: %d %s %s", code, typ, body)
	}
	if code, typ, _ := queryCall(t, s, "iam", url.Values{"Action": {"ListUsers"}}, "&Action=ListUsers"); code != 400 || typ != "MalformedQueryString" {
		t.Fatalf("a repeated parameter: %d %s", code, typ)
	}
	web := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}, "RoleArn": {"arn:aws:iam::" + s.App.Info().Account.ID + ":role/x"},
		"RoleSessionName": {"s1"}, "WebIdentityToken": {"not-a-jwt"}}
	if code, typ, _ := queryCall(t, s, "", web, ""); code != 400 || typ != "InvalidIdentityToken" {
		t.Fatalf("unsigned AssumeRoleWithWebIdentity: %d %s", code, typ)
	}
	web.Set("WebIdentityToken", strings.Repeat("a", 40<<10))
	if code, typ, _ := queryCall(t, s, "", web, ""); code != 413 {
		t.Fatalf("a large unsigned body: %d %s", code, typ)
	}
	// An aps route refuses the sts scope.
	req, _ := http.NewRequest("GET", s.URL+"/workspaces", nil)
	sum := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(context.Background(), s.Admin.Creds, req, hex.EncodeToString(sum[:]), "sts", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "InvalidSignatureException" {
		t.Fatalf("ListWorkspaces signed for sts: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}
