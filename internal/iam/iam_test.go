package iam

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/secrets"
	"github.com/kansoku/kansoku/internal/testenv/fakeclock"
)

const account = "123456789012"

var ctx = context.Background()

func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)) }

type fixture struct {
	db    *metastore.DB
	box   *secrets.Box
	clock *fakeclock.Clock
	svc   *Service
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db, err := metastore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "kansoku.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateAccount(ctx, metastore.Account{ID: account, Region: "us-east-1", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	box, err := secrets.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, box: box, clock: newClock()}
	f.svc = f.node()
	return f
}

// node is a Service over the fixture's store and clock, as another server
// sharing the metadata database would be.
func (f *fixture) node() *Service {
	s := New(f.db, f.box, account, slog.New(slog.DiscardHandler), 10*time.Second)
	s.now = f.clock.Now
	return s
}

func (f *fixture) user(t *testing.T, name string, policies ...string) *auth.Identity {
	t.Helper()
	p, err := f.svc.CreateUser(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range policies {
		if err := f.svc.AttachUserPolicy(ctx, name, arn); err != nil {
			t.Fatal(err)
		}
	}
	return &auth.Identity{AccountID: account, PrincipalID: p.ID, PrincipalName: p.Name, PrincipalARN: p.ARN}
}

func wantAuthErr(t *testing.T, err error, want string) {
	t.Helper()
	var ae *auth.Error
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, want) {
		t.Fatalf("want an authentication error saying %q, got %v", want, err)
	}
}

