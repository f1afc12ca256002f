package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kansoku/kansoku/internal/client"
)

// awsV1 is the newer AWS CLI v1 of the machine image (pip awscli 1.45,
// botocore 1.43): unlike Debian's v2.9 it knows AWS_ENDPOINT_URL_STS,
// which its assume-role and web-identity credential providers follow.
func awsV1(t *testing.T) string {
	t.Helper()
	matches, _ := filepath.Glob("/root/.pyenv/versions/*/bin/aws")
	if home, err := os.UserHomeDir(); err == nil {
		more, _ := filepath.Glob(filepath.Join(home, ".pyenv/versions/*/bin/aws"))
		matches = append(matches, more...)
	}
	if len(matches) == 0 {
		t.Fatal("the AWS CLI v1 (pip awscli, part of the machine image) is missing")
	}
	return matches[0]
}

// cli runs an aws command against s and decodes its JSON output.
type cli struct {
	t   *testing.T
	bin string
	env []string
	url string
}

func (c cli) run(args ...string) (string, int) {
	c.t.Helper()
	return run(c.t, c.env, c.bin, append(args, "--endpoint-url", c.url, "--output", "json")...)
}

func (c cli) ok(out any, args ...string) {
	c.t.Helper()
	o, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("aws %v: %d\n%s", args, code, o)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(o), out); err != nil {
			c.t.Fatalf("aws %v: %v\n%s", args, err, o)
		}
	}
}

// fails asserts that a command fails with an error naming code.
func (c cli) fails(code string, args ...string) string {
	c.t.Helper()
	o, rc := c.run(args...)
	if rc == 0 || !strings.Contains(o, "("+code+")") {
		c.t.Fatalf("aws %v: want error %s, got %d\n%s", args, code, rc, o)
	}
	return o
}

func (c cli) with(env ...string) cli {
	c.env = append(append([]string{}, c.env...), env...)
	return c
}

type stsCreds struct {
	Credentials struct {
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
	AssumedRoleUser struct{ Arn, AssumedRoleId string }
}

func (c stsCreds) env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + c.Credentials.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + c.Credentials.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + c.Credentials.SessionToken}
}

func (c stsCreds) aws() aws.Credentials {
	return aws.Credentials{AccessKeyID: c.Credentials.AccessKeyID, SecretAccessKey: c.Credentials.SecretAccessKey, SessionToken: c.Credentials.SessionToken}
}

func trustDoc(principal string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":%s,"Action":"sts:AssumeRole"}]}`, principal)
}

