package metastore_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// contractRuleNamespaces: rule-groups namespaces (definitions.go).
func contractRuleNamespaces(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	mustWorkspace(t, db, "ws-r")
	mustWorkspace(t, db, "ws-other")
	ns := func(name string, rules int) metastore.RuleNamespace {
		return metastore.RuleNamespace{WorkspaceID: "ws-r", Name: name, ARN: "arn:ns/ws-r/" + name, Data: []byte("groups: [] # " + name),
			RuleCount: rules, Status: metastore.StatusCreating, ClientToken: "ct-" + name, Version: 1, CreatedAt: now, ModifiedAt: now}
	}
	for i, name := range []string{"b", "a", "c", "a-1", "B"} {
		if err := db.CreateRuleNamespace(ctx, ns(name, i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateRuleNamespace(ctx, ns("a", 1)); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("second namespace named a: want ErrConflict, got %v", err)
	}
	other := ns("a", 100)
	other.WorkspaceID = "ws-other"
	if err := db.CreateRuleNamespace(ctx, other); err != nil {
		t.Fatalf("names are per workspace: %v", err)
	}
	missingWS := ns("x", 1)
	missingWS.WorkspaceID = "ws-missing"
	if err := db.CreateRuleNamespace(ctx, missingWS); err == nil {
		t.Fatal("a namespace of a workspace that does not exist was stored")
	}

	got, err := db.GetRuleNamespace(ctx, "ws-r", "a")
	if err != nil {
		t.Fatal(err)
	}
	want := ns("a", 2)
	if got.ActiveData != nil || !bytes.Equal(got.Data, want.Data) || got.ClientToken != "ct-a" || got.StatusReason != "" ||
		got.RuleCount != 2 || got.Version != 1 || !got.CreatedAt.Equal(now) || got.ARN != want.ARN {
		t.Fatalf("round trip: %+v", got)
	}
	if _, err := db.GetRuleNamespace(ctx, "ws-r", "zz"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("missing namespace: %v", err)
	}

	// Names in byte order, a prefix, pages of two.
	names := func(list []metastore.RuleNamespace) string {
		var out []string
		for _, n := range list {
			out = append(out, n.Name)
		}
		return fmt.Sprint(out)
	}
	all, next, err := db.ListRuleNamespaces(ctx, "ws-r", "", 0, "")
	if err != nil || next != "" || names(all) != "[B a a-1 b c]" {
		t.Fatalf("list: %s %q %v", names(all), next, err)
	}
	if l, _, _ := db.ListRuleNamespaces(ctx, "ws-r", "a", 0, ""); names(l) != "[a a-1]" {
		t.Fatalf("prefix a: %s", names(l))
	}
	var walked []metastore.RuleNamespace
	tok := ""
	for page := 0; page < 5; page++ {
		l, next, err := db.ListRuleNamespaces(ctx, "ws-r", "", 2, tok)
		if err != nil {
			t.Fatal(err)
		}
		if len(l) > 2 {
			t.Fatalf("page of %d, limit 2", len(l))
		}
		walked = append(walked, l...)
		if next == "" {
			break
		}
		tok = next
	}
	if names(walked) != names(all) {
		t.Fatalf("pages walked %s, want %s", names(walked), names(all))
	}
	if _, _, err := db.ListRuleNamespaces(ctx, "ws-r", "", 2, "!!"); !errors.Is(err, metastore.ErrBadPageToken) {
		t.Fatalf("bad token: %v", err)
	}

	// Optimistic concurrency on the version.
	next1 := got
	next1.ActiveData, next1.Status, next1.Version, next1.ModifiedAt = []byte{0, 1, 2, 0xff}, metastore.StatusActive, 2, now.Add(time.Second)
	if err := db.UpdateRuleNamespace(ctx, next1, 1); err != nil {
		t.Fatal(err)
	}
	stale := next1
	stale.Version = 3
	if err := db.UpdateRuleNamespace(ctx, stale, 1); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("stale version: want ErrConflict, got %v", err)
	}
	gone := next1
	gone.Name = "zz"
	if err := db.UpdateRuleNamespace(ctx, gone, 1); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("update of a missing namespace: want ErrNotFound, got %v", err)
	}
	if got, _ := db.GetRuleNamespace(ctx, "ws-r", "a"); !bytes.Equal(got.ActiveData, []byte{0, 1, 2, 0xff}) || got.Version != 2 || got.Status != metastore.StatusActive {
		t.Fatalf("after update: %+v", got)
	}

	// The rule quota's sum, and the activation pass's listing.
	if n, err := db.CountRules(ctx, "ws-r", "c"); err != nil || n != 1+2+4+5 {
		t.Fatalf("rules except c: %d %v", n, err)
	}
	if n, _ := db.CountRules(ctx, "ws-empty", ""); n != 0 {
		t.Fatalf("rules of no namespace: %d", n)
	}
	pending, err := db.ListRuleNamespacesByStatus(ctx, metastore.StatusCreating, metastore.StatusUpdating)
	if err != nil || len(pending) != 5 {
		t.Fatalf("pending: %d %v", len(pending), err)
	}
	if none, err := db.ListRuleNamespacesByStatus(ctx); err != nil || len(none) != 0 {
		t.Fatalf("no status: %d %v", len(none), err)
	}

	if err := db.DeleteRuleNamespace(ctx, "ws-r", "b"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRuleNamespace(ctx, "ws-r", "b"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// Namespaces go with their workspace.
	if err := db.DeleteWorkspace(ctx, "ws-r", "arn:ws-r", "arn:ns/ws-r/"); err != nil {
		t.Fatal(err)
	}
	if l, _, _ := db.ListRuleNamespaces(ctx, "ws-r", "", 0, ""); len(l) != 0 {
		t.Fatalf("namespaces outlived their workspace: %s", names(l))
	}
	if l, _, _ := db.ListRuleNamespaces(ctx, "ws-other", "", 0, ""); len(l) != 1 {
		t.Fatalf("another workspace's namespaces: %s", names(l))
	}
}

// contractAlertmanagerDefinitions: one definition per workspace (definitions.go).
func contractAlertmanagerDefinitions(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	mustWorkspace(t, db, "ws-am")
	mustWorkspace(t, db, "ws-am2")
	d := metastore.AlertmanagerDefinition{WorkspaceID: "ws-am", Data: []byte("sealed\x00bytes"), Status: metastore.StatusCreating,
		ClientToken: "ct", Version: 1, CreatedAt: now, ModifiedAt: now}
	if _, err := db.GetAlertmanagerDefinition(ctx, "ws-am"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("before create: %v", err)
	}
	if err := db.CreateAlertmanagerDefinition(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAlertmanagerDefinition(ctx, d); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("second definition: want ErrConflict, got %v", err)
	}
	failed := metastore.AlertmanagerDefinition{WorkspaceID: "ws-am2", Data: []byte("x"), Status: metastore.StatusCreationFailed,
		StatusReason: "line 1: bad", Version: 1, CreatedAt: now, ModifiedAt: now}
	if err := db.CreateAlertmanagerDefinition(ctx, failed); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetAlertmanagerDefinition(ctx, "ws-am")
	if err != nil || !bytes.Equal(got.Data, d.Data) || got.ActiveData != nil || got.ClientToken != "ct" || !got.ModifiedAt.Equal(now) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if got, _ := db.GetAlertmanagerDefinition(ctx, "ws-am2"); got.StatusReason != "line 1: bad" || got.ClientToken != "" {
		t.Fatalf("reason and empty token: %+v", got)
	}
	up := got
	up.ActiveData, up.Status, up.Version = got.Data, metastore.StatusActive, 2
	if err := db.UpdateAlertmanagerDefinition(ctx, up, 1); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateAlertmanagerDefinition(ctx, up, 1); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("stale: %v", err)
	}
	missing := up
	missing.WorkspaceID = "ws-none"
	if err := db.UpdateAlertmanagerDefinition(ctx, missing, 1); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if l, err := db.ListAlertmanagerDefinitionsByStatus(ctx, metastore.StatusActive); err != nil || len(l) != 1 || l[0].WorkspaceID != "ws-am" ||
		!bytes.Equal(l[0].ActiveData, d.Data) {
		t.Fatalf("active: %+v %v", l, err)
	}
	if err := db.DeleteAlertmanagerDefinition(ctx, "ws-am"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAlertmanagerDefinition(ctx, "ws-am"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := db.DeleteWorkspace(ctx, "ws-am2", "arn:ws-am2", "arn:ns/ws-am2/"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetAlertmanagerDefinition(ctx, "ws-am2"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("definition outlived its workspace: %v", err)
	}
}

// contractLogging: logging configurations and the workspace log (logs.go).
func contractLogging(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	mustWorkspace(t, db, "ws-l")
	mustWorkspace(t, db, "ws-l2")
	l := metastore.LoggingConfiguration{WorkspaceID: "ws-l", LogGroupARN: "arn:aws:logs:us-east-1:1:log-group:g:*", Status: metastore.StatusCreating,
		ClientToken: "ct", CreatedAt: now, ModifiedAt: now}
	if err := db.CreateLoggingConfiguration(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateLoggingConfiguration(ctx, l); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("second configuration: %v", err)
	}
	if got, err := db.GetLoggingConfiguration(ctx, "ws-l"); err != nil || got != l {
		t.Fatalf("round trip: %+v %v, want %+v", got, err, l)
	}
	if _, err := db.GetLoggingConfiguration(ctx, "ws-l2"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("none: %v", err)
	}
	l.LogGroupARN, l.Status, l.StatusReason, l.ModifiedAt = "arn:aws:logs:us-east-1:1:log-group:h:*", metastore.StatusUpdating, "why", now.Add(time.Minute)
	if err := db.UpdateLoggingConfiguration(ctx, l); err != nil {
		t.Fatal(err)
	}
	if all, err := db.ListLoggingConfigurations(ctx); err != nil || len(all) != 1 || all[0] != l {
		t.Fatalf("list: %+v %v", all, err)
	}
	missing := l
	missing.WorkspaceID = "ws-l2"
	if err := db.UpdateLoggingConfiguration(ctx, missing); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("update of none: %v", err)
	}
	if err := db.DeleteLoggingConfiguration(ctx, "ws-l"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteLoggingConfiguration(ctx, "ws-l"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}

	// The workspace log: ids in insertion order, filters, following.
	var events []metastore.LogEvent
	for i := 0; i < 6; i++ {
		ws, comp, level := "ws-l", "ruler", "ERROR"
		if i%2 == 1 {
			comp, level = "alertmanager", "WARN"
		}
		if i == 5 {
			ws = "ws-l2"
		}
		events = append(events, metastore.LogEvent{WorkspaceID: ws, LogGroupARN: "arn:g", Time: now.Add(time.Duration(i) * time.Minute),
			Component: comp, Level: level, Message: fmt.Sprintf("event %d", i), Fields: fmt.Sprintf(`{"i":"%d"}`, i)})
	}
	events[4].Fields = "" // stored as {}
	if err := db.AppendLogEvents(ctx, events[:3]); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendLogEvents(ctx, events[3:]); err != nil {
		t.Fatal(err)
	}
	got, err := db.QueryLogEvents(ctx, metastore.LogFilter{WorkspaceID: "ws-l"})
	if err != nil || len(got) != 5 {
		t.Fatalf("ws-l's events: %d %v", len(got), err)
	}
	for i, e := range got {
		if e.Message != fmt.Sprintf("event %d", i) || !e.Time.Equal(events[i].Time) || (i > 0 && e.ID <= got[i-1].ID) {
			t.Fatalf("event %d: %+v (oldest first, ids increasing)", i, e)
		}
	}
	if got[4].Fields != "{}" || got[0].Fields != `{"i":"0"}` || got[0].Component != "ruler" || got[0].LogGroupARN != "arn:g" {
		t.Fatalf("fields: %+v %+v", got[0], got[4])
	}
	count := func(f metastore.LogFilter) int {
		t.Helper()
		f.WorkspaceID = "ws-l"
		l, err := db.QueryLogEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	for name, c := range map[string]struct {
		f    metastore.LogFilter
		want int
	}{
		"since":        {metastore.LogFilter{Since: now.Add(2 * time.Minute)}, 3},
		"until":        {metastore.LogFilter{Until: now.Add(2 * time.Minute)}, 3},
		"component":    {metastore.LogFilter{Component: "alertmanager"}, 2},
		"level, lower": {metastore.LogFilter{Level: "error"}, 3},
		"after id":     {metastore.LogFilter{AfterID: got[2].ID}, 2},
		"limit":        {metastore.LogFilter{Limit: 2}, 2},
	} {
		if n := count(c.f); n != c.want {
			t.Errorf("%s: %d events, want %d", name, n, c.want)
		}
	}
	if n, err := db.PruneLogEvents(ctx, now.Add(3*time.Minute)); err != nil || n != 3 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if other, _ := db.QueryLogEvents(ctx, metastore.LogFilter{WorkspaceID: "ws-l2"}); len(other) != 1 {
		t.Fatalf("ws-l2: %d", len(other))
	}
}
