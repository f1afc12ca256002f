package app_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/sim/awssim"
)

// These tests hold what Kansoku asks CloudWatch for against what AWS
// publishes, as the simulator's table (written from AWS's documentation,
// sim/awssim/published_data.go) says it: a query for a metric that does
// not exist with those dimensions is billed and never returns data.

// emptyQueries returns the GetMetricData queries of the calls recorded
// since the last ResetCalls that CloudWatch has no data for.
func emptyQueries(e *awsEnv, region string) []string {
	var out []string
	for _, c := range e.sim.Calls() {
		for _, q := range c.MetricQueries {
			if !e.sim.Publishes(customerAccount, region, q) {
				out = append(out, fmt.Sprintf("%s %s %v %s", q.Namespace, q.MetricName, q.Dimensions, q.Stat))
			}
		}
	}
	return out
}

// TestAWSDynamoDBRequestMetricsPerOperation: DynamoDB publishes
// ThrottledRequests and SystemErrors per table and operation only
// ("DynamoDB Metrics and dimensions"); a per-table query returns nothing.
func TestAWSDynamoDBRequestMetricsPerOperation(t *testing.T) {
	e := startAWS(t)
	i := e.create(t, map[string]any{"name": "ddb", "settings": map[string]any{"regions": []string{"us-east-1"},
		"services": map[string]any{"dynamodb": map[string]any{"enabled": true, "autoAddNewMetrics": false}}}})
	e.sim.ResetCalls()
	rep := e.poll(t, i.ID, time.Now().Add(-20*time.Minute))
	if len(rep.Errors) > 0 {
		t.Fatal(rep.Errors)
	}
	asked := map[string]bool{}
	for _, c := range e.sim.Calls() {
		for _, q := range c.MetricQueries {
			asked[q.MetricName] = true
		}
	}
	if !asked["ThrottledRequests"] || !asked["SystemErrors"] {
		t.Errorf("ThrottledRequests and SystemErrors are not collected: %v", asked)
	}
	if empty := emptyQueries(e, "us-east-1"); len(empty) > 0 {
		t.Errorf("queries CloudWatch has no data for:\n%s", strings.Join(empty, "\n"))
	}
}

// TestAWSRDSLeavesDocumentDBAndNeptune: DescribeDBInstances and
// DescribeDBClusters also list DocumentDB and Neptune, whose metrics are
// in AWS/DocDB and AWS/Neptune: they are no RDS hosts, and nothing is
// asked of AWS/RDS for them.
func TestAWSRDSLeavesDocumentDBAndNeptune(t *testing.T) {
	e := startAWS(t)
	if err := e.sim.Update(func(sc *awssim.Scenario) {
		rg := sc.Accounts[0].Regions["us-east-1"]
		rg.DBInstances = append(rg.DBInstances, awssim.DBInstance{ID: "docs-1", Engine: "docdb", Class: "db.r6g.large", Cluster: "docs"},
			awssim.DBInstance{ID: "graph-1", Engine: "neptune", Class: "db.r6g.large", Cluster: "graph"})
		rg.DBClusters = append(rg.DBClusters, awssim.DBCluster{ID: "docs", Engine: "docdb"}, awssim.DBCluster{ID: "graph", Engine: "neptune"})
	}); err != nil {
		t.Fatal(err)
	}
	i := e.create(t, map[string]any{"name": "rds", "settings": map[string]any{"regions": []string{"us-east-1"},
		"services": map[string]any{"rds": map[string]any{"enabled": true, "autoAddNewMetrics": false}}}})
	e.sim.ResetCalls()
	if rep := e.poll(t, i.ID, time.Now().Add(-20*time.Minute)); len(rep.Errors) > 0 {
		t.Fatal(rep.Errors)
	}
	for _, h := range e.hosts(t, url.Values{"workspace": {e.ws}, "product": {"rds"}}) {
		if strings.HasPrefix(h.Name, "docs") || strings.HasPrefix(h.Name, "graph") {
			t.Errorf("%s (%s) is an RDS host", h.Name, h.Metadata["engine"])
		}
	}
	for _, c := range e.sim.Calls() {
		for _, q := range c.MetricQueries {
			for _, v := range q.Dimensions {
				if strings.HasPrefix(v, "docs") || strings.HasPrefix(v, "graph") {
					t.Errorf("asked %s %s for %s", q.Namespace, q.MetricName, v)
				}
			}
		}
	}
}

