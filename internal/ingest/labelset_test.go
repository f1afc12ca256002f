package ingest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
)

// A label-set limit of N refuses the (N+1)th series of its set, counted
// under per_labelset_series_limit, and nothing else: series outside the
// set, and samples of the set's existing series, go on.
func TestLabelSetLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.series.SetAccount("123456789012")
	// Two series of the set exist before the limit is set: they count.
	if err := f.dist.Push(ctx, "ws-a", batch(2, f.now, "team", "a", "env", "prod")); err != nil {
		t.Fatal(err)
	}
	sets := []metastore.LabelSetLimit{
		{LabelSet: map[string]string{"team": "a", "env": "prod"}, MaxSeries: 3},
		{LabelSet: map[string]string{"team": "b"}}, // 0: counted, not limited
	}
	if err := f.series.SetLabelSetLimits("ws-a", sets); err != nil {
		t.Fatal(err)
	}
	if u := f.series.LabelSetUsage("ws-a"); len(u) != 2 || u[0].ActiveSeries != 2 || u[0].MaxSeries != 3 || u[1].ActiveSeries != 0 {
		t.Fatalf("counted from the head: %+v", u)
	}
	// Series i=0..3 of the set: i=2 is the third (accepted), i=3 the fourth.
	e := pushErr(t, f.dist.Push(ctx, "ws-a", batch(4, f.now.Add(time.Second), "team", "a", "env", "prod")))
	if e.Status != http.StatusBadRequest || e.Reason != ReasonPerLabelSetSeries ||
		!strings.HasPrefix(e.Msg, "user=123456789012_ws-a: per-labelset series limit of 3 exceeded, labelSet: {env=\"prod\", team=\"a\"}") {
		t.Fatalf("the 4th series of the set: %d %s %q", e.Status, e.Reason, e.Msg)
	}
	if got := testutil.ToFloat64(f.metrics.SamplesDiscarded.WithLabelValues("ws-a", ReasonPerLabelSetSeries)); got != 1 {
		t.Fatalf("per_labelset_series_limit discards: %v", got)
	}
	// A series with more labels is in the set too; one missing a label is not.
	e = pushErr(t, f.dist.Push(ctx, "ws-a", batch(1, f.now.Add(2*time.Second), "team", "a", "env", "prod", "extra", "x")))
	if e.Reason != ReasonPerLabelSetSeries {
		t.Fatalf("a superset of the labels: %+v", e)
	}
	for _, other := range [][]string{{"team", "a", "env", "dev"}, {"team", "a"}, {"team", "b", "env", "prod"}} {
		if err := f.dist.Push(ctx, "ws-a", batch(5, f.now.Add(2*time.Second), other...)); err != nil {
			t.Fatalf("series outside the set %v: %v", other, err)
		}
	}
	// The set's existing series keep ingesting, and another workspace has no sets.
	if err := f.dist.Push(ctx, "ws-a", batch(3, f.now.Add(3*time.Second), "team", "a", "env", "prod")); err != nil {
		t.Fatalf("existing series of the set: %v", err)
	}
	if err := f.dist.Push(ctx, "ws-b", batch(10, f.now, "team", "a", "env", "prod")); err != nil {
		t.Fatalf("another workspace: %v", err)
	}
	u := f.series.LabelSetUsage("ws-a")
	if u[0].ActiveSeries != 3 || u[0].RefusedSeries != 2 || u[1].ActiveSeries != 5 || u[1].RefusedSeries != 0 {
		t.Fatalf("usage: %+v", u)
	}
	// Raising the limit lets the next series in; removing the sets lifts it.
	sets[0].MaxSeries = 4
	if err := f.series.SetLabelSetLimits("ws-a", sets); err != nil {
		t.Fatal(err)
	}
	if u := f.series.LabelSetUsage("ws-a"); u[0].ActiveSeries != 3 || u[0].RefusedSeries != 2 {
		t.Fatalf("recounted, refusals kept: %+v", u)
	}
	if err := f.dist.Push(ctx, "ws-a", batch(4, f.now.Add(4*time.Second), "team", "a", "env", "prod")); err != nil {
		t.Fatalf("under the raised limit: %v", err)
	}
	if err := f.series.SetLabelSetLimits("ws-a", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.dist.Push(ctx, "ws-a", batch(20, f.now.Add(5*time.Second), "team", "a", "env", "prod")); err != nil {
		t.Fatalf("without sets: %v", err)
	}
}

// AMP's per-user message: the account and workspace before it, the
// capacity range with thousands separators.
func TestPerUserSeriesMessage(t *testing.T) {
	f := newFixture(t)
	f.series.SetAccount("123456789012")
	l := limits.Defaults()
	l.MaxActiveSeries, l.MinActiveSeriesCapacity = 10000000, 1
	f.limits.Set("ws-a", &l)
	f.series.Observe(f.now)
	e := pushErr(t, f.dist.Push(context.Background(), "ws-a", batch(2, f.now)))
	want := "user=123456789012_ws-a: per-user series limit of 10000000 exceeded, Capacity from 1 to 10,000,000 is automatically adjusted based on the last 30 min of usage. " +
		"If throttled above 10,000,000 or in case of incoming surges, please contact administrator to raise it. (local limit: 0 global limit: 10000000 actual local limit: 1)"
	if !strings.HasPrefix(e.Msg, want) {
		t.Fatalf("message:\n got %q\nwant %q", e.Msg, want)
	}
	if thousands(2000000) != "2,000,000" || thousands(999) != "999" || thousands(1000) != "1,000" {
		t.Fatal("thousands")
	}
}
