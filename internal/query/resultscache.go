package query

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math"
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
// queries are evaluated one UTC day at a time, and the result of each day
// that ended before now − max_freshness is kept, per workspace, for the
// next query over that day (Grafana dashboards over days and weeks ask
// the same past days again at every refresh). Samples written late into a
// cached day invalidate it.
type ResultsCacheConfig struct {
	// MaxSizeBytes bounds the cache's memory (least recently used results
	// go first); 0 turns the cache and the splitting off.
	MaxSizeBytes int64 `yaml:"max_size_bytes"`
	// MaxFreshness: results reading samples newer than now − this are
	// never cached (they may still change).
	MaxFreshness model.Duration `yaml:"max_freshness"`
}

// DefaultResultsCacheConfig returns the defaults: 256 MiB, and results
// reading the last 10 minutes are not cached.
func DefaultResultsCacheConfig() ResultsCacheConfig {
	return ResultsCacheConfig{MaxSizeBytes: 256 << 20, MaxFreshness: model.Duration(10 * time.Minute)}
}

// Validate checks the configuration.
func (c *ResultsCacheConfig) Validate() error {
	if c.MaxSizeBytes < 0 {
		return errors.New("results_cache.max_size_bytes must not be negative")
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
	freshness time.Duration
	now       func() time.Time

	mu    sync.Mutex
	lru   *list.List // of *cacheEntry, most recent first
	byKey map[string]*list.Element
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
	entries map[*cacheEntry]struct{}
	// watermark: every cached (or being computed) result of the workspace
	// read samples at or before it only; a commit of samples all after it
	// (the normal case: fresh data) changes nothing cached. It only
	// grows, and is stored in ResultsCache.watermarks too.
	watermark *atomic.Int64
	// gen counts the invalidations of the workspace: a result computed
	// while one happened is not stored.
	gen uint64
}

type cacheEntry struct {
	key        string
	ws         string
	mint, maxt int64 // the samples the result read
	matrix     promql.Matrix
	size       int64
}

// NewResultsCache returns a cache; nil when the configuration turns it off.
func NewResultsCache(cfg ResultsCacheConfig, reg prometheus.Registerer) *ResultsCache {
	if cfg.MaxSizeBytes <= 0 {
		return nil
	}
	c := &ResultsCache{
		maxBytes: cfg.MaxSizeBytes, freshness: time.Duration(cfg.MaxFreshness), now: time.Now,
		lru: list.New(), byKey: map[string]*list.Element{}, ws: map[string]*wsCache{},
		hits:          prometheus.NewCounter(prometheus.CounterOpts{Name: "kansoku_query_results_cache_hits_total", Help: "Day pieces of range queries answered from the results cache."}),
		misses:        prometheus.NewCounter(prometheus.CounterOpts{Name: "kansoku_query_results_cache_misses_total", Help: "Cacheable day pieces of range queries evaluated."}),
		evictions:     prometheus.NewCounter(prometheus.CounterOpts{Name: "kansoku_query_results_cache_evictions_total", Help: "Results dropped to stay within max_size_bytes."}),
		invalidations: prometheus.NewCounter(prometheus.CounterOpts{Name: "kansoku_query_results_cache_invalidations_total", Help: "Results dropped because samples were written into what they read."}),
		bytes:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "kansoku_query_results_cache_bytes", Help: "Estimated memory held by the results cache."}),
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
	for e := range w.entries {
		if e.mint <= maxt && e.maxt >= mint {
			c.remove(c.byKey[e.key])
			c.invalidations.Inc()
		}
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
		for e := range w.entries {
			c.remove(c.byKey[e.key])
		}
		delete(c.ws, ws)
		c.watermarks.Delete(ws)
	}
}

// begin marks that a result reading samples up to watermark is being
// computed for ws, and returns the generation to hand to put.
func (c *ResultsCache) begin(ws string, watermark int64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.wsState(ws)
	if watermark > w.watermark.Load() {
		w.watermark.Store(watermark)
	}
	return w.gen
}

func (c *ResultsCache) wsState(ws string) *wsCache {
	w, ok := c.ws[ws]
	if !ok {
		w = &wsCache{entries: map[*cacheEntry]struct{}{}, watermark: new(atomic.Int64)}
		w.watermark.Store(math.MinInt64)
		c.ws[ws] = w
		c.watermarks.Store(ws, w.watermark)
	}
	return w
}

func (c *ResultsCache) get(key string) (promql.Matrix, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		c.misses.Inc()
		return nil, false
	}
	c.lru.MoveToFront(el)
	c.hits.Inc()
	return el.Value.(*cacheEntry).matrix, true
}

