package awssim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/encoding/cbor"
)

func demoCW(t *testing.T, ts *httptest.Server, region, role string) *cloudwatch.Client {
	t.Helper()
	ext := demoExternalID
	if role == "KansokuMetricsOnly" {
		ext = ""
	}
	return cloudwatch.NewFromConfig(demoConfig(ts, region, demoRoleCreds(t, ts, region, role, ext)))
}

// cwKey names a metric: namespace, name and sorted dimensions.
func cwKey(ns, name string, dims map[string]string) string {
	return ns + " " + name + " " + strings.ReplaceAll(dimsKey(dims), "\x00", ",")
}

func cwDims(dims []cwtypes.Dimension) map[string]string {
	m := map[string]string{}
	for _, d := range dims {
		m[aws.ToString(d.Name)] = aws.ToString(d.Value)
	}
	return m
}

func cwSDKDims(dims map[string]string) []cwtypes.Dimension {
	var out []cwtypes.Dimension
	for k, v := range dims {
		out = append(out, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	return out
}

// listAll pages through ListMetrics.
func listAll(t *testing.T, c *cloudwatch.Client, in *cloudwatch.ListMetricsInput) ([]string, int) {
	t.Helper()
	var out []string
	pages := 0
	p := cloudwatch.NewListMetricsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, m := range page.Metrics {
			out = append(out, cwKey(aws.ToString(m.Namespace), aws.ToString(m.MetricName), cwDims(m.Dimensions)))
		}
	}
	sort.Strings(out)
	return out, pages
}

// expectedMetrics lists the metrics of the demo's resources in region.
func expectedMetrics(sim *Server, region string, keep func(MetricResource, string) bool) []string {
	var out []string
	for _, r := range sim.MetricResources(demoAccount, region) {
		for _, m := range r.Metrics {
			if keep == nil || keep(r, m) {
				out = append(out, cwKey(r.Namespace, m, r.Dimensions))
			}
		}
	}
	sort.Strings(out)
	return out
}

// allSeries lists every metric CloudWatch has for the demo account in
// region, as listAll renders them.
func allSeries(sim *Server, region string) []string {
	var out []string
	sim.read(func(sc *Scenario) {
		for _, sr := range buildSeriesIndex(region, demoAccount, sc.account(demoAccount).Regions[region]).sorted {
			out = append(out, cwKey(sr.namespace, sr.metric, sr.dims))
		}
	})
	sort.Strings(out)
	return out
}

func TestListMetrics(t *testing.T) {
	sim, ts := newDemoSim(t)
	c := demoCW(t, ts, demoRegion, "KansokuIntegration")

	// Every resource's own metrics are listed (with the aggregates and
	// sub-resource dimensions AWS publishes beside them).
	for _, ns := range []string{"AWS/EC2", "AWS/ELB", "AWS/ApplicationELB", "AWS/NetworkELB", "AWS/RDS", "AWS/Lambda", "AWS/SQS", "AWS/DynamoDB"} {
		got, _ := listAll(t, c, &cloudwatch.ListMetricsInput{Namespace: aws.String(ns)})
		listed := map[string]bool{}
		for _, k := range got {
			listed[k] = true
		}
		want := expectedMetrics(sim, demoRegion, func(r MetricResource, _ string) bool { return r.Namespace == ns })
		for _, k := range want {
			if !listed[k] {
				t.Errorf("%s: %s not listed", ns, k)
			}
		}
		if len(want) == 0 {
			t.Errorf("%s: no metric", ns)
		}
	}
	// What AWS documents: credit metrics for burstable instances only,
	// AuroraReplicaLag on readers only, DynamoDB's request metrics per
	// operation only.
	for _, r := range sim.MetricResources(demoAccount, demoRegion) {
		if r.Namespace != "AWS/EC2" {
			continue
		}
		id := r.Dimensions["InstanceId"]
		got, _ := listAll(t, c, &cloudwatch.ListMetricsInput{Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("InstanceId"), Value: aws.String(id)}}})
		if len(got) != len(r.Metrics) || !strings.Contains(got[0], "InstanceId="+id) {
			t.Errorf("instance %s: %v, want %v", id, got, r.Metrics)
		}
		credits := false
		for _, m := range r.Metrics {
			credits = credits || m == "CPUCreditBalance"
		}
		var typ string
		for _, in := range loadDemoScenario(t).Accounts[0].Regions[demoRegion].Instances {
			if in.ID == id {
				typ = in.Type
			}
		}
		if credits != strings.HasPrefix(typ, "t") {
			t.Errorf("instance %s (%s): CPU credits listed: %v", id, typ, credits)
		}
	}
	got, _ := listAll(t, c, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/EC2"), MetricName: aws.String("MetadataNoToken"),
		Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("InstanceId")}}})
	if len(got) != 7 {
		t.Errorf("MetadataNoToken: %v", got)
	}
	got, _ = listAll(t, c, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/RDS"), MetricName: aws.String("AuroraReplicaLag")})
	if !reflect.DeepEqual(got, []string{"AWS/RDS AuroraReplicaLag DBInstanceIdentifier=aurora-main-2,"}) {
		t.Errorf("AuroraReplicaLag: %v", got)
	}
	got, _ = listAll(t, c, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String("ThrottledRequests")})
	if len(got) == 0 {
		t.Error("no ThrottledRequests")
	}
	for _, k := range got {
		if !strings.Contains(k, "Operation=") {
			t.Errorf("ThrottledRequests without an operation: %s", k)
		}
	}

	// Dimension filters: a name alone, or a name and value.
	got, _ = listAll(t, c, &cloudwatch.ListMetricsInput{Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("DBClusterIdentifier")}}})
	volume := false
	for _, k := range got {
		if !strings.Contains(k, "DBClusterIdentifier=aurora-main") {
			t.Errorf("DBClusterIdentifier filter: %s", k)
		}
		volume = volume || strings.HasPrefix(k, "AWS/RDS VolumeBytesUsed DBClusterIdentifier=aurora-main,")
	}
	if !volume {
		t.Errorf("DBClusterIdentifier: %v", got)
	}

	// RecentlyActive leaves out instances that publish nothing.
	ec2All, _ := listAll(t, c, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/EC2"), Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("InstanceId")}}})
	got, _ = listAll(t, c, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/EC2"), Dimensions: []cwtypes.DimensionFilter{{Name: aws.String("InstanceId")}},
		RecentlyActive: cwtypes.RecentlyActivePt3h})
	if len(got) == 0 || len(got) >= len(ec2All) {
		t.Errorf("recently active EC2 metrics: %d of %d", len(got), len(ec2All))
	}

	// Everything, in several pages; and nothing of another account's region.
	all, pages := listAll(t, c, &cloudwatch.ListMetricsInput{})
	if want := allSeries(sim, demoRegion); !reflect.DeepEqual(all, want) || pages != (len(want)+499)/500 {
		t.Errorf("all: %d pages, %d metrics, want %d", pages, len(all), len(want))
	}
	if err := sim.Update(func(sc *Scenario) {
		rg := sc.account(demoAccount).Regions[demoRegion]
		for i := 0; i < 60; i++ {
			rg.Queues = append(rg.Queues, Queue{Name: fmt.Sprintf("bulk-%02d", i)})
		}
	}); err != nil {
		t.Fatal(err)
	}
	all, pages = listAll(t, c, &cloudwatch.ListMetricsInput{})
	if want := allSeries(sim, demoRegion); !reflect.DeepEqual(all, want) || pages != (len(want)+499)/500 || pages < 2 {
		t.Errorf("all: %d pages, %d metrics, want %d", pages, len(all), len(want))
	}

	// A deleted resource's metrics are gone.
	if err := sim.Update(func(sc *Scenario) {
		rg := sc.account(demoAccount).Regions[demoRegion]
		rg.Tables = rg.Tables[1:] // sessions
	}); err != nil {
		t.Fatal(err)
	}
	got, _ = listAll(t, c, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/DynamoDB")})
	if !strings.Contains(strings.Join(got, " "), "TableName=events") || strings.Contains(strings.Join(got, " "), "sessions") {
		t.Errorf("after deleting the table: %v", got)
	}

	// Bad token.
	_, err := c.ListMetrics(context.Background(), &cloudwatch.ListMetricsInput{NextToken: aws.String("bogus")})
	apiErr(t, err, 400, "InvalidNextToken")
}

