package awssim

import "time"

// The CloudWatch metrics AWS publishes, per namespace, as the page cited
// for each lists them (metric, dimension sets, statistics, resolution,
// conditions). Written from AWS's documentation, never from Kansoku's
// catalog. Traits a form requires are derived from the scenario's
// resources in kinds.go (instance types, engines, enabled features).

const (
	oneMinute   = time.Minute
	fiveMinutes = 5 * time.Minute
	oneDay      = 24 * time.Hour
)

func publishedNamespaces() []Namespace {
	return []Namespace{
		publishedEC2(), publishedELB(), publishedALB(), publishedNLB(), publishedRDS(), publishedDocDB(), publishedNeptune(),
		publishedElastiCache(), publishedRedshift(), publishedLambda(), publishedSQS(), publishedDynamoDB(), publishedCloudFront(),
		publishedAPIGateway(), publishedKinesis(), publishedS3(), publishedES(), publishedECS(), publishedSES(), publishedStates(),
		publishedEFS(), publishedFirehose(), publishedWAFV2(), publishedWAFClassic(), publishedBilling(), publishedRoute53(),
		publishedConnect(), publishedCodeBuild(), publishedAthena(),
	}
}

// AWS/EC2: "List the available CloudWatch metrics for your instances",
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/viewing_metrics_with_cloudwatch.html
// Basic monitoring records every 5 minutes; CPU credit metrics only for
// burstable (T) instances; EBS metrics only for Nitro-based instances.
func publishedEC2() Namespace {
	inst := dims(d("InstanceId"), d("InstanceType"))
	return ns("AWS/EC2", "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/viewing_metrics_with_cloudwatch.html", fiveMinutes,
		g(inst, statsGauge, "CPUUtilization"),
		g(inst, statsCounter, "DiskReadOps", "DiskWriteOps", "DiskReadBytes", "DiskWriteBytes",
			"NetworkIn", "NetworkOut", "NetworkPacketsIn", "NetworkPacketsOut", "MetadataNoToken", "MetadataNoTokenRejected"),
		g(inst, statsCounter, "StatusCheckFailed", "StatusCheckFailed_Instance", "StatusCheckFailed_System"),
		g(dims(d("InstanceId")), statsCounter, "StatusCheckFailed_AttachedEBS").needs("nitro"),
		g(dims(d("InstanceId")), statsCounter, "CPUCreditUsage", "CPUSurplusCreditsCharged").needs("burstable"),
		g(dims(d("InstanceId")), statsGauge, "CPUCreditBalance", "CPUSurplusCreditBalance").needs("burstable"),
		g(inst, statsCounter, "EBSReadOps", "EBSWriteOps", "EBSReadBytes", "EBSWriteBytes").needs("nitro"),
		g(dims(d("InstanceId")), statsGauge, "EBSIOBalance%", "EBSByteBalance%").needs("nitro"),
	)
}

// AWS/ELB: "CloudWatch metrics for your Classic Load Balancer",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-cloudwatch-metrics.html
func publishedELB() Namespace {
	lb := dims(d("LoadBalancerName"), d("LoadBalancerName", "AvailabilityZone"))
	return ns("AWS/ELB", "https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-cloudwatch-metrics.html", oneMinute,
		g(lb, statsCounter, "BackendConnectionErrors", "DesyncMitigationMode_NonCompliant_Request_Count",
			"HTTPCode_Backend_2XX", "HTTPCode_Backend_3XX", "HTTPCode_Backend_4XX", "HTTPCode_Backend_5XX",
			"HTTPCode_ELB_4XX", "HTTPCode_ELB_5XX", "RequestCount", "SpilloverCount",
			"EstimatedALBActiveConnectionCount", "EstimatedALBConsumedLCUs", "EstimatedALBNewConnectionCount", "EstimatedProcessedBytes"),
		g(lb, statsGauge, "HealthyHostCount", "UnHealthyHostCount", "SurgeQueueLength"),
		g(lb, statsLatency, "Latency"),
	)
}

// AWS/ApplicationELB: "CloudWatch metrics for your Application Load
// Balancer",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
// Load-balancer metrics by LoadBalancer (and AvailabilityZone); target
// metrics also by TargetGroup; host counts only per target group.
func publishedALB() Namespace {
	lb := dims(d("LoadBalancer"), d("LoadBalancer", "AvailabilityZone"))
	target := dims(d("LoadBalancer"), d("LoadBalancer", "AvailabilityZone"), d("LoadBalancer", "TargetGroup"),
		d("LoadBalancer", "TargetGroup", "AvailabilityZone"), d("TargetGroup"))
	return ns("AWS/ApplicationELB", "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html", oneMinute,
		g(lb, statsCounter, "ActiveConnectionCount", "ClientTLSNegotiationErrorCount", "HTTP_Fixed_Response_Count", "HTTP_Redirect_Count",
			"HTTP_Redirect_Url_Limit_Exceeded_Count", "HTTPCode_ELB_3XX_Count", "HTTPCode_ELB_4XX_Count", "HTTPCode_ELB_5XX_Count",
			"HTTPCode_ELB_500_Count", "HTTPCode_ELB_502_Count", "HTTPCode_ELB_503_Count", "HTTPCode_ELB_504_Count",
			"IPv6ProcessedBytes", "IPv6RequestCount", "NewConnectionCount", "NonStickyRequestCount", "ProcessedBytes",
			"RejectedConnectionCount", "RuleEvaluations", "DesyncMitigationMode_NonCompliant_Request_Count"),
		g(dims(d("LoadBalancer")), statsCounter, "ConsumedLCUs"),
		g(dims(d("LoadBalancer")), statsGaugeSum, "PeakLCUs"),
		g(target, statsCounter, "RequestCount", "HTTPCode_Target_2XX_Count", "HTTPCode_Target_3XX_Count", "HTTPCode_Target_4XX_Count",
			"HTTPCode_Target_5XX_Count", "TargetConnectionErrorCount", "TargetTLSNegotiationErrorCount"),
		g(target, statsLatency, "TargetResponseTime"),
		g(dims(d("TargetGroup"), d("LoadBalancer", "TargetGroup")), []string{"Sum"}, "RequestCountPerTarget"),
		g(dims(d("LoadBalancer", "TargetGroup"), d("LoadBalancer", "TargetGroup", "AvailabilityZone")), statsGauge,
			"HealthyHostCount", "UnHealthyHostCount"),
	)
}

