package awssim

import "testing"

func TestEvaluatePolicies(t *testing.T) {
	parse := func(doc string) simPolicy {
		t.Helper()
		p, err := parseSimPolicy("p", doc)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	readEC2 := parse(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`)
	denyOne := parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["EC2:describeinstances"],
		"Resource":"arn:aws:ec2:us-east-1:111111111111:instance/i-0?"}]}`)
	notAction := parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::secret*"}]}`)
	for _, tc := range []struct {
		name     string
		pols     []simPolicy
		action   string
		resource string
		want     simDecision
	}{
		{"no policy", nil, "ec2:DescribeInstances", "*", implicitDeny},
		{"wildcard action, case-insensitive", []simPolicy{readEC2}, "EC2:DESCRIBEINSTANCES", "*", allowed},
		{"other action", []simPolicy{readEC2}, "ec2:CreateInternetGateway", "*", implicitDeny},
		{"explicit deny wins", []simPolicy{readEC2, denyOne}, "ec2:DescribeInstances", "arn:aws:ec2:us-east-1:111111111111:instance/i-01", explicitDeny},
		{"? is one character", []simPolicy{readEC2, denyOne}, "ec2:DescribeInstances", "arn:aws:ec2:us-east-1:111111111111:instance/i-012", allowed},
		{"resources are case-sensitive", []simPolicy{readEC2, denyOne}, "ec2:DescribeInstances", "arn:aws:ec2:us-east-1:111111111111:INSTANCE/i-01", allowed},
		{"NotAction allows the rest", []simPolicy{notAction}, "sqs:ListQueues", "*", allowed},
		{"NotAction excludes", []simPolicy{notAction}, "iam:CreateUser", "*", implicitDeny},
		{"NotResource excludes", []simPolicy{notAction}, "s3:GetObject", "arn:aws:s3:::secret-bucket", implicitDeny},
	} {
		if got := evaluatePolicies(tc.pols, tc.action, tc.resource); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseSimPolicyRefuses(t *testing.T) {
	for _, doc := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotAction":"iam:*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		`not json`,
	} {
		if _, err := parseSimPolicy("p", doc); err == nil {
			t.Errorf("accepted %s", doc)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"**a", "bba", true}, {"", "", true}, {"", "x", false},
	} {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}
