package query

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

const (
	wsA = "ws-aaaaaaaa-2222-4333-8444-555555555555"
	wsB = "ws-bbbbbbbb-2222-4333-8444-555555555555"
)

// cacheFixture: two workspaces with three days of data, every 5 minutes,
// different in each workspace; late samples are accepted (an
// out-of-order window), as they would be within the head.
type cacheFixture struct {
	mgr   *tenantdb.Manager
	cache *ResultsCache
	start time.Time // first sample
	end   time.Time // last sample
}

func newCacheFixture(t *testing.T, maxBytes int64, lim *limits.Limits) (*cacheFixture, *API, *API) {
	t.Helper()
	return newCacheFixtureConfig(t, ResultsCacheConfig{MaxSizeBytes: maxBytes, MaxFreshness: model.Duration(10 * time.Minute)}, lim)
}

func newCacheFixtureConfig(t *testing.T, cfg ResultsCacheConfig, lim *limits.Limits) (*cacheFixture, *API, *API) {
	t.Helper()
	f := &cacheFixture{}
	f.cache = NewResultsCache(cfg, prometheus.NewRegistry())
	f.mgr = tenantdb.New(tenantdb.Options{Dir: t.TempDir(), OutOfOrderTimeWindow: 30 * 24 * time.Hour, OnCommit: f.cache.Invalidate, TSDB: shardingTSDB})
	t.Cleanup(func() { _ = f.mgr.CloseAll() })
	f.end = time.Now().Add(-time.Hour).Truncate(5 * time.Minute)
	f.start = f.end.Add(-3 * 24 * time.Hour)
	for i, ws := range []string{wsA, wsB} {
		if err := f.mgr.Open(ws, 365*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		// Everything stays in the head (2-hour chunks): chunk counts
		// do not depend on when compaction runs.
		db, _ := f.mgr.DB(ws)
		db.DisableCompactions()
		app, _ := f.mgr.Appender(context.Background(), ws)
		for s := 0; s < 6; s++ {
			l := labels.FromStrings("__name__", "http_requests_total", "job", fmt.Sprintf("job-%d", s%3), "instance", fmt.Sprint(s))
			for ts, n := f.start, 0; !ts.After(f.end); ts, n = ts.Add(5*time.Minute), n+1 {
				if _, err := app.Append(0, l, ts.UnixMilli(), float64(n*(s+1)*(i*10+1))); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	o := limits.NewOverrides(limits.Defaults())
	if lim != nil {
		o = limits.NewOverrides(*lim)
	}
	plain := New(Options{Limits: o}, f.mgr, nil)
	cached := New(Options{Limits: o, ResultsCache: f.cache}, f.mgr, nil)
	return f, plain, cached
}

func rangeQuery(t *testing.T, api *API, ws, qs string, start, end time.Time, step time.Duration) (string, error) {
	t.Helper()
	m, _, err := runRange(api, ws, qs, start, end, step)
	if err != nil {
		return "", err
	}
	return m.String(), nil
}

// runRange runs a range query in ws and returns its result, copied out
// of the engine's pools, and the samples the engine read for it.
func runRange(api *API, ws, qs string, start, end time.Time, step time.Duration) (promql.Matrix, int64, error) {
	ctx := tenant.WithWorkspace(context.Background(), ws)
	q, err := api.Engine().NewRangeQuery(ctx, api.Queryable(), nil, qs, start, end, step)
	if err != nil {
		return nil, 0, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, 0, res.Err
	}
	m, err := res.Matrix()
	if err != nil {
		return nil, 0, err
	}
	return copyMatrix(m), q.Stats().Samples.TotalSamples, nil
}

var cacheQueries = []string{
	`sum(rate(http_requests_total[15m]))`,
	`sum by (job) (increase(http_requests_total[1h]))`,
	`max_over_time(http_requests_total[30m])`,
	`http_requests_total`,
	`topk(2, http_requests_total)`,
	`count(http_requests_total > 100)`,
	`vector(1)`,
}

// Split by day and cached, range queries answer exactly what the engine
// answers over the whole range, on a miss and on a hit, for ranges and
// steps that do and do not line up with days.
func TestResultsCacheSameAnswers(t *testing.T) {
	f, plain, cached := newCacheFixture(t, 64<<20, nil)
	ranges := []struct {
		start, end time.Time
		step       time.Duration
	}{
		{f.start, f.end, 5 * time.Minute},
		{f.start.Add(7 * time.Minute), f.end.Add(-3 * time.Minute), 7 * time.Minute},
		{f.start.Add(12 * time.Hour), f.end, time.Hour},
		{f.end.Add(-2 * time.Hour), f.end.Add(-time.Hour), 30 * time.Second}, // one piece
		// The engine steps in whole milliseconds.
		{f.start.Add(7 * time.Minute), f.end, 7*time.Minute + 500*time.Microsecond},
	}
	for _, r := range ranges {
		for _, qs := range cacheQueries {
			want, err := rangeQuery(t, plain, wsA, qs, r.start, r.end, r.step)
			if err != nil {
				t.Fatal(err)
			}
			for _, pass := range []string{"miss", "hit"} {
				got, err := rangeQuery(t, cached, wsA, qs, r.start, r.end, r.step)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("%s over %s..%s step %s, %s: cached answer differs:\n%.600s\nwant\n%.600s", qs, r.start, r.end, r.step, pass, got, want)
				}
			}
		}
	}
	if hits := testutil.ToFloat64(f.cache.hits); hits == 0 {
		t.Fatal("no result was served from the cache")
	}
}

// Split by day, cached and sharded, range queries answer what the engine
// answers over the whole range (sums up to the rounding of adding partial
// sums in another order).
func TestResultsCacheSharded(t *testing.T) {
	f, plain, _ := newCacheFixture(t, 64<<20, nil)
	sharded := New(Options{Limits: limits.NewOverrides(limits.Defaults()), ResultsCache: f.cache, Shards: 3}, f.mgr, nil)
	eval := func(api *API, qs string, start, end time.Time, step time.Duration) promql.Matrix {
		m, _, err := runRange(api, wsA, qs, start, end, step)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	shardedQueries := 0
	for _, qs := range cacheQueries {
		if isSharded(qs) {
			shardedQueries++
		}
		for _, r := range []struct {
			start, end time.Time
			step       time.Duration
		}{{f.start, f.end, 5 * time.Minute}, {f.start.Add(7 * time.Minute), f.end.Add(-3 * time.Minute), 7 * time.Minute}} {
			want := eval(plain, qs, r.start, r.end, r.step)
			for _, pass := range []string{"miss", "hit"} {
				if err := sameResult(want, eval(sharded, qs, r.start, r.end, r.step)); err != nil {
					t.Fatalf("%s step %s, %s: %v", qs, r.step, pass, err)
				}
			}
		}
	}
	if shardedQueries < 3 {
		t.Fatalf("%d queries sharded", shardedQueries)
	}
}

// Workspace B never gets workspace A's cached results.
func TestResultsCacheWorkspaceIsolation(t *testing.T) {
	f, plain, cached := newCacheFixture(t, 64<<20, nil)
	qs := `sum(http_requests_total)`
	a1, err := rangeQuery(t, cached, wsA, qs, f.start, f.end, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := rangeQuery(t, cached, wsB, qs, f.start, f.end, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wantB, _ := rangeQuery(t, plain, wsB, qs, f.start, f.end, time.Hour)
	if b1 == a1 || b1 != wantB {
		t.Fatalf("workspace B got another answer than its own data's (A's: %v)", b1 == a1)
	}
	// And after both are cached, each still gets its own.
	a2, _ := rangeQuery(t, cached, wsA, qs, f.start, f.end, time.Hour)
	b2, _ := rangeQuery(t, cached, wsB, qs, f.start, f.end, time.Hour)
	if a2 != a1 || b2 != wantB {
		t.Fatal("cached answers crossed workspaces")
	}
	// A write into A invalidates A's results only.
	hitsBefore := testutil.ToFloat64(f.cache.hits)
	app, _ := f.mgr.Appender(context.Background(), wsA)
	if _, err := app.Append(0, labels.FromStrings("__name__", "http_requests_total", "job", "late"), f.start.Add(time.Hour).UnixMilli(), 1000); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if b3, _ := rangeQuery(t, cached, wsB, qs, f.start, f.end, time.Hour); b3 != wantB {
		t.Fatal("B's answer changed after a write into A")
	}
	if testutil.ToFloat64(f.cache.hits) == hitsBefore {
		t.Fatal("B's cached days were dropped by a write into A")
	}
}

// A sample written late into a cached day is in the next answer.
func TestResultsCacheLateSamplesInvalidate(t *testing.T) {
	f, plain, cached := newCacheFixture(t, 64<<20, nil)
	qs := `sum(http_requests_total)`
	before, err := rangeQuery(t, cached, wsA, qs, f.start, f.end, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := rangeQuery(t, cached, wsA, qs, f.start, f.end, 10*time.Minute); again != before {
		t.Fatal("second answer differs")
	}
	// Late: a new series and an out-of-order sample of an existing one,
	// both in the first (cached) day.
	late := f.start.Add(5 * time.Hour)
	app, _ := f.mgr.Appender(context.Background(), wsA)
	if _, err := app.Append(0, labels.FromStrings("__name__", "http_requests_total", "job", "late", "instance", "x"), late.UnixMilli(), 1e6); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Append(0, labels.FromStrings("__name__", "http_requests_total", "job", "job-0", "instance", "0"), late.Add(time.Minute).UnixMilli(), 5e6); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	after, err := rangeQuery(t, cached, wsA, qs, f.start, f.end, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := rangeQuery(t, plain, wsA, qs, f.start, f.end, 10*time.Minute)
	if after != want {
		t.Fatal("the answer after a late sample is not the engine's")
	}
	if after == before {
		t.Fatal("the late samples are not in the answer: the cached day was not invalidated")
	}
	if testutil.ToFloat64(f.cache.invalidations) == 0 {
		t.Fatal("no invalidation counted")
	}
}

// The cache never holds more than its bound, evicting the least recently
// used results.
func TestResultsCacheBoundedMemory(t *testing.T) {
	const max = 64 << 10
	f, plain, cached := newCacheFixture(t, max, nil)
	for i := 0; i < 40; i++ {
		qs := fmt.Sprintf(`http_requests_total * %d`, i+1)
		got, err := rangeQuery(t, cached, wsA, qs, f.start, f.end, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if size := f.cache.Size(); size > max {
			t.Fatalf("cache holds %d bytes, bound %d", size, max)
		}
		if want, _ := rangeQuery(t, plain, wsA, qs, f.start, f.end, 5*time.Minute); got != want {
			t.Fatal("answer differs under eviction")
		}
	}
	if testutil.ToFloat64(f.cache.evictions) == 0 {
		t.Fatal("nothing was evicted: the test did not fill the cache")
	}
	if f.cache.Size() == 0 {
		t.Fatal("nothing is cached")
	}
}

// One workspace running many distinct queries fills its own share of the
// cache, evicting its own least recently used results, not another
// workspace's.
func TestResultsCacheWorkspaceShare(t *testing.T) {
	const max, share = 256 << 10, 64 << 10
	f, plain, cached := newCacheFixtureConfig(t, ResultsCacheConfig{MaxSizeBytes: max, MaxSizeBytesPerWorkspace: share, MaxFreshness: model.Duration(10 * time.Minute)}, nil)
	qs := `sum(http_requests_total)`
	wantB, _ := rangeQuery(t, plain, wsB, qs, f.start, f.end, time.Hour)
	if got, _ := rangeQuery(t, cached, wsB, qs, f.start, f.end, time.Hour); got != wantB {
		t.Fatal("B's answer differs")
	}
	sizeB := f.cache.workspaceSize(wsB)
	if sizeB == 0 {
		t.Fatal("B's result was not cached")
	}
	for i := 0; i < 40; i++ { // A floods the cache
		q := fmt.Sprintf(`http_requests_total * %d`, i+1)
		got, err := rangeQuery(t, cached, wsA, q, f.start, f.end, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := rangeQuery(t, plain, wsA, q, f.start, f.end, 5*time.Minute); got != want {
			t.Fatal("A's answer differs under eviction")
		}
		if a := f.cache.workspaceSize(wsA); a > share || a == 0 {
			t.Fatalf("workspace A holds %d bytes of the cache, share %d", a, share)
		}
	}
	if testutil.ToFloat64(f.cache.evictions) == 0 {
		t.Fatal("A's flood evicted nothing: the test did not fill its share")
	}
	if f.cache.workspaceSize(wsB) != sizeB {
		t.Fatal("A's flood evicted B's results")
	}
	hits := testutil.ToFloat64(f.cache.hits)
	if got, _ := rangeQuery(t, cached, wsB, qs, f.start, f.end, time.Hour); got != wantB || testutil.ToFloat64(f.cache.hits) == hits {
		t.Fatal("B's result is no longer answered from the cache")
	}
	if f.cache.Size() != f.cache.workspaceSize(wsA)+f.cache.workspaceSize(wsB) {
		t.Fatal("the workspaces' sizes do not add up to the cache's")
	}
}

// Split queries keep every query limit: the length of the whole query
// (each day is under it), chunks and bytes counted over all days, series
// per day, samples of the whole result.
func TestResultsCacheKeepsQueryLimits(t *testing.T) {
	cases := []struct {
		name string
		set  func(*limits.Limits)
		qs   string
		want string
	}{
		{"query length", func(l *limits.Limits) { l.MaxQueryLength = model.Duration(48 * time.Hour) }, `sum(http_requests_total)`, "the query time range exceeds the limit"},
		// 6 series, a chunk per 2 hours: about 78 chunks a day, 216 in all.
		{"chunks over all days", func(l *limits.Limits) { l.MaxChunksPerQuery = 100 }, `sum(http_requests_total)`, "max number of chunks limit"},
		// AMP's byte limit is per 24 h of a range query's range: the split
		// query's is its whole range's, counted over all its days.
		{"bytes over all days", func(l *limits.Limits) { l.MaxBytesPerQuery = 2000 }, `sum(http_requests_total)`, "aggregated data size limit"},
		{"series", func(l *limits.Limits) { l.MaxSeriesPerQuery = 5 }, `sum(http_requests_total)`, "max number of series limit"},
		{"samples of the result", func(l *limits.Limits) { l.MaxSamplesPerQuery = 3000 }, `http_requests_total`, "query processing would load too many samples"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := limits.Defaults()
			tc.set(&l)
			f, _, cached := newCacheFixture(t, 64<<20, &l)
			for pass := 0; pass < 2; pass++ { // and not from the cache either
				_, err := rangeQuery(t, cached, wsA, tc.qs, f.start, f.end, 5*time.Minute)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("pass %d: got %v, want %q", pass, err, tc.want)
				}
			}
			// Each day alone is within the limits (series are per day).
			if tc.name != "series" && tc.name != "bytes over all days" {
				day := f.end.UTC().Truncate(24 * time.Hour)
				if _, err := rangeQuery(t, cached, wsA, tc.qs, day.Add(-24*time.Hour), day.Add(-time.Minute), 5*time.Minute); err != nil {
					t.Fatalf("one day: %v", err)
				}
			}
		})
	}
}

// A dashboard over the last hour, refreshed: each refresh answers what
// the engine answers over the whole range, evaluates only the steps no
// earlier refresh cached and those within max_freshness, sees samples
// written since the last refresh in the fresh steps, and sees a sample
// written late into the cached steps (an invalidation).
func TestResultsCacheSlidingWindow(t *testing.T) {
	f, plain, cached := newCacheFixture(t, 64<<20, nil)
	clock := f.end.Add(5 * time.Minute) // the last 10 minutes hold one sample
	f.cache.now = func() time.Time { return clock }
	// refresh runs the dashboard's query over the window before the clock
	// and returns the samples the engine read for it.
	refresh := func(qs string, step time.Duration, window time.Duration) int64 {
		t.Helper()
		end := clock.Truncate(step)
		start := end.Add(-window)
		want, err := rangeQuery(t, plain, wsA, qs, start, end, step)
		if err != nil {
			t.Fatal(err)
		}
		got, read, err := runRange(cached, wsA, qs, start, end, step)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want {
			t.Fatalf("%s at %s step %s: cached answer differs:\n%.600s\nwant\n%.600s", qs, clock.Format(time.TimeOnly), step, got, want)
		}
		return read
	}
	write := func(ts time.Time, v float64) {
		t.Helper()
		app, _ := f.mgr.Appender(context.Background(), wsA)
		if _, err := app.Append(0, labels.FromStrings("__name__", "http_requests_total", "job", "job-0", "instance", "0"), ts.UnixMilli(), v); err != nil {
			t.Fatal(err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for _, qs := range cacheQueries {
		first := refresh(qs, time.Minute, time.Hour)
		clock = clock.Add(time.Minute)
		second := refresh(qs, time.Minute, time.Hour)
		if second*3 > first {
			t.Fatalf("%s: the refresh a minute later read %d samples, the first %d: the cached steps were evaluated again", qs, second, first)
		}
	}
	hits := testutil.ToFloat64(f.cache.hits)
	if hits < float64(len(cacheQueries)) {
		t.Fatalf("%v hits for %d refreshes over cached steps", hits, len(cacheQueries))
	}
	qs := `sum(rate(http_requests_total[15m]))`
	for i, advance := range []time.Duration{30 * time.Second, 7 * time.Minute, 0, 2 * time.Hour, time.Minute} {
		clock = clock.Add(advance)
		// A sample within the freshness window, since the last refresh:
		// it changes nothing cached, and is in the answer.
		write(clock.Add(-time.Minute+time.Duration(i)*time.Second), float64(1e4*(i+1)))
		for _, step := range []time.Duration{time.Minute, 30 * time.Second, 7 * time.Minute} {
			refresh(qs, step, time.Hour)
		}
		// Zoomed out on the same grid: the steps before the cached ones
		// are evaluated and joined to them.
		refresh(qs, time.Minute, 3*time.Hour)
	}
	if n := testutil.ToFloat64(f.cache.invalidations); n != 0 {
		t.Fatalf("fresh samples invalidated %v cached results", n)
	}
	// Late, into the steps cached: the next refresh sees it.
	write(clock.Add(-40*time.Minute), 1e9)
	refresh(qs, time.Minute, time.Hour)
	if testutil.ToFloat64(f.cache.invalidations) == 0 {
		t.Fatal("a late sample invalidated nothing")
	}
}

// Refreshes running while samples are written late into their cached
// steps and the clock moves: once a write has returned, every answer
// after it has its sample (no result computed before it is stored after
// it).
func TestResultsCacheConcurrentRefreshesAndLateWrites(t *testing.T) {
	f, plain, cached := newCacheFixture(t, 64<<20, nil)
	var clock atomic.Int64
	clock.Store(f.end.Add(5 * time.Minute).UnixMilli())
	f.cache.now = func() time.Time { return time.UnixMilli(clock.Load()) }
	qs := `count(http_requests_total)`
	window := func() (time.Time, time.Time) {
		end := time.UnixMilli(clock.Load()).Truncate(time.Minute)
		return end.Add(-2 * time.Hour), end
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				start, end := window()
				if _, _, err := runRange(cached, wsA, qs, start, end, time.Minute); err != nil {
					t.Error(err)
					return
				}
				clock.Add(time.Minute.Milliseconds()) // a new cacheable step each time
			}
		}()
	}
	for i := 0; i < 100; i++ {
		start, _ := window()
		app, _ := f.mgr.Appender(context.Background(), wsA)
		if _, err := app.Append(0, labels.FromStrings("__name__", "http_requests_total", "job", "late", "instance", fmt.Sprint(i)), start.Add(30*time.Minute).UnixMilli(), 1); err != nil {
			t.Fatal(err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
		start, end := window()
		got, err := rangeQuery(t, cached, wsA, qs, start, end, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := rangeQuery(t, plain, wsA, qs, start, end, time.Minute); got != want {
			t.Fatalf("write %d: the answer after it is not the engine's:\n%.400s\nwant\n%.400s", i, got, want)
		}
	}
	cancel()
	wg.Wait()
}

// A query whose selection reaches past its steps (a negative offset) is
// not cached where what it read is within the freshness window.
func TestResultsCacheNegativeOffset(t *testing.T) {
	f, plain, cached := newCacheFixture(t, 64<<20, nil)
	clock := f.end.Add(20 * time.Minute)
	f.cache.now = func() time.Time { return clock }
	qs := `sum(http_requests_total offset -15m)`
	start, end := clock.Add(-time.Hour).Truncate(time.Minute), clock.Truncate(time.Minute)
	for pass := 0; pass < 2; pass++ {
		got, err := rangeQuery(t, cached, wsA, qs, start, end, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := rangeQuery(t, plain, wsA, qs, start, end, time.Minute); got != want {
			t.Fatalf("pass %d: cached answer differs", pass)
		}
		// A sample 15 minutes after a cacheable step, written after the
		// first pass: the second pass must see it.
		app, _ := f.mgr.Appender(context.Background(), wsA)
		if _, err := app.Append(0, labels.FromStrings("__name__", "http_requests_total", "job", "new", "instance", "n"), clock.Add(-2*time.Minute).UnixMilli(), 1e6); err != nil {
			t.Fatal(err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if f.cache.Size() != 0 {
		t.Fatal("a result that read samples within the freshness window was cached")
	}
}

// Cache-Control: no-store or no-cache on a request bypasses the cache:
// its range query neither reads nor fills it.
func TestResultsCacheBypassedOnRequest(t *testing.T) {
	f, _, cached := newCacheFixture(t, 64<<20, nil)
	do := func(header string) {
		t.Helper()
		v := url.Values{"query": {"sum(http_requests_total)"}, "start": {fmt.Sprint(f.start.Unix())}, "end": {fmt.Sprint(f.end.Unix())}, "step": {"3600"}}
		r := httptest.NewRequest("GET", "/api/v1/query_range?"+v.Encode(), nil)
		if header != "" {
			r.Header.Set("Cache-Control", header)
		}
		rec := httptest.NewRecorder()
		cached.ServeHTTP(rec, r.WithContext(tenant.WithWorkspace(r.Context(), wsA)))
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	for _, h := range []string{"no-store", "max-age=0, No-Cache"} {
		do(h)
		if f.cache.Size() != 0 || testutil.ToFloat64(f.cache.misses) != 0 {
			t.Fatalf("Cache-Control: %s: the cache was used", h)
		}
	}
	do("")
	do("max-age=60")
	if f.cache.Size() == 0 || testutil.ToFloat64(f.cache.hits) == 0 {
		t.Fatal("without no-store the cache was not used")
	}
}

func TestSliceMatrix(t *testing.T) {
	m := promql.Matrix{
		{Metric: labels.FromStrings("a", "1"), Floats: []promql.FPoint{{T: 10}, {T: 20}, {T: 30}}},
		{Metric: labels.FromStrings("a", "2"), Floats: []promql.FPoint{{T: 40}}},
	}
	if got := sliceMatrix(m, 15, 30); len(got) != 1 || len(got[0].Floats) != 2 || got[0].Floats[0].T != 20 || cap(got[0].Floats) != 2 {
		t.Fatalf("15..30: %v", got)
	}
	if got := sliceMatrix(m, 0, 100); len(got) != 2 {
		t.Fatalf("0..100: %v", got)
	}
	if got := sliceMatrix(m, 31, 39); len(got) != 0 {
		t.Fatalf("31..39: %v", got)
	}
}

func TestSplitByDay(t *testing.T) {
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	got := splitByDay(day.Add(22*time.Hour), day.Add(50*time.Hour), 7*time.Hour)
	// Steps at 22h, 29h, 36h, 43h, 50h: day 1 {22h}, day 2 {29h..43h}, day 3 {50h}.
	want := []piece{{day.Add(22 * time.Hour), day.Add(22 * time.Hour)}, {day.Add(29 * time.Hour), day.Add(43 * time.Hour)}, {day.Add(50 * time.Hour), day.Add(50 * time.Hour)}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if p := splitByDay(day, day.Add(-time.Second+24*time.Hour), time.Minute); len(p) != 1 {
		t.Fatalf("one day: %v", p)
	}
}

var _ promql.Query = (*splitQuery)(nil)
