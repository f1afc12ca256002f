package awssim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// This file describes how every scenario resource appears to CloudWatch
// and to the Resource Groups Tagging API: its ARN, its tagging resource
// type, and the entities CloudWatch publishes metrics for (a namespace,
// the values each dimension takes, and the traits that decide which of
// the namespace's metrics exist, published.go). The typed resources of
// scenario.go (EC2 ... DynamoDB) and the generic ones of the other
// products (Resource, by Kind) go through the same description.

// Resource is a resource of one of the generic kinds (ResourceKinds): the
// products whose APIs need no more than a name, a few attributes,
// sub-resources and features.
type Resource struct {
	// Kind is one of ResourceKinds' keys: elasticache:cluster ...
	Kind string `yaml:"kind"`
	Name string `yaml:"name"`
	// ID is the resource's id where it has one besides its name (a
	// CloudFront distribution's, a file system's ...); derived when empty.
	ID string `yaml:"id"`
	// State is the resource's status in its API (available, ACTIVE ...);
	// a state in ResourceKind.Silent publishes no metrics.
	State string `yaml:"state"`
	// Attrs are kind-specific attributes (engine, node_type, destination
	// ...), documented per kind in ResourceKinds.
	Attrs map[string]string `yaml:"attrs"`
	// Subs are sub-resources by kind-specific name: cache nodes, services,
	// stages, rules, queues, functions ...
	Subs map[string][]string `yaml:"subs"`
	// Features are what is turned on for the resource and makes AWS
	// publish more (additional_metrics, request_metrics, tracking ...).
	Features []string `yaml:"features"`
	Tags     Tags     `yaml:"tags"`
}

func (r *Resource) attr(k, def string) string {
	if v, ok := r.Attrs[k]; ok && v != "" {
		return v
	}
	return def
}

func (r *Resource) attrInt(k string, def int) int {
	if n, err := strconv.Atoi(r.Attrs[k]); err == nil {
		return n
	}
	return def
}

func (r *Resource) has(feature string) bool {
	for _, f := range r.Features {
		if f == feature {
			return true
		}
	}
	return false
}

// ResourceKind is what the simulator knows of a generic kind.
type ResourceKind struct {
	// TagService and TagType are the tagging API's resource type
	// (service:type, TagType empty for S3); TagService empty: the kind is
	// not listed by the tagging API.
	TagService, TagType string
	// Global kinds live in us-east-1 and are listed by a global API.
	Global bool
	// Silent are states in which the resource publishes no metrics.
	Silent []string
	arn    func(region, account string, r *Resource) string
	// entities returns what CloudWatch publishes for the resource.
	entities func(region, account string, r *Resource) []entity
}

// entity is one thing CloudWatch publishes metrics for: its namespace,
// every value each dimension takes, and its traits.
type entity struct {
	namespace string
	dims      map[string][]string
	traits    map[string]bool
	// primary is the dimension set that identifies it (extra metrics of a
	// scenario are published with it).
	primary []string
}

func traitSet(ts ...string) map[string]bool {
	out := map[string]bool{}
	for _, t := range ts {
		if t != "" {
			out[t] = true
		}
	}
	return out
}

func one(v string) []string { return []string{v} }

// ResourceKinds are the generic kinds a scenario may use, by Kind.
func ResourceKinds() map[string]ResourceKind { return resourceKinds() }

// resourceKinds is the table of kinds, built once (it never changes).
func resourceKinds() map[string]ResourceKind { return kindsOnce() }

