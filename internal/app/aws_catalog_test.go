package app_test

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/awsint/catalog"
	"github.com/kansoku/kansoku/sim/awssim"
)

// everyProduct adds to a region, n times over, a resource of every kind
// the catalog collects, with every feature that makes AWS publish more
// (burstable and Nitro instances, each database engine, replicas and
// writers, every Firehose destination ...), so that every metric of the
// catalog has a resource AWS publishes it for. Global resources go to
// us-east-1, a bucket to eu-west-1.
func everyProduct(sc *awssim.Scenario, n int) {
	a := &sc.Accounts[0]
	if a.Regions == nil {
		a.Regions = map[string]*awssim.Region{}
	}
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		if a.Regions[r] == nil {
			a.Regions[r] = &awssim.Region{}
		}
	}
	rg, eu := a.Regions["us-east-1"], a.Regions["eu-west-1"]
	res := func(kind, name string, attrs map[string]string, subs map[string][]string, features ...string) awssim.Resource {
		return awssim.Resource{Kind: kind, Name: name, Attrs: attrs, Subs: subs, Features: features, Tags: awssim.Tags{"service": "foo"}}
	}
	for k := 0; k < n; k++ {
		x := func(s string) string { return fmt.Sprintf("%s-%d", s, k) }
		rg.Instances = append(rg.Instances,
			awssim.Instance{ID: fmt.Sprintf("i-%016xa", k), Type: "t3.micro", State: "running", Tags: awssim.Tags{"Name": x("burst")}},
			awssim.Instance{ID: fmt.Sprintf("i-%016xb", k), Type: "m5.large", State: "running", Tags: awssim.Tags{"Name": x("nitro")}},
			awssim.Instance{ID: fmt.Sprintf("i-%016xc", k), Type: "t2.micro", State: "running", Tags: awssim.Tags{"Name": x("xen")}})
		rg.ClassicELBs = append(rg.ClassicELBs, awssim.ClassicELB{Name: x("clb")})
		rg.LoadBalancers = append(rg.LoadBalancers, awssim.LoadBalancerV2{Name: x("alb"), Type: "application", TargetGroups: []string{x("web"), x("api")}},
			awssim.LoadBalancerV2{Name: x("nlb"), Type: "network", TargetGroups: []string{x("tcp")}})
		rg.DBInstances = append(rg.DBInstances,
			awssim.DBInstance{ID: x("mysql"), Engine: "mysql", Class: "db.m6g.large", StorageType: "gp2"},
			awssim.DBInstance{ID: x("mysql-replica"), Engine: "mysql", Class: "db.t4g.medium", ReplicaOf: x("mysql")},
			awssim.DBInstance{ID: x("pg"), Engine: "postgres", Class: "db.m6g.large"},
			awssim.DBInstance{ID: x("mssql"), Engine: "sqlserver-se", Class: "db.m5.large"},
			awssim.DBInstance{ID: x("am-w"), Engine: "aurora-mysql", Class: "db.r6g.large", Cluster: x("am")},
			awssim.DBInstance{ID: x("am-r"), Engine: "aurora-mysql", Class: "db.serverless", Cluster: x("am")},
			awssim.DBInstance{ID: x("ap-w"), Engine: "aurora-postgresql", Class: "db.r6g.large", Cluster: x("ap")},
			awssim.DBInstance{ID: x("doc-w"), Engine: "docdb", Class: "db.r6g.large", Cluster: x("doc")},
			awssim.DBInstance{ID: x("doc-r"), Engine: "docdb", Class: "db.t3.medium", Cluster: x("doc")},
			awssim.DBInstance{ID: x("graph"), Engine: "neptune", Class: "db.r6g.large"})
		rg.DBClusters = append(rg.DBClusters, awssim.DBCluster{ID: x("am"), Engine: "aurora-mysql", Features: []string{"backtrack"}},
			awssim.DBCluster{ID: x("ap"), Engine: "aurora-postgresql"}, awssim.DBCluster{ID: x("doc"), Engine: "docdb"})
		rg.LambdaFunctions = append(rg.LambdaFunctions, awssim.LambdaFunction{Name: x("fn"), Runtime: "python3.12", Aliases: []string{"live"},
			Features: []string{"dlq", "stream"}})
		rg.Queues = append(rg.Queues, awssim.Queue{Name: x("q")}, awssim.Queue{Name: x("q") + ".fifo"})
		rg.Tables = append(rg.Tables, awssim.Table{Name: x("provisioned"), Operations: []string{"GetItem", "Query"}, Features: []string{"ttl"}},
			awssim.Table{Name: x("on-demand"), BillingMode: "PAY_PER_REQUEST"})
		rg.Resources = append(rg.Resources,
			res("elasticache:cluster", x("redis-p"), map[string]string{"engine": "redis", "node_type": "cache.r6gd.xlarge", "replication_group": x("rg"), "role": "primary"}, nil, "global_datastore"),
			res("elasticache:cluster", x("redis-r"), map[string]string{"engine": "redis", "node_type": "cache.t3.micro", "replication_group": x("rg"), "role": "replica"}, nil),
			res("elasticache:cluster", x("memcached"), map[string]string{"engine": "memcached", "node_type": "cache.m6g.large", "nodes": "2"}, nil),
			res("elasticache:cluster", x("valkey"), map[string]string{"engine": "valkey", "node_type": "cache.r7g.large"}, nil),
			res("redshift:cluster", x("dwh"), map[string]string{"nodes": "2"}, nil),
			res("cloudfront:distribution", x("cdn"), nil, map[string][]string{"functions": {x("rewrite")}}, "additional_metrics"),
			res("apigateway:restapi", x("rest"), nil, map[string][]string{"stages": {"prod"}}),
			res("apigateway:api", x("http"), map[string]string{"protocol": "HTTP"}, map[string][]string{"stages": {"$default"}}),
			res("apigateway:api", x("ws"), map[string]string{"protocol": "WEBSOCKET"}, map[string][]string{"stages": {"prod"}}),
			res("kinesis:stream", x("stream"), nil, nil),
			res("s3:bucket", x("logs"), nil, nil, "request_metrics"),
			res("es:domain", x("search"), map[string]string{"engine": "OpenSearch_2.13", "instance_type": "t3.medium.search"}, nil, "dedicated_master"),
			res("es:domain", x("legacy-search"), map[string]string{"engine": "Elasticsearch_7.10", "instance_type": "r6g.large.search"}, nil),
			res("ecs:cluster", x("ec2-cluster"), nil, map[string][]string{"services": {"web", "worker"}}, "ec2_capacity"),
			res("ecs:cluster", x("fargate"), nil, map[string][]string{"services": {"api"}}),
			res("states:stateMachine", x("orders"), nil, map[string][]string{"activities": {x("approve")}, "lambdas": {x("fn")},
				"integrations": {"arn:aws:states:::sqs:sendMessage"}}),
			res("elasticfilesystem:file-system", x("share"), nil, nil),
			res("elasticfilesystem:file-system", x("scratch"), map[string]string{"performance_mode": "maxIO"}, nil),
			res("firehose:deliverystream", x("to-s3"), map[string]string{"destination": "s3"}, nil, "processing", "conversion", "backup", "dynamic_partitioning", "kinesis_source"),
			res("firehose:deliverystream", x("to-redshift"), map[string]string{"destination": "redshift"}, nil),
			res("firehose:deliverystream", x("to-os"), map[string]string{"destination": "opensearch"}, nil),
			res("firehose:deliverystream", x("to-es"), map[string]string{"destination": "elasticsearch"}, nil),
			res("firehose:deliverystream", x("to-splunk"), map[string]string{"destination": "splunk"}, nil),
			res("firehose:deliverystream", x("to-http"), map[string]string{"destination": "http_endpoint"}, nil),
			res("batch:job-queue", x("jobs"), map[string]string{"jobs.RUNNING": "3", "jobs.SUCCEEDED": "120", "jobs.FAILED": "2"}, nil),
			res("wafv2:webacl", x("api-acl"), nil, map[string][]string{"rules": {"rate-limit"}}),
			res("wafv2:webacl", x("cdn-acl"), map[string]string{"scope": "CLOUDFRONT"}, map[string][]string{"rules": {"geo"}}),
			res("waf:webacl", x("classic-acl"), nil, map[string][]string{"rules": {"blocklist"}}),
			res("waf-regional:webacl", x("classic-regional-acl"), nil, map[string][]string{"rules": {"sqli"}}),
			res("route53:healthcheck", x("www.example.com"), nil, nil, "latency"),
			res("route53:healthcheck", x("all-up"), nil, nil, "calculated"),
			res("route53:hostedzone", x("example.com"), nil, nil, "public"),
			res("connect:instance", x("callcenter"), nil, map[string][]string{"flows": {"Main"}, "queues": {"Support"}, "signing_keys": {"k1"}}),
			res("codebuild:project", x("build"), nil, nil),
			res("athena:workgroup", x("analytics"), nil, nil, "publish_metrics"),
			res("budgets:budget", x("monthly"), map[string]string{"limit": "1000", "actual": "420.5", "forecasted": "880"}, nil))
		eu.Resources = append(eu.Resources, res("s3:bucket", x("eu-archive"), nil, map[string][]string{"storage_types": {"StandardStorage", "StandardIAStorage"}}))
	}
	rg.Resources = append(rg.Resources,
		awssim.Resource{Kind: "ses:account", Name: "ses", Attrs: map[string]string{"max_24h_send": "50000", "max_send_rate": "14", "sent_last_24h": "1234"},
			Subs: map[string][]string{"rules": {"inbound"}}, Features: []string{"tracking"}},
		awssim.Resource{Kind: "billing:account", Name: "billing", Subs: map[string][]string{"linked_accounts": {"210987654321"}, "services": {"AmazonEC2"}}})
}