// AWS/NetworkELB: "CloudWatch metrics for your Network Load Balancer",
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch.html
func publishedNLB() Namespace {
	lb := dims(d("LoadBalancer"), d("LoadBalancer", "AvailabilityZone"))
	return ns("AWS/NetworkELB", "https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch.html", oneMinute,
		g(lb, statsGauge, "ActiveFlowCount", "ActiveFlowCount_TCP", "ActiveFlowCount_TLS", "ActiveFlowCount_UDP",
			"PeakBytesPerSecond", "PeakPacketsPerSecond"),
		g(lb, statsCounter, "ConsumedLCUs", "ConsumedLCUs_TCP", "ConsumedLCUs_TLS", "ConsumedLCUs_UDP",
			"NewFlowCount", "NewFlowCount_TCP", "NewFlowCount_TLS", "NewFlowCount_UDP", "PortAllocationErrorCount",
			"ProcessedBytes", "ProcessedBytes_TCP", "ProcessedBytes_TLS", "ProcessedBytes_UDP", "ProcessedPackets",
			"TCP_Client_Reset_Count", "TCP_ELB_Reset_Count", "TCP_Target_Reset_Count",
			"ClientTLSNegotiationErrorCount", "TargetTLSNegotiationErrorCount"),
		g(dims(d("LoadBalancer", "TargetGroup"), d("LoadBalancer", "TargetGroup", "AvailabilityZone")), statsGauge,
			"HealthyHostCount", "UnHealthyHostCount"),
	)
}

// AWS/RDS: "Amazon CloudWatch metrics for Amazon RDS",
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html
// and "Amazon CloudWatch metrics for Amazon Aurora",
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html
// Instance metrics by DBInstanceIdentifier (and aggregated by
// EngineName); Aurora's also per cluster and per cluster role.
func publishedRDS() Namespace {
	inst := dims(d("DBInstanceIdentifier"), d("EngineName"), d("DBClusterIdentifier").when("aurora"), d("DBClusterIdentifier", "Role").when("aurora"))
	instOnly := dims(d("DBInstanceIdentifier"))
	aurora := dims(d("DBInstanceIdentifier"), d("DBClusterIdentifier"), d("DBClusterIdentifier", "Role"))
	cluster := dims(d("DBClusterIdentifier"))
	return ns("AWS/RDS", "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html", oneMinute,
		g(inst, statsGauge, "CPUUtilization", "FreeableMemory", "NetworkReceiveThroughput", "NetworkTransmitThroughput",
			"ReadIOPS", "WriteIOPS", "ReadLatency", "WriteLatency", "ReadThroughput", "WriteThroughput", "DiskQueueDepth"),
		g(inst, statsGaugeSum, "DatabaseConnections"),
		g(instOnly, statsGauge, "SwapUsage").needs("not_sqlserver"),
		g(instOnly, statsGauge, "FreeStorageSpace").needs("rds"),
		g(instOnly, statsGauge, "BurstBalance").needs("rds", "gp2"),
		g(instOnly, statsGauge, "EBSByteBalance%", "EBSIOBalance%").needs("rds", "ebs_balance"),
		g(instOnly, statsCounter, "CPUCreditUsage", "CPUSurplusCreditsCharged").needs("burstable"),
		g(instOnly, statsGauge, "CPUCreditBalance", "CPUSurplusCreditBalance").needs("burstable"),
		g(instOnly, statsGauge, "ReplicaLag").needs("rds", "replica"),
		g(instOnly, statsGauge, "BinLogDiskUsage").needs("mysql"),
		g(instOnly, statsCounter, "ConnectionAttempts").needs("rds", "mysql"),
		g(instOnly, statsGauge, "MaximumUsedTransactionIDs", "TransactionLogsDiskUsage", "ReplicationSlotDiskUsage").needs("postgres"),
		g(instOnly, statsGauge, "OldestReplicationSlotLag", "TransactionLogsGeneration", "CheckpointLag").needs("rds", "postgres"),
		g(instOnly, statsCounter, "FailedSQLServerAgentJobsCount").needs("sqlserver").every(fiveMinutes),
		// Aurora instances (also per cluster and role).
		g(aurora, statsGauge, "BufferCacheHitRatio", "CommitLatency", "EngineUptime", "FreeLocalStorage").needs("aurora"),
		g(aurora, statsGaugeSum, "CommitThroughput", "Deadlocks").needs("aurora"),
		g(instOnly, statsGauge, "AuroraReplicaLag").needs("aurora", "reader"),
		g(instOnly, statsGauge, "AuroraReplicaLagMaximum", "AuroraReplicaLagMinimum").needs("aurora", "writer"),
		g(instOnly, statsGauge, "AuroraBinlogReplicaLag").needs("aurora", "mysql"),
		g(aurora, statsGauge, "DDLLatency", "DMLLatency", "DeleteLatency", "InsertLatency", "SelectLatency", "UpdateLatency",
			"ResultSetCacheHitRatio", "RowLockTime").needs("aurora", "mysql"),
		g(aurora, statsGaugeSum, "DDLThroughput", "DMLThroughput", "DeleteThroughput", "InsertThroughput", "SelectThroughput",
			"UpdateThroughput", "Queries", "LoginFailures", "ActiveTransactions", "BlockedTransactions", "AbortedClients").needs("aurora", "mysql"),
		g(aurora, statsGauge, "ServerlessDatabaseCapacity", "ACUUtilization", "TempStorageIOPS", "TempStorageThroughput").needs("aurora", "serverless"),
		// Aurora clusters.
		g(cluster, statsGauge, "VolumeBytesUsed", "AuroraVolumeBytesLeftTotal").needs("aurora"),
		g(cluster, statsCounter, "VolumeReadIOPs", "VolumeWriteIOPs").needs("aurora").every(fiveMinutes),
		g(cluster, statsGauge, "BackupRetentionPeriodStorageUsed", "SnapshotStorageUsed", "TotalBackupStorageBilled").needs("aurora").every(oneDay).late(6*time.Hour),
		g(cluster, statsGauge, "BacktrackChangeRecordsCreationRate", "BacktrackChangeRecordsStored", "BacktrackWindowActual",
			"BacktrackWindowAlert").needs("aurora", "backtrack"),
	)
}

