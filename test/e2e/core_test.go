package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kansoku/kansoku/internal/client"
)

func TestFirstStartAndRestart(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	out := s.stdout.String()
	// stdout is a pipe here, as under systemd or docker: the banner names
	// the key and the credentials file, and keeps the secret out.
	for _, want := range []string{s.Creds["AWS_ACCESS_KEY_ID"], "admin-credentials", s.URL, "remote_write", "aws amp create-workspace"} {
		if !strings.Contains(out, want) {
			t.Errorf("first start banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, s.Creds["AWS_SECRET_ACCESS_KEY"]) {
		t.Errorf("the admin secret was printed to a stdout that is not a terminal:\n%s", out)
	}
	fi, err := os.Stat(filepath.Join(dir, "admin-credentials"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin-credentials: %v %v", fi, err)
	}
	if strings.Contains(s.log(), s.Creds["AWS_SECRET_ACCESS_KEY"]) {
		t.Fatal("the admin secret was written to the log")
	}
	if err := s.stop(false); err != nil {
		t.Fatalf("SIGTERM: kansoku exited with %v\n%s", err, lastLines(s.log(), 20))
	}
	if !strings.Contains(s.log(), "shutdown requested") {
		t.Errorf("no graceful shutdown in the log:\n%s", lastLines(s.log(), 10))
	}
	s.start()
	if strings.Contains(s.stdout.String(), s.Creds["AWS_SECRET_ACCESS_KEY"]) {
		t.Fatal("the secret is printed again on a later start")
	}
	if !strings.Contains(s.stdout.String(), "admin-credentials") {
		t.Fatalf("later start should point at the credentials file:\n%s", s.stdout.String())
	}
	if err := s.Admin.JSON(context.Background(), "GET", "/workspaces", nil, nil, nil); err != nil {
		t.Fatalf("the first key must keep working after restart: %v", err)
	}
	v, code := run(t, nil, kansokuBin, "version")
	if code != 0 || !strings.HasPrefix(v, "kansoku, version ") {
		t.Fatalf("kansoku version: %d %s", code, v)
	}
}

// TestAWSCLIWorkspaces drives the workspace API with Debian's aws CLI v2.
func TestAWSCLIWorkspaces(t *testing.T) {
	aws := need(t, "/usr/bin/aws")
	s := startServer(t, "")
	env := awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1")
	ep := []string{"--endpoint-url", s.URL, "--output", "json"}
	amp := func(args ...string) (string, int) {
		return run(t, env, aws, append(append([]string{"amp"}, args...), ep...)...)
	}

	out, code := amp("create-workspace", "--alias", "cli demo", "--tags", "env=dev,team=obs")
	if code != 0 {
		t.Fatalf("create-workspace: %d %s", code, out)
	}
	var created struct {
		WorkspaceID string            `json:"workspaceId"`
		Status      map[string]string `json:"status"`
		Tags        map[string]string `json:"tags"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create-workspace output: %v\n%s", err, out)
	}
	if created.Status["statusCode"] != "CREATING" || created.Tags["team"] != "obs" {
		t.Fatalf("create-workspace: %s", out)
	}
	ws := created.WorkspaceID
	if out, code := amp("wait", "workspace-active", "--workspace-id", ws); code != 0 {
		t.Fatalf("wait workspace-active: %d %s", code, out)
	}
	out, code = amp("describe-workspace", "--workspace-id", ws)
	if code != 0 || !strings.Contains(out, `"statusCode": "ACTIVE"`) || !strings.Contains(out, `"alias": "cli demo"`) ||
		!strings.Contains(out, `"prometheusEndpoint": "`+s.URL+"/workspaces/"+ws+`/"`) || !strings.Contains(out, `"createdAt": "20`) {
		t.Fatalf("describe-workspace: %d %s", code, out)
	}
	if out, code := amp("update-workspace-alias", "--workspace-id", ws, "--alias", "renamed"); code != 0 {
		t.Fatalf("update-workspace-alias: %d %s", code, out)
	}
	out, code = amp("list-workspaces", "--alias", "ren")
	if code != 0 || !strings.Contains(out, ws) || !strings.Contains(out, `"alias": "renamed"`) {
		t.Fatalf("list-workspaces --alias: %d %s", code, out)
	}
	// Pagination driven by the CLI itself.
	for i := 0; i < 3; i++ {
		if out, code := amp("create-workspace"); code != 0 {
			t.Fatalf("create-workspace #%d: %s", i, out)
		}
	}
	out, code = amp("list-workspaces", "--page-size", "1")
	if code != 0 || strings.Count(out, `"workspaceId"`) != 4 {
		t.Fatalf("list-workspaces --page-size 1 should walk all 4 pages: %d %s", code, out)
	}

	// Errors print as the CLI prints AWS errors, with its exit code 254.
	out, code = amp("describe-workspace", "--workspace-id", "ws-00000000-0000-0000-0000-000000000000")
	if code != 254 || !strings.Contains(out, "An error occurred (ResourceNotFoundException) when calling the DescribeWorkspace operation") {
		t.Fatalf("unknown workspace: %d %s", code, out)
	}
	out, code = amp("describe-workspace", "--workspace-id", "not/valid")
	if code != 254 || !strings.Contains(out, "(ValidationException)") {
		t.Fatalf("invalid id: %d %s", code, out)
	}
	out, code = amp("create-workspace", "--tags", "aws:reserved=x")
	if code != 254 || !strings.Contains(out, "(ValidationException)") || !strings.Contains(out, "aws:") {
		t.Fatalf("reserved tag: %d %s", code, out)
	}
	badEnv := awsEnv(t, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1")
	out, code = run(t, badEnv, aws, append([]string{"amp", "list-workspaces"}, ep...)...)
	if code != 254 || !strings.Contains(out, "(UnrecognizedClientException)") {
		t.Fatalf("unknown key: %d %s", code, out)
	}
	wrongSecret := awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], "not-the-secret", "us-east-1")
	out, code = run(t, wrongSecret, aws, append([]string{"amp", "list-workspaces"}, ep...)...)
	if code != 254 || !strings.Contains(out, "(InvalidSignatureException)") {
		t.Fatalf("wrong secret: %d %s", code, out)
	}
	otherRegion := awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "ap-northeast-1")
	out, code = run(t, otherRegion, aws, append([]string{"amp", "list-workspaces"}, ep...)...)
	if code != 254 || !strings.Contains(out, "(InvalidSignatureException)") || !strings.Contains(out, "region") {
		t.Fatalf("other region: %d %s", code, out)
	}

	if out, code := amp("delete-workspace", "--workspace-id", ws); code != 0 {
		t.Fatalf("delete-workspace: %d %s", code, out)
	}
	if out, code := amp("wait", "workspace-deleted", "--workspace-id", ws); code != 0 {
		t.Fatalf("wait workspace-deleted: %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(s.dataDir, "workspaces", ws)); !os.IsNotExist(err) {
		t.Fatalf("deleted workspace's data is still on disk: %v", err)
	}
}

// TestCredentialCommands exercises `kansoku keys` and `kansoku token`.
func TestCredentialCommands(t *testing.T) {
	s := startServer(t, "")
	out, code := s.kansoku(t, "keys", "create", "--name", "ci", "--policy", "AmazonPrometheusFullAccess")
	if code != 0 || !strings.Contains(out, "AWS_ACCESS_KEY_ID=AKIA") {
		t.Fatalf("keys create: %d %s", code, out)
	}
	var id, secret string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "AWS_ACCESS_KEY_ID="); ok {
			id = v
		}
		if v, ok := strings.CutPrefix(line, "AWS_SECRET_ACCESS_KEY="); ok {
			secret = v
		}
	}
	ci := client.New(s.URL, "us-east-1", aws.Credentials{AccessKeyID: id, SecretAccessKey: secret})
	if err := ci.JSON(context.Background(), "GET", "/workspaces", nil, nil, nil); err != nil {
		t.Fatalf("the new key does not work: %v", err)
	}
	out, code = s.kansoku(t, "keys", "list")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "ci") || strings.Contains(out, secret) {
		t.Fatalf("keys list: %d %s", code, out)
	}
	tok, code := s.kansoku(t, "token", "create", "--name", "grafana")
	tok = strings.TrimSpace(strings.Split(tok, "\n")[0])
	if code != 0 || !strings.HasPrefix(tok, "kst_") {
		t.Fatalf("token create: %d %s", code, tok)
	}
	tc := client.New(s.URL, "us-east-1", aws.Credentials{})
	tc.Token = tok
	if err := tc.JSON(context.Background(), "GET", "/workspaces", nil, nil, nil); err != nil {
		t.Fatalf("token does not work: %v", err)
	}
	out, code = s.kansoku(t, "token", "list")
	if code != 0 || !strings.Contains(out, "grafana") || strings.Contains(out, tok) {
		t.Fatalf("token list: %d %s", code, out)
	}
	tokenID := strings.Split(strings.TrimPrefix(tok, "kst_"), "_")[0]
	if out, code := s.kansoku(t, "token", "revoke", tokenID); code != 0 {
		t.Fatalf("token revoke: %d %s", code, out)
	}
	if err := tc.JSON(context.Background(), "GET", "/workspaces", nil, nil, nil); err == nil {
		t.Fatal("revoked token still works")
	}
	if out, code := s.kansoku(t, "keys", "delete", id); code != 0 {
		t.Fatalf("keys delete: %d %s", code, out)
	}
	if err := ci.JSON(context.Background(), "GET", "/workspaces", nil, nil, nil); err == nil {
		t.Fatal("deleted key still works")
	}
	if strings.Contains(s.log(), secret) || strings.Contains(s.log(), tok) {
		t.Fatal("a secret reached the server log")
	}
}

