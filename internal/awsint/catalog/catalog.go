// Package catalog is the per-product part of the AWS integration: for each
// AWS product Kansoku collects (EC2, CLB, ALB, NLB, RDS incl. Aurora,
// Lambda, SQS, DynamoDB), its CloudWatch namespace and metrics, the IAM
// actions its discovery needs, how its resources become hosts, and one
// discovery function that lists the resources with the product's own
// Describe/List call. Adding a product is one more entry here: data plus a
// discovery function.
package catalog

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Host kinds, as Mackerel bills them: EC2 instances are standard hosts,
// every other resource a micro host.
const (
	Standard = "standard"
	Micro    = "micro"
)

// Host statuses (Mackerel's names).
const (
	StatusWorking  = "working"
	StatusStandby  = "standby"
	StatusPoweroff = "poweroff"
)

// Product is one AWS product the integration can collect.
type Product struct {
	// Key names the product in settings and APIs: ec2, elb, alb, nlb, rds,
	// lambda, sqs, dynamodb.
	Key string
	// Name is how people call it (as Mackerel's list of supported products
	// does: https://mackerel.io/docs/entry/integrations/aws).
	Name string
	// HostKind is standard or micro.
	HostKind string
	// TagTypes are the Resource Groups Tagging API resource types whose tags
	// this product reads from the tagging API (empty when its Describe call
	// returns tags itself).
	TagTypes []string
	// Actions are the IAM actions its discovery needs (least privilege).
	Actions []string
	// AWSManagedPolicy is the AWS managed policy Mackerel's table of
	// required policies names for it ("Grant policies", https://mackerel.io/docs/entry/integrations/aws).
	AWSManagedPolicy string
	// MetricSets are the metrics collected per kind of resource of the
	// product ("" for products with one kind; RDS has "instance" and
	// "cluster").
	MetricSets map[string]MetricSet
	// Discover lists the product's resources in one region.
	Discover func(ctx context.Context, c *Clients) ([]Resource, error)
}

// MetricSet is the metrics of one kind of resource.
type MetricSet struct {
	Namespace string
	// Period is the collection period: 300 s for EC2's basic monitoring,
	// 60 s for the others.
	Period  time.Duration
	Metrics []Metric
}

// Metric is one CloudWatch metric and the statistics collected for it.
type Metric struct {
	Name  string
	Stats []string
}

// Resource is one discovered resource, which becomes a host.
type Resource struct {
	Product string
	// MetricSet selects the product's metric set ("" or e.g. "cluster").
	MetricSet string
	ARN       string
	Name      string
	// Dimensions identify the resource's CloudWatch metrics.
	Dimensions map[string]string
	// Identifiers are what custom_identifier may name: ARN, instance id,
	// DNS name, endpoint ...
	Identifiers []string
	Status      string
	// Gone is true for resources that still show up but are deleted (EC2
	// instances in state terminated).
	Gone     bool
	Metadata map[string]string
	// Tags come from the Describe call when it returns them, else from the
	// tagging API (filled in by the caller).
	Tags map[string]string
}

// Clients makes the SDK clients of one region with the integration's
// credentials and endpoint.
type Clients struct {
	Config aws.Config
	// AccountID is the account's id (used to derive ARNs).
	AccountID string
}

// Region returns the clients' region.
func (c *Clients) Region() string { return c.Config.Region }

var products = map[string]*Product{}

func register(p *Product) {
	if _, dup := products[p.Key]; dup {
		panic("catalog: product registered twice: " + p.Key)
	}
	products[p.Key] = p
}

// Get returns a product by key.
func Get(key string) (*Product, bool) {
	p, ok := products[key]
	return p, ok
}

