package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
	"github.com/prometheus/prometheus/util/stats"

	"github.com/kansoku/kansoku/internal/tenant"
)

// Query sharding: the engine evaluates a query on one goroutine. An
// aggregation whose argument is made of per-series work only, such as
// sum by (job) (rate(x[5m])), gives the same result when it is computed
// over disjoint subsets of the series and the partial results are
// aggregated once more: sum of sums, sum of counts, min of mins, max of
// maxes, group of groups. The rewrite replaces each such aggregation node
// by the outer aggregation over an "embedded" selector; selecting it runs
// the original node once per shard of the series (the TSDB's
// SelectHints.ShardIndex/ShardCount), on all shards at once, and returns
// the partial results as series labelled with their shard.
//
// The rest of the query is evaluated by the engine as written: positions
// in the query text are kept (the outer query is the original text, parsed
// by a parser that rewrites; each shard evaluates the node's own text,
// padded to its position), so warnings read the same as unsharded ones.

const (
	// shardLabel tells apart the partial results of different shards.
	shardLabel = "__kansoku_shard__"
	// embeddedName and embeddedIDLabel select an embedded node's partial
	// results; queries naming any __kansoku_ label are never sharded.
	embeddedName    = "__kansoku_embedded__"
	embeddedIDLabel = "__kansoku_embedded_id__"
	reservedPrefix  = "__kansoku_"
	// maxShards bounds query.shards.
	maxShards = 64
)

// perSeries are the functions whose result for a series depends on that
// series alone (and on literal arguments). Left out on purpose:
// histogram_quantile (classic buckets of one histogram are many series),
// label_replace and label_join (they may map two series of different
// shards to one label set, which the engine refuses unsharded), absent*,
// sort*, scalar, vector, timestamp, time functions.
var perSeries = map[string]bool{
	"rate": true, "irate": true, "increase": true, "delta": true, "idelta": true, "deriv": true,
	"changes": true, "resets": true, "predict_linear": true,
	"avg_over_time": true, "min_over_time": true, "max_over_time": true, "sum_over_time": true,
	"count_over_time": true, "last_over_time": true, "present_over_time": true,
	"stddev_over_time": true, "stdvar_over_time": true, "quantile_over_time": true,
	"abs": true, "ceil": true, "floor": true, "round": true, "exp": true, "ln": true,
	"log2": true, "log10": true, "sqrt": true, "sgn": true,
	"clamp": true, "clamp_min": true, "clamp_max": true,
	"histogram_count": true, "histogram_sum": true, "histogram_avg": true,
	"histogram_fraction": true, "histogram_stddev": true, "histogram_stdvar": true,
}

// shardPlan is a query's rewrite: the embedded nodes by id, as the text
// each shard evaluates.
type shardPlan struct {
	nodes []string
	// sums: node id is a sum, whose partial sums are checked for
	// cancellation.
	sums map[int]bool
	// by and selectors are each node's by-grouping (nil for without)
	// and selectors: how much the partial results reduce the series.
	by        [][]string
	selectors [][]*parser.VectorSelector
}

// planShards rewrites expr, replacing each shardable aggregation by its
// outer aggregation over an embedded selector, and returns the rewritten
// expression; qs is expr's text. The plan is nil when nothing is
// shardable (expr is then unchanged).
func planShards(expr parser.Expr, qs string) (parser.Expr, *shardPlan) {
	refuse := false
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			if n.Timestamp != nil || n.StartOrEnd != 0 {
				refuse = true // @: start() and end() are the whole query's
			}
			for _, m := range n.LabelMatchers {
				if strings.HasPrefix(m.Name, reservedPrefix) || (m.Name == model.MetricNameLabel && strings.HasPrefix(m.Value, reservedPrefix)) {
					refuse = true
				}
			}
		case *parser.SubqueryExpr:
			if n.Timestamp != nil || n.StartOrEnd != 0 {
				refuse = true
			}
		case *parser.AggregateExpr:
			for _, g := range n.Grouping {
				if strings.HasPrefix(g, reservedPrefix) {
					refuse = true
				}
			}
		}
		return nil
	})
	if refuse {
		return expr, nil
	}
	p := &shardPlan{}
	p.rewrite(expr, qs, func(e parser.Expr) { expr = e })
	if len(p.nodes) == 0 {
		return expr, nil
	}
	return expr, p
}

