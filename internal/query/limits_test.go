package query

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

// TestQueryLimits evaluates PromQL through the limited Queryable with small
// limits and checks each limit's error.
func TestQueryLimits(t *testing.T) {
	mgr := tenantdb.New(tenantdb.Options{Dir: t.TempDir()})
	t.Cleanup(func() { mgr.CloseAll() })
	if err := mgr.Open("ws", 365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	app, _ := mgr.Appender(context.Background(), "ws")
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	for s := 0; s < 10; s++ {
		for i := 0; i < 300; i++ { // 300 samples: 3 chunks per series
			if _, err := app.Append(0, labels.FromStrings("__name__", "m", "s", fmt.Sprint(s)), base.Add(time.Duration(i)*10*time.Second).UnixMilli(), float64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e9, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	run := func(lim limits.Limits, q string, rng time.Duration) error {
		o := limits.NewOverrides(lim)
		qr := &Queryable{Storage: mgr, Limits: o}
		end := base.Add(50 * time.Minute)
		var qry promql.Query
		var err error
		if rng > 0 {
			qry, err = eng.NewRangeQuery(ctx, qr, nil, q, end.Add(-rng), end, time.Minute)
		} else {
			qry, err = eng.NewInstantQuery(ctx, qr, nil, q, end)
		}
		if err != nil {
			return err
		}
		defer qry.Close()
		return qry.Exec(ctx).Err
	}
	unlimited := limits.Defaults()
	if err := run(unlimited, "sum(rate(m[10m]))", time.Hour); err != nil {
		t.Fatalf("within limits: %v", err)
	}
	cases := []struct {
		name  string
		set   func(*limits.Limits)
		query string
		rng   time.Duration
		want  string
	}{
		{"series", func(l *limits.Limits) { l.MaxSeriesPerQuery = 5 }, "sum(m)", 0, "max number of series limit (limit: 5 series)"},
		// 10 series of 300 samples are 2 to 4 chunks each, depending on where
		// the 2h block boundary falls: 15 is always exceeded.
		{"chunks", func(l *limits.Limits) { l.MaxChunksPerQuery = 15 }, "sum(count_over_time(m[50m]))", 0, "max number of chunks limit while fetching chunks from ingesters (limit: 15 chunks)"},
		{"bytes", func(l *limits.Limits) { l.MaxBytesPerQuery = 100 }, "sum(m)", 0, "aggregated data size limit (limit: 100 bytes)"},
		{"range query length", func(l *limits.Limits) { l.MaxQueryLength = model.Duration(30 * time.Minute) }, "sum(m)", 40 * time.Minute, "the query time range exceeds the limit (query length: "},
		{"range selector length", func(l *limits.Limits) { l.MaxQueryLength = model.Duration(30 * time.Minute) }, "sum(rate(m[45m]))", 0, "(query length: 45m, limit: 30m)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := unlimited
			tc.set(&l)
			err := run(l, tc.query, tc.rng)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// noChunkPass is the TSDB with its chunk querier forbidden: the limits
// must be counted from the index (CountChunks), never by a pass over the
// chunks before the engine reads them.
type noChunkPass struct {
	*tenantdb.Manager
	t *testing.T
}

func (s noChunkPass) ChunkQuerier(string, int64, int64) (storage.ChunkQuerier, error) {
	s.t.Error("the chunks of a selection were read to count them")
	return nil, fmt.Errorf("no chunk pass")
}

// The chunk and byte limits still trip, and a query within them still
// answers, with every selection counted from the TSDB's index only.
func TestQueryLimitsCountFromTheIndex(t *testing.T) {
	mgr := tenantdb.New(tenantdb.Options{Dir: t.TempDir()})
	t.Cleanup(func() { mgr.CloseAll() })
	if err := mgr.Open("ws", 365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	app, _ := mgr.Appender(context.Background(), "ws")
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	for s := 0; s < 10; s++ {
		for i := 0; i < 300; i++ {
			if _, err := app.Append(0, labels.FromStrings("__name__", "m", "s", fmt.Sprint(s)), base.Add(time.Duration(i)*10*time.Second).UnixMilli(), float64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e9, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	ctx := tenant.WithWorkspace(context.Background(), "ws")
	run := func(lim limits.Limits) error {
		qr := &Queryable{Storage: noChunkPass{mgr, t}, Limits: limits.NewOverrides(lim)}
		qry, err := eng.NewInstantQuery(ctx, qr, nil, "sum(count_over_time(m[50m]))", base.Add(50*time.Minute))
		if err != nil {
			return err
		}
		defer qry.Close()
		return qry.Exec(ctx).Err
	}
	within := limits.Defaults()
	within.MaxChunksPerQuery, within.MaxBytesPerQuery = 1000, 1<<20
	if err := run(within); err != nil {
		t.Fatalf("within the limits: %v", err)
	}
	chunks, bytes := limits.Defaults(), limits.Defaults()
	chunks.MaxChunksPerQuery, bytes.MaxBytesPerQuery = 15, 100
	if err := run(chunks); err == nil || !strings.Contains(err.Error(), "max number of chunks limit") {
		t.Fatalf("chunks: got %v", err)
	}
	if err := run(bytes); err == nil || !strings.Contains(err.Error(), "aggregated data size limit") {
		t.Fatalf("bytes: got %v", err)
	}
}
