package query

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
	"github.com/prometheus/prometheus/util/stats"
)

// ResultsCacheConfig configures the range-query results cache: range
// queries are evaluated one UTC day at a time, and within each day the
// steps that read only samples older than now − max_freshness are kept,
// per workspace, query and step grid, for the next query over them.
// Grafana asks the same past days again at every refresh of a dashboard
// over days and weeks, and the same last hour, shifted by the refresh
// interval, at every refresh of a dashboard over the last hour: the next
// refresh evaluates only the steps it has not seen and the last
// max_freshness. Samples written late into what a cached result read
// invalidate it.
type ResultsCacheConfig struct {
	// MaxSizeBytes bounds the cache's memory (least recently used results
	// go first); 0 turns the cache and the splitting off.
	MaxSizeBytes int64 `yaml:"max_size_bytes"`
	// MaxSizeBytesPerWorkspace bounds one workspace's share of it (its own
	// least recently used results go first), so that a tenant running
	// many distinct queries cannot evict every other tenant's results;
	// 0: no bound below MaxSizeBytes.
	MaxSizeBytesPerWorkspace int64 `yaml:"max_size_bytes_per_workspace"`
	// MaxFreshness: results reading samples newer than now − this are
	// never cached (they may still change).
	MaxFreshness model.Duration `yaml:"max_freshness"`
}

// DefaultResultsCacheConfig returns the defaults: 256 MiB, 64 MiB of it
// at most for one workspace, and results reading the last 10 minutes are
// not cached.
func DefaultResultsCacheConfig() ResultsCacheConfig {
	return ResultsCacheConfig{MaxSizeBytes: 256 << 20, MaxSizeBytesPerWorkspace: 64 << 20, MaxFreshness: model.Duration(10 * time.Minute)}
}

// Validate checks the configuration.
func (c *ResultsCacheConfig) Validate() error {
	if c.MaxSizeBytes < 0 {
		return errors.New("results_cache.max_size_bytes must not be negative")
	}
	if c.MaxSizeBytesPerWorkspace < 0 {
		return errors.New("results_cache.max_size_bytes_per_workspace must not be negative")
	}
	if c.MaxFreshness < model.Duration(time.Minute) {
		return errors.New("results_cache.max_freshness must be at least 1m")
	}
	return nil
}

// splitInterval is the length of one piece of a split range query.
const splitInterval = 24 * time.Hour

// ResultsCache holds range-query results per workspace and day, bounded
// in bytes. Invalidate is the write path's hook: a commit of samples at or
// before what a cached result read drops that result.
type ResultsCache struct {
	maxBytes  int64
	wsBytes   int64 // one workspace's bound, at most maxBytes
	freshness time.Duration
	now       func() time.Time

	mu    sync.Mutex
	lru   *list.List // of *cacheEntry, most recent first
	byKey map[string]*cacheEntry
	ws    map[string]*wsCache
	size  int64

	// watermarks (ws → *atomic.Int64) are the workspaces' watermarks
	// (see wsCache), read by Invalidate without taking mu: every commit
	// calls it, and a commit of fresh samples must not wait for, nor
	// serialise with, other workspaces' commits and queries.
	watermarks sync.Map

	hits, misses, evictions, invalidations prometheus.Counter
	bytes                                  prometheus.Gauge
}

// wsCache is one workspace's share of the cache.
type wsCache struct {
	lru  *list.List // of its *cacheEntry, most recent first
	size int64
	// watermark: every cached (or being computed) result of the workspace
	// read samples at or before it only; a commit of samples all after it
	// (the normal case: fresh data) changes nothing cached. It only
	// grows, and is stored in ResultsCache.watermarks too.
	watermark *atomic.Int64
	// gen counts the invalidations of the workspace: a result computed
	// while one happened is not stored.
	gen uint64
}

// cacheEntry is an extent: the result of a query at every step of its
// grid from first to last (ms), all in one UTC day.
type cacheEntry struct {
	key         string
	ws          string
	first, last int64 // its first and last steps
	mint, maxt  int64 // the samples the result read
	matrix      promql.Matrix
	size        int64
	// el and wsEl are its elements in the cache's and its workspace's
	// LRU lists.
	el, wsEl *list.Element
}