var kindsOnce = sync.OnceValue(func() map[string]ResourceKind {
	return map[string]ResourceKind{
		// attrs: engine (redis, valkey, memcached), node_type, nodes (count),
		// role (primary, replica); features: global_datastore.
		"elasticache:cluster": {TagService: "elasticache", TagType: "cluster", Silent: []string{"creating", "deleting"},
			arn: func(region, account string, r *Resource) string {
				return partitionARN("elasticache", region, account, "cluster:"+r.Name)
			},
			entities: func(_, _ string, r *Resource) []entity {
				engine := r.attr("engine", "redis")
				t := traitSet(engine, r.attr("role", ""))
				if engine == "valkey" {
					t["redis"] = true
				}
				if strings.HasPrefix(r.attr("node_type", ""), "cache.t") {
					t["burstable"] = true
				}
				if strings.Contains(r.attr("node_type", ""), "gd.") {
					t["data_tiering"] = true
				}
				for _, f := range r.Features {
					t[f] = true
				}
				return []entity{{namespace: "AWS/ElastiCache", dims: map[string][]string{"CacheClusterId": one(r.Name), "CacheNodeId": ElastiCacheNodeIDs(r)},
					traits: t, primary: []string{"CacheClusterId", "CacheNodeId"}}}
			}},
		// attrs: node_type, nodes; subs: wlm (queue ids), service_class.
		"redshift:cluster": {TagService: "redshift", TagType: "cluster", Silent: []string{"creating", "paused"},
			arn: func(region, account string, r *Resource) string {
				return partitionARN("redshift", region, account, "cluster:"+r.Name)
			},
			entities: func(_, _ string, r *Resource) []entity {
				return []entity{{namespace: "AWS/Redshift", dims: map[string][]string{"ClusterIdentifier": one(r.Name), "NodeID": RedshiftNodeIDs(r),
					"latency": {"short", "medium", "long"}, "stage": {"QueryPlanning", "QueryWaiting", "QueryExecutingRead", "QueryExecutingInsert",
						"QueryExecutingDelete", "QueryExecutingUpdate", "QueryExecutingCtas", "QueryExecutingUnload", "QueryExecutingCopy", "QueryCommit"},
					"wlmid": subsOr(r, "wlm", "1", "5"), "service class": subsOr(r, "service_class", "6", "14")},
					traits: traitSet(), primary: []string{"ClusterIdentifier"}}}
			}},
		// subs: functions (CloudFront Functions of its behaviours);
		// features: additional_metrics.
		"cloudfront:distribution": {TagService: "cloudfront", TagType: "distribution", Global: true,
			arn: func(_, account string, r *Resource) string {
				return "arn:aws:cloudfront::" + account + ":distribution/" + CloudFrontDistributionID(account, r)
			},
			entities: func(_, account string, r *Resource) []entity {
				return []entity{{namespace: "AWS/CloudFront", dims: map[string][]string{"DistributionId": one(CloudFrontDistributionID(account, r)),
					"FunctionName": r.Subs["functions"]}, traits: traitSet(r.Features...), primary: []string{"DistributionId", "Region"}}}
			}},
		// subs: stages.
		"apigateway:restapi": {TagService: "apigateway", TagType: "restapis",
			arn: func(region, _ string, r *Resource) string {
				return "arn:aws:apigateway:" + region + "::/restapis/" + APIGatewayID(region, r)
			},
			entities: func(_, _ string, r *Resource) []entity {
				return []entity{{namespace: "AWS/ApiGateway", dims: map[string][]string{"ApiName": one(r.Name), "Stage": r.Subs["stages"]},
					traits: traitSet("rest"), primary: []string{"ApiName"}}}
			}},
		// attrs: protocol (HTTP, WEBSOCKET); subs: stages.
		"apigateway:api": {TagService: "apigateway", TagType: "apis",
			arn: func(region, _ string, r *Resource) string {
				return "arn:aws:apigateway:" + region + "::/apis/" + APIGatewayID(region, r)
			},
			entities: func(region, _ string, r *Resource) []entity {
				trait := "http"
				if strings.EqualFold(r.attr("protocol", "HTTP"), "WEBSOCKET") {
					trait = "websocket"
				}
				return []entity{{namespace: "AWS/ApiGateway", dims: map[string][]string{"ApiId": one(APIGatewayID(region, r)), "Stage": r.Subs["stages"]},
					traits: traitSet(trait), primary: []string{"ApiId"}}}
			}},
		// attrs: shards, mode (PROVISIONED, ON_DEMAND).
		"kinesis:stream": {TagService: "kinesis", TagType: "stream", Silent: []string{"CREATING"},
			arn: func(region, account string, r *Resource) string {
				return partitionARN("kinesis", region, account, "stream/"+r.Name)
			},
			entities: func(_, _ string, r *Resource) []entity {
				return []entity{{namespace: "AWS/Kinesis", dims: map[string][]string{"StreamName": one(r.Name)}, traits: traitSet(), primary: []string{"StreamName"}}}
			}},
		// subs: storage_types (StandardStorage ...); features: request_metrics
		// (a metrics configuration named EntireBucket).
		"s3:bucket": {TagService: "s3",
			arn: func(_, _ string, r *Resource) string { return "arn:aws:s3:::" + r.Name },
			entities: func(_, _ string, r *Resource) []entity {
				dims := map[string][]string{"BucketName": one(r.Name), "StorageType": subsOr(r, "storage_types", "StandardStorage")}
				if r.has("request_metrics") {
					dims["FilterId"] = one("EntireBucket")
				}
				return []entity{{namespace: "AWS/S3", dims: dims, traits: traitSet(r.Features...), primary: []string{"BucketName", "StorageType"}}}
			}},
		// attrs: engine (OpenSearch_2.13, Elasticsearch_7.10), instance_type,
		// nodes; features: dedicated_master.
		"es:domain": {TagService: "es", TagType: "domain", Silent: []string{"processing"},
			arn: func(region, account string, r *Resource) string {
				return partitionARN("es", region, account, "domain/"+r.Name)
			},
			entities: func(_, account string, r *Resource) []entity {
				t := traitSet(r.Features...)
				if strings.HasPrefix(r.attr("engine", "OpenSearch_2.13"), "Elasticsearch") {
					t["elasticsearch"] = true
				} else {
					t["opensearch"] = true
				}
				if strings.HasPrefix(r.attr("instance_type", ""), "t") {
					t["burstable"] = true
				}
				var nodes []string
				for i := 0; i < r.attrInt("nodes", 2); i++ {
					nodes = append(nodes, digestAlnum(22, "es-node", account, r.Name, strconv.Itoa(i)))
				}
				return []entity{{namespace: "AWS/ES", dims: map[string][]string{"DomainName": one(r.Name), "ClientId": one(account), "NodeId": nodes},
					traits: t, primary: []string{"DomainName", "ClientId"}}}
			}},
		// subs: services; features: ec2_capacity.
		"ecs:cluster": {TagService: "ecs", TagType: "cluster", Silent: []string{"INACTIVE"},
			arn: func(region, account string, r *Resource) string {
				return partitionARN("ecs", region, account, "cluster/"+r.Name)
			},
			entities: func(_, _ string, r *Resource) []entity {
				return []entity{{namespace: "AWS/ECS", dims: map[string][]string{"ClusterName": one(r.Name), "ServiceName": r.Subs["services"]},
					traits: traitSet(r.Features...), primary: []string{"ClusterName"}}}
			}},
		// One per region where SES is used. attrs: max_24h_send,
		// max_send_rate, sent_last_24h; subs: rules (receipt rules);
		// features: tracking (opens and clicks).
		"ses:account": {
			arn: func(region, account string, _ *Resource) string {
				return partitionARN("ses", region, account, "identity/*")
			},
			entities: func(_, _ string, r *Resource) []entity {
				return []entity{{namespace: "AWS/SES", dims: map[string][]string{"RuleName": r.Subs["rules"]}, traits: traitSet(r.Features...), primary: []string{}}}
			}},
		// subs: activities, lambdas (function names), integrations
		// (service integration resource ARNs such as arn:aws:states:::sqs:sendMessage).
		"states:stateMachine": {TagService: "states", TagType: "stateMachine",
			arn: func(region, account string, r *Resource) string { return StateMachineARN(region, account, r.Name) },
			entities: func(region, account string, r *Resource) []entity {
				var acts, fns []string
				for _, a := range r.Subs["activities"] {
					acts = append(acts, partitionARN("states", region, account, "activity:"+a))
				}
				for _, f := range r.Subs["lambdas"] {
					fns = append(fns, lambdaARN(region, account, f))
				}
				return []entity{{namespace: "AWS/States", dims: map[string][]string{"StateMachineArn": one(StateMachineARN(region, account, r.Name)),
					"ActivityArn": acts, "LambdaFunctionArn": fns, "ServiceIntegrationResourceArn": r.Subs["integrations"]},
					traits: traitSet(), primary: []string{"StateMachineArn"}}}
			}},
		// attrs: performance_mode (generalPurpose, maxIO), throughput_mode.
		"elasticfilesystem:file-system": {TagService: "elasticfilesystem", TagType: "file-system", Silent: []string{"creating"},
			arn: func(region, account string, r *Resource) string {
				return partitionARN("elasticfilesystem", region, account, "file-system/"+FileSystemID(region, account, r))
			},
			entities: func(region, account string, r *Resource) []entity {
				t := traitSet()
				if r.attr("performance_mode", "generalPurpose") == "generalPurpose" {
					t["general_purpose"] = true
				}
				return []entity{{namespace: "AWS/EFS", dims: map[string][]string{"FileSystemId": one(FileSystemID(region, account, r)),
					"StorageClass": {"Total", "Standard", "IA"}}, traits: t, primary: []string{"FileSystemId"}}}
			}},
		// attrs: destination (s3, redshift, opensearch, elasticsearch,
		// splunk, http_endpoint); features: processing, conversion, backup,
		// kinesis_source, dynamic_partitioning.
		"firehose:deliverystream": {TagService: "firehose", TagType: "deliverystream", Silent: []string{"CREATING"},
			arn: func(region, account string, r *Resource) string {
				return partitionARN("firehose", region, account, "deliverystream/"+r.Name)
			},
			entities: func(_, _ string, r *Resource) []entity {
				t := traitSet(r.Features...)
				dest := r.attr("destination", "s3")
				t[dest] = true
				if dest == "redshift" { // delivered through S3 first
					t["s3"] = true
				}
				return []entity{{namespace: "AWS/Firehose", dims: map[string][]string{"DeliveryStreamName": one(r.Name)}, traits: t,
					primary: []string{"DeliveryStreamName"}}}
			}},
		// attrs: jobs.<STATUS> (counts of jobs per status). No CloudWatch
		// metrics: AWS Batch publishes none of its job counts.
		"batch:job-queue": {
			arn: func(region, account string, r *Resource) string {
				return partitionARN("batch", region, account, "job-queue/"+r.Name)
			},
		},
		// attrs: scope (REGIONAL, CLOUDFRONT: in us-east-1), metric_name
		// (default: the name); subs: rules (their metric names).
		"wafv2:webacl": {
			arn: func(region, account string, r *Resource) string { return WAFv2ACLARN(region, account, r) },
			entities: func(region, _ string, r *Resource) []entity {
				return []entity{wafEntity("AWS/WAFV2", region, r, strings.EqualFold(r.attr("scope", "REGIONAL"), "CLOUDFRONT"))}
			}},
		// WAF Classic: global (CloudFront) web ACLs, in us-east-1.
		"waf:webacl": {Global: true,
			arn: func(_, account string, r *Resource) string {
				return "arn:aws:waf::" + account + ":webacl/" + digestUUID("waf", account, r.Name)
			},
			entities: func(region, _ string, r *Resource) []entity { return []entity{wafEntity("WAF", region, r, true)} }},
		// WAF Classic Regional.
		"waf-regional:webacl": {
			arn: func(region, account string, r *Resource) string {
				return partitionARN("waf-regional", region, account, "webacl/"+digestUUID("waf-regional", account, region, r.Name))
			},
			entities: func(region, _ string, r *Resource) []entity { return []entity{wafEntity("WAF", region, r, false)} }},
		// The payer account's estimated charges, in us-east-1. subs:
		// linked_accounts, services.
		"billing:account": {Global: true,
			arn: func(_, account string, _ *Resource) string { return "arn:aws:billing::" + account + ":account" },
			entities: func(_, _ string, r *Resource) []entity {
				return []entity{{namespace: "AWS/Billing", dims: map[string][]string{"Currency": one(r.attr("currency", "USD")),
					"LinkedAccount": r.Subs["linked_accounts"], "ServiceName": r.Subs["services"]}, traits: traitSet(), primary: []string{"Currency"}}}
			}},
		// attrs: limit, actual, forecasted (amounts), unit (USD).
		"budgets:budget": {Global: true,
			arn: func(_, account string, r *Resource) string {
				return "arn:aws:budgets::" + account + ":budget/" + r.Name
			}},
		// features: latency (measures latency), calculated.
		"route53:healthcheck": {TagService: "route53", TagType: "healthcheck", Global: true,
			arn: func(_, account string, r *Resource) string {
				return "arn:aws:route53:::healthcheck/" + HealthCheckID(account, r)
			},
			entities: func(_, account string, r *Resource) []entity {
				return []entity{{namespace: "AWS/Route53", dims: map[string][]string{"HealthCheckId": one(HealthCheckID(account, r)),
					"Region": {"us-east-1", "eu-west-1", "ap-southeast-1"}}, traits: traitSet(r.Features...), primary: []string{"HealthCheckId"}}}
			}},
		// features: public.
		"route53:hostedzone": {TagService: "route53", TagType: "hostedzone", Global: true,
			arn: func(_, account string, r *Resource) string {
				return "arn:aws:route53:::hostedzone/" + HostedZoneID(account, r)
			},
			entities: func(_, account string, r *Resource) []entity {
				return []entity{{namespace: "AWS/Route53", dims: map[string][]string{"HostedZoneId": one(HostedZoneID(account, r))},
					traits: traitSet(r.Features...), primary: []string{"HostedZoneId"}}}
			}},
		// subs: flows, queues, signing_keys.
		"connect:instance": {
			arn: func(region, account string, r *Resource) string {
				return partitionARN("connect", region, account, "instance/"+ConnectInstanceID(region, account, r))
			},
			entities: func(region, account string, r *Resource) []entity {
				return []entity{{namespace: "AWS/Connect", dims: map[string][]string{"InstanceId": one(ConnectInstanceID(region, account, r)),
					"ContactFlowName": r.Subs["flows"], "QueueName": r.Subs["queues"], "SigningKeyId": r.Subs["signing_keys"],
					"Participant": one("Agent"), "Type of Connection": one("WebRTC"), "Stream Type": one("Voice")},
					traits: traitSet(), primary: []string{"InstanceId"}}}
			}},
		"codebuild:project": {TagService: "codebuild", TagType: "project",
			arn: func(region, account string, r *Resource) string {
				return partitionARN("codebuild", region, account, "project/"+r.Name)
			},
			entities: func(_, _ string, r *Resource) []entity {
				return []entity{{namespace: "AWS/CodeBuild", dims: map[string][]string{"ProjectName": one(r.Name)}, traits: traitSet(), primary: []string{"ProjectName"}}}
			}},
		// features: publish_metrics.
		"athena:workgroup": {TagService: "athena", TagType: "workgroup", Silent: []string{"DISABLED"},
			arn: func(region, account string, r *Resource) string {
				return partitionARN("athena", region, account, "workgroup/"+r.Name)
			},
			entities: func(_, _ string, r *Resource) []entity {
				return []entity{{namespace: "AWS/Athena", dims: map[string][]string{"WorkGroup": one(r.Name),
					"QueryState": {"SUCCEEDED", "FAILED", "CANCELED"}, "QueryType": {"DML", "DDL", "UTILITY"}},
					traits: traitSet(r.Features...), primary: []string{"WorkGroup"}}}
			}},
	}
})

