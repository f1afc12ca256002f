package anomaly

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/teststorage"
)

type pushed struct {
	mu  sync.Mutex
	req []*prompb.WriteRequest
}

func (p *pushed) push(_ context.Context, _ string, r *prompb.WriteRequest) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.req = append(p.req, r)
	return nil
}

// TestSeriesAndMemoryBounds: a detector models at most SeriesPerDetector
// series, and a workspace's forests at most ForestBytesPerWorkspace; the
// rest of a query's series are ignored (attack: a query returning many
// series must not grow memory without bound).
func TestSeriesAndMemoryBounds(t *testing.T) {
	st := teststorage.New(t)
	now := time.Now()
	app := st.Appender(t.Context())
	for i := range 40 {
		for k := 0; k < 20; k++ {
			if _, err := app.Append(0, labels.FromStrings("__name__", "m", "i", fmt.Sprint(i)), now.Add(-time.Duration(k)*30*time.Second).UnixMilli(), float64(k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		lim  func(*Limits)
		want float64
	}{
		"series per detector": {func(l *Limits) { l.SeriesPerDetector = 7 }, 7},
		"workspace memory": {func(l *Limits) {
			per, _ := l.forestConfig(8, 256)
			l.ForestBytesPerWorkspace = per.Bytes() * 3
		}, 3},
	} {
		t.Run(name, func(t *testing.T) {
			lim := DefaultLimits()
			tc.lim(&lim)
			s := setup(t, lim)
			d, err := s.Create(t.Context(), "ws-a", "many", spec("sum by (i) (m)"), nil, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.reconcile(t.Context()); err != nil {
				t.Fatal(err)
			}
			p := &pushed{}
			e := NewEvaluator(EvaluatorOptions{Service: s, Engine: promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: time.Minute}),
				Queryable: st, Push: p.push, Now: func() time.Time { return now }})
			owned := func(context.Context) ([]string, error) { return []string{"ws-a"}, nil }
			if err := e.load(t.Context(), owned); err != nil {
				t.Fatal(err)
			}
			e.dispatch(t.Context(), now)
			e.wg.Wait()
			if got := e.Models("ws-a")["anomalyDetectorSeries"]; got != tc.want {
				t.Fatalf("modeled %v series of 40, want %v (detector %s)", got, tc.want, d.ID)
			}
		})
	}
}

type logged struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logged) Log(_ context.Context, ws, component, level, msg string, fields map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, component+" "+level+" "+msg+" "+fields["err"])
}

// TestQueryLimitsApply: a detector's query runs on the engine it is given
// (the server gives the query API's, with the workspace's limits): over
// the samples limit it fails, nothing is modeled or written, and the
// failure goes to the workspace log.
func TestQueryLimitsApply(t *testing.T) {
	st := teststorage.New(t)
	now := time.Now()
	app := st.Appender(t.Context())
	for i := range 50 {
		if _, err := app.Append(0, labels.FromStrings("__name__", "m", "i", fmt.Sprint(i)), now.UnixMilli(), 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	s := setup(t, DefaultLimits())
	if _, err := s.Create(t.Context(), "ws-a", "big", spec("sum(m)"), nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	p, l := &pushed{}, &logged{}
	e := NewEvaluator(EvaluatorOptions{Service: s, Engine: promql.NewEngine(promql.EngineOpts{MaxSamples: 10, Timeout: time.Minute}),
		Queryable: st, Push: p.push, Logs: l, Now: func() time.Time { return now }})
	if err := e.load(t.Context(), func(context.Context) ([]string, error) { return []string{"ws-a"}, nil }); err != nil {
		t.Fatal(err)
	}
	e.dispatch(t.Context(), now)
	e.wg.Wait()
	if len(p.req) != 0 || e.Models("ws-a")["anomalyDetectorSeries"] != 0 {
		t.Fatalf("a query over the limit wrote %d requests", len(p.req))
	}
	if len(l.msgs) != 1 || !strings.Contains(l.msgs[0], "anomalydetector WARN") || !strings.Contains(l.msgs[0], "too many samples") {
		t.Fatalf("workspace log: %q", l.msgs)
	}
}
