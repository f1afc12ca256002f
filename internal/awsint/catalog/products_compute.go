package catalog

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Compute: EC2, load balancers, Lambda, ECS and AWS Batch. Metric lists
// follow Mackerel's pages (https://mackerel.io/docs/entry/integrations/aws/<product>);
// statistics are Kansoku's where it collected the metric before.

// ec2Product: "EC2", https://mackerel.io/docs/entry/integrations/aws/ec2
// (21 metrics; CPU credits only for burstable types, EBS metrics only for
// Nitro-based instances). Basic monitoring: 5-minute periods.
func ec2Product() *Product {
	return &Product{
		Key: "ec2", Name: "EC2", HostKind: Standard, HostUnit: "1 instance", AWSManagedPolicy: "AmazonEC2ReadOnlyAccess", MackerelRetires: true,
		Actions: []string{"ec2:DescribeInstances"}, Regional: discoverEC2,
		ARNDimensions: regexp.MustCompile(`:instance/(?P<InstanceId>[^/]+)$`),
		Labels:        map[string]string{"instance_type": "Instance type", "availability_zone": "Availability zone", "private_ip": "Private IP", "public_ip": "Public IP", "image_id": "AMI", "launch_time": "Launched"},
		MetricSets: []MetricSet{{Namespace: "AWS/EC2", Period: fiveMinutes, Dimensions: []string{"InstanceId"}, Metrics: all(
			ms("cpu", []string{Avg, Max}, "CPUUtilization"),
			needs(traits("burstable"), ms("cpu_credit", avg, "CPUCreditUsage", "CPUCreditBalance", "CPUSurplusCreditBalance", "CPUSurplusCreditsCharged")),
			ms("disk_ops", sum, "DiskReadOps", "DiskWriteOps"),
			ms("disk_io", sum, "DiskReadBytes", "DiskWriteBytes"),
			ms("network", sum, "NetworkIn", "NetworkOut"),
			ms("network_packets", sum, "NetworkPacketsIn", "NetworkPacketsOut"),
			ms("status_check_failed", maximum, "StatusCheckFailed", "StatusCheckFailed_Instance", "StatusCheckFailed_System"),
			needs(traits("nitro"), ms("ebs_ops", sum, "EBSReadOps", "EBSWriteOps"), ms("ebs_io", sum, "EBSReadBytes", "EBSWriteBytes"),
				ms("ebs_balance", avg, "EBSIOBalance%", "EBSByteBalance%")),
		)}},
	}
}

// xenFamilies are the instance families not built on the Nitro System
// ("Instances built on the AWS Nitro System", EC2 User Guide).
var xenFamilies = map[string]bool{"t2": true, "m4": true, "c4": true, "r4": true, "x1": true, "x1e": true, "i3": true, "d2": true,
	"p2": true, "p3": true, "g3": true, "h1": true, "f1": true}

func ec2Traits(instanceType string) []string {
	var out []string
	family, _, _ := strings.Cut(instanceType, ".")
	if burstable(instanceType) {
		out = append(out, "burstable")
	}
	if !xenFamilies[family] {
		out = append(out, "nitro")
	}
	return out
}

func discoverEC2(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := ec2.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "DescribeInstances"}
	p := ec2.NewDescribeInstancesPaginator(ec2DescribeInstances(cl.DescribeInstances), &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, res := range page.Reservations {
			for _, in := range res.Instances {
				id := aws.ToString(in.InstanceId)
				tags := tagMap(in.Tags, func(t ec2types.Tag) (string, string) { return aws.ToString(t.Key), aws.ToString(t.Value) })
				name := tags["Name"]
				if name == "" {
					name = id
				}
				state := ""
				if in.State != nil {
					state = string(in.State.Name)
				}
				status, gone := StatusWorking, false
				switch state {
				case "stopped", "stopping":
					status = StatusPoweroff
				case "pending":
					status = StatusStandby
				case "terminated", "shutting-down":
					gone = true
				}
				arn := c.ARN("ec2", "instance/"+id)
				az := ""
				if in.Placement != nil {
					az = aws.ToString(in.Placement.AvailabilityZone)
				}
				md := map[string]string{"instance_type": string(in.InstanceType), "availability_zone": az, "state": state,
					"image_id": aws.ToString(in.ImageId), "private_ip": aws.ToString(in.PrivateIpAddress), "public_ip": aws.ToString(in.PublicIpAddress)}
				if in.LaunchTime != nil {
					md["launch_time"] = in.LaunchTime.UTC().Format(time.RFC3339)
				}
				out = append(out, Resource{ARN: arn, Name: name, Traits: ec2Traits(string(in.InstanceType)),
					Identifiers: nonEmpty(id, arn, aws.ToString(in.PrivateDnsName), aws.ToString(in.PublicDnsName)),
					Status:      status, Gone: gone, Metadata: md, Tags: tags})
			}
		}
	}
	return out, nil
}

