package anomaly

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/rcf"
	"github.com/kansoku/kansoku/internal/tenant"
)

// The series a detector writes, after AMP's PreviewAnomalyDetector
// (which names them anomaly_detector_preview:lower_band, ...:score,
// ...:upper_band), and the label naming the detector.
const (
	MetricLowerBand = "anomaly_detector:lower_band"
	MetricUpperBand = "anomaly_detector:upper_band"
	MetricScore     = "anomaly_detector:score"
	LabelDetectorID = "anomaly_detector_id"
)

// Log is where detector warnings go (wslog.Service).
type Log interface {
	Log(ctx context.Context, ws, component, level, msg string, fields map[string]string)
}

// EvaluatorOptions configure the evaluator.
type EvaluatorOptions struct {
	Service *Service
	// Engine and Queryable run detectors' queries with the workspace's
	// query limits (the query API's).
	Engine    promql.QueryEngine
	Queryable storage.Queryable
	// Push writes the detectors' series through the ingest path.
	Push   func(ctx context.Context, ws string, req *prompb.WriteRequest) error
	Logs   Log
	Logger *slog.Logger
	// Tick is how often due detectors are looked for (1 s).
	Tick time.Duration
	// Resync is how often the detectors are re-read (10 s), besides
	// Sync.
	Resync time.Duration
	Now    func() time.Time
	Seed   uint64
}

// Evaluator runs the detectors of the workspaces this node owns.
type Evaluator struct {
	o EvaluatorOptions

	mu     sync.Mutex
	states map[string]*detectorState // ws/id
	busy   map[string]bool           // workspaces being evaluated
	dirty  bool
	wg     sync.WaitGroup
}

type detectorState struct {
	d        Detector
	forest   rcf.Config
	trained  bool
	next     time.Time
	series   map[string]*seriesState
	warnedAt time.Time
}

type seriesState struct {
	lset labels.Labels
	det  *rcf.Detector
	// seen: the series was in the last evaluation's result.
	seen bool
}

// NewEvaluator returns an evaluator; Run runs it.
func NewEvaluator(o EvaluatorOptions) *Evaluator {
	if o.Tick == 0 {
		o.Tick = time.Second
	}
	if o.Resync == 0 {
		o.Resync = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Evaluator{o: o, states: map[string]*detectorState{}, busy: map[string]bool{}}
	o.Service.OnChange(func(string) { e.Sync() })
	return e
}

// Sync re-reads the detectors at the next tick.
func (e *Evaluator) Sync() {
	e.mu.Lock()
	e.dirty = true
	e.mu.Unlock()
}

// Run evaluates due detectors of the workspaces owned lists until ctx ends.
func (e *Evaluator) Run(ctx context.Context, owned func(context.Context) ([]string, error)) error {
	t := time.NewTicker(e.o.Tick)
	defer t.Stop()
	var lastSync time.Time
	for {
		now := e.o.Now()
		e.mu.Lock()
		dirty := e.dirty
		e.dirty = false
		e.mu.Unlock()
		if dirty || now.Sub(lastSync) >= e.o.Resync {
			if err := e.load(ctx, owned); err != nil {
				e.o.Logger.Warn("read anomaly detectors", "err", err)
			}
			lastSync = now
		}
		e.dispatch(ctx, now)
		select {
		case <-ctx.Done():
			e.wg.Wait()
			return nil
		case <-t.C:
		}
	}
}

// load reconciles the states with the ACTIVE detectors of owned
// workspaces: a new or changed detector starts untrained (a Put retrains,
// as AMP's does), a removed one is forgotten.
func (e *Evaluator) load(ctx context.Context, owned func(context.Context) ([]string, error)) error {
	ids, err := owned(ctx)
	if err != nil {
		return err
	}
	mine := map[string]bool{}
	for _, ws := range ids {
		mine[ws] = true
	}
	all, err := e.o.Service.store.ListAnomalyDetectors(ctx, "")
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range all {
		if !mine[m.WorkspaceID] || m.Status != metastore.StatusActive {
			continue
		}
		key := m.WorkspaceID + "/" + m.ID
		keep[key] = true
		if st, ok := e.states[key]; ok && st.d.ModifiedAt.Equal(m.ModifiedAt) && st.d.Configuration == m.Configuration &&
			st.d.MissingData == m.MissingData && st.d.AnomalyDetector.Labels == m.Labels && st.d.IntervalSeconds == m.IntervalSeconds {
			continue
		}
		d := Parse(m)
		c := d.Config.RandomCutForest
		if c == nil || c.ShingleSize == nil || c.SampleSize == nil {
			continue
		}
		fc, _ := e.o.Service.limits.forestConfig(*c.ShingleSize, *c.SampleSize)
		e.states[key] = &detectorState{d: d, forest: fc, series: map[string]*seriesState{}}
	}
	for key := range e.states {
		if !keep[key] {
			delete(e.states, key)
		}
	}
	return nil
}

// dispatch starts, per workspace not already being evaluated, the
// evaluation of its due detectors.
func (e *Evaluator) dispatch(ctx context.Context, now time.Time) {
	e.mu.Lock()
	due := map[string][]*detectorState{}
	for _, st := range e.states {
		ws := st.d.WorkspaceID
		if !e.busy[ws] && !now.Before(st.next) {
			st.next = now.Add(e.interval(st))
			due[ws] = append(due[ws], st)
		}
	}
	for ws, sts := range due {
		e.busy[ws] = true
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			for _, st := range sts {
				e.evaluate(ctx, st, now)
			}
			e.mu.Lock()
			delete(e.busy, ws)
			e.mu.Unlock()
		}()
	}
	e.mu.Unlock()
}