// NewResultsCache returns a cache; nil when the configuration turns it off.
func NewResultsCache(cfg ResultsCacheConfig, reg prometheus.Registerer) *ResultsCache {
	if cfg.MaxSizeBytes <= 0 {
		return nil
	}
	c := &ResultsCache{
		maxBytes: cfg.MaxSizeBytes, wsBytes: cfg.MaxSizeBytes, freshness: time.Duration(cfg.MaxFreshness), now: time.Now,
		lru: list.New(), byKey: map[string]*cacheEntry{}, ws: map[string]*wsCache{},
		hits:          prometheus.NewCounter(prometheus.CounterOpts{Name: "kansoku_query_results_cache_hits_total", Help: "Day pieces of range queries answered wholly or partly from the results cache."}),
		misses:        prometheus.NewCounter(prometheus.CounterOpts{Name: "kansoku_query_results_cache_misses_total", Help: "Day pieces of range queries with cacheable steps that found none of them cached."}),
		evictions:     prometheus.NewCounter(prometheus.CounterOpts{Name: "kansoku_query_results_cache_evictions_total", Help: "Results dropped to stay within max_size_bytes or their workspace's max_size_bytes_per_workspace."}),
		invalidations: prometheus.NewCounter(prometheus.CounterOpts{Name: "kansoku_query_results_cache_invalidations_total", Help: "Results dropped because samples were written into what they read."}),
		bytes:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "kansoku_query_results_cache_bytes", Help: "Estimated memory held by the results cache."}),
	}
	if cfg.MaxSizeBytesPerWorkspace > 0 {
		c.wsBytes = min(cfg.MaxSizeBytesPerWorkspace, cfg.MaxSizeBytes)
	}
	if c.freshness <= 0 {
		c.freshness = 10 * time.Minute
	}
	if reg != nil {
		reg.MustRegister(c.hits, c.misses, c.evictions, c.invalidations, c.bytes)
	}
	return c
}

// Size returns the bytes the cache holds (estimated).
func (c *ResultsCache) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// Invalidate is called after samples in [mint, maxt] were committed to a
// workspace: every cached result of that workspace that read samples in
// that range is dropped, and results being computed are not stored.
// Called on every commit: the usual commit (fresh samples, after the
// watermark) costs a lookup in a read-mostly map and an atomic load, and
// takes no lock. (A begin that raises the watermark after that load
// computes its result after the commit, so the result sees the samples.)
func (c *ResultsCache) Invalidate(ws string, mint, maxt int64) {
	if c == nil {
		return
	}
	if wm, ok := c.watermarks.Load(ws); !ok || mint > wm.(*atomic.Int64).Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.ws[ws]
	if !ok || mint > w.watermark.Load() {
		return
	}
	w.gen++
	for el := w.lru.Front(); el != nil; {
		e, next := el.Value.(*cacheEntry), el.Next()
		if e.mint <= maxt && e.maxt >= mint {
			c.remove(e)
			c.invalidations.Inc()
		}
		el = next
	}
}

// Forget drops a deleted workspace's results.
func (c *ResultsCache) Forget(ws string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.ws[ws]; ok {
		for w.lru.Len() > 0 {
			c.remove(w.lru.Front().Value.(*cacheEntry))
		}
		delete(c.ws, ws)
		c.watermarks.Delete(ws)
	}
}

// begin marks that a result reading samples up to watermark is being
// computed for ws, and returns the generation to hand to put and the
// extent stored under key (nil: none). Both are taken at once: an
// invalidation after them (of the extent or of what is computed now)
// keeps what put is handed out of the cache. Entries are never modified
// once stored: the caller may read the extent without the lock.
func (c *ResultsCache) begin(ws string, watermark int64, key string) (uint64, *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.wsState(ws)
	if watermark > w.watermark.Load() {
		w.watermark.Store(watermark)
	}
	e, ok := c.byKey[key]
	if !ok {
		return w.gen, nil
	}
	c.lru.MoveToFront(e.el)
	w.lru.MoveToFront(e.wsEl)
	return w.gen, e
}

func (c *ResultsCache) wsState(ws string) *wsCache {
	w, ok := c.ws[ws]
	if !ok {
		w = &wsCache{lru: list.New(), watermark: new(atomic.Int64)}
		w.watermark.Store(math.MinInt64)
		c.ws[ws] = w
		c.watermarks.Store(ws, w.watermark)
	}
	return w
}

