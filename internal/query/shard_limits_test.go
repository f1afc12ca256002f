package query

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenant"
)

// limitProbe evaluates qs unsharded and sharded (4 shards) under lim and
// returns both results.
func limitProbe(t *testing.T, lim limits.Limits, qs string, step time.Duration) (plain, sharded *promql.Result) {
	t.Helper()
	f := newShardFixture(t, 11, &lim, 4)
	if !isSharded(qs) {
		t.Fatalf("%s does not shard", qs)
	}
	start := f.end.Add(-time.Hour)
	pq, plain, err := f.run(context.Background(), f.plain, qs, start, f.end, step, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pq.Close)
	sq, sharded, err := f.run(context.Background(), f.shard, qs, start, f.end, step, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sq.Close)
	return plain, sharded
}

// sameOutcome: both succeed with the same value, or fail with the same
// error (message and type).
func sameOutcome(t *testing.T, what string, plain, sharded *promql.Result) {
	t.Helper()
	switch {
	case (plain.Err == nil) != (sharded.Err == nil):
		t.Fatalf("%s: sharded error %v, unsharded %v", what, sharded.Err, plain.Err)
	case plain.Err != nil:
		if plain.Err.Error() != sharded.Err.Error() || fmt.Sprintf("%T", plain.Err) != fmt.Sprintf("%T", sharded.Err) {
			t.Fatalf("%s: sharded error %T %q, unsharded %T %q", what, sharded.Err, sharded.Err, plain.Err, plain.Err)
		}
	default:
		if err := sameResult(plain.Value, sharded.Value); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// TestShardedQueriesKeepTheQueryLimits: each per-query limit, set just
// at and just under what the query needs, fails the sharded query
// exactly when it fails the unsharded one, with the same error: the
// shards share one count of series, chunks and bytes (a limit is not
// multiplied by the shards), and no shard is held to a share of it.
func TestShardedQueriesKeepTheQueryLimits(t *testing.T) {
	const qs = `sum by (job) (rate(req_total[5m]))`
	// What the query reads, measured unsharded without limits.
	f := newShardFixture(t, 11, nil, 4)
	var series, chunks int
	start := f.end.Add(-time.Hour)
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	q, _ := f.mgr.Querier("ws", start.Add(-5*time.Minute).UnixMilli(), f.end.UnixMilli())
	ss := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "req_total"))
	for ss.Next() {
		series++
	}
	q.Close()
	n, _, err := f.mgr.CountChunks(ctx, "ws", start.Add(-5*time.Minute).UnixMilli(), f.end.UnixMilli(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "req_total"))
	if err != nil {
		t.Fatal(err)
	}
	chunks = int(n)
	pq, res, err := f.run(context.Background(), f.plain, qs, start, f.end, time.Minute, nil)
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	samples := pq.Stats().Samples.PeakSamples
	pq.Close()
	if series < 8 || chunks < series || samples < 100 {
		t.Fatalf("fixture too small: %d series, %d chunks, peak %d samples", series, chunks, samples)
	}
	for _, tc := range []struct {
		name      string
		set       func(l *limits.Limits, n int)
		n         int
		wantError string
	}{
		{"series", func(l *limits.Limits, n int) { l.MaxSeriesPerQuery = n }, series, "max number of series limit"},
		{"chunks", func(l *limits.Limits, n int) { l.MaxChunksPerQuery = n }, chunks, "max number of chunks limit"},
		{"bytes", func(l *limits.Limits, n int) { l.MaxBytesPerQuery = int64(n) * headChunkBytesForTest }, chunks, "aggregated data size limit"},
		// Each shard holds at most a quarter of the samples; a query that
		// needs more in one shard is evaluated unsharded, under the whole
		// limit.
		{"samples", func(l *limits.Limits, n int) { l.MaxSamplesPerQuery = n }, samples, "query processing would load too many samples into memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := limits.Defaults()
			tc.set(&lim, tc.n)
			plain, sharded := limitProbe(t, lim, qs, time.Minute)
			if plain.Err != nil {
				t.Fatalf("at the limit: %v", plain.Err)
			}
			sameOutcome(t, "at the limit", plain, sharded)
			if tc.wantError == "" {
				return
			}
			tc.set(&lim, tc.n-1)
			plain, sharded = limitProbe(t, lim, qs, time.Minute)
			if plain.Err == nil || !strings.Contains(plain.Err.Error(), tc.wantError) {
				t.Fatalf("under the limit: %v, want %q", plain.Err, tc.wantError)
			}
			sameOutcome(t, "under the limit", plain, sharded)
		})
	}
}