// clbProduct: "ELB (CLB)", https://mackerel.io/docs/entry/integrations/aws/elb (13 metrics).
func clbProduct() *Product {
	return &Product{
		Key: "elb", Name: "CLB (ELB)", HostKind: Micro, HostUnit: "1 load balancer", AWSManagedPolicy: "AmazonEC2ReadOnlyAccess",
		TagTypes: []string{"elasticloadbalancing:loadbalancer"}, Actions: []string{"elasticloadbalancing:DescribeLoadBalancers"},
		Regional: discoverCLB, ARNDimensions: regexp.MustCompile(`:loadbalancer/(?P<LoadBalancerName>[^/]+)$`),
		Labels: map[string]string{"scheme": "Scheme", "dns_name": "DNS name", "availability_zones": "Availability zones", "instances": "Instances"},
		MetricSets: []MetricSet{{Namespace: "AWS/ELB", Period: oneMinute, Dimensions: []string{"LoadBalancerName"}, Metrics: all(
			ms("request", sum, "RequestCount"),
			ms("latency", []string{Avg, Max}, "Latency"),
			ms("host_count", avg, "HealthyHostCount", "UnHealthyHostCount"),
			ms("http_backend", sum, "HTTPCode_Backend_2XX", "HTTPCode_Backend_3XX", "HTTPCode_Backend_4XX", "HTTPCode_Backend_5XX"),
			ms("http_elb", sum, "HTTPCode_ELB_4XX", "HTTPCode_ELB_5XX"),
			ms("backend_connection_errors", sum, "BackendConnectionErrors"),
			ms("surge_queue", maximum, "SurgeQueueLength"),
			ms("spillover", sum, "SpilloverCount"),
		)}},
	}
}

func discoverCLB(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := elb.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "DescribeLoadBalancers"}
	p := elb.NewDescribeLoadBalancersPaginator(elbDescribeLoadBalancers(cl.DescribeLoadBalancers), &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(400)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, lb := range page.LoadBalancerDescriptions {
			name := aws.ToString(lb.LoadBalancerName)
			arn := c.ARN("elasticloadbalancing", "loadbalancer/"+name)
			md := map[string]string{"scheme": aws.ToString(lb.Scheme), "dns_name": aws.ToString(lb.DNSName),
				"availability_zones": strings.Join(lb.AvailabilityZones, ","), "instances": strconv.Itoa(len(lb.Instances))}
			out = append(out, Resource{ARN: arn, Name: name, Identifiers: nonEmpty(aws.ToString(lb.DNSName), arn), Status: StatusWorking, Metadata: md})
		}
	}
	return out, nil
}

// albProduct: "ALB", https://mackerel.io/docs/entry/integrations/aws/alb
// (21 + 13 × target groups).
func albProduct() *Product {
	targetRT := []string{Avg, "p90", "p95", "p99"}
	return &Product{
		Key: "alb", Name: "ALB", HostKind: Micro, HostUnit: "1 load balancer", AWSManagedPolicy: "AmazonEC2ReadOnlyAccess",
		TagTypes: []string{"elasticloadbalancing:loadbalancer"}, Actions: []string{"elasticloadbalancing:DescribeLoadBalancers"},
		Regional:      func(ctx context.Context, c *Clients) ([]Resource, error) { return discoverELBv2(ctx, c, "application") },
		ARNDimensions: regexp.MustCompile(`:loadbalancer/(?P<LoadBalancer>.+)$`),
		Labels:        map[string]string{"scheme": "Scheme", "dns_name": "DNS name", "state": "State"},
		MetricSets: []MetricSet{
			{Namespace: "AWS/ApplicationELB", Period: oneMinute, Dimensions: []string{"LoadBalancer"}, Metrics: all(
				ms("request", sum, "RequestCount"),
				ms("target_response_time", append([]string{Max}, targetRT...), "TargetResponseTime"),
				ms("http_target", sum, "HTTPCode_Target_2XX_Count", "HTTPCode_Target_3XX_Count", "HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count"),
				ms("http_elb", sum, "HTTPCode_ELB_4XX_Count", "HTTPCode_ELB_5XX_Count"),
				ms("connections", sum, "ActiveConnectionCount", "NewConnectionCount", "RejectedConnectionCount"),
				ms("bytes", sum, "ProcessedBytes"),
				ms("errors", sum, "ClientTLSNegotiationErrorCount", "TargetTLSNegotiationErrorCount", "TargetConnectionErrorCount"),
				ms("lcu", sum, "ConsumedLCUs"),
				ms("peak_lcu", []string{Max, Sum}, "PeakLCUs"),
			)},
			// Per target group: the host's health lives here.
			{Name: "target_group", Namespace: "AWS/ApplicationELB", Period: oneMinute, Dimensions: []string{"LoadBalancer", "TargetGroup"}, Metrics: all(
				ms("target_group_request", sum, "RequestCount", "RequestCountPerTarget"),
				ms("target_group_http", sum, "HTTPCode_Target_2XX_Count", "HTTPCode_Target_3XX_Count", "HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count"),
				ms("target_group_response_time", targetRT, "TargetResponseTime"),
				ms("target_group_errors", sum, "TargetTLSNegotiationErrorCount"),
				ms("target_group_hosts", avg, "HealthyHostCount", "UnHealthyHostCount"),
			)},
		},
	}
}

