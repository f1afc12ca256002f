package awssim

import (
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v2"
)

// Scenario is the simulated AWS world: accounts with their identities and,
// per region, their resources. Tests build one (or load a YAML file), hand
// it to the Server, and change it between polls with Server.Update
// (create and delete resources, retag, widen a role's permissions).
//
// Resource fields are those the integration reads; everything else about a
// resource is derived (ARNs, DNS names, CloudWatch dimensions).
type Scenario struct {
	// Callers are identities outside the simulated accounts that may call
	// STS: Kansoku's own credentials ("the standard AWS credential chain").
	Callers []Caller `yaml:"callers"`
	// Accounts are the simulated customer accounts.
	Accounts []Account `yaml:"accounts"`
	// MetricDelay is how long after the end of a period CloudWatch takes to
	// publish its datapoint (the reporting delay); default 2m.
	MetricDelay time.Duration `yaml:"metric_delay"`
}

// Caller is an identity with access keys that is not inside a simulated
// account's IAM (it still has an account id for ARNs and trust checks).
type Caller struct {
	AccountID string `yaml:"account_id"`
	// Name makes the ARN arn:aws:iam::<account_id>:user/<name>.
	Name            string `yaml:"name"`
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
}

// Account is one simulated AWS account.
type Account struct {
	ID    string `yaml:"id"` // 12 digits
	Alias string `yaml:"alias"`
	Users []User `yaml:"users"`
	Roles []Role `yaml:"roles"`
	// Regions maps a region name (us-east-1 ...) to its resources.
	Regions map[string]*Region `yaml:"regions"`
}

// User is an IAM user with access keys (the integration's discouraged
// access-key mode).
type User struct {
	Name       string      `yaml:"name"`
	AccessKeys []AccessKey `yaml:"access_keys"`
	// Policies are identity policies: AWS-managed names the simulator knows
	// (ManagedPolicies) or inline JSON documents.
	Policies []string `yaml:"policies"`
}

// AccessKey is a long-term key pair.
type AccessKey struct {
	ID     string `yaml:"id"`
	Secret string `yaml:"secret"`
}

// Role is an IAM role the integration assumes.
type Role struct {
	Name string `yaml:"name"`
	// TrustedPrincipals are the principals the trust policy allows to call
	// sts:AssumeRole: account ids ("111111111111", meaning its root), or
	// ARNs (arn:aws:iam::111111111111:root, arn:aws:iam::111111111111:user/x).
	TrustedPrincipals []string `yaml:"trusted_principals"`
	// ExternalID, when set, is the trust policy's sts:ExternalId condition.
	ExternalID string `yaml:"external_id"`
	// Policies as for User.
	Policies []string `yaml:"policies"`
}

// Region holds one region's resources of an account.
type Region struct {
	Instances       []Instance       `yaml:"ec2_instances"`
	ClassicELBs     []ClassicELB     `yaml:"classic_load_balancers"`
	LoadBalancers   []LoadBalancerV2 `yaml:"load_balancers"` // ALB and NLB
	DBInstances     []DBInstance     `yaml:"db_instances"`
	DBClusters      []DBCluster      `yaml:"db_clusters"` // Aurora
	LambdaFunctions []LambdaFunction `yaml:"lambda_functions"`
	Queues          []Queue          `yaml:"sqs_queues"`
	Tables          []Table          `yaml:"dynamodb_tables"`
	// EKSClusters are Amazon EKS clusters (eks.go): what DescribeCluster
	// answers and whom the cluster's IAM authenticator maps.
	EKSClusters []EKSCluster `yaml:"eks_clusters"`
	// Resources are the resources of every other product, by kind
	// (kinds.go): ElastiCache clusters, Redshift clusters, S3 buckets ...
	// Global ones (CloudFront, Route 53, WAF for CloudFront, billing,
	// budgets) go under us-east-1.
	Resources []Resource `yaml:"resources"`
	// ExtraMetrics are CloudWatch metrics beyond what AWS documents (a
	// metric "AWS adds later": ListMetrics reports it and GetMetricData
	// answers it for every resource of its namespace).
	ExtraMetrics []ExtraMetric `yaml:"extra_metrics"`
}

// Tags are a resource's tags.
type Tags map[string]string

// Instance is an EC2 instance.
type Instance struct {
	ID               string `yaml:"id"` // i-...
	Type             string `yaml:"type"`
	State            string `yaml:"state"` // pending, running, stopping, stopped, shutting-down, terminated
	AvailabilityZone string `yaml:"availability_zone"`
	PrivateIP        string `yaml:"private_ip"`
	PublicIP         string `yaml:"public_ip"`
	// SubnetID and VPCID place the instance in a VPC subnet (EC2's
	// subnetId and vpcId, and its primary network interface's); empty:
	// no VPC placement is reported.
	SubnetID   string    `yaml:"subnet_id"`
	VPCID      string    `yaml:"vpc_id"`
	ImageID    string    `yaml:"image_id"`
	LaunchTime time.Time `yaml:"launch_time"`
	Tags       Tags      `yaml:"tags"`
}