func (e *Evaluator) interval(st *detectorState) time.Duration {
	return time.Duration(st.d.IntervalSeconds) * time.Second
}

// workspaceBytes is the memory of a workspace's forests on this node.
func (e *Evaluator) workspaceBytes(ws string) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n int64
	for _, st := range e.states {
		if st.d.WorkspaceID == ws {
			n += int64(len(st.series)) * st.forest.Bytes()
		}
	}
	return n
}

func (e *Evaluator) warn(ctx context.Context, st *detectorState, now time.Time, msg string, kv ...string) {
	e.o.Logger.Warn(msg, append([]any{"workspace", st.d.WorkspaceID, "detector", st.d.ID}, toAny(kv)...)...)
	if e.o.Logs == nil || now.Sub(st.warnedAt) < 10*time.Minute {
		return
	}
	st.warnedAt = now
	fields := map[string]string{"anomalyDetectorId": st.d.ID, "alias": st.d.Alias}
	for i := 0; i+1 < len(kv); i += 2 {
		fields[kv[i]] = kv[i+1]
	}
	e.o.Logs.Log(ctx, st.d.WorkspaceID, "anomalydetector", "WARN", msg, fields)
}

func toAny(kv []string) []any {
	out := make([]any, len(kv))
	for i, v := range kv {
		out[i] = v
	}
	return out
}