// rewrite walks e, replacing shardable aggregations (set replaces e in
// its parent). It does not descend into subqueries: their inner steps are
// not the query's. Under histogram_count, histogram_sum and histogram_avg
// the engine reads native histograms without their buckets (and detects
// counter resets as it reads): a node there stays with the engine.
func (p *shardPlan) rewrite(e parser.Expr, qs string, set func(parser.Expr)) {
	p.walk(e, qs, set, false)
}

func (p *shardPlan) walk(e parser.Expr, qs string, set func(parser.Expr), histStats bool) {
	switch n := e.(type) {
	case *parser.AggregateExpr:
		if !histStats {
			if r := p.shard(n, qs); r != nil {
				set(r)
				return
			}
		}
		p.walk(n.Expr, qs, func(r parser.Expr) { n.Expr = r }, histStats)
		if n.Param != nil {
			p.walk(n.Param, qs, func(r parser.Expr) { n.Param = r }, histStats)
		}
	case *parser.BinaryExpr:
		p.walk(n.LHS, qs, func(r parser.Expr) { n.LHS = r }, histStats)
		p.walk(n.RHS, qs, func(r parser.Expr) { n.RHS = r }, histStats)
	case *parser.Call:
		switch n.Func.Name {
		case "histogram_count", "histogram_sum", "histogram_avg":
			histStats = true
		}
		for i := range n.Args {
			p.walk(n.Args[i], qs, func(r parser.Expr) { n.Args[i] = r }, histStats)
		}
	case *parser.ParenExpr:
		p.walk(n.Expr, qs, func(r parser.Expr) { n.Expr = r }, histStats)
	case *parser.UnaryExpr:
		p.walk(n.Expr, qs, func(r parser.Expr) { n.Expr = r }, histStats)
	}
}

// shard returns the outer aggregation replacing n, or nil when n is not
// shardable.
func (p *shardPlan) shard(n *parser.AggregateExpr, qs string) parser.Expr {
	var outer parser.ItemType
	switch n.Op {
	case parser.SUM, parser.COUNT:
		outer = parser.SUM
	case parser.MIN, parser.MAX, parser.GROUP:
		outer = n.Op
	default:
		return nil
	}
	if n.Param != nil || !shardable(n.Expr) {
		return nil
	}
	if !n.Without && slices.Contains(n.Grouping, model.MetricNameLabel) {
		// With delayed name removal a shard's result loses the names
		// the outer grouping needs.
		return nil
	}
	// A function or an operation drops the metric name: two series of
	// different names would then have one label set, an error unsharded
	// that shards on their own would not see. Outside a bare selector,
	// every selector must name one metric.
	if _, bare := unparen(n.Expr).(*parser.VectorSelector); !bare && !singleMetric(n.Expr) {
		return nil
	}
	// The node's own text, padded to its position: the shards' warnings
	// carry the positions of the original query.
	pos := n.PositionRange()
	if pos.Start < 0 || int(pos.End) > len(qs) || pos.Start >= pos.End {
		return nil
	}
	text := strings.Repeat(" ", int(pos.Start)) + qs[pos.Start:pos.End]
	// The text must be the node: checked, not assumed.
	if e, err := parser.NewParser(parser.Options{}).ParseExpr(text); err != nil || e.String() != n.String() {
		return nil
	}
	id := len(p.nodes)
	p.nodes = append(p.nodes, text)
	var by []string
	if !n.Without {
		by = append([]string{}, n.Grouping...)
	}
	p.by = append(p.by, by)
	var sels []*parser.VectorSelector
	parser.Inspect(n.Expr, func(c parser.Node, _ []parser.Node) error {
		if vs, ok := c.(*parser.VectorSelector); ok {
			sels = append(sels, vs)
		}
		return nil
	})
	p.selectors = append(p.selectors, sels)
	if n.Op == parser.SUM {
		if p.sums == nil {
			p.sums = map[int]bool{}
		}
		p.sums[id] = true
	}
	grouping := append([]string(nil), n.Grouping...)
	if n.Without {
		grouping = append(grouping, shardLabel)
	}
	vs := &parser.VectorSelector{
		Name: embeddedName,
		LabelMatchers: []*labels.Matcher{
			labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, embeddedName),
			labels.MustNewMatcher(labels.MatchEqual, embeddedIDLabel, strconv.Itoa(id)),
		},
		PosRange: pos,
	}
	return &parser.AggregateExpr{Op: outer, Expr: vs, Grouping: grouping, Without: n.Without, PosRange: pos}
}