// AWS/DocDB: "Amazon DocumentDB metrics",
// https://docs.aws.amazon.com/documentdb/latest/developerguide/cloud_watch.html
func publishedDocDB() Namespace {
	inst := dims(d("DBInstanceIdentifier"), d("DBClusterIdentifier"), d("DBClusterIdentifier", "Role"))
	instOnly := dims(d("DBInstanceIdentifier"))
	cluster := dims(d("DBClusterIdentifier"))
	return ns("AWS/DocDB", "https://docs.aws.amazon.com/documentdb/latest/developerguide/cloud_watch.html", oneMinute,
		g(inst, statsGauge, "CPUUtilization", "FreeableMemory", "FreeLocalStorage", "SwapUsage", "ReadLatency", "WriteLatency",
			"ReadIOPS", "WriteIOPS", "NetworkReceiveThroughput", "NetworkTransmitThroughput", "NetworkThroughput",
			"ReadThroughput", "WriteThroughput", "BufferCacheHitRatio", "IndexBufferCacheHitRatio", "DiskQueueDepth", "EngineUptime"),
		g(inst, statsCounter, "DatabaseConnections", "DatabaseConnectionsMax", "DatabaseCursors", "DatabaseCursorsMax",
			"DatabaseCursorsTimedOut", "TransactionsOpen", "TransactionsOpenMax", "TransactionsStarted", "TransactionsCommitted",
			"TransactionsAborted", "OpcountersCommand", "OpcountersDelete", "OpcountersGetmore", "OpcountersInsert",
			"OpcountersQuery", "OpcountersUpdate", "DocumentsDeleted", "DocumentsInserted", "DocumentsReturned",
			"DocumentsUpdated", "TTLDeletedDocuments", "LowMemThrottleQueueDepth", "LowMemThrottleMaxQueueDepth",
			"LowMemNumOperationsThrottled"),
		g(instOnly, statsGauge, "DBInstanceReplicaLag").needs("reader"),
		g(instOnly, statsGauge, "CPUCreditUsage", "CPUCreditBalance", "CPUSurplusCreditBalance", "CPUSurplusCreditsCharged").
			needs("burstable").every(fiveMinutes),
		g(cluster, statsGauge, "DBClusterReplicaLagMaximum", "DBClusterReplicaLagMinimum"),
		g(cluster, statsGaugeSum, "VolumeBytesUsed").every(fiveMinutes),
		g(cluster, statsCounter, "VolumeReadIOPs", "VolumeWriteIOPs", "ChangeStreamLogSize").every(fiveMinutes),
		g(cluster, statsGaugeSum, "SnapshotStorageUsed", "TotalBackupStorageBilled", "BackupRetentionPeriodStorageUsed").every(oneDay).late(6*time.Hour),
	)
}

// AWS/Neptune: "Monitoring Neptune using Amazon CloudWatch",
// https://docs.aws.amazon.com/neptune/latest/userguide/cw-metrics.html
// (only a few metrics: Kansoku collects no Neptune, but DescribeDBInstances
// lists Neptune instances, whose metrics are here and not in AWS/RDS).
func publishedNeptune() Namespace {
	return ns("AWS/Neptune", "https://docs.aws.amazon.com/neptune/latest/userguide/cw-metrics.html", oneMinute,
		g(dims(d("DBInstanceIdentifier"), d("DBClusterIdentifier")), statsGauge, "CPUUtilization", "FreeableMemory", "GremlinRequestsPerSec"),
	)
}

// AWS/ElastiCache: host-level metrics
// (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.HostLevel.html),
// Redis OSS and Valkey metrics (CacheMetrics.Redis.html) and Memcached
// metrics (CacheMetrics.Memcached.html), per node (CacheClusterId,
// CacheNodeId) and per cluster.
func publishedElastiCache() Namespace {
	node := dims(d("CacheClusterId", "CacheNodeId"), d("CacheClusterId"))
	nodeOnly := dims(d("CacheClusterId", "CacheNodeId"))
	cmds := []string{"GetTypeCmds", "SetTypeCmds", "KeyBasedCmds", "StringBasedCmds", "HashBasedCmds", "ListBasedCmds", "SetBasedCmds",
		"ClusterBasedCmds", "SortedSetBasedCmds", "EvalBasedCmds", "GeoSpatialBasedCmds", "HyperLogLogBasedCmds", "PubSubBasedCmds", "StreamBasedCmds"}
	var latencies []string
	for _, c := range cmds {
		latencies = append(latencies, c+"Latency")
	}
	valkeyCmds := []string{"JsonBasedCmds", "JsonBasedGetCmds", "JsonBasedSetCmds", "NonKeyTypeCmds"}
	var valkeyLatencies []string
	for _, c := range valkeyCmds {
		valkeyLatencies = append(valkeyLatencies, c+"Latency")
	}
	return ns("AWS/ElastiCache", "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.HostLevel.html", oneMinute,
		g(node, statsGauge, "CPUUtilization", "FreeableMemory", "SwapUsage", "NetworkMaxBytesIn", "NetworkMaxBytesOut",
			"NetworkMaxPacketsIn", "NetworkMaxPacketsOut"),
		g(node, statsCounter, "NetworkBytesIn", "NetworkBytesOut", "NetworkPacketsIn", "NetworkPacketsOut",
			"NetworkBandwidthInAllowanceExceeded", "NetworkBandwidthOutAllowanceExceeded", "NetworkConntrackAllowanceExceeded",
			"NetworkLinkLocalAllowanceExceeded", "NetworkPacketsPerSecondAllowanceExceeded"),
		g(nodeOnly, statsGauge, "CPUCreditBalance", "CPUCreditUsage").needs("burstable").every(fiveMinutes),
		// Memcached.
		g(node, statsCounter, "BytesReadIntoMemcached", "BytesWrittenOutFromMemcached", "CasBadval", "CasHits", "CasMisses",
			"CmdFlush", "CmdGet", "CmdSet", "CmdTouch", "CmdConfigGet", "CmdConfigSet", "DecrHits", "DecrMisses", "DeleteHits",
			"DeleteMisses", "Evictions", "GetHits", "GetMisses", "IncrHits", "IncrMisses", "Reclaimed", "EvictedUnfetched",
			"ExpiredUnfetched", "SlabsMoved", "TouchHits", "TouchMisses", "NewConnections", "NewItems").needs("memcached"),
		g(node, statsGauge, "BytesUsedForCacheItems", "BytesUsedForHash", "CurrConnections", "CurrItems", "CurrConfig",
			"UnusedMemory").needs("memcached"),
		// Redis OSS and Valkey.
		g(node, statsCounter, cmds...).needs("redis"),
		g(node, statsLatency, latencies...).needs("redis"),
		g(node, statsCounter, "CacheHits", "CacheMisses", "Evictions", "Reclaimed", "NewConnections", "AuthenticationFailures",
			"CommandAuthorizationFailures", "KeyAuthorizationFailures", "KeysTracked", "ActiveDefragHits").needs("redis"),
		g(node, statsGauge, "BytesUsedForCache", "CacheHitRate", "CurrConnections", "CurrItems", "CurrVolatileItems",
			"DatabaseMemoryUsagePercentage", "DB0AverageTTL", "EngineCPUUtilization", "IsMaster", "MemoryFragmentationRatio",
			"SaveInProgress").needs("redis"),
		g(nodeOnly, statsGauge, "ReplicationLag", "MasterLinkHealthStatus").needs("redis", "replica"),
		g(nodeOnly, statsCounter, "ReplicationBytes").needs("redis", "primary"),
		// Published by the primary node of a global datastore's cluster.
		g(nodeOnly, statsGauge, "GlobalDatastoreReplicationLag").needs("redis", "global_datastore", "primary"),
		g(node, statsCounter, "BytesReadFromDisk", "BytesWrittenToDisk", "NumItemsReadFromDisk", "NumItemsWrittenToDisk").needs("redis", "data_tiering"),
		g(node, statsCounter, valkeyCmds...).needs("valkey"),
		g(node, statsLatency, valkeyLatencies...).needs("valkey"),
		g(node, statsCounter, "ErrorCount", "IamAuthenticationExpirations", "IamAuthenticationThrottling",
			"ChannelAuthorizationFailures").needs("valkey"),
		g(node, statsGauge, "DatabaseMemoryUsageCountedForEvictPercentage", "DatabaseCapacityUsagePercentage",
			"DatabaseCapacityUsageCountedForEvictPercentage", "TrafficManagementActive").needs("valkey"),
		g(node, statsLatency, "SuccessfulWriteRequestLatency", "SuccessfulReadRequestLatency").needs("valkey"),
	)
}

