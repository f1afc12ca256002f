package query

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/kansoku/kansoku/internal/limits"
)

// Query-limit errors, with AMP's (Cortex-era) wording.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

func errQueryLength(length, limit time.Duration) error {
	return &limitError{fmt.Sprintf("the query time range exceeds the limit (query length: %s, limit: %s)", model.Duration(length.Round(time.Second)), model.Duration(limit))}
}

// queryCounters are shared by every Select of one query.
type queryCounters struct {
	series atomic.Int64
	chunks atomic.Int64
	bytes  atomic.Int64

	// whole holds, for a sharded query, the count of each selection: the
	// shards make the same selections, and the first shard to reach one
	// counts its chunks for all of them, from one pass over the whole
	// selection's index (not one pass per shard, each filtering the
	// postings by series hash).
	// seen numbers each shard's selections: the n-th selection of a
	// given range and matchers is the same in every shard (they evaluate
	// the same query), and is counted once for all of them.
	mu    sync.Mutex
	whole map[string]*wholeCount
	seen  map[shardSelection]int
}

type shardSelection struct {
	selection string
	shard     uint64
}

type wholeCount struct {
	once sync.Once
	err  error
}

// wholeCount is the count of the next selection of [mint, maxt] with
// matchers in shard.
func (c *queryCounters) wholeCount(shard uint64, mint, maxt int64, matchers []*labels.Matcher) *wholeCount {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(mint, 10))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(maxt, 10))
	for _, m := range matchers {
		b.WriteByte(' ')
		b.WriteString(m.String())
	}
	sel := b.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[shardSelection]int{}
	}
	n := c.seen[shardSelection{sel, shard}]
	c.seen[shardSelection{sel, shard}] = n + 1
	key := strconv.Itoa(n) + " " + sel
	w, ok := c.whole[key]
	if !ok {
		if c.whole == nil {
			c.whole = map[string]*wholeCount{}
		}
		w = &wholeCount{}
		c.whole[key] = w
	}
	return w
}

// limitedQuerier applies a workspace's query limits: the time range of
// each selection, and the series, chunks and bytes a query fetches. Samples
// are read through the TSDB's own querier (exact PromQL semantics: trimming
// to the range, tombstones, histogram counter-reset hints); chunks and
// bytes are counted by a pass over the chunk index of each selection
// before it is read, so a query over the limits fails before the work.
type limitedQuerier struct {
	q        storage.Querier
	chunks   func() (storage.ChunkQuerier, error)
	cq       storage.ChunkQuerier
	lim      *limits.Limits
	counters *queryCounters
	// count, when the storage can, counts a selection's chunks and bytes
	// from its index alone (tenantdb.Manager.CountChunks), instead of
	// a pass over the chunks themselves before they are read again.
	count    func(ctx context.Context, mint, maxt int64, matchers ...*labels.Matcher) (int64, int64, error)
	min, max int64
}

func newLimitedQuerier(q storage.Querier, chunkQuerier func() (storage.ChunkQuerier, error), lim *limits.Limits) *limitedQuerier {
	return &limitedQuerier{q: q, chunks: chunkQuerier, lim: lim, counters: &queryCounters{}}
}

func (q *limitedQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
	if q.lim == nil {
		return q.q.Select(ctx, sortSeries, hints, matchers...)
	}
	// The time-range limit is for PromQL evaluations (data actually read
	// for a query, its range selectors included); series, label and
	// metadata listings without a range keep Prometheus' "all time".
	split := splitFrom(ctx)
	if max := time.Duration(q.lim.MaxQueryLength); max > 0 && hints != nil && hints.Func != "series" {
		length := time.Duration(hints.End-hints.Start) * time.Millisecond
		if split != nil {
			// One day of a split range query: the limit is the whole query's.
			length += time.Duration(split.extra) * time.Millisecond
		}
		if length > max {
			return storage.ErrSeriesSet(errQueryLength(length, max))
		}
	}
	if q.lim.MaxChunksPerQuery > 0 || q.lim.MaxBytesPerQuery > 0 {
		counters, byteHints := q.counters, hints
		if split != nil {
			// The pieces of a split range query share one count of chunks
			// and bytes (series are counted per piece, as Cortex's
			// query-frontend splitting by day does), and one byte limit:
			// the whole query's range decides it.
			counters = split.counters
			if hints != nil {
				h := *hints
				h.End += split.extra
				byteHints = &h
			}
		}
		if err := q.countChunks(ctx, counters, hints, matchers, maxBytes(q.lim.MaxBytesPerQuery, byteHints)); err != nil {
			return storage.ErrSeriesSet(err)
		}
	}
	ss := q.q.Select(ctx, sortSeries, hints, matchers...)
	if q.lim.MaxSeriesPerQuery > 0 {
		return &countingSeriesSet{SeriesSet: ss, q: q}
	}
	return ss
}