// nlbProduct: "NLB", https://mackerel.io/docs/entry/integrations/aws/nlb
// (21 + 2 × target groups).
func nlbProduct() *Product {
	byProto := func(m string) []string { return []string{m, m + "_TCP", m + "_TLS", m + "_UDP"} }
	return &Product{
		Key: "nlb", Name: "NLB", HostKind: Micro, HostUnit: "1 load balancer", AWSManagedPolicy: "AmazonEC2ReadOnlyAccess",
		TagTypes: []string{"elasticloadbalancing:loadbalancer"}, Actions: []string{"elasticloadbalancing:DescribeLoadBalancers"},
		Regional:      func(ctx context.Context, c *Clients) ([]Resource, error) { return discoverELBv2(ctx, c, "network") },
		ARNDimensions: regexp.MustCompile(`:loadbalancer/(?P<LoadBalancer>.+)$`),
		Labels:        map[string]string{"scheme": "Scheme", "dns_name": "DNS name", "state": "State"},
		MetricSets: []MetricSet{
			{Namespace: "AWS/NetworkELB", Period: oneMinute, Dimensions: []string{"LoadBalancer"}, Metrics: all(
				ms("active_flow", avg, byProto("ActiveFlowCount")...),
				ms("new_flow", sum, byProto("NewFlowCount")...),
				ms("processed_bytes", sum, byProto("ProcessedBytes")...),
				ms("lcu", sum, byProto("ConsumedLCUs")...),
				ms("reset", sum, "TCP_Client_Reset_Count", "TCP_Target_Reset_Count", "TCP_ELB_Reset_Count"),
				ms("tls_errors", sum, "TargetTLSNegotiationErrorCount", "ClientTLSNegotiationErrorCount"),
			)},
			{Name: "target_group", Namespace: "AWS/NetworkELB", Period: oneMinute, Dimensions: []string{"LoadBalancer", "TargetGroup"},
				Metrics: ms("target_group_hosts", avg, "HealthyHostCount", "UnHealthyHostCount")},
		},
	}
}

func discoverELBv2(ctx context.Context, c *Clients, lbType string) ([]Resource, error) {
	cl := elbv2.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "DescribeLoadBalancers"}
	p := elbv2.NewDescribeLoadBalancersPaginator(elbv2DescribeLoadBalancers(cl.DescribeLoadBalancers), &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(400)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, lb := range page.LoadBalancers {
			if string(lb.Type) != lbType {
				continue
			}
			arn := aws.ToString(lb.LoadBalancerArn)
			if !strings.Contains(arn, ":loadbalancer/") {
				continue
			}
			status, state := StatusWorking, ""
			if lb.State != nil {
				state = string(lb.State.Code)
				if state == "provisioning" {
					status = StatusStandby
				}
			}
			md := map[string]string{"type": lbType, "scheme": string(lb.Scheme), "dns_name": aws.ToString(lb.DNSName), "state": state}
			out = append(out, Resource{ARN: arn, Name: aws.ToString(lb.LoadBalancerName), Identifiers: nonEmpty(aws.ToString(lb.DNSName), arn),
				Status: status, Metadata: md})
		}
	}
	return out, nil
}

