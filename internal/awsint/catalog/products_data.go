package catalog

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Storage and messaging: S3, EFS, SQS, SES, Kinesis Data Streams, Kinesis
// Data Firehose and Step Functions.

// s3Product: "S3", https://mackerel.io/docs/entry/integrations/aws/s3
// (21 + 1 × storage types). The bucket listing is global; each bucket's
// metrics are in its own region. Storage metrics are daily (latest value
// at each poll); request metrics need a metrics configuration named
// EntireBucket.
func s3Product() *Product {
	return &Product{
		Key: "s3", Name: "S3", HostKind: Micro, HostUnit: "1 bucket", AWSManagedPolicy: "AmazonS3ReadOnlyAccess",
		TagTypes: []string{"s3"}, Actions: []string{"s3:ListAllMyBuckets", "s3:GetBucketLocation"}, Global: discoverS3,
		ARNDimensions: regexp.MustCompile(`:::(?P<BucketName>[^/]+)$`),
		Labels:        map[string]string{"created": "Created"},
		MetricSets: []MetricSet{
			{Name: "storage", Namespace: "AWS/S3", Period: oneDay, Latest: 3 * oneDay, Dimensions: []string{"BucketName", "StorageType"},
				Metrics: ms("bucket_size", avg, "BucketSizeBytes")},
			{Name: "objects", Namespace: "AWS/S3", Period: oneDay, Latest: 3 * oneDay, Dimensions: []string{"BucketName", "StorageType"},
				Fixed: map[string]string{"StorageType": "AllStorageTypes"}, Metrics: ms("objects", avg, "NumberOfObjects")},
			{Name: "requests", Namespace: "AWS/S3", Period: oneMinute, Dimensions: []string{"BucketName", "FilterId"}, Listed: true,
				Fixed: map[string]string{"FilterId": "EntireBucket"}, Metrics: all(
					ms("requests", sum, "AllRequests", "GetRequests", "PutRequests", "DeleteRequests", "HeadRequests", "PostRequests", "SelectRequests", "ListRequests"),
					ms("select_bytes", sum, "SelectBytesScanned", "SelectBytesReturned"),
					ms("bytes", sum, "BytesDownloaded", "BytesUploaded"),
					ms("errors", sum, "4xxErrors", "5xxErrors"),
					ms("latency", minAvgMax, "FirstByteLatency", "TotalRequestLatency"))},
		},
	}
}

func discoverS3(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := s3.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "ListBuckets"}
	p := s3.NewListBucketsPaginator(s3ListBuckets(cl.ListBuckets), &s3.ListBucketsInput{MaxBuckets: aws.Int32(1000)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, b := range page.Buckets {
			name := aws.ToString(b.Name)
			region := aws.ToString(b.BucketRegion)
			if region == "" { // older endpoints do not say: ask
				loc, err := cl.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b.Name})
				if err != nil {
					return nil, err
				}
				switch region = string(loc.LocationConstraint); region {
				case "":
					region = GlobalRegion(c.Partition())
				case "EU":
					region = "eu-west-1"
				}
			}
			arn := "arn:" + c.Partition() + ":s3:::" + name
			md := map[string]string{}
			if b.CreationDate != nil {
				md["created"] = b.CreationDate.UTC().Format("2006-01-02")
			}
			out = append(out, Resource{ARN: arn, Name: name, Region: region, Identifiers: nonEmpty(arn, name), Status: StatusWorking, Metadata: md})
		}
	}
	return out, nil
}

