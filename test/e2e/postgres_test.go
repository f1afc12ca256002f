package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPostgresMetastore runs two kansoku processes on one PostgreSQL
// database (--metastore.driver=postgres --metastore.dsn=...) and drives
// the control plane through both with the aws CLI.
func TestPostgresMetastore(t *testing.T) {
	aws := need(t, "/usr/bin/aws")
	dsn := pg.Get(t).NewDatabase(t)
	// Both nodes are given the installation's secret key.
	flags := []string{"--metastore.driver=postgres", "--metastore.dsn=" + dsn, "--storage.secret-key-file=" + filepath.Join(t.TempDir(), "secret.key")}
	a := startServer(t, "", flags...)
	if _, err := os.Stat(filepath.Join(a.dataDir, "kansoku.db")); err == nil {
		t.Fatal("the server made an SQLite database beside PostgreSQL")
	}
	// The second node signs as the admin the first node minted.
	dirB := t.TempDir()
	creds, err := os.ReadFile(filepath.Join(a.dataDir, "admin-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirB, "admin-credentials"), creds, 0o600); err != nil {
		t.Fatal(err)
	}
	b := startServer(t, dirB, flags...)

	env := awsEnv(t, a.Creds["AWS_ACCESS_KEY_ID"], a.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1")
	amp := func(s *server, args ...string) string {
		t.Helper()
		out, code := run(t, env, aws, append(append([]string{"amp"}, args...), "--endpoint-url", s.URL, "--output", "json")...)
		if code != 0 {
			t.Fatalf("aws amp %s on %s: exit %d\n%s", args[0], s.URL, code, out)
		}
		return out
	}
	var ws struct{ WorkspaceID string }
	if err := json.Unmarshal([]byte(amp(a, "create-workspace", "--alias", "shared")), &ws); err != nil {
		t.Fatal(err)
	}
	amp(b, "wait", "workspace-active", "--workspace-id", ws.WorkspaceID)
	if out := amp(b, "list-workspaces"); !strings.Contains(out, ws.WorkspaceID) {
		t.Fatalf("node B lists:\n%s", out)
	}
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	amp(b, "create-rule-groups-namespace", "--workspace-id", ws.WorkspaceID, "--name", "made-on-b", "--data", "fileb://"+rules)
	waitFor(t, 0, "the namespace ACTIVE on node A", func() bool {
		out, code := run(t, env, aws, "amp", "describe-rule-groups-namespace", "--workspace-id", ws.WorkspaceID, "--name", "made-on-b",
			"--endpoint-url", a.URL, "--output", "json")
		return code == 0 && strings.Contains(out, `"statusCode": "ACTIVE"`)
	})
	if out := amp(a, "list-rule-groups-namespaces", "--workspace-id", ws.WorkspaceID); !strings.Contains(out, `"made-on-b"`) {
		t.Fatalf("node A lists:\n%s", out)
	}
	amp(a, "delete-rule-groups-namespace", "--workspace-id", ws.WorkspaceID, "--name", "made-on-b")
	if out := amp(b, "list-rule-groups-namespaces", "--workspace-id", ws.WorkspaceID); strings.Contains(out, "made-on-b") {
		t.Fatalf("node B still lists the deleted namespace:\n%s", out)
	}
	amp(b, "delete-workspace", "--workspace-id", ws.WorkspaceID)
	waitFor(t, 0, "the workspace gone on node A", func() bool {
		out, code := run(t, env, aws, "amp", "list-workspaces", "--endpoint-url", a.URL, "--output", "json")
		return code == 0 && !strings.Contains(out, ws.WorkspaceID)
	})
}

// TestRoleSessionsAcrossNodes: a session minted by one node works on the
// other (nothing is stored: both open the token with the installation's
// key), and deleting its role on one node ends it on the other within the
// IAM cache's 10 s.
func TestRoleSessionsAcrossNodes(t *testing.T) {
	dsn := pg.Get(t).NewDatabase(t)
	flags := []string{"--metastore.driver=postgres", "--metastore.dsn=" + dsn, "--storage.secret-key-file=" + filepath.Join(t.TempDir(), "secret.key")}
	a := startServer(t, "", flags...)
	dirB := t.TempDir()
	creds, err := os.ReadFile(filepath.Join(a.dataDir, "admin-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirB, "admin-credentials"), creds, 0o600); err != nil {
		t.Fatal(err)
	}
	b := startServer(t, dirB, flags...)
	adminA := cli{t: t, bin: need(t, "/usr/bin/aws"), env: awsEnv(t, a.Creds["AWS_ACCESS_KEY_ID"], a.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1"), url: a.URL}
	adminB := adminA
	adminB.url = b.URL
	var me struct{ Account string }
	adminA.ok(&me, "sts", "get-caller-identity")
	adminA.ok(nil, "iam", "create-role", "--role-name", "Shared", "--assume-role-policy-document", trustDoc(`{"AWS":"arn:aws:iam::`+me.Account+`:user/admin"}`))
	adminA.ok(nil, "iam", "put-role-policy", "--role-name", "Shared", "--policy-name", "list", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*"}]}`)
	var sess stsCreds
	adminA.ok(&sess, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+me.Account+":role/Shared", "--role-session-name", "roaming")
	onB := adminB.with(sess.env()...)
	onB.ok(nil, "amp", "list-workspaces")
	adminA.ok(nil, "iam", "delete-role-policy", "--role-name", "Shared", "--policy-name", "list")
	adminA.ok(nil, "iam", "delete-role", "--role-name", "Shared")
	waitFor(t, 15*time.Second, "the deleted role's session refused by node B", func() bool {
		out, code := onB.run("amp", "list-workspaces")
		return code != 0 && strings.Contains(out, "UnrecognizedClientException")
	})
}