func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// shardable: e is per-series work over selectors and literals.
func shardable(e parser.Expr) bool {
	switch n := e.(type) {
	case *parser.VectorSelector:
		return true
	case *parser.MatrixSelector:
		return shardable(n.VectorSelector)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return true
	case *parser.ParenExpr:
		return shardable(n.Expr)
	case *parser.UnaryExpr:
		return shardable(n.Expr)
	case *parser.Call:
		if !perSeries[n.Func.Name] {
			return false
		}
		for _, a := range n.Args {
			if !shardable(a) {
				return false
			}
		}
		return true
	case *parser.BinaryExpr:
		switch {
		case literal(n.LHS):
			return shardable(n.RHS)
		case literal(n.RHS):
			return shardable(n.LHS)
		}
	}
	return false
}

// literal: e is a number, or arithmetic of numbers.
func literal(e parser.Expr) bool {
	switch n := e.(type) {
	case *parser.NumberLiteral:
		return true
	case *parser.ParenExpr:
		return literal(n.Expr)
	case *parser.UnaryExpr:
		return literal(n.Expr)
	case *parser.BinaryExpr:
		return literal(n.LHS) && literal(n.RHS)
	}
	return false
}

// singleMetric: every selector in e matches one metric name exactly.
func singleMetric(e parser.Expr) bool {
	ok := true
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, is := n.(*parser.VectorSelector); is {
			named := false
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual && m.Value != "" {
					named = true
				}
			}
			ok = ok && named
		}
		return nil
	})
	return ok
}

// shardingParser parses a query and rewrites it for sharding: the engine
// running the outer query parses its original text with it.
type shardingParser struct{ parser.Parser }

func (p shardingParser) ParseExpr(input string) (parser.Expr, error) {
	e, err := p.Parser.ParseExpr(input)
	if err != nil {
		return nil, err
	}
	e, _ = planShards(e, input)
	return e, nil
}

// shardedQuery is a query whose shardable aggregations run on shards. The
// embedded Promql.Query is the outer query.
type shardedQuery struct {
	promql.Query
	eng       *engine
	queryable storage.Queryable
	opts      promql.QueryOpts
	qs        string
	plan      *shardPlan
	shards    int
	instant   bool
	start     time.Time
	end       time.Time
	step      time.Duration

	fallback promql.Query

	mu sync.Mutex
	// shardErr is the error a shard failed with: the query's error as
	// the unsharded query would report it (the engine wraps errors of a
	// selection once more).
	shardErr error
	// What the shards read, and what the outer query counted for the
	// embedded selectors (it must not count: the shards did).
	read, embedded stepCounts
	shardPeak      int
	adjusted       sync.Once
}

// stepCounts are samples counted as the engine counts them.
type stepCounts struct {
	total, read       int64
	perStep, readStep []int64
}

func (c *stepCounts) add(s *stats.QuerySamples) {
	c.total += s.TotalSamples
	c.read += s.SamplesRead
	c.perStep = addSteps(c.perStep, s.TotalSamplesPerStep)
	c.readStep = addSteps(c.readStep, s.SamplesReadPerStep)
}

func addSteps(dst, src []int64) []int64 {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make([]int64, len(src))
	}
	for i := range src {
		if i < len(dst) {
			dst[i] += src[i]
		}
	}
	return dst
}

