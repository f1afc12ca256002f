// Package usage tracks what each workspace uses against its quotas, as
// AMP's vended usage metrics do: ingestion rate, active series and the
// adaptive series limit, discarded samples by reason. It exposes them on
// /metrics with a workspace label, serves them to `kansoku usage`, feeds the
// adaptive active-series limits, and writes a few self-monitoring series
// into each workspace so that the queries AMP's documentation suggests
// (prometheus_tsdb_head_series, rate(prometheus_tsdb_head_samples_appended_total[5m]))
// answer for the workspace itself.
package usage

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/kansoku/kansoku/internal/ingest"
)

// Workspaces lists the active workspaces.
type Workspaces interface {
	ActiveIDs() []string
}

// Storage is the workspace storage usage reads and writes.
type Storage interface {
	HeadSeries(ws string) (uint64, error)
	Appender(ctx context.Context, ws string) (storage.Appender, error)
	Querier(ws string, mint, maxt int64) (storage.Querier, error)
}

// Extra contributes more usage figures (the ruler and Alertmanager add
// theirs) to reports.
type Extra func(ws string) map[string]float64

// Options configure the tracker.
type Options struct {
	Workspaces Workspaces
	Storage    Storage
	Series     *ingest.SeriesLimiters
	Ingest     *ingest.Metrics
	// SelfMetrics writes the self-monitoring series into each workspace.
	SelfMetrics bool
	Interval    time.Duration
	Logger      *slog.Logger
	// Node, in a cluster, is this node's name: each node counts only what
	// it ingested, so its self-monitoring series carry NodeLabel=Node, and
	// reports add up every node's latest figures from those series.
	Node string
	// Owns, in a cluster, says whether this node writes a workspace's
	// workspace-wide series (active series and their limit), which one
	// node writes.
	Owns func(ws string) bool
}

// NodeLabel names, on a cluster node's self-monitoring series, the node
// that wrote them.
const NodeLabel = "kansoku_node"

// Tracker computes usage periodically.
type Tracker struct {
	opts   Options
	mu     sync.Mutex
	state  map[string]*wsState
	extras []Extra
}

type wsState struct {
	ingested    float64
	at          time.Time
	rate        float64
	series      uint64
	seriesLimit int64
}