func subsOr(r *Resource, key string, def ...string) []string {
	if v := r.Subs[key]; len(v) > 0 {
		return v
	}
	return def
}

func wafEntity(namespace, region string, r *Resource, cloudfront bool) entity {
	metric := r.attr("metric_name", r.Name)
	dims := map[string][]string{"WebACL": one(metric), "Rule": append([]string{"ALL"}, r.Subs["rules"]...)}
	t := traitSet("cloudfront")
	if !cloudfront {
		dims["Region"] = one(region)
		t = traitSet("regional")
	}
	return entity{namespace: namespace, dims: dims, traits: t, primary: []string{"WebACL", "Rule"}}
}

// partitionARN is arn:aws:<service>:<region>:<account>:<resource>.
func partitionARN(service, region, account, resource string) string {
	return "arn:aws:" + service + ":" + region + ":" + account + ":" + resource
}

// ElastiCacheNodeIDs are a cache cluster's node ids: 0001, 0002 ...
func ElastiCacheNodeIDs(r *Resource) []string {
	var out []string
	for i := 1; i <= r.attrInt("nodes", 1); i++ {
		out = append(out, fmt.Sprintf("%04d", i))
	}
	return out
}

// RedshiftNodeIDs are a cluster's node ids in CloudWatch: Shared for a
// single-node cluster, else Leader and Compute-0 ...
func RedshiftNodeIDs(r *Resource) []string {
	n := r.attrInt("nodes", 1)
	if n <= 1 {
		return []string{"Shared"}
	}
	out := []string{"Leader"}
	for i := 0; i < n; i++ {
		out = append(out, "Compute-"+strconv.Itoa(i))
	}
	return out
}