// lambdaProduct: "Lambda", https://mackerel.io/docs/entry/integrations/aws/lambda
// (10 + 10 × aliases and versions, by FunctionName and Resource).
func lambdaProduct() *Product {
	fn := all(
		ms("invocations", sum, "Invocations"),
		ms("errors", sum, "Errors"),
		needs(traits("dlq"), ms("dead_letter_errors", sum, "DeadLetterErrors")),
		ms("throttles", sum, "Throttles"),
		ms("duration", []string{Avg, Max, Min}, "Duration"),
	)
	return &Product{
		Key: "lambda", Name: "Lambda", HostKind: Micro, HostUnit: "1 function", AWSManagedPolicy: "AWSLambda_ReadOnlyAccess",
		TagTypes: []string{"lambda:function"}, Actions: []string{"lambda:ListFunctions"}, Regional: discoverLambda,
		ARNDimensions: regexp.MustCompile(`:function:(?P<FunctionName>[^:]+)$`),
		Labels:        map[string]string{"runtime": "Runtime", "memory_size": "Memory (MB)", "timeout": "Timeout (s)", "last_modified": "Last modified"},
		MetricSets: []MetricSet{
			{Namespace: "AWS/Lambda", Period: oneMinute, Dimensions: []string{"FunctionName"}, Metrics: all(fn,
				ms("concurrent_executions", maximum, "ConcurrentExecutions"))},
			// IteratorAge exists only for functions with a stream event source.
			{Name: "stream", Namespace: "AWS/Lambda", Period: oneMinute, Dimensions: []string{"FunctionName"}, Listed: true,
				Metrics: ms("iterator_age", []string{Avg, Max, Min}, "IteratorAge")},
			// Aliases and versions (Resource = <function>:<alias or version>).
			{Name: "alias", Namespace: "AWS/Lambda", Period: oneMinute, Dimensions: []string{"FunctionName", "Resource"}, Listed: true, Metrics: all(
				ms("alias_invocations", sum, "Invocations", "Errors", "DeadLetterErrors", "Throttles"),
				ms("alias_duration", []string{Avg, Max, Min}, "Duration", "IteratorAge"))},
		},
	}
}

func discoverLambda(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := lambda.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "ListFunctions"}
	p := lambda.NewListFunctionsPaginator(lambdaListFunctions(cl.ListFunctions), &lambda.ListFunctionsInput{MaxItems: aws.Int32(50)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, f := range page.Functions {
			name := aws.ToString(f.FunctionName)
			arn := aws.ToString(f.FunctionArn)
			if arn == "" {
				arn = c.ARN("lambda", "function:"+name)
			}
			var tr []string
			if f.DeadLetterConfig != nil && aws.ToString(f.DeadLetterConfig.TargetArn) != "" {
				tr = append(tr, "dlq")
			}
			md := map[string]string{"runtime": string(f.Runtime), "memory_size": strconv.Itoa(int(aws.ToInt32(f.MemorySize))),
				"timeout": strconv.Itoa(int(aws.ToInt32(f.Timeout))), "last_modified": aws.ToString(f.LastModified)}
			out = append(out, Resource{ARN: arn, Name: name, Traits: tr, Identifiers: nonEmpty(arn, name), Status: StatusWorking, Metadata: md})
		}
	}
	return out, nil
}

// ecsProduct: "ECS Cluster", https://mackerel.io/docs/entry/integrations/aws/ecs
// (12 + 7 × services; cluster metrics only with EC2 capacity; a
// service's CPUUtilization SampleCount counts its running tasks).
func ecsProduct() *Product {
	return &Product{
		Key: "ecs", Name: "ECS Cluster", HostKind: Micro, HostUnit: "1 cluster", AWSManagedPolicy: "(ecs:Describe*, ecs:List*)",
		Actions: []string{"ecs:ListClusters", "ecs:DescribeClusters"}, Regional: discoverECS,
		ARNDimensions: regexp.MustCompile(`:cluster/(?P<ClusterName>[^/]+)$`),
		Labels:        map[string]string{"status": "Status", "running_tasks": "Running tasks", "active_services": "Services", "container_instances": "Container instances"},
		MetricSets: []MetricSet{
			{Namespace: "AWS/ECS", Period: oneMinute, Dimensions: []string{"ClusterName"}, Requires: traits("ec2_capacity"), Metrics: all(
				ms("cluster_utilization", minAvgMax, "CPUUtilization", "MemoryUtilization"),
				ms("cluster_reservation", minAvgMax, "CPUReservation", "MemoryReservation"))},
			{Name: "service", Namespace: "AWS/ECS", Period: oneMinute, Dimensions: []string{"ClusterName", "ServiceName"}, Metrics: all(
				ms("service_tasks", []string{SC}, "CPUUtilization"),
				ms("service_utilization", minAvgMax, "CPUUtilization", "MemoryUtilization"))},
		},
	}
}

