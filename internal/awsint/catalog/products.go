package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// The products of this release. Metric lists follow what Mackerel's
// per-product pages and YACE's defaults collect; statistics are the ones
// that make sense for each metric (Sum for counts, Average/Maximum for
// gauges and latencies).

func m(name string, stats ...string) Metric { return Metric{Name: name, Stats: stats} }

const (
	oneMinute   = time.Minute
	fiveMinutes = 5 * time.Minute
)

func init() {
	register(&Product{
		Key: "ec2", Name: "EC2", HostKind: Standard, AWSManagedPolicy: "AmazonEC2ReadOnlyAccess",
		Actions: []string{"ec2:DescribeInstances"},
		MetricSets: map[string]MetricSet{"": {Namespace: "AWS/EC2", Period: fiveMinutes, Metrics: []Metric{
			m("CPUUtilization", "Average", "Maximum"),
			m("NetworkIn", "Sum"), m("NetworkOut", "Sum"), m("NetworkPacketsIn", "Sum"), m("NetworkPacketsOut", "Sum"),
			m("DiskReadOps", "Sum"), m("DiskWriteOps", "Sum"), m("DiskReadBytes", "Sum"), m("DiskWriteBytes", "Sum"),
			m("StatusCheckFailed", "Maximum"), m("StatusCheckFailed_Instance", "Maximum"), m("StatusCheckFailed_System", "Maximum"),
			m("CPUCreditUsage", "Average"), m("CPUCreditBalance", "Average"),
		}}},
		Discover: discoverEC2,
	})
	register(&Product{
		Key: "elb", Name: "CLB (ELB)", HostKind: Micro, AWSManagedPolicy: "AmazonEC2ReadOnlyAccess",
		TagTypes: []string{"elasticloadbalancing:loadbalancer"},
		Actions:  []string{"elasticloadbalancing:DescribeLoadBalancers"},
		MetricSets: map[string]MetricSet{"": {Namespace: "AWS/ELB", Period: oneMinute, Metrics: []Metric{
			m("RequestCount", "Sum"), m("Latency", "Average", "Maximum"),
			m("HealthyHostCount", "Average"), m("UnHealthyHostCount", "Average"),
			m("HTTPCode_Backend_2XX", "Sum"), m("HTTPCode_Backend_4XX", "Sum"), m("HTTPCode_Backend_5XX", "Sum"),
			m("HTTPCode_ELB_5XX", "Sum"), m("BackendConnectionErrors", "Sum"), m("SurgeQueueLength", "Maximum"), m("SpilloverCount", "Sum"),
		}}},
		Discover: discoverCLB,
	})
	register(&Product{
		Key: "alb", Name: "ALB", HostKind: Micro, AWSManagedPolicy: "AmazonEC2ReadOnlyAccess",
		TagTypes: []string{"elasticloadbalancing:loadbalancer"},
		Actions:  []string{"elasticloadbalancing:DescribeLoadBalancers"},
		MetricSets: map[string]MetricSet{"": {Namespace: "AWS/ApplicationELB", Period: oneMinute, Metrics: []Metric{
			m("RequestCount", "Sum"), m("TargetResponseTime", "Average", "Maximum"),
			m("HTTPCode_Target_2XX_Count", "Sum"), m("HTTPCode_Target_4XX_Count", "Sum"), m("HTTPCode_Target_5XX_Count", "Sum"),
			m("HTTPCode_ELB_4XX_Count", "Sum"), m("HTTPCode_ELB_5XX_Count", "Sum"),
			m("ActiveConnectionCount", "Sum"), m("NewConnectionCount", "Sum"), m("ProcessedBytes", "Sum"), m("RejectedConnectionCount", "Sum"),
		}}},
		Discover: func(ctx context.Context, c *Clients) ([]Resource, error) {
			return discoverELBv2(ctx, c, "alb", "application")
		},
	})
	register(&Product{
		Key: "nlb", Name: "NLB", HostKind: Micro, AWSManagedPolicy: "AmazonEC2ReadOnlyAccess",
		TagTypes: []string{"elasticloadbalancing:loadbalancer"},
		Actions:  []string{"elasticloadbalancing:DescribeLoadBalancers"},
		MetricSets: map[string]MetricSet{"": {Namespace: "AWS/NetworkELB", Period: oneMinute, Metrics: []Metric{
			m("ActiveFlowCount", "Average"), m("NewFlowCount", "Sum"), m("ProcessedBytes", "Sum"),
			m("TCP_Client_Reset_Count", "Sum"), m("TCP_Target_Reset_Count", "Sum"), m("TCP_ELB_Reset_Count", "Sum"),
		}}},
		Discover: func(ctx context.Context, c *Clients) ([]Resource, error) {
			return discoverELBv2(ctx, c, "nlb", "network")
		},
	})
	register(&Product{
		Key: "rds", Name: "RDS", HostKind: Micro, AWSManagedPolicy: "AmazonRDSReadOnlyAccess",
		Actions: []string{"rds:DescribeDBInstances", "rds:DescribeDBClusters"},
		MetricSets: map[string]MetricSet{
			"instance": {Namespace: "AWS/RDS", Period: oneMinute, Metrics: []Metric{
				m("CPUUtilization", "Average"), m("DatabaseConnections", "Average"), m("FreeableMemory", "Average"),
				m("FreeStorageSpace", "Average"), m("ReadIOPS", "Average"), m("WriteIOPS", "Average"),
				m("ReadLatency", "Average"), m("WriteLatency", "Average"), m("ReadThroughput", "Average"), m("WriteThroughput", "Average"),
				m("NetworkReceiveThroughput", "Average"), m("NetworkTransmitThroughput", "Average"), m("SwapUsage", "Average"),
			}},
			"cluster": {Namespace: "AWS/RDS", Period: oneMinute, Metrics: []Metric{
				m("VolumeBytesUsed", "Average"), m("VolumeReadIOPs", "Sum"), m("VolumeWriteIOPs", "Sum"),
				m("DatabaseConnections", "Average"), m("CPUUtilization", "Average"),
			}},
		},
		Discover: discoverRDS,
	})
	register(&Product{
		Key: "lambda", Name: "Lambda", HostKind: Micro, AWSManagedPolicy: "AWSLambda_ReadOnlyAccess",
		TagTypes: []string{"lambda:function"},
		Actions:  []string{"lambda:ListFunctions"},
		MetricSets: map[string]MetricSet{"": {Namespace: "AWS/Lambda", Period: oneMinute, Metrics: []Metric{
			m("Invocations", "Sum"), m("Errors", "Sum"), m("Duration", "Average", "Maximum"), m("Throttles", "Sum"),
			m("ConcurrentExecutions", "Maximum"),
		}}},
		Discover: discoverLambda,
	})
	register(&Product{
		Key: "sqs", Name: "SQS", HostKind: Micro, AWSManagedPolicy: "AmazonSQSReadOnlyAccess",
		TagTypes: []string{"sqs"},
		Actions:  []string{"sqs:ListQueues"},
		MetricSets: map[string]MetricSet{"": {Namespace: "AWS/SQS", Period: oneMinute, Metrics: []Metric{
			m("NumberOfMessagesSent", "Sum"), m("NumberOfMessagesReceived", "Sum"), m("NumberOfMessagesDeleted", "Sum"),
			m("NumberOfEmptyReceives", "Sum"), m("ApproximateNumberOfMessagesVisible", "Average"),
			m("ApproximateNumberOfMessagesNotVisible", "Average"), m("ApproximateNumberOfMessagesDelayed", "Average"),
			m("ApproximateAgeOfOldestMessage", "Maximum"), m("SentMessageSize", "Average"),
		}}},
		Discover: discoverSQS,
	})
	register(&Product{
		Key: "dynamodb", Name: "DynamoDB", HostKind: Micro, AWSManagedPolicy: "AmazonDynamoDBReadOnlyAccess",
		TagTypes: []string{"dynamodb:table"},
		Actions:  []string{"dynamodb:ListTables"},
		MetricSets: map[string]MetricSet{"": {Namespace: "AWS/DynamoDB", Period: oneMinute, Metrics: []Metric{
			m("ConsumedReadCapacityUnits", "Sum"), m("ConsumedWriteCapacityUnits", "Sum"),
			m("ProvisionedReadCapacityUnits", "Average"), m("ProvisionedWriteCapacityUnits", "Average"),
			m("ReadThrottleEvents", "Sum"), m("WriteThrottleEvents", "Sum"), m("ThrottledRequests", "Sum"), m("SystemErrors", "Sum"),
		}}},
		Discover: discoverDynamoDB,
	})
}

