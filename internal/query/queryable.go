package query

import (
	"context"
	"errors"
	"sync"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenant"
)

// Storage gives read access to one workspace's samples and chunks.
type Storage interface {
	Querier(ws string, mint, maxt int64) (storage.Querier, error)
	ChunkQuerier(ws string, mint, maxt int64) (storage.ChunkQuerier, error)
}

// ChunkCounter is a storage that counts, from its index alone, the chunks
// and bytes a selection would read (tenantdb.Manager).
type ChunkCounter interface {
	CountChunks(ctx context.Context, ws string, mint, maxt int64, matchers ...*labels.Matcher) (chunks, bytes int64, err error)
}

// SeriesCounter is a storage that counts the series a selection matches
// from its postings, up to a bound (tenantdb.Manager): queries over fewer
// than query.shard_min_series series are not sharded.
type SeriesCounter interface {
	CountSeries(ctx context.Context, ws string, mint, maxt int64, upTo int, matchers ...*labels.Matcher) (int, error)
	// CountLabelValues counts a label's values, up to a bound: aggregations
	// by labels with about as many values as the series gain nothing from
	// sharding.
	CountLabelValues(ctx context.Context, ws string, mint, maxt int64, name string, upTo int) (int, error)
}

// Queryable is a storage.Queryable over every workspace that reads the
// workspace to query from the request context (package tenant). The PromQL
// engine and the HTTP API use it like any Prometheus storage; every read
// is checked against the workspace's query limits (limits.go).
type Queryable struct {
	Storage Storage
	// Limits, when set, applies each workspace's query limits.
	Limits *limits.Overrides
}

// Querier implements storage.Queryable. The workspace is resolved lazily, at
// Select time, because only the calls carry a context.
func (q *Queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return &tenantQuerier{parent: q, mint: mint, maxt: maxt}, nil
}

// ChunkQuerier implements storage.ChunkQueryable; remote read is not served.
func (q *Queryable) ChunkQuerier(int64, int64) (storage.ChunkQuerier, error) {
	return nil, errors.New("remote read is not supported")
}

type tenantQuerier struct {
	parent     *Queryable
	mint, maxt int64

	mu    sync.Mutex
	inner storage.Querier
	ws    string
	err   error
}

func (t *tenantQuerier) get(ctx context.Context) (storage.Querier, error) {
	ws, err := tenant.Workspace(ctx)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inner != nil || t.err != nil {
		if t.ws != ws {
			return nil, errors.New("one querier used for two workspaces")
		}
		return t.inner, t.err
	}
	t.ws = ws
	var lim *limits.Limits
	if t.parent.Limits != nil {
		lim = t.parent.Limits.For(ws)
	}
	inner, err := t.parent.Storage.Querier(ws, t.mint, t.maxt)
	if err == nil {
		mint, maxt := t.mint, t.maxt
		lq := newLimitedQuerier(inner, func() (storage.ChunkQuerier, error) { return t.parent.Storage.ChunkQuerier(ws, mint, maxt) }, lim)
		if c, ok := t.parent.Storage.(ChunkCounter); ok {
			lq.count = func(ctx context.Context, from, to int64, ms ...*labels.Matcher) (int64, int64, error) {
				return c.CountChunks(ctx, ws, from, to, ms...)
			}
			lq.min, lq.max = mint, maxt
		}
		if c := queryCountersFrom(ctx); c != nil {
			// A sharded query: its shards and its own selections share
			// one count.
			lq.counters = c
		}
		inner = lq
	}
	t.inner, t.err = inner, err
	return inner, err
}

func (t *tenantQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
	q, err := t.get(ctx)
	if err != nil {
		return storage.ErrSeriesSet(err)
	}
	return q.Select(ctx, sortSeries, hints, matchers...)
}

func (t *tenantQuerier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, matchers ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	q, err := t.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	return q.LabelValues(ctx, name, hints, matchers...)
}

func (t *tenantQuerier) LabelNames(ctx context.Context, hints *storage.LabelHints, matchers ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	q, err := t.get(ctx)
	if err != nil {
		return nil, nil, err
	}
	return q.LabelNames(ctx, hints, matchers...)
}

func (t *tenantQuerier) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inner != nil {
		return t.inner.Close()
	}
	return nil
}

// noExemplars answers exemplar queries with nothing: workspaces keep no
// exemplar storage (AMP does not either).
type noExemplars struct{}

func (noExemplars) ExemplarQuerier(context.Context) (storage.ExemplarQuerier, error) {
	return noExemplars{}, nil
}

func (noExemplars) Select(int64, int64, ...[]*labels.Matcher) ([]exemplar.QueryResult, error) {
	return []exemplar.QueryResult{}, nil
}