// New returns a tracker; Run computes.
func New(o Options) *Tracker {
	if o.Interval == 0 {
		o.Interval = 15 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Tracker{opts: o, state: map[string]*wsState{}}
}

// AddExtra registers more usage figures for reports and /metrics.
func (t *Tracker) AddExtra(e Extra) { t.extras = append(t.extras, e) }

// Run ticks until ctx ends.
func (t *Tracker) Run(ctx context.Context) error {
	tk := time.NewTicker(t.opts.Interval)
	defer tk.Stop()
	for {
		t.Tick(ctx, time.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
	}
}

// counterValues reads a counter vector's values for one workspace, keyed
// by the value of byLabel ("" when the vector has no such label).
func counterValues(c prometheus.Collector, ws, byLabel string) map[string]float64 {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	out := map[string]float64{}
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil || d.Counter == nil {
			continue
		}
		match, key := false, ""
		for _, lp := range d.Label {
			if lp.GetName() == "workspace" && lp.GetValue() == ws {
				match = true
			}
			if lp.GetName() == byLabel {
				key = lp.GetValue()
			}
		}
		if match {
			out[key] += d.Counter.GetValue()
		}
	}
	return out
}

// Tick computes every workspace's usage once.
func (t *Tracker) Tick(ctx context.Context, now time.Time) {
	t.opts.Series.Observe(now)
	ids := t.opts.Workspaces.ActiveIDs()
	alive := map[string]bool{}
	for _, ws := range ids {
		alive[ws] = true
		ingested := counterValues(t.opts.Ingest.SamplesIngested, ws, "")[""]
		series, _ := t.opts.Storage.HeadSeries(ws)
		var limit int64
		if l := t.opts.Series.For(ws); l != nil {
			limit = l.Limit()
		}
		t.mu.Lock()
		st, ok := t.state[ws]
		if !ok {
			st = &wsState{ingested: ingested, at: now}
			t.state[ws] = st
		} else if dt := now.Sub(st.at).Seconds(); dt > 0 {
			st.rate = (ingested - st.ingested) / dt
			st.ingested, st.at = ingested, now
		}
		st.series, st.seriesLimit = series, limit
		rate := st.rate
		t.mu.Unlock()
		if t.opts.SelfMetrics {
			t.writeSelf(ctx, ws, now, series, ingested, rate, limit)
		}
	}
	t.mu.Lock()
	for ws := range t.state {
		if !alive[ws] {
			delete(t.state, ws)
		}
	}
	t.mu.Unlock()
}

// writeSelf appends the workspace's own usage as series in the workspace
// (job="kansoku", instance=<workspace id>).
func (t *Tracker) writeSelf(ctx context.Context, ws string, now time.Time, series uint64, ingested, rate float64, limit int64) {
	app, err := t.opts.Storage.Appender(ctx, ws)
	if err != nil {
		return
	}
	ts := now.UnixMilli()
	add := func(perNode bool, value float64, kv ...string) {
		kv = append(kv, "job", "kansoku", "instance", ws)
		if perNode && t.opts.Node != "" {
			kv = append(kv, NodeLabel, t.opts.Node)
		}
		if _, err := app.Append(0, labels.FromStrings(kv...), ts, value); err != nil {
			t.opts.Logger.Debug("append usage series", "workspace", ws, "err", err)
		}
	}
	if t.opts.Owns == nil || t.opts.Owns(ws) {
		add(false, float64(series), "__name__", "prometheus_tsdb_head_series")
		add(false, float64(limit), "__name__", "kansoku_usage_active_series_limit")
	}
	add(true, ingested, "__name__", "prometheus_tsdb_head_samples_appended_total")
	add(true, rate, "__name__", "kansoku_usage_ingestion_rate")
	for reason, n := range counterValues(t.opts.Ingest.SamplesDiscarded, ws, "reason") {
		add(true, n, "__name__", "kansoku_discarded_samples_total", "reason", reason)
	}
	if err := app.Commit(); err != nil {
		t.opts.Logger.Debug("commit usage series", "workspace", ws, "err", err)
	}
}

// Report is one workspace's usage.
type Report struct {
	Workspace         string             `json:"workspaceId"`
	IngestionRate     float64            `json:"ingestionRate"`
	SamplesIngested   float64            `json:"samplesIngested"`
	ActiveSeries      uint64             `json:"activeSeries"`
	ActiveSeriesLimit int64              `json:"activeSeriesLimit"`
	DiscardedSamples  map[string]float64 `json:"discardedSamples"`
	Other             map[string]float64 `json:"other,omitempty"`
	// LabelSets are the workspace's label-set limits with their active
	// series and refused new series (embedded storage; Cortex counts its
	// own).
	LabelSets []ingest.LabelSetUsage `json:"labelSets"`
}

// Report returns a workspace's current usage.
func (t *Tracker) Report(ws string) Report {
	r := Report{Workspace: ws, DiscardedSamples: counterValues(t.opts.Ingest.SamplesDiscarded, ws, "reason")}
	r.SamplesIngested = counterValues(t.opts.Ingest.SamplesIngested, ws, "")[""]
	r.LabelSets = t.opts.Series.LabelSetUsage(ws)
	if r.LabelSets == nil {
		r.LabelSets = []ingest.LabelSetUsage{}
	}
	r.ActiveSeries, _ = t.opts.Storage.HeadSeries(ws)
	if l := t.opts.Series.For(ws); l != nil {
		r.ActiveSeriesLimit = l.Limit()
	}
	t.mu.Lock()
	if st, ok := t.state[ws]; ok {
		r.IngestionRate = st.rate
	}
	t.mu.Unlock()
	if t.opts.Node != "" && t.opts.SelfMetrics {
		t.clusterTotals(&r)
	}
	for _, e := range t.extras {
		for k, v := range e(ws) {
			if r.Other == nil {
				r.Other = map[string]float64{}
			}
			r.Other[k] = v
		}
	}
	return r
}

var (
	descRate   = prometheus.NewDesc("kansoku_usage_ingestion_rate", "Samples ingested per second by a workspace (AMP's IngestionRate), over the last interval.", []string{"workspace"}, nil)
	descSeries = prometheus.NewDesc("kansoku_usage_active_series", "Active series of a workspace (AMP's ActiveSeries): series in the TSDB head.", []string{"workspace"}, nil)
	descLimit  = prometheus.NewDesc("kansoku_usage_active_series_limit", "A workspace's current active-series limit (adaptive: 2x the 30-minute average, within its minimum capacity and quota).", []string{"workspace"}, nil)

	descSetSeries  = prometheus.NewDesc("kansoku_usage_label_set_active_series", "Active series of a workspace carrying every label of one of its label sets (limitsPerLabelSet).", []string{"workspace", "label_set"}, nil)
	descSetLimit   = prometheus.NewDesc("kansoku_usage_label_set_series_limit", "The active-series limit of a workspace's label set (0: counted, not limited).", []string{"workspace", "label_set"}, nil)
	descSetRefused = prometheus.NewDesc("kansoku_usage_label_set_refused_series_total", "New series a workspace's label-set limit refused (discard reason per_labelset_series_limit).", []string{"workspace", "label_set"}, nil)
)

// Describe implements prometheus.Collector.
func (t *Tracker) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRate
	ch <- descSeries
	ch <- descLimit
	ch <- descSetSeries
	ch <- descSetLimit
	ch <- descSetRefused
}