// CloudFrontDistributionID is a distribution's id: E and 13 characters.
func CloudFrontDistributionID(account string, r *Resource) string {
	if r.ID != "" {
		return r.ID
	}
	return "E" + strings.ToUpper(digestAlnum(13, "cloudfront", account, r.Name))
}

// APIGatewayID is an API's id (10 characters).
func APIGatewayID(region string, r *Resource) string {
	if r.ID != "" {
		return r.ID
	}
	return digestAlnum(10, "apigateway", r.Kind, region, r.Name)
}

// FileSystemID is an EFS file system's id (fs- and 17 hex digits).
func FileSystemID(region, account string, r *Resource) string {
	if r.ID != "" {
		return r.ID
	}
	return "fs-" + digestHex(17, "efs", account, region, r.Name)
}

// StateMachineARN is arn:aws:states:<region>:<account>:stateMachine:<name>.
func StateMachineARN(region, account, name string) string {
	return partitionARN("states", region, account, "stateMachine:"+name)
}

// WAFv2ACLARN is a WAFv2 web ACL's ARN (regional/ or global/ scope).
func WAFv2ACLARN(region, account string, r *Resource) string {
	scope := "regional"
	if strings.EqualFold(r.attr("scope", "REGIONAL"), "CLOUDFRONT") {
		scope = "global"
	}
	return partitionARN("wafv2", region, account, scope+"/webacl/"+r.Name+"/"+WAFv2ACLID(region, account, r))
}

