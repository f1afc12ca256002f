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