// AWS/Redshift: "Amazon Redshift metrics",
// https://docs.aws.amazon.com/redshift/latest/mgmt/metrics-listing.html
// Query and WLM metrics are reported in five-minute intervals.
func publishedRedshift() Namespace {
	c := dims(d("ClusterIdentifier"))
	cn := dims(d("ClusterIdentifier"), d("ClusterIdentifier", "NodeID"))
	return ns("AWS/Redshift", "https://docs.aws.amazon.com/redshift/latest/mgmt/metrics-listing.html", oneMinute,
		g(cn, statsGauge, "CPUUtilization", "NetworkReceiveThroughput", "NetworkTransmitThroughput", "PercentageDiskSpaceUsed",
			"ReadIOPS", "WriteIOPS", "ReadLatency", "WriteLatency", "ReadThroughput", "WriteThroughput"),
		g(c, statsGauge, "DatabaseConnections", "HealthStatus", "MaintenanceMode", "TotalTableCount", "CommitQueueLength",
			"ConcurrencyScalingActiveClusters"),
		g(dims(d("ClusterIdentifier", "latency")), statsGauge, "QueriesCompletedPerSecond", "QueryDuration").every(fiveMinutes),
		g(dims(d("ClusterIdentifier", "stage")), statsGauge, "QueryRuntimeBreakdown").every(fiveMinutes),
		g(dims(d("ClusterIdentifier", "wlmid")), statsGauge, "WLMQueriesCompletedPerSecond", "WLMQueryDuration").every(fiveMinutes),
		g(dims(d("ClusterIdentifier", "service class")), statsGauge, "WLMQueueLength", "WLMRunningQueries"),
	)
}

// AWS/Lambda: "Types of metrics for Lambda functions",
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
// By FunctionName, by FunctionName and Resource (an alias or version),
// and for the account.
func publishedLambda() Namespace {
	fn := dims(d("FunctionName"), d("FunctionName", "Resource"), d())
	return ns("AWS/Lambda", "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html", oneMinute,
		g(fn, statsCounter, "Invocations", "Errors", "Throttles", "OversizedRecordCount", "RecursiveInvocationsDropped"),
		g(fn, statsCounter, "DeadLetterErrors").needs("dlq"),
		g(fn, statsCounter, "DestinationDeliveryFailures").needs("destination"),
		g(fn, statsLatency, "Duration", "PostRuntimeExtensionsDuration"),
		g(fn, statsLatency, "IteratorAge").needs("stream"),
		g(dims(d("FunctionName"), d("FunctionName", "Resource"), d()), statsGauge, "ConcurrentExecutions"),
		g(dims(d()), statsGauge, "UnreservedConcurrentExecutions", "ClaimedAccountConcurrency"),
		g(dims(d("FunctionName", "Resource")), statsGauge, "ProvisionedConcurrentExecutions", "ProvisionedConcurrencyUtilization").needs("provisioned"),
		g(dims(d("FunctionName")), statsCounter, "AsyncEventsReceived", "AsyncEventsDropped").needs("async"),
		g(dims(d("FunctionName")), statsGauge, "AsyncEventAge").needs("async"),
	)
}

// AWS/SQS: "Available CloudWatch metrics for Amazon SQS",
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
func publishedSQS() Namespace {
	q := dims(d("QueueName"))
	return ns("AWS/SQS", "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html", oneMinute,
		g(q, statsGauge, "ApproximateAgeOfOldestMessage"),
		g(q, statsGaugeSum, "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesVisible"),
		g(q, statsCounter, "NumberOfEmptyReceives", "NumberOfMessagesDeleted", "NumberOfMessagesReceived", "NumberOfMessagesSent"),
		g(q, statsGauge, "SentMessageSize"),
		g(q, statsCounter, "NumberOfDeduplicatedSentMessages").needs("fifo"),
		g(q, statsGauge, "ApproximateNumberOfGroupsWithInflightMessages").needs("fifo"),
	)
}