// WAFv2ACLID is a WAFv2 web ACL's id.
func WAFv2ACLID(region, account string, r *Resource) string {
	if r.ID != "" {
		return r.ID
	}
	return digestUUID("wafv2", account, region, r.Name)
}

// HealthCheckID is a Route 53 health check's id.
func HealthCheckID(account string, r *Resource) string {
	if r.ID != "" {
		return r.ID
	}
	return digestUUID("route53-hc", account, r.Name)
}

// HostedZoneID is a Route 53 hosted zone's id (Z and 13 characters).
func HostedZoneID(account string, r *Resource) string {
	if r.ID != "" {
		return r.ID
	}
	return "Z" + strings.ToUpper(digestAlnum(13, "route53-zone", account, r.Name))
}

// ConnectInstanceID is an Amazon Connect instance's id.
func ConnectInstanceID(region, account string, r *Resource) string {
	if r.ID != "" {
		return r.ID
	}
	return digestUUID("connect", account, region, r.Name)
}

// ---- the typed resources of scenario.go ----

// ec2Traits: T instance types are burstable; every current type but the
// Xen-based families is Nitro.
func ec2Traits(instanceType string) map[string]bool {
	t := traitSet()
	family, _, _ := strings.Cut(instanceType, ".")
	if strings.HasPrefix(family, "t") {
		t["burstable"] = true
	}
	switch family {
	case "t2", "m4", "c4", "r4", "x1", "x1e", "i3", "d2", "p2", "p3", "g3", "h1", "f1":
	default:
		t["nitro"] = true
	}
	return t
}

