package query

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

func shardingTSDB(o *tsdb.Options) { o.EnableSharding = true }

// shardFixture is one workspace of random data read by an unsharded and
// a sharded API.
type shardFixture struct {
	mgr          *tenantdb.Manager
	plain, shard *API
	start, end   time.Time
	series       int
}

// newShardFixture writes a random dataset: counters with resets, gauges
// with gaps (series that stop and start again, as the staleness of
// partial results must handle), series that start late and end early,
// and native histograms.
func newShardFixture(t testing.TB, seed uint64, lim *limits.Limits, shards int) *shardFixture {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	mgr := tenantdb.New(tenantdb.Options{Dir: t.TempDir(), TSDB: shardingTSDB})
	t.Cleanup(func() { mgr.CloseAll() })
	if err := mgr.Open("ws", 365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	f := &shardFixture{mgr: mgr}
	// A fixed time: the head cuts chunks at fixed 2-hour boundaries, and
	// the limits tests count chunks once for several fixtures.
	f.end = time.Date(2026, 11, 2, 10, 30, 0, 0, time.UTC)
	f.start = f.end.Add(-2 * time.Hour)
	app, _ := mgr.Appender(context.Background(), "ws")
	nInst := 8 + r.IntN(20)
	for i := range nInst {
		job := fmt.Sprintf("job-%d", r.IntN(4))
		from := f.start.Add(time.Duration(r.IntN(30)) * time.Minute)
		to := f.end.Add(-time.Duration(r.IntN(30)) * time.Minute)
		gapAt := f.start.Add(time.Duration(r.IntN(120)) * time.Minute)
		gapLen := time.Duration(r.IntN(20)) * time.Minute
		counter, gauge := 0.0, r.Float64()*100
		for ts := from; !ts.After(to); ts = ts.Add(15 * time.Second) {
			if !ts.Before(gapAt) && ts.Before(gapAt.Add(gapLen)) {
				continue
			}
			if r.IntN(200) == 0 {
				counter = 0 // a reset
			}
			counter += float64(r.IntN(10))
			gauge += r.Float64()*10 - 5
			for _, s := range []struct {
				l labels.Labels
				v float64
			}{
				{labels.FromStrings("__name__", "req_total", "job", job, "instance", fmt.Sprint(i), "code", fmt.Sprint(200+100*(i%3))), counter},
				{labels.FromStrings("__name__", "temp", "job", job, "instance", fmt.Sprint(i)), gauge},
			} {
				if _, err := app.Append(0, s.l, ts.UnixMilli(), s.v); err != nil {
					t.Fatal(err)
				}
			}
			if i%3 == 0 {
				h := tsdbutil.GenerateTestHistogram(int64(counter))
				if _, err := app.AppendHistogram(0, labels.FromStrings("__name__", "lat", "job", job, "instance", fmt.Sprint(i)), ts.UnixMilli(), h, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		f.series += 2
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	o := limits.NewOverrides(limits.Defaults())
	if lim != nil {
		o = limits.NewOverrides(*lim)
	}
	f.plain = New(Options{Limits: o}, mgr, nil)
	f.shard = New(Options{Limits: o, Shards: shards}, mgr, nil)
	return f
}

// run evaluates qs on api: instant at end when step is 0.
func (f *shardFixture) run(ctx context.Context, api *API, qs string, start, end time.Time, step time.Duration, opts promql.QueryOpts) (promql.Query, *promql.Result, error) {
	// The query is made in its own context, and runs in ctx.
	mk := tenant.WithWorkspace(context.Background(), "ws")
	ctx = tenant.WithWorkspace(ctx, "ws")
	var q promql.Query
	var err error
	if step == 0 {
		q, err = api.Engine().NewInstantQuery(mk, api.Queryable(), opts, qs, end)
	} else {
		q, err = api.Engine().NewRangeQuery(mk, api.Queryable(), opts, qs, start, end, step)
	}
	if err != nil {
		return nil, nil, err
	}
	return q, q.Exec(ctx), nil
}

// shardInners are the per-series arguments the equivalence test
// aggregates.
var shardInners = []string{
	`req_total`, `rate(req_total[5m])`, `irate(req_total[2m])`, `increase(req_total[10m] offset 5m)`,
	`delta(temp[10m])`, `idelta(temp[3m])`, `deriv(temp[10m])`, `resets(req_total[30m])`, `changes(temp[10m])`,
	`temp * 2`, `-temp`, `abs(temp - 50)`, `clamp_max(temp, 40)`, `clamp(temp, 10, 60)`, `temp > 30`, `temp > bool 30`,
	`(temp + 1) / 3`, `2 ^ (temp / 100)`, `max_over_time(temp[7m])`, `min_over_time(temp[7m] offset 3m)`, `avg_over_time(temp[5m])`,
	`count_over_time(temp[3m])`, `last_over_time(temp[4m])`, `present_over_time(temp[1m])`, `stddev_over_time(temp[10m])`,
	`quantile_over_time(0.9, temp[10m])`, `sum_over_time(req_total[2m])`, `predict_linear(temp[10m], 600)`,
	`round(temp, 5)`, `ceil(temp)`, `floor(sqrt(abs(temp)))`, `sgn(temp - 50)`, `ln(abs(temp) + 1)`,
	`histogram_count(rate(lat[5m]))`, `histogram_sum(lat)`, `histogram_fraction(0, 8, lat)`, `histogram_avg(rate(lat[5m]))`,
	`{__name__=~"temp|req_total"}`, `temp offset 10m`, `rate(lat[5m])`, `lat`,
}

var shardGroupings = []string{``, ` by (job)`, ` without (instance)`, ` by (job, instance)`, ` without (code)`, ` by (code)`, ` without ()`}

// shardQueries generates the equivalence test's queries.
func shardQueries(r *rand.Rand, n int) []string {
	ops := []string{"sum", "min", "max", "count", "group", "avg"}
	var out []string
	for range n {
		inner := shardInners[r.IntN(len(shardInners))]
		op := ops[r.IntN(len(ops))]
		agg := op + shardGroupings[r.IntN(len(shardGroupings))] + " (" + inner + ")"
		switch r.IntN(8) {
		case 0: // nested: the inner aggregation shards
			agg = "max(" + agg + ")"
		case 1:
			agg = agg + " / 2"
		case 2:
			agg = "sum by (job) (rate(req_total[5m])) / on (job) group_left " + "count by (job) (temp)"
		case 3: // over distinct values: topk's choice among ties is arbitrary
			agg = "topk(3, sum by (instance) (avg_over_time(temp[5m])))"
		case 4: // a subquery: evaluated unsharded
			agg = "max_over_time(" + agg + "[10m:1m])"
		case 5:
			agg = "histogram_quantile(0.9, sum by (job) (rate(lat[5m])))"
		}
		out = append(out, agg)
	}
	return out
}

// sameResult compares two results: exact label sets and timestamps,
// floats equal (NaN equal to NaN) up to the rounding of adding them in
// another order (the shards' partial sums).
func sameResult(a, b parser.Value) error {
	ma, mb := asMatrix(a), asMatrix(b)
	if len(ma) != len(mb) {
		return fmt.Errorf("%d series, want %d:\n%v\nwant\n%v", len(mb), len(ma), mb, ma)
	}
	for i := range ma {
		if !labels.Equal(ma[i].Metric, mb[i].Metric) {
			return fmt.Errorf("series %d: %s, want %s", i, mb[i].Metric, ma[i].Metric)
		}
		if len(ma[i].Floats) != len(mb[i].Floats) || len(ma[i].Histograms) != len(mb[i].Histograms) {
			return fmt.Errorf("%s: %d floats and %d histograms, want %d and %d:\n%v\nwant\n%v", ma[i].Metric,
				len(mb[i].Floats), len(mb[i].Histograms), len(ma[i].Floats), len(ma[i].Histograms), mb[i], ma[i])
		}
		for j, p := range ma[i].Floats {
			q := mb[i].Floats[j]
			if p.T != q.T || !closeEnough(p.F, q.F) {
				return fmt.Errorf("%s: point %d is %v@%d, want %v@%d", ma[i].Metric, j, q.F, q.T, p.F, p.T)
			}
		}
		for j, p := range ma[i].Histograms {
			q := mb[i].Histograms[j]
			if p.T != q.T || !closeEnough(p.H.Count, q.H.Count) || !closeEnough(p.H.Sum, q.H.Sum) {
				return fmt.Errorf("%s: histogram %d is %v@%d, want %v@%d", ma[i].Metric, j, q.H, q.T, p.H, p.T)
			}
		}
	}
	return nil
}

func closeEnough(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

func asMatrix(v parser.Value) promql.Matrix {
	var m promql.Matrix
	switch v := v.(type) {
	case promql.Matrix:
		m = v
	case promql.Vector:
		for _, s := range v {
			ps := promql.Series{Metric: s.Metric}
			if s.H != nil {
				ps.Histograms = []promql.HPoint{{T: s.T, H: s.H}}
			} else {
				ps.Floats = []promql.FPoint{{T: s.T, F: s.F}}
			}
			m = append(m, ps)
		}
	case promql.Scalar:
		m = promql.Matrix{{Floats: []promql.FPoint{{T: v.T, F: v.V}}}}
	}
	m = slices.Clone(m)
	sort.Sort(m)
	return m
}

func isSharded(qs string) bool {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(qs)
	if err != nil {
		return false
	}
	_, p := planShards(e, qs)
	return p != nil
}

// TestShardedEqualsUnsharded: over random data, every generated query,
// instant and range, answers the same sharded and unsharded: series,
// timestamps, values, warnings, and samples processed (stats).
func TestShardedEqualsUnsharded(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			f := newShardFixture(t, seed, nil, 2+int(seed)%4)
			r := rand.New(rand.NewPCG(seed, 7))
			sharded := 0
			for _, qs := range shardQueries(r, 120) {
				if isSharded(qs) {
					sharded++
				}
				end := f.end.Add(-time.Duration(r.IntN(90)) * time.Minute)
				start := end.Add(-time.Duration(1+r.IntN(60)) * time.Minute)
				steps := []time.Duration{0, 15 * time.Second, time.Minute, 7 * time.Minute, 30 * time.Second}
				step := steps[r.IntN(len(steps))]
				opts := promql.NewPrometheusQueryOpts(r.IntN(2) == 0, 0)
				if r.IntN(4) == 0 {
					opts = promql.NewPrometheusQueryOpts(false, 2*time.Minute) // a short lookback
				}
				pq, want, err := f.run(context.Background(), f.plain, qs, start, end, step, opts)
				if err != nil {
					t.Fatalf("%s: %v", qs, err)
				}
				sq, got, err := f.run(context.Background(), f.shard, qs, start, end, step, opts)
				if err != nil {
					t.Fatalf("%s: %v", qs, err)
				}
				what := fmt.Sprintf("%s (step %s, range %s..%s)", qs, step, start.Format(time.TimeOnly), end.Format(time.TimeOnly))
				if (want.Err == nil) != (got.Err == nil) || (want.Err != nil && want.Err.Error() != got.Err.Error()) {
					t.Fatalf("%s: error %v, want %v", what, got.Err, want.Err)
				}
				if want.Err == nil {
					if err := sameResult(want.Value, got.Value); err != nil {
						t.Fatalf("%s: %v", what, err)
					}
				}
				ww, wi := want.Warnings.AsStrings(qs, 0, 0)
				gw, gi := got.Warnings.AsStrings(qs, 0, 0)
				if !slices.Equal(sorted(append(ww, wi...)), sorted(append(gw, gi...))) {
					t.Fatalf("%s: warnings %q %q, want %q %q", what, gw, gi, ww, wi)
				}
				ws, gs := pq.Stats().Samples, sq.Stats().Samples
				if ws.TotalSamples != gs.TotalSamples || !slices.Equal(ws.TotalSamplesPerStep, gs.TotalSamplesPerStep) || ws.SamplesRead != gs.SamplesRead {
					t.Fatalf("%s: samples %d %v (read %d), want %d %v (read %d)", what, gs.TotalSamples, gs.TotalSamplesPerStep, gs.SamplesRead,
						ws.TotalSamples, ws.TotalSamplesPerStep, ws.SamplesRead)
				}
				pq.Close()
				sq.Close()
			}
			if sharded < 40 {
				t.Fatalf("only %d of 120 queries sharded", sharded)
			}
		})
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// TestShardRewrite: which queries shard, and into what.
func TestShardRewrite(t *testing.T) {
	cases := []struct{ in, want string }{
		{`sum(rate(x[5m]))`, `sum(__kansoku_embedded__{__kansoku_embedded_id__="0"})`},
		{`sum by (job) (rate(x[5m]))`, `sum by (job) (__kansoku_embedded__{__kansoku_embedded_id__="0"})`},
		{`count without (instance) (x)`, `sum without (instance, __kansoku_shard__) (__kansoku_embedded__{__kansoku_embedded_id__="0"})`},
		{`max(x * 2) - min(-y)`, `max(__kansoku_embedded__{__kansoku_embedded_id__="0"}) - min(__kansoku_embedded__{__kansoku_embedded_id__="1"})`},
		{`group(x > 3)`, `group(__kansoku_embedded__{__kansoku_embedded_id__="0"})`},
		{`histogram_quantile(0.9, sum by (le) (rate(x[5m])))`, `histogram_quantile(0.9, sum by (le) (__kansoku_embedded__{__kansoku_embedded_id__="0"}))`},
		{`max(sum by (job) (rate(x[5m] offset 1h)))`, `max(sum by (job) (__kansoku_embedded__{__kansoku_embedded_id__="0"}))`},
		{`count({__name__=~"metric_1.*"})`, `sum(__kansoku_embedded__{__kansoku_embedded_id__="0"})`},
		{`sum(x) by (job)`, `sum by (job) (__kansoku_embedded__{__kansoku_embedded_id__="0"})`},
	}
	for _, c := range cases {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(c.in)
		if err != nil {
			t.Fatal(err)
		}
		e, p := planShards(e, c.in)
		if p == nil || e.String() != c.want {
			t.Errorf("%s: rewritten to %s, want %s", c.in, e, c.want)
		}
		for _, n := range p.nodes {
			if len(n) > len(c.in) || strings.TrimSpace(n) == "" {
				t.Errorf("%s: node %q", c.in, n)
			}
		}
	}
	for _, qs := range []string{
		`avg(rate(x[5m]))`,                            // avg is not sharded
		`topk(3, x)`, `quantile(0.5, x)`, `stddev(x)`, // not decomposable here
		`sum(rate(x[5m] @ 100))`, `sum(x) + y @ end()`, // @ anywhere
		`sum(rate({__name__=~"a|b"}[5m]))`, // two names, one label set after rate
		`sum(label_replace(x, "a", "b", "c", "d"))`,
		`sum(histogram_quantile(0.9, x))`,
		`max_over_time(sum(x)[10m:1m])`, // inside a subquery
		`sum(x + y)`, `sum(x * on() group_left scalar(y))`, `sum(absent(x))`, `sum(time() - x)`,
		`sum(__kansoku_embedded__{__kansoku_embedded_id__="0"})`, `sum by (__kansoku_shard__) (x)`,
		`x`, `rate(x[5m])`, `sum(sum(x) by (a))` + `[5m:]`,
	} {
		if isSharded(qs) {
			t.Errorf("%s was sharded", qs)
		}
	}
}
