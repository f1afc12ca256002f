package query

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

// BenchmarkQueryOverhead runs dashboard-like queries on the same TSDB
// through the workspace's limited queryable (what /api/v1/query uses) and
// straight on the TSDB (what Prometheus does): the difference is Kansoku's
// own overhead on the read path.
func BenchmarkQueryOverhead(b *testing.B) {
	mgr := tenantdb.New(tenantdb.Options{Dir: b.TempDir()})
	b.Cleanup(func() { _ = mgr.CloseAll() })
	if err := mgr.Open("ws", 365*24*time.Hour); err != nil {
		b.Fatal(err)
	}
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	const series, samples = 20000, 60
	for s := 0; s < series; s += 1000 {
		app, _ := mgr.Appender(context.Background(), "ws")
		for j := s; j < s+1000; j++ {
			l := labels.FromStrings("__name__", fmt.Sprintf("bench_metric_%02d_total", j%100), "instance", fmt.Sprint(j/100), "job", fmt.Sprint(j%20))
			var ref storage.SeriesRef
			for i := 0; i < samples; i++ {
				ref, _ = app.Append(ref, l, base.Add(time.Duration(i)*15*time.Second).UnixMilli(), float64(i))
			}
		}
		if err := app.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	db, _ := mgr.DB("ws")
	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e9, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	limited := &Queryable{Storage: mgr, Limits: limits.NewOverrides(limits.Defaults())}
	at := base.Add(samples * 15 * time.Second)
	for _, q := range []string{`count({__name__=~"bench_metric_1.*"})`, `sum by (job) (rate(bench_metric_01_total[5m]))`, `topk(5, rate(bench_metric_02_total[5m]))`, `quantile(0.9, rate(bench_metric_07_total[5m]))`} {
		for _, target := range []struct {
			name string
			q    storage.Queryable
		}{{"tsdb", db}, {"kansoku", limited}} {
			b.Run(q+"/"+target.name, func(b *testing.B) {
				for b.Loop() {
					qry, err := eng.NewInstantQuery(ctx, target.q, nil, q, at)
					if err != nil {
						b.Fatal(err)
					}
					if r := qry.Exec(ctx); r.Err != nil {
						b.Fatal(r.Err)
					}
					qry.Close()
				}
			})
		}
	}
}
