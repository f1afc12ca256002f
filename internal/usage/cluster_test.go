package usage

import (
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kansoku/kansoku/internal/ingest"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

// Two nodes of a cluster ingest into one workspace: each writes its own
// self-monitoring series, only the owner writes the workspace-wide ones,
// and either node's report adds both nodes up.
func TestClusterNodesReportTheWorkspaceTotals(t *testing.T) {
	const ws = "ws-11111111-2222-4333-8444-555555555555"
	db := tenantdb.New(tenantdb.Options{Dir: t.TempDir()})
	t.Cleanup(func() { _ = db.CloseAll() })
	if err := db.Open(ws, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	lim := limits.NewOverrides(limits.Defaults())
	act := &active{}
	act.set(ws)
	node := func(name string, owner bool) (*Tracker, *ingest.Metrics) {
		m := ingest.NewMetrics(prometheus.NewRegistry())
		return New(Options{Workspaces: act, Storage: db, Series: ingest.NewSeriesLimiters(lim, false), Ingest: m,
			SelfMetrics: true, Logger: slog.New(slog.DiscardHandler), Node: name,
			Owns: func(string) bool { return owner }}), m
	}
	a, ma := node("node-a", true)
	b, mb := node("node-b", false)
	t0 := time.Now().Add(-30 * time.Second).Truncate(time.Second)
	a.Tick(ctx, t0)
	b.Tick(ctx, t0)
	ma.SamplesIngested.WithLabelValues(ws).Add(150)
	mb.SamplesIngested.WithLabelValues(ws).Add(450)
	ma.SamplesDiscarded.WithLabelValues(ws, "sample-out-of-order").Add(2)
	mb.SamplesDiscarded.WithLabelValues(ws, "sample-out-of-order").Add(3)
	mb.SamplesDiscarded.WithLabelValues(ws, "rate_limited").Add(10)
	a.Tick(ctx, t0.Add(15*time.Second))
	b.Tick(ctx, t0.Add(15*time.Second))

	for name, tr := range map[string]*Tracker{"a": a, "b": b} {
		r := tr.Report(ws)
		if r.SamplesIngested != 600 || r.IngestionRate != 40 {
			t.Errorf("node %s reports %v samples at %v/s, want 600 at 40/s (both nodes)", name, r.SamplesIngested, r.IngestionRate)
		}
		if r.DiscardedSamples["sample-out-of-order"] != 5 || r.DiscardedSamples["rate_limited"] != 10 {
			t.Errorf("node %s reports discards %v", name, r.DiscardedSamples)
		}
	}
	// The workspace-wide series come from the owner alone (no node label).
	q, err := db.Querier(ws, t0.Add(-time.Minute).UnixMilli(), time.Now().UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	names, _, err := q.LabelValues(ctx, NodeLabel, nil)
	if err != nil || len(names) != 2 {
		t.Fatalf("node label values %v %v, want both nodes", names, err)
	}
}