// AWS/DynamoDB: "DynamoDB Metrics and dimensions",
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
// Request metrics are published per table and operation only;
// UserErrors for the account only; provisioned capacity (every 5
// minutes) only for tables in provisioned mode.
func publishedDynamoDB() Namespace {
	table := dims(d("TableName"), d("TableName", "GlobalSecondaryIndexName"))
	op := dims(d("TableName", "Operation"))
	return ns("AWS/DynamoDB", "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html", oneMinute,
		g(table, statsCounter, "ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ReadThrottleEvents", "WriteThrottleEvents"),
		g(table, statsGauge, "ProvisionedReadCapacityUnits", "ProvisionedWriteCapacityUnits").needs("provisioned").every(fiveMinutes),
		g(op, statsCounter, "ThrottledRequests", "SystemErrors"),
		g(op, statsGauge, "SuccessfulRequestLatency"),
		g(dims(d("TableName", "Operation").only("Operation", "Query", "Scan", "ExecuteStatement", "BatchExecuteStatement")), statsGaugeSum, "ReturnedItemCount"),
		g(dims(d()), statsCounter, "UserErrors"),
		g(dims(d()), statsGauge, "AccountMaxReads", "AccountMaxWrites"),
		g(dims(d("TableName")), statsCounter, "ConditionalCheckFailedRequests", "TransactionConflict"),
		g(dims(d("TableName")), statsCounter, "TimeToLiveDeletedItemCount").needs("ttl"),
	)
}

// AWS/CloudFront: "Monitor CloudFront metrics with Amazon CloudWatch",
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html
// Global: published in us-east-1 with Region=Global; the additional
// metrics only when turned on for the distribution.
func publishedCloudFront() Namespace {
	dist := dims(d("DistributionId", "Region").fixed("Region", "Global"))
	fn := dims(d("FunctionName", "Region").fixed("Region", "Global"))
	return ns("AWS/CloudFront", "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/programming-cloudwatch-metrics.html", oneMinute,
		g(dist, statsCounter, "Requests", "BytesDownloaded", "BytesUploaded"),
		g(dist, statsGauge, "TotalErrorRate", "4xxErrorRate", "5xxErrorRate"),
		g(dist, statsGauge, "401ErrorRate", "403ErrorRate", "404ErrorRate", "502ErrorRate", "503ErrorRate", "504ErrorRate",
			"CacheHitRate").needs("additional_metrics"),
		g(dist, statsLatency, "OriginLatency").needs("additional_metrics"),
		g(fn, statsCounter, "FunctionInvocations", "FunctionValidationErrors", "FunctionExecutionErrors", "FunctionThrottles"),
		g(fn, statsGauge, "FunctionComputeUtilization"),
	)
}

// AWS/ApiGateway: REST APIs by ApiName
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html),
// HTTP APIs by ApiId (http-api-metrics.html), WebSocket APIs by ApiId
// (apigateway-websocket-api-logging.html).
func publishedAPIGateway() Namespace {
	rest := dims(d("ApiName").when("rest"), d("ApiName", "Stage").when("rest"))
	httpAPI := dims(d("ApiId").when("http"), d("ApiId", "Stage").when("http"))
	ws := dims(d("ApiId").when("websocket"), d("ApiId", "Stage").when("websocket"))
	return ns("AWS/ApiGateway", "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html", oneMinute,
		g(rest, statsCounter, "4XXError", "5XXError", "CacheHitCount", "CacheMissCount"),
		g(append(append(dims(), rest...), httpAPI...), statsCounter, "Count"),
		g(append(append(append(dims(), rest...), httpAPI...), ws...), statsLatency, "IntegrationLatency"),
		g(append(append(dims(), rest...), httpAPI...), statsLatency, "Latency"),
		g(httpAPI, statsCounter, "4xx", "5xx", "DataProcessed"),
		g(ws, statsCounter, "ConnectCount", "MessageCount", "IntegrationError", "ClientError", "ExecutionError"),
	)
}

// AWS/Kinesis: "Monitor the Amazon Kinesis Data Streams service with
// Amazon CloudWatch",
// https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html
func publishedKinesis() Namespace {
	s := dims(d("StreamName"))
	return ns("AWS/Kinesis", "https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html", oneMinute,
		g(s, statsCounter, "GetRecords.Bytes", "GetRecords.Records", "GetRecords.Success", "IncomingBytes", "IncomingRecords",
			"PutRecord.Bytes", "PutRecord.Success", "PutRecords.Bytes", "PutRecords.Success", "PutRecords.Records",
			"PutRecords.SuccessfulRecords", "PutRecords.TotalRecords", "PutRecords.FailedRecords", "PutRecords.ThrottledRecords",
			"ReadProvisionedThroughputExceeded", "WriteProvisionedThroughputExceeded", "SubscribeToShard.RateExceeded"),
		g(s, statsGauge, "GetRecords.IteratorAgeMilliseconds"),
		g(s, statsLatency, "GetRecords.Latency", "PutRecord.Latency", "PutRecords.Latency"),
	)
}

// AWS/S3: "Metrics and dimensions",
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html
// Storage metrics once a day (published hours after the day ends);
// request metrics every minute, for buckets with a metrics configuration
// (FilterId names it).
func publishedS3() Namespace {
	req := dims(d("BucketName", "FilterId"))
	return ns("AWS/S3", "https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html", oneDay,
		g(dims(d("BucketName", "StorageType")), statsGauge, "BucketSizeBytes").late(6*time.Hour),
		g(dims(d("BucketName", "StorageType").fixed("StorageType", "AllStorageTypes")), statsGauge, "NumberOfObjects").late(6*time.Hour),
		g(req, statsCounter, "AllRequests", "GetRequests", "PutRequests", "DeleteRequests", "HeadRequests", "PostRequests",
			"SelectRequests", "ListRequests", "SelectBytesScanned", "SelectBytesReturned", "BytesDownloaded", "BytesUploaded",
			"4xxErrors", "5xxErrors").needs("request_metrics").every(oneMinute),
		g(req, statsLatency, "FirstByteLatency", "TotalRequestLatency").needs("request_metrics").every(oneMinute),
	)
}

