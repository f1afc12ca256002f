package app_test

import (
	"fmt"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/testenv"
	"github.com/kansoku/kansoku/sim/awssim"
)

// bigWorld is an account with 1,000 resources: 300 EC2 instances (15
// metrics each), 300 SQS queues (9), 200 DynamoDB tables (8), 200 Lambda
// functions (6): 10,000 metrics, ~10 per resource.
func bigWorld() *awssim.Scenario {
	sc := world()
	sc.Accounts[0].Roles[0].Policies = []string{"ReadOnlyAccess"}
	r := &awssim.Region{}
	for i := 0; i < 300; i++ {
		r.Instances = append(r.Instances, awssim.Instance{ID: fmt.Sprintf("i-%017x", i), Type: "m5.large", State: "running", AvailabilityZone: "us-east-1a",
			Tags: awssim.Tags{"Name": fmt.Sprintf("web-%d", i)}})
		r.Queues = append(r.Queues, awssim.Queue{Name: fmt.Sprintf("queue-%d", i)})
	}
	for i := 0; i < 200; i++ {
		r.Tables = append(r.Tables, awssim.Table{Name: fmt.Sprintf("table-%d", i), Status: "ACTIVE"})
		r.LambdaFunctions = append(r.LambdaFunctions, awssim.LambdaFunction{Name: fmt.Sprintf("fn-%d", i), Runtime: "python3.12", MemorySize: 128, Timeout: 3})
	}
	sc.Accounts[0].Regions = map[string]*awssim.Region{"us-east-1": r}
	return sc
}

// BenchmarkAWSPoll measures one poll of 1,000 resources (~10,000 metrics)
// against the simulator, with GetMetricData batched 500 metrics per call
// (Kansoku) and, side by side, one call per metric (what integrations that
// call CloudWatch per metric do). Run with -benchtime=1x:
// scripts/bench-aws.sh.
func BenchmarkAWSPoll(b *testing.B) {
	for _, mode := range []struct {
		name string
		per  int
	}{{"batched-500", 500}, {"one-call-per-metric", 1}} {
		b.Run(mode.name, func(b *testing.B) {
			sim := awssim.New(awssim.Options{})
			if err := sim.SetScenario(bigWorld()); err != nil {
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
			svc := awsint.New(awsint.Options{Store: s.App.Meta(), Workspaces: s.App.Workspaces(), Hosts: s.App.Hosts(), Pusher: s.App.Distributor(),
				EndpointURL: srv.URL, BaseCredentials: credentials.NewStaticCredentialsProvider(kansokuKeyID, kansokuSecret, ""), QueriesPerCall: mode.per})
			services := map[string]awsint.ServiceSettings{}
			for _, k := range []string{"ec2", "sqs", "dynamodb", "lambda"} {
				services[k] = awsint.DefaultServiceSettings(k)
				ss := services[k]
				ss.AutoAddNewMetrics = false // exactly the catalog's metrics, no ListMetrics
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
				if rep.MetricsRequested != 10_000 || rep.SamplesWritten == 0 {
					b.Fatalf("report: %+v", rep)
				}
				b.ReportMetric(elapsed.Seconds(), "poll-seconds")
				b.ReportMetric(float64(rep.GetMetricDataCalls), "GetMetricData-calls")
				b.ReportMetric(float64(rep.MetricsRequested), "metrics")
				b.ReportMetric(float64(rep.SamplesWritten), "samples")
				b.ReportMetric(float64(int64(peak.Load())-int64(before.HeapInuse))/(1<<20), "peak-heap-MiB")
				b.StartTimer()
			}
		})
	}
}
