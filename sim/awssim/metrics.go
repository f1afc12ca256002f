package awssim

import (
	"hash/fnv"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// This file is the simulated CloudWatch's data: which metrics each
// scenario resource has (the "AWS truth" ListMetrics and GetMetricData
// serve) and their deterministic values, exported so that tests of the
// integration can compute what they should have collected.

// StandardMetrics are the metrics CloudWatch publishes for each kind of
// resource, by namespace. AWS/RDS lists a DB instance's metrics; a DB
// cluster's are RDSClusterMetrics, and Aurora cluster members have
// AuroraInstanceMetrics in addition. Region.ExtraMetrics add metrics to
// every resource of their namespace.
var StandardMetrics = map[string][]string{
	"AWS/EC2": {"CPUUtilization", "NetworkIn", "NetworkOut", "NetworkPacketsIn", "NetworkPacketsOut",
		"DiskReadOps", "DiskWriteOps", "DiskReadBytes", "DiskWriteBytes", "StatusCheckFailed",
		"StatusCheckFailed_Instance", "StatusCheckFailed_System", "CPUCreditUsage", "CPUCreditBalance"},
	"AWS/ELB": {"RequestCount", "Latency", "HealthyHostCount", "UnHealthyHostCount", "HTTPCode_Backend_2XX",
		"HTTPCode_Backend_4XX", "HTTPCode_Backend_5XX", "HTTPCode_ELB_5XX", "BackendConnectionErrors",
		"SurgeQueueLength", "SpilloverCount"},
	"AWS/ApplicationELB": {"RequestCount", "TargetResponseTime", "HTTPCode_Target_2XX_Count",
		"HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_4XX_Count",
		"HTTPCode_ELB_5XX_Count", "ActiveConnectionCount", "NewConnectionCount", "ProcessedBytes",
		"RejectedConnectionCount"},
	"AWS/NetworkELB": {"ActiveFlowCount", "NewFlowCount", "ProcessedBytes", "TCP_Client_Reset_Count",
		"TCP_Target_Reset_Count", "TCP_ELB_Reset_Count"},
	"AWS/RDS": {"CPUUtilization", "DatabaseConnections", "FreeableMemory", "FreeStorageSpace", "ReadIOPS",
		"WriteIOPS", "ReadLatency", "WriteLatency", "ReadThroughput", "WriteThroughput",
		"NetworkReceiveThroughput", "NetworkTransmitThroughput", "SwapUsage"},
	"AWS/Lambda": {"Invocations", "Errors", "Duration", "Throttles", "ConcurrentExecutions"},
	"AWS/SQS": {"NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfMessagesDeleted",
		"NumberOfEmptyReceives", "ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible",
		"ApproximateNumberOfMessagesDelayed", "ApproximateAgeOfOldestMessage", "SentMessageSize"},
	"AWS/DynamoDB": {"ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ProvisionedReadCapacityUnits",
		"ProvisionedWriteCapacityUnits", "ReadThrottleEvents", "WriteThrottleEvents", "ThrottledRequests",
		"SystemErrors"},
}

// RDSClusterMetrics are the AWS/RDS metrics of a DB cluster (dimension
// DBClusterIdentifier).
var RDSClusterMetrics = []string{"VolumeBytesUsed", "VolumeReadIOPs", "VolumeWriteIOPs", "DatabaseConnections", "CPUUtilization"}

// AuroraInstanceMetrics are the AWS/RDS metrics an Aurora cluster member
// (a DBInstance with a Cluster or an aurora* engine) has beyond
// StandardMetrics["AWS/RDS"].
var AuroraInstanceMetrics = []string{"AuroraReplicaLag"}

// DefaultMetricDelay is CloudWatch's reporting delay when the scenario sets
// no MetricDelay: a period's datapoint is published this long after the
// period ends.
const DefaultMetricDelay = 2 * time.Minute

// metricDelay returns the scenario's reporting delay.
func (sc *Scenario) metricDelay() time.Duration {
	if sc.MetricDelay <= 0 {
		return DefaultMetricDelay
	}
	return sc.MetricDelay
}

// NativeResolution is how often CloudWatch records a namespace's metrics:
// 300 s for AWS/EC2 (basic monitoring), 60 s for the others. A
// GetMetricData period shorter than this acts as this.
func NativeResolution(namespace string) time.Duration {
	if namespace == "AWS/EC2" {
		return 5 * time.Minute
	}
	return time.Minute
}

// EffectivePeriod is the period GetMetricData aggregates over for a
// requested period: the requested one, or the native resolution when that
// is longer.
func EffectivePeriod(namespace string, requested time.Duration) time.Duration {
	if n := NativeResolution(namespace); requested < n {
		return n
	}
	return requested
}

// metricBase is the deterministic base level of a metric: (FNV-64a of
// namespace, NUL, metric, NUL, then name=value NUL for each dimension
// sorted by name) mod 1000 / 10, so 0 to 99.9.
func metricBase(namespace, metric string, dims map[string]string) float64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(namespace + "\x00" + metric + "\x00"))
	names := make([]string, 0, len(dims))
	for n := range dims {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		_, _ = h.Write([]byte(n + "=" + dims[n] + "\x00"))
	}
	return float64(h.Sum64()%1000) / 10
}