// newShardedQuery returns a sharded query for qs, or nil when nothing in
// it is shardable (or sharding is off).
func (eng *engine) newShardedQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, step time.Duration, instant bool) (promql.Query, error) {
	if eng.outer == nil {
		return nil, nil
	}
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(qs)
	if err != nil {
		return nil, nil // the engine reports it
	}
	var selectors []*parser.VectorSelector // before the rewrite replaces them
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			selectors = append(selectors, vs)
		}
		return nil
	})
	_, plan := planShards(expr, qs)
	if plan == nil || eng.small(ctx, selectors, start, end) || eng.manyGroups(ctx, plan, start, end) {
		return nil, nil
	}
	sq := &shardedQuery{eng: eng, queryable: q, opts: opts, qs: qs, plan: plan, shards: eng.shards, instant: instant, start: start, end: end, step: step}
	eq := &embeddingQueryable{Queryable: q, q: sq}
	var outer promql.Query
	if instant {
		outer, err = eng.outer.NewInstantQuery(ctx, eq, opts, qs, start)
	} else {
		outer, err = eng.outer.NewRangeQuery(ctx, eq, opts, qs, start, end, step)
	}
	if err != nil {
		return nil, err
	}
	sq.Query = outer
	return sq, nil
}

// small: the query's selectors match fewer than minSeries series over
// its range (and an hour before: range selectors), too few to gain from
// sharding.
func (eng *engine) small(ctx context.Context, selectors []*parser.VectorSelector, start, end time.Time) bool {
	if eng.countSeries == nil || eng.minSeries <= 0 {
		return false
	}
	ws, err := tenant.Workspace(ctx)
	if err != nil {
		return false
	}
	n := 0
	for _, vs := range selectors {
		if n >= eng.minSeries {
			break
		}
		c, err := eng.countSeries(ctx, ws, start.Add(-time.Hour).UnixMilli(), end.UnixMilli(), eng.minSeries-n, vs.LabelMatchers...)
		if err != nil {
			c = eng.minSeries // the query reports it
		}
		n += c
	}
	return n < eng.minSeries
}

// groupsPerSeries: a by-aggregation is sharded only over at least this
// many series per group (its label values' product, counted from the
// index): with about as many groups as series (sum by (pod)), the outer
// aggregation re-reads as much as the shards read, and sharding costs
// more than it saves (docs/benchmarks.md).
const groupsPerSeries = 4

// manyGroups: some by-aggregation of the plan has fewer than
// groupsPerSeries series per group.
func (eng *engine) manyGroups(ctx context.Context, plan *shardPlan, start, end time.Time) bool {
	if eng.countSeries == nil || eng.countValues == nil {
		return false
	}
	ws, err := tenant.Workspace(ctx)
	if err != nil {
		return false
	}
	mint, maxt := start.Add(-time.Hour).UnixMilli(), end.UnixMilli()
	const most = 1 << 20
	for i, by := range plan.by {
		if len(by) == 0 {
			continue // one group (shard_min_series decides), or without: not estimated
		}
		groups := 1
		for _, name := range by {
			n, err := eng.countValues(ctx, ws, mint, maxt, name, most)
			if err != nil {
				return false
			}
			groups = min(groups*max(n, 1), most)
		}
		need := groups * groupsPerSeries
		series := 0
		for _, vs := range plan.selectors[i] {
			if series >= need {
				break
			}
			n, err := eng.countSeries(ctx, ws, mint, maxt, need-series, vs.LabelMatchers...)
			if err != nil {
				return false
			}
			series += n
		}
		if series < need {
			return true
		}
	}
	return false
}

func (q *shardedQuery) String() string { return q.qs }

func (q *shardedQuery) Close() {
	q.Query.Close()
	if q.fallback != nil {
		q.fallback.Close()
	}
}

func (q *shardedQuery) Cancel() {
	q.Query.Cancel()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fallback != nil {
		q.fallback.Cancel()
	}
}