// rdsTraits are an RDS or Aurora DB instance's (or cluster's) traits: its
// engine family, Aurora or RDS, burstable class, storage, role.
func rdsTraits(engine, class string) map[string]bool {
	e := strings.ToLower(engine)
	t := traitSet()
	switch {
	case strings.Contains(e, "mysql") || strings.Contains(e, "mariadb"):
		t["mysql"] = true
	case strings.Contains(e, "postgres"):
		t["postgres"] = true
	case strings.HasPrefix(e, "sqlserver"):
		t["sqlserver"] = true
	case strings.HasPrefix(e, "oracle"):
		t["oracle"] = true
	}
	if !t["sqlserver"] {
		t["not_sqlserver"] = true
	}
	if strings.HasPrefix(e, "aurora") {
		t["aurora"] = true
	} else {
		t["rds"] = true
	}
	if strings.HasPrefix(class, "db.t") {
		t["burstable"] = true
	}
	if class == "db.serverless" {
		t["serverless"] = true
	}
	return t
}

// dbNamespace is where a DB engine's metrics go: Amazon DocumentDB and
// Neptune share RDS's API but not its namespace.
func dbNamespace(engine string) string {
	switch strings.ToLower(engine) {
	case "docdb":
		return "AWS/DocDB"
	case "neptune":
		return "AWS/Neptune"
	}
	return "AWS/RDS"
}

