package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPrometheusRoleARN: Prometheus 3.15's sigv4 with role_arn assumes the
// role through Kansoku's STS (AWS_ENDPOINT_URL_STS) with a user's keys
// that alone may not write, and remote-writes with the session.
func TestPrometheusRoleARN(t *testing.T) {
	s := startServer(t, "")
	admin := cli{t: t, bin: need(t, "/usr/bin/aws"), env: awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1"), url: s.URL}
	var me struct{ Account string }
	admin.ok(&me, "sts", "get-caller-identity")
	ws := createWorkspace(t, s.Admin, "role-arn")
	admin.ok(nil, "iam", "create-user", "--user-name", "scraper")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	admin.ok(&key, "iam", "create-access-key", "--user-name", "scraper")
	roleARN := "arn:aws:iam::" + me.Account + ":role/prometheus-writer"
	admin.ok(nil, "iam", "create-role", "--role-name", "prometheus-writer", "--assume-role-policy-document",
		trustDoc(`{"AWS":"arn:aws:iam::`+me.Account+`:user/scraper"}`))
	admin.ok(nil, "iam", "attach-role-policy", "--role-name", "prometheus-writer", "--policy-arn", "arn:aws:iam::aws:policy/AmazonPrometheusRemoteWriteAccess")

	port := freePort(t)
	cfg := fmt.Sprintf(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ['127.0.0.1:%d']
remote_write:
  - url: %s/workspaces/%s/api/v1/remote_write
    sigv4:
      region: us-east-1
      role_arn: %s
    queue_config:
      batch_send_deadline: 500ms
`, port, s.URL, ws, roleARN)
	p := startPrometheusEnv(t, cfg, []string{"HOME=" + t.TempDir(), "AWS_ACCESS_KEY_ID=" + key.AccessKey.AccessKeyId,
		"AWS_SECRET_ACCESS_KEY=" + key.AccessKey.SecretAccessKey, "AWS_ENDPOINT_URL_STS=" + s.URL, "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true"}, fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	waitFor(t, 60*time.Second, "samples Prometheus wrote with its role session", func() bool {
		var r struct {
			Data struct{ Result []any } `json:"data"`
		}
		err := s.Admin.JSON(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {`up{job="self"}`}}, nil, &r)
		return err == nil && len(r.Data.Result) == 1
	})
	if l := p.log(); strings.Contains(l, "HTTP status 4") {
		t.Fatalf("Prometheus was refused:\n%s", lastLines(l, 20))
	}
	// The writes came from the role's session.
	waitFor(t, 10*time.Second, "the session in the audit trail", func() bool {
		var events struct{ Events []map[string]any }
		_ = s.Admin.JSON(context.Background(), "GET", "/admin/v1/audit", url.Values{"eventName": {"AssumeRole"}}, nil, &events)
		b, _ := json.Marshal(events)
		return strings.Contains(string(b), "arn:aws:iam::"+me.Account+":user/scraper")
	})
}

// TestTagsAndResourcePolicies: conditions on aws:ResourceTag,
// aws:RequestTag, aws:TagKeys and aws:PrincipalTag decide as IAM's do, and
// a workspace resource policy grants a principal that has no identity
// policy, while an explicit Deny in it wins over an identity Allow.
// botocore presigns a request with a session token in the URL.
func TestTagsAndResourcePolicies(t *testing.T) {
	s := startServer(t, "")
	admin := cli{t: t, bin: need(t, "/usr/bin/aws"), env: awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1"), url: s.URL}
	var me struct{ Account string }
	admin.ok(&me, "sts", "get-caller-identity")
	acct := me.Account
	var obs, other struct{ WorkspaceId string }
	admin.ok(&obs, "amp", "create-workspace", "--alias", "obs", "--tags", "team=obs")
	admin.ok(&other, "amp", "create-workspace", "--alias", "other", "--tags", "team=payments")

	// A role tagged team=obs whose policy lets it describe and tag only
	// workspaces of its own team, and create only workspaces tagged so.
	admin.ok(nil, "iam", "create-user", "--user-name", "alice")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	admin.ok(&key, "iam", "create-access-key", "--user-name", "alice")
	alice := cli{t: t, bin: admin.bin, env: awsEnv(t, key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey, "us-east-1"), url: s.URL}
	admin.ok(nil, "iam", "create-role", "--role-name", "team-role", "--tags", "Key=team,Value=obs", "--assume-role-policy-document",
		trustDoc(`{"AWS":"arn:aws:iam::`+acct+`:user/alice"}`))
	admin.ok(nil, "iam", "put-role-policy", "--role-name", "team-role", "--policy-name", "abac", "--policy-document", `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":["aps:DescribeWorkspace","aps:TagResource"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}},
	  {"Effect":"Deny","Action":"aps:TagResource","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["team"]}}},
	  {"Effect":"Allow","Action":"aps:CreateWorkspace","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"${aws:PrincipalTag/team}"}}},
	  {"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*","Condition":{"Null":{"aws:MultiFactorAuthPresent":"false"},"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}`)
	var sess stsCreds
	alice.ok(&sess, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+acct+":role/team-role", "--role-session-name", "abac")
	role := alice.with(sess.env()...)
	role.ok(nil, "amp", "describe-workspace", "--workspace-id", obs.WorkspaceId)
	role.fails("AccessDeniedException", "amp", "describe-workspace", "--workspace-id", other.WorkspaceId)
	wsARN := func(id string) string { return "arn:aws:aps:us-east-1:" + acct + ":workspace/" + id }
	role.ok(nil, "amp", "tag-resource", "--resource-arn", wsARN(obs.WorkspaceId), "--tags", "owner=alice")
	role.fails("AccessDeniedException", "amp", "tag-resource", "--resource-arn", wsARN(obs.WorkspaceId), "--tags", "team=payments")
	role.fails("AccessDeniedException", "amp", "tag-resource", "--resource-arn", wsARN(other.WorkspaceId), "--tags", "owner=alice")
	role.ok(nil, "amp", "create-workspace", "--alias", "mine", "--tags", "team=obs")
	role.fails("AccessDeniedException", "amp", "create-workspace", "--alias", "theirs", "--tags", "team=payments")
	role.fails("AccessDeniedException", "amp", "create-workspace", "--alias", "untagged")
	// Temporary credentials carry aws:MultiFactorAuthPresent=false.
	role.ok(nil, "amp", "list-workspaces")
	// Session tags override the role's (and need sts:TagSession in the trust policy).
	alice.fails("AccessDenied", "sts", "assume-role", "--role-arn", "arn:aws:iam::"+acct+":role/team-role", "--role-session-name", "tagged", "--tags", "Key=team,Value=payments")
	admin.ok(nil, "iam", "update-assume-role-policy", "--role-name", "team-role", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:user/alice"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`)
	var tagged stsCreds
	alice.ok(&tagged, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+acct+":role/team-role", "--role-session-name", "tagged", "--tags", "Key=team,Value=payments")
	payments := alice.with(tagged.env()...)
	payments.ok(nil, "amp", "describe-workspace", "--workspace-id", other.WorkspaceId)
	payments.fails("AccessDeniedException", "amp", "describe-workspace", "--workspace-id", obs.WorkspaceId)

	// Resource policies (the CLI v1 knows AMP's PutResourcePolicy).
	v1 := admin
	v1.bin = awsV1(t)
	aliceARN := "arn:aws:iam::" + acct + ":user/alice"
	var put struct{ PolicyStatus, RevisionId string }
	v1.ok(&put, "amp", "put-resource-policy", "--workspace-id", other.WorkspaceId, "--revision-id", "NO_POLICY", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+aliceARN+`"},"Action":["aps:QueryMetrics","aps:RemoteWrite","aps:DeleteWorkspace"],"Resource":"`+wsARN(other.WorkspaceId)+`"}]}`)
	if put.PolicyStatus != "ACTIVE" || put.RevisionId == "" {
		t.Fatalf("put-resource-policy: %+v", put)
	}
	var desc struct{ PolicyDocument, PolicyStatus, RevisionId string }
	v1.ok(&desc, "amp", "describe-resource-policy", "--workspace-id", other.WorkspaceId)
	if desc.RevisionId != put.RevisionId || !strings.Contains(desc.PolicyDocument, aliceARN) {
		t.Fatalf("describe-resource-policy: %+v", desc)
	}
	v1.fails("ConflictException", "amp", "put-resource-policy", "--workspace-id", other.WorkspaceId, "--revision-id", "stale", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"aps:QueryMetrics"}]}`)
	query := func(c cli, ws string) (string, int) {
		return c.run("amp", "list-rule-groups-namespaces", "--workspace-id", ws) // not shared: must stay refused
	}
	if out, code := query(alice, other.WorkspaceId); code == 0 {
		t.Fatalf("a non-Prometheus action granted by a resource policy: %s", out)
	}
	// alice has no identity policy: the workspace's policy alone lets her query it.
	ac := stsCredsFromKeys(key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey)
	status := func(c stsCreds, method, path string) int {
		resp, _, err := clientFor(s.URL, c).Raw(context.Background(), method, path, url.Values{"query": {"up"}}, "", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	if code := status(ac, "GET", "/workspaces/"+other.WorkspaceId+"/api/v1/query"); code != 200 {
		t.Fatalf("query granted by the resource policy: %d", code)
	}
	if code := status(ac, "GET", "/workspaces/"+obs.WorkspaceId+"/api/v1/query"); code != 403 {
		t.Fatalf("query of a workspace without a policy: %d", code)
	}
	alice.fails("AccessDeniedException", "amp", "delete-workspace", "--workspace-id", other.WorkspaceId)
	// An explicit Deny in the resource policy wins over the admin's identity Allow.
	v1.ok(nil, "amp", "put-resource-policy", "--workspace-id", other.WorkspaceId, "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::`+acct+`:user/admin"},"Action":"aps:QueryMetrics","Resource":"*"}]}`)
	admc := stsCredsFromKeys(s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"])
	if code := status(admc, "GET", "/workspaces/"+other.WorkspaceId+"/api/v1/query"); code != 403 {
		t.Fatalf("query denied by the resource policy: %d", code)
	}
	if code := status(ac, "GET", "/workspaces/"+other.WorkspaceId+"/api/v1/query"); code != 403 {
		t.Fatalf("the replaced policy no longer grants alice: %d", code)
	}
	v1.ok(nil, "amp", "delete-resource-policy", "--workspace-id", other.WorkspaceId)
	v1.fails("ResourceNotFoundException", "amp", "describe-resource-policy", "--workspace-id", other.WorkspaceId)
	if code := status(admc, "GET", "/workspaces/"+other.WorkspaceId+"/api/v1/query"); code != 200 {
		t.Fatalf("after the policy is gone: %d", code)
	}

	// botocore presigns a URL with the session token in it (X-Amz-Security-Token).
	py := strings.TrimSuffix(v1.bin, "/aws") + "/python"
	script := `
import sys, botocore.session
s = botocore.session.get_session()
c = s.create_client("amp", region_name="us-east-1", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], aws_session_token=sys.argv[4])
print(c.generate_presigned_url("list_workspaces", Params={}, ExpiresIn=300))
`
	out, code := run(t, []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}, py, "-c", script, s.URL, sess.Credentials.AccessKeyID, sess.Credentials.SecretAccessKey, sess.Credentials.SessionToken)
	presigned := strings.TrimSpace(out)
	if code != 0 || !strings.Contains(presigned, "X-Amz-Security-Token=") {
		t.Fatalf("presign: %d %s", code, out)
	}
	resp, err := http.Get(presigned)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"workspaces"`) {
		t.Fatalf("presigned with a session token: %d %s", resp.StatusCode, body)
	}
	u, _ := url.Parse(presigned)
	q := u.Query()
	q.Set("X-Amz-Security-Token", flipChar(q.Get("X-Amz-Security-Token"), 30))
	u.RawQuery = q.Encode()
	resp, err = http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("presigned URL with an edited token: %d", resp.StatusCode)
	}
}