// efsProduct: "EFS", https://mackerel.io/docs/entry/integrations/aws/efs
// (36 metrics at most; StorageBytes by storage class every 15 minutes).
func efsProduct() *Product {
	io := []string{SC, Sum, Min, Avg, Max}
	return &Product{
		Key: "efs", Name: "EFS", HostKind: Micro, HostUnit: "1 file system", AWSManagedPolicy: "AmazonElasticFileSystemReadOnlyAccess",
		Actions: []string{"elasticfilesystem:DescribeFileSystems"}, Regional: discoverEFS,
		ARNDimensions: regexp.MustCompile(`:file-system/(?P<FileSystemId>fs-[0-9a-f]+)$`),
		Labels:        map[string]string{"performance_mode": "Performance mode", "throughput_mode": "Throughput mode", "size_bytes": "Size (bytes)", "state": "State"},
		MetricSets: []MetricSet{
			{Namespace: "AWS/EFS", Period: oneMinute, Dimensions: []string{"FileSystemId"}, Metrics: all(
				ms("burst_credit", minAvgMax, "BurstCreditBalance"),
				ms("connections", sum, "ClientConnections"),
				needs(traits("general_purpose"), ms("io_limit", maximum, "PercentIOLimit")),
				ms("throughput", minAvgMax, "PermittedThroughput"),
				ms("io", io, "DataReadIOBytes", "DataWriteIOBytes", "MetadataIOBytes", "TotalIOBytes", "MeteredIOBytes"))},
			{Name: "storage", Namespace: "AWS/EFS", Period: fifteenMinutes, Dimensions: []string{"FileSystemId", "StorageClass"},
				Metrics: ms("storage", avg, "StorageBytes")},
		},
	}
}

func discoverEFS(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := efs.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "DescribeFileSystems"}
	p := efs.NewDescribeFileSystemsPaginator(efsDescribeFileSystems(cl.DescribeFileSystems), &efs.DescribeFileSystemsInput{MaxItems: aws.Int32(100)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, fs := range page.FileSystems {
			id := aws.ToString(fs.FileSystemId)
			arn := aws.ToString(fs.FileSystemArn)
			if arn == "" {
				arn = c.ARN("elasticfilesystem", "file-system/"+id)
			}
			name := aws.ToString(fs.Name)
			if name == "" {
				name = id
			}
			var tr []string
			if fs.PerformanceMode == efstypes.PerformanceModeGeneralPurpose {
				tr = append(tr, "general_purpose")
			}
			size := ""
			if fs.SizeInBytes != nil {
				size = strconv.FormatInt(fs.SizeInBytes.Value, 10)
			}
			status := StatusWorking
			if fs.LifeCycleState != efstypes.LifeCycleStateAvailable {
				status = StatusStandby
			}
			out = append(out, Resource{ARN: arn, Name: name, Traits: tr, Identifiers: nonEmpty(id, arn), Status: status,
				Tags: tagMap(fs.Tags, func(t efstypes.Tag) (string, string) { return aws.ToString(t.Key), aws.ToString(t.Value) }),
				Metadata: map[string]string{"performance_mode": string(fs.PerformanceMode), "throughput_mode": string(fs.ThroughputMode),
					"size_bytes": size, "state": string(fs.LifeCycleState)}})
		}
	}
	return out, nil
}

// sqsProduct: "SQS", https://mackerel.io/docs/entry/integrations/aws/sqs (11 metrics).
func sqsProduct() *Product {
	return &Product{
		Key: "sqs", Name: "SQS", HostKind: Micro, HostUnit: "1 queue", AWSManagedPolicy: "AmazonSQSReadOnlyAccess",
		TagTypes: []string{"sqs"}, Actions: []string{"sqs:ListQueues"}, Regional: discoverSQS,
		ARNDimensions: regexp.MustCompile(`:(?P<QueueName>[^:]+)$`),
		Labels:        map[string]string{"queue_url": "Queue URL", "fifo": "FIFO"},
		MetricSets: []MetricSet{{Namespace: "AWS/SQS", Period: oneMinute, Dimensions: []string{"QueueName"}, Metrics: all(
			ms("messages", sum, "NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfMessagesDeleted"),
			ms("empty_receives", sum, "NumberOfEmptyReceives"),
			ms("approximate_messages", avg, "ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"),
			ms("oldest_message", maximum, "ApproximateAgeOfOldestMessage"),
			ms("message_size", []string{Avg, Max, Min}, "SentMessageSize"))}},
	}
}