// TestAWSAutoAddAsksOnlyWhatCloudWatchLists: "add new metrics
// automatically" requests a metric CloudWatch lists for a resource, with
// the dimensions it is listed with and a statistic that suits it, and
// nothing CloudWatch lists only for other dimension sets (DynamoDB's
// account-level UserErrors, RDS's per-engine aggregates).
func TestAWSAutoAddAsksOnlyWhatCloudWatchLists(t *testing.T) {
	e := startAWS(t)
	if err := e.sim.Update(func(sc *awssim.Scenario) {
		sc.Accounts[0].Regions["us-east-1"].ExtraMetrics = []awssim.ExtraMetric{
			{Namespace: "AWS/DynamoDB", Name: "FreshRequestCount"}, // a counter AWS adds, per table
			{Namespace: "AWS/RDS", Name: "FreshGauge"},             // a gauge, per instance
		}
	}); err != nil {
		t.Fatal(err)
	}
	i := e.create(t, map[string]any{"name": "auto", "settings": map[string]any{"regions": []string{"us-east-1"},
		"services": map[string]any{"dynamodb": map[string]any{"enabled": true, "autoAddNewMetrics": true},
			"rds": map[string]any{"enabled": true, "autoAddNewMetrics": true}}}})
	e.sim.ResetCalls()
	if rep := e.poll(t, i.ID, time.Now().Add(-20*time.Minute)); len(rep.Errors) > 0 {
		t.Fatal(rep.Errors)
	}
	stats := map[string]string{}
	for _, c := range e.sim.Calls() {
		for _, q := range c.MetricQueries {
			if strings.HasPrefix(q.MetricName, "Fresh") {
				stats[q.MetricName] = q.Stat
			}
		}
	}
	if stats["FreshRequestCount"] != "Sum" || stats["FreshGauge"] != "Average" {
		t.Errorf("new metrics' statistics: %v", stats)
	}
	if empty := emptyQueries(e, "us-east-1"); len(empty) > 0 {
		t.Errorf("queries CloudWatch has no data for:\n%s", strings.Join(empty, "\n"))
	}
}

// TestAWSGlobalProductsExtraTagsAndProductFilters: global products are
// read once, from us-east-1, whatever the integration's regions (a
// bucket's metrics from its own region); the integration's extra tags are
// on every host and series; a product's own tag filter narrows its
// resources beside the integration's.
func TestAWSGlobalProductsExtraTagsAndProductFilters(t *testing.T) {
	e := startAWS(t)
	if err := e.sim.Update(func(sc *awssim.Scenario) { everyProduct(sc, 1) }); err != nil {
		t.Fatal(err)
	}
	services := map[string]any{}
	for _, k := range []string{"cloudfront", "route53", "s3", "waf", "billing", "ec2"} {
		services[k] = map[string]any{"enabled": true, "autoAddNewMetrics": true}
	}
	i := e.create(t, map[string]any{"name": "global", "regions": []string{"ap-northeast-1"}, "settings": map[string]any{"services": services,
		"extraTags": map[string]string{"team": "shop"}}})
	at := time.Now().Add(-20 * time.Minute)
	e.sim.ResetCalls()
	if rep := e.poll(t, i.ID, at); len(rep.Errors) > 0 {
		t.Fatal(rep.Errors)
	}
	hs := e.hosts(t, url.Values{"workspace": {e.ws}, "integration": {i.ID}})
	regions := map[string]map[string]bool{}
	for _, h := range hs {
		if regions[h.Product] == nil {
			regions[h.Product] = map[string]bool{}
		}
		regions[h.Product][h.Region] = true
		if h.Tags["team"] != "shop" {
			t.Errorf("%s has no extra tag: %v", h.Name, h.Tags)
		}
		if h.Product == "waf" && h.Metadata["scope"] == "REGIONAL" {
			t.Errorf("a regional web ACL of a region the integration does not poll: %s", h.Name)
		}
	}
	for p, want := range map[string]string{"cloudfront": "us-east-1", "route53": "us-east-1", "billing": "us-east-1", "waf": "us-east-1"} {
		if len(regions[p]) != 1 || !regions[p][want] {
			t.Errorf("%s hosts in %v, want %s", p, regions[p], want)
		}
	}
	if !regions["s3"]["us-east-1"] || !regions["s3"]["eu-west-1"] || len(regions["ec2"]) != 0 {
		t.Errorf("hosts by region: %v", regions)
	}
	calls := map[string]int{}
	for _, c := range e.sim.Calls() {
		calls[c.Action+" "+c.Region]++
	}
	if calls["ListDistributions us-east-1"] != 1 || calls["ListBuckets us-east-1"] != 1 || calls["GetMetricData eu-west-1"] == 0 {
		t.Errorf("calls: %v", calls)
	}
	code, r := get(t, e.s.Admin, "/workspaces/"+e.ws+"/api/v1/query", url.Values{"query": {`count(aws_cloudfront_requests_sum{team="shop"})`},
		"time": {fmt.Sprint(at.Unix())}})
	if code != 200 || !strings.Contains(string(r.Data), `"value"`) {
		t.Errorf("series with the extra tag: %d %s", code, r.Data)
	}

	// Lambda's own filter excludes resize (service:foo) beside an empty
	// integration-wide one.
	j := e.create(t, map[string]any{"name": "lambdas", "settings": map[string]any{"regions": []string{"us-east-1"},
		"services": map[string]any{"lambda": map[string]any{"enabled": true, "autoAddNewMetrics": true, "tagFilter": "service:bar"}}}})
	rep := e.poll(t, j.ID, at)
	if len(rep.Errors) > 0 || rep.Excluded == 0 {
		t.Fatalf("report: %+v", rep)
	}
	for _, h := range e.hosts(t, url.Values{"workspace": {e.ws}, "integration": {j.ID}}) {
		if h.Tags["service"] != "bar" {
			t.Errorf("%s passed Lambda's filter: %v", h.Name, h.Tags)
		}
	}
}