func (q *shardedQuery) Exec(ctx context.Context) *promql.Result {
	// Every selection of the query, its shards' included, counts towards
	// one series, chunks and bytes count.
	res := q.Query.Exec(withQueryCounters(ctx, &queryCounters{}))
	if res.Err != nil {
		q.mu.Lock()
		if q.shardErr != nil {
			res.Err = q.shardErr
		}
		q.mu.Unlock()
	}
	if errors.As(res.Err, new(promql.ErrTooManySamples)) || errors.Is(res.Err, errCancellation) {
		// Each shard may hold max_samples/N: one of them ran out; or
		// partial sums cancel out. The query is evaluated unsharded
		// (under the whole samples limit), and succeeds or fails
		// exactly as it would have.
		q.Query.Close()
		var fb promql.Query
		var err error
		if q.instant {
			fb, err = q.eng.Engine.NewInstantQuery(ctx, q.queryable, q.opts, q.qs, q.start)
		} else {
			fb, err = q.eng.Engine.NewRangeQuery(ctx, q.queryable, q.opts, q.qs, q.start, q.end, q.step)
		}
		if err != nil {
			return &promql.Result{Err: err}
		}
		q.mu.Lock()
		q.fallback = fb
		q.mu.Unlock()
		return fb.Exec(ctx)
	}
	return res
}

// Stats are the outer query's, with the embedded selectors' samples
// replaced by what the shards read: TotalSamples and SamplesRead (and per
// step) equal the unsharded query's. PeakSamples is the larger of the
// outer query's peak and the sum of the shards' peaks (they run at once).
func (q *shardedQuery) Stats() *stats.Statistics {
	if q.fallback != nil {
		return q.fallback.Stats()
	}
	s := q.Query.Stats()
	if s == nil || s.Samples == nil {
		return s
	}
	q.adjusted.Do(func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		sm := s.Samples
		sm.TotalSamples += q.read.total - q.embedded.total
		sm.SamplesRead += q.read.read - q.embedded.read
		for i := range sm.TotalSamplesPerStep {
			sm.TotalSamplesPerStep[i] += at(q.read.perStep, i) - at(q.embedded.perStep, i)
		}
		for i := range sm.SamplesReadPerStep {
			sm.SamplesReadPerStep[i] += at(q.read.readStep, i) - at(q.embedded.readStep, i)
		}
		sm.PeakSamples = max(sm.PeakSamples, q.shardPeak)
	})
	return s
}