// put stores a result unless the workspace saw an invalidation since gen
// or the result is bigger than the whole cache. m must not be modified
// afterwards: hits share it.
func (c *ResultsCache) put(ws, key string, gen uint64, mint, maxt int64, m promql.Matrix) {
	size := matrixSize(m) + int64(len(key)) + 200
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.wsState(ws)
	if w.gen != gen || size > c.maxBytes {
		return
	}
	if el, ok := c.byKey[key]; ok {
		c.remove(el)
	}
	e := &cacheEntry{key: key, ws: ws, mint: mint, maxt: maxt, matrix: m, size: size}
	c.byKey[key] = c.lru.PushFront(e)
	w.entries[e] = struct{}{}
	c.size += size
	for c.size > c.maxBytes {
		c.remove(c.lru.Back())
		c.evictions.Inc()
	}
	c.bytes.Set(float64(c.size))
}

func (c *ResultsCache) remove(el *list.Element) {
	if el == nil {
		return
	}
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.byKey, e.key)
	if w, ok := c.ws[e.ws]; ok {
		delete(w.entries, e)
	}
	c.size -= e.size
	c.bytes.Set(float64(c.size))
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

// newSplitQuery wraps a range query when it can be split and cached:
// stats=all (per-step statistics describe one evaluation) and @ modifiers
// (start() and end() are the whole query's) keep the engine's evaluation.
func (c *ResultsCache) newSplitQuery(full promql.Query, eng *engine, q storage.Queryable, opts promql.QueryOpts, ws, qs string, start, end time.Time, step time.Duration) promql.Query {
	if c == nil || step <= 0 || strings.Contains(qs, "@") || (opts != nil && opts.EnablePerStepStats()) {
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

func (q *splitQuery) key(p piece) string {
	var lookback time.Duration
	if q.opts != nil {
		lookback = q.opts.LookbackDelta()
	}
	// The workspace's limits are in the key: a result computed under
	// other limits is not served.
	return strings.Join([]string{q.ws, fmt.Sprint(q.eng.key), lookback.String(), q.step.String(),
		strconv.FormatInt(p.start.UnixMilli(), 10), strconv.FormatInt(p.end.UnixMilli(), 10), q.qs}, "\x00")
}

func (q *splitQuery) Exec(ctx context.Context) *promql.Result {
	pieces := splitByDay(q.start, q.end, q.step)
	watermark := q.cache.now().Add(-q.cache.freshness)
	cacheable := func(p piece) bool { return p.end.Before(watermark) }
	if len(pieces) == 1 && !cacheable(pieces[0]) {
		return q.full.Exec(ctx)
	}
	q.split = true
	q.timers, q.samples = stats.NewQueryTimers(), stats.NewQuerySamples(false)
	timer, _ := q.timers.GetSpanTimer(ctx, stats.ExecTotalTime)
	defer timer.Finish()
	split := &splitContext{counters: &queryCounters{}}
	var (
		parts    []promql.Matrix
		warnings annotations.Annotations
		points   int
	)
	whole := q.end.Sub(q.start).Milliseconds()
	for _, p := range pieces {
		key := ""
		if cacheable(p) {
			key = q.key(p)
			if m, ok := q.cache.get(key); ok {
				parts = append(parts, m)
				continue
			}
		}
		gen := q.cache.begin(q.ws, watermark.UnixMilli())
		rec := &recordingQueryable{Queryable: q.queryable, mint: 1<<63 - 1, maxt: -1 << 63}
		split.extra = whole - p.end.Sub(p.start).Milliseconds()
		pctx := withSplit(ctx, split)
		qry, err := q.eng.newQuery(pctx, rec, q.opts, q.qs, p.start, p.end, q.step, false)
		if err != nil {
			return &promql.Result{Err: err}
		}
		res := qry.Exec(pctx)
		if res.Err != nil {
			qry.Close()
			return &promql.Result{Err: res.Err, Warnings: warnings.Merge(res.Warnings)}
		}
		m, err := res.Matrix()
		if err != nil {
			qry.Close()
			return &promql.Result{Err: err}
		}
		if st := qry.Stats(); st != nil && st.Samples != nil {
			q.samples.TotalSamples += st.Samples.TotalSamples
			q.samples.UpdatePeak(st.Samples.PeakSamples)
		}
		m = copyMatrix(m)
		qry.Close()
		warnings = warnings.Merge(res.Warnings)
		if key != "" && len(res.Warnings) == 0 && rec.maxt <= watermark.UnixMilli() {
			q.cache.put(q.ws, key, gen, rec.mint, rec.maxt, m)
		}
		parts = append(parts, m)
	}
	merged := mergeMatrices(parts)
	for _, s := range merged {
		points += len(s.Floats) + len(s.Histograms)
	}
	// The whole result is bounded like one evaluation's.
	if max := q.eng.key.maxSamples; max > 0 && points > max {
		return &promql.Result{Err: promql.ErrTooManySamples("query execution")}
	}
	return &promql.Result{Value: merged, Warnings: warnings}
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
