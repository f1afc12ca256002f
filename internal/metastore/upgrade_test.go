package metastore_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// sqliteSchema lists a SQLite file's tables and indexes with the SQL
// SQLite keeps for them.
func sqliteSchema(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT type, name, COALESCE(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		out[typ+" "+name] = text
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSQLiteUpgrade opens a database made by Kansoku before PostgreSQL was
// supported (testdata/sqlite-v5.sql): it migrates, every row reads back,
// writes go on, and a database made today has the same schema, statement
// for statement.
func TestSQLiteUpgrade(t *testing.T) {
	ctx := t.Context()
	dump, err := os.ReadFile(filepath.Join("testdata", "sqlite-v5.sql"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kansoku.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, string(dump)); err != nil {
		t.Fatalf("load the v5 dump: %v", err)
	}
	raw.Close()
	old := sqliteSchema(t, path)

	db, err := metastore.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("open a v5 database: %v", err)
	}
	defer db.Close()
	if v, err := db.SchemaVersion(ctx); err != nil || v != metastore.SchemaVersions {
		t.Fatalf("migrated to %d %v, want %d", v, err, metastore.SchemaVersions)
	}

	// Every table reads back what the old code wrote.
	now := time.UnixMilli(1767225600000).UTC()
	if a, err := db.GetAccount(ctx); err != nil || a.ID != "123456789012" || a.Region != "eu-west-1" || !a.CreatedAt.Equal(now) {
		t.Errorf("account: %+v %v", a, err)
	}
	if k, err := db.GetAccessKey(ctx, "AKIAFIXTURE"); err != nil || !bytes.Equal(k.SecretSealed, []byte{0, 1, 2, 0xff}) || !k.LastUsedAt.Equal(now.Add(time.Minute)) {
		t.Errorf("access key: %+v %v", k, err)
	}
	if tok, err := db.GetAPIToken(ctx, "tokfixture"); err != nil || !bytes.Equal(tok.SecretHash, []byte{9, 8, 7}) || !tok.ExpiresAt.IsZero() {
		t.Errorf("api token: %+v %v", tok, err)
	}
	ws, err := db.GetWorkspace(ctx, "ws-fixture")
	if err != nil || ws.Alias != "prod" || ws.ClientToken != "ct-1" || ws.RetentionDays != 150 {
		t.Errorf("workspace: %+v %v", ws, err)
	}
	if tags, _ := db.Tags(ctx, ws.ARN); fmt.Sprint(tags) != "map[env:prod]" {
		t.Errorf("tags: %v", tags)
	}
	if md, _ := db.ListMetricMetadata(ctx, "ws-fixture", "up"); len(md) != 1 || md[0].Help != "Up." {
		t.Errorf("metric metadata: %+v", md)
	}
	if n, err := db.GetRuleNamespace(ctx, "ws-fixture", "rules"); err != nil || string(n.ActiveData) != "groups: []\n" || n.Version != 2 {
		t.Errorf("rule namespace: %+v %v", n, err)
	}
	if d, err := db.GetAlertmanagerDefinition(ctx, "ws-fixture"); err != nil || !bytes.Equal(d.Data, []byte{1, 2, 3}) || d.ActiveData != nil || d.StatusReason != "bad" {
		t.Errorf("alertmanager definition: %+v %v", d, err)
	}
	if l, err := db.GetLoggingConfiguration(ctx, "ws-fixture"); err != nil || l.Status != "ACTIVE" {
		t.Errorf("logging configuration: %+v %v", l, err)
	}
	if p, err := db.AttachedPolicies(ctx, "AIDAADMIN"); err != nil || len(p) != 1 {
		t.Errorf("attachments: %v %v", p, err)
	}
	ro := true
	if ev, _, err := db.QueryAuditEvents(ctx, metastore.AuditFilter{ReadOnly: &ro}); err != nil || len(ev) != 1 || ev[0].ID != "ev-2" || !ev[0].ReadOnly {
		t.Errorf("read-only audit events: %+v %v", ev, err)
	}
	if o, _ := db.GetLimitOverrides(ctx, "ws-fixture"); o != `{"ingestion_rate":5000}` {
		t.Errorf("limits: %s", o)
	}
	if i, err := db.GetAWSIntegration(ctx, "awsi-fixture"); err != nil || !bytes.Equal(i.SecretSealed, []byte{4, 5, 6}) {
		t.Errorf("aws integration: %+v %v", i, err)
	}
	if end, ok, _ := db.GetAWSCursor(ctx, "awsi-fixture", "eu-west-1", 300); !ok || !end.Equal(now) {
		t.Errorf("cursor: %v %v", end, ok)
	}
	if h, err := db.GetLiveHostByARN(ctx, "ws-fixture", "arn:aws:ec2:eu-west-1:210987654321:instance/i-1"); err != nil || h.ID != "h-fixture" {
		t.Errorf("host: %+v %v", h, err)
	}
	if s, err := db.GetConsoleSession(ctx, "sess-fixture"); err != nil || s.CSRFToken != "csrf" {
		t.Errorf("console session: %+v %v", s, err)
	}
	if p, err := db.GetConsolePassword(ctx, "AIDAADMIN"); err != nil || p.Iterations != 600000 {
		t.Errorf("console password: %+v %v", p, err)
	}
	if d, err := db.GetDashboard(ctx, "ws-fixture", "db-fixture"); err != nil || d.Name != "Overview" {
		t.Errorf("dashboard: %+v %v", d, err)
	}

	// Today's writes on yesterday's rows.
	if l, changed, err := db.ElectHALeader(ctx, metastore.HALeader{WorkspaceID: "ws-fixture", Cluster: "c1", Replica: "r1", ReceivedAt: now.Add(time.Hour)}, now); err != nil || changed || l.Replica != "r1" {
		t.Errorf("HA heartbeat on a stored election: %+v %v %v", l, changed, err)
	}
	if created, err := db.EnsureHostRole(ctx, metastore.HostRole{WorkspaceID: "ws-fixture", Service: "shop", Role: "web", CreatedAt: now}); err != nil || created {
		t.Errorf("existing host role: %v %v", created, err)
	}
	if err := db.SetTags(ctx, ws.ARN, map[string]string{"env": "staging"}); err != nil {
		t.Error(err)
	}
	if err := db.AppendLogEvents(ctx, []metastore.LogEvent{{WorkspaceID: "ws-fixture", LogGroupARN: "arn:g", Time: now, Component: "ruler", Level: "WARN", Message: "next"}}); err != nil {
		t.Error(err)
	}
	if ev, _ := db.QueryLogEvents(ctx, metastore.LogFilter{WorkspaceID: "ws-fixture"}); len(ev) != 2 || ev[1].ID <= ev[0].ID {
		t.Errorf("log ids go on: %+v", ev)
	}
	db.Close()

	// A database made today has the v5 schema, statement for statement.
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	fdb, err := metastore.OpenSQLite(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	fdb.Close()
	now5 := sqliteSchema(t, fresh)
	var names []string
	for name := range old {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if now5[name] != old[name] {
			t.Errorf("%s differs from what v5 made:\nv5:    %s\ntoday: %s", name, old[name], now5[name])
		}
	}
	if len(names) < 30 {
		t.Fatalf("only %d schema objects in the v5 dump", len(names))
	}
}