// Collect implements prometheus.Collector.
func (t *Tracker) Collect(ch chan<- prometheus.Metric) {
	t.mu.Lock()
	ids := make([]string, 0, len(t.state))
	for ws := range t.state {
		ids = append(ids, ws)
	}
	sort.Strings(ids)
	for _, ws := range ids {
		st := t.state[ws]
		ch <- prometheus.MustNewConstMetric(descRate, prometheus.GaugeValue, st.rate, ws)
		ch <- prometheus.MustNewConstMetric(descSeries, prometheus.GaugeValue, float64(st.series), ws)
		ch <- prometheus.MustNewConstMetric(descLimit, prometheus.GaugeValue, float64(st.seriesLimit), ws)
	}
	t.mu.Unlock()
	for _, ws := range ids {
		for _, ls := range t.opts.Series.LabelSetUsage(ws) {
			key := labels.FromMap(ls.LabelSet).String()
			ch <- prometheus.MustNewConstMetric(descSetSeries, prometheus.GaugeValue, float64(ls.ActiveSeries), ws, key)
			ch <- prometheus.MustNewConstMetric(descSetLimit, prometheus.GaugeValue, float64(ls.MaxSeries), ws, key)
			ch <- prometheus.MustNewConstMetric(descSetRefused, prometheus.CounterValue, float64(ls.RefusedSeries), ws, key)
		}
	}
}

// clusterTotals replaces r's per-node figures (ingestion rate, samples
// ingested, discarded samples) with the sum over every node's latest
// self-monitoring series in the workspace (written within the last two
// intervals, so a dead node drops out).
func (t *Tracker) clusterTotals(r *Report) {
	now := time.Now()
	q, err := t.opts.Storage.Querier(r.Workspace, now.Add(-2*t.opts.Interval-time.Minute).UnixMilli(), now.UnixMilli())
	if err != nil {
		t.opts.Logger.Debug("read usage series", "workspace", r.Workspace, "err", err)
		return
	}
	defer q.Close()
	latest := func(name string, by string) (map[string]float64, bool) {
		ss := q.Select(context.Background(), false, nil,
			labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name),
			labels.MustNewMatcher(labels.MatchEqual, "job", "kansoku"),
			labels.MustNewMatcher(labels.MatchNotEqual, NodeLabel, ""))
		out := map[string]float64{}
		var it chunkenc.Iterator
		for ss.Next() {
			it = ss.At().Iterator(it)
			var v float64
			seen := false
			for it.Next() == chunkenc.ValFloat {
				_, v = it.At()
				seen = true
			}
			if seen {
				out[ss.At().Labels().Get(by)] += v
			}
		}
		return out, ss.Err() == nil && len(out) > 0
	}
	if m, ok := latest("kansoku_usage_ingestion_rate", ""); ok {
		r.IngestionRate = m[""]
	}
	if m, ok := latest("prometheus_tsdb_head_samples_appended_total", ""); ok {
		r.SamplesIngested = m[""]
	}
	if m, ok := latest("kansoku_discarded_samples_total", "reason"); ok {
		r.DiscardedSamples = m
	}
}
