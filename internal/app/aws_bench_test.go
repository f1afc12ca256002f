package app_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/awsint/catalog"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/testenv"
	"github.com/kansoku/kansoku/sim/awssim"
)

// benchCopies is how many times everyProduct's set of resources the
// benchmark's account holds: 90 copies are about 5,000 resources of all
// 28 products (KANSOKU_AWS_BENCH_COPIES overrides it).
func benchCopies() int {
	if n, err := strconv.Atoi(os.Getenv("KANSOKU_AWS_BENCH_COPIES")); err == nil && n > 0 {
		return n
	}
	return 90
}

// bigWorld is the benchmark's account: everyProduct's resources, copies
// times over (EC2 instances of three types, every database engine, ALBs
// with target groups, every Firehose destination, global resources ...).
func bigWorld(copies int) *awssim.Scenario {
	sc := world()
	sc.Accounts[0].Roles[0].Policies = []string{"ReadOnlyAccess"}
	sc.Accounts[0].Regions = map[string]*awssim.Region{"us-east-1": {}}
	everyProduct(sc, copies)
	return sc
}

// BenchmarkAWSPoll measures one first poll of an account with every
// product (about 5,000 resources) against the simulator, through the whole
// real path, with GetMetricData batched 500 metrics per call. It checks
// that every region and period group took exactly ceil(metrics/500)
// calls, and reports the poll's time, calls, metrics, samples and the Go
// heap it took. Run with -benchtime=1x: scripts/bench-aws.sh.
func BenchmarkAWSPoll(b *testing.B) {
	// into-workspace: the whole path; collector-only: the samples are
	// counted and dropped, so the heap is the poll's own (not the TSDB
	// head's that takes 160,000 new series).
	for _, mode := range []string{"into-workspace", "collector-only"} {
		b.Run(mode, func(b *testing.B) { benchmarkAWSPoll(b, mode == "collector-only") })
	}
}

// discard is a Pusher that drops what it is given.
type discard struct{}

func (discard) Push(context.Context, string, *prompb.WriteRequest) error { return nil }

func benchmarkAWSPoll(b *testing.B, dropSamples bool) {
	copies := benchCopies()
	sim := awssim.New(awssim.Options{})
	if err := sim.SetScenario(bigWorld(copies)); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	s := testenv.Start(b, testenv.Options{Config: func(c *config.Config) {
		c.AWS.EndpointURL, c.AWS.AccessKeyID, c.AWS.SecretAccessKey = srv.URL, kansokuKeyID, kansokuSecret
		c.Limits.IngestionBurstSize, c.Limits.IngestionRate = 10_000_000, 10_000_000
		c.AWS.Poll = false // this benchmark polls with its own service
	}})
	ws := s.CreateWorkspace(b, "bench")
	var pusher awsint.Pusher = s.App.Distributor()
	if dropSamples {
		pusher = discard{}
	}
	svc := awsint.New(awsint.Options{Store: s.App.Meta(), Workspaces: s.App.Workspaces(), Hosts: s.App.Hosts(), Pusher: pusher,
		EndpointURL: srv.URL, BaseCredentials: credentials.NewStaticCredentialsProvider(kansokuKeyID, kansokuSecret, ""), PollTimeout: 30 * time.Minute})
	services := map[string]awsint.ServiceSettings{}
	for _, k := range catalog.Keys() {
		ss := awsint.DefaultServiceSettings(k)
		ss.AutoAddNewMetrics = false // exactly the catalog's metrics
		services[k] = ss
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		i, err := svc.Create(ctx, awsint.CreateInput{Name: fmt.Sprintf("bench-%d", n), AWSAccountID: customerAccount, WorkspaceID: ws,
			Settings: &awsint.Settings{Regions: []string{"us-east-1"}, Services: services}})
		if err != nil {
			b.Fatal(err)
		}
		if err := sim.Update(func(sc *awssim.Scenario) { sc.Accounts[0].Roles[0].ExternalID = i.ExternalID }); err != nil {
			b.Fatal(err)
		}
		role := roleARN
		if i, err = svc.Update(ctx, i.ID, awsint.UpdateInput{RoleARN: &role}); err != nil || i.Status != awsint.StatusActive {
			b.Fatalf("%v %s %s", err, i.Status, i.StatusReason)
		}
		sim.ResetCalls()
		// The simulator's own index of CloudWatch's series (it runs in
		// this process) is built before the heap is measured.
		sim.Publishes(customerAccount, "us-east-1", awssim.MetricQuery{})
		sim.Publishes(customerAccount, "eu-west-1", awssim.MetricQuery{})
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var peak atomic.Uint64
		done := make(chan struct{})
		go func() {
			var ms runtime.MemStats
			for {
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
				}
			}
		}()
		b.StartTimer()
		start := time.Now()
		rep, err := svc.Poll(ctx, i.ID, time.Now())
		elapsed := time.Since(start)
		b.StopTimer()
		close(done)
		if err != nil || len(rep.Errors) > 0 {
			b.Fatalf("%v %v", err, rep.Errors)
		}
		// ceil(metrics/500) GetMetricData calls per region and period group.
		type group struct{ calls, queries int }
		groups := map[string]*group{}
		for _, c := range sim.Calls() {
			if c.Action != "GetMetricData" || len(c.MetricQueries) == 0 {
				continue
			}
			k := fmt.Sprintf("%s %ds", c.Region, c.MetricQueries[0].Period)
			if groups[k] == nil {
				groups[k] = &group{}
			}
			groups[k].calls++
			groups[k].queries += len(c.MetricQueries)
		}
		keys := make([]string, 0, len(groups))
		for k := range groups {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			g := groups[k]
			if want := (g.queries + awsint.MaxQueriesPerCall - 1) / awsint.MaxQueriesPerCall; g.calls != want {
				b.Errorf("%s: %d GetMetricData calls for %d metrics, want %d", k, g.calls, g.queries, want)
			}
			b.Logf("group %s: %d metrics, %d calls", k, g.queries, g.calls)
		}
		b.ReportMetric(elapsed.Seconds(), "poll-seconds")
		b.ReportMetric(float64(rep.Resources), "resources")
		b.ReportMetric(float64(rep.GetMetricDataCalls), "GetMetricData-calls")
		b.ReportMetric(float64(rep.APICalls["CloudWatch:ListMetrics"]), "ListMetrics-calls")
		b.ReportMetric(float64(rep.MetricsRequested), "metrics")
		b.ReportMetric(float64(rep.SamplesWritten), "samples")
		b.ReportMetric(rep.EstimatedCostUSD, "USD")
		b.ReportMetric(float64(int64(peak.Load())-int64(before.HeapInuse))/(1<<20), "peak-heap-MiB")
		b.StartTimer()
	}
}
