package metastore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// An opener opens a new empty database for t.
type opener func(t *testing.T) *metastore.DB

func openSQLite(t *testing.T) *metastore.DB {
	t.Helper()
	db, err := metastore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "kansoku.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openSQLiteShared opens n handles on one new SQLite file at once, as n
// processes would.
func openSQLiteShared(t *testing.T, n int) []*metastore.DB {
	path := filepath.Join(t.TempDir(), "kansoku.db")
	return openConcurrently(t, n, func() (*metastore.DB, error) { return metastore.OpenSQLite(t.Context(), path) })
}

func openConcurrently(t *testing.T, n int, open func() (*metastore.DB, error)) []*metastore.DB {
	t.Helper()
	dbs := make([]*metastore.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = open() })
	}
	wg.Wait()
	for i, db := range dbs {
		if db != nil {
			t.Cleanup(func() { db.Close() })
		}
		if errs[i] != nil {
			t.Fatalf("handle %d: %v", i, errs[i])
		}
	}
	return dbs
}

func TestSQLiteContract(t *testing.T) { RunContract(t, openSQLite) }

func TestSQLiteConcurrency(t *testing.T) { RunConcurrency(t, openSQLiteShared) }

// contractNow is the tests' time, in the store's resolution.
func contractNow() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC) }

