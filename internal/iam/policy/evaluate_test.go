package policy

import (
	"strings"
	"testing"
)

// docOneNamespace is the example policy of AMP's documentation that grants
// access to one rule groups namespace, copied verbatim (including
// "aps>DeleteRuleGroupsNamespace" and "rulegroupnamespace/").
const docOneNamespace = `{
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

// docRulesSpaces is the documentation's rules policy, verbatim (with a
// space after each colon).
const docRulesSpaces = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "aps: CreateRuleGroupsNamespace",
        "aps: ListRuleGroupsNamespaces",
        "aps: DescribeRuleGroupsNamespace",
        "aps: PutRuleGroupsNamespace",
        "aps: DeleteRuleGroupsNamespace"
      ],
      "Resource": "*"
    }
  ]
}`

const (
	acct = "123456789012"
	ws   = "arn:aws:aps:us-east-1:123456789012:workspace/ws-1234"
	nsA  = "arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1234/team-a"
	nsB  = "arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1234/team-b"
)

type evalCase struct {
	name     string
	action   string
	resource string
	ctx      map[string][]string
	want     Effect
}

func runEval(t *testing.T, policies []NamedPolicy, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(policies, Request{Action: tc.action, Resource: tc.resource, Context: tc.ctx})
			if d.Effect != tc.want {
				t.Errorf("Evaluate(%s on %s) = %v (%v), want %v", tc.action, tc.resource, d.Effect, d, tc.want)
			}
			if (d.Effect == ImplicitDeny) != (d.StatementID == "") {
				t.Errorf("decision %+v: StatementID set iff a statement decided", d)
			}
		})
	}
}

func parseNamed(t *testing.T, name, doc string) []NamedPolicy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return []NamedPolicy{{Name: name, Policy: p}}
}

func TestDocumentationOneNamespacePolicy(t *testing.T) {
	doc := strings.NewReplacer(
		"<account>", acct, "<region>", "us-east-1",
		"<workspace-id>", "ws-1234", "<namespace-name>", "team-a",
	).Replace(docOneNamespace)
	pols := parseNamed(t, "one-namespace", doc)
	runEval(t, pols, []evalCase{
		{"delete own namespace (aps> spelling)", "aps:DeleteRuleGroupsNamespace", nsA, nil, Allow},
		{"put own namespace", "aps:PutRuleGroupsNamespace", nsA, nil, Allow},
		{"describe own namespace", "aps:DescribeRuleGroupsNamespace", nsA, nil, Allow},
		{"delete other namespace", "aps:DeleteRuleGroupsNamespace", nsB, nil, ImplicitDeny},
		{"put other namespace", "aps:PutRuleGroupsNamespace", nsB, nil, ImplicitDeny},
		{"list rules, any region", "aps:ListRules", "arn:aws:aps:eu-west-1:123456789012:workspace/ws-9", nil, Allow},
		{"action case-insensitive", "APS:listrules", ws, nil, Allow},
		{"remote write not granted", "aps:RemoteWrite", ws, nil, ImplicitDeny},
		{"other account", "aps:ListRules", "arn:aws:aps:us-east-1:999999999999:workspace/ws-1234", nil, ImplicitDeny},
		{"namespace of another workspace", "aps:DeleteRuleGroupsNamespace", "arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-9/team-a", nil, ImplicitDeny},
		{"namespace in another region", "aps:DeleteRuleGroupsNamespace", "arn:aws:aps:eu-west-1:123456789012:rulegroupsnamespace/ws-1234/team-a", nil, ImplicitDeny},
	})
	d := Evaluate(pols, Request{Action: "aps:DeleteRuleGroupsNamespace", Resource: nsA})
	if d.PolicyName != "one-namespace" || d.StatementID != "Statement[0]" {
		t.Errorf("decision %+v: want policy one-namespace, Statement[0]", d)
	}
}

