package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAWSCLIControlPlane drives every other AMP control-plane operation
// with Debian's aws CLI v2 and checks what it prints and its exit codes.
func TestAWSCLIControlPlane(t *testing.T) {
	aws := need(t, "/usr/bin/aws")
	s := startServer(t, "", "--workspace.max-per-account", "2")
	env := awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1")
	ep := []string{"--endpoint-url", s.URL, "--output", "json"}
	amp := func(args ...string) (string, int) {
		return run(t, env, aws, append(append([]string{"amp"}, args...), ep...)...)
	}
	ok := func(what string, args ...string) string {
		t.Helper()
		out, code := amp(args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", what, code, out)
		}
		return out
	}
	mustFail := func(out string, code int, what, errType string) {
		t.Helper()
		if code != 254 || !strings.Contains(out, "An error occurred ("+errType+")") {
			t.Fatalf("%s: want exit 254 and %s, got %d\n%s", what, errType, code, out)
		}
	}
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return "fileb://" + p
	}
	rules := file("rules.yaml", "groups:\n  - name: example\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n")
	badRules := file("bad.yaml", "groups:\n  - name: example\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up\n")
	am := file("am.yaml", "alertmanager_config: |\n  route:\n    receiver: 'default'\n  receivers:\n  - name: 'default'\n    sns_configs:\n    - topic_arn: arn:aws:sns:us-east-2:123456789012:My-Topic\n      sigv4:\n        region: us-east-2\n      attributes:\n        key: key1\n        value: value1\n")
	badAM := file("badam.yaml", "alertmanager_config: |\n  route:\n    receiver: missing\n  receivers:\n  - name: default\n")

	var ws struct{ WorkspaceID, Arn string }
	_ = json.Unmarshal([]byte(ok("create-workspace", "create-workspace", "--alias", "cp", "--tags", "env=test")), &ws)
	ok("wait", "wait", "workspace-active", "--workspace-id", ws.WorkspaceID)
	id := ws.WorkspaceID
	nsARN := fmt.Sprintf("arn:aws:aps:us-east-1:%s:rulegroupsnamespace/%s/team-a", strings.Split(ws.Arn, ":")[4], id)

	// Rule-groups namespaces.
	out := ok("create namespace", "create-rule-groups-namespace", "--workspace-id", id, "--name", "team-a", "--data", rules, "--tags", "team=a")
	if !strings.Contains(out, `"statusCode": "CREATING"`) || !strings.Contains(out, nsARN) {
		t.Fatalf("create namespace printed:\n%s", out)
	}
	out = ok("describe namespace", "describe-rule-groups-namespace", "--workspace-id", id, "--name", "team-a")
	if !strings.Contains(out, `"data": "Z3JvdXBzOgog`) || !strings.Contains(out, `"team": "a"`) {
		t.Fatalf("describe namespace:\n%s", out)
	}
	out = ok("create invalid namespace", "create-rule-groups-namespace", "--workspace-id", id, "--name", "broken", "--data", badRules)
	if !strings.Contains(out, `"statusCode": "CREATION_FAILED"`) || !strings.Contains(out, `5:15: group \"example\"`) {
		t.Fatalf("an invalid rule file must be CREATION_FAILED naming its line:\n%s", out)
	}
	out = ok("put invalid", "put-rule-groups-namespace", "--workspace-id", id, "--name", "team-a", "--data", badRules)
	if !strings.Contains(out, `"statusCode": "UPDATE_FAILED"`) {
		t.Fatalf("invalid put:\n%s", out)
	}
	ok("put valid", "put-rule-groups-namespace", "--workspace-id", id, "--name", "team-a", "--data", rules)
	out = ok("list namespaces", "list-rule-groups-namespaces", "--workspace-id", id, "--name", "team")
	if strings.Count(out, `"name":`) != 1 || !strings.Contains(out, `"team-a"`) {
		t.Fatalf("list --name team:\n%s", out)
	}
	out = ok("paged list", "list-rule-groups-namespaces", "--workspace-id", id, "--page-size", "1")
	if strings.Count(out, `"name":`) != 2 {
		t.Fatalf("paged list should walk both namespaces:\n%s", out)
	}
	out, code := amp("create-rule-groups-namespace", "--workspace-id", id, "--name", "team-a", "--data", rules)
	mustFail(out, code, "duplicate namespace", "ConflictException")
	out, code = amp("create-rule-groups-namespace", "--workspace-id", id, "--name", "bad name!", "--data", rules)
	mustFail(out, code, "bad namespace name", "ValidationException")
	out, code = amp("describe-rule-groups-namespace", "--workspace-id", id, "--name", "nope")
	mustFail(out, code, "unknown namespace", "ResourceNotFoundException")

	// Tags on the namespace and on the workspace.
	ok("tag namespace", "tag-resource", "--resource-arn", nsARN, "--tags", "k=v")
	out = ok("list namespace tags", "list-tags-for-resource", "--resource-arn", nsARN)
	if !strings.Contains(out, `"k": "v"`) || !strings.Contains(out, `"team": "a"`) {
		t.Fatalf("namespace tags:\n%s", out)
	}
	ok("untag workspace", "untag-resource", "--resource-arn", ws.Arn, "--tag-keys", "env")
	out = ok("list workspace tags", "list-tags-for-resource", "--resource-arn", ws.Arn)
	if strings.Contains(out, "env") {
		t.Fatalf("untag did not remove env:\n%s", out)
	}
	var many []string
	for i := 0; i < 51; i++ {
		many = append(many, fmt.Sprintf("k%d=v", i))
	}
	out, code = amp("tag-resource", "--resource-arn", ws.Arn, "--tags", strings.Join(many, ","))
	mustFail(out, code, "51 tags", "ValidationException")
	out, code = amp("tag-resource", "--resource-arn", ws.Arn, "--tags", "aws:owner=x")
	mustFail(out, code, "aws: prefix", "ValidationException")

	ok("delete namespace", "delete-rule-groups-namespace", "--workspace-id", id, "--name", "team-a")
	out, code = amp("describe-rule-groups-namespace", "--workspace-id", id, "--name", "team-a")
	mustFail(out, code, "deleted namespace", "ResourceNotFoundException")

	// Alertmanager definition.
	out, code = amp("describe-alert-manager-definition", "--workspace-id", id)
	mustFail(out, code, "no definition yet", "ResourceNotFoundException")
	out = ok("create definition", "create-alert-manager-definition", "--workspace-id", id, "--data", am)
	if !strings.Contains(out, `"statusCode": "CREATING"`) {
		t.Fatalf("create definition:\n%s", out)
	}
	out, code = amp("create-alert-manager-definition", "--workspace-id", id, "--data", am)
	mustFail(out, code, "second definition", "ConflictException")
	waitFor(t, 0, "definition ACTIVE", func() bool {
		out, code := amp("describe-alert-manager-definition", "--workspace-id", id)
		return code == 0 && strings.Contains(out, `"statusCode": "ACTIVE"`)
	})
	out = ok("put invalid definition", "put-alert-manager-definition", "--workspace-id", id, "--data", badAM)
	if !strings.Contains(out, `"statusCode": "UPDATE_FAILED"`) || !strings.Contains(out, `undefined receiver \"missing\"`) {
		t.Fatalf("invalid definition:\n%s", out)
	}
	ok("delete definition", "delete-alert-manager-definition", "--workspace-id", id)

	// Logging configuration.
	group := fmt.Sprintf("arn:aws:logs:us-east-1:%s:log-group:/amp/%s:*", strings.Split(ws.Arn, ":")[4], id)
	out, code = amp("create-logging-configuration", "--workspace-id", id, "--log-group-arn", "arn:aws:logs:us-east-1:123456789012:log-group:no-star")
	mustFail(out, code, "log group without :*", "ValidationException")
	ok("create logging", "create-logging-configuration", "--workspace-id", id, "--log-group-arn", group)
	waitFor(t, 0, "logging ACTIVE", func() bool {
		out, code := amp("describe-logging-configuration", "--workspace-id", id)
		return code == 0 && strings.Contains(out, `"statusCode": "ACTIVE"`) && strings.Contains(out, `"workspace": "`+id+`"`)
	})
	ok("update logging", "update-logging-configuration", "--workspace-id", id, "--log-group-arn", strings.Replace(group, "/amp/", "/amp2/", 1))
	// The failed rule upload above went to the workspace log only once
	// logging was on; a new one does now.
	ok("invalid namespace with logging on", "create-rule-groups-namespace", "--workspace-id", id, "--name", "broken2", "--data", badRules)
	waitFor(t, 0, "the ruler error in kansoku logs", func() bool {
		out, code := s.kansoku(t, "logs", id, "--component", "ruler")
		return code == 0 && strings.Contains(out, "broken2") && strings.Contains(out, "ERROR")
	})
	ok("delete logging", "delete-logging-configuration", "--workspace-id", id)

	// Quota: 2 workspaces per account here.
	ok("second workspace", "create-workspace")
	out, code = amp("create-workspace")
	mustFail(out, code, "third workspace", "ServiceQuotaExceededException")

	// A key without permission is refused with AccessDeniedException, naming action and resource.
	keys, kcode := s.kansoku(t, "keys", "create", "--name", "writer", "--policy", "AmazonPrometheusRemoteWriteAccess")
	if kcode != 0 {
		t.Fatalf("keys create: %s", keys)
	}
	m := map[string]string{}
	for _, line := range strings.Split(keys, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	writerEnv := awsEnv(t, m["AWS_ACCESS_KEY_ID"], m["AWS_SECRET_ACCESS_KEY"], "us-east-1")
	out, code = run(t, writerEnv, aws, append([]string{"amp", "delete-workspace", "--workspace-id", id}, ep...)...)
	mustFail(out, code, "writer deleting a workspace", "AccessDeniedException")
	if !strings.Contains(out, "aps:DeleteWorkspace") || !strings.Contains(out, "workspace/"+id) {
		t.Fatalf("the refusal should name the action and the resource:\n%s", out)
	}
	out, code = run(t, writerEnv, aws, append([]string{"amp", "list-rule-groups-namespaces", "--workspace-id", id}, ep...)...)
	mustFail(out, code, "writer listing namespaces", "AccessDeniedException")

	// Everything above is in the audit trail, refusals included.
	audit, acode := s.kansoku(t, "audit", "--errors", "--limit", "200")
	if acode != 0 || !strings.Contains(audit, "AccessDeniedException") || !strings.Contains(audit, "writer") {
		t.Fatalf("kansoku audit --errors:\n%s", audit)
	}
	audit, acode = s.kansoku(t, "audit", "--event-name", "CreateRuleGroupsNamespace", "--json")
	if acode != 0 || strings.Count(audit, `"eventName":"CreateRuleGroupsNamespace"`) < 4 || !strings.Contains(audit, `"userAgent":"aws-cli/2.9.19`) {
		t.Fatalf("kansoku audit --event-name:\n%s", audit)
	}
	if strings.Contains(audit, m["AWS_SECRET_ACCESS_KEY"]) {
		t.Fatal("a secret in the audit trail")
	}
}
