package app_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/testenv"
)

func createPolicy(t *testing.T, s *testenv.Server, name, doc string) string {
	t.Helper()
	var out struct {
		Policy struct{ ARN string } `json:"policy"`
	}
	if err := s.Admin.JSON(ctx, "POST", "/admin/v1/iam/policies", nil, map[string]any{"policyName": name, "policyDocument": doc}, &out); err != nil {
		t.Fatal(err)
	}
	return out.Policy.ARN
}

func TestAuthorizationByManagedPolicies(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "authz")
	writer := s.User(t, "writer", "AmazonPrometheusRemoteWriteAccess")
	reader := s.User(t, "reader", "AmazonPrometheusQueryAccess")
	nobody := s.User(t, "nobody")

	series := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: testenv.Series("__name__", "up"), Samples: []prompb.Sample{{Timestamp: time.Now().UnixMilli(), Value: 1}}}}}
	if code, body, _ := testenv.RemoteWrite(ctx, writer, ws, series); code != 200 {
		t.Fatalf("writer remote_write: %d %s", code, body)
	}
	code, body, _ := testenv.RemoteWrite(ctx, reader, ws, series)
	if code != 403 || !strings.Contains(body, "aps:RemoteWrite") || !strings.Contains(body, s.WorkspaceARN(ws)) {
		t.Fatalf("reader remote_write: %d %s", code, body)
	}
	if code, _, _ := testenv.RemoteWrite(ctx, nobody, ws, series); code != 403 {
		t.Fatalf("nobody remote_write: %d", code)
	}
	if err := reader.JSON(ctx, "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {"up"}}, nil, nil); err != nil {
		t.Fatalf("reader query: %v", err)
	}
	e := apiErr(t, writer.JSON(ctx, "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {"up"}}, nil, nil))
	if e.Status != 403 || e.Type != "AccessDeniedException" || !strings.Contains(e.Message, "is not authorized to perform: aps:QueryMetrics") || !strings.Contains(e.Message, "user/writer") {
		t.Fatalf("writer query: %+v", e)
	}
	e = apiErr(t, reader.JSON(ctx, "POST", "/workspaces", nil, map[string]any{"alias": "x"}, nil))
	if e.Status != 403 || e.Type != "AccessDeniedException" || !strings.Contains(e.Message, "aps:CreateWorkspace") {
		t.Fatalf("reader create workspace: %+v", e)
	}
	// A user's tokens carry the user's permissions, no more.
	var tok struct {
		APIToken struct{ Token string } `json:"apiToken"`
	}
	if err := s.Admin.JSON(ctx, "POST", "/admin/v1/tokens", nil, map[string]any{"userName": "writer"}, &tok); err != nil {
		t.Fatal(err)
	}
	wt := *reader
	wt.Token = tok.APIToken.Token
	if e := apiErr(t, wt.JSON(ctx, "GET", "/workspaces/"+ws+"/api/v1/labels", nil, nil, nil)); e.Status != 403 {
		t.Fatalf("writer's token querying: %+v", e)
	}
	// Nobody but IAM administrators manages IAM.
	if e := apiErr(t, reader.JSON(ctx, "POST", "/admin/v1/iam/users", nil, map[string]any{"userName": "evil"}, nil)); e.Status != 403 {
		t.Fatalf("reader creating users: %+v", e)
	}
	if e := apiErr(t, reader.JSON(ctx, "POST", "/admin/v1/keys", nil, map[string]any{"userName": "admin"}, nil)); e.Status != 403 {
		t.Fatalf("reader minting admin keys: %+v", e)
	}
	if e := apiErr(t, writer.JSON(ctx, "GET", "/metrics", nil, nil, nil)); e.Status != 403 {
		t.Fatalf("writer reading /metrics: %+v", e)
	}
}

// TestKeyForOneWorkspace is the "done when": a key that may only
// remote_write to one workspace, refused everywhere else.
func TestKeyForOneWorkspace(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	a, b := s.CreateWorkspace(t, "a"), s.CreateWorkspace(t, "b")
	arn := createPolicy(t, s, "write-a", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:RemoteWrite","Resource":%q}]}`, s.WorkspaceARN(a)))
	c := s.User(t, "app-a", arn)
	series := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: testenv.Series("__name__", "up"), Samples: []prompb.Sample{{Timestamp: time.Now().UnixMilli(), Value: 1}}}}}
	if code, body, _ := testenv.RemoteWrite(ctx, c, a, series); code != 200 {
		t.Fatalf("write to a: %d %s", code, body)
	}
	if code, body, _ := testenv.RemoteWrite(ctx, c, b, series); code != 403 || !strings.Contains(body, "workspace/"+b) {
		t.Fatalf("write to b: %d %s", code, body)
	}
	for name, call := range map[string]func() error{
		"query a": func() error {
			return c.JSON(ctx, "GET", "/workspaces/"+a+"/api/v1/query", url.Values{"query": {"up"}}, nil, nil)
		},
		"describe a":      func() error { return c.JSON(ctx, "GET", "/workspaces/"+a, nil, nil, nil) },
		"list workspaces": func() error { return c.JSON(ctx, "GET", "/workspaces", nil, nil, nil) },
		"delete b":        func() error { return c.JSON(ctx, "DELETE", "/workspaces/"+b, nil, nil, nil) },
		"rules of a":      func() error { return c.JSON(ctx, "GET", "/workspaces/"+a+"/rulegroupsnamespaces", nil, nil, nil) },
		"tokens":          func() error { return c.JSON(ctx, "POST", "/admin/v1/tokens", nil, map[string]any{}, nil) },
		"audit":           func() error { return c.JSON(ctx, "GET", "/admin/v1/audit", nil, nil, nil) },
		"attach to itself": func() error {
			return c.JSON(ctx, "POST", "/admin/v1/iam/users/app-a/policies", nil, map[string]any{"policyArn": "AdministratorAccess"}, nil)
		},
	} {
		if e := apiErr(t, call()); e.Status != 403 {
			t.Errorf("%s: %+v", name, e)
		}
	}
}

