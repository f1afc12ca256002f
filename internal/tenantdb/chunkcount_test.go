package tenantdb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

// CountChunks counts from the index exactly the chunks a chunk querier
// reads, in the head and in blocks, for any range and selector.
func TestCountChunksMatchesTheChunksRead(t *testing.T) {
	m := New(Options{Dir: t.TempDir()})
	t.Cleanup(func() { _ = m.CloseAll() })
	const ws = "ws-11111111-2222-4333-8444-555555555555"
	if err := m.Open(ws, 365*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Hour).UnixMilli()
	app, _ := m.Appender(context.Background(), ws)
	for s := 0; s < 20; s++ {
		l := labels.FromStrings("__name__", fmt.Sprintf("m%d", s%4), "s", fmt.Sprint(s))
		var ref storage.SeriesRef
		for i := 0; i < 900; i++ { // 900 samples, 10 s apart: several chunks per series
			var err error
			if ref, err = app.Append(ref, l, base+int64(i)*10000, float64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		for _, tc := range []struct {
			mint, maxt int64
			ms         []*labels.Matcher
		}{
			{base, base + 9000*1000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "m1")}},
			{base + 3600*1000, base + 5400*1000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", "m.*")}},
			{base - 1000, base + 10, []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "s", "1.*")}},
		} {
			n, bytes, err := m.CountChunks(context.Background(), ws, tc.mint, tc.maxt, tc.ms...)
			if err != nil {
				t.Fatal(err)
			}
			cq, err := m.ChunkQuerier(ws, tc.mint, tc.maxt)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			css := cq.Select(context.Background(), false, nil, tc.ms...)
			var it chunks.Iterator
			for css.Next() {
				it = css.At().Iterator(it)
				for it.Next() {
					want++
				}
			}
			cq.Close()
			if int(n) != want || (n > 0 && bytes <= 0) {
				t.Errorf("%s [%d, %d] %v: counted %d chunks (%d bytes), the querier reads %d", stage, tc.mint, tc.maxt, tc.ms, n, bytes, want)
			}
		}
	}
	check("head")
	db, _ := m.DB(ws)
	if err := db.CompactHead(tsdb.NewRangeHead(db.Head(), base, base+2*3600*1000-1)); err != nil {
		t.Fatal(err)
	}
	if len(db.Blocks()) == 0 {
		t.Fatal("no block after compacting the head")
	}
	check("head and block")
}

// TestCountSeriesStopsAtItsBound: series are counted from the postings,
// up to the bound asked.
func TestCountSeriesStopsAtItsBound(t *testing.T) {
	m := New(Options{Dir: t.TempDir()})
	t.Cleanup(func() { _ = m.CloseAll() })
	if err := m.Open("ws", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	app, _ := m.Appender(context.Background(), "ws")
	for i := range 50 {
		if _, err := app.Append(0, labels.FromStrings("__name__", "x", "i", fmt.Sprint(i)), 1000, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	x := labels.MustNewMatcher(labels.MatchEqual, "__name__", "x")
	for _, tc := range []struct {
		upTo, want int
		ms         []*labels.Matcher
	}{
		{100, 50, []*labels.Matcher{x}},
		{10, 10, []*labels.Matcher{x}},
		{100, 1, []*labels.Matcher{x, labels.MustNewMatcher(labels.MatchEqual, "i", "7")}},
		{100, 0, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "y")}},
	} {
		n, err := m.CountSeries(context.Background(), "ws", 0, 2000, tc.upTo, tc.ms...)
		if err != nil || n != tc.want {
			t.Errorf("%v up to %d: %d %v, want %d", tc.ms, tc.upTo, n, err, tc.want)
		}
	}
}

// TestCountLabelValuesStopsAtItsBound: a label's values, up to a bound.
func TestCountLabelValuesStopsAtItsBound(t *testing.T) {
	m := New(Options{Dir: t.TempDir()})
	t.Cleanup(func() { _ = m.CloseAll() })
	if err := m.Open("ws", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	app, _ := m.Appender(context.Background(), "ws")
	for i := range 30 {
		if _, err := app.Append(0, labels.FromStrings("__name__", "x", "i", fmt.Sprint(i), "j", fmt.Sprint(i%3)), 1000, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		upTo, want int
	}{{"i", 100, 30}, {"i", 10, 10}, {"j", 100, 3}, {"k", 100, 0}} {
		n, err := m.CountLabelValues(context.Background(), "ws", 0, 2000, tc.name, tc.upTo)
		if err != nil || n != tc.want {
			t.Errorf("%s up to %d: %d %v, want %d", tc.name, tc.upTo, n, err, tc.want)
		}
	}
}

// TestCountLabelValuesOverBlocks: a label's values in a block and in the
// head are estimated by the most either holds, within the range asked.
func TestCountLabelValuesOverBlocks(t *testing.T) {
	m := New(Options{Dir: t.TempDir()})
	t.Cleanup(func() { _ = m.CloseAll() })
	if err := m.Open("ws", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	write := func(from, to int, ts int64) {
		app, _ := m.Appender(context.Background(), "ws")
		for i := from; i < to; i++ {
			if _, err := app.Append(0, labels.FromStrings("__name__", "x", "i", fmt.Sprint(i)), ts, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	write(0, 30, 1000)
	db, err := m.DB("ws")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CompactHead(tsdb.NewRangeHead(db.Head(), 0, 1999)); err != nil {
		t.Fatal(err)
	}
	if len(db.Blocks()) != 1 {
		t.Fatalf("%d blocks, want 1", len(db.Blocks()))
	}
	write(100, 110, 3000)
	for _, tc := range []struct {
		mint, maxt int64
		upTo, want int
	}{{0, 4000, 100, 30}, {0, 4000, 20, 20}, {2500, 4000, 100, 10}, {0, 1500, 100, 30}} {
		n, err := m.CountLabelValues(context.Background(), "ws", tc.mint, tc.maxt, "i", tc.upTo)
		if err != nil || n != tc.want {
			t.Errorf("[%d, %d] up to %d: %d %v, want %d", tc.mint, tc.maxt, tc.upTo, n, err, tc.want)
		}
	}
}