// AWS/ES: "Monitoring OpenSearch cluster metrics with Amazon CloudWatch",
// https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-cloudwatchmetrics.html
// Cluster metrics by DomainName and ClientId (the account id), node
// metrics also by NodeId.
func publishedES() Namespace {
	dom := dims(d("DomainName", "ClientId"))
	node := dims(d("DomainName", "ClientId"), d("DomainName", "ClientId", "NodeId"))
	threadpools := []string{}
	for _, p := range []string{"Search", "Write", "Index", "Bulk", "Force_merge", "sql-worker"} {
		threadpools = append(threadpools, "Threadpool"+p+"Queue", "Threadpool"+p+"Rejected", "Threadpool"+p+"Threads")
	}
	return ns("AWS/ES", "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-cloudwatchmetrics.html", oneMinute,
		g(dom, statsGauge, "ClusterStatus.green", "ClusterStatus.yellow", "ClusterStatus.red", "Nodes", "SearchableDocuments",
			"DeletedDocuments", "ClusterIndexWritesBlocked", "AutomatedSnapshotFailure", "KMSKeyError", "KMSKeyInaccessible",
			"ThroughputThrottle", "IopsThrottle", "ClusterUsedSpace"),
		g(dom, statsGaugeSum, "Shards.active", "Shards.unassigned", "Shards.delayedUnassigned", "Shards.activePrimary",
			"Shards.initializing", "Shards.relocating"),
		g(node, statsGauge, "CPUUtilization", "JVMMemoryPressure", "OldGenJVMMemoryPressure", "SysMemoryUtilization",
			"DiskQueueDepth", "BurstBalance", "ReadLatency", "WriteLatency", "ReadThroughput", "WriteThroughput",
			"ReadIOPS", "WriteIOPS", "ReadThroughputMicroBursting", "WriteThroughputMicroBursting", "ReadIOPSMicroBursting",
			"WriteIOPSMicroBursting", "IndexingLatency", "SearchLatency", "IndexingRate", "SearchRate", "SegmentCount",
			"JVMGCYoungCollectionCount", "JVMGCYoungCollectionTime", "JVMGCOldCollectionCount", "JVMGCOldCollectionTime",
			"CoordinatingWriteRejected", "PrimaryWriteRejected", "ReplicaWriteRejected"),
		g(node, statsGauge, threadpools...),
		g(node, statsGaugeSum, "FreeStorageSpace"),
		g(dom, statsCounter, "2xx", "3xx", "4xx", "5xx", "InvalidHostHeaderRequests", "SearchTaskCancelled", "SearchShardTaskCancelled"),
		g(node, statsGauge, "CPUCreditBalance").needs("burstable"),
		g(dom, statsGauge, "MasterCPUUtilization", "MasterJVMMemoryPressure", "MasterOldGenJVMMemoryPressure",
			"MasterSysMemoryUtilization").needs("dedicated_master"),
		g(dom, statsGauge, "MasterCPUCreditBalance").needs("dedicated_master", "burstable"),
		g(dom, statsGauge, "MasterReachableFromNode", "KibanaHealthyNodes").needs("elasticsearch"),
		g(dom, statsCounter, "ElasticsearchRequests").needs("elasticsearch"),
		g(dom, statsCounter, "OpenSearchRequests", "OpenSearchDashboardsRequestTotal",
			"OpensearchDashboardsReportingFailedRequestSysErrCount", "OpensearchDashboardsReportingFailedRequestUserErrCount",
			"OpensearchDashboardsReportingRequestCount", "OpensearchDashboardsReportingSuccessCount").needs("opensearch"),
		g(dom, statsGauge, "OpenSearchDashboardsHealthyNodes", "OpenSearchDashboardsConcurrentConnections",
			"OpenSearchDashboardsHeapTotal", "OpenSearchDashboardsHeapUsed", "OpenSearchDashboardsHeapUtilization",
			"OpenSearchDashboardsResponseTimesMaxInMillis", "OpenSearchDashboardsOS1MinuteLoad").needs("opensearch"),
	)
}

// AWS/ECS: "Amazon ECS CloudWatch metrics",
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html
// Cluster reservation and utilization only for EC2 capacity; service
// utilization for every launch type (its SampleCount counts tasks).
func publishedECS() Namespace {
	return ns("AWS/ECS", "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html", oneMinute,
		g(dims(d("ClusterName").when("ec2_capacity"), d("ClusterName", "ServiceName")), statsGauge, "CPUUtilization", "MemoryUtilization"),
		g(dims(d("ClusterName")), statsGauge, "CPUReservation", "MemoryReservation", "GPUReservation").needs("ec2_capacity"),
	)
}

// AWS/SES: sending events
// (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-cloudwatch.html,
// account-wide, no dimension; opens and clicks when tracked) and
// receiving (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-metrics.html,
// by RuleName).
func publishedSES() Namespace {
	return ns("AWS/SES", "https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-cloudwatch.html", oneMinute,
		g(dims(d()), statsCounter, "Send", "Delivery", "Bounce", "Complaint", "Reject", "RenderingFailure"),
		g(dims(d()), statsGauge, "Reputation.BounceRate", "Reputation.ComplaintRate").every(fiveMinutes),
		g(dims(d()), statsCounter, "Open", "Click").needs("tracking"),
		g(dims(d("RuleName")), statsCounter, "PublishFailure", "PublishExpired"),
	)
}

