package query

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

func newTestAPIEngines(t *testing.T, lim limits.Limits) (*engines, *Queryable) {
	t.Helper()
	mgr := tenantdb.New(tenantdb.Options{Dir: t.TempDir()})
	t.Cleanup(func() { mgr.CloseAll() })
	if err := mgr.Open("ws", 365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	o := limits.NewOverrides(lim)
	api := New(Options{Limits: o}, mgr, nil)
	return api.engines, api.queryable
}

// F2: a subquery with a tiny step is refused before the engine allocates
// its per-step statistics (16 bytes a step): [32d:1ms] took 22 GB.
func TestSubqueryStepsAreRefusedBeforeEvaluation(t *testing.T) {
	eng, q := newTestAPIEngines(t, limits.Defaults())
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	for _, qs := range []string{"max_over_time(card[32d:1ms])", "count_over_time(vector(1)[12h:1ms])"} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := eng.NewInstantQuery(ctx, q, nil, qs, time.Now())
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "subqueries would evaluate") {
			t.Fatalf("%s: %v; want the subquery steps refusal", qs, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Errorf("%s: refusing allocated %d MiB", qs, grew>>20)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: refusing took %s", qs, took)
		}
	}
	// A range query's own span counts: [1h:1s] over 30 days is 2.6M steps.
	if _, err := eng.NewRangeQuery(ctx, q, nil, "max_over_time(x[1h:1s])", time.Now().Add(-30*24*time.Hour), time.Now(), time.Hour); err == nil {
		t.Fatal("a subquery over a 30-day range query at 1s was accepted")
	}
	qry, err := eng.NewInstantQuery(ctx, q, nil, "count_over_time(vector(1)[7d:1s])", time.Now())
	if err != nil {
		t.Fatalf("604,800 steps are within the default limit: %v", err)
	}
	defer qry.Close()
	if res := qry.Exec(ctx); res.Err != nil {
		t.Fatal(res.Err)
	}
}

func TestExpressionLimitsFollowTheWorkspace(t *testing.T) {
	lim := limits.Defaults()
	lim.MaxQueryExpressionBytes = 10
	eng, q := newTestAPIEngines(t, lim)
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	if _, err := eng.NewInstantQuery(ctx, q, nil, "sum(rate(x[5m]))", time.Now()); err == nil || !strings.Contains(err.Error(), "limit: 10 bytes") {
		t.Fatalf("got %v", err)
	}
	if _, err := eng.NewInstantQuery(ctx, q, nil, "up", time.Now()); err != nil {
		t.Fatal(err)
	}
	// A context already cancelled (the client left) builds nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := eng.NewInstantQuery(cctx, q, nil, "up", time.Now()); err == nil {
		t.Fatal("a query was built for a client that left")
	}
}

// Rule evaluations go through the same engines: their expressions and
// subqueries are bounded as the API's are.
func TestRuleQueriesAreBounded(t *testing.T) {
	eng, q := newTestAPIEngines(t, limits.Defaults())
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	_, err := promqlEngineQueryFunc(eng, q)(ctx, "max_over_time(x[32d:1ms])", time.Now())
	if err == nil || !strings.Contains(err.Error(), "subqueries would evaluate") {
		t.Fatalf("rule query: %v", err)
	}
}

// promqlEngineQueryFunc is what rules.EngineQueryFunc does, without the
// rules package.
func promqlEngineQueryFunc(e promql.QueryEngine, q *Queryable) func(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
	return func(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
		qry, err := e.NewInstantQuery(ctx, q, nil, qs, t)
		if err != nil {
			return nil, err
		}
		defer qry.Close()
		res := qry.Exec(ctx)
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Vector()
	}
}