// TestShardedRepeatedSelectionCountsTwice: the shards count each
// selection once for all of them (the first shard to reach it counts the
// whole selection), but a selection made twice by the query is counted
// twice, as the unsharded query counts it.
func TestShardedRepeatedSelectionCountsTwice(t *testing.T) {
	const qs = `sum by (job) (rate(req_total[5m])) / sum by (job) (rate(req_total[5m]))`
	f := newShardFixture(t, 11, nil, 4)
	start := f.end.Add(-time.Hour)
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	n, _, err := f.mgr.CountChunks(ctx, "ws", start.Add(-5*time.Minute).UnixMilli(), f.end.UnixMilli(), labels.MustNewMatcher(labels.MatchEqual, "__name__", "req_total"))
	if err != nil || n < 8 {
		t.Fatalf("%d chunks, %v", n, err)
	}
	for _, tc := range []struct {
		name      string
		set       func(l *limits.Limits, n int)
		wantError string
	}{
		{"chunks", func(l *limits.Limits, n int) { l.MaxChunksPerQuery = n }, "max number of chunks limit"},
		{"bytes", func(l *limits.Limits, n int) { l.MaxBytesPerQuery = int64(n) * headChunkBytesForTest }, "aggregated data size limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := limits.Defaults()
			tc.set(&lim, 2*int(n))
			plain, sharded := limitProbe(t, lim, qs, time.Minute)
			if plain.Err != nil {
				t.Fatalf("at the limit: %v", plain.Err)
			}
			sameOutcome(t, "at the limit", plain, sharded)
			tc.set(&lim, 2*int(n)-1)
			plain, sharded = limitProbe(t, lim, qs, time.Minute)
			if plain.Err == nil || !strings.Contains(plain.Err.Error(), tc.wantError) {
				t.Fatalf("under the limit: %v, want %q", plain.Err, tc.wantError)
			}
			sameOutcome(t, "under the limit", plain, sharded)
		})
	}
}