func TestListMetricsAccessDenied(t *testing.T) {
	sim, ts := newDemoSim(t)
	if err := sim.Update(func(sc *Scenario) {
		a := sc.account(demoAccount)
		a.Roles = append(a.Roles, Role{Name: "NoCloudWatch", TrustedPrincipals: []string{"111111111111"}, Policies: []string{"AmazonSQSReadOnlyAccess"}},
			Role{Name: "EC2Only", TrustedPrincipals: []string{"111111111111"}, Policies: []string{"AmazonEC2ReadOnlyAccess"}})
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := cloudwatch.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "NoCloudWatch", "")))
	_, err := c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
	apiErr(t, err, 403, "AccessDenied")
	if calls := sim.Calls(); calls[len(calls)-1].Action != "ListMetrics" || calls[len(calls)-1].ErrorCode != "AccessDenied" {
		t.Errorf("calls %+v", calls[len(calls)-1])
	}
	// AmazonEC2ReadOnlyAccess allows ListMetrics but not GetMetricData.
	ec2Only := cloudwatch.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "EC2Only", "")))
	if _, err := ec2Only.ListMetrics(ctx, &cloudwatch.ListMetricsInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = ec2Only.GetMetricData(ctx, gmdInput(time.Now().Add(-time.Hour), time.Now(), query("a", "AWS/SQS", "NumberOfMessagesSent", map[string]string{"QueueName": "jobs"}, 60, "Sum")))
	apiErr(t, err, 403, "AccessDenied")
}

