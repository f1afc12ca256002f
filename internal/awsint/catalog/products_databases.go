package catalog

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/docdb"
	docdbtypes "github.com/aws/aws-sdk-go-v2/service/docdb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	ectypes "github.com/aws/aws-sdk-go-v2/service/elasticache/types"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	rstypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"
)

// Databases: RDS (with Aurora), DocumentDB, ElastiCache, Redshift,
// DynamoDB and OpenSearch Service.

// rdsProduct: "RDS", https://mackerel.io/docs/entry/integrations/aws/rds
// (33 to 63 metrics per engine). Instances and clusters are hosts;
// DocumentDB and Neptune, which RDS's API also lists, are not RDS.
func rdsProduct() *Product {
	mysql, postgres := traits("mysql"), traits("postgres")
	aurora, rdsOnly := traits("aurora"), traits("rds")
	return &Product{
		Key: "rds", Name: "RDS", HostKind: Micro, HostUnit: "1 DB instance or cluster", AWSManagedPolicy: "AmazonRDSReadOnlyAccess",
		MackerelRetires: true, Actions: []string{"rds:DescribeDBInstances", "rds:DescribeDBClusters"}, Regional: discoverRDS,
		ARNDimensions: regexp.MustCompile(`:(?:db:(?P<DBInstanceIdentifier>[^:]+)|cluster:(?P<DBClusterIdentifier>[^:]+))$`),
		Labels: map[string]string{"engine": "Engine", "engine_version": "Engine version", "instance_class": "Class", "availability_zone": "Availability zone",
			"status": "Status", "endpoint": "Endpoint", "cluster": "Cluster", "reader_endpoint": "Reader endpoint", "members": "Members", "role": "Role"},
		MetricSets: []MetricSet{
			{Kind: "instance", Namespace: "AWS/RDS", Period: oneMinute, Dimensions: []string{"DBInstanceIdentifier"}, Metrics: all(
				ms("cpu", avg, "CPUUtilization"),
				needs(traits("burstable"), ms("cpu_credit", avg, "CPUCreditUsage", "CPUCreditBalance", "CPUSurplusCreditBalance", "CPUSurplusCreditsCharged")),
				ms("database_connections", avg, "DatabaseConnections"),
				needs(traits("rds", "mysql"), ms("connection_attempts", sum, "ConnectionAttempts")),
				ms("memory", avg, "FreeableMemory"),
				needs(traits("not_sqlserver"), ms("memory", avg, "SwapUsage")),
				needs(rdsOnly, ms("storage", avg, "FreeStorageSpace")),
				needs(aurora, ms("storage", avg, "FreeLocalStorage")),
				needs(mysql, ms("disk_usage", avg, "BinLogDiskUsage")),
				needs(postgres, ms("disk_usage", avg, "TransactionLogsDiskUsage", "ReplicationSlotDiskUsage")),
				ms("iops", avg, "ReadIOPS", "WriteIOPS"),
				ms("latency", avg, "ReadLatency", "WriteLatency"),
				ms("throughput", avg, "ReadThroughput", "WriteThroughput"),
				ms("network", avg, "NetworkReceiveThroughput", "NetworkTransmitThroughput"),
				ms("disk_queue", avg, "DiskQueueDepth"),
				needs(traits("rds", "gp2"), ms("burst_balance", avg, "BurstBalance")),
				needs(traits("rds", "ebs_balance"), ms("ebs_balance", avg, "EBSByteBalance%", "EBSIOBalance%")),
				needs(traits("rds", "replica"), ms("replica_lag", avg, "ReplicaLag")),
				needs(postgres, ms("transaction_ids", avg, "MaximumUsedTransactionIDs")),
				needs(traits("rds", "postgres"), ms("replication", avg, "OldestReplicationSlotLag", "TransactionLogsGeneration", "CheckpointLag")),
				needs(traits("sqlserver"), every(fiveMinutes, ms("agent_jobs", sum, "FailedSQLServerAgentJobsCount"))),
				// Aurora.
				needs(aurora, ms("aurora", avg, "BufferCacheHitRatio", "CommitLatency", "CommitThroughput", "Deadlocks", "EngineUptime")),
				needs(traits("aurora", "reader"), ms("aurora_replica_lag", avg, "AuroraReplicaLag")),
				needs(traits("aurora", "writer"), ms("aurora_replica_lag", avg, "AuroraReplicaLagMaximum", "AuroraReplicaLagMinimum")),
				needs(traits("aurora", "mysql"),
					ms("aurora_replica_lag", avg, "AuroraBinlogReplicaLag"),
					ms("aurora_latency", avg, "DDLLatency", "DMLLatency", "DeleteLatency", "InsertLatency", "SelectLatency", "UpdateLatency"),
					ms("aurora_throughput", avg, "DDLThroughput", "DMLThroughput", "DeleteThroughput", "InsertThroughput", "SelectThroughput", "UpdateThroughput", "Queries"),
					ms("aurora_transactions", avg, "ActiveTransactions", "BlockedTransactions", "LoginFailures", "AbortedClients", "RowLockTime"),
					ms("aurora", avg, "ResultSetCacheHitRatio")),
				needs(traits("aurora", "serverless"), ms("serverless", avg, "ServerlessDatabaseCapacity", "ACUUtilization", "TempStorageIOPS", "TempStorageThroughput")),
			)},
			{Kind: "cluster", Namespace: "AWS/RDS", Period: oneMinute, Dimensions: []string{"DBClusterIdentifier"}, Requires: aurora, Metrics: all(
				ms("volume", avg, "VolumeBytesUsed", "AuroraVolumeBytesLeftTotal"),
				every(fiveMinutes, ms("volume_iops", sum, "VolumeReadIOPs", "VolumeWriteIOPs")),
				ms("database_connections", avg, "DatabaseConnections"),
				ms("cpu", avg, "CPUUtilization"),
				needs(traits("backtrack"), ms("backtrack", avg, "BacktrackChangeRecordsCreationRate", "BacktrackChangeRecordsStored", "BacktrackWindowActual", "BacktrackWindowAlert")),
			)},
			// Backup storage: once a day.
			{Name: "backup", Kind: "cluster", Namespace: "AWS/RDS", Period: oneDay, Latest: 3 * oneDay, Dimensions: []string{"DBClusterIdentifier"}, Requires: aurora,
				Metrics: ms("backup_storage", avg, "BackupRetentionPeriodStorageUsed", "SnapshotStorageUsed", "TotalBackupStorageBilled")},
		},
	}
}

