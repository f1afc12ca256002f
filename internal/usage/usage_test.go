package usage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/ingest"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
)

var ctx = context.Background()

// active is the set of ACTIVE workspaces (workspace.Service.ActiveIDs).
type active struct {
	mu  sync.Mutex
	ids []string
}

func (a *active) ActiveIDs() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.ids...)
}

func (a *active) set(ids ...string) {
	a.mu.Lock()
	a.ids = ids
	a.mu.Unlock()
}

// store stands in for tenantdb: head series per workspace, and an
// appender that keeps what it is given.
type store struct {
	mu       sync.Mutex
	series   map[string]uint64
	appended map[string][]sample
}

type sample struct {
	labels labels.Labels
	t      int64
	v      float64
}

func (s *store) HeadSeries(ws string) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.series[ws], nil
}

func (s *store) Appender(_ context.Context, ws string) (storage.Appender, error) {
	return &appender{s: s, ws: ws}, nil
}

// Querier is not read on one node (Options.Node is empty).
func (s *store) Querier(string, int64, int64) (storage.Querier, error) {
	return nil, errors.New("the fake store cannot be read")
}

// appender implements the two calls writeSelf makes; the embedded
// interface is nil, so any other call fails the test loudly.
type appender struct {
	storage.Appender
	s       *store
	ws      string
	pending []sample
}

func (a *appender) Append(_ storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	a.pending = append(a.pending, sample{l, t, v})
	return 0, nil
}

func (a *appender) Commit() error {
	a.s.mu.Lock()
	a.s.appended[a.ws] = append(a.s.appended[a.ws], a.pending...)
	a.s.mu.Unlock()
	return nil
}

type fixture struct {
	ws      *active
	store   *store
	metrics *ingest.Metrics
	limits  *limits.Overrides
	series  *ingest.SeriesLimiters
	tracker *Tracker
}

func newFixture(t *testing.T, selfMetrics bool) *fixture {
	t.Helper()
	f := &fixture{ws: &active{}, store: &store{series: map[string]uint64{}, appended: map[string][]sample{}},
		metrics: ingest.NewMetrics(prometheus.NewRegistry()), limits: limits.NewOverrides(limits.Defaults())}
	f.series = ingest.NewSeriesLimiters(f.limits, false)
	f.tracker = New(Options{Workspaces: f.ws, Storage: f.store, Series: f.series, Ingest: f.metrics, SelfMetrics: selfMetrics,
		Logger: slog.New(slog.DiscardHandler)})
	return f
}

// The ingestion rate is the samples ingested over the last interval, per
// second, as AMP's IngestionRate.
func TestIngestionRateAndReport(t *testing.T) {
	f := newFixture(t, false)
	f.ws.set("ws-a", "ws-b")
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	f.tracker.Tick(ctx, t0)
	f.metrics.SamplesIngested.WithLabelValues("ws-a").Add(300)
	f.metrics.SamplesDiscarded.WithLabelValues("ws-a", "sample-out-of-order").Add(7)
	f.store.series["ws-a"] = 42
	f.tracker.Tick(ctx, t0.Add(15*time.Second))

	r := f.tracker.Report("ws-a")
	if r.IngestionRate != 20 || r.SamplesIngested != 300 || r.ActiveSeries != 42 || r.DiscardedSamples["sample-out-of-order"] != 7 {
		t.Fatalf("report %+v", r)
	}
	if b := f.tracker.Report("ws-b"); b.IngestionRate != 0 || b.SamplesIngested != 0 || len(b.DiscardedSamples) != 0 {
		t.Fatalf("another workspace's report %+v", b)
	}

	// A tick at the same instant does not divide by zero.
	f.tracker.Tick(ctx, t0.Add(15*time.Second))
	if r := f.tracker.Report("ws-a"); r.IngestionRate != 20 {
		t.Fatalf("rate after a zero-length interval: %v", r.IngestionRate)
	}

	f.tracker.AddExtra(func(ws string) map[string]float64 { return map[string]float64{"rules": 3} })
	if r := f.tracker.Report("ws-a"); r.Other["rules"] != 3 {
		t.Fatalf("extra figures: %v", r.Other)
	}
}