// put stores an extent under e.key, in place of what was there, unless the
// workspace saw an invalidation since gen or the extent is bigger than the
// workspace's share of the cache. e.matrix must not be modified
// afterwards: hits share it.
func (c *ResultsCache) put(gen uint64, e *cacheEntry) {
	e.size = matrixSize(e.matrix) + int64(len(e.key)) + 200
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.wsState(e.ws)
	if w.gen != gen || e.size > c.wsBytes {
		return
	}
	if old, ok := c.byKey[e.key]; ok {
		c.remove(old)
	}
	c.byKey[e.key] = e
	e.el, e.wsEl = c.lru.PushFront(e), w.lru.PushFront(e)
	w.size += e.size
	c.size += e.size
	for w.size > c.wsBytes {
		c.remove(w.lru.Back().Value.(*cacheEntry))
		c.evictions.Inc()
	}
	for c.size > c.maxBytes {
		c.remove(c.lru.Back().Value.(*cacheEntry))
		c.evictions.Inc()
	}
	c.bytes.Set(float64(c.size))
}

// remove drops a stored entry.
func (c *ResultsCache) remove(e *cacheEntry) {
	c.lru.Remove(e.el)
	delete(c.byKey, e.key)
	if w, ok := c.ws[e.ws]; ok {
		w.lru.Remove(e.wsEl)
		w.size -= e.size
	}
	c.size -= e.size
	c.bytes.Set(float64(c.size))
}

// workspaceSize returns the bytes ws's results hold (estimated).
func (c *ResultsCache) workspaceSize(ws string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.ws[ws]; ok {
		return w.size
	}
	return 0
}

// matrixSize estimates the memory a result holds.
func matrixSize(m promql.Matrix) int64 {
	n := int64(24)
	for _, s := range m {
		n += 80 + int64(len(s.Floats))*16 + int64(len(s.Histograms))*(16+200)
		s.Metric.Range(func(l labels.Label) { n += int64(len(l.Name)+len(l.Value)) + 32 })
	}
	return n
}

// copyMatrix deep-copies a result out of the engine's pools.
func copyMatrix(m promql.Matrix) promql.Matrix {
	out := make(promql.Matrix, len(m))
	for i, s := range m {
		out[i] = promql.Series{Metric: s.Metric, DropName: s.DropName}
		if len(s.Floats) > 0 {
			out[i].Floats = append([]promql.FPoint(nil), s.Floats...)
		}
		if len(s.Histograms) > 0 {
			out[i].Histograms = make([]promql.HPoint, len(s.Histograms))
			for j, h := range s.Histograms {
				out[i].Histograms[j] = promql.HPoint{T: h.T, H: h.H.Copy()}
			}
		}
	}
	return out
}

// bypassKey marks a request context whose range queries neither read nor
// fill the results cache.
type bypassKey struct{}

// bypassResultsCache returns r with the results cache bypassed when its
// Cache-Control header says no-store or no-cache, as Cortex's query
// frontend honours no-store: a client that must see the engine's own
// evaluation (a benchmark, a check of a late write) asks for it.
func bypassResultsCache(r *http.Request) *http.Request {
	for _, v := range r.Header.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d == "no-store" || d == "no-cache" {
				return r.WithContext(context.WithValue(r.Context(), bypassKey{}, true))
			}
		}
	}
	return r
}

func cacheBypassed(ctx context.Context) bool {
	b, _ := ctx.Value(bypassKey{}).(bool)
	return b
}

// splitContext tells the queryable that a selection belongs to one piece
// of a split range query: the query's chunks and bytes are counted across
// all its pieces, and the query-length limit sees the whole query's range.
type splitContext struct {
	counters *queryCounters
	// extra is how much longer (ms) the whole query's range is than the
	// piece's.
	extra int64
}

type splitContextKey struct{}

func withSplit(ctx context.Context, s *splitContext) context.Context {
	return context.WithValue(ctx, splitContextKey{}, s)
}

func splitFrom(ctx context.Context) *splitContext {
	s, _ := ctx.Value(splitContextKey{}).(*splitContext)
	return s
}