// engineTraits are the traits of a DB engine and instance class.
func engineTraits(engine, class string) []string {
	e := strings.ToLower(engine)
	var out []string
	switch {
	case strings.Contains(e, "mysql") || strings.Contains(e, "mariadb"):
		out = append(out, "mysql")
	case strings.Contains(e, "postgres"):
		out = append(out, "postgres")
	case strings.HasPrefix(e, "sqlserver"):
		out = append(out, "sqlserver")
	case strings.HasPrefix(e, "oracle"):
		out = append(out, "oracle")
	}
	if !strings.HasPrefix(e, "sqlserver") {
		out = append(out, "not_sqlserver")
	}
	if strings.HasPrefix(e, "aurora") {
		out = append(out, "aurora")
	} else {
		out = append(out, "rds")
	}
	if strings.HasPrefix(class, "db.t") {
		out = append(out, "burstable")
	}
	if class == "db.serverless" {
		out = append(out, "serverless")
	}
	return out
}

// notRDS are the engines RDS's API lists that are other products, with
// their own namespaces (AWS/DocDB, AWS/Neptune).
func notRDS(engine string) bool {
	e := strings.ToLower(engine)
	return e == "docdb" || e == "neptune"
}

func discoverRDS(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := rds.NewFromConfig(c.Config)
	var out []Resource
	roles := map[string]string{} // instance id -> writer or reader
	gc := pageGuard{what: "DescribeDBClusters"}
	pc := rds.NewDescribeDBClustersPaginator(rdsDescribeDBClusters(cl.DescribeDBClusters), &rds.DescribeDBClustersInput{MaxRecords: aws.Int32(100)})
	for pc.HasMorePages() {
		if err := gc.next(); err != nil {
			return nil, err
		}
		page, err := pc.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, cluster := range page.DBClusters {
			if notRDS(aws.ToString(cluster.Engine)) {
				continue
			}
			id := aws.ToString(cluster.DBClusterIdentifier)
			arn := aws.ToString(cluster.DBClusterArn)
			if arn == "" {
				arn = c.ARN("rds", "cluster:"+id)
			}
			members := make([]string, 0, len(cluster.DBClusterMembers))
			for _, mem := range cluster.DBClusterMembers {
				members = append(members, aws.ToString(mem.DBInstanceIdentifier))
				role := "reader"
				if aws.ToBool(mem.IsClusterWriter) {
					role = "writer"
				}
				roles[aws.ToString(mem.DBInstanceIdentifier)] = role
			}
			tr := engineTraits(aws.ToString(cluster.Engine), "")
			if aws.ToInt64(cluster.BacktrackWindow) > 0 {
				tr = append(tr, "backtrack")
			}
			md := map[string]string{"engine": aws.ToString(cluster.Engine), "engine_version": aws.ToString(cluster.EngineVersion),
				"status": aws.ToString(cluster.Status), "endpoint": aws.ToString(cluster.Endpoint),
				"reader_endpoint": aws.ToString(cluster.ReaderEndpoint), "members": strings.Join(members, ",")}
			out = append(out, Resource{Kind: "cluster", ARN: arn, Name: id, Traits: tr,
				Identifiers: nonEmpty(aws.ToString(cluster.Endpoint), aws.ToString(cluster.ReaderEndpoint), arn), Status: StatusWorking, Metadata: md,
				Tags: tagMap(cluster.TagList, func(t rdstypes.Tag) (string, string) { return aws.ToString(t.Key), aws.ToString(t.Value) })})
		}
	}
	gi := pageGuard{what: "DescribeDBInstances"}
	pi := rds.NewDescribeDBInstancesPaginator(rdsDescribeDBInstances(cl.DescribeDBInstances), &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(100)})
	for pi.HasMorePages() {
		if err := gi.next(); err != nil {
			return nil, err
		}
		page, err := pi.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, db := range page.DBInstances {
			if notRDS(aws.ToString(db.Engine)) {
				continue
			}
			id := aws.ToString(db.DBInstanceIdentifier)
			arn := aws.ToString(db.DBInstanceArn)
			if arn == "" {
				arn = c.ARN("rds", "db:"+id)
			}
			endpoint := ""
			if db.Endpoint != nil {
				endpoint = aws.ToString(db.Endpoint.Address)
			}
			status := StatusWorking
			switch aws.ToString(db.DBInstanceStatus) {
			case "stopped", "stopping":
				status = StatusPoweroff
			case "creating", "starting", "rebooting", "modifying", "backing-up", "maintenance", "upgrading":
				status = StatusStandby
			}
			tr := engineTraits(aws.ToString(db.Engine), aws.ToString(db.DBInstanceClass))
			if aws.ToString(db.ReadReplicaSourceDBInstanceIdentifier) != "" {
				tr = append(tr, "replica")
			}
			if aws.ToString(db.StorageType) == "gp2" {
				tr = append(tr, "gp2")
			}
			if !burstable(aws.ToString(db.DBInstanceClass)) {
				tr = append(tr, "ebs_balance")
			}
			if role := roles[id]; role != "" {
				tr = append(tr, role)
			}
			md := map[string]string{"engine": aws.ToString(db.Engine), "engine_version": aws.ToString(db.EngineVersion),
				"instance_class": aws.ToString(db.DBInstanceClass), "availability_zone": aws.ToString(db.AvailabilityZone),
				"status": aws.ToString(db.DBInstanceStatus), "endpoint": endpoint, "cluster": aws.ToString(db.DBClusterIdentifier), "role": roles[id]}
			out = append(out, Resource{Kind: "instance", ARN: arn, Name: id, Traits: tr, Identifiers: nonEmpty(endpoint, arn), Status: status, Metadata: md,
				Tags: tagMap(db.TagList, func(t rdstypes.Tag) (string, string) { return aws.ToString(t.Key), aws.ToString(t.Value) })})
		}
	}
	return out, nil
}