// AWS/States: "Monitoring Step Functions metrics using Amazon
// CloudWatch", https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
func publishedStates() Namespace {
	return ns("AWS/States", "https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html", oneMinute,
		g(dims(d("StateMachineArn")), statsGauge, "ExecutionTime"),
		g(dims(d("StateMachineArn")), statsCounter, "ExecutionThrottled", "ExecutionsAborted", "ExecutionsFailed",
			"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsTimedOut", "ExecutionsRedriven"),
		g(dims(d("ActivityArn")), statsGauge, "ActivityRunTime", "ActivityScheduleTime", "ActivityTime"),
		g(dims(d("ActivityArn")), statsCounter, "ActivitiesFailed", "ActivitiesHeartbeatTimedOut", "ActivitiesScheduled",
			"ActivitiesStarted", "ActivitiesSucceeded", "ActivitiesTimedOut"),
		g(dims(d("LambdaFunctionArn")), statsGauge, "LambdaFunctionRunTime", "LambdaFunctionScheduleTime", "LambdaFunctionTime"),
		g(dims(d("LambdaFunctionArn")), statsCounter, "LambdaFunctionsFailed", "LambdaFunctionsScheduled", "LambdaFunctionsStarted",
			"LambdaFunctionsSucceeded", "LambdaFunctionsTimedOut"),
		g(dims(d("ServiceIntegrationResourceArn")), statsGauge, "ServiceIntegrationRunTime", "ServiceIntegrationScheduleTime",
			"ServiceIntegrationTime"),
		g(dims(d("ServiceIntegrationResourceArn")), statsCounter, "ServiceIntegrationsFailed", "ServiceIntegrationsScheduled",
			"ServiceIntegrationsStarted", "ServiceIntegrationsSucceeded", "ServiceIntegrationsTimedOut"),
	)
}

// AWS/EFS: "Amazon EFS metrics",
// https://docs.aws.amazon.com/efs/latest/ug/efs-metrics.html
// StorageBytes by storage class, every 15 minutes; PercentIOLimit only in
// General Purpose performance mode.
func publishedEFS() Namespace {
	fs := dims(d("FileSystemId"))
	return ns("AWS/EFS", "https://docs.aws.amazon.com/efs/latest/ug/efs-metrics.html", oneMinute,
		g(fs, statsGauge, "BurstCreditBalance", "PermittedThroughput"),
		g(fs, statsCounter, "ClientConnections", "DataReadIOBytes", "DataWriteIOBytes", "MetadataIOBytes", "MetadataReadIOBytes",
			"MetadataWriteIOBytes", "TotalIOBytes", "MeteredIOBytes"),
		g(fs, statsGauge, "PercentIOLimit").needs("general_purpose"),
		g(dims(d("FileSystemId", "StorageClass")), statsGauge, "StorageBytes").every(15*time.Minute),
	)
}

// AWS/Firehose: "Monitor Amazon Data Firehose with CloudWatch metrics",
// https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
// Delivery metrics exist for the stream's destination only.
func publishedFirehose() Namespace {
	s := dims(d("DeliveryStreamName"))
	dest := func(prefix, trait string, extra ...string) []group {
		return []group{
			g(s, statsCounter, prefix+".Bytes", prefix+".Records").needs(trait),
			g(s, statsGauge, prefix+".Success").needs(trait),
			g(s, statsGauge, append([]string{prefix + ".DataFreshness"}, extra...)...).needs(trait),
		}
	}
	groups := []group{
		g(s, statsCounter, "IncomingBytes", "IncomingRecords", "IncomingPutRequests", "ThrottledRecords", "PutRecord.Bytes",
			"PutRecordBatch.Bytes", "PutRecord.Requests", "PutRecordBatch.Requests", "PutRecordBatch.Records",
			"DescribeDeliveryStream.Requests", "UpdateDeliveryStream.Requests", "KMSKeyAccessDenied", "KMSKeyDisabled",
			"KMSKeyInvalidState", "KMSKeyNotFound"),
		g(s, statsGauge, "BytesPerSecondLimit", "RecordsPerSecondLimit", "PutRequestsPerSecondLimit"),
		g(s, statsLatency, "PutRecord.Latency", "PutRecordBatch.Latency", "DescribeDeliveryStream.Latency", "UpdateDeliveryStream.Latency"),
		g(s, statsGauge, "ExecuteProcessing.Duration", "ExecuteProcessing.Success").needs("processing"),
		g(s, statsCounter, "SucceedProcessing.Records", "SucceedProcessing.Bytes").needs("processing"),
		g(s, statsCounter, "SucceedConversion.Records", "SucceedConversion.Bytes", "FailedConversion.Records",
			"FailedConversion.Bytes").needs("conversion"),
		g(s, statsCounter, "DataReadFromKinesisStream.Bytes", "DataReadFromKinesisStream.Records", "ThrottledDescribeStream",
			"ThrottledGetRecords", "ThrottledGetShardIterator").needs("kinesis_source"),
		g(s, statsGauge, "KinesisMillisBehindLatest").needs("kinesis_source"),
		g(s, statsCounter, "DeliveryToS3.ObjectCount").needs("s3"),
		g(s, statsCounter, "DeliveryToHttpEndpoint.ProcessedBytes", "DeliveryToHttpEndpoint.ProcessedRecords").needs("http_endpoint"),
		g(s, statsGauge, "JQProcessing.Duration", "PerPartitionThroughput").needs("dynamic_partitioning"),
		g(s, statsGauge, "PartitionCount", "PartitionCountExceeded").needs("dynamic_partitioning"),
	}
	groups = append(groups, dest("BackupToS3", "backup")...)
	groups = append(groups, dest("DeliveryToS3", "s3")...)
	groups = append(groups, dest("DeliveryToRedshift", "redshift")...)
	groups = append(groups, dest("DeliveryToAmazonOpenSearchService", "opensearch")...)
	groups = append(groups, dest("DeliveryToElasticsearch", "elasticsearch")...)
	groups = append(groups, dest("DeliveryToSplunk", "splunk", "DeliveryToSplunk.DataAckLatency")...)
	groups = append(groups, dest("DeliveryToHttpEndpoint", "http_endpoint")...)
	return ns("AWS/Firehose", "https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html", fiveMinutes, groups...)
}

// AWS/WAFV2: "Monitoring with Amazon CloudWatch",
// https://docs.aws.amazon.com/waf/latest/developerguide/monitoring-cloudwatch.html
// Regional web ACLs by WebACL, Rule and Region; CloudFront web ACLs (in
// us-east-1) by WebACL and Rule. Rule "ALL" is the whole web ACL.
func publishedWAFV2() Namespace {
	acl := dims(d("WebACL", "Rule", "Region").when("regional"), d("WebACL", "Rule").when("cloudfront"))
	return ns("AWS/WAFV2", "https://docs.aws.amazon.com/waf/latest/developerguide/monitoring-cloudwatch.html", oneMinute,
		g(acl, statsCounter, "AllowedRequests", "BlockedRequests", "CountedRequests", "PassedRequests", "CaptchaRequests",
			"RequestsWithValidCaptchaToken", "ChallengeRequests", "RequestsWithValidChallengeToken"),
	)
}