// TestRolesWithAWSCLI drives roles and temporary credentials with the
// real AWS CLIs: IAM calls create a user, roles and policies; a user with
// no permission of its own assumes a role and works with its session;
// trust policies, External IDs, session policies, revocation and deletion
// refuse what they must.
func TestRolesWithAWSCLI(t *testing.T) {
	s := startServer(t, "")
	admin := cli{t: t, bin: need(t, "/usr/bin/aws"), env: awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1"), url: s.URL}

	var me struct{ UserId, Account, Arn string }
	admin.ok(&me, "sts", "get-caller-identity")
	if me.Arn != "arn:aws:iam::"+me.Account+":user/admin" || !strings.HasPrefix(me.UserId, "AIDA") {
		t.Fatalf("get-caller-identity: %+v", me)
	}
	acct := me.Account
	roleARN := func(name string) string { return "arn:aws:iam::" + acct + ":role/" + name }

	// A user with no policy at all.
	admin.ok(nil, "iam", "create-user", "--user-name", "dev", "--tags", "Key=team,Value=obs")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	admin.ok(&key, "iam", "create-access-key", "--user-name", "dev")
	dev := cli{t: t, bin: admin.bin, env: awsEnv(t, key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey, "us-east-1"), url: s.URL}
	dev.fails("AccessDeniedException", "amp", "list-workspaces")

	// A role that trusts dev by name, with AMP's managed full access.
	var created struct{ Role struct{ Arn, RoleId string } }
	admin.ok(&created, "iam", "create-role", "--role-name", "Writer", "--assume-role-policy-document",
		trustDoc(`{"AWS":"arn:aws:iam::`+acct+`:user/dev"}`), "--tags", "Key=team,Value=obs", "--max-session-duration", "7200")
	if created.Role.Arn != roleARN("Writer") || !strings.HasPrefix(created.Role.RoleId, "AROA") {
		t.Fatalf("create-role: %+v", created)
	}
	admin.ok(nil, "iam", "attach-role-policy", "--role-name", "Writer", "--policy-arn", "arn:aws:iam::aws:policy/AmazonPrometheusFullAccess")
	var got struct {
		Role struct {
			AssumeRolePolicyDocument struct{ Statement []map[string]any }
			MaxSessionDuration       int
			Tags                     []struct{ Key, Value string }
		}
	}
	admin.ok(&got, "iam", "get-role", "--role-name", "Writer")
	if len(got.Role.AssumeRolePolicyDocument.Statement) != 1 || got.Role.MaxSessionDuration != 7200 || len(got.Role.Tags) != 1 {
		t.Fatalf("get-role: %+v", got)
	}
	var attached struct{ AttachedPolicies []struct{ PolicyArn string } }
	admin.ok(&attached, "iam", "list-attached-role-policies", "--role-name", "Writer")
	if len(attached.AttachedPolicies) != 1 {
		t.Fatalf("attached: %+v", attached)
	}

	var sess stsCreds
	dev.ok(&sess, "sts", "assume-role", "--role-arn", roleARN("Writer"), "--role-session-name", "ci")
	if !strings.HasPrefix(sess.Credentials.AccessKeyID, "ASIA") || sess.AssumedRoleUser.Arn != "arn:aws:sts::"+acct+":assumed-role/Writer/ci" {
		t.Fatalf("assume-role: %+v", sess)
	}
	writer := dev.with(sess.env()...)
	writer.ok(&me, "sts", "get-caller-identity")
	if me.Arn != sess.AssumedRoleUser.Arn || me.UserId != created.Role.RoleId+":ci" {
		t.Fatalf("the session's identity: %+v", me)
	}
	var ws struct{ WorkspaceId string }
	writer.ok(&ws, "amp", "create-workspace", "--alias", "from-a-role", "--tags", "team=obs")
	writer.ok(nil, "amp", "list-workspaces")
	writer.fails("AccessDenied", "iam", "list-users")

	// Signed requests with the session token, as the Go SDK signs them.
	sc := client.New(s.URL, "us-east-1", sess.aws())
	var list struct{ Workspaces []any }
	if err := sc.JSON(context.Background(), "GET", "/workspaces", nil, nil, &list); err != nil || len(list.Workspaces) != 1 {
		t.Fatalf("SDK-signed with the session token: %v %+v", err, list)
	}
	// A token changed by one character, or another session's token, is refused.
	forged := sess.aws()
	forged.SessionToken = flipChar(forged.SessionToken, len(forged.SessionToken)/2)
	if err := client.New(s.URL, "us-east-1", forged).JSON(context.Background(), "GET", "/workspaces", nil, nil, nil); err == nil || !strings.Contains(err.Error(), "UnrecognizedClientException") {
		t.Fatalf("edited session token: %v", err)
	}
	var other stsCreds
	dev.ok(&other, "sts", "assume-role", "--role-arn", roleARN("Writer"), "--role-session-name", "other")
	swapped := sess.aws()
	swapped.SessionToken = other.Credentials.SessionToken
	if err := client.New(s.URL, "us-east-1", swapped).JSON(context.Background(), "GET", "/workspaces", nil, nil, nil); err == nil || !strings.Contains(err.Error(), "UnrecognizedClientException") {
		t.Fatalf("another session's token: %v", err)
	}
	noToken := sess.aws()
	noToken.SessionToken = ""
	if err := client.New(s.URL, "us-east-1", noToken).JSON(context.Background(), "GET", "/workspaces", nil, nil, nil); err == nil || !strings.Contains(err.Error(), "UnrecognizedClientException") {
		t.Fatalf("temporary key without its token: %v", err)
	}

	// GetSessionToken: temporary credentials of the user itself, which
	// cannot ask for more of their kind.
	var st stsCreds
	dev.ok(&st, "sts", "get-session-token", "--duration-seconds", "900")
	devSession := dev.with(st.env()...)
	devSession.ok(&me, "sts", "get-caller-identity")
	if !strings.HasPrefix(st.Credentials.AccessKeyID, "ASIA") || me.Arn != "arn:aws:iam::"+acct+":user/dev" {
		t.Fatalf("get-session-token: %+v %+v", st, me)
	}
	devSession.fails("AccessDenied", "sts", "get-session-token")

	// Trust: a role that trusts only admin; a duration over the role's maximum.
	admin.ok(nil, "iam", "create-role", "--role-name", "AdminOnly", "--assume-role-policy-document", trustDoc(`{"AWS":"arn:aws:iam::`+acct+`:user/admin"}`))
	dev.fails("AccessDenied", "sts", "assume-role", "--role-arn", roleARN("AdminOnly"), "--role-session-name", "xx")
	dev.fails("AccessDenied", "sts", "assume-role", "--role-arn", roleARN("NoSuchRole"), "--role-session-name", "xx")
	dev.fails("ValidationError", "sts", "assume-role", "--role-arn", roleARN("Writer"), "--role-session-name", "xx", "--duration-seconds", "10800")
	// Role chaining: at most an hour.
	admin.ok(nil, "iam", "update-assume-role-policy", "--role-name", "AdminOnly", "--policy-document",
		trustDoc(`{"AWS":["arn:aws:iam::`+acct+`:user/admin","arn:aws:iam::`+acct+`:role/Writer"]}`))
	writer.fails("ValidationError", "sts", "assume-role", "--role-arn", roleARN("AdminOnly"), "--role-session-name", "chain", "--duration-seconds", "7200")
	var chained stsCreds
	writer.ok(&chained, "sts", "assume-role", "--role-arn", roleARN("AdminOnly"), "--role-session-name", "chain")

	// External ID: the role trusts the account with a condition, which
	// also needs the caller's own permission to assume it.
	admin.ok(nil, "iam", "create-role", "--role-name", "Partner", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+acct+`"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"kansoku-7f3a"}}}]}`)
	dev.fails("AccessDenied", "sts", "assume-role", "--role-arn", roleARN("Partner"), "--role-session-name", "pp", "--external-id", "kansoku-7f3a")
	admin.ok(nil, "iam", "put-user-policy", "--user-name", "dev", "--policy-name", "assume-partner", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"`+roleARN("Partner")+`"}]}`)
	dev.fails("AccessDenied", "sts", "assume-role", "--role-arn", roleARN("Partner"), "--role-session-name", "pp")
	dev.fails("AccessDenied", "sts", "assume-role", "--role-arn", roleARN("Partner"), "--role-session-name", "pp", "--external-id", "wrong-id")
	dev.ok(nil, "sts", "assume-role", "--role-arn", roleARN("Partner"), "--role-session-name", "pp", "--external-id", "kansoku-7f3a")

	// A session policy narrows the role's permissions and cannot widen them.
	var narrow stsCreds
	dev.ok(&narrow, "sts", "assume-role", "--role-arn", roleARN("Writer"), "--role-session-name", "narrow", "--policy",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["aps:ListWorkspaces","iam:*"],"Resource":"*"}]}`)
	narrowed := dev.with(narrow.env()...)
	narrowed.ok(nil, "amp", "list-workspaces")
	narrowed.fails("AccessDeniedException", "amp", "describe-workspace", "--workspace-id", ws.WorkspaceId)
	narrowed.fails("AccessDenied", "iam", "list-users")

	// A profile with role_arn and source_profile (the CLI v1 finds
	// Kansoku's STS through AWS_ENDPOINT_URL_STS).
	home := t.TempDir()
	cfg := filepath.Join(home, "config")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("[profile base]\nregion = us-east-1\naws_access_key_id = %s\naws_secret_access_key = %s\n\n[profile writer]\nregion = us-east-1\nrole_arn = %s\nsource_profile = base\nrole_session_name = profile\n",
		key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey, roleARN("Writer"))), 0o600); err != nil {
		t.Fatal(err)
	}
	v1 := cli{t: t, bin: awsV1(t), url: s.URL, env: []string{"HOME=" + home, "PATH=/usr/bin:/bin", "AWS_CONFIG_FILE=" + cfg,
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"), "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
		"AWS_ENDPOINT_URL_STS=" + s.URL, "AWS_PROFILE=writer"}}
	var viaProfile struct {
		Workspaces []struct{ WorkspaceId string }
	}
	v1.ok(&viaProfile, "amp", "list-workspaces")
	if len(viaProfile.Workspaces) != 1 || viaProfile.Workspaces[0].WorkspaceId != ws.WorkspaceId {
		t.Fatalf("amp list-workspaces through the profile's role: %+v", viaProfile)
	}
	v1.ok(&me, "sts", "get-caller-identity")
	if me.Arn != "arn:aws:sts::"+acct+":assumed-role/Writer/profile" {
		t.Fatalf("the profile's identity: %+v", me)
	}

	// The audit trail names role sessions as AssumedRole.
	waitFor(t, 10*time.Second, "the session's CreateWorkspace in the audit trail", func() bool {
		var events struct{ Events []map[string]any }
		if err := s.Admin.JSON(context.Background(), "GET", "/admin/v1/audit", url.Values{"eventName": {"CreateWorkspace"}}, nil, &events); err != nil {
			return false
		}
		for _, e := range events.Events {
			id, _ := e["userIdentity"].(map[string]any)
			sc, _ := id["sessionContext"].(map[string]any)
			issuer, _ := sc["sessionIssuer"].(map[string]any)
			if id["type"] == "AssumedRole" && id["arn"] == sess.AssumedRoleUser.Arn && issuer["arn"] == roleARN("Writer") {
				return true
			}
		}
		return false
	})
	waitFor(t, 10*time.Second, "AssumeRole in the audit trail, secrets hidden", func() bool {
		var events struct{ Events []map[string]any }
		if err := s.Admin.JSON(context.Background(), "GET", "/admin/v1/audit", url.Values{"eventName": {"AssumeRole"}}, nil, &events); err != nil {
			return false
		}
		b, _ := json.Marshal(events)
		return len(events.Events) > 0 && strings.Contains(string(b), `"sts.amazonaws.com"`) && !strings.Contains(string(b), sess.Credentials.SecretAccessKey) &&
			!strings.Contains(string(b), sess.Credentials.SessionToken[:40])
	})

	// Revoking older sessions: a Deny on aws:TokenIssueTime, as AWS's
	// console writes it; sessions issued afterwards work.
	time.Sleep(1100 * time.Millisecond)
	cut := time.Now().UTC().Format(time.RFC3339)
	admin.ok(nil, "iam", "put-role-policy", "--role-name", "Writer", "--policy-name", "AWSRevokeOlderSessions", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"`+cut+`"}}}]}`)
	writer.fails("AccessDeniedException", "amp", "list-workspaces")
	time.Sleep(1100 * time.Millisecond)
	var fresh stsCreds
	dev.ok(&fresh, "sts", "assume-role", "--role-arn", roleARN("Writer"), "--role-session-name", "fresh")
	dev.with(fresh.env()...).ok(nil, "amp", "list-workspaces")

	// The console signs in with the same temporary credentials.
	console := signInConsole(t, s.URL, map[string]string{"accessKeyId": fresh.Credentials.AccessKeyID,
		"secretAccessKey": fresh.Credentials.SecretAccessKey, "sessionToken": fresh.Credentials.SessionToken})
	if console.arn != "arn:aws:sts::"+acct+":assumed-role/Writer/fresh" {
		t.Fatalf("console session of a role: %+v", console)
	}
	if code := console.get(t, "/workspaces"); code != 200 {
		t.Fatalf("console request with a role session: %d", code)
	}
	if code := signInConsoleStatus(t, s.URL, map[string]string{"accessKeyId": fresh.Credentials.AccessKeyID,
		"secretAccessKey": "wrong" + fresh.Credentials.SecretAccessKey[5:], "sessionToken": fresh.Credentials.SessionToken}); code != 401 {
		t.Fatalf("console sign-in with a wrong secret: %d", code)
	}

	// Deleting the role ends its sessions.
	admin.fails("DeleteConflict", "iam", "delete-role", "--role-name", "Writer")
	admin.ok(nil, "iam", "delete-role-policy", "--role-name", "Writer", "--policy-name", "AWSRevokeOlderSessions")
	admin.ok(nil, "iam", "detach-role-policy", "--role-name", "Writer", "--policy-arn", "arn:aws:iam::aws:policy/AmazonPrometheusFullAccess")
	admin.ok(nil, "iam", "delete-role", "--role-name", "Writer")
	dev.with(fresh.env()...).fails("UnrecognizedClientException", "amp", "list-workspaces")
	if code := console.get(t, "/workspaces"); code != 403 {
		t.Fatalf("the console session of a deleted role: %d", code)
	}
	// A new role of the same name does not revive them.
	admin.ok(nil, "iam", "create-role", "--role-name", "Writer", "--assume-role-policy-document", trustDoc(`{"AWS":"arn:aws:iam::`+acct+`:user/dev"}`))
	dev.with(fresh.env()...).fails("UnrecognizedClientException", "amp", "list-workspaces")
	admin.fails("NoSuchEntity", "iam", "get-role", "--role-name", "Nobody")
	admin.fails("EntityAlreadyExists", "iam", "create-role", "--role-name", "writer", "--assume-role-policy-document", trustDoc(`"*"`))
	admin.fails("MalformedPolicyDocument", "iam", "create-role", "--role-name", "Bad", "--assume-role-policy-document", `{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)
}