// docDBProduct: "DocumentDB", https://mackerel.io/docs/entry/integrations/aws/docdb
// (53 metrics; cluster metrics on the cluster's own host, as Kansoku does
// for Aurora).
func docDBProduct() *Product {
	return &Product{
		Key: "docdb", Name: "DocumentDB", HostKind: Micro, HostUnit: "1 instance or cluster", AWSManagedPolicy: "AmazonRDSReadOnlyAccess",
		Actions: []string{"rds:DescribeDBInstances", "rds:DescribeDBClusters"}, Regional: discoverDocDB,
		ARNDimensions: regexp.MustCompile(`:(?:db:(?P<DBInstanceIdentifier>[^:]+)|cluster:(?P<DBClusterIdentifier>[^:]+))$`),
		Labels: map[string]string{"engine_version": "Engine version", "instance_class": "Class", "availability_zone": "Availability zone",
			"status": "Status", "endpoint": "Endpoint", "cluster": "Cluster", "reader_endpoint": "Reader endpoint", "members": "Members", "role": "Role"},
		MetricSets: []MetricSet{
			{Kind: "instance", Namespace: "AWS/DocDB", Period: oneMinute, Dimensions: []string{"DBInstanceIdentifier"}, Metrics: all(
				ms("cpu", avg, "CPUUtilization"),
				ms("connections", sum, "DatabaseConnections", "DatabaseConnectionsMax"),
				ms("cursors", sum, "DatabaseCursors", "DatabaseCursorsMax", "DatabaseCursorsTimedOut"),
				ms("memory", avg, "FreeableMemory", "SwapUsage", "FreeLocalStorage"),
				ms("transactions", sum, "TransactionsOpen", "TransactionsOpenMax", "TransactionsStarted", "TransactionsCommitted", "TransactionsAborted"),
				needs(traits("reader"), ms("replica_lag", avg, "DBInstanceReplicaLag")),
				ms("opcounters", sum, "OpcountersCommand", "OpcountersDelete", "OpcountersGetmore", "OpcountersInsert", "OpcountersQuery", "OpcountersUpdate"),
				ms("latency", avg, "ReadLatency", "WriteLatency"),
				ms("iops", avg, "ReadIOPS", "WriteIOPS"),
				ms("documents", sum, "DocumentsDeleted", "DocumentsInserted", "DocumentsReturned", "DocumentsUpdated", "TTLDeletedDocuments"),
				ms("throughput", avg, "NetworkReceiveThroughput", "NetworkTransmitThroughput", "NetworkThroughput", "ReadThroughput", "WriteThroughput"),
				needs(traits("burstable"), every(fiveMinutes, ms("cpu_credit", avg, "CPUCreditUsage", "CPUCreditBalance", "CPUSurplusCreditBalance", "CPUSurplusCreditsCharged"))),
				ms("cache", avg, "BufferCacheHitRatio", "IndexBufferCacheHitRatio"),
				ms("low_memory", sum, "LowMemThrottleQueueDepth", "LowMemThrottleMaxQueueDepth", "LowMemNumOperationsThrottled"),
				ms("disk_queue", avg, "DiskQueueDepth"),
				ms("uptime", avg, "EngineUptime"),
			)},
			{Kind: "cluster", Namespace: "AWS/DocDB", Period: oneMinute, Dimensions: []string{"DBClusterIdentifier"}, Metrics: all(
				ms("cluster_replica_lag", avg, "DBClusterReplicaLagMaximum", "DBClusterReplicaLagMinimum"),
				every(fiveMinutes, ms("volume", sum, "VolumeBytesUsed", "VolumeReadIOPs", "VolumeWriteIOPs", "ChangeStreamLogSize")),
			)},
			{Name: "backup", Kind: "cluster", Namespace: "AWS/DocDB", Period: oneDay, Latest: 3 * oneDay, Dimensions: []string{"DBClusterIdentifier"},
				Metrics: ms("backup_storage", sum, "SnapshotStorageUsed", "TotalBackupStorageBilled", "BackupRetentionPeriodStorageUsed")},
		},
	}
}