func query(id, ns, name string, dims map[string]string, period int32, stat string) cwtypes.MetricDataQuery {
	return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: aws.String(ns), MetricName: aws.String(name), Dimensions: cwSDKDims(dims)},
		Period: aws.Int32(period), Stat: aws.String(stat),
	}}
}

func gmdInput(start, end time.Time, qs ...cwtypes.MetricDataQuery) *cloudwatch.GetMetricDataInput {
	return &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: qs}
}

// checkSeries asserts that r holds exactly the datapoints at times (in
// order) with MetricValue's values.
func checkSeries(t *testing.T, r cwtypes.MetricDataResult, ns, name string, dims map[string]string, stat string, period time.Duration, times []time.Time) {
	t.Helper()
	if len(r.Timestamps) != len(times) || len(r.Values) != len(times) {
		t.Fatalf("%s: %d timestamps, %d values, want %d (%v)", aws.ToString(r.Id), len(r.Timestamps), len(r.Values), len(times), r.Timestamps)
	}
	for i, ts := range r.Timestamps {
		if !ts.Equal(times[i]) {
			t.Fatalf("%s: timestamp %d = %v, want %v", aws.ToString(r.Id), i, ts, times[i])
		}
		if want := MetricValue(ns, name, dims, stat, ts, period); r.Values[i] != want || math.IsNaN(want) {
			t.Fatalf("%s: value at %v = %v, want %v", aws.ToString(r.Id), ts, r.Values[i], want)
		}
	}
}

func steps(from time.Time, step time.Duration, n int) []time.Time {
	var out []time.Time
	for i := 0; i < n; i++ {
		out = append(out, from.Add(time.Duration(i)*step))
	}
	return out
}

// reversed returns ts newest first.
func reversed(ts []time.Time) []time.Time {
	out := append([]time.Time(nil), ts...)
	sort.Slice(out, func(i, j int) bool { return out[i].After(out[j]) })
	return out
}