func discoverSQS(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := sqs.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "ListQueues"}
	p := sqs.NewListQueuesPaginator(sqsListQueues(cl.ListQueues), &sqs.ListQueuesInput{MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range page.QueueUrls {
			name := u[strings.LastIndex(u, "/")+1:]
			arn := c.ARN("sqs", name)
			out = append(out, Resource{ARN: arn, Name: name, Identifiers: nonEmpty(u, arn), Status: StatusWorking,
				Metadata: map[string]string{"queue_url": u, "fifo": strconv.FormatBool(strings.HasSuffix(name, ".fifo"))}})
		}
	}
	return out, nil
}

// sesProduct: "SES", https://mackerel.io/docs/entry/integrations/aws/ses
// (one host per region; sending metrics have no dimension, receipt rules
// are sub-resources; "Sent Last 24 Hours" comes from GetSendQuota). No
// tag filter, as in Mackerel.
func sesProduct() *Product {
	return &Product{
		Key: "ses", Name: "SES", HostKind: Micro, HostUnit: "1 region", AWSManagedPolicy: "AmazonSESReadOnlyAccess", Untagged: true,
		Actions: []string{"ses:GetSendQuota", "ses:DescribeActiveReceiptRuleSet"}, Regional: discoverSES,
		Labels: map[string]string{"receipt_rule_set": "Active receipt rule set", "receipt_rules": "Receipt rules"},
		MetricSets: []MetricSet{
			{Kind: "region", Namespace: "AWS/SES", Period: oneMinute, Dimensions: []string{}, Metrics: all(
				ms("sending", sum, "Send", "Delivery", "Bounce", "Complaint", "Reject"),
				every(fiveMinutes, ms("reputation", avg, "Reputation.BounceRate", "Reputation.ComplaintRate")))},
			// Opens and clicks: only with a configuration set tracking them.
			{Name: "tracking", Kind: "region", Namespace: "AWS/SES", Period: oneMinute, Dimensions: []string{}, Listed: true,
				Metrics: ms("tracking", sum, "Open", "Click")},
			{Name: "rule", Kind: "region", Namespace: "AWS/SES", Period: oneMinute, Dimensions: []string{"RuleName"},
				Metrics: ms("receipt_rule", sum, "PublishFailure", "PublishExpired")},
		},
		APIMetrics: []APIMetric{
			{Name: "aws_ses_sent_last_24_hours", Group: "quota", Help: "Emails sent in the last 24 hours (GetSendQuota)."},
			{Name: "aws_ses_max_24_hour_send", Group: "quota", Help: "Sending quota: emails per 24 hours (GetSendQuota)."},
			{Name: "aws_ses_max_send_rate", Group: "quota", Help: "Sending quota: emails per second (GetSendQuota)."},
		},
	}
}

func discoverSES(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := ses.NewFromConfig(c.Config)
	q, err := cl.GetSendQuota(ctx, &ses.GetSendQuotaInput{})
	if err != nil {
		return nil, err
	}
	rules, err := cl.DescribeActiveReceiptRuleSet(ctx, &ses.DescribeActiveReceiptRuleSetInput{})
	if err != nil {
		return nil, err
	}
	md := map[string]string{"receipt_rules": strconv.Itoa(len(rules.Rules))}
	if rules.Metadata != nil {
		md["receipt_rule_set"] = aws.ToString(rules.Metadata.Name)
	}
	return []Resource{{Kind: "region", ARN: c.ARN("ses", "account"), Name: "SES (" + c.Region() + ")", Dimensions: map[string]string{},
		Status: StatusWorking, Metadata: md, Values: []Value{
			{Name: "aws_ses_sent_last_24_hours", Value: q.SentLast24Hours},
			{Name: "aws_ses_max_24_hour_send", Value: q.Max24HourSend},
			{Name: "aws_ses_max_send_rate", Value: q.MaxSendRate},
		}}}, nil
}