func discoverDocDB(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := docdb.NewFromConfig(c.Config)
	engine := []docdbtypes.Filter{{Name: aws.String("engine"), Values: []string{"docdb"}}}
	var out []Resource
	roles := map[string]string{}
	gc := pageGuard{what: "DescribeDBClusters"}
	pc := docdb.NewDescribeDBClustersPaginator(docdbDescribeDBClusters(cl.DescribeDBClusters), &docdb.DescribeDBClustersInput{Filters: engine, MaxRecords: aws.Int32(100)})
	for pc.HasMorePages() {
		if err := gc.next(); err != nil {
			return nil, err
		}
		page, err := pc.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, cluster := range page.DBClusters {
			id := aws.ToString(cluster.DBClusterIdentifier)
			arn := aws.ToString(cluster.DBClusterArn)
			if arn == "" {
				arn = c.ARN("rds", "cluster:"+id)
			}
			var members []string
			for _, mem := range cluster.DBClusterMembers {
				members = append(members, aws.ToString(mem.DBInstanceIdentifier))
				role := "reader"
				if aws.ToBool(mem.IsClusterWriter) {
					role = "writer"
				}
				roles[aws.ToString(mem.DBInstanceIdentifier)] = role
			}
			out = append(out, Resource{Kind: "cluster", ARN: arn, Name: id, Identifiers: nonEmpty(aws.ToString(cluster.Endpoint), aws.ToString(cluster.ReaderEndpoint), arn),
				Status: StatusWorking, Metadata: map[string]string{"engine_version": aws.ToString(cluster.EngineVersion), "status": aws.ToString(cluster.Status),
					"endpoint": aws.ToString(cluster.Endpoint), "reader_endpoint": aws.ToString(cluster.ReaderEndpoint), "members": strings.Join(members, ",")}})
		}
	}
	gi := pageGuard{what: "DescribeDBInstances"}
	pi := docdb.NewDescribeDBInstancesPaginator(docdbDescribeDBInstances(cl.DescribeDBInstances), &docdb.DescribeDBInstancesInput{Filters: engine, MaxRecords: aws.Int32(100)})
	for pi.HasMorePages() {
		if err := gi.next(); err != nil {
			return nil, err
		}
		page, err := pi.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, db := range page.DBInstances {
			id := aws.ToString(db.DBInstanceIdentifier)
			arn := aws.ToString(db.DBInstanceArn)
			if arn == "" {
				arn = c.ARN("rds", "db:"+id)
			}
			endpoint := ""
			if db.Endpoint != nil {
				endpoint = aws.ToString(db.Endpoint.Address)
			}
			var tr []string
			if burstable(aws.ToString(db.DBInstanceClass)) {
				tr = append(tr, "burstable")
			}
			if role := roles[id]; role != "" {
				tr = append(tr, role)
			}
			status := StatusWorking
			if s := aws.ToString(db.DBInstanceStatus); s == "stopped" || s == "stopping" {
				status = StatusPoweroff
			}
			out = append(out, Resource{Kind: "instance", ARN: arn, Name: id, Traits: tr, Identifiers: nonEmpty(endpoint, arn), Status: status,
				Metadata: map[string]string{"engine_version": aws.ToString(db.EngineVersion), "instance_class": aws.ToString(db.DBInstanceClass),
					"availability_zone": aws.ToString(db.AvailabilityZone), "status": aws.ToString(db.DBInstanceStatus), "endpoint": endpoint,
					"cluster": aws.ToString(db.DBClusterIdentifier), "role": roles[id]}})
		}
	}
	return out, nil
}

