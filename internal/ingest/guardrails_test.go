package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/limits"
)

func batch(n int, at time.Time, extra ...string) *prompb.WriteRequest {
	req := &prompb.WriteRequest{}
	for i := 0; i < n; i++ {
		kv := append([]string{"__name__", "m", "i", fmt.Sprint(i)}, extra...)
		req.Timeseries = append(req.Timeseries, ts(series(kv...), at, float64(i)))
	}
	return req
}

func pushErr(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %v", err)
	}
	return e
}

func TestTokenBucket(t *testing.T) {
	f := newFixture(t)
	l := limits.Defaults()
	l.IngestionRate, l.IngestionBurstSize = 100, 1000
	f.limits.Set("ws-a", &l)
	ctx := context.Background()

	if err := f.dist.Push(ctx, "ws-a", batch(900, f.now)); err != nil {
		t.Fatalf("900 of a 1000 burst: %v", err)
	}
	// 100 tokens left: a request of 200 is refused whole, with AMP's message.
	e := pushErr(t, f.dist.Push(ctx, "ws-a", batch(200, f.now.Add(time.Millisecond), "b", "1")))
	if e.Status != http.StatusTooManyRequests || e.Reason != ReasonRateLimited ||
		e.Msg != "ingestion rate limit (100) exceeded while adding 200 samples and 0 metadata" {
		t.Fatalf("over the bucket: %d %s %q", e.Status, e.Reason, e.Msg)
	}
	if got := len(f.read(t, "ws-a")); got != 900 {
		t.Fatalf("a refused request must store nothing: %d samples", got)
	}
	if got := testutil.ToFloat64(f.metrics.SamplesDiscarded.WithLabelValues("ws-a", ReasonRateLimited)); got != 200 {
		t.Fatalf("rate_limited discards: %v", got)
	}
	// Another workspace has its own bucket.
	if err := f.dist.Push(ctx, "ws-b", batch(900, f.now)); err != nil {
		t.Fatalf("ws-b: %v", err)
	}
	// Two seconds refill 200 tokens (100/s): now it fits.
	f.now = f.now.Add(2 * time.Second)
	if err := f.dist.Push(ctx, "ws-a", batch(200, f.now, "b", "1")); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	// A request larger than the burst can never fit.
	f.now = f.now.Add(time.Hour)
	e = pushErr(t, f.dist.Push(ctx, "ws-a", batch(1001, f.now, "c", "1")))
	if e.Status != http.StatusTooManyRequests || !strings.Contains(e.Msg, "ingestion burst size limit (1000) exceeded while adding 1001 samples") {
		t.Fatalf("over the burst: %d %q", e.Status, e.Msg)
	}
	// Raising the limits at runtime: the bucket grows and refills at the new rate.
	l.IngestionRate, l.IngestionBurstSize = 1000, 5000
	f.limits.Set("ws-a", &l)
	_ = f.dist.Push(ctx, "ws-a", batch(1, f.now, "c", "2")) // applies the new limits
	f.now = f.now.Add(2 * time.Second)
	if err := f.dist.Push(ctx, "ws-a", batch(1001, f.now, "c", "1")); err != nil {
		t.Fatalf("after raising the burst: %v", err)
	}
}