// TestAMPOneNamespacePolicy uses the one-namespace policy of AMP's user
// guide (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-ruler-IAM-permissions.html,
// its 2024 edition) exactly as written (its "aps>Delete..." and
// "rulegroupnamespace" spellings included).
func TestAMPOneNamespacePolicy(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "ns")
	doc := `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "aps:ListRules",
        "aps:ListTagsForResource",
        "aps:GetLabels",
        "aps:CreateRuleGroupsNamespace",
        "aps:ListRuleGroupsNamespaces",
        "aps:DescribeRuleGroupsNamespace",
        "aps:PutRuleGroupsNamespace",
        "aps>DeleteRuleGroupsNamespace"
      ],
      "Resource": [
        "arn:aws:aps:*:<account>:workspace/*",
        "arn:aws:aps:<region>:<account>:rulegroupnamespace/<workspace-id>/<namespace-name>"
      ]
    }
  ]
}`
	doc = strings.NewReplacer("<account>", s.App.Info().Account.ID, "<region>", s.App.Info().Account.Region, "<workspace-id>", ws, "<namespace-name>", "team-a").Replace(doc)
	c := s.User(t, "team-a-admin", createPolicy(t, s, "one-namespace", doc))
	base := "/workspaces/" + ws + "/rulegroupsnamespaces"
	if err := c.JSON(ctx, "POST", base, nil, map[string]any{"name": "team-a", "data": b64(validRules)}, nil); err != nil {
		t.Fatalf("create team-a: %v", err)
	}
	if e := apiErr(t, c.JSON(ctx, "POST", base, nil, map[string]any{"name": "team-b", "data": b64(validRules)}, nil)); e.Status != 403 || !strings.Contains(e.Message, "rulegroupsnamespace/"+ws+"/team-b") {
		t.Fatalf("create team-b: %+v", e)
	}
	waitNamespace(t, s, ws, "team-a", "ACTIVE")
	if err := c.JSON(ctx, "PUT", base+"/team-a", nil, map[string]any{"data": b64(validRules)}, nil); err != nil {
		t.Fatalf("put team-a: %v", err)
	}
	for _, call := range []struct{ method, path string }{{"GET", base}, {"GET", "/workspaces/" + ws + "/api/v1/rules"}, {"GET", "/workspaces/" + ws + "/api/v1/labels"}} {
		if err := c.JSON(ctx, call.method, call.path, nil, nil, nil); err != nil {
			t.Fatalf("%s %s: %v", call.method, call.path, err)
		}
	}
	if e := apiErr(t, c.JSON(ctx, "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {"up"}}, nil, nil)); e.Status != 403 {
		t.Fatalf("query: %+v", e)
	}
	waitNamespace(t, s, ws, "team-a", "ACTIVE")
	if err := c.JSON(ctx, "DELETE", base+"/team-a", nil, nil, nil); err != nil {
		t.Fatalf("delete team-a: %v", err)
	}
}