// TestTenantIsolation: two users with their own keys, two workspaces.
func TestTenantIsolation(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	keyFor := func(user string) *client.Client {
		out, code := s.kansoku(t, "keys", "create", "--name", user, "--policy", "AmazonPrometheusFullAccess")
		if code != 0 {
			t.Fatalf("keys create %s: %s", user, out)
		}
		m := map[string]string{}
		for _, line := range strings.Split(out, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				m[k] = v
			}
		}
		return client.New(s.URL, "us-east-1", aws.Credentials{AccessKeyID: m["AWS_ACCESS_KEY_ID"], SecretAccessKey: m["AWS_SECRET_ACCESS_KEY"]})
	}
	alice, bob := keyFor("alice"), keyFor("bob")
	wsA, wsB := createWorkspace(t, alice, "a"), createWorkspace(t, bob, "b")
	now := time.Now()
	writeSamples(t, alice, wsA, "alice_secret", now, 1)
	writeSamples(t, bob, wsB, "bob_metric", now, 1)
	for _, c := range []*client.Client{alice, bob} {
		got := queryNames(t, c, wsB)
		if strings.Contains(got, "alice_secret") || !strings.Contains(got, "bob_metric") {
			t.Fatalf("workspace B's names: %s", got)
		}
		got = queryNames(t, c, wsA)
		if strings.Contains(got, "bob_metric") || !strings.Contains(got, "alice_secret") {
			t.Fatalf("workspace A's names: %s", got)
		}
	}
	var r struct {
		Data struct {
			Result []any `json:"result"`
		} `json:"data"`
	}
	if err := bob.JSON(ctx, "GET", "/workspaces/"+wsB+"/api/v1/query", url.Values{"query": {`{__name__=~".+"}`}}, nil, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Data.Result) != 1 {
		t.Fatalf("a match-all query in B returned %d series", len(r.Data.Result))
	}
}