// Keys returns every product key, sorted.
func Keys() []string {
	out := make([]string, 0, len(products))
	for k := range products {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// All returns every product, by key.
func All() []*Product {
	out := make([]*Product, 0, len(products))
	for _, k := range Keys() {
		out = append(out, products[k])
	}
	return out
}

// Selectable is one collectable series family of a product: a metric and
// statistic, named as Prometheus sees it.
type Selectable struct {
	Set    string
	Metric string
	Stat   string
	// Name is the Prometheus metric name, e.g. aws_ec2_cpuutilization_average.
	Name string
}

// Selectables returns every series family the product collects by default.
func (p *Product) Selectables() []Selectable {
	var out []Selectable
	sets := make([]string, 0, len(p.MetricSets))
	for s := range p.MetricSets {
		sets = append(sets, s)
	}
	sort.Strings(sets)
	for _, s := range sets {
		ms := p.MetricSets[s]
		for _, m := range ms.Metrics {
			for _, st := range m.Stats {
				out = append(out, Selectable{Set: s, Metric: m.Name, Stat: st, Name: MetricName(ms.Namespace, m.Name, st)})
			}
		}
	}
	return out
}

// MetricName builds the Prometheus name of a CloudWatch metric and
// statistic as YACE (the most used CloudWatch exporter) does:
// aws_<namespace>_<metric in snake case>_<statistic>, e.g.
// AWS/EC2 CPUUtilization Average -> aws_ec2_cpuutilization_average.
func MetricName(namespace, metric, stat string) string {
	ns := strings.TrimPrefix(namespace, "/")
	ns = strings.TrimPrefix(ns, "AWS/")
	ns = strings.TrimPrefix(ns, "aws/")
	return "aws_" + sanitize(strings.ToLower(ns)) + "_" + snake(metric) + "_" + sanitize(strings.ToLower(stat))
}

// snake converts a CloudWatch metric name: an upper-case letter after a
// lower-case letter or digit starts a new word; "%" becomes "_percent";
// anything outside [a-z0-9_] becomes "_"; runs of "_" collapse.
func snake(s string) string {
	s = strings.ReplaceAll(s, "%", "_percent")
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return sanitize(b.String())
}

func sanitize(s string) string {
	var b strings.Builder
	lastUnderscore := false
	for _, r := range s {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		if !ok {
			if !lastUnderscore {
				b.WriteByte('_')
			}
			lastUnderscore = true
			continue
		}
		b.WriteRune(r)
		lastUnderscore = false
	}
	return strings.Trim(b.String(), "_")
}

// DimensionLabel is the Prometheus label of a CloudWatch dimension (YACE's
// dimension_<Name>).
func DimensionLabel(dim string) string { return "dimension_" + sanitizeLabel(dim) }

func sanitizeLabel(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Policy is an IAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Policy.
type Statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// CommonActions are needed whatever the products: metrics and tags.
var CommonActions = []string{"cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "tag:GetResources"}

// PermissionPolicy returns the least-privilege policy for the products:
// the common actions plus each product's discovery actions.
func PermissionPolicy(keys []string) (Policy, error) {
	set := map[string]bool{}
	for _, a := range CommonActions {
		set[a] = true
	}
	for _, k := range keys {
		p, ok := Get(k)
		if !ok {
			return Policy{}, fmt.Errorf("unknown product %q (known: %s)", k, strings.Join(Keys(), ", "))
		}
		for _, a := range p.Actions {
			set[a] = true
		}
	}
	actions := make([]string, 0, len(set))
	for a := range set {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	return Policy{Version: "2012-10-17", Statement: []Statement{{Sid: "KansokuAWSIntegration", Effect: "Allow", Action: actions, Resource: "*"}}}, nil
}

// FullPolicy is Mackerel's policy for every product it supports ("IAM
// policies used in AWS Integration", https://mackerel.io/docs/entry/integrations/aws), plus tag:GetResources,
// which Kansoku uses to read tags in one call per region.
func FullPolicy() Policy {
	actions := append([]string{}, mackerelFullPolicyActions...)
	actions = append(actions, "tag:GetResources")
	sort.Strings(actions)
	return Policy{Version: "2012-10-17", Statement: []Statement{{Effect: "Allow", Action: actions, Resource: "*"}}}
}

// TrustPolicy is the role's trust policy: Kansoku's AWS account may assume
// it only with the integration's External ID.
func TrustPolicy(kansokuAccountID, externalID string) Policy {
	return Policy{Version: "2012-10-17", Statement: []Statement{{
		Effect:    "Allow",
		Principal: map[string]any{"AWS": "arn:aws:iam::" + kansokuAccountID + ":root"},
		Action:    "sts:AssumeRole",
		Condition: map[string]any{"StringEquals": map[string]any{"sts:ExternalId": externalID}},
	}}}
}

var mackerelFullPolicyActions = []string{
	"apigateway:Get*", "application-autoscaling:DescribeScalableTargets", "athena:ListWorkGroups", "athena:ListTagsForResource",
	"batch:Describe*", "batch:ListJobs", "budgets:ViewBudget", "cloudfront:Get*", "cloudfront:List*", "cloudwatch:Get*",
	"cloudwatch:List*", "codebuild:BatchGetProjects", "codebuild:ListProjects", "connect:ListInstances", "connect:ListTagsForResource",
	"dynamodb:Describe*", "dynamodb:List*", "ds:DescribeDirectories", "ec2:DescribeInstances", "ecs:DescribeClusters", "ecs:List*",
	"elasticache:Describe*", "elasticache:ListTagsForResource", "elasticfilesystem:Describe*", "elasticloadbalancing:Describe*",
	"es:DescribeDomain", "es:List*", "firehose:DescribeDeliveryStream", "firehose:List*", "kinesis:Describe*", "kinesis:List*",
	"lambda:GetFunctionConfiguration", "lambda:List*", "rds:Describe*", "rds:ListTagsForResource", "redshift:Describe*",
	"route53:List*", "s3:ListAllMyBuckets", "s3:GetBucketLocation", "s3:GetBucketLogging", "s3:GetBucketTagging",
	"s3:GetEncryptionConfiguration", "s3:GetMetricsConfiguration", "ses:DescribeActiveReceiptRuleSet", "ses:GetSendQuota",
	"ses:ListIdentities", "sqs:GetQueueAttributes", "sqs:List*", "states:DescribeStateMachine", "states:List*",
	"waf-regional:Get*", "waf-regional:List*", "waf:Get*", "waf:List*", "wafv2:GetWebACL", "wafv2:List*",
}