// NativeValue is a metric's value at native point t (a multiple of its
// namespace's NativeResolution): base + 10·sin(2π·m/60) where m is t in
// whole minutes since the epoch (a one-hour wave) and base is derived from
// the namespace, metric name and dimensions (0 to 99.9).
func NativeValue(namespace, metric string, dims map[string]string, t time.Time) float64 {
	return nativeValue(metricBase(namespace, metric, dims), t)
}

func nativeValue(base float64, t time.Time) float64 {
	m := float64(t.Unix() / 60)
	return base + 10*math.Sin(2*math.Pi*m/60)
}

var percentileStat = regexp.MustCompile(`^p(\d{1,2}(\.\d+)?|100)$`)

// supportedStat reports whether MetricValue computes stat.
func supportedStat(stat string) bool {
	switch stat {
	case "Average", "Sum", "Minimum", "Maximum", "SampleCount":
		return true
	}
	return percentileStat.MatchString(stat)
}

// MetricValue is the value GetMetricData returns for a metric's statistic
// over the period [start, start+period): the statistic of the native
// points (NativeValue at every multiple of the namespace's
// NativeResolution) in it. stat is Average, Sum, Minimum, Maximum,
// SampleCount (the number of native points) or a percentile pNN / pNN.N
// (which returns the Maximum); anything else, or a period holding no
// native point, gives NaN. period must be the effective period
// (EffectivePeriod of the requested one).
func MetricValue(namespace, metric string, dims map[string]string, stat string, start time.Time, period time.Duration) float64 {
	return metricValue(metricBase(namespace, metric, dims), NativeResolution(namespace), stat, start, period)
}

func metricValue(base float64, native time.Duration, stat string, start time.Time, period time.Duration) float64 {
	if !supportedStat(stat) {
		return math.NaN()
	}
	step := int64(native / time.Second)
	from := start.Unix()
	if start.Nanosecond() > 0 {
		from++
	}
	if r := from % step; r != 0 { // first multiple of step at or after start
		if r < 0 {
			r += step
		}
		from += step - r
	}
	end := start.Add(period)
	var n, sum float64
	min, max := math.Inf(1), math.Inf(-1)
	for t := from; time.Unix(t, 0).Before(end); t += step {
		v := nativeValue(base, time.Unix(t, 0))
		n++
		sum += v
		min = math.Min(min, v)
		max = math.Max(max, v)
	}
	if n == 0 {
		return math.NaN()
	}
	switch stat {
	case "Average":
		return sum / n
	case "Sum":
		return sum
	case "Minimum":
		return min
	case "SampleCount":
		return n
	}
	return max // Maximum and percentiles
}

