package query

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/kansoku/kansoku/internal/bench"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

// BenchmarkShardedQueries runs the benchmark's nine dashboard queries
// (internal/bench) over KANSOKU_BENCH_SERIES series (default 100,000) of
// an hour of 15 s samples, through the query API's engine with every
// limit on, unsharded and over 2 and 4 shards; range queries over the
// hour at a 15 s step, instant queries at its end. "tiny" is an
// aggregation over one series: what sharding costs a query too small to
// gain from it. Sharding is checked as configured by default: queries
// over fewer than shard_min_series series, or by-aggregations with fewer
// than four series per group, are not sharded.
func BenchmarkShardedQueries(b *testing.B) {
	mgr, start, end := benchSeries(b)
	lim := limits.NewOverrides(limits.Defaults())
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	queries := append(bench.DashboardQueries(), bench.Query{Name: "tiny", Expr: `sum(rate(bench_metric_00_total{instance="instance-3"}[5m]))`, Range: true})
	for _, q := range queries {
		for _, shards := range []int{0, 2, 4} {
			// The defaults' checks: shard_min_series, series per group.
			api := New(Options{Limits: lim, Shards: shards, ShardMinSeries: DefaultConfig().ShardMinSeries}, mgr, nil)
			b.Run(q.Name+"/shards="+strconv.Itoa(shards), func(b *testing.B) {
				for b.Loop() {
					qry, res, err := (&shardFixture{}).run(ctx, api, q.Expr, start, end, map[bool]time.Duration{true: 15 * time.Second}[q.Range], nil)
					if err != nil {
						b.Fatal(err)
					}
					if res.Err != nil {
						b.Fatal(res.Err)
					}
					qry.Close()
				}
			})
		}
	}
}

// benchSeries writes KANSOKU_BENCH_SERIES series (default 100,000; the
// benchmark's MakeSeries label sets) of an hour and 10 minutes of 15 s
// samples into a workspace "ws" and returns the hour's range.
func benchSeries(b *testing.B) (*tenantdb.Manager, time.Time, time.Time) {
	n := 100_000
	if s := os.Getenv("KANSOKU_BENCH_SERIES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	mgr := tenantdb.New(tenantdb.Options{Dir: b.TempDir(), TSDB: shardingTSDB})
	b.Cleanup(func() { _ = mgr.CloseAll() })
	if err := mgr.Open("ws", 365*24*time.Hour); err != nil {
		b.Fatal(err)
	}
	end := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	start := end.Add(-time.Hour)
	series := bench.MakeSeries(n, 10, 1)
	ls := make([]labels.Labels, len(series))
	for j, ps := range series {
		var lb labels.ScratchBuilder
		for _, l := range ps {
			lb.Add(l.Name, l.Value)
		}
		ls[j] = lb.Labels()
	}
	// In time order: the head takes samples within an hour of its newest.
	refs := make([]storage.SeriesRef, len(series))
	for ts := start.Add(-10 * time.Minute); !ts.After(end); ts = ts.Add(15 * time.Second) {
		app, _ := mgr.Appender(context.Background(), "ws")
		for j := range ls {
			var err error
			if refs[j], err = app.Append(refs[j], ls[j], ts.UnixMilli(), float64((j+int(ts.Unix()/15))%97)*float64(ts.Unix()-start.Unix()+1000)); err != nil {
				b.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return mgr, start, end
}

// BenchmarkShardMinSeries measures where sharding starts to pay: one
// aggregation over 1, 10, 100 and 1,000 series, range (1 h at 15 s) and
// instant, unsharded and over 2 shards.
func BenchmarkShardMinSeries(b *testing.B) {
	mgr, start, end := benchSeries(b)
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	lim := limits.NewOverrides(limits.Defaults())
	for _, sel := range []struct{ name, matcher string }{
		{"1", `instance="instance-3"`}, {"10", `instance=~"instance-[0-9]"`},
		{"100", `instance=~"instance-[0-9]?[0-9]"`}, {"1000", ``},
	} {
		qs := `sum(rate(bench_metric_00_total{` + sel.matcher + `}[5m]))`
		for _, step := range []time.Duration{0, 15 * time.Second} {
			for _, shards := range []int{0, 2} {
				api := New(Options{Limits: lim, Shards: shards}, mgr, nil)
				kind := "instant"
				if step > 0 {
					kind = "range"
				}
				b.Run("series="+sel.name+"/"+kind+"/shards="+strconv.Itoa(shards), func(b *testing.B) {
					for b.Loop() {
						qry, res, err := (&shardFixture{}).run(ctx, api, qs, start, end, step, nil)
						if err != nil || res.Err != nil {
							b.Fatal(err, res.Err)
						}
						qry.Close()
					}
				})
			}
		}
	}
}