func TestGetMetricData(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	c := demoCW(t, ts, demoRegion, "KansokuIntegration")
	// Freeze the clock 3m10s after a 5-minute boundary B (near the wall
	// clock, which the SDK signs with).
	b := time.Now().UTC().Truncate(5 * time.Minute)
	now := b.Add(3*time.Minute + 10*time.Second)
	sim.SetNow(func() time.Time { return now })
	start := b.Add(-80 * time.Minute)

	web1 := map[string]string{"InstanceId": "i-0a1b2c3d4e5f60001"}
	stopped := map[string]string{"InstanceId": "i-0a1b2c3d4e5f60004"}
	queue := map[string]string{"QueueName": "jobs"}
	alb := map[string]string{"LoadBalancer": "app/web-alb/50dc6c495c0c9188"}
	cluster := map[string]string{"DBClusterIdentifier": "aurora-main"}
	sim.ResetCalls()
	out, err := c.GetMetricData(ctx, gmdInput(start, now,
		query("cpu", "AWS/EC2", "CPUUtilization", web1, 300, "Average"),
		query("cpu1m", "AWS/EC2", "CPUUtilization", web1, 60, "Maximum"), // acts as 300
		query("stopped", "AWS/EC2", "CPUUtilization", stopped, 300, "Average"),
		query("sent", "AWS/SQS", "NumberOfMessagesSent", queue, 60, "Sum"),
		query("hourly", "AWS/SQS", "NumberOfMessagesSent", queue, 3600, "Sum"),
		query("p99", "AWS/ApplicationELB", "TargetResponseTime", alb, 300, "p99"),
		query("vol", "AWS/RDS", "VolumeBytesUsed", cluster, 60, "SampleCount"),
		query("unknown", "AWS/SQS", "NoSuchMetric", queue, 60, "Sum"),
		query("extra", "AWS/EC2", "MetadataNoToken", web1, 300, "Sum"),
	))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]cwtypes.MetricDataResult{}
	for _, r := range out.MetricDataResults {
		byID[aws.ToString(r.Id)] = r
		if r.StatusCode != cwtypes.StatusCodeComplete {
			t.Errorf("%s: status %s", aws.ToString(r.Id), r.StatusCode)
		}
	}
	if len(byID) != 9 || out.NextToken != nil {
		t.Fatalf("results %v, token %v", len(byID), out.NextToken)
	}
	if l := aws.ToString(byID["cpu"].Label); l != "CPUUtilization" {
		t.Errorf("default label %q", l)
	}
	// EC2, 5-minute periods: the last one published starts at or before
	// now - 5m - 2m = B - 3m50s, so at B - 5m: B-80m ... B-5m.
	fiveMin := steps(start, 5*time.Minute, 16)
	checkSeries(t, byID["cpu"], "AWS/EC2", "CPUUtilization", web1, "Average", 5*time.Minute, reversed(fiveMin))
	checkSeries(t, byID["cpu1m"], "AWS/EC2", "CPUUtilization", web1, "Maximum", 5*time.Minute, reversed(fiveMin))
	checkSeries(t, byID["extra"], "AWS/EC2", "MetadataNoToken", web1, "Sum", 5*time.Minute, reversed(fiveMin))
	checkSeries(t, byID["stopped"], "", "", nil, "", 0, nil)
	checkSeries(t, byID["unknown"], "", "", nil, "", 0, nil)
	// One-minute metrics: up to now - 1m - 2m = B + 10s, so B-80m ... B.
	oneMin := steps(start, time.Minute, 81)
	checkSeries(t, byID["sent"], "AWS/SQS", "NumberOfMessagesSent", queue, "Sum", time.Minute, reversed(oneMin))
	checkSeries(t, byID["vol"], "AWS/RDS", "VolumeBytesUsed", cluster, "SampleCount", time.Minute, reversed(oneMin))
	if byID["vol"].Values[0] != 1 {
		t.Errorf("SampleCount of a 1-minute period = %v", byID["vol"].Values[0])
	}
	checkSeries(t, byID["p99"], "AWS/ApplicationELB", "TargetResponseTime", alb, "p99", 5*time.Minute, reversed(fiveMin))
	// Hourly: periods on the hour, at or after start, ended 2 minutes ago.
	var hours []time.Time
	for h := start.Truncate(time.Hour); !h.Add(time.Hour + 2*time.Minute).After(now); h = h.Add(time.Hour) {
		if !h.Before(start) {
			hours = append([]time.Time{h}, hours...)
		}
	}
	checkSeries(t, byID["hourly"], "AWS/SQS", "NumberOfMessagesSent", queue, "Sum", time.Hour, hours)
	for i, h := range hours {
		if v := byID["hourly"].Values[i]; math.Abs(v-60*MetricValue("AWS/SQS", "NumberOfMessagesSent", queue, "Average", h, time.Hour)) > 1e-6 {
			t.Errorf("hourly sum %v is not 60 × the average", v)
		}
	}

	// The call log has the queries.
	calls := sim.Calls()
	if len(calls) != 1 || calls[0].Service != "monitoring" || calls[0].Action != "GetMetricData" || len(calls[0].MetricQueries) != 9 {
		t.Fatalf("calls %+v", calls)
	}
	if q := calls[0].MetricQueries[1]; !reflect.DeepEqual(q, MetricQuery{ID: "cpu1m", Namespace: "AWS/EC2", MetricName: "CPUUtilization",
		Dimensions: web1, Period: 60, Stat: "Maximum"}) {
		t.Errorf("logged query %+v", q)
	}

	// Ascending.
	in := gmdInput(start, now, query("sent", "AWS/SQS", "NumberOfMessagesSent", queue, 60, "Sum"))
	in.ScanBy = cwtypes.ScanByTimestampAscending
	out, err = c.GetMetricData(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	checkSeries(t, out.MetricDataResults[0], "AWS/SQS", "NumberOfMessagesSent", queue, "Sum", time.Minute, oneMin)

	// A StartTime off the grid starts at the next period; EndTime is
	// exclusive.
	out, err = c.GetMetricData(ctx, gmdInput(start.Add(30*time.Second), start.Add(5*time.Minute),
		query("sent", "AWS/SQS", "NumberOfMessagesSent", queue, 60, "Sum")))
	if err != nil {
		t.Fatal(err)
	}
	checkSeries(t, out.MetricDataResults[0], "AWS/SQS", "NumberOfMessagesSent", queue, "Sum", time.Minute, reversed(steps(start.Add(time.Minute), time.Minute, 4)))

	// The other region does not know this queue.
	tokyo := demoCW(t, ts, demoRegion2, "KansokuIntegration")
	out, err = tokyo.GetMetricData(ctx, gmdInput(start, now, query("sent", "AWS/SQS", "NumberOfMessagesSent", queue, 60, "Sum")))
	if err != nil || len(out.MetricDataResults[0].Values) != 0 {
		t.Errorf("tokyo: %v %+v", err, out)
	}
}