func at(s []int64, i int) int64 {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// embeddingQueryable serves the outer query: selections of an embedded
// node run the node on the shards; every other selection reads storage.
type embeddingQueryable struct {
	storage.Queryable
	q *shardedQuery
}

func (e *embeddingQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	inner, err := e.Queryable.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return &embeddingQuerier{Querier: inner, q: e.q}, nil
}

type embeddingQuerier struct {
	storage.Querier
	q *shardedQuery
}

func (e *embeddingQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
	if id, ok := embeddedID(matchers); ok {
		return e.q.evalEmbedded(ctx, id)
	}
	return e.Querier.Select(ctx, sortSeries, hints, matchers...)
}

func embeddedID(ms []*labels.Matcher) (int, bool) {
	if len(ms) != 2 {
		return 0, false
	}
	var named bool
	id := -1
	for _, m := range ms {
		switch {
		case m.Type != labels.MatchEqual:
			return 0, false
		case m.Name == model.MetricNameLabel && m.Value == embeddedName:
			named = true
		case m.Name == embeddedIDLabel:
			n, err := strconv.Atoi(m.Value)
			if err != nil {
				return 0, false
			}
			id = n
		}
	}
	return id, named && id >= 0
}

// evalEmbedded evaluates node id on every shard at once and returns the
// partial results, each series labelled with its shard. The first shard
// to fail cancels the others; its error is the query's.
func (q *shardedQuery) evalEmbedded(ctx context.Context, id int) storage.SeriesSet {
	if id >= len(q.plan.nodes) {
		return storage.ErrSeriesSet(fmt.Errorf("embedded query %d not found", id))
	}
	text := q.plan.nodes[id]
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type part struct {
		series []promql.Series
		warn   annotations.Annotations
	}
	parts := make([]part, q.shards)
	var (
		wg       sync.WaitGroup
		firstErr error
		errMu    sync.Mutex
	)
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		errMu.Unlock()
	}
	for i := range q.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sq := &shardQueryable{Queryable: q.queryable, index: uint64(i), count: uint64(q.shards)}
			var (
				qry promql.Query
				err error
			)
			if q.instant {
				qry, err = q.eng.shard.NewInstantQuery(ctx, sq, q.opts, text, q.start)
			} else {
				qry, err = q.eng.shard.NewRangeQuery(ctx, sq, q.opts, text, q.start, q.end, q.step)
			}
			if err != nil {
				fail(err)
				return
			}
			defer qry.Close()
			res := qry.Exec(ctx)
			if res.Err != nil {
				fail(res.Err)
				return
			}
			var series []promql.Series
			switch v := res.Value.(type) {
			case promql.Vector:
				for _, s := range v {
					ps := promql.Series{Metric: s.Metric, DropName: s.DropName}
					if s.H != nil {
						ps.Histograms = []promql.HPoint{{T: s.T, H: s.H.Copy()}}
					} else {
						ps.Floats = []promql.FPoint{{T: s.T, F: s.F}}
					}
					series = append(series, ps)
				}
			case promql.Matrix:
				series = copyMatrix(v)
			default:
				fail(fmt.Errorf("embedded query returned %s", res.Value.Type()))
				return
			}
			parts[i] = part{series: series, warn: res.Warnings}
			if st := qry.Stats(); st != nil && st.Samples != nil {
				q.mu.Lock()
				q.read.add(st.Samples)
				q.shardPeak += st.Samples.PeakSamples
				q.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		q.mu.Lock()
		if q.shardErr == nil {
			q.shardErr = firstErr
		}
		q.mu.Unlock()
		return storage.ErrSeriesSet(firstErr)
	}
	if q.plan.sums[id] && cancels(parts, func(p part) []promql.Series { return p.series }) {
		q.mu.Lock()
		q.shardErr = errCancellation
		q.mu.Unlock()
		return storage.ErrSeriesSet(errCancellation)
	}
	var (
		out  []storage.Series
		warn annotations.Annotations
	)
	b := labels.NewBuilder(labels.EmptyLabels())
	for i, p := range parts {
		warn.Merge(p.warn)
		shard := strconv.Itoa(i)
		for _, s := range p.series {
			b.Reset(s.Metric)
			b.Set(shardLabel, shard)
			s.Metric = b.Labels()
			s = q.withStaleness(s)
			out = append(out, promql.NewStorageSeries(s))
		}
	}
	return &sliceSeriesSet{series: out, warn: warn}
}

// errCancellation: partial sums of different shards cancel each other
// out (1e100 + 10 in one shard, -1e100 in another): their sum would lose
// what the engine's compensated (Kahan) summation over all series keeps.
var errCancellation = errors.New("partial sums of shards cancel out")

// cancelRatio: partial sums whose total is this much smaller than the
// largest of them lose precision the unsharded sum keeps (16 partials
// lose at most 16 ulps of the largest; the total keeps 1e-12 of its own).
const cancelRatio = 1 << 12

// cancels reports whether, at some step of some group, the shards'
// partial sums cancel out.
func cancels[P any](parts []P, series func(P) []promql.Series) bool {
	type acc struct{ sum, largest float64 }
	sums := map[string]*acc{}
	var buf []byte
	add := func(l labels.Labels, t int64, v float64) {
		buf = l.Bytes(buf)
		buf = strconv.AppendInt(buf, t, 10)
		a, ok := sums[string(buf)]
		if !ok {
			a = &acc{}
			sums[string(buf)] = a
		}
		a.sum += v
		a.largest = max(a.largest, math.Abs(v))
	}
	for _, p := range parts {
		for _, s := range series(p) {
			for _, f := range s.Floats {
				add(s.Metric, f.T, f.F)
			}
			for _, h := range s.Histograms {
				add(s.Metric, h.T, h.H.Sum)
			}
		}
	}
	for _, a := range sums {
		if a.largest > 0 && !math.IsInf(a.largest, 0) && !math.IsNaN(a.sum) && math.Abs(a.sum)*cancelRatio < a.largest {
			return true
		}
	}
	return false
}