// /metrics shows each active workspace's usage; a workspace that is gone
// leaves it at the next tick.
func TestCollect(t *testing.T) {
	f := newFixture(t, false)
	f.ws.set("ws-a")
	f.series.For("ws-a") // tenantdb installs the limiter when it opens the workspace
	t0 := time.Now()
	f.tracker.Tick(ctx, t0)
	f.metrics.SamplesIngested.WithLabelValues("ws-a").Add(60)
	f.store.series["ws-a"] = 5
	f.tracker.Tick(ctx, t0.Add(time.Minute))
	limit := f.tracker.Report("ws-a").ActiveSeriesLimit
	if limit <= 0 {
		t.Fatalf("active series limit %d", limit)
	}
	want := fmt.Sprintf(`
# HELP kansoku_usage_active_series Active series of a workspace (AMP's ActiveSeries): series in the TSDB head.
# TYPE kansoku_usage_active_series gauge
kansoku_usage_active_series{workspace="ws-a"} 5
# HELP kansoku_usage_active_series_limit A workspace's current active-series limit (adaptive: 2x the 30-minute average, within its minimum capacity and quota).
# TYPE kansoku_usage_active_series_limit gauge
kansoku_usage_active_series_limit{workspace="ws-a"} %d
# HELP kansoku_usage_ingestion_rate Samples ingested per second by a workspace (AMP's IngestionRate), over the last interval.
# TYPE kansoku_usage_ingestion_rate gauge
kansoku_usage_ingestion_rate{workspace="ws-a"} 1
`, limit)
	if err := testutil.CollectAndCompare(f.tracker, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	f.ws.set()
	f.tracker.Tick(ctx, t0.Add(2*time.Minute))
	if n := testutil.CollectAndCount(f.tracker); n != 0 {
		t.Fatalf("%d series left for a deleted workspace", n)
	}
}

// With self-monitoring on, each tick writes the workspace's usage into the
// workspace itself (job="kansoku", instance=<workspace>), so that AMP's
// documented queries answer there.
func TestSelfMetrics(t *testing.T) {
	f := newFixture(t, true)
	f.ws.set("ws-a")
	f.metrics.SamplesIngested.WithLabelValues("ws-a").Add(10)
	f.metrics.SamplesDiscarded.WithLabelValues("ws-a", "per_metric_series_limit").Add(2)
	f.store.series["ws-a"] = 3
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	f.tracker.Tick(ctx, now)
	got := map[string]float64{}
	for _, s := range f.store.appended["ws-a"] {
		if s.labels.Get("job") != "kansoku" || s.labels.Get("instance") != "ws-a" || s.t != now.UnixMilli() {
			t.Fatalf("self series %s at %d", s.labels, s.t)
		}
		key := s.labels.Get("__name__")
		if r := s.labels.Get("reason"); r != "" {
			key += "/" + r
		}
		got[key] = s.v
	}
	for name, v := range map[string]float64{"prometheus_tsdb_head_series": 3, "prometheus_tsdb_head_samples_appended_total": 10,
		"kansoku_usage_ingestion_rate": 0, "kansoku_discarded_samples_total/per_metric_series_limit": 2} {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (written: %v), want %v", name, g, ok, v)
		}
	}
	if _, ok := got["kansoku_usage_active_series_limit"]; !ok {
		t.Error("the active series limit was not written")
	}

	off := newFixture(t, false)
	off.ws.set("ws-a")
	off.tracker.Tick(ctx, now)
	if len(off.store.appended) != 0 {
		t.Fatalf("self-monitoring off wrote %v", off.store.appended)
	}
}

type existing map[string]bool

func (e existing) Exists(_ context.Context, id string) error {
	if !e[id] {
		return apierr.NotFound("Workspace", id, "Workspace %s not found", id)
	}
	return nil
}

// GetUsage reports a workspace's usage with its limits; an unknown
// workspace is a ResourceNotFoundException.
func TestGetUsageRoute(t *testing.T) {
	f := newFixture(t, false)
	f.ws.set("ws-a")
	f.tracker.Tick(ctx, time.Now())
	routes := f.tracker.Routes(existing{"ws-a": true}, f.limits, nil)
	if len(routes) != 1 || routes[0].Name != "GetUsage" || routes[0].Action != "kansoku:GetUsage" {
		t.Fatalf("routes %+v", routes)
	}
	get := func(ws string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/admin/v1/workspaces/"+ws+"/usage", nil)
		r.SetPathValue("workspaceId", ws)
		r = r.WithContext(httpapi.WithRequest(r.Context(), "req-1", slog.New(slog.DiscardHandler), nil))
		w := httptest.NewRecorder()
		routes[0].Handler.ServeHTTP(w, r)
		return w
	}
	w := get("ws-a")
	var out struct {
		Usage  Report
		Limits limits.Limits
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != 200 || out.Usage.Workspace != "ws-a" ||
		out.Limits.MaxActiveSeries != limits.Defaults().MaxActiveSeries {
		t.Fatalf("GetUsage: %d %s %v", w.Code, w.Body, err)
	}
	if strings.Contains(w.Body.String(), "haElectedReplicas") {
		t.Fatal("HA replicas reported without HA tracking")
	}
	if w := get("ws-x"); w.Code != 404 || w.Header().Get("X-Amzn-ErrorType") != "ResourceNotFoundException" {
		t.Fatalf("an unknown workspace: %d %s", w.Code, w.Body)
	}
}

// A workspace's label sets are on /metrics and in its report, with their
// active series, limit and refused series.
func TestLabelSetUsage(t *testing.T) {
	f := newFixture(t, false)
	f.ws.set("ws-a")
	if err := f.series.SetLabelSetLimits("ws-a", []metastore.LabelSetLimit{{LabelSet: map[string]string{"team": "a"}, MaxSeries: 7}}); err != nil {
		t.Fatal(err)
	}
	f.tracker.Tick(ctx, time.Now())
	r := f.tracker.Report("ws-a")
	if len(r.LabelSets) != 1 || r.LabelSets[0].MaxSeries != 7 || r.LabelSets[0].LabelSet["team"] != "a" {
		t.Fatalf("report: %+v", r.LabelSets)
	}
	want := `
# HELP kansoku_usage_label_set_series_limit The active-series limit of a workspace's label set (0: counted, not limited).
# TYPE kansoku_usage_label_set_series_limit gauge
kansoku_usage_label_set_series_limit{label_set="{team=\"a\"}",workspace="ws-a"} 7
`
	if err := testutil.CollectAndCompare(f.tracker, strings.NewReader(want), "kansoku_usage_label_set_series_limit"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(f.tracker, "kansoku_usage_label_set_active_series", "kansoku_usage_label_set_refused_series_total"); n != 2 {
		t.Fatalf("label-set series: %d", n)
	}
}