func TestGetMetricDataDelay(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	c := demoCW(t, ts, demoRegion, "KansokuIntegration")
	queue := map[string]string{"QueueName": "jobs"}
	web1 := map[string]string{"InstanceId": "i-0a1b2c3d4e5f60001"}
	// Period starts T (minute) and T5 (5 minutes), a little in the past.
	t5 := time.Now().UTC().Add(-12 * time.Minute).Truncate(5 * time.Minute)
	count := func(at time.Time, q cwtypes.MetricDataQuery) []time.Time {
		t.Helper()
		sim.SetNow(func() time.Time { return at })
		out, err := c.GetMetricData(ctx, gmdInput(t5, t5.Add(5*time.Minute), q))
		if err != nil {
			t.Fatal(err)
		}
		return out.MetricDataResults[0].Timestamps
	}
	sqs := query("q", "AWS/SQS", "ApproximateAgeOfOldestMessage", queue, 60, "Maximum")
	if got := count(t5.Add(3*time.Minute-time.Second), sqs); len(got) != 0 {
		t.Errorf("1 s before T+1m+2m: %v", got)
	}
	if got := count(t5.Add(3*time.Minute), sqs); len(got) != 1 || !got[0].Equal(t5) {
		t.Errorf("at T+1m+2m: %v", got)
	}
	if got := count(t5.Add(4*time.Minute+30*time.Second), sqs); len(got) != 2 {
		t.Errorf("at T+4m30s: %v", got)
	}
	ec2q := query("e", "AWS/EC2", "CPUUtilization", web1, 60, "Average")
	if got := count(t5.Add(7*time.Minute-time.Second), ec2q); len(got) != 0 {
		t.Errorf("EC2 1 s before T+5m+2m: %v", got)
	}
	if got := count(t5.Add(7*time.Minute), ec2q); len(got) != 1 || !got[0].Equal(t5) {
		t.Errorf("EC2 at T+5m+2m: %v", got)
	}
	// A longer reporting delay in the scenario.
	if err := sim.Update(func(sc *Scenario) { sc.MetricDelay = 5 * time.Minute }); err != nil {
		t.Fatal(err)
	}
	if got := count(t5.Add(7*time.Minute), ec2q); len(got) != 0 {
		t.Errorf("EC2 with a 5m delay at T+7m: %v", got)
	}
	// A terminated (now deleted) resource has no datapoints.
	if got := count(t5.Add(10*time.Minute), sqs); len(got) != 5 {
		t.Errorf("before deletion: %v", got)
	}
	if err := sim.Update(func(sc *Scenario) { sc.account(demoAccount).Regions[demoRegion].Queues = nil }); err != nil {
		t.Fatal(err)
	}
	if got := count(t5.Add(10*time.Minute), sqs); len(got) != 0 {
		t.Errorf("after deletion: %v", got)
	}
}