func TestUserNames(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"alice", "ci+deploy", "a.b@c=d,e_f-g", strings.Repeat("x", 64)} {
		if _, err := f.svc.CreateUser(ctx, name); err != nil {
			t.Errorf("CreateUser(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "has space", "slash/y", strings.Repeat("x", 65), "ユーザー"} {
		if _, err := f.svc.CreateUser(ctx, name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("CreateUser(%q) = %v, want ErrInvalidName", name, err)
		}
	}
	if _, err := f.svc.CreateUser(ctx, "alice"); !errors.Is(err, ErrExists) {
		t.Errorf("second alice: %v, want ErrExists", err)
	}
	if _, err := f.svc.User(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	if got := f.svc.UserARN("alice"); got != "arn:aws:iam::123456789012:user/alice" {
		t.Errorf("UserARN = %s", got)
	}
}

// An access key's secret is stored sealed, bound to the key's id, and only
// an active key authenticates.
func TestAccessKeys(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice")
	k, err := f.svc.CreateAccessKey(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.AccessKeyID, "AKIA") || len(k.SecretAccessKey) < 40 {
		t.Fatalf("key %+v", k)
	}
	row, err := f.db.GetAccessKey(ctx, k.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(row.SecretSealed, []byte(k.SecretAccessKey)) {
		t.Fatal("the secret is stored in clear")
	}
	if _, err := f.box.Open(row.SecretSealed, []byte("AKIAOTHERKEY")); err == nil {
		t.Fatal("the sealed secret opens for another key id")
	}
	p, secret, err := f.svc.AccessKeySecret(ctx, k.AccessKeyID)
	if err != nil || secret != k.SecretAccessKey || p.Name != "alice" || p.ARN != f.svc.UserARN("alice") {
		t.Fatalf("AccessKeySecret = %+v %q %v", p, secret, err)
	}
	if owner, err := f.svc.KeyOwner(ctx, k.AccessKeyID); err != nil || owner != "alice" {
		t.Fatalf("KeyOwner = %q %v", owner, err)
	}

	if err := f.svc.SetAccessKeyStatus(ctx, k.AccessKeyID, "Disabled"); err == nil {
		t.Fatal("a status other than Active or Inactive was accepted")
	}
	if err := f.svc.SetAccessKeyStatus(ctx, k.AccessKeyID, StatusInactive); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.AccessKeySecret(ctx, k.AccessKeyID)
	wantAuthErr(t, err, "is inactive") // at once: this node forgot its cached copy
	if err := f.svc.SetAccessKeyStatus(ctx, k.AccessKeyID, StatusActive); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.AccessKeySecret(ctx, k.AccessKeyID); err != nil {
		t.Fatalf("reactivated key: %v", err)
	}
	if err := f.svc.DeleteAccessKey(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.AccessKeySecret(ctx, k.AccessKeyID)
	wantAuthErr(t, err, "is not known")
	if err := f.svc.DeleteAccessKey(ctx, k.AccessKeyID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := f.svc.CreateAccessKey(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("key for an unknown user: %v", err)
	}
}

// A credential changed through another node is seen here once the cache
// entry is older than the TTL, and not before: the cache is what keeps a
// remote_write from costing a database read.
func TestCredentialCacheTTL(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice")
	k, err := f.svc.CreateAccessKey(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	other := f.node()
	if _, _, err := f.svc.AccessKeySecret(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if err := other.SetAccessKeyStatus(ctx, k.AccessKeyID, StatusInactive); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Second)
	if _, _, err := f.svc.AccessKeySecret(ctx, k.AccessKeyID); err != nil {
		t.Fatalf("within the TTL the cached key still authenticates: %v", err)
	}
	f.clock.Advance(time.Second)
	_, _, err = f.svc.AccessKeySecret(ctx, k.AccessKeyID)
	wantAuthErr(t, err, "is inactive")
}

// An API token is stored as the hash of its secret, and expires.
func TestAPITokens(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice")
	tok, err := f.svc.CreateAPIToken(ctx, "alice", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Name != "token" || !tok.ExpiresAt.Equal(f.clock.Now().Add(time.Hour)) {
		t.Fatalf("token %+v", tok)
	}
	id, secret, ok := auth.ParseAPIToken(tok.Token)
	if !ok || id != tok.ID {
		t.Fatalf("token %q does not parse to its id %s", tok.Token, tok.ID)
	}
	row, err := f.db.GetAPIToken(ctx, tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(row.SecretHash, auth.HashTokenSecret(secret)) || bytes.Contains(row.SecretHash, []byte(secret)) {
		t.Fatal("the store holds something other than the secret's hash")
	}
	p, hash, err := f.svc.APIToken(ctx, tok.ID)
	if err != nil || p.Name != "alice" || !bytes.Equal(hash, row.SecretHash) {
		t.Fatalf("APIToken = %+v %v", p, err)
	}
	if owner, err := f.svc.TokenOwner(ctx, tok.ID); err != nil || owner != "alice" {
		t.Fatalf("TokenOwner = %q %v", owner, err)
	}
	f.clock.Advance(time.Hour + time.Second)
	_, _, err = f.svc.APIToken(ctx, tok.ID)
	wantAuthErr(t, err, "expired")

	forever, err := f.svc.CreateAPIToken(ctx, "alice", "ci", 0)
	if err != nil || !forever.ExpiresAt.IsZero() {
		t.Fatalf("a token without ttl: %+v %v", forever, err)
	}
	f.clock.Advance(10 * 365 * 24 * time.Hour)
	if _, _, err := f.svc.APIToken(ctx, forever.ID); err != nil {
		t.Fatalf("a token without ttl expired: %v", err)
	}
	if err := f.svc.DeleteAPIToken(ctx, forever.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.APIToken(ctx, forever.ID)
	wantAuthErr(t, err, "revoked")
	if _, err := f.svc.CreateAPIToken(ctx, "alice", strings.Repeat("n", 129), 0); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("a 129-character name: %v", err)
	}
}

// Deleting a user takes its credentials and its cached policies with it.
func TestDeleteUser(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice", AdministratorAccess)
	k, err := f.svc.CreateAccessKey(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.AccessKeySecret(ctx, k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.AccessKeySecret(ctx, k.AccessKeyID)
	wantAuthErr(t, err, "is not known")
	if err := f.svc.DeleteUser(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

// Authorization reads the caller's attached policies: deny by default,
// explicit Deny wins, and a change of policy or attachment applies to the
// next request.
func TestAuthorize(t *testing.T) {
	f := newFixture(t)
	ws := "arn:aws:aps:us-east-1:123456789012:workspace/ws-a"
	other := "arn:aws:aps:us-east-1:123456789012:workspace/ws-b"

	nobody := f.user(t, "nobody")
	if err := f.svc.Authorize(ctx, nobody, "aps:QueryMetrics", ws); !strings.Contains(errString(err), "no identity-based policy allows") {
		t.Fatalf("a user without policies: %v", err)
	}
	if e, ok := apierr.As(f.svc.Authorize(ctx, nobody, "aps:QueryMetrics", ws)); !ok || e.Status != 403 || e.Type != "AccessDeniedException" {
		t.Fatalf("a refusal is not AccessDeniedException/403: %v", e)
	}

	admin := f.user(t, "admin", AdministratorAccess)
	if err := f.svc.Authorize(ctx, admin, "aps:DeleteWorkspace", ws); err != nil {
		t.Fatalf("admin: %v", err)
	}
	if err := f.svc.Authorize(ctx, nil, "aps:DeleteWorkspace", ws); err == nil {
		t.Fatal("no identity was allowed")
	}
	stranger := *admin
	stranger.AccountID = "999999999999"
	if err := f.svc.Authorize(ctx, &stranger, "aps:DeleteWorkspace", ws); err == nil {
		t.Fatal("an identity of another account was allowed")
	}

	if _, err := f.svc.CreatePolicy(ctx, "query-a", "", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"aps:QueryMetrics","Resource":"`+ws+`"}]}`); err != nil {
		t.Fatal(err)
	}
	reader := f.user(t, "reader", f.svc.PolicyARN("query-a"))
	if err := f.svc.Authorize(ctx, reader, "aps:QueryMetrics", ws); err != nil {
		t.Fatalf("reader on its workspace: %v", err)
	}
	for _, c := range []struct{ action, resource string }{{"aps:QueryMetrics", other}, {"aps:RemoteWrite", ws}} {
		if err := f.svc.Authorize(ctx, reader, c.action, c.resource); err == nil {
			t.Errorf("reader allowed %s on %s", c.action, c.resource)
		}
	}

	if _, err := f.svc.CreatePolicy(ctx, "deny-a", "", `{"Version":"2012-10-17","Statement":[
		{"Sid":"NotA","Effect":"Deny","Action":"aps:*","Resource":"`+ws+`"}]}`); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AttachUserPolicy(ctx, "admin", f.svc.PolicyARN("deny-a")); err != nil {
		t.Fatal(err)
	}
	err := f.svc.Authorize(ctx, admin, "aps:QueryMetrics", ws)
	if !strings.Contains(errString(err), "explicit deny") || !strings.Contains(errString(err), "deny-a") {
		t.Fatalf("an explicit Deny beside AdministratorAccess: %v", err)
	}
	if err := f.svc.Authorize(ctx, admin, "aps:QueryMetrics", other); err != nil {
		t.Fatalf("the Deny names one workspace only: %v", err)
	}
	if err := f.svc.DetachUserPolicy(ctx, "admin", f.svc.PolicyARN("deny-a")); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Authorize(ctx, admin, "aps:QueryMetrics", ws); err != nil {
		t.Fatalf("after detaching the Deny: %v", err)
	}

	if err := f.svc.UpdatePolicy(ctx, f.svc.PolicyARN("query-a"), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"aps:QueryMetrics","Resource":"`+other+`"}]}`); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Authorize(ctx, reader, "aps:QueryMetrics", ws); err == nil {
		t.Fatal("a policy's new version did not apply to the next request")
	}

	d, err := f.svc.Simulate(ctx, "reader", "aps:QueryMetrics", other)
	if err != nil || d.PolicyName != f.svc.PolicyARN("query-a") {
		t.Fatalf("Simulate = %+v %v", d, err)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestPolicyRules(t *testing.T) {
	f := newFixture(t)
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*"}]}`
	if _, err := f.svc.CreatePolicy(ctx, "bad name", "", doc); !errors.Is(err, ErrInvalidName) {
		t.Errorf("a name with a space: %v", err)
	}
	_, err := f.svc.CreatePolicy(ctx, "broken", "", `{"Statement":[{"Effect":"Maybe"}]}`)
	if e, ok := apierr.As(err); !ok || e.Type != "MalformedPolicyDocumentException" || e.Status != 400 {
		t.Errorf("a malformed document: %v", err)
	}
	p, err := f.svc.CreatePolicy(ctx, "list", "lists workspaces", doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreatePolicy(ctx, "list", "", doc); !errors.Is(err, ErrExists) {
		t.Errorf("a second policy of the same name: %v", err)
	}
	if got, _ := f.svc.ResolvePolicyARN(ctx, "list"); got != p.ARN {
		t.Errorf("ResolvePolicyARN(list) = %s, want %s", got, p.ARN)
	}
	if got, _ := f.svc.ResolvePolicyARN(ctx, "AdministratorAccess"); got != AdministratorAccess {
		t.Errorf("ResolvePolicyARN(AdministratorAccess) = %s", got)
	}
	for _, arn := range []string{AdministratorAccess} {
		if err := f.svc.UpdatePolicy(ctx, arn, doc); err == nil {
			t.Errorf("a built-in policy was changed")
		}
		if err := f.svc.DeletePolicy(ctx, arn); err == nil {
			t.Errorf("a built-in policy was deleted")
		}
	}
	f.user(t, "alice", p.ARN)
	if err := f.svc.DeletePolicy(ctx, p.ARN); !errors.Is(err, ErrInUse) {
		t.Errorf("deleting an attached policy: %v, want ErrInUse", err)
	}
	if err := f.svc.DetachUserPolicy(ctx, "alice", p.ARN); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DetachUserPolicy(ctx, "alice", p.ARN); !errors.Is(err, ErrNotFound) {
		t.Errorf("detaching twice: %v", err)
	}
	if err := f.svc.DeletePolicy(ctx, p.ARN); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Policy(ctx, p.ARN); !errors.Is(err, ErrNotFound) {
		t.Errorf("a deleted policy: %v", err)
	}
	if err := f.svc.AttachUserPolicy(ctx, "alice", p.ARN); !errors.Is(err, ErrNotFound) {
		t.Errorf("attaching a deleted policy: %v", err)
	}
}

// The first start makes the admin user with AdministratorAccess and a key.
func TestBootstrap(t *testing.T) {
	f := newFixture(t)
	k, err := f.svc.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k.UserName != AdminUser {
		t.Fatalf("bootstrap key for %q", k.UserName)
	}
	p, _, err := f.svc.AccessKeySecret(ctx, k.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	admin := &auth.Identity{AccountID: account, PrincipalID: p.ID, PrincipalName: p.Name, PrincipalARN: p.ARN}
	if err := f.svc.Authorize(ctx, admin, "iam:CreateUser", f.svc.UserARN("anyone")); err != nil {
		t.Fatalf("the first admin cannot administer: %v", err)
	}
	if _, err := f.svc.Bootstrap(ctx); !errors.Is(err, ErrExists) {
		t.Fatalf("a second bootstrap: %v", err)
	}
}