// kinesisProduct: "Kinesis Data Streams", https://mackerel.io/docs/entry/integrations/aws/kinesis
// (34 metrics).
func kinesisProduct() *Product {
	return &Product{
		Key: "kinesis", Name: "Kinesis Data Streams", HostKind: Micro, HostUnit: "1 stream", AWSManagedPolicy: "AmazonKinesisReadOnlyAccess",
		TagTypes: []string{"kinesis:stream"}, Actions: []string{"kinesis:ListStreams"}, Regional: discoverKinesis,
		ARNDimensions: regexp.MustCompile(`:stream/(?P<StreamName>[^/]+)$`),
		Labels:        map[string]string{"status": "Status", "mode": "Capacity mode"},
		MetricSets: []MetricSet{{Namespace: "AWS/Kinesis", Period: oneMinute, Dimensions: []string{"StreamName"}, Metrics: all(
			ms("bytes", sum, "GetRecords.Bytes", "IncomingBytes", "PutRecord.Bytes", "PutRecords.Bytes"),
			ms("records", sum, "GetRecords.Records", "IncomingRecords", "PutRecords.SuccessfulRecords", "PutRecords.TotalRecords",
				"PutRecords.FailedRecords", "PutRecords.ThrottledRecords"),
			ms("iterator_age", minAvgMax, "GetRecords.IteratorAgeMilliseconds"),
			ms("success", []string{Avg, Sum}, "GetRecords.Success", "PutRecord.Success", "PutRecords.Success"),
			ms("throughput_exceeded", minAvgMax, "ReadProvisionedThroughputExceeded", "WriteProvisionedThroughputExceeded"),
			ms("latency", minAvgMax, "GetRecords.Latency", "PutRecord.Latency", "PutRecords.Latency"))}},
	}
}

func discoverKinesis(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := kinesis.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "ListStreams"}
	p := kinesis.NewListStreamsPaginator(kinesisListStreams(cl.ListStreams), &kinesis.ListStreamsInput{Limit: aws.Int32(1000)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.StreamSummaries {
			name := aws.ToString(s.StreamName)
			arn := aws.ToString(s.StreamARN)
			if arn == "" {
				arn = c.ARN("kinesis", "stream/"+name)
			}
			mode := ""
			if s.StreamModeDetails != nil {
				mode = string(s.StreamModeDetails.StreamMode)
			}
			status := StatusWorking
			if s.StreamStatus != "ACTIVE" && s.StreamStatus != "UPDATING" {
				status = StatusStandby
			}
			out = append(out, Resource{ARN: arn, Name: name, Identifiers: nonEmpty(arn), Status: status,
				Metadata: map[string]string{"status": string(s.StreamStatus), "mode": mode}})
		}
	}
	return out, nil
}

