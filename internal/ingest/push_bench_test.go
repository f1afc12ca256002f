package ingest

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// BenchmarkPush measures the steady state of remote_write into the
// embedded store: requests of 2,000 series a Prometheus sends every
// scrape interval (10 labels each, one sample), every series already in
// the head after the first round of requests; with 2,000 series one
// request covers them all, with 100,000 fifty requests in turn do (the
// head's and the distributor's lookups then miss the CPU caches, as in
// production). Besides wall time it reports the process's CPU time per
// request (cpu-ns/op), which a loaded machine disturbs far less. Compare
// with benchstat:
//
//	go test -run '^$' -bench BenchmarkPush -benchmem -count 10 ./internal/ingest
func BenchmarkPush(b *testing.B) {
	for _, total := range []int{2000, 100000} {
		b.Run("series="+strconv.Itoa(total), func(b *testing.B) { benchmarkPush(b, total) })
	}
}

func benchmarkPush(b *testing.B, total int) {
	f := newFixture(b)
	// The guardrails stay on; the rate is raised so that they pass.
	l := f.limits.Defaults()
	l.IngestionRate, l.IngestionBurstSize = 1e12, 1e12
	f.limits.Set("ws-a", &l)
	const perRequest = 2000
	reqs := make([]*prompb.WriteRequest, total/perRequest)
	for r := range reqs {
		req := &prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, perRequest)}
		for i := range req.Timeseries {
			n := r*perRequest + i
			req.Timeseries[i] = prompb.TimeSeries{
				Labels: series("__name__", "node_cpu_seconds_total", "cluster", "prod-1", "cpu", strconv.Itoa(n%64),
					"env", "production", "instance", "10.0."+strconv.Itoa(n/16384)+"."+strconv.Itoa(n/64%256)+":9100", "job", "node",
					"mode", []string{"idle", "user", "system", "iowait"}[n%4], "namespace", "monitoring",
					"region", "ap-northeast-1", "series", strconv.Itoa(n)),
				Samples: []prompb.Sample{{}},
			}
		}
		reqs[r] = req
	}
	start := f.now.Add(-time.Hour).UnixMilli()
	push := func(n int) {
		req := reqs[n%len(reqs)]
		round := int64(n / len(reqs))
		for i := range req.Timeseries {
			req.Timeseries[i].Samples[0] = prompb.Sample{Timestamp: start + round*15, Value: float64(n)}
		}
		if err := f.dist.Push(context.Background(), "ws-a", req); err != nil {
			b.Fatal(err)
		}
	}
	for n := range reqs {
		push(n)
	}
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for n := len(reqs); n < len(reqs)+b.N; n++ {
		push(n)
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N*perRequest)/b.Elapsed().Seconds(), "samples/s")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