func TestGetMetricDataPagination(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	c := demoCW(t, ts, demoRegion, "KansokuIntegration")
	now := time.Now().UTC().Truncate(time.Minute)
	sim.SetNow(func() time.Time { return now })
	start := now.Add(-63 * time.Minute)
	var qs []cwtypes.MetricDataQuery
	for i, m := range []string{"ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible",
		"ApproximateNumberOfMessagesVisible", "NumberOfEmptyReceives", "NumberOfMessagesDeleted", "NumberOfMessagesReceived", "NumberOfMessagesSent",
		"SentMessageSize"} {
		qs = append(qs, query(fmt.Sprintf("m%d", i), "AWS/SQS", m, map[string]string{"QueueName": "jobs"}, 60, "Average"))
	}
	whole, err := c.GetMetricData(ctx, gmdInput(start, now, qs...))
	if err != nil {
		t.Fatal(err)
	}
	// now-63m ... now-3m (the last one published).
	if len(whole.MetricDataResults) != 9 || len(whole.MetricDataResults[0].Values) != 61 {
		t.Fatalf("unpaged: %d results of %d", len(whole.MetricDataResults), len(whole.MetricDataResults[0].Values))
	}
	for _, scan := range []cwtypes.ScanBy{cwtypes.ScanByTimestampDescending, cwtypes.ScanByTimestampAscending} {
		in := gmdInput(start, now, qs...)
		in.MaxDatapoints = aws.Int32(47)
		in.ScanBy = scan
		merged := map[string]*cwtypes.MetricDataResult{}
		pages := 0
		p := cloudwatch.NewGetMetricDataPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			n := 0
			for _, r := range out.MetricDataResults {
				n += len(r.Values)
				m := merged[aws.ToString(r.Id)]
				if m == nil {
					m = &cwtypes.MetricDataResult{Id: r.Id, Label: r.Label}
					merged[aws.ToString(r.Id)] = m
				}
				m.Timestamps = append(m.Timestamps, r.Timestamps...)
				m.Values = append(m.Values, r.Values...)
				m.StatusCode = r.StatusCode
			}
			if n > 47 {
				t.Errorf("page of %d datapoints", n)
			}
		}
		if pages != (9*61+46)/47 {
			t.Errorf("%s: %d pages", scan, pages)
		}
		for _, r := range whole.MetricDataResults {
			m := merged[aws.ToString(r.Id)]
			if m == nil || m.StatusCode != cwtypes.StatusCodeComplete {
				t.Fatalf("%s: %s missing or incomplete", scan, aws.ToString(r.Id))
			}
			wantTS, wantV := r.Timestamps, r.Values
			if scan == cwtypes.ScanByTimestampAscending {
				wantTS, wantV = nil, nil
				for i := len(r.Values) - 1; i >= 0; i-- {
					wantTS = append(wantTS, r.Timestamps[i])
					wantV = append(wantV, r.Values[i])
				}
			}
			if !reflect.DeepEqual(m.Timestamps, wantTS) || !reflect.DeepEqual(m.Values, wantV) {
				t.Errorf("%s: %s differs when paged", scan, aws.ToString(r.Id))
			}
		}
	}
	// A token belongs to its request.
	in := gmdInput(start, now, qs...)
	in.MaxDatapoints = aws.Int32(10)
	out, err := c.GetMetricData(ctx, in)
	if err != nil || out.NextToken == nil || out.MetricDataResults[0].StatusCode != cwtypes.StatusCodePartialData {
		t.Fatalf("%v %+v", err, out)
	}
	other := gmdInput(start.Add(time.Minute), now, qs...)
	other.NextToken = out.NextToken
	_, err = c.GetMetricData(ctx, other)
	apiErr(t, err, 400, "InvalidNextToken")
}

