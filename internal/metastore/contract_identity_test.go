package metastore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// contractIdentity: roles, inline policies, policy versions, OIDC
// providers and workspace resource policies (roles.go).
func contractIdentity(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)

	role := metastore.Role{ID: "AROA1", Name: "Writer", ARN: "arn:aws:iam::1:role/Writer", Path: "/", Description: "d",
		TrustPolicy: `{"Statement":[]}`, MaxSessionSeconds: 3600, CreatedAt: now}
	if err := db.CreateRole(ctx, role); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRole(ctx, metastore.Role{ID: "AROA2", Name: "writer", ARN: "x", Path: "/", CreatedAt: now}); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("role names are unique without regard to case: %v", err)
	}
	if got, err := db.GetRoleByName(ctx, "WRITER"); err != nil || got != role {
		t.Fatalf("by name: %+v %v", got, err)
	}
	if err := db.UpdateRole(ctx, "AROA1", "new", 7200); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateRoleTrustPolicy(ctx, "AROA1", `{"v":2}`); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetRole(ctx, "AROA1"); got.Description != "new" || got.MaxSessionSeconds != 7200 || got.TrustPolicy != `{"v":2}` {
		t.Fatalf("updated: %+v", got)
	}
	if err := db.UpdateRole(ctx, "AROA-none", "", 1); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}

	pol := metastore.Policy{ARN: "arn:aws:iam::1:policy/P", Name: "P", Document: "d1", CreatedAt: now, UpdatedAt: now}
	if err := db.CreatePolicy(ctx, pol); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := db.AttachRolePolicy(ctx, "AROA1", pol.ARN, now); err != nil {
			t.Fatal(err)
		}
	}
	if a, err := db.RoleAttachedPolicies(ctx, "AROA1"); err != nil || fmt.Sprint(a) != "["+pol.ARN+"]" {
		t.Fatalf("attached: %v %v", a, err)
	}
	if n, _ := db.CountPolicyAttachments(ctx, pol.ARN); n != 1 {
		t.Fatalf("a role's attachment counts: %d", n)
	}

	// Versions: v1 is made with the policy; at most maxVersions.
	v2, err := db.CreatePolicyVersion(ctx, pol.ARN, "d2", false, 3, now.Add(time.Second))
	if err != nil || v2 != "v2" {
		t.Fatalf("v2: %q %v", v2, err)
	}
	if got, _ := db.GetPolicy(ctx, pol.ARN); got.Document != "d1" || got.DefaultVersion != "v1" {
		t.Fatalf("not made default: %+v", got)
	}
	v3, err := db.CreatePolicyVersion(ctx, pol.ARN, "d3", true, 3, now.Add(2*time.Second))
	if err != nil || v3 != "v3" {
		t.Fatalf("v3: %q %v", v3, err)
	}
	if got, _ := db.GetPolicy(ctx, pol.ARN); got.Document != "d3" || got.DefaultVersion != "v3" {
		t.Fatalf("made default: %+v", got)
	}
	if _, err := db.CreatePolicyVersion(ctx, pol.ARN, "d4", false, 3, now); !errors.Is(err, metastore.ErrLimitExceeded) {
		t.Fatalf("over the limit: %v", err)
	}
	if err := db.DeletePolicyVersion(ctx, pol.ARN, "v3"); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("the default version cannot go: %v", err)
	}
	if err := db.DeletePolicyVersion(ctx, pol.ARN, "v2"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetDefaultPolicyVersion(ctx, pol.ARN, "v1", now); err != nil {
		t.Fatal(err)
	}
	vs, err := db.ListPolicyVersions(ctx, pol.ARN)
	if err != nil || len(vs) != 2 || vs[0].VersionID != "v3" || vs[0].IsDefault || vs[1].VersionID != "v1" || !vs[1].IsDefault || vs[1].Document != "d1" {
		t.Fatalf("versions, newest first: %+v %v", vs, err)
	}
	if v, _ := db.CreatePolicyVersion(ctx, pol.ARN, "d5", false, 3, now); v != "v4" {
		t.Fatalf("version ids are never reused: %q", v)
	}
	if _, err := db.GetPolicyVersion(ctx, pol.ARN, "v2"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("deleted version: %v", err)
	}

	// Inline policies of a role and of a user.
	for _, owner := range []string{"AROA1", "AIDA1"} {
		if err := db.PutInlinePolicy(ctx, owner, "b", "doc-b", now); err != nil {
			t.Fatal(err)
		}
		if err := db.PutInlinePolicy(ctx, owner, "a", "doc-a", now); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutInlinePolicy(ctx, "AROA1", "a", "doc-a2", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if p, err := db.GetInlinePolicy(ctx, "AROA1", "a"); err != nil || p.Document != "doc-a2" || !p.UpdatedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("replaced: %+v %v", p, err)
	}
	if ps, err := db.ListInlinePolicies(ctx, "AIDA1"); err != nil || len(ps) != 2 || ps[0].Name != "a" {
		t.Fatalf("by name: %+v %v", ps, err)
	}
	if err := db.DeleteInlinePolicy(ctx, "AIDA1", "b"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteInlinePolicy(ctx, "AIDA1", "b"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}

	// A deleted role takes its attachments, inline policies and tags along.
	if err := db.SetTags(ctx, role.ARN, map[string]string{"team": "a"}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRole(ctx, "AROA1"); err != nil {
		t.Fatal(err)
	}
	if ps, _ := db.ListInlinePolicies(ctx, "AROA1"); len(ps) != 0 {
		t.Fatalf("inline policies of a deleted role: %+v", ps)
	}
	if tags, _ := db.Tags(ctx, role.ARN); len(tags) != 0 {
		t.Fatalf("tags of a deleted role: %v", tags)
	}
	if n, _ := db.CountPolicyAttachments(ctx, pol.ARN); n != 0 {
		t.Fatalf("attachments of a deleted role: %d", n)
	}
	if err := db.DeleteRole(ctx, "AROA1"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := db.DeletePolicy(ctx, pol.ARN); err != nil {
		t.Fatal(err)
	}

	// OIDC providers.
	op := metastore.OIDCProvider{ARN: "arn:aws:iam::1:oidc-provider/idp.example/x", URL: "https://idp.example/x",
		ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{"0123456789abcdef0123456789abcdef01234567"}, CreatedAt: now}
	if err := db.CreateOIDCProvider(ctx, op); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateOIDCProvider(ctx, op); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("twice: %v", err)
	}
	op.ClientIDs, op.JWKS = append(op.ClientIDs, "kansoku"), `{"keys":[]}`
	if err := db.UpdateOIDCProvider(ctx, op); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetOIDCProvider(ctx, op.ARN)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(op) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if l, err := db.ListOIDCProviders(ctx); err != nil || len(l) != 1 {
		t.Fatalf("list: %+v %v", l, err)
	}
	if err := db.DeleteOIDCProvider(ctx, op.ARN); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteOIDCProvider(ctx, op.ARN); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}

	// Resource policies, with revisions as compare-and-sets.
	mustWorkspace(t, db, "ws-1")
	rp := metastore.ResourcePolicy{WorkspaceID: "ws-1", Document: "p1", RevisionID: "r1", UpdatedAt: now}
	if err := db.PutResourcePolicy(ctx, rp, metastore.NoPolicyRevision); err != nil {
		t.Fatal(err)
	}
	if err := db.PutResourcePolicy(ctx, rp, metastore.NoPolicyRevision); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("NO_POLICY when there is one: %v", err)
	}
	rp2 := metastore.ResourcePolicy{WorkspaceID: "ws-1", Document: "p2", RevisionID: "r2", UpdatedAt: now}
	if err := db.PutResourcePolicy(ctx, rp2, "r-stale"); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("stale revision: %v", err)
	}
	if err := db.PutResourcePolicy(ctx, rp2, "r1"); err != nil {
		t.Fatal(err)
	}
	rp3 := metastore.ResourcePolicy{WorkspaceID: "ws-1", Document: "p3", RevisionID: "r3", UpdatedAt: now}
	if err := db.PutResourcePolicy(ctx, rp3, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetResourcePolicy(ctx, "ws-1"); err != nil || got != rp3 {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if err := db.DeleteResourcePolicy(ctx, "ws-1", "r2"); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("delete a stale revision: %v", err)
	}
	if err := db.DeleteResourcePolicy(ctx, "ws-1", "r3"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteResourcePolicy(ctx, "ws-1", ""); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("delete none: %v", err)
	}
	if err := db.PutResourcePolicy(ctx, rp, ""); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteWorkspace(ctx, "ws-1", "arn:ws-1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetResourcePolicy(ctx, "ws-1"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("a deleted workspace's policy: %v", err)
	}

	// Console sessions signed in with temporary credentials.
	cs := metastore.ConsoleRoleSession{ID: "r1", SecretHash: []byte{1}, AccessKeyID: "ASIA1", SessionToken: "tok", CSRFToken: "c",
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateConsoleRoleSession(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateConsoleRoleSession(ctx, cs); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("twice: %v", err)
	}
	if err := db.TouchConsoleRoleSession(ctx, "r1", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetConsoleRoleSession(ctx, "r1"); err != nil || got.SessionToken != "tok" || !got.LastSeenAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if n, err := db.DeleteExpiredConsoleRoleSessions(ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("expired: %d %v", n, err)
	}
	if _, err := db.GetConsoleRoleSession(ctx, "r1"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("gone: %v", err)
	}
}
