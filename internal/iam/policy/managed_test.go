package policy

import (
	"strings"
	"testing"
)

func TestManaged(t *testing.T) {
	const arn = ManagedARNPrefix
	want := []string{
		"AdministratorAccess", "AmazonPrometheusFullAccess", "AmazonPrometheusRemoteWriteAccess",
		"AmazonPrometheusQueryAccess", "AmazonPrometheusConsoleFullAccess", "KansokuReadOnlyAccess",
	}
	m := Managed()
	if len(m) != len(want) {
		t.Errorf("Managed() has %d policies, want %d", len(m), len(want))
	}
	for _, name := range want {
		mp, ok := m[arn+name]
		if !ok {
			t.Errorf("missing managed policy %s", arn+name)
			continue
		}
		if mp.ARN != arn+name || mp.Name != name || mp.Description == "" || mp.Policy == nil || mp.Policy.Version != Version2012 {
			t.Errorf("managed policy %s is incomplete: %+v", name, mp)
		}
	}
	delete(m, arn+"AdministratorAccess")
	if _, ok := Managed()[arn+"AdministratorAccess"]; !ok {
		t.Error("Managed() returns a shared map")
	}

	cases := []struct {
		policy, action, resource string
		ctx                      map[string][]string
		want                     Effect
	}{
		{"AdministratorAccess", "aps:DeleteWorkspace", ws, nil, Allow},
		{"AdministratorAccess", "kansoku:CreateUser", "*", nil, Allow},

		{"AmazonPrometheusFullAccess", "aps:DeleteWorkspace", ws, nil, Allow},
		{"AmazonPrometheusFullAccess", "aps:RemoteWrite", ws, nil, Allow},
		{"AmazonPrometheusFullAccess", "aps:ListWorkspaces", "*", nil, Allow},
		{"AmazonPrometheusFullAccess", "kansoku:CreateUser", "*", nil, ImplicitDeny},
		{"AmazonPrometheusFullAccess", "eks:DescribeCluster", "*", nil, ImplicitDeny},
		{"AmazonPrometheusFullAccess", "eks:DescribeCluster", "*", map[string][]string{"aws:CalledVia": {"aps.amazonaws.com"}}, Allow},
		{"AmazonPrometheusFullAccess", "iam:CreateServiceLinkedRole", "arn:aws:iam::1:role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper_1", map[string][]string{"iam:AWSServiceName": {"scraper.aps.amazonaws.com"}}, Allow},
		{"AmazonPrometheusFullAccess", "iam:CreateServiceLinkedRole", "arn:aws:iam::1:role/admin", map[string][]string{"iam:AWSServiceName": {"scraper.aps.amazonaws.com"}}, ImplicitDeny},

		{"AmazonPrometheusRemoteWriteAccess", "aps:RemoteWrite", ws, nil, Allow},
		{"AmazonPrometheusRemoteWriteAccess", "aps:QueryMetrics", ws, nil, ImplicitDeny},
		{"AmazonPrometheusRemoteWriteAccess", "aps:CreateWorkspace", "*", nil, ImplicitDeny},
		{"AmazonPrometheusRemoteWriteAccess", "aps:GetLabels", ws, nil, ImplicitDeny},

		{"AmazonPrometheusQueryAccess", "aps:QueryMetrics", ws, nil, Allow},
		{"AmazonPrometheusQueryAccess", "aps:GetLabels", ws, nil, Allow},
		{"AmazonPrometheusQueryAccess", "aps:GetSeries", ws, nil, Allow},
		{"AmazonPrometheusQueryAccess", "aps:GetMetricMetadata", ws, nil, Allow},
		{"AmazonPrometheusQueryAccess", "aps:RemoteWrite", ws, nil, ImplicitDeny},
		{"AmazonPrometheusQueryAccess", "aps:DescribeWorkspace", ws, nil, ImplicitDeny},

		{"AmazonPrometheusConsoleFullAccess", "aps:CreateWorkspace", "*", nil, Allow},
		{"AmazonPrometheusConsoleFullAccess", "aps:PutRuleGroupsNamespace", nsA, nil, Allow},
		{"AmazonPrometheusConsoleFullAccess", "tag:GetTagKeys", "*", nil, Allow},
		{"AmazonPrometheusConsoleFullAccess", "aps:RemoteWrite", ws, nil, ImplicitDeny},
		{"AmazonPrometheusConsoleFullAccess", "aps:QueryMetrics", ws, nil, ImplicitDeny},

		{"KansokuReadOnlyAccess", "aps:DescribeWorkspace", ws, nil, Allow},
		{"KansokuReadOnlyAccess", "aps:ListRuleGroupsNamespaces", ws, nil, Allow},
		{"KansokuReadOnlyAccess", "aps:GetSeries", ws, nil, Allow},
		{"KansokuReadOnlyAccess", "aps:QueryMetrics", ws, nil, Allow},
		{"KansokuReadOnlyAccess", "kansoku:ListUsers", "*", nil, Allow},
		{"KansokuReadOnlyAccess", "aps:RemoteWrite", ws, nil, ImplicitDeny},
		{"KansokuReadOnlyAccess", "aps:DeleteWorkspace", ws, nil, ImplicitDeny},
		{"KansokuReadOnlyAccess", "aps:PutRuleGroupsNamespace", nsA, nil, ImplicitDeny},
		{"KansokuReadOnlyAccess", "kansoku:CreateUser", "*", nil, ImplicitDeny},
	}
	for _, tc := range cases {
		mp := Managed()[arn+tc.policy]
		d := Evaluate([]NamedPolicy{{Name: mp.ARN, Policy: mp.Policy}}, Request{Action: tc.action, Resource: tc.resource, Context: tc.ctx})
		if d.Effect != tc.want {
			t.Errorf("%s: %s on %s = %v, want %v", tc.policy, tc.action, tc.resource, d, tc.want)
		}
		if d.Effect == Allow && d.PolicyName != mp.ARN {
			t.Errorf("%s: decision names policy %q, want its ARN", tc.policy, d.PolicyName)
		}
	}
}

func TestManagedDocumentsAreTidy(t *testing.T) {
	for arn, mp := range Managed() {
		if !strings.HasPrefix(mp.Document, "{\n  \"Version\": \"2012-10-17\"") {
			t.Errorf("%s: document should start with the 2012-10-17 Version", arn)
		}
	}
}