func flipChar(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func stsCredsFromKeys(id, secret string) stsCreds {
	var c stsCreds
	c.Credentials.AccessKeyID, c.Credentials.SecretAccessKey = id, secret
	return c
}

func clientFor(baseURL string, c stsCreds) *client.Client {
	return client.New(baseURL, "us-east-1", c.aws())
}

// consoleSession is a signed-in web console session.
type consoleSession struct {
	base, cookie, csrf, arn string
}

func signInConsoleStatus(t *testing.T, base string, creds map[string]string) int {
	t.Helper()
	b, _ := json.Marshal(creds)
	resp, err := http.Post(base+"/console/api/session", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func signInConsole(t *testing.T, base string, creds map[string]string) consoleSession {
	t.Helper()
	b, _ := json.Marshal(creds)
	resp, err := http.Post(base+"/console/api/session", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Arn, CsrfToken string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("console sign-in: %d %v", resp.StatusCode, err)
	}
	s := consoleSession{base: base, csrf: out.CsrfToken, arn: out.Arn}
	for _, c := range resp.Cookies() {
		if c.Name == "kansoku_session" {
			s.cookie = c.Value
		}
	}
	return s
}

func (s consoleSession) get(t *testing.T, path string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.AddCookie(&http.Cookie{Name: "kansoku_session", Value: s.cookie})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestIAMPoliciesWithAWSCLI: managed policies and their versions, inline
// policies, tags, access keys and the simulator through `aws iam`, with
// IAM's error codes.
func TestIAMPoliciesWithAWSCLI(t *testing.T) {
	s := startServer(t, "")
	admin := cli{t: t, bin: need(t, "/usr/bin/aws"), env: awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1"), url: s.URL}
	var me struct{ Account string }
	admin.ok(&me, "sts", "get-caller-identity")
	doc := func(action string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`
	}
	var pol struct {
		Policy struct{ Arn, DefaultVersionId string }
	}
	admin.ok(&pol, "iam", "create-policy", "--policy-name", "readers", "--policy-document", doc("aps:ListWorkspaces"))
	if pol.Policy.Arn != "arn:aws:iam::"+me.Account+":policy/readers" || pol.Policy.DefaultVersionId != "v1" {
		t.Fatalf("create-policy: %+v", pol)
	}
	admin.fails("EntityAlreadyExists", "iam", "create-policy", "--policy-name", "readers", "--policy-document", doc("aps:ListWorkspaces"))
	admin.fails("MalformedPolicyDocument", "iam", "create-policy", "--policy-name", "bad", "--policy-document", `{"Statement":[{"Effect":"Maybe"}]}`)
	admin.fails("LimitExceeded", "iam", "create-policy", "--policy-name", "big", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"arn:aws:aps:us-east-1:`+me.Account+`:workspace/`+strings.Repeat("w", 6200)+`"}]}`)
	var v struct{ PolicyVersion struct{ VersionId string } }
	admin.ok(&v, "iam", "create-policy-version", "--policy-arn", pol.Policy.Arn, "--policy-document", doc("aps:*"), "--set-as-default")
	if v.PolicyVersion.VersionId != "v2" {
		t.Fatalf("create-policy-version: %+v", v)
	}
	var got struct {
		PolicyVersion struct {
			Document         struct{ Statement []struct{ Action string } }
			IsDefaultVersion bool
		}
	}
	admin.ok(&got, "iam", "get-policy-version", "--policy-arn", pol.Policy.Arn, "--version-id", "v2")
	if !got.PolicyVersion.IsDefaultVersion || len(got.PolicyVersion.Document.Statement) != 1 || got.PolicyVersion.Document.Statement[0].Action != "aps:*" {
		t.Fatalf("get-policy-version: %+v", got)
	}
	admin.fails("DeleteConflict", "iam", "delete-policy-version", "--policy-arn", pol.Policy.Arn, "--version-id", "v2")
	admin.ok(nil, "iam", "set-default-policy-version", "--policy-arn", pol.Policy.Arn, "--version-id", "v1")
	admin.ok(nil, "iam", "delete-policy-version", "--policy-arn", pol.Policy.Arn, "--version-id", "v2")
	var versions struct{ Versions []struct{ VersionId string } }
	admin.ok(&versions, "iam", "list-policy-versions", "--policy-arn", pol.Policy.Arn)
	if len(versions.Versions) != 1 {
		t.Fatalf("list-policy-versions: %+v", versions)
	}

	// A user with the policy, inline policies and tags; the simulator.
	admin.ok(nil, "iam", "create-user", "--user-name", "carol")
	admin.ok(nil, "iam", "attach-user-policy", "--user-name", "carol", "--policy-arn", pol.Policy.Arn)
	admin.fails("DeleteConflict", "iam", "delete-policy", "--policy-arn", pol.Policy.Arn)
	admin.ok(nil, "iam", "put-user-policy", "--user-name", "carol", "--policy-name", "deny-delete", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"aps:DeleteWorkspace","Resource":"*"}]}`)
	var names struct{ PolicyNames []string }
	admin.ok(&names, "iam", "list-user-policies", "--user-name", "carol")
	if len(names.PolicyNames) != 1 || names.PolicyNames[0] != "deny-delete" {
		t.Fatalf("list-user-policies: %+v", names)
	}
	var inline struct {
		PolicyDocument struct{ Statement []struct{ Effect string } }
	}
	admin.ok(&inline, "iam", "get-user-policy", "--user-name", "carol", "--policy-name", "deny-delete")
	if len(inline.PolicyDocument.Statement) != 1 || inline.PolicyDocument.Statement[0].Effect != "Deny" {
		t.Fatalf("get-user-policy: %+v", inline)
	}
	var sim struct {
		EvaluationResults []struct{ EvalActionName, EvalDecision string }
	}
	admin.ok(&sim, "iam", "simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::"+me.Account+":user/carol",
		"--action-names", "aps:ListWorkspaces", "aps:DeleteWorkspace", "aps:CreateWorkspace")
	decisions := map[string]string{}
	for _, r := range sim.EvaluationResults {
		decisions[r.EvalActionName] = r.EvalDecision
	}
	if decisions["aps:ListWorkspaces"] != "allowed" || decisions["aps:DeleteWorkspace"] != "explicitDeny" || decisions["aps:CreateWorkspace"] != "implicitDeny" {
		t.Fatalf("simulate-principal-policy: %+v", sim)
	}
	admin.ok(nil, "iam", "tag-user", "--user-name", "carol", "--tags", "Key=team,Value=obs")
	var tags struct{ Tags []struct{ Key, Value string } }
	admin.ok(&tags, "iam", "list-user-tags", "--user-name", "carol")
	if len(tags.Tags) != 1 || tags.Tags[0].Value != "obs" {
		t.Fatalf("list-user-tags: %+v", tags)
	}
	admin.ok(nil, "iam", "untag-user", "--user-name", "carol", "--tag-keys", "team")
	var key struct{ AccessKey struct{ AccessKeyId string } }
	admin.ok(&key, "iam", "create-access-key", "--user-name", "carol")
	admin.ok(nil, "iam", "update-access-key", "--user-name", "carol", "--access-key-id", key.AccessKey.AccessKeyId, "--status", "Inactive")
	var keys struct {
		AccessKeyMetadata []struct{ AccessKeyId, Status string }
	}
	admin.ok(&keys, "iam", "list-access-keys", "--user-name", "carol")
	if len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != "Inactive" {
		t.Fatalf("list-access-keys: %+v", keys)
	}
	admin.ok(nil, "iam", "delete-access-key", "--user-name", "carol", "--access-key-id", key.AccessKey.AccessKeyId)
	var users struct{ Users []struct{ UserName string } }
	admin.ok(&users, "iam", "list-users")
	if len(users.Users) != 2 {
		t.Fatalf("list-users: %+v", users)
	}
	var pols struct{ Policies []struct{ PolicyName string } }
	admin.ok(&pols, "iam", "list-policies", "--scope", "Local")
	if len(pols.Policies) != 1 || pols.Policies[0].PolicyName != "readers" {
		t.Fatalf("list-policies --scope Local: %+v", pols)
	}
	admin.fails("NoSuchEntity", "iam", "get-user", "--user-name", "nobody")
	admin.ok(nil, "iam", "delete-user-policy", "--user-name", "carol", "--policy-name", "deny-delete")
	admin.ok(nil, "iam", "detach-user-policy", "--user-name", "carol", "--policy-arn", pol.Policy.Arn)
	admin.ok(nil, "iam", "delete-policy", "--policy-arn", pol.Policy.Arn)
	admin.ok(nil, "iam", "delete-user", "--user-name", "carol")
	// The kansoku CLI sees the same users.
	if out, code := s.kansoku(t, "iam", "list-users"); code != 0 || strings.Contains(out, "carol") || !strings.Contains(out, "admin") {
		t.Fatalf("kansoku iam list-users: %s", out)
	}
}