// withStaleness adds a staleness marker at each step where s has no
// point but had one at the step before: the outer query's lookback must
// not carry a partial result into a step it has no value at. It also
// counts the points the outer query will count as read.
func (q *shardedQuery) withStaleness(s promql.Series) promql.Series {
	stepMs := q.step.Milliseconds()
	startMs := q.start.UnixMilli()
	steps := 1
	if !q.instant && stepMs > 0 {
		steps = int((q.end.UnixMilli()-startMs)/stepMs) + 1
	}
	q.mu.Lock()
	if q.embedded.perStep == nil {
		q.embedded.perStep = make([]int64, steps)
		q.embedded.readStep = make([]int64, steps)
	}
	count := func(t int64, n int64) {
		q.embedded.total += n
		q.embedded.read += n
		i := 0
		if stepMs > 0 {
			i = int((t - startMs) / stepMs)
		}
		if i >= 0 && i < steps {
			q.embedded.perStep[i] += n
			q.embedded.readStep[i] += n
		}
	}
	for _, p := range s.Floats {
		count(p.T, 1)
	}
	for _, p := range s.Histograms {
		count(p.T, int64((p.H.Size()+8)/16))
	}
	q.mu.Unlock()
	if q.instant || stepMs <= 0 {
		return s
	}
	has := make(map[int64]bool, len(s.Floats)+len(s.Histograms))
	for _, p := range s.Floats {
		has[p.T] = true
	}
	for _, p := range s.Histograms {
		has[p.T] = true
	}
	var stale []promql.FPoint
	endMs := q.end.UnixMilli()
	for t := startMs + stepMs; t <= endMs; t += stepMs {
		if !has[t] && has[t-stepMs] {
			stale = append(stale, promql.FPoint{T: t, F: math.Float64frombits(value.StaleNaN)})
		}
	}
	if len(stale) > 0 {
		// Floats and histograms of a series are merged in time order by
		// the storage series; floats must be sorted among themselves.
		s.Floats = mergeFPoints(s.Floats, stale)
	}
	return s
}

func mergeFPoints(a, b []promql.FPoint) []promql.FPoint {
	out := make([]promql.FPoint, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i].T <= b[j].T {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// sliceSeriesSet is the embedded node's partial results.
type sliceSeriesSet struct {
	series []storage.Series
	cur    int
	warn   annotations.Annotations
}

func (s *sliceSeriesSet) Next() bool {
	s.cur++
	return s.cur <= len(s.series)
}
func (s *sliceSeriesSet) At() storage.Series                { return s.series[s.cur-1] }
func (s *sliceSeriesSet) Err() error                        { return nil }
func (s *sliceSeriesSet) Warnings() annotations.Annotations { return s.warn }

// shardQueryable selects one shard of every selection's series.
type shardQueryable struct {
	storage.Queryable
	index, count uint64
}

func (s *shardQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := s.Queryable.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return &shardQuerier{Querier: q, index: s.index, count: s.count}, nil
}

type shardQuerier struct {
	storage.Querier
	index, count uint64
}

func (s *shardQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
	h := storage.SelectHints{}
	if hints != nil {
		h = *hints
	}
	h.ShardIndex, h.ShardCount = s.index, s.count
	return s.Querier.Select(ctx, sortSeries, &h, matchers...)
}

// queryCountersKey carries the counters every selection of one query
// (its shards' included) adds to.
type queryCountersKey struct{}

func withQueryCounters(ctx context.Context, c *queryCounters) context.Context {
	return context.WithValue(ctx, queryCountersKey{}, c)
}

func queryCountersFrom(ctx context.Context) *queryCounters {
	c, _ := ctx.Value(queryCountersKey{}).(*queryCounters)
	return c
}
