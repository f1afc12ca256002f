package metastore_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// contractPolicies: customer policies and their attachments (policies.go).
func contractPolicies(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	for _, p := range []string{"AIDA1", "AIDA2"} {
		if err := db.CreatePrincipal(ctx, metastore.Principal{ID: p, Name: "n" + p, ARN: "arn:" + p, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	pol := func(name string) metastore.Policy {
		return metastore.Policy{ARN: "arn:aws:iam::1:policy/" + name, Name: name, Description: "about " + name,
			Document: `{"Version":"2012-10-17","Statement":[]}`, CreatedAt: now, UpdatedAt: now, DefaultVersion: "v1"}
	}
	for _, n := range []string{"Writers", "Readers", "admins"} {
		if err := db.CreatePolicy(ctx, pol(n)); err != nil {
			t.Fatal(err)
		}
	}
	dup := pol("Readers")
	dup.ARN = "arn:aws:iam::1:policy/other/Readers"
	if err := db.CreatePolicy(ctx, dup); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("duplicate name: %v", err)
	}
	if got, err := db.GetPolicy(ctx, pol("Readers").ARN); err != nil || got != pol("Readers") {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := db.GetPolicy(ctx, "arn:aws:iam::1:policy/None"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	list, err := db.ListPolicies(ctx)
	if err != nil || len(list) != 3 || list[0].Name != "Readers" || list[1].Name != "Writers" || list[2].Name != "admins" {
		t.Fatalf("by name, in byte order: %+v %v", list, err)
	}
	if err := db.UpdatePolicyDocument(ctx, pol("Readers").ARN, `{"v":2}`, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetPolicy(ctx, pol("Readers").ARN); got.Document != `{"v":2}` || !got.UpdatedAt.Equal(now.Add(time.Hour)) || !got.CreatedAt.Equal(now) {
		t.Fatalf("updated: %+v", got)
	}
	if err := db.UpdatePolicyDocument(ctx, "arn:none", "{}", now); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}

	readers, writers := pol("Readers").ARN, pol("Writers").ARN
	for i := 0; i < 2; i++ { // attaching twice is not an error
		if err := db.AttachPolicy(ctx, "AIDA1", writers, now); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"AIDA1", "AIDA2"} {
		if err := db.AttachPolicy(ctx, p, readers, now); err != nil {
			t.Fatal(err)
		}
	}
	if a, err := db.AttachedPolicies(ctx, "AIDA1"); err != nil || fmt.Sprint(a) != fmt.Sprint([]string{readers, writers}) {
		t.Fatalf("attached, by ARN: %v %v", a, err)
	}
	if n, _ := db.CountPolicyAttachments(ctx, readers); n != 2 {
		t.Fatalf("readers attached to %d", n)
	}
	if n, _ := db.CountPolicyAttachments(ctx, writers); n != 1 {
		t.Fatalf("writers attached to %d (twice attached counts once)", n)
	}
	if err := db.DetachPolicy(ctx, "AIDA1", writers); err != nil {
		t.Fatal(err)
	}
	if err := db.DetachPolicy(ctx, "AIDA1", writers); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("detach what is not attached: %v", err)
	}
	// A deleted principal's attachments go with it.
	if err := db.DeletePrincipal(ctx, "AIDA2"); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.CountPolicyAttachments(ctx, readers); n != 1 {
		t.Fatalf("attachments of a deleted principal: %d", n)
	}
	if err := db.DeletePolicy(ctx, writers); err != nil {
		t.Fatal(err)
	}
	if err := db.DeletePolicy(ctx, writers); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// contractConsole: sessions, passwords and dashboards (console.go).
func contractConsole(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	for _, p := range []string{"AIDA1", "AIDA2"} {
		if err := db.CreatePrincipal(ctx, metastore.Principal{ID: p, Name: "n" + p, ARN: "arn:" + p, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []metastore.ConsoleSession{
		{ID: "s1", PrincipalID: "AIDA1", SecretHash: []byte{1}, CSRFToken: "c1", Method: "password", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
		{ID: "s2", PrincipalID: "AIDA1", SecretHash: []byte{2}, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
		{ID: "s3", PrincipalID: "AIDA1", SecretHash: []byte{3}, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(-time.Minute)},
		{ID: "s4", PrincipalID: "AIDA2", SecretHash: []byte{4}, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
		{ID: "s5", PrincipalID: "AIDA2", SecretHash: []byte{5}, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)},
	} {
		if err := db.CreateConsoleSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateConsoleSession(ctx, metastore.ConsoleSession{ID: "s1", PrincipalID: "AIDA1", SecretHash: []byte{9}, CreatedAt: now, LastSeenAt: now, ExpiresAt: now}); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("duplicate session id: %v", err)
	}
	got, err := db.GetConsoleSession(ctx, "s1")
	if err != nil || !bytes.Equal(got.SecretHash, []byte{1}) || got.CSRFToken != "c1" || got.Method != "password" || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if err := db.TouchConsoleSession(ctx, "s1", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetConsoleSession(ctx, "s1"); !got.LastSeenAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("touched: %+v", got)
	}
	if err := db.TouchConsoleSession(ctx, "s-none", now); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("touch missing: %v", err)
	}
	if n, err := db.DeleteExpiredConsoleSessions(ctx, now); err != nil || n != 1 {
		t.Fatalf("expired: %d %v", n, err)
	}
	if n, err := db.DeleteConsoleSessionsOf(ctx, "AIDA1", "s2"); err != nil || n != 1 {
		t.Fatalf("others of AIDA1: %d %v", n, err)
	}
	if err := db.DeleteConsoleSession(ctx, "s4"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteConsoleSession(ctx, "s4"); err != nil {
		t.Fatalf("signing out twice is not an error: %v", err)
	}
	for id, want := range map[string]bool{"s1": false, "s2": true, "s3": false, "s4": false, "s5": true} {
		if _, err := db.GetConsoleSession(ctx, id); (err == nil) != want || (err != nil && !errors.Is(err, metastore.ErrNotFound)) {
			t.Errorf("session %s: %v, want present=%v", id, err, want)
		}
	}

	// Passwords: set, replaced, gone with the principal.
	if _, err := db.GetConsolePassword(ctx, "AIDA1"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("no password yet: %v", err)
	}
	for i, it := range []int{100000, 600000} {
		p := metastore.ConsolePassword{PrincipalID: "AIDA1", Hash: []byte{byte(i), 0}, Salt: []byte{0xff, byte(i)}, Iterations: it, UpdatedAt: now.Add(time.Duration(i) * time.Hour)}
		if err := db.SetConsolePassword(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	pw, err := db.GetConsolePassword(ctx, "AIDA1")
	if err != nil || !bytes.Equal(pw.Hash, []byte{1, 0}) || !bytes.Equal(pw.Salt, []byte{0xff, 1}) || pw.Iterations != 600000 || !pw.UpdatedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("replaced password: %+v %v", pw, err)
	}
	if err := db.DeletePrincipal(ctx, "AIDA1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetConsolePassword(ctx, "AIDA1"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("password outlived its principal: %v", err)
	}
	if _, err := db.GetConsoleSession(ctx, "s2"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("session outlived its principal: %v", err)
	}

	// Dashboards: per workspace, by name, versioned.
	mustWorkspace(t, db, "ws-d")
	mustWorkspace(t, db, "ws-d2")
	dash := func(id, ws, name string) metastore.Dashboard {
		return metastore.Dashboard{ID: id, WorkspaceID: ws, Name: name, Document: `{"panels":[]}`, CreatedAt: now, UpdatedAt: now, Version: 1}
	}
	for _, d := range []metastore.Dashboard{dash("d1", "ws-d", "Zeta"), dash("d2", "ws-d", "Alpha"), dash("d3", "ws-d", "Alpha"), dash("d4", "ws-d2", "Other")} {
		if err := db.CreateDashboard(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateDashboard(ctx, dash("d1", "ws-d", "again")); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("duplicate id: %v", err)
	}
	list, err := db.ListDashboards(ctx, "ws-d")
	if err != nil || len(list) != 3 || list[0].ID != "d2" || list[1].ID != "d3" || list[2].ID != "d1" {
		t.Fatalf("by name then id: %+v %v", list, err)
	}
	if got, err := db.GetDashboard(ctx, "ws-d", "d1"); err != nil || got != dash("d1", "ws-d", "Zeta") {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := db.GetDashboard(ctx, "ws-d2", "d1"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("another workspace's dashboard: %v", err)
	}
	up := dash("d1", "ws-d", "Eta")
	up.Version, up.Document = 2, `{"panels":[1]}`
	if err := db.UpdateDashboard(ctx, up, 1); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateDashboard(ctx, up, 1); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("stale: %v", err)
	}
	if err := db.UpdateDashboard(ctx, dash("d9", "ws-d", "x"), 1); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := db.DeleteDashboard(ctx, "ws-d", "d1"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteDashboard(ctx, "ws-d", "d1"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := db.DeleteWorkspace(ctx, "ws-d2", "arn:ws-d2", "arn:ns/ws-d2/"); err != nil {
		t.Fatal(err)
	}
	if l, _ := db.ListDashboards(ctx, "ws-d2"); len(l) != 0 {
		t.Fatalf("dashboards outlived their workspace: %+v", l)
	}
}

// contractAudit: the audit trail (audit.go).
func contractAudit(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	ev := func(id string, at time.Duration, name string, readOnly bool, errCode, resource string) metastore.AuditEvent {
		return metastore.AuditEvent{ID: id, Time: now.Add(at), EventSource: "aps.amazonaws.com", EventName: name, UserName: "alice",
			AccessKeyID: "AKIA1", SourceIP: "10.0.0.1", ErrorCode: errCode, ReadOnly: readOnly, Resource: resource, Event: `{"id":"` + id + `"}`}
	}
	batch := []metastore.AuditEvent{
		ev("e1", 0, "CreateWorkspace", false, "", "arn:aws:aps:us-east-1:1:workspace/ws-1"),
		ev("e2", time.Second, "ListWorkspaces", true, "", ""),
		ev("e3", 2*time.Second, "DeleteWorkspace", false, "ResourceNotFoundException", "arn:aws:aps:us-east-1:1:workspace/ws_%"),
		ev("e5", 2*time.Second, "DescribeWorkspace", true, "", "arn:aws:aps:us-east-1:1:workspace/ws-1"),
		ev("e4", 2*time.Second, "DescribeWorkspace", true, "", "arn:aws:aps:us-east-1:1:workspace/ws-2"),
	}
	batch[1].UserName, batch[1].AccessKeyID = "bob", "AKIA2"
	if err := db.InsertAuditEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertAuditEvents(ctx, batch[:1]); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("duplicate event id: %v", err)
	}
	ids := func(f metastore.AuditFilter) string {
		t.Helper()
		l, _, err := db.QueryAuditEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range l {
			out = append(out, e.ID)
		}
		return fmt.Sprint(out)
	}
	// Newest first; equal times by id, descending.
	if got := ids(metastore.AuditFilter{}); got != "[e5 e4 e3 e2 e1]" {
		t.Fatalf("order: %s", got)
	}
	all, _, _ := db.QueryAuditEvents(ctx, metastore.AuditFilter{})
	if e := all[3]; e.UserName != "bob" || !e.ReadOnly || e.Event != `{"id":"e2"}` || !e.Time.Equal(now.Add(time.Second)) || e.SourceIP != "10.0.0.1" {
		t.Fatalf("round trip: %+v", e)
	}
	ro, rw := true, false
	for name, c := range map[string]struct {
		f    metastore.AuditFilter
		want string
	}{
		"event name":     {metastore.AuditFilter{EventName: "DescribeWorkspace"}, "[e5 e4]"},
		"source":         {metastore.AuditFilter{EventSource: "iam.amazonaws.com"}, "[]"},
		"user":           {metastore.AuditFilter{UserName: "bob"}, "[e2]"},
		"access key":     {metastore.AuditFilter{AccessKeyID: "AKIA1"}, "[e5 e4 e3 e1]"},
		"resource part":  {metastore.AuditFilter{Resource: "workspace/ws-1"}, "[e5 e1]"},
		"resource % _":   {metastore.AuditFilter{Resource: "ws_%"}, "[e3]"},
		"errors only":    {metastore.AuditFilter{ErrorsOnly: true}, "[e3]"},
		"read-only":      {metastore.AuditFilter{ReadOnly: &ro}, "[e5 e4 e2]"},
		"not read-only":  {metastore.AuditFilter{ReadOnly: &rw}, "[e3 e1]"},
		"since, until":   {metastore.AuditFilter{Since: now.Add(time.Second), Until: now.Add(time.Second)}, "[e2]"},
		"several at one": {metastore.AuditFilter{UserName: "alice", ReadOnly: &ro}, "[e5 e4]"},
	} {
		if got := ids(c.f); got != c.want {
			t.Errorf("%s: %s, want %s", name, got, c.want)
		}
	}
	// Pages of two walk everything once, across the equal times.
	var walked []string
	before := ""
	for page := 0; page < 5; page++ {
		l, next, err := db.QueryAuditEvents(ctx, metastore.AuditFilter{Limit: 2, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range l {
			walked = append(walked, e.ID)
		}
		if next == "" {
			break
		}
		before = next
	}
	if fmt.Sprint(walked) != "[e5 e4 e3 e2 e1]" {
		t.Fatalf("pages: %v", walked)
	}
	if _, _, err := db.QueryAuditEvents(ctx, metastore.AuditFilter{Before: "not a token"}); !errors.Is(err, metastore.ErrBadPageToken) {
		t.Fatalf("bad token: %v", err)
	}
	if n, err := db.PruneAuditEvents(ctx, now.Add(2*time.Second)); err != nil || n != 2 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if got := ids(metastore.AuditFilter{}); got != "[e5 e4 e3]" {
		t.Fatalf("after prune: %s", got)
	}
}
