// Package storetest is the contract every samplestore.Store passes: the
// embedded TSDB (internal/tenantdb) and Cortex (internal/cortex) run it
// alike, so the rest of Kansoku cannot tell which one it writes to.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/kansoku/kansoku/internal/samplestore"
)

// Run runs the contract against the store newStore returns. Workspaces get
// fresh ids in every test, so one store (or cluster) may serve all tests.
func Run(t *testing.T, newStore func(t *testing.T) samplestore.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s samplestore.Store)
	}{
		{"appended samples are read back after commit", testRoundTrip},
		{"workspaces are isolated", testIsolation},
		{"rollback stores nothing", testRollback},
		{"out-of-order and duplicate samples are refused", testOrdering},
		{"native histograms round-trip", testHistograms},
		{"retention can be changed", testRetention},
		{"dropping a workspace leaves the others", testDrop},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func newWorkspace(t *testing.T, s samplestore.Store) string {
	t.Helper()
	ws := fmt.Sprintf("ws-%08x-0000-4000-8000-%012x", rand.Uint32(), rand.Uint64()&0xffffffffffff)
	if err := s.Open(ws, 150*24*time.Hour); err != nil {
		t.Fatalf("open %s: %v", ws, err)
	}
	return ws
}

type point struct {
	t int64
	v float64
}

func write(t *testing.T, s samplestore.Store, ws string, lset labels.Labels, pts ...point) error {
	t.Helper()
	app, err := s.Appender(context.Background(), ws)
	if err != nil {
		t.Fatalf("appender: %v", err)
	}
	var ref storage.SeriesRef
	for _, p := range pts {
		if ref, err = app.Append(ref, lset, p.t, p.v); err != nil {
			_ = app.Rollback()
			return err
		}
	}
	return app.Commit()
}

// read returns every float sample of the series matching name.
func read(t *testing.T, s samplestore.Store, ws, name string, mint, maxt int64) map[string][]point {
	t.Helper()
	q, err := s.Querier(ws, mint, maxt)
	if err != nil {
		t.Fatalf("querier: %v", err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name))
	out := map[string][]point{}
	var it chunkenc.Iterator
	for ss.Next() {
		it = ss.At().Iterator(it)
		key := ss.At().Labels().String()
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			out[key] = append(out[key], point{ts, v})
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatalf("select: %v", err)
	}
	return out
}

func now() int64 { return time.Now().Add(-time.Minute).UnixMilli() }

func testRoundTrip(t *testing.T, s samplestore.Store) {
	ws := newWorkspace(t, s)
	t0 := now()
	a := labels.FromStrings(model.MetricNameLabel, "rt_metric", "job", "a")
	b := labels.FromStrings(model.MetricNameLabel, "rt_metric", "job", "b")
	app, err := s.Appender(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	var ra, rb storage.SeriesRef
	for i := range 3 {
		ts := t0 + int64(i)*15000
		if ra, err = app.Append(ra, a, ts, float64(i)); err != nil {
			t.Fatal(err)
		}
		if rb, err = app.Append(rb, b, ts, float64(10+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	got := read(t, s, ws, "rt_metric", t0-1000, t0+60000)
	want := map[string][]point{
		a.String(): {{t0, 0}, {t0 + 15000, 1}, {t0 + 30000, 2}},
		b.String(): {{t0, 10}, {t0 + 15000, 11}, {t0 + 30000, 12}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("read back %v, want %v", got, want)
	}
	// A window that excludes samples does not return them.
	if got := read(t, s, ws, "rt_metric", t0+20000, t0+60000); len(got[a.String()]) != 1 {
		t.Fatalf("window [t0+20s, t0+60s] read %v", got)
	}
	// Chunks carry the same samples.
	cq, err := s.ChunkQuerier(ws, t0-1000, t0+60000)
	if err != nil {
		t.Fatal(err)
	}
	defer cq.Close()
	css := cq.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, "rt_metric"))
	n := 0
	for css.Next() {
		it := css.At().Iterator(nil)
		for it.Next() {
			c := it.At().Chunk
			n += c.NumSamples()
		}
	}
	if err := css.Err(); err != nil || n != 6 {
		t.Fatalf("chunks hold %d samples (err %v), want 6", n, err)
	}
	hs, err := s.HeadSeries(ws)
	if err != nil || hs != 2 {
		t.Fatalf("HeadSeries = %d, %v; want 2", hs, err)
	}
}

func testIsolation(t *testing.T, s samplestore.Store) {
	ws1, ws2 := newWorkspace(t, s), newWorkspace(t, s)
	t0 := now()
	l := labels.FromStrings(model.MetricNameLabel, "iso_metric")
	if err := write(t, s, ws1, l, point{t0, 1}); err != nil {
		t.Fatal(err)
	}
	if err := write(t, s, ws2, l, point{t0, 2}); err != nil {
		t.Fatal(err)
	}
	for ws, want := range map[string]float64{ws1: 1, ws2: 2} {
		got := read(t, s, ws, "iso_metric", t0-1000, t0+1000)
		if len(got) != 1 || len(got[l.String()]) != 1 || got[l.String()][0].v != want {
			t.Fatalf("%s reads %v, want only its own value %v", ws, got, want)
		}
	}
	ws3 := newWorkspace(t, s)
	if got := read(t, s, ws3, "iso_metric", t0-1000, t0+1000); len(got) != 0 {
		t.Fatalf("a new workspace reads %v", got)
	}
}

func testRollback(t *testing.T, s samplestore.Store) {
	ws := newWorkspace(t, s)
	t0 := now()
	app, err := s.Appender(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Append(0, labels.FromStrings(model.MetricNameLabel, "rb_metric"), t0, 1); err != nil {
		t.Fatal(err)
	}
	if err := app.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, ws, "rb_metric", t0-1000, t0+1000); len(got) != 0 {
		t.Fatalf("rolled back samples were stored: %v", got)
	}
}

func testOrdering(t *testing.T, s samplestore.Store) {
	ws := newWorkspace(t, s)
	t0 := now()
	l := labels.FromStrings(model.MetricNameLabel, "order_metric")
	if err := write(t, s, ws, l, point{t0, 1}, point{t0 + 1000, 2}); err != nil {
		t.Fatal(err)
	}
	err := write(t, s, ws, l, point{t0 - 5000, 9})
	if !errors.Is(err, storage.ErrOutOfOrderSample) {
		t.Fatalf("an older sample: %v, want out of order", err)
	}
	err = write(t, s, ws, l, point{t0 + 1000, 7})
	if !errors.Is(err, storage.ErrDuplicateSampleForTimestamp) && !errors.Is(err, storage.ErrOutOfOrderSample) {
		t.Fatalf("a new value at a stored timestamp: %v, want refused", err)
	}
	got := read(t, s, ws, "order_metric", t0-10000, t0+10000)[l.String()]
	if !slices.Equal(got, []point{{t0, 1}, {t0 + 1000, 2}}) {
		t.Fatalf("stored samples changed: %v", got)
	}
	// The same sample again is accepted (a retried push).
	if err := write(t, s, ws, l, point{t0 + 1000, 2}); err != nil {
		t.Fatalf("resending a stored sample: %v", err)
	}
}

func testHistograms(t *testing.T, s samplestore.Store) {
	ws := newWorkspace(t, s)
	t0 := now()
	l := labels.FromStrings(model.MetricNameLabel, "hist_metric")
	h := &histogram.Histogram{
		Count: 5, Sum: 12.5, Schema: 0, ZeroThreshold: 0.001, ZeroCount: 1,
		PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}}, PositiveBuckets: []int64{2, 0},
	}
	app, err := s.Appender(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.AppendHistogram(0, l, t0, h, nil); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatalf("commit histogram: %v", err)
	}
	q, err := s.Querier(ws, t0-1000, t0+1000)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, "hist_metric"))
	if !ss.Next() {
		t.Fatalf("histogram not read back (err %v)", ss.Err())
	}
	it := ss.At().Iterator(nil)
	var got *histogram.FloatHistogram
	switch it.Next() {
	case chunkenc.ValHistogram:
		_, hh := it.AtHistogram(nil)
		got = hh.ToFloat(nil)
	case chunkenc.ValFloatHistogram:
		_, got = it.AtFloatHistogram(nil)
	default:
		t.Fatal("the series holds no histogram")
	}
	if got.Count != 5 || got.Sum != 12.5 || got.ZeroCount != 1 {
		t.Fatalf("histogram read back as %v", got)
	}
}

func testRetention(t *testing.T, s samplestore.Store) {
	ws := newWorkspace(t, s)
	if err := s.SetRetention(ws, 30*24*time.Hour); err != nil {
		t.Fatalf("set retention: %v", err)
	}
	t0 := now()
	l := labels.FromStrings(model.MetricNameLabel, "ret_metric")
	if err := write(t, s, ws, l, point{t0, 1}); err != nil {
		t.Fatalf("write after a retention change: %v", err)
	}
}

func testDrop(t *testing.T, s samplestore.Store) {
	gone, kept := newWorkspace(t, s), newWorkspace(t, s)
	t0 := now()
	l := labels.FromStrings(model.MetricNameLabel, "drop_metric")
	for _, ws := range []string{gone, kept} {
		if err := write(t, s, ws, l, point{t0, 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Drop(gone); err != nil {
		t.Fatalf("drop: %v", err)
	}
	if got := read(t, s, kept, "drop_metric", t0-1000, t0+1000); len(got[l.String()]) != 1 {
		t.Fatalf("the other workspace lost its data: %v", got)
	}
}