// TestShardOverItsShareOfSamples: a query whose series all fall in one
// shard needs more than that shard's share of max_samples_per_query; it
// is evaluated unsharded, and succeeds as the unsharded query does.
func TestShardOverItsShareOfSamples(t *testing.T) {
	const qs = `sum(rate(req_total{instance="3"}[5m]))`
	f := newShardFixture(t, 11, nil, 4)
	pq, res, err := f.run(context.Background(), f.plain, qs, f.end.Add(-time.Hour), f.end, time.Minute, nil)
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	peak := pq.Stats().Samples.PeakSamples
	pq.Close()
	lim := limits.Defaults()
	lim.MaxSamplesPerQuery = peak
	plain, sharded := limitProbe(t, lim, qs, time.Minute)
	if plain.Err != nil {
		t.Fatal(plain.Err)
	}
	sameOutcome(t, "one shard holds all", plain, sharded)
	// The shard alone does fail under its share: the fallback ran.
	eng := newEngine(promql.EngineOpts{MaxSamples: peak, Timeout: time.Minute, LookbackDelta: 5 * time.Minute}, parserForTest(), 4)
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	var failed int
	for i := range 4 {
		q, err := eng.shard.NewRangeQuery(ctx, &shardQueryable{Queryable: f.shard.Queryable(), index: uint64(i), count: 4}, nil, qs, f.end.Add(-time.Hour), f.end, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if r := q.Exec(ctx); errors.As(r.Err, new(promql.ErrTooManySamples)) {
			failed++
		}
		q.Close()
	}
	if failed != 1 {
		t.Fatalf("%d shards over their share, want 1", failed)
	}
}

// hangingStorage holds every selection until its context ends.
type hangingStorage struct{ Storage }

func (s hangingStorage) Querier(ws string, mint, maxt int64) (storage.Querier, error) {
	q, err := s.Storage.Querier(ws, mint, maxt)
	return hangingQuerier{q}, err
}

type hangingQuerier struct{ storage.Querier }

func (hangingQuerier) Select(ctx context.Context, _ bool, _ *storage.SelectHints, _ ...*labels.Matcher) storage.SeriesSet {
	<-ctx.Done()
	return storage.ErrSeriesSet(ctx.Err())
}

// headChunkBytesForTest is tenantdb's byte count of a head chunk: the
// fixture's chunks are all in the head.
const headChunkBytesForTest = 192

// failingStorage fails every selection of shard 0 and holds the others
// until their context ends.
type failingStorage struct {
	Storage
	held atomic.Int64
}

func (s *failingStorage) Querier(ws string, mint, maxt int64) (storage.Querier, error) {
	q, err := s.Storage.Querier(ws, mint, maxt)
	return &failingQuerier{Querier: q, s: s}, err
}

type failingQuerier struct {
	storage.Querier
	s *failingStorage
}

func (q *failingQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	if hints == nil || hints.ShardCount == 0 {
		return storage.ErrSeriesSet(errors.New("storage failure"))
	}
	if hints.ShardIndex == 0 {
		time.Sleep(20 * time.Millisecond)
		return storage.ErrSeriesSet(errors.New("storage failure"))
	}
	q.s.held.Add(1)
	<-ctx.Done()
	return storage.ErrSeriesSet(ctx.Err())
}

// TestShardErrorCancelsTheOthers: the first shard to fail ends the
// query: the others are cancelled, and the error is the one the
// unsharded query reports for the same storage failure.
func TestShardErrorCancelsTheOthers(t *testing.T) {
	f := newShardFixture(t, 5, nil, 4)
	fs := &failingStorage{Storage: f.mgr}
	plain := New(Options{}, fs, nil)
	sharded := New(Options{Shards: 4}, fs, nil)
	const qs = `sum(rate(req_total[5m]))`
	start := time.Now()
	pq, want, err := f.run(context.Background(), plain, qs, f.start, f.end, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pq.Close()
	sq, got, err := f.run(context.Background(), sharded, qs, f.start, f.end, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("took %s: the held shards were not cancelled", took)
	}
	if fs.held.Load() != 3 {
		t.Fatalf("%d shards held, want 3", fs.held.Load())
	}
	sameOutcome(t, "storage failure", want, got)
	if !strings.Contains(got.Err.Error(), "storage failure") {
		t.Fatal(got.Err)
	}
}

// TestShardedQueryTimeoutAndCancellation: the workspace's query timeout
// and the client going away end a sharded query with the unsharded
// query's error.
func TestShardedQueryTimeoutAndCancellation(t *testing.T) {
	f := newShardFixture(t, 5, nil, 4)
	const qs = `sum by (job) (rate(req_total[5m]))`
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"deadline passed", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}},
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			pq, want, err := f.run(ctx, f.plain, qs, f.start, f.end, time.Minute, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer pq.Close()
			sq, got, err := f.run(ctx, f.shard, qs, f.start, f.end, time.Minute, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer sq.Close()
			if want.Err == nil {
				t.Fatal("the unsharded query succeeded")
			}
			sameOutcome(t, tc.name, want, got)
		})
	}
	// The client's deadline while the shards read.
	hs := hangingStorage{f.mgr}
	hplain, hsharded := New(Options{}, hs, nil), New(Options{Shards: 4}, hs, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	pq, want, _ := f.run(ctx, hplain, qs, f.start, f.end, time.Minute, nil)
	cancel()
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	sq, got, _ := f.run(ctx, hsharded, qs, f.start, f.end, time.Minute, nil)
	cancel()
	pq.Close()
	sq.Close()
	if want.Err == nil {
		t.Fatal("a hanging storage answered")
	}
	sameOutcome(t, "deadline while reading", want, got)
	// The workspace's timeout, shorter than the query takes.
	lim := limits.Defaults()
	lim.QueryTimeout = model.Duration(time.Nanosecond)
	o := limits.NewOverrides(lim)
	sharded := New(Options{Limits: o, Shards: 4}, f.mgr, nil)
	plain := New(Options{Limits: o}, f.mgr, nil)
	pq, want, _ = f.run(context.Background(), plain, qs, f.start, f.end, time.Minute, nil)
	defer pq.Close()
	sq, got, _ = f.run(context.Background(), sharded, qs, f.start, f.end, time.Minute, nil)
	defer sq.Close()
	if !errors.As(want.Err, new(promql.ErrQueryTimeout)) {
		t.Fatalf("unsharded: %v", want.Err)
	}
	sameOutcome(t, "workspace timeout", want, got)
}

