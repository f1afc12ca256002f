// Package catalog is the per-product part of the AWS integration: the 28
// products of Mackerel's AWS integration
// (https://mackerel.io/docs/entry/integrations/aws), each an entry of data
// in the manner of YACE's services.go: its CloudWatch namespace and metric
// sets (Mackerel's metric lists), how its resources are listed (a
// discovery call through the product's aws-sdk-go-v2 client), how an ARN
// maps to CloudWatch dimensions, where its tags come from, its host kind,
// the IAM actions it needs and whether it is regional or global. Code
// remains only where a product needs it: the discovery call itself, and
// values that come from service APIs rather than CloudWatch (AWS Batch's
// job counts, SES's sending quota, budgets).
//
// The products are one explicit list (products.go); nothing registers
// itself, and the list is never changed after it is built.
package catalog

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

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
	// Key names the product in settings and APIs (ec2, rds, s3 ...).
	Key string
	// Name is how people call it (as Mackerel's list does).
	Name string
	// HostKind is standard or micro.
	HostKind string
	// HostUnit says what one host is (Mackerel's "1 instance = 1 host"):
	// shown by the console.
	HostUnit string
	// Regional lists the product's resources in one of the integration's
	// regions; Global lists them once, in the partition's global region
	// (us-east-1 for aws), whatever the integration's regions. A product
	// may have both (WAF: regional web ACLs and CloudFront's).
	Regional, Global Discover
	// ARNDimensions, when set, derives CloudWatch dimensions from a
	// resource's ARN with its named groups (YACE's DimensionRegexps);
	// discovery may set dimensions the ARN does not carry.
	ARNDimensions *regexp.Regexp
	// TagTypes are the Resource Groups Tagging API resource types whose
	// tags this product reads from the tagging API (empty when its
	// discovery call returns tags itself).
	TagTypes []string
	// Untagged products (SES, Batch, WAF, Route 53, Billing, Connect) have
	// no tags to filter on or to read roles from, as in Mackerel: tag
	// filters do not apply to them.
	Untagged bool
	// Actions are the IAM actions its discovery needs (least privilege).
	Actions []string
	// AWSManagedPolicy is the AWS managed policy Mackerel's table of
	// required policies names for it.
	AWSManagedPolicy string
	// MackerelRetires: Mackerel offers automatic retirement for this
	// product (EC2, RDS, ElastiCache), and it is on by default; Kansoku
	// offers it for every product, off by default for the others.
	MackerelRetires bool
	// MetricSets are the CloudWatch metrics collected, per kind of
	// resource and sub-resource.
	MetricSets []MetricSet
	// APIMetrics are the values the product's discovery reads from its
	// own API rather than CloudWatch (Resource.Values).
	APIMetrics []APIMetric
	// Labels name the product's metadata keys for people.
	Labels map[string]string
}

// Discover lists a product's resources with its own API.
type Discover func(ctx context.Context, c *Clients) ([]Resource, error)

// Resource is one discovered resource, which becomes a host.
type Resource struct {
	Product string
	// Kind selects the product's metric sets ("" or e.g. "cluster").
	Kind string
	ARN  string
	Name string
	// Region is where the resource's metrics are (and the host's region):
	// the discovery's region, a bucket's own region, us-east-1 for
	// global resources.
	Region string
	// Dimensions identify the resource's CloudWatch metrics.
	Dimensions map[string]string
	// Families are values of sub-resource dimensions discovery knows
	// (CloudFront functions, Step Functions activities ...).
	Families map[string][]string
	// Traits decide which metrics exist for it: an engine, a burstable
	// instance type, a destination, a feature that is on.
	Traits []string
	// Identifiers are what custom_identifier may name: ARN, instance id,
	// DNS name, endpoint ...
	Identifiers []string
	Status      string
	// Gone is true for resources that still show up but are deleted (EC2
	// instances in state terminated).
	Gone     bool
	Metadata map[string]string
	// Tags come from the discovery call when it returns them, else from
	// the tagging API (filled in by the caller), under TagARN when the
	// resource is part of a tagged one (an ElastiCache node's cluster).
	Tags   map[string]string
	TagARN string
	// Values are read from the product's API (APIMetrics).
	Values []Value
}