// ClassicELB is a Classic Load Balancer.
type ClassicELB struct {
	Name              string   `yaml:"name"`
	Scheme            string   `yaml:"scheme"` // internet-facing, internal
	AvailabilityZones []string `yaml:"availability_zones"`
	Instances         []string `yaml:"instances"`
	Tags              Tags     `yaml:"tags"`
}

// LoadBalancerV2 is an Application or Network Load Balancer.
type LoadBalancerV2 struct {
	Name   string `yaml:"name"`
	Type   string `yaml:"type"` // application, network
	Scheme string `yaml:"scheme"`
	// ID is the hex suffix of the ARN (app/<name>/<id>); derived when empty.
	ID    string `yaml:"id"`
	State string `yaml:"state"` // active, provisioning, failed
	// TargetGroups are the names of its target groups.
	TargetGroups []string `yaml:"target_groups"`
	Tags         Tags     `yaml:"tags"`
}

// DBInstance is an RDS DB instance (standalone or an Aurora cluster member).
type DBInstance struct {
	ID               string `yaml:"id"`
	Engine           string `yaml:"engine"` // mysql, postgres, aurora-mysql, aurora-postgresql ...
	EngineVersion    string `yaml:"engine_version"`
	Class            string `yaml:"class"`
	Status           string `yaml:"status"` // available ...
	AvailabilityZone string `yaml:"availability_zone"`
	Cluster          string `yaml:"cluster"` // Aurora cluster id, if a member
	// ReplicaOf names the source of a read replica.
	ReplicaOf string `yaml:"replica_of"`
	// StorageType is gp2, gp3 (default), io1 ...
	StorageType string `yaml:"storage_type"`
	// Features turn on what AWS publishes more metrics for.
	Features []string `yaml:"features"`
	Tags     Tags     `yaml:"tags"`
}

// DBCluster is an Aurora (or Multi-AZ) DB cluster.
type DBCluster struct {
	ID            string `yaml:"id"`
	Engine        string `yaml:"engine"`
	EngineVersion string `yaml:"engine_version"`
	Status        string `yaml:"status"`
	// Features: backtrack (Aurora MySQL).
	Features []string `yaml:"features"`
	Tags     Tags     `yaml:"tags"`
}

// LambdaFunction is a Lambda function.
type LambdaFunction struct {
	Name       string `yaml:"name"`
	Runtime    string `yaml:"runtime"`
	MemorySize int32  `yaml:"memory_size"`
	Timeout    int32  `yaml:"timeout"`
	// Aliases are the function's aliases (their metrics have the
	// dimension Resource = <name>:<alias>).
	Aliases []string `yaml:"aliases"`
	// Features: dlq (a dead-letter queue), stream (a stream event source),
	// destination, provisioned (provisioned concurrency), async.
	Features []string `yaml:"features"`
	Tags     Tags     `yaml:"tags"`
}

// Queue is an SQS queue.
type Queue struct {
	Name string `yaml:"name"`
	Tags Tags   `yaml:"tags"`
}

// Table is a DynamoDB table.
type Table struct {
	Name   string `yaml:"name"`
	Status string `yaml:"status"` // ACTIVE ...
	// Operations are the operations the table is used with (their
	// request metrics are published per table and operation); default
	// GetItem, PutItem, Query.
	Operations []string `yaml:"operations"`
	// BillingMode is PROVISIONED (default) or PAY_PER_REQUEST.
	BillingMode string `yaml:"billing_mode"`
	// Features: ttl.
	Features []string `yaml:"features"`
	Tags     Tags     `yaml:"tags"`
}

// ExtraMetric is a CloudWatch metric added to a namespace.
type ExtraMetric struct {
	Namespace string `yaml:"namespace"` // AWS/EC2 ...
	Name      string `yaml:"name"`
	// Dimensions is the dimension set it is published with; empty: each
	// resource's own (InstanceId, DBInstanceIdentifier ...).
	Dimensions []string `yaml:"dimensions"`
}

// LoadScenario reads a YAML scenario file.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseScenario(b)
}

// ParseScenario parses a YAML scenario (unknown keys are errors).
func ParseScenario(b []byte) (*Scenario, error) {
	var sc Scenario
	if err := yaml.UnmarshalStrict(b, &sc); err != nil {
		return nil, fmt.Errorf("awssim scenario: %w", err)
	}
	return &sc, nil
}