func (in Instance) entities() []entity {
	t := in.Type
	if t == "" {
		t = "t3.micro"
	}
	return []entity{{namespace: "AWS/EC2", dims: map[string][]string{"InstanceId": one(in.ID), "InstanceType": one(t)}, traits: ec2Traits(t),
		primary: []string{"InstanceId"}}}
}

func (lb ClassicELB) entities(region string) []entity {
	zones := lb.AvailabilityZones
	if len(zones) == 0 {
		zones = []string{region + "a", region + "b"}
	}
	return []entity{{namespace: "AWS/ELB", dims: map[string][]string{"LoadBalancerName": one(lb.Name), "AvailabilityZone": zones},
		traits: traitSet(), primary: []string{"LoadBalancerName"}}}
}

// TargetGroupDimension is a target group's CloudWatch dimension value:
// targetgroup/<name>/<16 hex digits>.
func TargetGroupDimension(name string) string {
	return "targetgroup/" + name + "/" + digestHex(16, "targetgroup", name)
}

func (lb LoadBalancerV2) entities(region string) []entity {
	var tgs []string
	for _, n := range lb.TargetGroups {
		tgs = append(tgs, TargetGroupDimension(n))
	}
	return []entity{{namespace: lb.Namespace(), dims: map[string][]string{"LoadBalancer": one(lbV2Dimension(lb.Type, lb.Name, lb.ID)),
		"TargetGroup": tgs, "AvailabilityZone": {region + "a", region + "b"}}, traits: traitSet(), primary: []string{"LoadBalancer"}}}
}

func (db DBInstance) entities(rg *Region) []entity {
	t := rdsTraits(db.Engine, db.Class)
	dims := map[string][]string{"DBInstanceIdentifier": one(db.ID), "EngineName": one(db.Engine)}
	if db.ReplicaOf != "" {
		t["replica"] = true
	}
	switch db.StorageType {
	case "gp2":
		t["gp2"] = true
	}
	if t["rds"] && !t["burstable"] {
		t["ebs_balance"] = true
	}
	if db.Cluster != "" {
		dims["DBClusterIdentifier"] = one(db.Cluster)
		role := "READER"
		if members := rdsClusterMembers(rg, db.Cluster); len(members) > 0 && members[0].ID == db.ID {
			role = "WRITER"
		}
		dims["Role"] = one(role)
		t[strings.ToLower(role)] = true
	}
	for _, f := range db.Features {
		t[f] = true
	}
	return []entity{{namespace: dbNamespace(db.Engine), dims: dims, traits: t, primary: []string{"DBInstanceIdentifier"}}}
}