func TestGetMetricDataValidation(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	c := demoCW(t, ts, demoRegion, "KansokuIntegration")
	now := time.Now()
	queue := map[string]string{"QueueName": "jobs"}
	var many []cwtypes.MetricDataQuery
	for i := 0; i < 501; i++ {
		many = append(many, query(fmt.Sprintf("q%d", i), "AWS/SQS", "NumberOfMessagesSent", queue, 60, "Sum"))
	}
	_, err := c.GetMetricData(ctx, gmdInput(now.Add(-time.Hour), now, many...))
	apiErr(t, err, 400, "ValidationError")
	if _, err := c.GetMetricData(ctx, gmdInput(now.Add(-time.Hour), now, many[:500]...)); err != nil {
		t.Errorf("500 queries: %v", err)
	}
	calls := sim.Calls()
	if n := len(calls[len(calls)-2].MetricQueries); n != 501 || calls[len(calls)-2].ErrorCode != "ValidationError" {
		t.Errorf("refused call logged with %d queries, error %q", n, calls[len(calls)-2].ErrorCode)
	}

	expr := cwtypes.MetricDataQuery{Id: aws.String("e"), Expression: aws.String("SUM(METRICS())")}
	for name, in := range map[string]*cloudwatch.GetMetricDataInput{
		"expression":    gmdInput(now.Add(-time.Hour), now, query("a", "AWS/SQS", "NumberOfMessagesSent", queue, 60, "Sum"), expr),
		"bad id":        gmdInput(now.Add(-time.Hour), now, query("A", "AWS/SQS", "NumberOfMessagesSent", queue, 60, "Sum")),
		"duplicate ids": gmdInput(now.Add(-time.Hour), now, query("a", "AWS/SQS", "NumberOfMessagesSent", queue, 60, "Sum"), query("a", "AWS/SQS", "NumberOfMessagesSent", queue, 60, "Sum")),
		"bad period":    gmdInput(now.Add(-time.Hour), now, query("a", "AWS/SQS", "NumberOfMessagesSent", queue, 90, "Sum")),
		"end not after": gmdInput(now, now, query("a", "AWS/SQS", "NumberOfMessagesSent", queue, 60, "Sum")),
		"unknown stat":  gmdInput(now.Add(-time.Hour), now, query("a", "AWS/SQS", "NumberOfMessagesSent", queue, 60, "Median")),
	} {
		_, err := c.GetMetricData(ctx, in)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		apiErr(t, err, 400, "ValidationError")
	}

	// Injected throttling, with CloudWatch's query-compatible code.
	sim.FailNextAction("monitoring", "GetMetricData", 1, 400, "Throttling")
	_, err = c.GetMetricData(ctx, gmdInput(now.Add(-time.Hour), now, many[:1]...))
	apiErr(t, err, 400, "Throttling")
}