// elastiCacheProduct: "ElastiCache", https://mackerel.io/docs/entry/integrations/aws/elasticache
// (one host per node; Memcached 48, Redis OSS 70, Valkey 89 metrics at
// most). Mackerel retires its hosts automatically too.
func elastiCacheProduct() *Product {
	cmds := []string{"GetTypeCmds", "SetTypeCmds", "KeyBasedCmds", "StringBasedCmds", "HashBasedCmds", "ListBasedCmds", "SetBasedCmds",
		"ClusterBasedCmds", "SortedSetBasedCmds", "EvalBasedCmds", "GeoSpatialBasedCmds", "HyperLogLogBasedCmds", "PubSubBasedCmds", "StreamBasedCmds"}
	valkeyCmds := []string{"JsonBasedCmds", "JsonBasedGetCmds", "JsonBasedSetCmds", "NonKeyTypeCmds"}
	latency := func(cs []string) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c + "Latency"
		}
		return out
	}
	redis, valkey := traits("redis"), traits("valkey")
	return &Product{
		Key: "elasticache", Name: "ElastiCache", HostKind: Micro, HostUnit: "1 node", AWSManagedPolicy: "AmazonElastiCacheReadOnlyAccess",
		MackerelRetires: true, TagTypes: []string{"elasticache:cluster"},
		Actions:  []string{"elasticache:DescribeCacheClusters", "elasticache:DescribeReplicationGroups"},
		Regional: discoverElastiCache,
		Labels: map[string]string{"engine": "Engine", "engine_version": "Engine version", "node_type": "Node type", "cluster": "Cluster",
			"node": "Node", "endpoint": "Endpoint", "replication_group": "Replication group", "role": "Role", "availability_zone": "Availability zone"},
		MetricSets: []MetricSet{{Kind: "node", Namespace: "AWS/ElastiCache", Period: oneMinute, Dimensions: []string{"CacheClusterId", "CacheNodeId"}, Metrics: all(
			ms("cpu", avg, "CPUUtilization"),
			needs(traits("burstable"), every(fiveMinutes, ms("cpu_credit", avg, "CPUCreditBalance", "CPUCreditUsage"))),
			ms("memory", avg, "SwapUsage", "FreeableMemory"),
			ms("network", avg, "NetworkBytesIn", "NetworkBytesOut"),
			ms("network_packets", sum, "NetworkPacketsIn", "NetworkPacketsOut"),
			ms("network_allowance", avg, "NetworkBandwidthInAllowanceExceeded", "NetworkBandwidthOutAllowanceExceeded",
				"NetworkConntrackAllowanceExceeded", "NetworkLinkLocalAllowanceExceeded", "NetworkPacketsPerSecondAllowanceExceeded"),
			// Memcached.
			needs(traits("memcached"),
				ms("memcached_cmds", avg, "CmdGet", "CmdSet", "CmdFlush", "CmdTouch", "CmdConfigGet", "CmdConfigSet"),
				ms("memcached_hits", avg, "GetHits", "GetMisses", "DeleteHits", "DeleteMisses", "IncrHits", "IncrMisses", "DecrHits", "DecrMisses",
					"CasBadval", "CasHits", "CasMisses", "TouchHits", "TouchMisses"),
				ms("memcached_evictions", avg, "Evictions", "EvictedUnfetched", "ExpiredUnfetched"),
				ms("memcached_bytes", avg, "BytesReadIntoMemcached", "BytesWrittenOutFromMemcached", "UnusedMemory", "BytesUsedForHash", "BytesUsedForCacheItems"),
				ms("memcached_connections", avg, "CurrConnections", "NewConnections"),
				ms("memcached_items", avg, "CurrItems", "NewItems", "Reclaimed", "CurrConfig", "SlabsMoved")),
			// Redis OSS and Valkey.
			needs(redis,
				ms("redis_cmds", avg, cmds...),
				ms("redis_cmd_latency", avg, latency(cmds)...),
				ms("redis_hits", avg, "CacheHits", "CacheMisses", "Evictions"),
				ms("redis_auth", sum, "AuthenticationFailures", "CommandAuthorizationFailures", "KeyAuthorizationFailures"),
				ms("redis", avg, "BytesUsedForCache", "EngineCPUUtilization", "IsMaster", "CurrConnections", "NewConnections", "CurrItems",
					"CurrVolatileItems", "Reclaimed", "CacheHitRate", "DatabaseMemoryUsagePercentage", "DB0AverageTTL", "MemoryFragmentationRatio"),
				ms("redis_keys", sum, "KeysTracked", "ActiveDefragHits"),
				ms("redis_save", maximum, "SaveInProgress")),
			needs(traits("redis", "replica"), ms("redis_replication", avg, "ReplicationLag", "MasterLinkHealthStatus")),
			needs(traits("redis", "primary"), ms("redis_replication", avg, "ReplicationBytes")),
			needs(traits("redis", "data_tiering"), ms("redis_disk", avg, "BytesReadFromDisk", "BytesWrittenToDisk", "NumItemsReadFromDisk", "NumItemsWrittenToDisk")),
			needs(valkey,
				ms("valkey_cmds", avg, valkeyCmds...),
				ms("valkey_cmd_latency", avg, latency(valkeyCmds)...),
				ms("valkey_errors", sum, "ErrorCount", "IamAuthenticationExpirations", "IamAuthenticationThrottling", "ChannelAuthorizationFailures"),
				ms("valkey", avg, "DatabaseMemoryUsageCountedForEvictPercentage", "DatabaseCapacityUsagePercentage",
					"DatabaseCapacityUsageCountedForEvictPercentage", "TrafficManagementActive", "SuccessfulWriteRequestLatency", "SuccessfulReadRequestLatency")),
			needs(traits("redis", "global_datastore", "primary"), ms("redis_replication", avg, "GlobalDatastoreReplicationLag")),
		)}},
	}
}