func tagMap[T any](tags []T, kv func(T) (string, string)) map[string]string {
	out := map[string]string{}
	for _, t := range tags {
		k, v := kv(t)
		out[k] = v
	}
	return out
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func discoverEC2(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := ec2.NewFromConfig(c.Config)
	var out []Resource
	p := ec2.NewDescribeInstancesPaginator(cl, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
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
				arn := fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", c.Region(), c.AccountID, id)
				az := ""
				if in.Placement != nil {
					az = aws.ToString(in.Placement.AvailabilityZone)
				}
				md := map[string]string{"instance_type": string(in.InstanceType), "availability_zone": az, "state": state,
					"image_id": aws.ToString(in.ImageId), "private_ip": aws.ToString(in.PrivateIpAddress), "public_ip": aws.ToString(in.PublicIpAddress)}
				if in.LaunchTime != nil {
					md["launch_time"] = in.LaunchTime.UTC().Format(time.RFC3339)
				}
				out = append(out, Resource{
					Product: "ec2", ARN: arn, Name: name, Dimensions: map[string]string{"InstanceId": id},
					Identifiers: nonEmpty(id, arn, aws.ToString(in.PrivateDnsName), aws.ToString(in.PublicDnsName)),
					Status:      status, Gone: gone, Metadata: md, Tags: tags,
				})
			}
		}
	}
	return out, nil
}