// HasTraits reports whether the resource has every trait.
func (r *Resource) HasTraits(traits []string) bool {
	for _, t := range traits {
		found := false
		for _, have := range r.Traits {
			if have == t {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Value is one value read from a product's API, stamped at the poll.
type Value struct {
	// Name is the Prometheus metric name (one of the product's APIMetrics).
	Name   string
	Labels map[string]string
	Value  float64
}

// APIMetric is a value a product reads from its own API.
type APIMetric struct {
	Name  string
	Group string
	Help  string
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

// Partition returns the AWS partition of the clients' region.
func (c *Clients) Partition() string { return Partition(c.Config.Region) }

// ARN builds arn:<partition>:<service>:<region>:<account>:<resource>
// in the clients' region and account.
func (c *Clients) ARN(service, resource string) string {
	return "arn:" + c.Partition() + ":" + service + ":" + c.Region() + ":" + c.AccountID + ":" + resource
}

// Partition is the AWS partition a region belongs to: aws-cn for the
// China regions, aws-us-gov for GovCloud, aws otherwise.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// GlobalRegion is where a partition's global services (CloudFront, Route
// 53, billing, WAF for CloudFront, the S3 bucket listing) are called and
// publish their metrics.
func GlobalRegion(partition string) string {
	switch partition {
	case "aws-cn":
		return "cn-northwest-1"
	case "aws-us-gov":
		return "us-gov-west-1"
	}
	return "us-east-1"
}

// dimsFromARN applies the product's ARN mapping to a resource whose
// discovery left dimensions to it.
func (p *Product) dimsFromARN(r *Resource) {
	if p.ARNDimensions == nil {
		return
	}
	m := p.ARNDimensions.FindStringSubmatch(r.ARN)
	if m == nil {
		return
	}
	if r.Dimensions == nil {
		r.Dimensions = map[string]string{}
	}
	for i, name := range p.ARNDimensions.SubexpNames() {
		if name != "" && r.Dimensions[name] == "" {
			r.Dimensions[name] = m[i]
		}
	}
}

// Finish completes what discovery returned: the product key, the region
// (the clients' when unset), dimensions from the ARN.
func (p *Product) Finish(c *Clients, rs []Resource) []Resource {
	for i := range rs {
		r := &rs[i]
		r.Product = p.Key
		if r.Region == "" {
			r.Region = c.Region()
		}
		p.dimsFromARN(r)
		if r.Metadata == nil {
			r.Metadata = map[string]string{}
		}
	}
	return rs
}

// catalog is the products by key, built once from the explicit list.
type catalog struct {
	byKey map[string]*Product
	keys  []string
}

var products = func() catalog {
	c := catalog{byKey: map[string]*Product{}}
	for _, p := range productList() {
		if _, dup := c.byKey[p.Key]; dup {
			panic("catalog: product listed twice: " + p.Key)
		}
		c.byKey[p.Key] = p
		c.keys = append(c.keys, p.Key)
	}
	sort.Strings(c.keys)
	return c
}()

// Get returns a product by key.
func Get(key string) (*Product, bool) {
	p, ok := products.byKey[key]
	return p, ok
}

// Keys returns every product key, sorted.
func Keys() []string { return append([]string(nil), products.keys...) }

// All returns every product, by key.
func All() []*Product {
	out := make([]*Product, 0, len(products.keys))
	for _, k := range products.keys {
		out = append(out, products.byKey[k])
	}
	return out
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
// policies used in AWS Integration", https://mackerel.io/docs/entry/integrations/aws),
// plus tag:GetResources, which Kansoku uses to read tags in one call per
// region, and the few read actions Kansoku's discovery adds
// (elasticache:DescribeReplicationGroups is in elasticache:Describe*).
func FullPolicy() Policy {
	actions := append([]string{}, mackerelFullPolicyActions...)
	actions = append(actions, "tag:GetResources")
	sort.Strings(actions)
	return Policy{Version: "2012-10-17", Statement: []Statement{{Effect: "Allow", Action: actions, Resource: "*"}}}
}

// TrustPolicy is the role's trust policy: Kansoku's AWS account may assume
// it only with the integration's External ID.
func TrustPolicy(partition, kansokuAccountID, externalID string) Policy {
	return Policy{Version: "2012-10-17", Statement: []Statement{{
		Effect:    "Allow",
		Principal: map[string]any{"AWS": "arn:" + partition + ":iam::" + kansokuAccountID + ":root"},
		Action:    "sts:AssumeRole",
		Condition: map[string]any{"StringEquals": map[string]any{"sts:ExternalId": externalID}},
	}}}
}

// AssumePolicy is the policy Kansoku's own identity needs in its account
// (the "A side" of seed 003): sts:AssumeRole on the integration's role,
// or on every role named like it in the account while none is set.
func AssumePolicy(partition, roleARN, account string) Policy {
	resource := roleARN
	if resource == "" {
		resource = "arn:" + partition + ":iam::" + account + ":role/*"
	}
	return Policy{Version: "2012-10-17", Statement: []Statement{{Sid: "KansokuAssumeIntegrationRole", Effect: "Allow", Action: "sts:AssumeRole", Resource: resource}}}
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

// oneMinute and friends are the periods the metric sets use.
const (
	oneMinute      = time.Minute
	fiveMinutes    = 5 * time.Minute
	fifteenMinutes = 15 * time.Minute
	sixHours       = 6 * time.Hour
	oneDay         = 24 * time.Hour
)