// TestShardedQueryTakesOneAdmission: a sharded query holds one slot of
// its workspace and of the server, and reserves its samples once: with
// one slot and a budget of one query's samples it runs (shards taking
// slots or samples of their own would wait for themselves), and the
// query log is told the samples the unsharded query reads.
func TestShardedQueryTakesOneAdmission(t *testing.T) {
	f := newShardFixture(t, 5, nil, 4)
	lim := limits.Defaults()
	lim.MaxConcurrentQueries, lim.MaxQueuedQueries = 1, 0
	o := limits.NewOverrides(lim)
	var observed []Executed
	reg := prometheus.NewRegistry()
	const qs = `sum by (job) (rate(req_total[5m]))`
	observe := func(_ context.Context, e Executed) { observed = append(observed, e) }
	sharded := New(Options{Limits: o, Shards: 4, MaxConcurrent: 1, MaxInflightSamples: int64(lim.MaxSamplesPerQuery), Observe: observe, Registerer: reg}, f.mgr, nil)
	plain := New(Options{Limits: o, MaxConcurrent: 1, MaxInflightSamples: int64(lim.MaxSamplesPerQuery), Observe: observe}, f.mgr, nil)
	var bodies []string
	for _, api := range []*API{plain, sharded} {
		form := url.Values{"query": {qs}, "start": {fmt.Sprint(f.start.Unix())}, "end": {fmt.Sprint(f.end.Unix())}, "step": {"60"}, "stats": {"all"}}
		req := httptest.NewRequest("GET", "/api/v1/query_range?"+form.Encode(), nil)
		ctx, cancel := context.WithTimeout(tenant.WithWorkspace(context.Background(), "ws"), 20*time.Second)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req.WithContext(ctx))
		cancel()
		if rec.Code != http.StatusOK {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		bodies = append(bodies, rec.Body.String())
	}
	if len(observed) != 2 || observed[0].Samples == 0 || observed[0].Samples != observed[1].Samples {
		t.Fatalf("observed %+v", observed)
	}
	// stats=all: the same samples processed, per step too.
	if i, j := strings.Index(bodies[0], `"stats"`), strings.Index(bodies[1], `"stats"`); i < 0 || j < 0 ||
		stripTimings(bodies[0][i:]) != stripTimings(bodies[1][j:]) {
		t.Fatalf("stats differ:\n%s\n%s", bodies[0], bodies[1])
	}
	if v := testutil.ToFloat64(sharded.gate.running.WithLabelValues("ws")); v != 0 {
		t.Fatalf("%v queries still running", v)
	}
}

// stripTimings drops the stats' timings, which differ run to run.
func stripTimings(s string) string {
	i := strings.Index(s, `"timings"`)
	j := strings.Index(s, `"samples"`)
	if i < 0 || j < i {
		return s
	}
	return s[:i] + s[j:]
}

func parserForTest() parser.Parser { return parser.NewParser(parser.Options{}) }

// TestShardMinSeries: a query over fewer series than shard_min_series
// runs unsharded; over more, sharded.
func TestShardMinSeries(t *testing.T) {
	f := newShardFixture(t, 5, nil, 4)
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	for _, tc := range []struct {
		min  int
		qs   string
		want bool
	}{
		{1000, `sum(rate(req_total[5m]))`, false},
		{5, `sum(rate(req_total[5m]))`, true},
		{5, `sum(rate(req_total{instance="3"}[5m]))`, false},
		{5, `sum(rate(req_total{instance="3"}[5m])) + sum(temp)`, true}, // all selectors count
		{0, `sum(rate(req_total{instance="3"}[5m]))`, true},
	} {
		api := New(Options{Shards: 4, ShardMinSeries: tc.min}, f.mgr, nil)
		q, err := api.Engine().NewRangeQuery(ctx, api.Queryable(), nil, tc.qs, f.start, f.end, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		_, sharded := q.(*gatedQuery).Query.(*shardedQuery)
		if sharded != tc.want {
			t.Errorf("min %d, %s: sharded %v, want %v", tc.min, tc.qs, sharded, tc.want)
		}
		if res := q.Exec(ctx); res.Err != nil {
			t.Fatal(res.Err)
		}
		q.Close()
	}
}

// TestShardManyGroups: a by-aggregation with fewer than four series per
// group (by its labels' values) is not sharded; without-aggregations are
// not estimated.
func TestShardManyGroups(t *testing.T) {
	f := newShardFixture(t, 5, nil, 4)
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	api := New(Options{Shards: 4, ShardMinSeries: 1}, f.mgr, nil)
	for _, tc := range []struct {
		qs   string
		want bool
	}{
		{`sum by (job) (rate(req_total[5m]))`, true}, // 4 jobs, 23 series
		{`sum by (instance) (rate(req_total[5m]))`, false},
		{`sum by (job, code) (rate(req_total[5m]))`, false}, // 12 groups
		{`max(temp)`, true},
		{`sum without (instance) (rate(req_total[5m]))`, true},
	} {
		q, err := api.Engine().NewRangeQuery(ctx, api.Queryable(), nil, tc.qs, f.start, f.end, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		_, sharded := q.(*gatedQuery).Query.(*shardedQuery)
		if sharded != tc.want {
			t.Errorf("%s: sharded %v, want %v", tc.qs, sharded, tc.want)
		}
		q.Close()
	}
}