func (c DBCluster) entities() []entity {
	t := rdsTraits(c.Engine, "")
	for _, f := range c.Features {
		t[f] = true
	}
	return []entity{{namespace: dbNamespace(c.Engine), dims: map[string][]string{"DBClusterIdentifier": one(c.ID)}, traits: t,
		primary: []string{"DBClusterIdentifier"}}}
}

func (f LambdaFunction) entities() []entity {
	var res []string
	for _, a := range f.Aliases {
		res = append(res, f.Name+":"+a)
	}
	return []entity{{namespace: "AWS/Lambda", dims: map[string][]string{"FunctionName": one(f.Name), "Resource": res},
		traits: traitSet(f.Features...), primary: []string{"FunctionName"}}}
}

func (q Queue) entities() []entity {
	t := traitSet()
	if strings.HasSuffix(q.Name, ".fifo") {
		t["fifo"] = true
	}
	return []entity{{namespace: "AWS/SQS", dims: map[string][]string{"QueueName": one(q.Name)}, traits: t, primary: []string{"QueueName"}}}
}

// DefaultTableOperations are the operations a table whose scenario entry
// names none is used with.
var defaultTableOperations = []string{"GetItem", "PutItem", "Query"}

func (t Table) entities() []entity {
	ops := t.Operations
	if len(ops) == 0 {
		ops = defaultTableOperations
	}
	tr := traitSet(t.Features...)
	if !strings.EqualFold(t.BillingMode, "PAY_PER_REQUEST") {
		tr["provisioned"] = true
	}
	return []entity{{namespace: "AWS/DynamoDB", dims: map[string][]string{"TableName": one(t.Name), "Operation": ops}, traits: tr,
		primary: []string{"TableName"}}}
}

// genericResources describes the region's generic resources.
func genericResources(region, account string, rg *Region) []MetricResource {
	kinds := resourceKinds()
	var out []MetricResource
	for i := range rg.Resources {
		r := &rg.Resources[i]
		k, ok := kinds[r.Kind]
		if !ok {
			continue
		}
		mr := MetricResource{ARN: k.arn(region, account, r), Service: k.TagService, ResourceType: k.TagType, Tags: r.Tags.clone(), Reporting: true}
		for _, s := range k.Silent {
			if strings.EqualFold(r.State, s) {
				mr.Reporting = false
			}
		}
		if k.entities != nil {
			mr.entities = k.entities(region, account, r)
		}
		out = append(out, mr)
	}
	return out
}

// validateResources checks a region's generic resources.
func validateResources(region string, rs []Resource) error {
	kinds := resourceKinds()
	seen := map[string]bool{}
	for _, r := range rs {
		k, ok := kinds[r.Kind]
		if !ok {
			names := make([]string, 0, len(kinds))
			for n := range kinds {
				names = append(names, n)
			}
			sort.Strings(names)
			return fmt.Errorf("resource %q: unknown kind %q (known: %s)", r.Name, r.Kind, strings.Join(names, ", "))
		}
		if r.Name == "" {
			return fmt.Errorf("a %s resource has no name", r.Kind)
		}
		if seen[r.Kind+"/"+r.Name] {
			return fmt.Errorf("%s %q appears twice in %s", r.Kind, r.Name, region)
		}
		seen[r.Kind+"/"+r.Name] = true
		global := k.Global || r.Kind == "wafv2:webacl" && strings.EqualFold(r.attr("scope", ""), "CLOUDFRONT")
		if global && region != "us-east-1" {
			return fmt.Errorf("%s %q is global: put it under us-east-1", r.Kind, r.Name)
		}
	}
	return nil
}
