package query

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

// workspaceStorage is one workspace seen through Kansoku's storage stack:
// writes go to the workspace's TSDB in the tenantdb manager, reads through
// the tenant-resolving Queryable the query API uses.
type workspaceStorage struct {
	mgr *tenantdb.Manager
	ws  string
	q   *Queryable
}

func (s *workspaceStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	return s.q.Querier(mint, maxt)
}

func (s *workspaceStorage) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	db, err := s.mgr.DB(s.ws)
	if err != nil {
		return nil, err
	}
	return db.ChunkQuerier(mint, maxt)
}

func (s *workspaceStorage) Appender(ctx context.Context) storage.Appender {
	app, err := s.mgr.Appender(ctx, s.ws)
	if err != nil {
		panic(err)
	}
	return app
}

func (s *workspaceStorage) AppenderV2(ctx context.Context) storage.AppenderV2 {
	db, err := s.mgr.DB(s.ws)
	if err != nil {
		panic(err)
	}
	return db.AppenderV2(ctx)
}

func (s *workspaceStorage) StartTime() (int64, error) { return int64(model0), nil }
func (s *workspaceStorage) Close() error              { return s.mgr.Close(s.ws) }

const model0 = -1 << 62

// boundEngine runs every query in the context of the workspace its
// storage belongs to, as the HTTP middleware does for real requests.
type boundEngine struct{ inner promql.QueryEngine }

func wsOf(q storage.Queryable) string { return q.(*workspaceStorage).ws }

func (e boundEngine) NewInstantQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, ts time.Time) (promql.Query, error) {
	ws := wsOf(q)
	qry, err := e.inner.NewInstantQuery(tenant.WithWorkspace(ctx, ws), q, opts, qs, ts)
	return boundQuery{qry, ws}, err
}

func (e boundEngine) NewRangeQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, step time.Duration) (promql.Query, error) {
	ws := wsOf(q)
	qry, err := e.inner.NewRangeQuery(tenant.WithWorkspace(ctx, ws), q, opts, qs, start, end, step)
	return boundQuery{qry, ws}, err
}

type boundQuery struct {
	promql.Query
	ws string
}

func (q boundQuery) Exec(ctx context.Context) *promql.Result {
	return q.Query.Exec(tenant.WithWorkspace(ctx, q.ws))
}

// promqltestTSDBOptions are the TSDB options of Prometheus' own test
// storage (util/teststorage): the suite loads each series sequentially over
// long spans, which needs 24h blocks' appendable window, and some files use
// start timestamps, which need ST storage.
func promqltestTSDBOptions(o *tsdb.Options) {
	o.MinBlockDuration = (24 * time.Hour).Milliseconds()
	o.MaxBlockDuration = (24 * time.Hour).Milliseconds()
	o.EnableSTStorage = true
	o.FloatChunkEncoding = chunkenc.EncXOR2
	o.EnableHistogramSTEncoding = true
}

// TestPromQLConformance runs Prometheus' own scripted PromQL test suite
// against workspace storage: every test file loads its series into a fresh
// workspace and evaluates through the tenant Queryable.
func TestPromQLConformance(t *testing.T) {
	mgr := tenantdb.New(tenantdb.Options{Dir: t.TempDir(), TSDB: promqltestTSDBOptions})
	t.Cleanup(func() { mgr.CloseAll() })
	var n atomic.Int64
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	promqltest.RunBuiltinTestsWithStorage(t, boundEngine{engine}, func(tb testing.TB) storage.Storage {
		ws := fmt.Sprintf("ws-%d", n.Add(1))
		if err := mgr.Open(ws, 365*24*time.Hour); err != nil {
			tb.Fatal(err)
		}
		return &workspaceStorage{mgr: mgr, ws: ws, q: &Queryable{Storage: mgr}}
	})
}

// shardingEngine runs queries as the query API does with sharding on.
type shardingEngine struct{ eng *engine }

func (e shardingEngine) NewInstantQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, ts time.Time) (promql.Query, error) {
	return e.eng.newQuery(ctx, q, opts, qs, ts, ts, 0, true)
}

func (e shardingEngine) NewRangeQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, step time.Duration) (promql.Query, error) {
	return e.eng.newQuery(ctx, q, opts, qs, start, end, step, false)
}

// TestPromQLConformanceSharded runs Prometheus' PromQL test suite with
// query sharding on (4 shards): every shardable aggregation of the suite
// runs on shards and must give the suite's expected results, errors and
// warnings.
func TestPromQLConformanceSharded(t *testing.T) {
	mgr := tenantdb.New(tenantdb.Options{Dir: t.TempDir(), TSDB: func(o *tsdb.Options) {
		promqltestTSDBOptions(o)
		o.EnableSharding = true
	}})
	t.Cleanup(func() { mgr.CloseAll() })
	var n atomic.Int64
	o := promql.EngineOpts{
		MaxSamples: promqltest.DefaultMaxSamplesPerQuery, Timeout: 100 * time.Second,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		EnableAtModifier:         true, EnableNegativeOffset: true, EnableDelayedNameRemoval: true, UseStartTimestamps: true,
		Parser: parser.NewParser(promqltest.TestParserOpts),
	}
	eng := newEngine(o, parser.NewParser(promqltest.TestParserOpts), 4)
	exprs, err := promqltest.GetBuiltInExprs()
	if err != nil {
		t.Fatal(err)
	}
	sharded := 0
	for _, qs := range exprs {
		if isSharded(qs) {
			sharded++
		}
	}
	if sharded < 100 {
		t.Fatalf("only %d of the suite's %d expressions shard", sharded, len(exprs))
	}
	t.Logf("%d of the suite's %d expressions shard", sharded, len(exprs))
	promqltest.RunBuiltinTestsWithStorage(t, boundEngine{shardingEngine{eng}}, func(tb testing.TB) storage.Storage {
		ws := fmt.Sprintf("ws-%d", n.Add(1))
		if err := mgr.Open(ws, 365*24*time.Hour); err != nil {
			tb.Fatal(err)
		}
		return &workspaceStorage{mgr: mgr, ws: ws, q: &Queryable{Storage: mgr}}
	})
}

// TestQueryableNeedsWorkspace: without a workspace in the context the
// Queryable reads nothing at all.
func TestQueryableNeedsWorkspace(t *testing.T) {
	mgr := tenantdb.New(tenantdb.Options{Dir: t.TempDir()})
	t.Cleanup(func() { mgr.CloseAll() })
	if err := mgr.Open("ws-a", time.Hour); err != nil {
		t.Fatal(err)
	}
	q, _ := (&Queryable{Storage: mgr}).Querier(0, 1)
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))
	if ss.Next() || !errors.Is(ss.Err(), tenant.ErrNoWorkspace) {
		t.Fatalf("want ErrNoWorkspace, got %v", ss.Err())
	}
	if _, _, err := q.LabelNames(context.Background(), nil); !errors.Is(err, tenant.ErrNoWorkspace) {
		t.Fatalf("want ErrNoWorkspace, got %v", err)
	}
}