// seriesFor returns the model of a series, creating it within the
// detector's and the workspace's bounds (nil when out of them).
func (e *Evaluator) seriesFor(ctx context.Context, st *detectorState, lset labels.Labels, now time.Time) *seriesState {
	key := lset.String()
	if s, ok := st.series[key]; ok {
		return s
	}
	lim := e.o.Service.limits
	if len(st.series) >= lim.SeriesPerDetector {
		e.warn(ctx, st, now, "the detector's query returned more series than a detector models; the others are ignored",
			"limit", fmt.Sprint(lim.SeriesPerDetector))
		return nil
	}
	if e.workspaceBytes(st.d.WorkspaceID)+st.forest.Bytes() > lim.ForestBytesPerWorkspace {
		e.warn(ctx, st, now, "the workspace's anomaly detectors use all the model memory a workspace may; new series are ignored",
			"limitBytes", fmt.Sprint(lim.ForestBytesPerWorkspace))
		return nil
	}
	c := st.d.Config.RandomCutForest
	dc := rcf.DetectorConfig{Config: st.forest}
	dc.Seed = e.o.Seed ^ hash(st.d.ID+key)
	if ig := c.IgnoreNearExpectedFromAbove; ig != nil {
		dc.Above = rcf.Ignore{Amount: deref(ig.Amount), Ratio: deref(ig.Ratio)}
	}
	if ig := c.IgnoreNearExpectedFromBelow; ig != nil {
		dc.Below = rcf.Ignore{Amount: deref(ig.Amount), Ratio: deref(ig.Ratio)}
	}
	det, err := rcf.NewDetector(dc)
	if err != nil {
		return nil
	}
	s := &seriesState{lset: lset, det: det}
	e.mu.Lock()
	st.series[key] = s
	e.mu.Unlock()
	return s
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

func hash(s string) uint64 {
	h := uint64(1469598103934665603)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// train feeds the detector's recent history to new models (AMP's
// backfill: every Create and Put retrains from the workspace's data).
func (e *Evaluator) train(ctx context.Context, st *detectorState, now time.Time) error {
	step := e.interval(st)
	points := st.forest.SampleSize/4 + 32 + st.forest.ShingleSize + 100
	span := time.Duration(points) * step
	if max := 30 * 24 * time.Hour; span > max {
		span = max
	}
	if n := int(span / step); n > 10000 {
		span = 10000 * step
	}
	end := now.Add(-step)
	start := end.Add(-span)
	q, err := e.o.Engine.NewRangeQuery(ctx, e.o.Queryable, nil, st.d.Config.RandomCutForest.Query, start, end, step)
	if err != nil {
		return err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return res.Err
	}
	m, err := res.Matrix()
	if err != nil {
		if s, serr := res.Scalar(); serr == nil {
			_ = s // a scalar range query answers a matrix; nothing else to do
		}
		return nil
	}
	sort.Slice(m, func(i, j int) bool { return labels.Compare(m[i].Metric, m[j].Metric) < 0 })
	for _, ser := range m {
		s := e.seriesFor(ctx, st, ser.Metric, now)
		if s == nil {
			continue
		}
		i := 0
		for t := start; !t.After(end); t = t.Add(step) {
			ms := t.UnixMilli()
			for i < len(ser.Floats) && ser.Floats[i].T < ms {
				i++
			}
			if i < len(ser.Floats) && ser.Floats[i].T == ms {
				s.det.Update(ser.Floats[i].F)
			} else {
				s.det.Skip()
			}
		}
	}
	return nil
}

// evaluate runs one evaluation of a detector at now.
func (e *Evaluator) evaluate(ctx context.Context, st *detectorState, now time.Time) {
	ctx = tenant.WithWorkspace(ctx, st.d.WorkspaceID)
	if !st.trained {
		if err := e.train(ctx, st, now); err != nil {
			e.warn(ctx, st, now, "anomaly detector training query failed", "err", err.Error())
			return
		}
		st.trained = true
	}
	q, err := e.o.Engine.NewInstantQuery(ctx, e.o.Queryable, nil, st.d.Config.RandomCutForest.Query, now)
	if err != nil {
		e.warn(ctx, st, now, "anomaly detector query failed", "err", err.Error())
		return
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		e.warn(ctx, st, now, "anomaly detector query failed", "err", res.Err.Error())
		return
	}
	var vec promql.Vector
	switch v := res.Value.(type) {
	case promql.Vector:
		vec = v
	case promql.Scalar:
		vec = promql.Vector{{F: v.V, T: v.T}}
	default:
		e.warn(ctx, st, now, "anomaly detector query returned neither a vector nor a scalar")
		return
	}
	sort.Slice(vec, func(i, j int) bool { return labels.Compare(vec[i].Metric, vec[j].Metric) < 0 })
	for _, s := range st.series {
		s.seen = false
	}
	ts := now.UnixMilli()
	req := &prompb.WriteRequest{}
	for _, smp := range vec {
		if smp.H != nil {
			continue
		}
		s := e.seriesFor(ctx, st, smp.Metric, now)
		if s == nil {
			continue
		}
		s.seen = true
		r := s.det.Update(smp.F)
		if !r.Ready {
			continue
		}
		req.Timeseries = append(req.Timeseries,
			e.output(st, s.lset, MetricLowerBand, ts, r.Lower),
			e.output(st, s.lset, MetricUpperBand, ts, r.Upper),
			e.output(st, s.lset, MetricScore, ts, r.Grade))
	}
	mark := st.d.Missing.MarkAsAnomaly != nil && *st.d.Missing.MarkAsAnomaly
	for _, s := range st.series {
		if s.seen {
			continue
		}
		s.det.Skip()
		if mark {
			req.Timeseries = append(req.Timeseries, e.output(st, s.lset, MetricScore, ts, 1))
		}
	}
	if len(req.Timeseries) == 0 {
		return
	}
	if err := e.o.Push(ctx, st.d.WorkspaceID, req); err != nil {
		e.warn(ctx, st, now, "writing the anomaly detector's series failed", "err", err.Error())
	}
}

// output is one written series: the input's labels without its name,
// the detector's labels, and the detector's id.
func (e *Evaluator) output(st *detectorState, in labels.Labels, name string, ts int64, v float64) prompb.TimeSeries {
	b := labels.NewBuilder(in)
	b.Del(model.MetricNameLabel)
	for k, val := range st.d.Labels {
		b.Set(k, val)
	}
	b.Set(LabelDetectorID, st.d.ID)
	b.Set(model.MetricNameLabel, name)
	var ls []prompb.Label
	b.Labels().Range(func(l labels.Label) { ls = append(ls, prompb.Label{Name: l.Name, Value: l.Value}) })
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = math.NaN()
	}
	return prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Timestamp: ts, Value: v}}}
}

// Models reports how many series a workspace's detectors model on this
// node (usage).
func (e *Evaluator) Models(ws string) map[string]float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n, d float64
	for _, st := range e.states {
		if st.d.WorkspaceID == ws {
			d++
			n += float64(len(st.series))
		}
	}
	return map[string]float64{"anomalyDetectorsEvaluated": d, "anomalyDetectorSeries": n}
}