func discoverECS(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := ecs.NewFromConfig(c.Config)
	var arns []string
	g := pageGuard{what: "ListClusters"}
	p := ecs.NewListClustersPaginator(ecsListClusters(cl.ListClusters), &ecs.ListClustersInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		arns = append(arns, page.ClusterArns...)
	}
	var out []Resource
	for lo := 0; lo < len(arns); lo += 100 {
		d, err := cl.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: arns[lo:min(lo+100, len(arns))], Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags}})
		if err != nil {
			return nil, err
		}
		for _, cluster := range d.Clusters {
			status := StatusWorking
			if aws.ToString(cluster.Status) != "ACTIVE" {
				status = StatusStandby
			}
			var tr []string
			if cluster.RegisteredContainerInstancesCount > 0 {
				tr = append(tr, "ec2_capacity")
			}
			arn := aws.ToString(cluster.ClusterArn)
			out = append(out, Resource{ARN: arn, Name: aws.ToString(cluster.ClusterName), Traits: tr, Identifiers: nonEmpty(arn), Status: status,
				Tags: tagMap(cluster.Tags, func(t ecstypes.Tag) (string, string) { return aws.ToString(t.Key), aws.ToString(t.Value) }),
				Metadata: map[string]string{"status": aws.ToString(cluster.Status), "running_tasks": strconv.Itoa(int(cluster.RunningTasksCount)),
					"active_services": strconv.Itoa(int(cluster.ActiveServicesCount)), "container_instances": strconv.Itoa(int(cluster.RegisteredContainerInstancesCount))}})
		}
	}
	return out, nil
}

// batchStatuses are the statuses Mackerel counts the jobs of.
var batchStatuses = []batchtypes.JobStatus{batchtypes.JobStatusSubmitted, batchtypes.JobStatusPending, batchtypes.JobStatusRunnable,
	batchtypes.JobStatusStarting, batchtypes.JobStatusRunning, batchtypes.JobStatusSucceeded, batchtypes.JobStatusFailed}

// maxBatchQueues and maxJobPages bound what one region's Batch host reads
// per poll: 7 ListJobs listings per queue, each of at most maxJobPages
// pages of 100 jobs (a count of 1,000 means "1,000 or more").
const (
	maxBatchQueues = 50
	maxJobPages    = 10
)

// batchProduct: "AWS Batch", https://mackerel.io/docs/entry/integrations/aws/batch
// (7 × job queues). AWS Batch publishes no job counts to CloudWatch: the
// counts come from ListJobs. One host per region; no tag filter.
func batchProduct() *Product {
	return &Product{
		Key: "batch", Name: "AWS Batch", HostKind: Micro, HostUnit: "1 region", AWSManagedPolicy: "(batch:Describe*, batch:List*)", Untagged: true,
		Actions: []string{"batch:DescribeJobQueues", "batch:ListJobs"}, Regional: discoverBatch,
		Labels:     map[string]string{"job_queues": "Job queues"},
		APIMetrics: []APIMetric{{Name: "aws_batch_jobs", Group: "job_queue_status", Help: "Jobs of a job queue per status (ListJobs; 1,000 means 1,000 or more)."}},
	}
}

func discoverBatch(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := batch.NewFromConfig(c.Config)
	var queues []batchtypes.JobQueueDetail
	g := pageGuard{what: "DescribeJobQueues"}
	p := batch.NewDescribeJobQueuesPaginator(batchDescribeJobQueues(cl.DescribeJobQueues), &batch.DescribeJobQueuesInput{MaxResults: aws.Int32(100)})
	for p.HasMorePages() && len(queues) < maxBatchQueues {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		queues = append(queues, page.JobQueues...)
	}
	if len(queues) > maxBatchQueues {
		queues = queues[:maxBatchQueues]
	}
	r := Resource{Kind: "region", ARN: c.ARN("batch", "region"), Name: "AWS Batch (" + c.Region() + ")", Status: StatusWorking,
		Metadata: map[string]string{"job_queues": strconv.Itoa(len(queues))}}
	for _, q := range queues {
		name := aws.ToString(q.JobQueueName)
		for _, st := range batchStatuses {
			n := 0
			lp := batch.NewListJobsPaginator(batchListJobs(cl.ListJobs), &batch.ListJobsInput{JobQueue: q.JobQueueArn, JobStatus: st, MaxResults: aws.Int32(100)})
			for pages := 0; lp.HasMorePages() && pages < maxJobPages; pages++ {
				page, err := lp.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				n += len(page.JobSummaryList)
			}
			r.Values = append(r.Values, Value{Name: "aws_batch_jobs", Labels: map[string]string{"job_queue": name, "status": string(st)}, Value: float64(n)})
		}
	}
	return []Resource{r}, nil
}