// The world clock may be far from the wall clock: signatures are checked
// against the wall clock, as the SDK signs with it, so a client without
// retries works while the world is 3 hours ahead.
func TestWorldClockIsNotTheSigningClock(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	far := time.Now().Add(3 * time.Hour)
	sim.SetNow(func() time.Time { return far })
	cfg := demoConfig(ts, demoRegion, staticCreds(demoUserKey, demoUserSecret))
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	c := cloudwatch.NewFromConfig(cfg)
	out, err := c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/SQS")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Metrics) != 18 {
		t.Errorf("%d SQS metrics", len(out.Metrics))
	}
}

// The wire format, without the SDK: path, headers, CBOR error shape.
func TestCloudWatchWire(t *testing.T) {
	_, ts := newDemoSim(t)
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/service/GraniteServiceVersion20100801/operation/ListMetrics", strings.NewReader("\xa0"))
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	req.Header.Set("Content-Type", "application/cbor")
	sum := sha256.Sum256([]byte("\xa0"))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIAUNKNOWNKEY000001", SecretAccessKey: "x"},
		req, hex.EncodeToString(sum[:]), "monitoring", demoRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" ||
		resp.Header.Get("Content-Type") != "application/cbor" || resp.Header.Get("X-Amzn-Query-Error") != "InvalidClientTokenId;Sender" {
		t.Fatalf("unknown key: %d %v", resp.StatusCode, resp.Header)
	}
	buf := make([]byte, 4096)
	n, _ := resp.Body.Read(buf)
	v, err := cbor.Decode(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	m, ok := v.(cbor.Map)
	if !ok || m["__type"] == nil || m["message"] == nil {
		t.Errorf("error body %#v", v)
	}
	if _, err := time.Parse(http.TimeFormat, resp.Header.Get("Date")); err != nil {
		t.Errorf("Date %q", resp.Header.Get("Date"))
	}
}

// The awsJson1_0 mode the aws CLI (botocore) uses.
func TestCloudWatchJSONMode(t *testing.T) {
	_, ts := newDemoSim(t)
	send := func(target, body string) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801."+target)
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: demoUserKey, SecretAccessKey: demoUserSecret},
			req, hex.EncodeToString(sum[:]), "monitoring", demoRegion, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header, out
	}
	status, h, out := send("ListMetrics", `{"Namespace":"AWS/SQS","MetricName":"SentMessageSize"}`)
	if status != 200 || h.Get("Content-Type") != "application/x-amz-json-1.0" || len(out["Metrics"].([]any)) != 2 {
		t.Fatalf("ListMetrics: %d %v %v", status, h, out)
	}
	end := time.Now().Unix()
	status, _, out = send("GetMetricData", fmt.Sprintf(`{"StartTime":%d,"EndTime":%d.5,"MetricDataQueries":[{"Id":"a","MetricStat":{"Metric":{"Namespace":"AWS/SQS","MetricName":"SentMessageSize","Dimensions":[{"Name":"QueueName","Value":"jobs"}]},"Period":60,"Stat":"Average"}}]}`, end-600, end))
	if status != 200 {
		t.Fatalf("GetMetricData: %d %v", status, out)
	}
	r := out["MetricDataResults"].([]any)[0].(map[string]any)
	tss, vals := r["Timestamps"].([]any), r["Values"].([]any)
	if len(tss) < 6 || len(tss) != len(vals) {
		t.Fatalf("result %v", r)
	}
	first := time.Unix(int64(tss[0].(float64)), 0)
	if want := MetricValue("AWS/SQS", "SentMessageSize", map[string]string{"QueueName": "jobs"}, "Average", first, time.Minute); vals[0].(float64) != want {
		t.Errorf("value %v, want %v", vals[0], want)
	}
	status, h, out = send("GetMetricData", `{"StartTime":1,"EndTime":2,"MetricDataQueries":[{"Id":"a","Expression":"1"}]}`)
	if status != 400 || h.Get("X-Amzn-Query-Error") != "ValidationError;Sender" || out["__type"] == nil {
		t.Errorf("error: %d %v %v", status, h, out)
	}
}