// TestAWSCatalogAgainstCloudWatch ties the catalog to what AWS publishes:
// with every product and every feature in the simulated account, every
// query of a poll returns data (a wrong metric name, dimension set or
// statistic finds none, as on AWS), with a statistic that makes sense and
// a period no finer than CloudWatch records the metric at; every metric
// of the catalog is asked for; every product's values and hosts appear;
// and the printed least-privilege policy is enough for all of it.
func TestAWSCatalogAgainstCloudWatch(t *testing.T) {
	e := startAWS(t)
	if err := e.sim.Update(func(sc *awssim.Scenario) { everyProduct(sc, 1) }); err != nil {
		t.Fatal(err)
	}
	services := map[string]any{}
	for _, k := range catalog.Keys() {
		services[k] = map[string]any{"enabled": true, "autoAddNewMetrics": false}
	}
	i := e.create(t, map[string]any{"name": "everything", "settings": map[string]any{"regions": []string{"us-east-1"}, "services": services}})
	if i.Status != "ACTIVE" {
		t.Fatalf("validation: %s %s", i.Status, i.StatusReason)
	}
	at := time.Now().Add(-20 * time.Minute)
	e.sim.ResetCalls()
	rep := e.poll(t, i.ID, at)
	if len(rep.Errors) > 0 {
		t.Fatalf("poll errors:\n%s", strings.Join(rep.Errors, "\n"))
	}

	// Every query has data, with a sensible statistic and period.
	asked := map[string]bool{}
	var bad []string
	for _, c := range e.sim.Calls() {
		if c.ErrorCode != "" && c.Action != "CreateInternetGateway" {
			t.Errorf("call refused: %+v", c)
		}
		for _, q := range c.MetricQueries {
			asked[q.Namespace+" "+q.MetricName+" "+q.Stat] = true
			pm, known := awssim.LookupPublished(q.Namespace, q.MetricName)
			switch {
			case !known:
				bad = append(bad, fmt.Sprintf("%s %s: AWS publishes no such metric", q.Namespace, q.MetricName))
			case !e.sim.Publishes(customerAccount, c.Region, q):
				bad = append(bad, fmt.Sprintf("%s %s %v in %s: no data (AWS publishes it with %v)", q.Namespace, q.MetricName, q.Dimensions, c.Region, formsOf(pm)))
			case !pm.StatMakesSense(q.Stat):
				bad = append(bad, fmt.Sprintf("%s %s: statistic %s (sensible: %v)", q.Namespace, q.MetricName, q.Stat, pm.Stats))
			case time.Duration(q.Period)*time.Second < pm.Resolution:
				bad = append(bad, fmt.Sprintf("%s %s: period %ds, finer than its %s resolution (datapoints would be lost)", q.Namespace, q.MetricName, q.Period, pm.Resolution))
			}
		}
	}
	sort.Strings(bad)
	for k, b := range bad {
		if k == 0 || b != bad[k-1] {
			t.Error(b)
		}
	}
	// Every metric of the catalog is asked for.
	for _, p := range catalog.All() {
		for _, s := range p.MetricSets {
			for _, m := range s.Metrics {
				for _, st := range m.Stats {
					if !asked[s.Namespace+" "+m.Name+" "+st] {
						t.Errorf("%s: %s %s (%s) was never asked for", p.Key, s.Namespace, m.Name, st)
					}
				}
			}
		}
	}
	// Every product has hosts; every value from an API was written.
	byProduct := map[string]int{}
	for _, h := range e.hosts(t, url.Values{"workspace": {e.ws}, "integration": {i.ID}}) {
		byProduct[h.Product]++
	}
	for _, k := range catalog.Keys() {
		if byProduct[k] == 0 {
			t.Errorf("no host of %s", k)
		}
	}
	for _, p := range catalog.All() {
		for _, a := range p.APIMetrics {
			code, r := get(t, e.s.Admin, "/workspaces/"+e.ws+"/api/v1/query", url.Values{"query": {"count(" + a.Name + ")"}, "time": {fmt.Sprint(at.Add(time.Minute).Unix())}})
			if code != 200 || !strings.Contains(string(r.Data), `"value"`) {
				t.Errorf("%s: %s was not written: %s", p.Key, a.Name, r.Data)
			}
		}
	}
	if rep.SamplesWritten == 0 || rep.MetricsRequested < 1000 {
		t.Errorf("report: %+v", rep)
	}
}

func formsOf(pm awssim.PublishedMetric) []string {
	var out []string
	for _, f := range pm.Forms {
		out = append(out, "{"+strings.Join(f.Dimensions, ",")+"}")
	}
	return out
}