// mustWorkspace stores an ACTIVE workspace for rows that belong to one.
func mustWorkspace(t *testing.T, db *metastore.DB, id string) {
	t.Helper()
	now := contractNow()
	if err := db.CreateWorkspace(t.Context(), metastore.Workspace{ID: id, ARN: "arn:" + id, Status: metastore.WorkspaceActive,
		RetentionDays: 150, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

// RunContract is the behaviour every metadata backend must have, table
// group by table group.
func RunContract(t *testing.T, open opener) {
	t.Run("rule groups namespaces", func(t *testing.T) { contractRuleNamespaces(t, open) })
	t.Run("alertmanager definitions", func(t *testing.T) { contractAlertmanagerDefinitions(t, open) })
	t.Run("logging and the workspace log", func(t *testing.T) { contractLogging(t, open) })
	t.Run("query logging", func(t *testing.T) { contractQueryLogging(t, open) })
	t.Run("anomaly detectors", func(t *testing.T) { contractAnomalyDetectors(t, open) })
	t.Run("policies", func(t *testing.T) { contractPolicies(t, open) })
	t.Run("console", func(t *testing.T) { contractConsole(t, open) })
	t.Run("audit", func(t *testing.T) { contractAudit(t, open) })
	t.Run("limits and HA elections", func(t *testing.T) { contractGuardrails(t, open) })
	t.Run("transactions", func(t *testing.T) { contractTransactions(t, open) })
	t.Run("cluster: leases, heartbeats, Alertmanager state", func(t *testing.T) { contractCluster(t, open) })
	t.Run("identity: roles, inline policies, versions, OIDC providers, resource policies", func(t *testing.T) { contractIdentity(t, open) })
	t.Run("workspace configuration", func(t *testing.T) { contractWorkspaceConfiguration(t, open) })
	t.Run("scrapers", func(t *testing.T) { contractScrapers(t, open) })
	t.Run("rate buckets", func(t *testing.T) { contractRateBuckets(t, open) })

	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)

	t.Run("account", func(t *testing.T) {
		db := open(t)
		if _, err := db.GetAccount(ctx); !errors.Is(err, metastore.ErrNotFound) {
			t.Fatalf("want ErrNotFound before init, got %v", err)
		}
		a := metastore.Account{ID: "111122223333", Region: "eu-west-1", CreatedAt: now}
		if err := db.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetAccount(ctx)
		if err != nil || got != a {
			t.Fatalf("got %+v %v want %+v", got, err, a)
		}
		if err := db.CreateAccount(ctx, a); !errors.Is(err, metastore.ErrConflict) {
			t.Fatalf("the account twice: %v", err)
		}
	})

	t.Run("principals and credentials", func(t *testing.T) {
		db := open(t)
		p := metastore.Principal{ID: "AIDA1", Name: "alice", ARN: "arn:aws:iam::1:user/alice", CreatedAt: now}
		if err := db.CreatePrincipal(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := db.CreatePrincipal(ctx, metastore.Principal{ID: "AIDA2", Name: "alice", ARN: "x", CreatedAt: now}); !errors.Is(err, metastore.ErrConflict) {
			t.Fatalf("duplicate name: want ErrConflict, got %v", err)
		}
		k := metastore.AccessKey{ID: "AKIA1", PrincipalID: p.ID, SecretSealed: []byte{1, 2, 3}, Status: "Active", CreatedAt: now}
		if err := db.CreateAccessKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetAccessKey(ctx, "AKIA1")
		if err != nil || string(got.SecretSealed) != "\x01\x02\x03" || got.PrincipalID != "AIDA1" || !got.LastUsedAt.IsZero() {
			t.Fatalf("got %+v %v", got, err)
		}
		if err := db.SetAccessKeyStatus(ctx, "AKIA1", "Inactive"); err != nil {
			t.Fatal(err)
		}
		if err := db.SetAccessKeyStatus(ctx, "AKIA-missing", "Inactive"); !errors.Is(err, metastore.ErrNotFound) {
			t.Fatalf("want ErrNotFound, got %v", err)
		}
		tok := metastore.APIToken{ID: "tok1", PrincipalID: p.ID, Name: "ci", SecretHash: []byte("h"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := db.CreateAPIToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		gt, err := db.GetAPIToken(ctx, "tok1")
		if err != nil || !gt.ExpiresAt.Equal(tok.ExpiresAt) {
			t.Fatalf("token %+v %v", gt, err)
		}
		if err := db.CreatePrincipal(ctx, metastore.Principal{ID: "AIDA0", Name: "Zed", ARN: "arn:zed", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if ps, err := db.ListPrincipals(ctx); err != nil || len(ps) != 2 || ps[0].Name != "Zed" || ps[1].Name != "alice" {
			t.Fatalf("principals by name, in byte order: %+v %v", ps, err)
		}
		if byName, err := db.GetPrincipalByName(ctx, "alice"); err != nil || byName != p {
			t.Fatalf("by name: %+v %v", byName, err)
		}
		if _, err := db.GetPrincipal(ctx, "AIDA-none"); !errors.Is(err, metastore.ErrNotFound) {
			t.Fatalf("missing principal: %v", err)
		}
		k2 := metastore.AccessKey{ID: "AKIA0", PrincipalID: p.ID, SecretSealed: []byte{4}, Status: "Active", CreatedAt: now.Add(time.Second)}
		k3 := metastore.AccessKey{ID: "AKIA9", PrincipalID: "AIDA0", SecretSealed: []byte{5}, Status: "Active", CreatedAt: now}
		for _, k := range []metastore.AccessKey{k2, k3} {
			if err := db.CreateAccessKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		keyIDs := func(principal string) string {
			ks, err := db.ListAccessKeys(ctx, principal)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, k := range ks {
				ids = append(ids, k.ID)
			}
			return fmt.Sprint(ids)
		}
		if got := keyIDs(p.ID); got != "[AKIA1 AKIA0]" {
			t.Fatalf("alice's keys, by creation: %s", got)
		}
		if got := keyIDs(""); got != "[AKIA1 AKIA9 AKIA0]" {
			t.Fatalf("all keys, by creation then id: %s", got)
		}
		if err := db.TouchAccessKey(ctx, "AKIA0", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if k, _ := db.GetAccessKey(ctx, "AKIA0"); !k.LastUsedAt.Equal(now.Add(time.Hour)) {
			t.Fatalf("last used: %+v", k)
		}
		if err := db.DeleteAccessKey(ctx, "AKIA9"); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteAccessKey(ctx, "AKIA9"); !errors.Is(err, metastore.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if toks, err := db.ListAPITokens(ctx, p.ID); err != nil || len(toks) != 1 || !bytes.Equal(toks[0].SecretHash, []byte("h")) {
			t.Fatalf("tokens: %+v %v", toks, err)
		}
		if err := db.CreateAPIToken(ctx, metastore.APIToken{ID: "tok2", PrincipalID: "AIDA0", Name: "x", SecretHash: []byte{1}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if toks, _ := db.ListAPITokens(ctx, ""); len(toks) != 2 || !toks[1].ExpiresAt.IsZero() {
			t.Fatalf("all tokens: %+v", toks)
		}
		if err := db.DeleteAPIToken(ctx, "tok2"); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteAPIToken(ctx, "tok2"); !errors.Is(err, metastore.ErrNotFound) {
			t.Fatalf("second token delete: %v", err)
		}
		// Deleting the principal takes its credentials with it.
		if err := db.DeletePrincipal(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetAccessKey(ctx, "AKIA1"); !errors.Is(err, metastore.ErrNotFound) {
			t.Fatalf("key survived its principal: %v", err)
		}
		if _, err := db.GetAPIToken(ctx, "tok1"); !errors.Is(err, metastore.ErrNotFound) {
			t.Fatalf("token survived its principal: %v", err)
		}
	})

	t.Run("workspaces", func(t *testing.T) {
		db := open(t)
		for i := 0; i < 7; i++ {
			alias := fmt.Sprintf("team-%d", i)
			if i == 5 {
				alias = "50%_off" // LIKE metacharacters must be literal
			}
			w := metastore.Workspace{ID: fmt.Sprintf("ws-%d", i), Alias: alias, ARN: fmt.Sprintf("arn:ws-%d", i),
				Status: metastore.WorkspaceCreating, ClientToken: fmt.Sprintf("tok-%d", i), RetentionDays: 150,
				CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now}
			if err := db.CreateWorkspace(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		dup := metastore.Workspace{ID: "ws-x", ARN: "a", Status: "CREATING", ClientToken: "tok-1", RetentionDays: 1, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateWorkspace(ctx, dup); !errors.Is(err, metastore.ErrConflict) {
			t.Fatalf("duplicate client token: want ErrConflict, got %v", err)
		}
		if w, err := db.GetWorkspaceByClientToken(ctx, "tok-3"); err != nil || w.ID != "ws-3" {
			t.Fatalf("by token: %+v %v", w, err)
		}
		// Pages of 3 walk all 7 in creation order.
		var all []string
		tok := ""
		for page := 0; page < 5; page++ {
			ws, next, err := db.ListWorkspaces(ctx, metastore.WorkspaceFilter{Limit: 3, After: tok})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range ws {
				all = append(all, w.ID)
			}
			if next == "" {
				break
			}
			tok = next
		}
		if fmt.Sprint(all) != "[ws-0 ws-1 ws-2 ws-3 ws-4 ws-5 ws-6]" {
			t.Fatalf("pagination: %v", all)
		}
		if _, _, err := db.ListWorkspaces(ctx, metastore.WorkspaceFilter{After: "garbage!"}); !errors.Is(err, metastore.ErrBadPageToken) {
			t.Fatalf("bad token: %v", err)
		}
		ws, _, _ := db.ListWorkspaces(ctx, metastore.WorkspaceFilter{AliasPrefix: "50%"})
		if len(ws) != 1 || ws[0].ID != "ws-5" {
			t.Fatalf("prefix 50%%: %v", ws)
		}
		ws, _, _ = db.ListWorkspaces(ctx, metastore.WorkspaceFilter{AliasPrefix: "5"})
		if len(ws) != 1 {
			t.Fatalf("prefix 5: %v", ws)
		}
		ws, _, _ = db.ListWorkspaces(ctx, metastore.WorkspaceFilter{AliasPrefix: "team-"})
		if len(ws) != 6 {
			t.Fatalf("prefix team-: %d", len(ws))
		}
		// Conditional status changes.
		if err := db.SetWorkspaceStatus(ctx, "ws-0", metastore.WorkspaceActive, now, metastore.WorkspaceCreating); err != nil {
			t.Fatal(err)
		}
		if err := db.SetWorkspaceStatus(ctx, "ws-0", metastore.WorkspaceActive, now, metastore.WorkspaceCreating); !errors.Is(err, metastore.ErrNotFound) {
			t.Fatalf("second CREATING->ACTIVE must not match: %v", err)
		}
		if n, _ := db.CountWorkspaces(ctx); n != 7 {
			t.Fatalf("count %d", n)
		}
		if ws, _, _ := db.ListWorkspaces(ctx, metastore.WorkspaceFilter{Statuses: []string{metastore.WorkspaceActive}}); len(ws) != 1 || ws[0].ID != "ws-0" {
			t.Fatalf("ACTIVE ones: %+v", ws)
		}
		if err := db.UpdateWorkspaceAlias(ctx, "ws-1", "renamed", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.SetWorkspaceRetention(ctx, "ws-1", 30, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if w, _ := db.GetWorkspace(ctx, "ws-1"); w.Alias != "renamed" || w.RetentionDays != 30 || !w.UpdatedAt.Equal(now.Add(time.Minute)) || !w.CreatedAt.Equal(now.Add(time.Second)) {
			t.Fatalf("renamed: %+v", w)
		}
		if err := db.UpdateWorkspaceAlias(ctx, "ws-1", "", now); err != nil {
			t.Fatal(err)
		}
		if w, _ := db.GetWorkspace(ctx, "ws-1"); w.Alias != "" {
			t.Fatalf("alias cleared: %+v", w)
		}
		if err := db.SetWorkspaceRetention(ctx, "ws-none", 30, now); !errors.Is(err, metastore.ErrNotFound) {
			t.Fatalf("retention of a missing workspace: %v", err)
		}
		if _, err := db.GetWorkspace(ctx, "ws-none"); !errors.Is(err, metastore.ErrNotFound) {
			t.Fatalf("missing workspace: %v", err)
		}
		// Tags and metadata go with the workspace.
		if err := db.SetTags(ctx, "arn:ws-0", map[string]string{"a": "1"}); err != nil {
			t.Fatal(err)
		}
		if err := db.SetTags(ctx, "arn:ns/ws-0/x", map[string]string{"b": "2"}); err != nil {
			t.Fatal(err)
		}
		if err := db.UpsertMetricMetadata(ctx, "ws-0", []metastore.MetricMetadata{{Metric: "up", Type: "gauge"}}, now); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteWorkspace(ctx, "ws-0", "arn:ws-0", "arn:ns/ws-0/"); err != nil {
			t.Fatal(err)
		}
		if tags, _ := db.Tags(ctx, "arn:ws-0"); len(tags) != 0 {
			t.Fatalf("workspace tags left: %v", tags)
		}
		if tags, _ := db.Tags(ctx, "arn:ns/ws-0/x"); len(tags) != 0 {
			t.Fatalf("namespace tags left: %v", tags)
		}
		if md, _ := db.ListMetricMetadata(ctx, "ws-0", ""); len(md) != 0 {
			t.Fatalf("metadata left: %v", md)
		}
	})

	t.Run("tags", func(t *testing.T) {
		db := open(t)
		arn := "arn:aws:aps:us-east-1:1:workspace/ws-1"
		if err := db.SetTags(ctx, arn, map[string]string{"env": "dev", "Team": "a"}); err != nil {
			t.Fatal(err)
		}
		if err := db.SetTags(ctx, arn, map[string]string{"env": "prod", "team": "b"}); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Tags(ctx, arn)
		if fmt.Sprint(got) != "map[Team:a env:prod team:b]" {
			t.Fatalf("tags are case-sensitive and overwrite: %v", got)
		}
		if err := db.RemoveTags(ctx, arn, []string{"Team", "missing"}); err != nil {
			t.Fatal(err)
		}
		got, _ = db.Tags(ctx, arn)
		if fmt.Sprint(got) != "map[env:prod team:b]" {
			t.Fatalf("after untag: %v", got)
		}
	})

	t.Run("metric metadata", func(t *testing.T) {
		db := open(t)
		e := []metastore.MetricMetadata{{Metric: "http_requests_total", Type: "counter", Help: "Requests."}, {Metric: "up", Type: "gauge"}}
		if err := db.UpsertMetricMetadata(ctx, "ws-1", e, now); err != nil {
			t.Fatal(err)
		}
		if err := db.UpsertMetricMetadata(ctx, "ws-1", e[:1], now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, _ := db.ListMetricMetadata(ctx, "ws-1", "")
		if len(got) != 2 {
			t.Fatalf("upsert must not duplicate: %v", got)
		}
		if got, _ := db.ListMetricMetadata(ctx, "ws-2", ""); len(got) != 0 {
			t.Fatalf("metadata leaked across workspaces: %v", got)
		}
		if n, _ := db.CountMetricMetadata(ctx, "ws-1", "up"); n != 1 {
			t.Fatalf("count %d", n)
		}
	})

	t.Run("aws integrations, cursors and hosts", func(t *testing.T) {
		db := open(t)
		w := metastore.Workspace{ID: "ws-aws", ARN: "arn:ws-aws", Status: metastore.WorkspaceActive, RetentionDays: 150, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateWorkspace(ctx, w); err != nil {
			t.Fatal(err)
		}
		in := metastore.AWSIntegration{ID: "awsi-1", Name: "prod", AWSAccountID: "123456789012", WorkspaceID: "ws-aws", AuthMode: "role",
			RoleARN: "arn:aws:iam::123456789012:role/R", ExternalID: "x", Settings: "{}", Status: "ACTIVE", LastPoll: "null",
			CreatedAt: now, UpdatedAt: now, Version: 1}
		if err := db.CreateAWSIntegration(ctx, in); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetAWSIntegration(ctx, "awsi-1")
		if err != nil || got.RoleARN != in.RoleARN || !got.CreatedAt.Equal(now) || got.SecretSealed != nil {
			t.Fatalf("get: %+v %v", got, err)
		}
		next := got
		next.Status, next.Version = "ERROR", 2
		if err := db.UpdateAWSIntegration(ctx, next, 1); err != nil {
			t.Fatal(err)
		}
		if err := db.UpdateAWSIntegration(ctx, next, 1); !errors.Is(err, metastore.ErrConflict) {
			t.Fatalf("stale update: %v", err)
		}
		if _, ok, err := db.GetAWSCursor(ctx, "awsi-1", "us-east-1", 60); ok || err != nil {
			t.Fatalf("cursor before any: %v %v", ok, err)
		}
		for _, end := range []time.Time{now, now.Add(time.Minute)} {
			if err := db.SetAWSCursor(ctx, "awsi-1", "us-east-1", 60, end); err != nil {
				t.Fatal(err)
			}
		}
		if end, ok, _ := db.GetAWSCursor(ctx, "awsi-1", "us-east-1", 60); !ok || !end.Equal(now.Add(time.Minute)) {
			t.Fatalf("cursor: %v %v", end, ok)
		}
		h := metastore.Host{ID: "h-1", WorkspaceID: "ws-aws", ARN: "arn:aws:ec2:us-east-1:123456789012:instance/i-1", Name: "web", Kind: "standard",
			Product: "ec2", Identifiers: "[]", Roles: "[]", Tags: "{}", Metadata: "{}", Integrations: "[]", FirstSeenAt: now, LastSeenAt: now}
		if err := db.CreateHost(ctx, h); err != nil {
			t.Fatal(err)
		}
		dup := h
		dup.ID = "h-2"
		if err := db.CreateHost(ctx, dup); !errors.Is(err, metastore.ErrConflict) {
			t.Fatalf("second live host for one ARN: %v", err)
		}
		h.RetiredAt = now
		if err := db.UpdateHost(ctx, h); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateHost(ctx, dup); err != nil {
			t.Fatalf("a retired host's ARN may come back as a new host: %v", err)
		}
		if live, err := db.GetLiveHostByARN(ctx, "ws-aws", h.ARN); err != nil || live.ID != "h-2" {
			t.Fatalf("live host: %+v %v", live, err)
		}
		if all, _ := db.ListHosts(ctx, "ws-aws", true); len(all) != 2 {
			t.Fatalf("with retired: %d", len(all))
		}
		if live, _ := db.ListHosts(ctx, "ws-aws", false); len(live) != 1 {
			t.Fatalf("live: %d", len(live))
		}
		for i := 0; i < 2; i++ {
			created, err := db.EnsureHostRole(ctx, metastore.HostRole{WorkspaceID: "ws-aws", Service: "shop", Role: "web", CreatedAt: now})
			if err != nil || created != (i == 0) {
				t.Fatalf("ensure role #%d: %v %v", i, created, err)
			}
		}
		if roles, _ := db.ListHostRoles(ctx, "ws-aws"); len(roles) != 1 {
			t.Fatalf("roles: %v", roles)
		}
		if err := db.DeleteAWSIntegration(ctx, "awsi-1"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := db.GetAWSCursor(ctx, "awsi-1", "us-east-1", 60); ok {
			t.Fatal("cursor outlived its integration")
		}
	})
}