func discoverCLB(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := elb.NewFromConfig(c.Config)
	var out []Resource
	p := elb.NewDescribeLoadBalancersPaginator(cl, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(400)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, lb := range page.LoadBalancerDescriptions {
			name := aws.ToString(lb.LoadBalancerName)
			arn := fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/%s", c.Region(), c.AccountID, name)
			md := map[string]string{"scheme": aws.ToString(lb.Scheme), "dns_name": aws.ToString(lb.DNSName),
				"availability_zones": strings.Join(lb.AvailabilityZones, ","), "instances": strconv.Itoa(len(lb.Instances))}
			out = append(out, Resource{
				Product: "elb", ARN: arn, Name: name, Dimensions: map[string]string{"LoadBalancerName": name},
				Identifiers: nonEmpty(aws.ToString(lb.DNSName), arn), Status: StatusWorking, Metadata: md,
			})
		}
	}
	return out, nil
}

func discoverELBv2(ctx context.Context, c *Clients, product, lbType string) ([]Resource, error) {
	cl := elbv2.NewFromConfig(c.Config)
	var out []Resource
	p := elbv2.NewDescribeLoadBalancersPaginator(cl, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(400)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, lb := range page.LoadBalancers {
			if string(lb.Type) != lbType {
				continue
			}
			arn := aws.ToString(lb.LoadBalancerArn)
			_, dim, ok := strings.Cut(arn, ":loadbalancer/")
			if !ok {
				continue
			}
			status := StatusWorking
			state := ""
			if lb.State != nil {
				state = string(lb.State.Code)
				if state == "provisioning" {
					status = StatusStandby
				}
			}
			md := map[string]string{"type": lbType, "scheme": string(lb.Scheme), "dns_name": aws.ToString(lb.DNSName), "state": state}
			out = append(out, Resource{
				Product: product, ARN: arn, Name: aws.ToString(lb.LoadBalancerName), Dimensions: map[string]string{"LoadBalancer": dim},
				Identifiers: nonEmpty(aws.ToString(lb.DNSName), arn), Status: status, Metadata: md,
			})
		}
	}
	return out, nil
}