// MetricResource is a scenario resource as CloudWatch and the tagging API
// see it.
type MetricResource struct {
	ARN string
	// Service and ResourceType as the tagging API's ResourceTypeFilters
	// name them (ec2 instance, elasticloadbalancing loadbalancer, rds db,
	// rds cluster, lambda function, sqs "", dynamodb table).
	Service      string
	ResourceType string
	Namespace    string
	// Dimensions identify the resource's metrics.
	Dimensions map[string]string
	// Metrics are its metric names: the standard set plus the region's
	// ExtraMetrics of the namespace.
	Metrics []string
	Tags    Tags
	// Reporting is false for resources whose metrics get no datapoints
	// (EC2 instances not in state running).
	Reporting bool
}

// Dimensions returns the instance's CloudWatch dimensions (AWS/EC2).
func (in Instance) Dimensions() map[string]string { return map[string]string{"InstanceId": in.ID} }

// Dimensions returns the load balancer's CloudWatch dimensions (AWS/ELB).
func (lb ClassicELB) Dimensions() map[string]string {
	return map[string]string{"LoadBalancerName": lb.Name}
}

// Dimensions returns the load balancer's CloudWatch dimensions
// (AWS/ApplicationELB or AWS/NetworkELB): LoadBalancer = app|net/<name>/<id>.
func (lb LoadBalancerV2) Dimensions() map[string]string {
	return map[string]string{"LoadBalancer": lbV2Dimension(lb.Type, lb.Name, lb.ID)}
}

// Namespace returns AWS/NetworkELB for Network and AWS/ApplicationELB for
// Application Load Balancers.
func (lb LoadBalancerV2) Namespace() string {
	if lbV2Prefix(lb.Type) == "net" {
		return "AWS/NetworkELB"
	}
	return "AWS/ApplicationELB"
}

// Dimensions returns the DB instance's CloudWatch dimensions (AWS/RDS).
func (db DBInstance) Dimensions() map[string]string {
	return map[string]string{"DBInstanceIdentifier": db.ID}
}

// Aurora reports whether the DB instance is an Aurora cluster member.
func (db DBInstance) Aurora() bool {
	return db.Cluster != "" || strings.HasPrefix(db.Engine, "aurora")
}

// Dimensions returns the DB cluster's CloudWatch dimensions (AWS/RDS).
func (c DBCluster) Dimensions() map[string]string {
	return map[string]string{"DBClusterIdentifier": c.ID}
}

// Dimensions returns the function's CloudWatch dimensions (AWS/Lambda).
func (f LambdaFunction) Dimensions() map[string]string {
	return map[string]string{"FunctionName": f.Name}
}

// Dimensions returns the queue's CloudWatch dimensions (AWS/SQS).
func (q Queue) Dimensions() map[string]string { return map[string]string{"QueueName": q.Name} }

// Dimensions returns the table's CloudWatch dimensions (AWS/DynamoDB).
func (t Table) Dimensions() map[string]string { return map[string]string{"TableName": t.Name} }

// ResourcesOf returns every resource of account in region, in a fixed
// order (EC2, CLB, ALB/NLB, RDS instances, RDS clusters, Lambda, SQS,
// DynamoDB; each in scenario order). The scenario must not change
// meanwhile (use Server.MetricResources on a live simulator).
func ResourcesOf(sc *Scenario, accountID, region string) []MetricResource {
	a := sc.account(accountID)
	if a == nil || a.Regions == nil || a.Regions[region] == nil {
		return nil
	}
	return regionResources(region, accountID, a.Regions[region])
}

// MetricResources is ResourcesOf on the simulator's current scenario.
func (s *Server) MetricResources(accountID, region string) []MetricResource {
	var out []MetricResource
	s.read(func(sc *Scenario) { out = ResourcesOf(sc, accountID, region) })
	return out
}