func discoverElastiCache(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := elasticache.NewFromConfig(c.Config)
	roles := map[string]string{} // cache cluster id -> primary or replica
	global := map[string]bool{}  // replication group id -> in a global datastore
	gr := pageGuard{what: "DescribeReplicationGroups"}
	pr := elasticache.NewDescribeReplicationGroupsPaginator(elasticacheDescribeReplicationGroups(cl.DescribeReplicationGroups), &elasticache.DescribeReplicationGroupsInput{MaxRecords: aws.Int32(100)})
	for pr.HasMorePages() {
		if err := gr.next(); err != nil {
			return nil, err
		}
		page, err := pr.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range page.ReplicationGroups {
			global[aws.ToString(g.ReplicationGroupId)] = g.GlobalReplicationGroupInfo != nil && aws.ToString(g.GlobalReplicationGroupInfo.GlobalReplicationGroupId) != ""
			for _, ng := range g.NodeGroups {
				for _, m := range ng.NodeGroupMembers {
					roles[aws.ToString(m.CacheClusterId)] = aws.ToString(m.CurrentRole)
				}
			}
		}
	}
	var out []Resource
	g := pageGuard{what: "DescribeCacheClusters"}
	p := elasticache.NewDescribeCacheClustersPaginator(elasticacheDescribeCacheClusters(cl.DescribeCacheClusters), &elasticache.DescribeCacheClustersInput{ShowCacheNodeInfo: aws.Bool(true), MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, cc := range page.CacheClusters {
			out = append(out, elastiCacheNodes(c, cc, roles, global)...)
		}
	}
	return out, nil
}

// elastiCacheNodes makes one host of each node of a cache cluster.
func elastiCacheNodes(c *Clients, cc ectypes.CacheCluster, roles map[string]string, global map[string]bool) []Resource {
	id := aws.ToString(cc.CacheClusterId)
	clusterARN := aws.ToString(cc.ARN)
	if clusterARN == "" {
		clusterARN = c.ARN("elasticache", "cluster:"+id)
	}
	engine := aws.ToString(cc.Engine)
	nodeType := aws.ToString(cc.CacheNodeType)
	tr := []string{engine}
	if engine == "valkey" {
		tr = append(tr, "redis")
	}
	if burstable(nodeType) {
		tr = append(tr, "burstable")
	}
	if strings.Contains(nodeType, "gd.") {
		tr = append(tr, "data_tiering")
	}
	if role := roles[id]; role != "" {
		tr = append(tr, role)
	}
	if global[aws.ToString(cc.ReplicationGroupId)] {
		tr = append(tr, "global_datastore")
	}
	status := StatusWorking
	if s := aws.ToString(cc.CacheClusterStatus); s != "available" {
		status = StatusStandby
	}
	var out []Resource
	for _, n := range cc.CacheNodes {
		node := aws.ToString(n.CacheNodeId)
		endpoint := ""
		if n.Endpoint != nil {
			endpoint = aws.ToString(n.Endpoint.Address)
		}
		name := id
		if len(cc.CacheNodes) > 1 {
			name = id + "-" + node
		}
		out = append(out, Resource{Kind: "node", ARN: clusterARN + "/node/" + node, TagARN: clusterARN, Name: name, Traits: tr,
			Dimensions:  map[string]string{"CacheClusterId": id, "CacheNodeId": node},
			Identifiers: nonEmpty(endpoint, clusterARN+"/node/"+node), Status: status,
			Metadata: map[string]string{"engine": engine, "engine_version": aws.ToString(cc.EngineVersion), "node_type": nodeType, "cluster": id, "node": node,
				"endpoint": endpoint, "replication_group": aws.ToString(cc.ReplicationGroupId), "role": roles[id], "availability_zone": aws.ToString(n.CustomerAvailabilityZone)}})
	}
	return out
}

// redshiftProduct: "Redshift", https://mackerel.io/docs/entry/integrations/aws/redshift
// (24 + 2 × WLM queues + 1 × service classes + 10 × nodes; query metrics
// every 5 minutes).
func redshiftProduct() *Product {
	c := []string{"ClusterIdentifier"}
	return &Product{
		Key: "redshift", Name: "Redshift", HostKind: Micro, HostUnit: "1 cluster", AWSManagedPolicy: "AmazonRedshiftReadOnlyAccess",
		Actions: []string{"redshift:DescribeClusters"}, Regional: discoverRedshift,
		ARNDimensions: regexp.MustCompile(`:cluster:(?P<ClusterIdentifier>[^:]+)$`),
		Labels:        map[string]string{"node_type": "Node type", "nodes": "Nodes", "status": "Status", "endpoint": "Endpoint", "availability_zone": "Availability zone"},
		MetricSets: []MetricSet{
			{Namespace: "AWS/Redshift", Period: oneMinute, Dimensions: c, Metrics: all(
				ms("cpu", avg, "CPUUtilization"),
				ms("connections", avg, "DatabaseConnections"),
				ms("status", avg, "HealthStatus", "MaintenanceMode"),
				ms("network", avg, "NetworkReceiveThroughput", "NetworkTransmitThroughput"),
				ms("disk", avg, "PercentageDiskSpaceUsed"),
				ms("tables", avg, "TotalTableCount"))},
			{Name: "node", Namespace: "AWS/Redshift", Period: oneMinute, Dimensions: []string{"ClusterIdentifier", "NodeID"}, Metrics: all(
				ms("node_cpu", avg, "CPUUtilization"),
				ms("node_network", avg, "NetworkReceiveThroughput", "NetworkTransmitThroughput"),
				ms("node_disk", avg, "PercentageDiskSpaceUsed", "ReadIOPS", "WriteIOPS", "ReadLatency", "WriteLatency", "ReadThroughput", "WriteThroughput"))},
			{Name: "latency", Namespace: "AWS/Redshift", Period: fiveMinutes, Dimensions: []string{"ClusterIdentifier", "latency"},
				Metrics: ms("queries", avg, "QueriesCompletedPerSecond", "QueryDuration")},
			{Name: "stage", Namespace: "AWS/Redshift", Period: fiveMinutes, Dimensions: []string{"ClusterIdentifier", "stage"},
				Metrics: ms("query_runtime", avg, "QueryRuntimeBreakdown")},
			{Name: "wlm", Namespace: "AWS/Redshift", Period: fiveMinutes, Dimensions: []string{"ClusterIdentifier", "wlmid"},
				Metrics: ms("wlm_queries", avg, "WLMQueriesCompletedPerSecond", "WLMQueryDuration")},
			{Name: "service_class", Namespace: "AWS/Redshift", Period: oneMinute, Dimensions: []string{"ClusterIdentifier", "service class"},
				Metrics: ms("wlm_queue", avg, "WLMQueueLength")},
		},
	}
}

func discoverRedshift(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := redshift.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "DescribeClusters"}
	p := redshift.NewDescribeClustersPaginator(redshiftDescribeClusters(cl.DescribeClusters), &redshift.DescribeClustersInput{MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, cl := range page.Clusters {
			id := aws.ToString(cl.ClusterIdentifier)
			arn := c.ARN("redshift", "cluster:"+id)
			endpoint := ""
			if cl.Endpoint != nil {
				endpoint = aws.ToString(cl.Endpoint.Address)
			}
			status := StatusWorking
			switch aws.ToString(cl.ClusterStatus) {
			case "paused":
				status = StatusPoweroff
			case "creating", "modifying", "rebooting", "resizing":
				status = StatusStandby
			}
			out = append(out, Resource{ARN: arn, Name: id, Identifiers: nonEmpty(endpoint, arn), Status: status,
				Tags: tagMap(cl.Tags, func(t rstypes.Tag) (string, string) { return aws.ToString(t.Key), aws.ToString(t.Value) }),
				Metadata: map[string]string{"node_type": aws.ToString(cl.NodeType), "nodes": strconv.Itoa(int(aws.ToInt32(cl.NumberOfNodes))),
					"status": aws.ToString(cl.ClusterStatus), "endpoint": endpoint, "availability_zone": aws.ToString(cl.AvailabilityZone)}})
		}
	}
	return out, nil
}

// dynamoDBProduct: "DynamoDB", https://mackerel.io/docs/entry/integrations/aws/dynamodb
// (table metrics, and 6 per operation: request metrics are published per
// table and operation only; UserErrors is account-wide, on no table).
func dynamoDBProduct() *Product {
	return &Product{
		Key: "dynamodb", Name: "DynamoDB", HostKind: Micro, HostUnit: "1 table", AWSManagedPolicy: "AmazonDynamoDBReadOnlyAccess",
		TagTypes: []string{"dynamodb:table"}, Actions: []string{"dynamodb:ListTables"}, Regional: discoverDynamoDB,
		ARNDimensions: regexp.MustCompile(`:table/(?P<TableName>[^/]+)$`),
		MetricSets: []MetricSet{
			{Namespace: "AWS/DynamoDB", Period: oneMinute, Dimensions: []string{"TableName"}, Metrics: all(
				ms("capacity", sum, "ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"),
				ms("throttle_events", sum, "ReadThrottleEvents", "WriteThrottleEvents"),
				ms("requests", sum, "ConditionalCheckFailedRequests", "TransactionConflict"))},
			// Provisioned capacity (every 5 minutes) exists for tables in
			// provisioned mode only; TTL deletions for tables with TTL on.
			{Name: "provisioned", Namespace: "AWS/DynamoDB", Period: fiveMinutes, Dimensions: []string{"TableName"}, Listed: true,
				Metrics: ms("capacity", avg, "ProvisionedReadCapacityUnits", "ProvisionedWriteCapacityUnits")},
			{Name: "ttl", Namespace: "AWS/DynamoDB", Period: oneMinute, Dimensions: []string{"TableName"}, Listed: true,
				Metrics: ms("ttl", sum, "TimeToLiveDeletedItemCount")},
			{Name: "operation", Namespace: "AWS/DynamoDB", Period: oneMinute, Dimensions: []string{"TableName", "Operation"}, Metrics: all(
				ms("operation_latency", []string{Min, Avg, Max, SC}, "SuccessfulRequestLatency"),
				ms("operation_items", minAvgMax, "ReturnedItemCount"),
				ms("operation_errors", sum, "ThrottledRequests", "SystemErrors"))},
		},
	}
}

func discoverDynamoDB(ctx context.Context, c *Clients) ([]Resource, error) {
	cl := dynamodb.NewFromConfig(c.Config)
	var out []Resource
	g := pageGuard{what: "ListTables"}
	p := dynamodb.NewListTablesPaginator(dynamodbListTables(cl.ListTables), &dynamodb.ListTablesInput{Limit: aws.Int32(100)})
	for p.HasMorePages() {
		if err := g.next(); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, name := range page.TableNames {
			arn := c.ARN("dynamodb", "table/"+name)
			out = append(out, Resource{ARN: arn, Name: name, Identifiers: nonEmpty(arn), Status: StatusWorking})
		}
	}
	return out, nil
}

// openSearchProduct: "OpenSearch Service", https://mackerel.io/docs/entry/integrations/aws/es
// (cluster metrics by DomainName and ClientId; a domain's ARN is its
// custom_identifier, as Mackerel's FAQ shows).
func openSearchProduct() *Product {
	es, os := traits("elasticsearch"), traits("opensearch")
	threadpools := []string{}
	for _, p := range []string{"Index", "Search", "Force_merge", "sql-worker", "Bulk", "Write"} {
		threadpools = append(threadpools, "Threadpool"+p+"Queue", "Threadpool"+p+"Rejected", "Threadpool"+p+"Threads")
	}
	dims := []string{"DomainName", "ClientId"}
	return &Product{
		Key: "es", Name: "OpenSearch Service", HostKind: Micro, HostUnit: "1 domain", AWSManagedPolicy: "AmazonOpenSearchServiceReadOnlyAccess",
		TagTypes: []string{"es:domain"}, Actions: []string{"es:ListDomainNames"}, Regional: discoverOpenSearch,
		ARNDimensions: regexp.MustCompile(`:domain/(?P<DomainName>[^/]+)$`),
		Labels:        map[string]string{"engine": "Engine"},
		MetricSets: []MetricSet{
			{Namespace: "AWS/ES", Period: oneMinute, Dimensions: dims, Metrics: all(
				ms("cluster_status", minimum, "ClusterStatus.green"),
				ms("cluster_status", maximum, "ClusterStatus.yellow", "ClusterStatus.red"),
				ms("shards", sum, "Shards.active", "Shards.unassigned", "Shards.delayedUnassigned", "Shards.activePrimary", "Shards.initializing", "Shards.relocating"),
				ms("nodes", minimum, "Nodes"),
				ms("documents", avg, "SearchableDocuments", "DeletedDocuments"),
				ms("cpu", []string{Max, Avg}, "CPUUtilization"),
				ms("storage", []string{Max, Avg, Min, Sum}, "FreeStorageSpace"),
				ms("storage", []string{Max, Min}, "ClusterUsedSpace"),
				ms("health", maximum, "ClusterIndexWritesBlocked", "JVMMemoryPressure", "OldGenJVMMemoryPressure", "AutomatedSnapshotFailure", "KMSKeyError", "KMSKeyInaccessible"),
				needs(es, ms("health", minimum, "KibanaHealthyNodes", "MasterReachableFromNode"), ms("requests", sum, "ElasticsearchRequests")),
				needs(os, ms("dashboards", minAvgMax, "OpenSearchDashboardsHealthyNodes"), ms("requests", sum, "OpenSearchRequests"),
					ms("dashboards", sum, "OpensearchDashboardsReportingFailedRequestSysErrCount", "OpensearchDashboardsReportingFailedRequestUserErrCount",
						"OpensearchDashboardsReportingRequestCount", "OpensearchDashboardsReportingSuccessCount", "OpenSearchDashboardsRequestTotal"),
					ms("dashboards", maximum, "OpenSearchDashboardsConcurrentConnections", "OpenSearchDashboardsHeapTotal", "OpenSearchDashboardsHeapUsed",
						"OpenSearchDashboardsHeapUtilization", "OpenSearchDashboardsResponseTimesMaxInMillis"),
					ms("dashboards", avg, "OpenSearchDashboardsOS1MinuteLoad")),
				ms("requests", sum, "InvalidHostHeaderRequests", "2xx", "3xx", "4xx", "5xx"),
				ms("throttle", []string{Min, Max}, "ThroughputThrottle"),
				ms("ebs", minAvgMax, "DiskQueueDepth", "BurstBalance", "ReadLatency", "WriteLatency", "ReadThroughput", "WriteThroughput",
					"ReadThroughputMicroBursting", "WriteThroughputMicroBursting", "ReadIOPS", "WriteIOPS", "ReadIOPSMicroBursting", "WriteIOPSMicroBursting"),
				ms("indexing", avg, "IndexingLatency", "SearchLatency", "IndexingRate", "SearchRate"),
				ms("segments", []string{Max, Avg}, "SegmentCount"),
				ms("memory", minAvgMax, "SysMemoryUtilization"),
				ms("jvm_gc", maximum, "JVMGCYoungCollectionCount", "JVMGCOldCollectionCount", "JVMGCYoungCollectionTime", "JVMGCOldCollectionTime"),
				ms("tasks", sum, "SearchTaskCancelled", "SearchShardTaskCancelled"),
				ms("threadpool", maximum, threadpools...),
				ms("write_rejected", maximum, "CoordinatingWriteRejected", "PrimaryWriteRejected", "ReplicaWriteRejected"),
			)},
			// Dedicated master nodes and T instances: only where configured.
			{Name: "master", Namespace: "AWS/ES", Period: oneMinute, Dimensions: dims, Listed: true, Metrics: all(
				ms("master", avg, "MasterCPUUtilization"),
				ms("master", maximum, "MasterJVMMemoryPressure", "MasterOldGenJVMMemoryPressure", "MasterSysMemoryUtilization"),
				ms("master", minimum, "MasterCPUCreditBalance"))},
			{Name: "credits", Namespace: "AWS/ES", Period: oneMinute, Dimensions: dims, Listed: true, Metrics: ms("cpu_credit", minimum, "CPUCreditBalance")},
		},
	}
}

func discoverOpenSearch(ctx context.Context, c *Clients) ([]Resource, error) {
	out, err := opensearch.NewFromConfig(c.Config).ListDomainNames(ctx, &opensearch.ListDomainNamesInput{})
	if err != nil {
		return nil, err
	}
	var rs []Resource
	for _, d := range out.DomainNames {
		name := aws.ToString(d.DomainName)
		arn := c.ARN("es", "domain/"+name)
		engine := strings.ToLower(string(d.EngineType))
		if engine == "" {
			engine = "opensearch"
		}
		rs = append(rs, Resource{ARN: arn, Name: name, Traits: []string{engine}, Dimensions: map[string]string{"ClientId": c.AccountID},
			Identifiers: nonEmpty(arn), Status: StatusWorking, Metadata: map[string]string{"engine": string(d.EngineType)}})
	}
	return rs, nil
}