// WAF (WAF Classic): "Monitoring with Amazon CloudWatch" of AWS WAF
// Classic, https://docs.aws.amazon.com/waf/latest/developerguide/classic-monitoring-cloudwatch.html
// Namespace WAF, by WebACL and Rule (Region for WAF Classic Regional).
func publishedWAFClassic() Namespace {
	acl := dims(d("WebACL", "Rule", "Region").when("regional"), d("WebACL", "Rule").when("cloudfront"))
	return ns("WAF", "https://docs.aws.amazon.com/waf/latest/developerguide/classic-monitoring-cloudwatch.html", oneMinute,
		g(acl, statsCounter, "AllowedRequests", "BlockedRequests", "CountedRequests", "PassedRequests"),
	)
}

// AWS/Billing: "AWS billing metrics",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/billing-metricscollected.html
// In us-east-1 only; estimated charges are updated several times a day.
func publishedBilling() Namespace {
	return ns("AWS/Billing", "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/billing-metricscollected.html", 6*time.Hour,
		g(dims(d("Currency"), d("Currency", "ServiceName"), d("Currency", "LinkedAccount"), d("Currency", "LinkedAccount", "ServiceName")),
			statsGauge, "EstimatedCharges"),
	)
}

// AWS/Route53: health checks
// (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-cloudwatch.html)
// and hosted zones
// (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-hosted-zones-with-cloudwatch.html),
// in us-east-1. Latency metrics only for health checks that measure it,
// across regions and per region.
func publishedRoute53() Namespace {
	hc := dims(d("HealthCheckId"))
	return ns("AWS/Route53", "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-cloudwatch.html", oneMinute,
		g(hc, statsGauge, "HealthCheckPercentageHealthy", "HealthCheckStatus"),
		g(hc, statsGauge, "ChildHealthCheckHealthyCount").needs("calculated"),
		g(dims(d("HealthCheckId"), d("HealthCheckId", "Region")), statsGauge, "ConnectionTime", "SSLHandshakeTime", "TimeToFirstByte").needs("latency"),
		g(dims(d("HostedZoneId")), statsCounter, "DNSQueries").needs("public"),
	)
}

// AWS/Connect: "Monitoring your instance using CloudWatch",
// https://docs.aws.amazon.com/connect/latest/adminguide/monitoring-cloudwatch.html
// By InstanceId and MetricGroup; flows, queues and signing keys by name.
func publishedConnect() Namespace {
	calls := dims(d("InstanceId", "MetricGroup").fixed("MetricGroup", "VoiceCalls"))
	flow := dims(d("InstanceId", "MetricGroup", "ContactFlowName").fixed("MetricGroup", "ContactFlow"))
	queue := dims(d("InstanceId", "MetricGroup", "QueueName").fixed("MetricGroup", "Queue"))
	return ns("AWS/Connect", "https://docs.aws.amazon.com/connect/latest/adminguide/monitoring-cloudwatch.html", oneMinute,
		g(calls, statsGauge, "ConcurrentCalls", "ConcurrentCallsPercentage"),
		g(calls, statsCounter, "CallsBreachingConcurrencyQuota", "CallsPerInterval", "ThrottledCalls", "MissedCalls", "MisconfiguredPhoneNumbers"),
		g(dims(d("InstanceId", "MetricGroup").fixed("MetricGroup", "CallRecordings")), statsCounter, "CallRecordingUploadError"),
		g(dims(d("InstanceId", "Participant", "Type of Connection", "Stream Type")), statsGauge, "ToInstancePacketLossRate"),
		g(flow, statsCounter, "ContactFlowErrors", "ContactFlowFatalErrors"),
		g(queue, statsCounter, "CallBackNotDialableNumber", "QueueCapacityExceededError"),
		g(queue, statsGauge, "QueueSize", "LongestQueueWaitTime"),
		g(dims(d("InstanceId", "MetricGroup", "SigningKeyId").fixed("MetricGroup", "SigningKey")), statsCounter, "PublicSigningKeyUsage"),
	)
}

// AWS/CodeBuild: "CodeBuild CloudWatch metrics",
// https://docs.aws.amazon.com/codebuild/latest/userguide/monitoring-metrics.html
// Build metrics per project and for the account; resource utilization
// per project (and build).
func publishedCodeBuild() Namespace {
	p := dims(d("ProjectName"), d())
	return ns("AWS/CodeBuild", "https://docs.aws.amazon.com/codebuild/latest/userguide/monitoring-metrics.html", oneMinute,
		g(p, statsCounter, "Builds", "SucceededBuilds", "FailedBuilds"),
		g(p, statsGauge, "Duration", "BuildDuration", "DownloadSourceDuration", "FinalizingDuration", "InstallDuration",
			"PostBuildDuration", "PreBuildDuration", "ProvisioningDuration", "QueuedDuration", "SubmittedDuration", "UploadArtifactsDuration"),
		g(dims(d("ProjectName")), statsGauge, "CPUUtilized", "CPUUtilizedPercent", "MemoryUtilized", "MemoryUtilizedPercent"),
		g(dims(d("ProjectName")), statsCounter, "StorageReadBytes", "StorageWriteBytes"),
	)
}

// AWS/Athena: "Monitor Athena query metrics with CloudWatch",
// https://docs.aws.amazon.com/athena/latest/ug/query-metrics-viewing.html
// Published only for workgroups with "Publish query metrics to AWS
// CloudWatch", by WorkGroup, QueryState and QueryType.
func publishedAthena() Namespace {
	q := dims(d("WorkGroup", "QueryState", "QueryType"))
	return ns("AWS/Athena", "https://docs.aws.amazon.com/athena/latest/ug/query-metrics-viewing.html", oneMinute,
		g(q, statsGauge, "EngineExecutionTime", "QueryPlanningTime", "QueryQueueTime", "ServicePreProcessingTime",
			"ServiceProcessingTime", "TotalExecutionTime").needs("publish_metrics"),
		g(q, statsGaugeSum, "ProcessedBytes").needs("publish_metrics"),
	)
}