func createWorkspace(t *testing.T, c *client.Client, alias string) string {
	t.Helper()
	var out struct{ WorkspaceID string }
	if err := c.JSON(context.Background(), "POST", "/workspaces", nil, map[string]any{"alias": alias}, &out); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "workspace ACTIVE", func() bool {
		var d struct {
			Workspace struct {
				Status struct{ StatusCode string } `json:"status"`
			} `json:"workspace"`
		}
		return c.JSON(context.Background(), "GET", "/workspaces/"+out.WorkspaceID, nil, nil, &d) == nil && d.Workspace.Status.StatusCode == "ACTIVE"
	})
	return out.WorkspaceID
}

func queryNames(t *testing.T, c *client.Client, ws string) string {
	t.Helper()
	var r struct {
		Data []string `json:"data"`
	}
	if err := c.JSON(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/label/__name__/values", nil, nil, &r); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(r.Data)
}

// TestIAMCommands drives `kansoku iam` end to end.
func TestIAMCommands(t *testing.T) {
	s := startServer(t, "")
	ws := createWorkspace(t, s.Admin, "iam")
	doc := filepath.Join(t.TempDir(), "policy.json")
	os.WriteFile(doc, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["aps:RemoteWrite","aps:QueryMetrics"],"Resource":"arn:aws:aps:*:*:workspace/`+ws+`"}]}`), 0o600)
	out, code := s.kansoku(t, "iam", "create-policy", "--name", "team-rw", "--document", "file://"+doc)
	if code != 0 || !strings.Contains(out, `"arn": "arn:aws:iam::`) {
		t.Fatalf("create-policy: %d %s", code, out)
	}
	var created struct {
		Policy struct{ ARN string } `json:"policy"`
	}
	_ = json.Unmarshal([]byte(out), &created)
	if out, code := s.kansoku(t, "iam", "create-user", "team", "--policy", "team-rw"); code != 0 {
		t.Fatalf("create-user: %s", out)
	}
	out, code = s.kansoku(t, "iam", "simulate", "--user", "team", "--action", "aps:QueryMetrics", "--resource", "arn:aws:aps:us-east-1:123456789012:workspace/"+ws)
	if code != 0 || !strings.Contains(out, `"evalDecision": "allowed"`) {
		t.Fatalf("simulate allowed: %d %s", code, out)
	}
	out, _ = s.kansoku(t, "iam", "simulate", "--user", "team", "--action", "aps:DeleteWorkspace", "--resource", "*")
	if !strings.Contains(out, `"evalDecision": "implicitDeny"`) {
		t.Fatalf("simulate denied: %s", out)
	}
	out, code = s.kansoku(t, "iam", "list-policies")
	if code != 0 || !strings.Contains(out, "AmazonPrometheusRemoteWriteAccess") || !strings.Contains(out, "team-rw") {
		t.Fatalf("list-policies: %s", out)
	}
	out, code = s.kansoku(t, "iam", "delete-policy", created.Policy.ARN)
	if code == 0 || !strings.Contains(out, "DeleteConflictException") {
		t.Fatalf("deleting an attached policy: %d %s", code, out)
	}
	if out, code := s.kansoku(t, "iam", "detach-user-policy", "--user", "team", "--policy-arn", created.Policy.ARN); code != 0 {
		t.Fatalf("detach: %s", out)
	}
	out, _ = s.kansoku(t, "iam", "list-attached-user-policies", "team")
	if strings.Contains(out, "team-rw") {
		t.Fatalf("still attached: %s", out)
	}
	if out, code := s.kansoku(t, "iam", "delete-policy", created.Policy.ARN); code != 0 {
		t.Fatalf("delete-policy: %s", out)
	}
	os.WriteFile(doc, []byte(`{"Statement":[{"Effect":"Permit","Action":"*","Resource":"*"}]}`), 0o600)
	out, code = s.kansoku(t, "iam", "create-policy", "--name", "bad", "--document", doc)
	if code == 0 || !strings.Contains(out, "MalformedPolicyDocumentException") || !strings.Contains(out, "Effect") {
		t.Fatalf("malformed policy: %d %s", code, out)
	}
	out, code = s.kansoku(t, "iam", "list-users")
	if code != 0 || !strings.Contains(out, "admin") || !strings.Contains(out, "team") {
		t.Fatalf("list-users: %s", out)
	}
	if out, code := s.kansoku(t, "iam", "delete-user", "team"); code != 0 {
		t.Fatalf("delete-user: %s", out)
	}
}