func discoverRDS(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := rds.NewFromConfig(c.Config)
	var out []Resource
	pi := rds.NewDescribeDBInstancesPaginator(cl, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(100)})
	for pi.HasMorePages() {
		page, err := pi.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, db := range page.DBInstances {
			id := aws.ToString(db.DBInstanceIdentifier)
			arn := aws.ToString(db.DBInstanceArn)
			if arn == "" {
				arn = fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", c.Region(), c.AccountID, id)
			}
			endpoint := ""
			if db.Endpoint != nil {
				endpoint = aws.ToString(db.Endpoint.Address)
			}
			status := StatusWorking
			switch s := aws.ToString(db.DBInstanceStatus); s {
			case "stopped", "stopping":
				status = StatusPoweroff
			case "creating", "starting", "rebooting", "modifying", "backing-up", "maintenance", "upgrading":
				status = StatusStandby
			}
			md := map[string]string{"engine": aws.ToString(db.Engine), "engine_version": aws.ToString(db.EngineVersion),
				"instance_class": aws.ToString(db.DBInstanceClass), "availability_zone": aws.ToString(db.AvailabilityZone),
				"status": aws.ToString(db.DBInstanceStatus), "endpoint": endpoint, "cluster": aws.ToString(db.DBClusterIdentifier)}
			out = append(out, Resource{
				Product: "rds", MetricSet: "instance", ARN: arn, Name: id, Dimensions: map[string]string{"DBInstanceIdentifier": id},
				Identifiers: nonEmpty(endpoint, arn), Status: status, Metadata: md,
				Tags: tagMap(db.TagList, func(t rdstypes.Tag) (string, string) { return aws.ToString(t.Key), aws.ToString(t.Value) }),
			})
		}
	}
	pc := rds.NewDescribeDBClustersPaginator(cl, &rds.DescribeDBClustersInput{MaxRecords: aws.Int32(100)})
	for pc.HasMorePages() {
		page, err := pc.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, cluster := range page.DBClusters {
			id := aws.ToString(cluster.DBClusterIdentifier)
			arn := aws.ToString(cluster.DBClusterArn)
			if arn == "" {
				arn = fmt.Sprintf("arn:aws:rds:%s:%s:cluster:%s", c.Region(), c.AccountID, id)
			}
			members := make([]string, 0, len(cluster.DBClusterMembers))
			for _, mem := range cluster.DBClusterMembers {
				members = append(members, aws.ToString(mem.DBInstanceIdentifier))
			}
			md := map[string]string{"engine": aws.ToString(cluster.Engine), "engine_version": aws.ToString(cluster.EngineVersion),
				"status": aws.ToString(cluster.Status), "endpoint": aws.ToString(cluster.Endpoint),
				"reader_endpoint": aws.ToString(cluster.ReaderEndpoint), "members": strings.Join(members, ",")}
			out = append(out, Resource{
				Product: "rds", MetricSet: "cluster", ARN: arn, Name: id, Dimensions: map[string]string{"DBClusterIdentifier": id},
				Identifiers: nonEmpty(aws.ToString(cluster.Endpoint), aws.ToString(cluster.ReaderEndpoint), arn), Status: StatusWorking,
				Metadata: md,
				Tags:     tagMap(cluster.TagList, func(t rdstypes.Tag) (string, string) { return aws.ToString(t.Key), aws.ToString(t.Value) }),
			})
		}
	}
	return out, nil
}

func discoverLambda(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := lambda.NewFromConfig(c.Config)
	var out []Resource
	p := lambda.NewListFunctionsPaginator(cl, &lambda.ListFunctionsInput{MaxItems: aws.Int32(50)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, f := range page.Functions {
			name := aws.ToString(f.FunctionName)
			arn := aws.ToString(f.FunctionArn)
			if arn == "" {
				arn = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", c.Region(), c.AccountID, name)
			}
			md := map[string]string{"runtime": string(f.Runtime), "memory_size": strconv.Itoa(int(aws.ToInt32(f.MemorySize))),
				"timeout": strconv.Itoa(int(aws.ToInt32(f.Timeout))), "last_modified": aws.ToString(f.LastModified)}
			out = append(out, Resource{
				Product: "lambda", ARN: arn, Name: name, Dimensions: map[string]string{"FunctionName": name},
				Identifiers: nonEmpty(arn, name), Status: StatusWorking, Metadata: md,
			})
		}
	}
	return out, nil
}

func discoverSQS(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := sqs.NewFromConfig(c.Config)
	var out []Resource
	p := sqs.NewListQueuesPaginator(cl, &sqs.ListQueuesInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range page.QueueUrls {
			name := u[strings.LastIndex(u, "/")+1:]
			arn := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", c.Region(), c.AccountID, name)
			out = append(out, Resource{
				Product: "sqs", ARN: arn, Name: name, Dimensions: map[string]string{"QueueName": name},
				Identifiers: nonEmpty(u, arn), Status: StatusWorking, Metadata: map[string]string{"queue_url": u, "fifo": strconv.FormatBool(strings.HasSuffix(name, ".fifo"))},
			})
		}
	}
	return out, nil
}

func discoverDynamoDB(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := dynamodb.NewFromConfig(c.Config)
	var out []Resource
	p := dynamodb.NewListTablesPaginator(cl, &dynamodb.ListTablesInput{Limit: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, name := range page.TableNames {
			arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", c.Region(), c.AccountID, name)
			out = append(out, Resource{
				Product: "dynamodb", ARN: arn, Name: name, Dimensions: map[string]string{"TableName": name},
				Identifiers: nonEmpty(arn), Status: StatusWorking, Metadata: map[string]string{},
			})
		}
	}
	return out, nil
}