// firehoseProduct: "Kinesis Data Firehose", https://mackerel.io/docs/entry/integrations/aws/firehose
// (38 to 49 metrics by destination; Firehose publishes every 5 minutes).
func firehoseProduct() *Product {
	dest := func(prefix, trait string) []Metric {
		return needs(traits(trait), ms("delivery_bytes", sum, prefix+".Bytes"), ms("delivery_records", sum, prefix+".Records"),
			ms("delivery_success", avg, prefix+".Success"), ms("data_freshness", maximum, prefix+".DataFreshness"))
	}
	return &Product{
		Key: "firehose", Name: "Kinesis Data Firehose", HostKind: Micro, HostUnit: "1 delivery stream", AWSManagedPolicy: "AmazonKinesisFirehoseReadOnlyAccess",
		TagTypes: []string{"firehose:deliverystream"}, Actions: []string{"firehose:ListDeliveryStreams", "firehose:DescribeDeliveryStream"},
		Regional: discoverFirehose, ARNDimensions: regexp.MustCompile(`:deliverystream/(?P<DeliveryStreamName>[^/]+)$`),
		Labels: map[string]string{"destination": "Destination", "source": "Source", "status": "Status"},
		MetricSets: []MetricSet{{Namespace: "AWS/Firehose", Period: fiveMinutes, Dimensions: []string{"DeliveryStreamName"}, Metrics: all(
			ms("incoming", sum, "IncomingBytes", "IncomingRecords", "IncomingPutRequests", "ThrottledRecords"),
			ms("limits", avg, "BytesPerSecondLimit", "RecordsPerSecondLimit", "PutRequestsPerSecondLimit"),
			ms("api_latency", []string{Avg, Max}, "DescribeDeliveryStream.Latency", "PutRecord.Latency", "PutRecordBatch.Latency", "UpdateDeliveryStream.Latency"),
			ms("api_requests", sum, "PutRecord.Bytes", "PutRecordBatch.Bytes", "DescribeDeliveryStream.Requests", "PutRecord.Requests",
				"PutRecordBatch.Requests", "UpdateDeliveryStream.Requests", "PutRecordBatch.Records"),
			ms("kms", sum, "KMSKeyAccessDenied", "KMSKeyDisabled", "KMSKeyInvalidState", "KMSKeyNotFound"),
			needs(traits("processing"), ms("processing", avg, "ExecuteProcessing.Duration", "ExecuteProcessing.Success"),
				ms("processing", sum, "SucceedProcessing.Records", "SucceedProcessing.Bytes")),
			needs(traits("conversion"), ms("conversion", sum, "SucceedConversion.Records", "SucceedConversion.Bytes", "FailedConversion.Records", "FailedConversion.Bytes")),
			// KinesisMillisBehindLatest is a lag: Maximum (Mackerel sums it).
			needs(traits("kinesis_source"), ms("kinesis_source", sum, "DataReadFromKinesisStream.Bytes", "DataReadFromKinesisStream.Records",
				"ThrottledDescribeStream", "ThrottledGetRecords", "ThrottledGetShardIterator"), ms("kinesis_source", maximum, "KinesisMillisBehindLatest")),
			needs(traits("dynamic_partitioning"), ms("partitioning", avg, "JQProcessing.Duration"), ms("partitioning", maximum, "PartitionCount", "PartitionCountExceeded"),
				ms("partitioning", minAvgMax, "PerPartitionThroughput")),
			needs(traits("s3"), ms("delivery_objects", sum, "DeliveryToS3.ObjectCount")),
			dest("BackupToS3", "backup"), dest("DeliveryToS3", "s3"), dest("DeliveryToRedshift", "redshift"),
			dest("DeliveryToAmazonOpenSearchService", "opensearch"), dest("DeliveryToElasticsearch", "elasticsearch"),
			dest("DeliveryToSplunk", "splunk"), needs(traits("splunk"), ms("data_freshness", maximum, "DeliveryToSplunk.DataAckLatency")),
			dest("DeliveryToHttpEndpoint", "http_endpoint"),
			needs(traits("http_endpoint"), ms("delivery_bytes", sum, "DeliveryToHttpEndpoint.ProcessedBytes"), ms("delivery_records", sum, "DeliveryToHttpEndpoint.ProcessedRecords")),
		)}},
	}
}

// maxDescribed bounds the per-resource Describe calls of one discovery
// (Firehose streams, Step Functions state machines, web ACLs): resources
// beyond it are hosts without the details those calls give.
const maxDescribed = 500