func TestHADeduplication(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r1 := batch(3, f.now, "cluster", "prod", "__replica__", "r1")
	r2 := batch(3, f.now.Add(time.Millisecond), "cluster", "prod", "__replica__", "r2")
	if err := f.dist.Push(ctx, "ws-a", r1); err != nil {
		t.Fatal(err)
	}
	e := pushErr(t, f.dist.Push(ctx, "ws-a", r2))
	if e.Status != http.StatusAccepted || e.Msg != "replicas did not match, rejecting sample: replica=r2, elected=r1" {
		t.Fatalf("non-elected replica: %d %q", e.Status, e.Msg)
	}
	if got := testutil.ToFloat64(f.ha.deduped.WithLabelValues("ws-a", "prod")); got != 3 {
		t.Fatalf("deduped samples: %v", got)
	}
	stored := f.read(t, "ws-a")
	if len(stored) != 3 {
		t.Fatalf("stored %v", stored)
	}
	for _, s := range stored {
		if strings.Contains(s, "__replica__") || !strings.Contains(s, `cluster="prod"`) {
			t.Fatalf("the replica label must go, cluster stay: %s", s)
		}
	}
	// The leader goes quiet for more than the failover timeout: r2 takes over.
	f.now = f.now.Add(31 * time.Second)
	if err := f.dist.Push(ctx, "ws-a", batch(3, f.now, "cluster", "prod", "__replica__", "r2")); err != nil {
		t.Fatalf("failover: %v", err)
	}
	if e := pushErr(t, f.dist.Push(ctx, "ws-a", batch(3, f.now.Add(time.Second), "cluster", "prod", "__replica__", "r1"))); e.Status != http.StatusAccepted {
		t.Fatalf("old leader after failover: %v", e)
	}
	// The election survives a restart.
	restarted := NewHATracker(f.meta, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err := restarted.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := restarted.Elected("ws-a")["prod"]; got != "r2" {
		t.Fatalf("elected after restart: %q", got)
	}
	// Only the cluster label: not an HA request, stored as is.
	if err := f.dist.Push(ctx, "ws-a", batch(1, f.now, "cluster", "solo")); err != nil {
		t.Fatal(err)
	}
	// Too many clusters.
	l := limits.Defaults()
	l.HAMaxClusters = 2
	f.limits.Set("ws-a", &l)
	if err := f.dist.Push(ctx, "ws-a", batch(1, f.now, "cluster", "second", "__replica__", "a")); err != nil {
		t.Fatal(err)
	}
	e = pushErr(t, f.dist.Push(ctx, "ws-a", batch(1, f.now, "cluster", "third", "__replica__", "a")))
	if e.Status != http.StatusBadRequest || e.Reason != ReasonTooManyHAClusters || !strings.Contains(e.Msg, "too many HA clusters (limit: 2)") {
		t.Fatalf("third cluster: %d %q", e.Status, e.Msg)
	}
}

func TestActiveSeriesLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	l := limits.Defaults()
	l.MaxActiveSeries, l.MinActiveSeriesCapacity = 10, 5
	f.limits.Set("ws-a", &l)
	f.series.Observe(f.now) // no history: the minimum capacity, 5
	if got := mustLimiter(t, f, "ws-a").Limit(); got != 5 {
		t.Fatalf("initial adaptive limit %d", got)
	}
	e := pushErr(t, f.dist.Push(ctx, "ws-a", batch(8, f.now)))
	if e.Status != http.StatusBadRequest || e.Reason != ReasonPerUserSeries || !strings.Contains(e.Msg, "per-user series limit of 10 exceeded") ||
		!strings.Contains(e.Msg, "actual local limit: 5") {
		t.Fatalf("over the series limit: %d %s %q", e.Status, e.Reason, e.Msg)
	}
	if got := len(f.read(t, "ws-a")); got != 5 {
		t.Fatalf("the series under the limit are stored: %d", got)
	}
	if got := testutil.ToFloat64(f.metrics.SamplesDiscarded.WithLabelValues("ws-a", ReasonPerUserSeries)); got != 3 {
		t.Fatalf("per_user_series_limit discards: %v", got)
	}
	// Existing series keep ingesting at the limit.
	if err := f.dist.Push(ctx, "ws-a", batch(5, f.now.Add(time.Second))); err != nil {
		t.Fatalf("existing series: %v", err)
	}
	// Twice the 30-minute average, within the minimum capacity and the quota.
	lim := mustLimiter(t, f, "ws-a")
	lim.Observe(f.now.Add(time.Minute)) // average of 0 and 5: 2.5
	if got := lim.Limit(); got != 5 {
		t.Fatalf("adaptive limit, average 2.5: %d (want max(2*2.5, 5))", got)
	}
	for m := 2; m <= 32; m++ { // the empty start leaves the 30-minute window
		lim.Observe(f.now.Add(time.Duration(m) * time.Minute))
	}
	if got := lim.Limit(); got != 10 {
		t.Fatalf("adaptive limit, average 5: %d (want min(2*5, 10))", got)
	}
	// The per-metric limit.
	l.MaxActiveSeries, l.MaxSeriesPerMetric = 1000, 2
	f.limits.Set("ws-b", &l)
	req := &prompb.WriteRequest{}
	for i := 0; i < 3; i++ {
		req.Timeseries = append(req.Timeseries, ts(series("__name__", "per_metric", "i", fmt.Sprint(i)), f.now, 1))
	}
	req.Timeseries = append(req.Timeseries, ts(series("__name__", "other"), f.now, 1))
	e = pushErr(t, f.dist.Push(ctx, "ws-b", req))
	if e.Reason != ReasonPerMetricSeries || !strings.Contains(e.Msg, "per-metric series limit of 2 exceeded") {
		t.Fatalf("per-metric: %s %q", e.Reason, e.Msg)
	}
	if got := len(f.read(t, "ws-b")); got != 3 {
		t.Fatalf("2 per_metric + 1 other stored, got %d", got)
	}
}

// TestSeriesLimitDoesNotBlockReplay: a workspace over a lowered limit
// reopens with all its series.
func TestSeriesLimitDoesNotBlockReplay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.dist.Push(ctx, "ws-a", batch(20, f.now)); err != nil {
		t.Fatal(err)
	}
	l := limits.Defaults()
	l.MaxActiveSeries, l.MinActiveSeriesCapacity = 5, 5
	f.limits.Set("ws-a", &l)
	if err := f.db.Close("ws-a"); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Open("ws-a", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := len(f.read(t, "ws-a")); got != 20 {
		t.Fatalf("replay lost series: %d", got)
	}
	if e := pushErr(t, f.dist.Push(ctx, "ws-a", batch(1, f.now.Add(time.Second), "new", "1"))); e.Reason != ReasonPerUserSeries {
		t.Fatalf("new series over the limit after replay: %v", e)
	}
}

func mustLimiter(t *testing.T, f *fixture, ws string) *SeriesLimiter {
	t.Helper()
	l, ok := f.series.Get(ws)
	if !ok {
		t.Fatal("no limiter")
	}
	return l
}