// piece is one day of a split range query: its first and last steps.
type piece struct{ start, end time.Time }

// splitByDay cuts [start, end] at UTC midnights, keeping the query's steps.
func splitByDay(start, end time.Time, step time.Duration) []piece {
	var out []piece
	for s := start; !s.After(end); {
		dayEnd := s.UTC().Truncate(splitInterval).Add(splitInterval)
		// The last step of the day: the last start + k·step before dayEnd.
		last := s.Add((dayEnd.Sub(s) - 1) / step * step)
		if last.After(end) {
			last = end
		}
		out = append(out, piece{s, last})
		s = last.Add(step)
	}
	return out
}

// splitQuery is a range query evaluated one day at a time, each past day
// from the results cache when it is there.
type splitQuery struct {
	full      promql.Query // the whole query as the engine planned it: the fallback, Statement, String
	eng       *engine
	cache     *ResultsCache
	queryable storage.Queryable
	opts      promql.QueryOpts
	ws        string
	qs        string
	start     time.Time
	end       time.Time
	step      time.Duration

	split   bool
	timers  *stats.QueryTimers
	samples *stats.QuerySamples
}

// newSplitQuery wraps a range query when it can be split and cached: a
// request that bypasses the cache, stats=all (per-step statistics
// describe one evaluation), @ modifiers (start() and end() are the whole
// query's) and a step that is not a whole number of milliseconds (the
// engine truncates it, so pieces would not start on its grid) keep the
// engine's evaluation.
func (c *ResultsCache) newSplitQuery(ctx context.Context, full promql.Query, eng *engine, q storage.Queryable, opts promql.QueryOpts, ws, qs string, start, end time.Time, step time.Duration) promql.Query {
	if c == nil || cacheBypassed(ctx) || step <= 0 || step%time.Millisecond != 0 || strings.Contains(qs, "@") || (opts != nil && opts.EnablePerStepStats()) {
		return full
	}
	return &splitQuery{full: full, eng: eng, cache: c, queryable: q, opts: opts, ws: ws, qs: qs, start: start, end: end, step: step}
}

func (q *splitQuery) Statement() parser.Statement { return q.full.Statement() }
func (q *splitQuery) String() string              { return q.full.String() }
func (q *splitQuery) Cancel()                     { q.full.Cancel() }
func (q *splitQuery) Close()                      { q.full.Close() }

func (q *splitQuery) Stats() *stats.Statistics {
	if !q.split {
		return q.full.Stats()
	}
	return &stats.Statistics{Timers: q.timers, Samples: q.samples}
}

// key names the extents of one query over one day: the workspace, its
// limits, the query and its lookback, and the step grid (the step and
// where in it the query starts). Queries over other ranges of the same
// grid share the steps they have in common.
func (q *splitQuery) key(p piece) string {
	var lookback time.Duration
	if q.opts != nil {
		lookback = q.opts.LookbackDelta()
	}
	step := q.step.Milliseconds()
	phase := (p.start.UnixMilli()%step + step) % step
	day := p.start.UTC().Truncate(splitInterval).UnixMilli()
	// The workspace's limits are in the key: a result computed under
	// other limits is not served.
	return strings.Join([]string{q.ws, fmt.Sprint(q.eng.key), lookback.String(), q.step.String(),
		strconv.FormatInt(phase, 10), strconv.FormatInt(day, 10), q.qs}, "\x00")
}

// lastCacheable returns the last step of p that reads no sample at or
// after the watermark (without negative offsets: the step's own time is
// before it), and whether there is one.
func (q *splitQuery) lastCacheable(p piece, watermark time.Time) (time.Time, bool) {
	if !p.start.Before(watermark) {
		return time.Time{}, false
	}
	last := p.start.Add((watermark.Sub(p.start) - time.Millisecond) / q.step * q.step)
	if last.After(p.end) {
		last = p.end
	}
	return last, true
}