func discoverFirehose(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := firehose.NewFromConfig(c.Config)
	var names []string
	var start *string
	for pages := 0; ; pages++ {
		if pages >= maxPages {
			return nil, errTooManyPages("ListDeliveryStreams")
		}
		out, err := cl.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{Limit: aws.Int32(100), ExclusiveStartDeliveryStreamName: start})
		if err != nil {
			return nil, err
		}
		names = append(names, out.DeliveryStreamNames...)
		if !aws.ToBool(out.HasMoreDeliveryStreams) || len(out.DeliveryStreamNames) == 0 {
			break
		}
		start = aws.String(out.DeliveryStreamNames[len(out.DeliveryStreamNames)-1])
	}
	var rs []Resource
	for i, name := range names {
		arn := c.ARN("firehose", "deliverystream/"+name)
		r := Resource{ARN: arn, Name: name, Identifiers: nonEmpty(arn), Status: StatusWorking, Metadata: map[string]string{}}
		if i < maxDescribed {
			d, err := cl.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
			if err != nil {
				return nil, err
			}
			desc := d.DeliveryStreamDescription
			if desc != nil {
				r.Traits, r.Metadata["destination"] = firehoseTraits(desc)
				r.Metadata["source"] = string(desc.DeliveryStreamType)
				r.Metadata["status"] = string(desc.DeliveryStreamStatus)
				if desc.DeliveryStreamStatus != fhtypes.DeliveryStreamStatusActive {
					r.Status = StatusStandby
				}
			}
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// firehoseTraits says what a delivery stream delivers to and does on the
// way, which decides its metrics.
func firehoseTraits(d *fhtypes.DeliveryStreamDescription) ([]string, string) {
	var tr []string
	dest := ""
	if d.Source != nil && d.Source.KinesisStreamSourceDescription != nil {
		tr = append(tr, "kinesis_source")
	}
	for _, x := range d.Destinations {
		switch {
		case x.ExtendedS3DestinationDescription != nil:
			dest = "s3"
			e := x.ExtendedS3DestinationDescription
			if e.ProcessingConfiguration != nil && aws.ToBool(e.ProcessingConfiguration.Enabled) {
				tr = append(tr, "processing")
			}
			if e.DataFormatConversionConfiguration != nil && aws.ToBool(e.DataFormatConversionConfiguration.Enabled) {
				tr = append(tr, "conversion")
			}
			if e.DynamicPartitioningConfiguration != nil && aws.ToBool(e.DynamicPartitioningConfiguration.Enabled) {
				tr = append(tr, "dynamic_partitioning")
			}
			if e.S3BackupMode == fhtypes.S3BackupModeEnabled {
				tr = append(tr, "backup")
			}
		case x.RedshiftDestinationDescription != nil:
			dest = "redshift"
			tr = append(tr, "s3") // Redshift is loaded through S3
		case x.AmazonopensearchserviceDestinationDescription != nil:
			dest = "opensearch"
		case x.ElasticsearchDestinationDescription != nil:
			dest = "elasticsearch"
		case x.SplunkDestinationDescription != nil:
			dest = "splunk"
		case x.HttpEndpointDestinationDescription != nil:
			dest = "http_endpoint"
		case x.S3DestinationDescription != nil:
			dest = "s3"
		}
	}
	if dest != "" {
		tr = append(tr, dest)
	}
	return tr, dest
}

// statesProduct: "Step Functions", https://mackerel.io/docs/entry/integrations/aws/states
// (7 + 9 × activities + 8 × Lambda functions + 8 × service integrations,
// those its definition uses).
func statesProduct() *Product {
	return &Product{
		Key: "states", Name: "Step Functions", HostKind: Micro, HostUnit: "1 state machine", AWSManagedPolicy: "AWSStepFunctionsReadOnlyAccess",
		TagTypes: []string{"states:stateMachine"}, Actions: []string{"states:ListStateMachines", "states:DescribeStateMachine"}, Regional: discoverStates,
		ARNDimensions: regexp.MustCompile(`^(?P<StateMachineArn>arn:[^:]+:states:[^:]+:[0-9]+:stateMachine:[^:]+)$`),
		Labels:        map[string]string{"type": "Type", "activities": "Activities", "lambda_functions": "Lambda functions", "service_integrations": "Service integrations"},
		MetricSets: []MetricSet{
			{Namespace: "AWS/States", Period: oneMinute, Dimensions: []string{"StateMachineArn"}, Metrics: all(
				ms("executions", sum, "ExecutionsAborted", "ExecutionsFailed", "ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsTimedOut", "ExecutionThrottled"),
				ms("execution_time", avg, "ExecutionTime"))},
			{Name: "activity", Namespace: "AWS/States", Period: oneMinute, Dimensions: []string{"ActivityArn"}, Metrics: all(
				ms("activities", sum, "ActivitiesScheduled", "ActivitiesStarted", "ActivitiesSucceeded", "ActivitiesTimedOut", "ActivitiesHeartbeatTimedOut", "ActivitiesFailed"),
				ms("activity_time", avg, "ActivityScheduleTime", "ActivityRunTime", "ActivityTime"))},
			{Name: "lambda", Namespace: "AWS/States", Period: oneMinute, Dimensions: []string{"LambdaFunctionArn"}, Metrics: all(
				ms("lambda_functions", sum, "LambdaFunctionsScheduled", "LambdaFunctionsStarted", "LambdaFunctionsSucceeded", "LambdaFunctionsTimedOut", "LambdaFunctionsFailed"),
				ms("lambda_function_time", avg, "LambdaFunctionScheduleTime", "LambdaFunctionRunTime", "LambdaFunctionTime"))},
			{Name: "integration", Namespace: "AWS/States", Period: oneMinute, Dimensions: []string{"ServiceIntegrationResourceArn"}, Metrics: all(
				ms("service_integrations", sum, "ServiceIntegrationsFailed", "ServiceIntegrationsScheduled", "ServiceIntegrationsStarted",
					"ServiceIntegrationsSucceeded", "ServiceIntegrationsTimedOut"),
				ms("service_integration_time", avg, "ServiceIntegrationRunTime", "ServiceIntegrationScheduleTime", "ServiceIntegrationTime"))},
		},
	}
}

func discoverStates(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := sfn.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "ListStateMachines"}
	p := sfn.NewListStateMachinesPaginator(sfnListStateMachines(cl.ListStateMachines), &sfn.ListStateMachinesInput{MaxResults: 1000})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range page.StateMachines {
			arn := aws.ToString(m.StateMachineArn)
			r := Resource{ARN: arn, Name: aws.ToString(m.Name), Identifiers: nonEmpty(arn), Status: StatusWorking,
				Metadata: map[string]string{"type": string(m.Type)}}
			if len(out) < maxDescribed {
				d, err := cl.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: m.StateMachineArn})
				if err != nil {
					return nil, err
				}
				r.Families = stateMachineFamilies(aws.ToString(d.Definition))
				r.Metadata["activities"] = strconv.Itoa(len(r.Families["ActivityArn"]))
				r.Metadata["lambda_functions"] = strconv.Itoa(len(r.Families["LambdaFunctionArn"]))
				r.Metadata["service_integrations"] = strconv.Itoa(len(r.Families["ServiceIntegrationResourceArn"]))
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// stateMachineFamilies reads the activities, Lambda functions and service
// integrations a state machine's definition (Amazon States Language) uses
// in its Task states, at any depth (Parallel branches, Map iterators).
func stateMachineFamilies(definition string) map[string][]string {
	var doc any
	if err := json.Unmarshal([]byte(definition), &doc); err != nil {
		return nil
	}
	out := map[string][]string{}
	seen := map[string]bool{}
	add := func(dim, v string) {
		if !seen[dim+v] {
			seen[dim+v] = true
			out[dim] = append(out[dim], v)
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if res, ok := x["Resource"].(string); ok && x["Type"] == "Task" {
				switch {
				case strings.Contains(res, ":states:::"):
					add("ServiceIntegrationResourceArn", res)
				case strings.Contains(res, ":activity:"):
					add("ActivityArn", res)
				case strings.Contains(res, ":lambda:") && strings.Contains(res, ":function:"):
					add("LambdaFunctionArn", res)
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	return out
}