// maxBytes is the byte limit of a selection: AMP's "query bytes" quota
// is per query for an instant query and per 24 hours of range for a range
// query (one with a step), so a 7-day range query may read 7 times the
// limit. The selection's own range selector does not count, and up to an
// hour of lookback is taken as part of the query's range.
func maxBytes(perQuery int64, hints *storage.SelectHints) int64 {
	if perQuery <= 0 || hints == nil || hints.Step <= 0 {
		return perQuery
	}
	span := time.Duration(hints.End-hints.Start-hints.Range)*time.Millisecond - time.Hour
	days := int64(1)
	if span > 24*time.Hour {
		days = int64((span + 24*time.Hour - 1) / (24 * time.Hour))
	}
	if perQuery > math.MaxInt64/days {
		return math.MaxInt64
	}
	return perQuery * days
}

// countChunks adds a selection's chunks and bytes to the query's counts;
// maxBytes is the selection's byte limit.
func (q *limitedQuerier) countChunks(ctx context.Context, counters *queryCounters, hints *storage.SelectHints, matchers []*labels.Matcher, maxBytes int64) error {
	if q.count != nil {
		mint, maxt := q.min, q.max
		if hints != nil {
			mint, maxt = hints.Start, hints.End
		}
		if hints != nil && hints.ShardCount > 0 {
			w := counters.wholeCount(hints.ShardIndex, mint, maxt, matchers)
			w.once.Do(func() { w.err = q.addCount(ctx, counters, mint, maxt, matchers, maxBytes) })
			return w.err
		}
		return q.addCount(ctx, counters, mint, maxt, matchers, maxBytes)
	}
	if q.cq == nil {
		cq, err := q.chunks()
		if err != nil {
			return err
		}
		q.cq = cq
	}
	css := q.cq.Select(ctx, false, hints, matchers...)
	var it chunks.Iterator
	for css.Next() {
		it = css.At().Iterator(it)
		for it.Next() {
			if max := q.lim.MaxChunksPerQuery; max > 0 && counters.chunks.Add(1) > int64(max) {
				return &limitError{fmt.Sprintf("the query hit the max number of chunks limit while fetching chunks from ingesters (limit: %d chunks)", max)}
			}
			if max := maxBytes; max > 0 {
				if c := it.At().Chunk; c != nil && counters.bytes.Add(int64(len(c.Bytes()))) > max {
					return &limitError{fmt.Sprintf("the query hit the aggregated data size limit (limit: %d bytes)", max)}
				}
			}
		}
		if err := it.Err(); err != nil {
			return err
		}
	}
	return css.Err()
}

// addCount counts a whole selection from the index and adds it to
// counters.
func (q *limitedQuerier) addCount(ctx context.Context, counters *queryCounters, mint, maxt int64, matchers []*labels.Matcher, maxBytes int64) error {
	n, bytes, err := q.count(ctx, mint, maxt, matchers...)
	if err != nil {
		return err
	}
	if max := q.lim.MaxChunksPerQuery; max > 0 && counters.chunks.Add(n) > int64(max) {
		return &limitError{fmt.Sprintf("the query hit the max number of chunks limit while fetching chunks from ingesters (limit: %d chunks)", max)}
	}
	if max := maxBytes; max > 0 && counters.bytes.Add(bytes) > max {
		return &limitError{fmt.Sprintf("the query hit the aggregated data size limit (limit: %d bytes)", max)}
	}
	return nil
}

func (q *limitedQuerier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, matchers ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return q.q.LabelValues(ctx, name, hints, matchers...)
}

func (q *limitedQuerier) LabelNames(ctx context.Context, hints *storage.LabelHints, matchers ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	return q.q.LabelNames(ctx, hints, matchers...)
}

func (q *limitedQuerier) Close() error {
	if q.cq != nil {
		q.cq.Close()
	}
	return q.q.Close()
}

// countingSeriesSet stops a query that selects too many series.
type countingSeriesSet struct {
	storage.SeriesSet
	q   *limitedQuerier
	err error
}

func (s *countingSeriesSet) Next() bool {
	if s.err != nil || !s.SeriesSet.Next() {
		return false
	}
	if max := s.q.lim.MaxSeriesPerQuery; s.q.counters.series.Add(1) > int64(max) {
		s.err = &limitError{fmt.Sprintf("the query hit the max number of series limit (limit: %d series)", max)}
		return false
	}
	return true
}

func (s *countingSeriesSet) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.SeriesSet.Err()
}