func (q *splitQuery) Exec(ctx context.Context) *promql.Result {
	pieces := splitByDay(q.start, q.end, q.step)
	watermark := q.cache.now().Add(-q.cache.freshness)
	if len(pieces) == 1 && !pieces[0].start.Before(watermark) {
		return q.full.Exec(ctx)
	}
	q.split = true
	q.timers, q.samples = stats.NewQueryTimers(), stats.NewQuerySamples(false)
	timer, _ := q.timers.GetSpanTimer(ctx, stats.ExecTotalTime)
	defer timer.Finish()
	ev := &pieceEvaluator{q: q, ctx: ctx, split: &splitContext{counters: &queryCounters{}}, whole: q.end.Sub(q.start).Milliseconds()}
	var parts []promql.Matrix
	for _, p := range pieces {
		ps, err := ev.piece(p, watermark)
		if err != nil {
			return &promql.Result{Err: err, Warnings: ev.warnings}
		}
		parts = append(parts, ps...)
	}
	merged := mergeMatrices(parts)
	points := 0
	for _, s := range merged {
		points += len(s.Floats) + len(s.Histograms)
	}
	// The whole result is bounded like one evaluation's.
	if max := q.eng.key.maxSamples; max > 0 && points > max {
		return &promql.Result{Err: promql.ErrTooManySamples("query execution")}
	}
	return &promql.Result{Value: merged, Warnings: ev.warnings}
}

// pieceEvaluator evaluates the pieces of one split query, counting the
// chunks and bytes its evaluations read together.
type pieceEvaluator struct {
	q        *splitQuery
	ctx      context.Context
	split    *splitContext
	whole    int64 // the whole query's range, ms
	warnings annotations.Annotations
}

// piece returns the results, in time order, that make up p: the steps an
// extent of the cache holds, and the engine's evaluation of the others.
// The steps before the watermark that were evaluated are stored, with
// the extent they adjoin, as one extent.
func (ev *pieceEvaluator) piece(p piece, watermark time.Time) ([]promql.Matrix, error) {
	q := ev.q
	last, ok := q.lastCacheable(p, watermark)
	if !ok {
		m, _, err := ev.eval(p.start, p.end)
		return []promql.Matrix{m}, err
	}
	key := q.key(p)
	gen, old := q.cache.begin(q.ws, watermark.UnixMilli(), key)
	step := q.step.Milliseconds()
	first, end := p.start.UnixMilli(), last.UnixMilli()
	if old != nil && (old.first > end+step || old.last < first-step) {
		old = nil // not next to the steps asked for: replaced
	}
	var (
		parts, stored []promql.Matrix // in time order
		read          = &cacheEntry{key: key, ws: q.ws, mint: 1<<63 - 1, maxt: -1 << 63}
		storable      = true
	)
	evalCacheable := func(from, to int64) error {
		m, rec, err := ev.eval(time.UnixMilli(from), time.UnixMilli(to))
		if err != nil {
			return err
		}
		parts, stored = append(parts, m), append(stored, m)
		read.mint, read.maxt = min(read.mint, rec.mint), max(read.maxt, rec.maxt)
		storable = storable && !rec.warned && rec.maxt < watermark.UnixMilli()
		return nil
	}
	if old == nil {
		q.cache.misses.Inc()
		if err := evalCacheable(first, end); err != nil {
			return nil, err
		}
	} else {
		q.cache.hits.Inc()
		if first < old.first {
			if err := evalCacheable(first, old.first-step); err != nil {
				return nil, err
			}
		}
		parts = append(parts, sliceMatrix(old.matrix, max(first, old.first), min(p.end.UnixMilli(), old.last)))
		stored = append(stored, old.matrix)
		read.mint, read.maxt = min(read.mint, old.mint), max(read.maxt, old.maxt)
		if end > old.last {
			if err := evalCacheable(old.last+step, end); err != nil {
				return nil, err
			}
		}
		end = max(end, old.last)
	}
	if len(stored) > 1 || old == nil {
		if storable {
			read.first, read.last = first, end
			if old != nil {
				read.first = min(first, old.first)
			}
			read.matrix = mergeMatrices(stored)
			q.cache.put(gen, read)
		}
	}
	if freshFrom := end + step; freshFrom <= p.end.UnixMilli() {
		m, _, err := ev.eval(time.UnixMilli(freshFrom), p.end)
		if err != nil {
			return nil, err
		}
		parts = append(parts, m)
	}
	return parts, nil
}

// evaluation is what one evaluation read: the time range of its
// selections, and whether it warned.
type evaluation struct {
	mint, maxt int64
	warned     bool
}