func TestExplicitDenyWins(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	keep, other := s.CreateWorkspace(t, "keep"), s.CreateWorkspace(t, "other")
	deny := createPolicy(t, s, "protect", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Action":"aps:DeleteWorkspace","Resource":%q}]}`, s.WorkspaceARN(keep)))
	c := s.User(t, "operator", "AmazonPrometheusFullAccess", deny)
	e := apiErr(t, c.JSON(ctx, "DELETE", "/workspaces/"+keep, nil, nil, nil))
	if e.Status != 403 || !strings.Contains(e.Message, "explicit deny") {
		t.Fatalf("delete protected: %+v", e)
	}
	if err := c.JSON(ctx, "DELETE", "/workspaces/"+other, nil, nil, nil); err != nil {
		t.Fatalf("delete other: %v", err)
	}
	var sim struct {
		EvalDecision     string `json:"evalDecision"`
		MatchedStatement string `json:"matchedStatement"`
	}
	if err := s.Admin.JSON(ctx, "POST", "/admin/v1/iam/simulate", nil, map[string]any{"userName": "operator", "actionName": "aps:DeleteWorkspace", "resourceArn": s.WorkspaceARN(keep)}, &sim); err != nil {
		t.Fatal(err)
	}
	if sim.EvalDecision != "explicitDeny" || sim.MatchedStatement != "NoDelete" {
		t.Fatalf("simulate: %+v", sim)
	}
	// A policy attached to someone cannot be deleted; a malformed one is refused.
	if e := apiErr(t, s.Admin.JSON(ctx, "DELETE", "/admin/v1/iam/policies/"+url.PathEscape(deny), nil, nil, nil)); e.Status != 409 || e.Type != "DeleteConflictException" {
		t.Fatalf("delete attached policy: %+v", e)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "POST", "/admin/v1/iam/policies", nil, map[string]any{"policyName": "bad", "policyDocument": `{"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`}, nil)); e.Status != 400 || e.Type != "MalformedPolicyDocumentException" || !strings.Contains(e.Message, "Effect") {
		t.Fatalf("malformed policy: %+v", e)
	}
	// Updating a policy takes effect at once.
	if err := s.Admin.JSON(ctx, "PUT", "/admin/v1/iam/policies/"+url.PathEscape(deny), nil, map[string]any{"policyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"aps:*","Resource":"*"}]}`}, nil); err != nil {
		t.Fatal(err)
	}
	if e := apiErr(t, c.JSON(ctx, "GET", "/workspaces", nil, nil, nil)); e.Status != 403 {
		t.Fatalf("after tightening the policy: %+v", e)
	}
	if err := s.Admin.JSON(ctx, "DELETE", "/admin/v1/iam/users/operator/policies/"+url.PathEscape(deny), nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.JSON(ctx, "GET", "/workspaces", nil, nil, nil); err != nil {
		t.Fatalf("after detaching the deny: %v", err)
	}
	var pols struct {
		Policies []struct {
			PolicyName string `json:"policyName"`
			AWSManaged bool   `json:"awsManaged"`
		} `json:"policies"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/iam/policies", nil, nil, &pols); err != nil {
		t.Fatal(err)
	}
	names := fmt.Sprint(pols.Policies)
	for _, want := range []string{"AmazonPrometheusFullAccess", "AmazonPrometheusRemoteWriteAccess", "AmazonPrometheusQueryAccess", "AdministratorAccess", "protect"} {
		if !strings.Contains(names, want) {
			t.Errorf("policy list lacks %s: %s", want, names)
		}
	}
}