func TestDocumentationRulesPolicy(t *testing.T) {
	pols := parseNamed(t, "rules", docRulesSpaces)
	runEval(t, pols, []evalCase{
		{"create", "aps:CreateRuleGroupsNamespace", nsA, nil, Allow},
		{"list", "aps:ListRuleGroupsNamespaces", ws, nil, Allow},
		{"describe", "aps:DescribeRuleGroupsNamespace", nsB, nil, Allow},
		{"put", "aps:PutRuleGroupsNamespace", nsA, nil, Allow},
		{"delete", "aps:DeleteRuleGroupsNamespace", nsA, nil, Allow},
		{"query not granted", "aps:QueryMetrics", ws, nil, ImplicitDeny},
		{"delete workspace not granted", "aps:DeleteWorkspace", ws, nil, ImplicitDeny},
	})
}

func TestEvaluate(t *testing.T) {
	denyDelete := `{"Version":"2012-10-17","Statement":[
		{"Sid":"All","Effect":"Allow","Action":"aps:*","Resource":"*"},
		{"Sid":"KeepProd","Effect":"Deny","Action":"aps:DeleteWorkspace","Resource":"arn:aws:aps:us-east-1:123456789012:workspace/ws-prod"}]}`
	tests := []struct {
		name  string
		docs  []string
		cases []evalCase
	}{
		{
			name: "explicit deny wins",
			docs: []string{denyDelete},
			cases: []evalCase{
				{"delete prod", "aps:DeleteWorkspace", "arn:aws:aps:us-east-1:123456789012:workspace/ws-prod", nil, ExplicitDeny},
				{"delete prod, other case", "aps:deleteworkspace", "arn:aws:aps:us-east-1:123456789012:workspace/ws-prod", nil, ExplicitDeny},
				{"delete dev", "aps:DeleteWorkspace", "arn:aws:aps:us-east-1:123456789012:workspace/ws-dev", nil, Allow},
				{"write prod", "aps:RemoteWrite", "arn:aws:aps:us-east-1:123456789012:workspace/ws-prod", nil, Allow},
				{"other service", "kansoku:GetThing", "arn:aws:aps:us-east-1:123456789012:workspace/ws-prod", nil, ImplicitDeny},
			},
		},
		{
			name: "explicit deny wins across policies",
			docs: []string{
				`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
				`{"Statement":{"Effect":"Deny","Action":"aps:RemoteWrite","Resource":"*"}}`,
			},
			cases: []evalCase{
				{"denied", "aps:RemoteWrite", ws, nil, ExplicitDeny},
				{"allowed", "aps:QueryMetrics", ws, nil, Allow},
			},
		},
		{
			name: "NotAction and NotResource",
			docs: []string{`{"Statement":[
				{"Effect":"Allow","NotAction":["aps:Delete*","aps:Untag*"],"Resource":"*"},
				{"Effect":"Deny","Action":"aps:*","NotResource":["arn:aws:aps:us-east-1:123456789012:*"]}]}`},
			cases: []evalCase{
				{"not in NotAction", "aps:QueryMetrics", ws, nil, Allow},
				{"in NotAction", "aps:DeleteWorkspace", ws, nil, ImplicitDeny},
				{"NotAction is case-insensitive", "aps:untagresource", ws, nil, ImplicitDeny},
				{"outside NotResource: denied", "aps:QueryMetrics", "arn:aws:aps:eu-west-1:123456789012:workspace/ws-1", nil, ExplicitDeny},
				{"NotAction allows other services", "kansoku:ListUsers", "arn:aws:kansoku:eu-west-1:1:user/x", nil, Allow},
			},
		},
		{
			name: "wildcards",
			docs: []string{`{"Statement":[
				{"Effect":"Allow","Action":["aps:Get?eries","aps:List*s","*:Describe*","kan?oku:*"],"Resource":"arn:aws:aps:us-east-1:123456789012:workspace/ws-?"},
				{"Effect":"Allow","Action":"aps:QueryMetrics","Resource":"arn:aws:aps:us-east-1:123456789012:*"}]}`},
			cases: []evalCase{
				{"? in action", "aps:GetSeries", "arn:aws:aps:us-east-1:123456789012:workspace/ws-1", nil, Allow},
				{"? needs one char", "aps:GetSeries", "arn:aws:aps:us-east-1:123456789012:workspace/ws-12", nil, ImplicitDeny},
				{"? needs exactly one char", "aps:GetSeries", "arn:aws:aps:us-east-1:123456789012:workspace/ws-", nil, ImplicitDeny},
				{"* at the end of the action", "aps:ListRules", "arn:aws:aps:us-east-1:123456789012:workspace/ws-1", nil, Allow},
				{"* prefix does not match other suffix", "aps:ListRule", "arn:aws:aps:us-east-1:123456789012:workspace/ws-1", nil, ImplicitDeny},
				{"* service", "kansoku:DescribeUser", "arn:aws:aps:us-east-1:123456789012:workspace/ws-1", nil, Allow},
				{"? service", "kansoku:DeleteUser", "arn:aws:aps:us-east-1:123456789012:workspace/ws-1", nil, Allow},
				{"* spans / and :", "aps:QueryMetrics", "arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1/a:b", nil, Allow},
				{"resources are case-sensitive", "aps:QueryMetrics", "arn:aws:aps:US-EAST-1:123456789012:workspace/ws-1", nil, ImplicitDeny},
				{"resource ID case", "aps:GetSeries", "arn:aws:aps:us-east-1:123456789012:WORKSPACE/ws-1", nil, ImplicitDeny},
				{"action without colon", "GetSeries", "arn:aws:aps:us-east-1:123456789012:workspace/ws-1", nil, ImplicitDeny},
				{"Resource \"*\" request needs Resource \"*\"", "aps:ListWorkspaces", "*", nil, ImplicitDeny},
			},
		},
		{
			name: "policy variables",
			docs: []string{`{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::*:user/${aws:username}"},
				{"Effect":"Allow","Action":"kansoku:GetToken","Resource":"arn:aws:kansoku:::token/${aws:userid}/${Team, 'shared'}"},
				{"Effect":"Allow","Action":"kansoku:Star","Resource":"arn:aws:kansoku:::thing/${*}${?}${$}"}]}`},
			cases: []evalCase{
				{"own user", "iam:CreateAccessKey", "arn:aws:iam::123456789012:user/alice", map[string][]string{"aws:username": {"alice"}}, Allow},
				{"key name is case-insensitive", "iam:CreateAccessKey", "arn:aws:iam::123456789012:user/alice", map[string][]string{"AWS:UserName": {"alice"}}, Allow},
				{"other user", "iam:CreateAccessKey", "arn:aws:iam::123456789012:user/bob", map[string][]string{"aws:username": {"alice"}}, ImplicitDeny},
				{"missing variable matches nothing", "iam:CreateAccessKey", "arn:aws:iam::123456789012:user/", nil, ImplicitDeny},
				{"value is literal, not a wildcard", "iam:CreateAccessKey", "arn:aws:iam::123456789012:user/bob", map[string][]string{"aws:username": {"*"}}, ImplicitDeny},
				{"value * matches literal *", "iam:CreateAccessKey", "arn:aws:iam::123456789012:user/*", map[string][]string{"aws:username": {"*"}}, Allow},
				{"any context key, first value", "kansoku:GetToken", "arn:aws:kansoku:::token/AID1/red", map[string][]string{"aws:userid": {"AID1"}, "team": {"red", "blue"}}, Allow},
				{"default value", "kansoku:GetToken", "arn:aws:kansoku:::token/AID1/shared", map[string][]string{"aws:userid": {"AID1"}}, Allow},
				{"default unused when set", "kansoku:GetToken", "arn:aws:kansoku:::token/AID1/shared", map[string][]string{"aws:userid": {"AID1"}, "Team": {"red"}}, ImplicitDeny},
				{"escapes are literal", "kansoku:Star", "arn:aws:kansoku:::thing/*?$", nil, Allow},
				{"escaped * is not a wildcard", "kansoku:Star", "arn:aws:kansoku:::thing/xx$", nil, ImplicitDeny},
			},
		},
		{
			name: "variables are literal in 2008-10-17",
			docs: []string{`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::*:user/${aws:username}"}}`},
			cases: []evalCase{
				{"not substituted", "iam:GetUser", "arn:aws:iam::1:user/alice", map[string][]string{"aws:username": {"alice"}}, ImplicitDeny},
				{"matches the literal text", "iam:GetUser", "arn:aws:iam::1:user/${aws:username}", map[string][]string{"aws:username": {"alice"}}, Allow},
			},
		},
		{
			name: "no policies",
			cases: []evalCase{
				{"deny by default", "aps:RemoteWrite", ws, nil, ImplicitDeny},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pols []NamedPolicy
			for i, doc := range tc.docs {
				pols = append(pols, parseNamed(t, "p"+string(rune('0'+i)), doc)...)
			}
			pols = append(pols, NamedPolicy{Name: "nil"}) // skipped
			runEval(t, pols, tc.cases)
		})
	}
}

