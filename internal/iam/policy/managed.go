package policy

import (
	"maps"
	"sync"
)

// ManagedARNPrefix prefixes the ARN of every built-in managed policy:
// "arn:aws:iam::aws:policy/<Name>", as AWS names its managed policies.
const ManagedARNPrefix = "arn:aws:iam::aws:policy/"

// ManagedPolicy is a built-in policy, the equivalent of an AWS managed
// policy.
type ManagedPolicy struct {
	// ARN is ManagedARNPrefix + Name.
	ARN string
	// Name is the policy name, e.g. "AmazonPrometheusFullAccess".
	Name string
	// Description is AWS's description (or Kansoku's, for its own).
	Description string
	// Document is the policy document (JSON).
	Document string
	// Policy is Document, parsed.
	Policy *Policy
}

// Managed returns the built-in managed policies keyed by ARN. The map is
// the caller's; the policies are shared and immutable.
func Managed() map[string]ManagedPolicy {
	return maps.Clone(managed())
}

var managed = sync.OnceValue(func() map[string]ManagedPolicy {
	out := map[string]ManagedPolicy{}
	for _, m := range managedDocs {
		m.ARN = ManagedARNPrefix + m.Name
		m.Policy = MustParse(m.Document)
		out[m.ARN] = m
	}
	return out
})

var managedDocs = []ManagedPolicy{
	{
		Name:        "AdministratorAccess",
		Description: "Provides full access to AWS services and resources.",
		Document: `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}`,
	},
	{
		Name:        "AmazonPrometheusFullAccess",
		Description: "Grants full access to Amazon Managed Service for Prometheus resources.",
		// As AWS has it: the eks/ec2/iam statements serve managed
		// scrapers, which Kansoku does not have; they are harmless here.
		Document: `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllPrometheusActions",
      "Effect": "Allow",
      "Action": [
        "aps:*"
      ],
      "Resource": "*"
    },
    {
      "Sid": "DescribeCluster",
      "Effect": "Allow",
      "Action": [
        "eks:DescribeCluster",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups"
      ],
      "Condition": {
        "ForAnyValue:StringEquals": {
          "aws:CalledVia": [
            "aps.amazonaws.com"
          ]
        }
      },
      "Resource": "*"
    },
    {
      "Sid": "CreateServiceLinkedRole",
      "Effect": "Allow",
      "Action": "iam:CreateServiceLinkedRole",
      "Resource": "arn:aws:iam::*:role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper*",
      "Condition": {
        "StringEquals": {
          "iam:AWSServiceName": "scraper.aps.amazonaws.com"
        }
      }
    }
  ]
}`,
	},
	{
		Name:        "AmazonPrometheusRemoteWriteAccess",
		Description: "Grants write-only access to Amazon Managed Service for Prometheus workspaces (remote write).",
		Document: `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "aps:RemoteWrite"
      ],
      "Resource": "*"
    }
  ]
}`,
	},
	{
		Name:        "AmazonPrometheusQueryAccess",
		Description: "Grants access to run queries against Amazon Managed Service for Prometheus workspaces.",
		Document: `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "aps:GetLabels",
        "aps:GetMetricMetadata",
        "aps:GetSeries",
        "aps:QueryMetrics"
      ],
      "Resource": "*"
    }
  ]
}`,
	},
	{
		Name:        "AmazonPrometheusConsoleFullAccess",
		Description: "Provides full access to Amazon Managed Service for Prometheus through the console.",
		Document: `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "TagSuggestions",
      "Effect": "Allow",
      "Action": [
        "tag:GetTagValues",
        "tag:GetTagKeys"
      ],
      "Resource": "*"
    },
    {
      "Sid": "PrometheusConsoleActions",
      "Effect": "Allow",
      "Action": [
        "aps:CreateWorkspace",
        "aps:DescribeWorkspace",
        "aps:UpdateWorkspaceAlias",
        "aps:DeleteWorkspace",
        "aps:ListWorkspaces",
        "aps:DescribeAlertManagerDefinition",
        "aps:DescribeRuleGroupsNamespace",
        "aps:CreateAlertManagerDefinition",
        "aps:CreateRuleGroupsNamespace",
        "aps:DeleteAlertManagerDefinition",
        "aps:DeleteRuleGroupsNamespace",
        "aps:ListRuleGroupsNamespaces",
        "aps:PutAlertManagerDefinition",
        "aps:PutRuleGroupsNamespace",
        "aps:TagResource",
        "aps:UntagResource",
        "aps:CreateLoggingConfiguration",
        "aps:UpdateLoggingConfiguration",
        "aps:DeleteLoggingConfiguration",
        "aps:DescribeLoggingConfiguration"
      ],
      "Resource": "*"
    }
  ]
}`,
	},
	{
		Name:        "KansokuReadOnlyAccess",
		Description: "Kansoku: read-only access to workspaces, rules, alert manager definitions and metrics (describe, list, get and query).",
		Document: `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "aps:Describe*",
        "aps:List*",
        "aps:Get*",
        "aps:QueryMetrics",
        "kansoku:Get*",
        "kansoku:List*",
        "kansoku:Describe*"
      ],
      "Resource": "*"
    }
  ]
}`,
	},
}