func regionResources(region, account string, rg *Region) []MetricResource {
	extra := map[string][]string{}
	for _, m := range rg.ExtraMetrics {
		extra[m.Namespace] = append(extra[m.Namespace], m.Name)
	}
	metrics := func(ns string, sets ...[]string) []string {
		var out []string
		seen := map[string]bool{}
		for _, set := range append(sets, extra[ns]) {
			for _, m := range set {
				if !seen[m] {
					seen[m] = true
					out = append(out, m)
				}
			}
		}
		return out
	}
	var out []MetricResource
	// Tags are copied: callers use them after releasing the scenario lock.
	for _, in := range rg.Instances {
		out = append(out, MetricResource{ARN: instanceARN(region, account, in.ID), Service: "ec2", ResourceType: "instance",
			Namespace: "AWS/EC2", Dimensions: in.Dimensions(), Metrics: metrics("AWS/EC2", StandardMetrics["AWS/EC2"]),
			Tags: in.Tags.clone(), Reporting: in.state() == "running"})
	}
	for _, lb := range rg.ClassicELBs {
		out = append(out, MetricResource{ARN: classicELBARN(region, account, lb.Name), Service: "elasticloadbalancing",
			ResourceType: "loadbalancer", Namespace: "AWS/ELB", Dimensions: lb.Dimensions(),
			Metrics: metrics("AWS/ELB", StandardMetrics["AWS/ELB"]), Tags: lb.Tags.clone(), Reporting: true})
	}
	for _, lb := range rg.LoadBalancers {
		ns := lb.Namespace()
		out = append(out, MetricResource{ARN: loadBalancerV2ARN(region, account, lb.Type, lb.Name, lb.ID),
			Service: "elasticloadbalancing", ResourceType: "loadbalancer", Namespace: ns, Dimensions: lb.Dimensions(),
			Metrics: metrics(ns, StandardMetrics[ns]), Tags: lb.Tags.clone(), Reporting: true})
	}
	for _, db := range rg.DBInstances {
		sets := [][]string{StandardMetrics["AWS/RDS"]}
		if db.Aurora() {
			sets = append(sets, AuroraInstanceMetrics)
		}
		out = append(out, MetricResource{ARN: dbInstanceARN(region, account, db.ID), Service: "rds", ResourceType: "db",
			Namespace: "AWS/RDS", Dimensions: db.Dimensions(), Metrics: metrics("AWS/RDS", sets...), Tags: db.Tags.clone(),
			Reporting: true})
	}
	for _, c := range rg.DBClusters {
		out = append(out, MetricResource{ARN: dbClusterARN(region, account, c.ID), Service: "rds", ResourceType: "cluster",
			Namespace: "AWS/RDS", Dimensions: c.Dimensions(), Metrics: metrics("AWS/RDS", RDSClusterMetrics), Tags: c.Tags.clone(),
			Reporting: true})
	}
	for _, f := range rg.LambdaFunctions {
		out = append(out, MetricResource{ARN: lambdaARN(region, account, f.Name), Service: "lambda", ResourceType: "function",
			Namespace: "AWS/Lambda", Dimensions: f.Dimensions(), Metrics: metrics("AWS/Lambda", StandardMetrics["AWS/Lambda"]),
			Tags: f.Tags.clone(), Reporting: true})
	}
	for _, q := range rg.Queues {
		out = append(out, MetricResource{ARN: queueARN(region, account, q.Name), Service: "sqs", Namespace: "AWS/SQS",
			Dimensions: q.Dimensions(), Metrics: metrics("AWS/SQS", StandardMetrics["AWS/SQS"]), Tags: q.Tags.clone(), Reporting: true})
	}
	for _, t := range rg.Tables {
		out = append(out, MetricResource{ARN: tableARN(region, account, t.Name), Service: "dynamodb", ResourceType: "table",
			Namespace: "AWS/DynamoDB", Dimensions: t.Dimensions(), Metrics: metrics("AWS/DynamoDB", StandardMetrics["AWS/DynamoDB"]),
			Tags: t.Tags.clone(), Reporting: true})
	}
	return out
}

// clone copies the tags (nil stays nil).
func (t Tags) clone() Tags {
	if t == nil {
		return nil
	}
	out := make(Tags, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// dimsKey is a canonical string of a dimension set.
func dimsKey(dims map[string]string) string {
	names := make([]string, 0, len(dims))
	for n := range dims {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(dims[n])
		b.WriteByte(0)
	}
	return b.String()
}