// eval runs the engine over [start, end] of the query's grid and returns
// a copy of its result, out of the engine's pools.
func (ev *pieceEvaluator) eval(start, end time.Time) (promql.Matrix, evaluation, error) {
	q := ev.q
	rec := &recordingQueryable{Queryable: q.queryable, mint: 1<<63 - 1, maxt: -1 << 63}
	ev.split.extra = ev.whole - end.Sub(start).Milliseconds()
	pctx := withSplit(ev.ctx, ev.split)
	qry, err := q.eng.newQuery(pctx, rec, q.opts, q.qs, start, end, q.step, false)
	if err != nil {
		return nil, evaluation{}, err
	}
	defer qry.Close()
	res := qry.Exec(pctx)
	ev.warnings = ev.warnings.Merge(res.Warnings)
	if res.Err != nil {
		return nil, evaluation{}, res.Err
	}
	m, err := res.Matrix()
	if err != nil {
		return nil, evaluation{}, err
	}
	if st := qry.Stats(); st != nil && st.Samples != nil {
		q.samples.TotalSamples += st.Samples.TotalSamples
		q.samples.UpdatePeak(st.Samples.PeakSamples)
	}
	return copyMatrix(m), evaluation{mint: rec.mint, maxt: rec.maxt, warned: len(res.Warnings) > 0}, nil
}

// sliceMatrix returns the points of m from from to to (ms, inclusive),
// sharing m's arrays, without the series that have none there.
func sliceMatrix(m promql.Matrix, from, to int64) promql.Matrix {
	out := make(promql.Matrix, 0, len(m))
	for _, s := range m {
		fl := s.Floats[sort.Search(len(s.Floats), func(i int) bool { return s.Floats[i].T >= from }):]
		fl = fl[:sort.Search(len(fl), func(i int) bool { return fl[i].T > to })]
		hs := s.Histograms[sort.Search(len(s.Histograms), func(i int) bool { return s.Histograms[i].T >= from }):]
		hs = hs[:sort.Search(len(hs), func(i int) bool { return hs[i].T > to })]
		if len(fl)+len(hs) == 0 {
			continue
		}
		out = append(out, promql.Series{Metric: s.Metric, DropName: s.DropName, Floats: fl[:len(fl):len(fl)], Histograms: hs[:len(hs):len(hs)]})
	}
	return out
}

// mergeMatrices joins the pieces' results series by series, in time order,
// sorted by labels as the engine sorts a range query's result.
func mergeMatrices(parts []promql.Matrix) promql.Matrix {
	if len(parts) == 1 {
		return parts[0]
	}
	idx := map[string]int{}
	var out promql.Matrix
	var buf []byte
	for _, m := range parts {
		for _, s := range m {
			buf = s.Metric.Bytes(buf)
			k := string(buf)
			if s.DropName {
				k += "\x00drop"
			}
			i, ok := idx[k]
			if !ok {
				i = len(out)
				idx[k] = i
				out = append(out, promql.Series{Metric: s.Metric, DropName: s.DropName})
			}
			// Pieces are copied out of the cache: appending never writes
			// into a cached slice.
			out[i].Floats = append(out[i].Floats[:len(out[i].Floats):len(out[i].Floats)], s.Floats...)
			out[i].Histograms = append(out[i].Histograms[:len(out[i].Histograms):len(out[i].Histograms)], s.Histograms...)
		}
	}
	sort.Sort(out)
	return out
}

// recordingQueryable records the time range its selections read.
type recordingQueryable struct {
	storage.Queryable
	mu         sync.Mutex
	mint, maxt int64
}

func (r *recordingQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := r.Queryable.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return &recordingQuerier{Querier: q, r: r, mint: mint, maxt: maxt}, nil
}

type recordingQuerier struct {
	storage.Querier
	r          *recordingQueryable
	mint, maxt int64
}

func (q *recordingQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil {
		mint, maxt = hints.Start, hints.End
	}
	q.r.mu.Lock()
	q.r.mint, q.r.maxt = min(q.r.mint, mint), max(q.r.maxt, maxt)
	q.r.mu.Unlock()
	return q.Querier.Select(ctx, sortSeries, hints, matchers...)
}
