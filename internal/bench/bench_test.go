package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// A run whose data would span more than MaxSpan is refused: a Kansoku
// workspace would refuse its oldest samples and the peers would not.
func TestRoundsLimitedToMaxSpan(t *testing.T) {
	o := RemoteWriteOptions{URL: "http://127.0.0.1:1", Rounds: 241, Step: 15 * time.Second}
	o.defaults()
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--backdate") {
		t.Fatalf("241 rounds of 15 s: got %v, want a refusal", err)
	}
	o.Rounds = 240
	if err := o.Validate(); err != nil {
		t.Fatalf("240 rounds of 15 s (1 h): %v", err)
	}
}

// Every target gets the same Base, and the measured samples start there
// after the backdated history; the target's CPU time is read.
func TestBaseBackdateAndCPU(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	base := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	res, err := RunRemoteWrite(context.Background(), RemoteWriteOptions{
		URL: srv.URL, Series: 10, BatchSize: 10, Concurrency: 1, Rounds: 3, Step: 15 * time.Second,
		Base: base, Backdate: time.Hour, BackdateStep: 10 * time.Minute, TargetPID: os.Getpid(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Base != base.UnixMilli() {
		t.Errorf("base %d, want %d", res.Base, base.UnixMilli())
	}
	if res.Samples != 30 || res.Requests != 3 {
		t.Errorf("measured %d samples in %d requests, want 30 in 3 (history not counted)", res.Samples, res.Requests)
	}
	if requests != 3+6 {
		t.Errorf("server got %d requests, want 3 measured + 6 of history", requests)
	}
	// The target's RSS is sampled whole and its anonymous part apart.
	if res.RSSPeakBytes <= 0 || res.AnonPeakBytes <= 0 || res.AnonPeakBytes > res.RSSPeakBytes {
		t.Errorf("RSS peak %d, anonymous peak %d: want both > 0, anonymous ≤ whole", res.RSSPeakBytes, res.AnonPeakBytes)
	}
	// Per series at the peak is what the run added above the RSS before it.
	if want := float64(res.RSSPeakBytes-res.RSSBeforeBytes) / 10; res.RSSBeforeBytes <= 0 || res.PeakBytesPerSeries != want {
		t.Errorf("peak bytes per series %v, want (peak %d - before %d) / 10 series", res.PeakBytesPerSeries, res.RSSPeakBytes, res.RSSBeforeBytes)
	}
	// /proc counts CPU time in 10 ms ticks: a quick test process may not
	// have used one yet. Spend CPU until it has (or 5 s pass).
	deadline := time.Now().Add(5 * time.Second)
	for spin := 0; cpuSeconds(os.Getpid()) <= 0; spin++ {
		if time.Now().After(deadline) {
			t.Fatal("no CPU time read for this process")
		}
		for i := 0; i < 1_000_000; i++ {
			spin ^= i
		}
	}
}

// --compare queries the targets alternately: each run starts with another.
func TestRunQueriesCompareAlternates(t *testing.T) {
	var mu sync.Mutex
	var order []string
	handler := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
		})
	}
	a, b := httptest.NewServer(handler("a")), httptest.NewServer(handler("b"))
	defer a.Close()
	defer b.Close()
	q := []Query{{Name: "up", Expr: "up"}}
	res, err := RunQueriesCompare(context.Background(), []QueryOptions{
		{BaseURL: a.URL, Label: "a", Runs: 4, Queries: q}, {BaseURL: b.URL, Label: "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ""); got != "abbaabba" {
		t.Errorf("order %s, want abbaabba", got)
	}
	if len(res) != 2 || res[1].Label != "b" || res[1].Queries[0].P50 <= 0 {
		t.Errorf("results %+v", res)
	}
}

// With a PID, each query's CPU time in the target process is measured
// from the scheduler's counters, and the report shows it.
func TestQueryCPUTimeOfTheTarget(t *testing.T) {
	burn := func(d time.Duration) {
		for start := time.Now(); time.Since(start) < d; {
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("query") == "heavy" {
			burn(40 * time.Millisecond)
		}
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	}))
	defer srv.Close()
	q := []Query{{Name: "light", Expr: "light"}, {Name: "heavy", Expr: "heavy"}}
	res, err := RunQueriesCompare(context.Background(), []QueryOptions{{BaseURL: srv.URL, Label: "self", Runs: 3, Queries: q, PID: os.Getpid()}})
	if err != nil {
		t.Fatal(err)
	}
	light, heavy := res[0].Queries[0].CPUP50, res[0].Queries[1].CPUP50
	// The busy loop runs 40 ms of wall time; on a loaded machine the
	// thread may be on the CPU for less of it, never for more.
	if heavy < 5*time.Millisecond || heavy > 200*time.Millisecond || light >= heavy {
		t.Errorf("CPU per query: light %v, heavy %v; want heavy in [5ms, 200ms] and above light", light, heavy)
	}
	var out strings.Builder
	ReportQueries(&out, res)
	if !strings.Contains(out.String(), "server CPU time per query") || !strings.Contains(out.String(), "self cpu") {
		t.Errorf("report without the CPU table:\n%s", out.String())
	}
}