func TestDecisionNamesTheStatement(t *testing.T) {
	a := MustParse(`{"Statement":[{"Effect":"Allow","Action":"aps:*","Resource":"*"},{"Sid":"Second","Effect":"Allow","Action":"*","Resource":"*"}]}`)
	b := MustParse(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoWrite","Effect":"Deny","Action":"aps:RemoteWrite","Resource":"*"}]}`)
	pols := []NamedPolicy{{Name: "A", Policy: a}, {Name: "B", Policy: b}}
	tests := []struct {
		action string
		want   Decision
		str    string
	}{
		{"aps:QueryMetrics", Decision{Effect: Allow, PolicyName: "A", StatementID: "Statement[0]"}, `allowed by statement "Statement[0]" of policy "A"`},
		{"kansoku:ListUsers", Decision{Effect: Allow, PolicyName: "A", StatementID: "Second"}, `allowed by statement "Second" of policy "A"`},
		{"aps:RemoteWrite", Decision{Effect: ExplicitDeny, PolicyName: "B", StatementID: "NoWrite"}, `explicitly denied by statement "NoWrite" of policy "B"`},
	}
	for _, tc := range tests {
		d := Evaluate(pols, Request{Action: tc.action, Resource: ws})
		if d != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.action, d, tc.want)
		}
		if d.String() != tc.str {
			t.Errorf("%s: String() = %q, want %q", tc.action, d.String(), tc.str)
		}
		if d.Allowed() != (tc.want.Effect == Allow) {
			t.Errorf("%s: Allowed() = %v", tc.action, d.Allowed())
		}
	}
	if got := Evaluate(nil, Request{Action: "aps:RemoteWrite", Resource: ws}); got != (Decision{}) || got.String() == "" {
		t.Errorf("no policies: got %+v (%q), want the zero ImplicitDeny", got, got)
	}
	for e, s := range map[Effect]string{ImplicitDeny: "ImplicitDeny", Allow: "Allow", ExplicitDeny: "ExplicitDeny", 7: "Effect(7)"} {
		if e.String() != s {
			t.Errorf("Effect(%d).String() = %q, want %q", int(e), e.String(), s)
		}
	}
}

func TestHandBuiltStatementNeverApplies(t *testing.T) {
	p := &Policy{Version: Version2012, Statements: []Statement{{Effect: "Allow", Action: []string{"*"}, Resource: []string{"*"}}}}
	if d := Evaluate([]NamedPolicy{{Name: "hand", Policy: p}}, Request{Action: "aps:RemoteWrite", Resource: ws}); d.Effect != ImplicitDeny {
		t.Errorf("a Policy not from Parse must not allow anything, got %v", d)
	}
}

func BenchmarkEvaluateRemoteWrite(b *testing.B) {
	m := Managed()
	pols := []NamedPolicy{
		{Name: "q", Policy: m[ManagedARNPrefix+"AmazonPrometheusQueryAccess"].Policy},
		{Name: "w", Policy: m[ManagedARNPrefix+"AmazonPrometheusRemoteWriteAccess"].Policy},
	}
	req := Request{Action: "aps:RemoteWrite", Resource: ws, Context: map[string][]string{"aws:SourceIp": {"10.0.0.1"}}}
	b.ReportAllocs()
	for b.Loop() {
		if !Evaluate(pols, req).Allowed() {
			b.Fatal("denied")
		}
	}
}
