package query

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenant"
)

func TestSlots(t *testing.T) {
	s := &slots{}
	ctx := context.Background()
	if err := s.acquire(ctx, 1, 1); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- s.acquire(ctx, 1, 1) }()
	waitUntil(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.waiters) == 1 })
	var full *ErrTooManyQueries
	if err := s.acquire(ctx, 1, 1); !errors.As(err, &full) {
		t.Fatalf("third acquire: %v; want the queue-full error", err)
	}
	s.release() // hands the slot to the waiter
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// A waiter whose context ends leaves the line.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.acquire(cctx, 1, 5); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire under a deadline: %v", err)
	}
	s.release()
	if s.used != 0 || len(s.waiters) != 0 {
		t.Fatalf("slots leaked: used %d, waiting %d", s.used, len(s.waiters))
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAdmitPerWorkspaceAndQueueTimeout(t *testing.T) {
	lim := limits.Defaults()
	lim.MaxConcurrentQueries, lim.MaxQueuedQueries = 1, 1
	lim.QueryTimeout = model.Duration(200 * time.Millisecond)
	g := NewGate(GateOptions{MaxConcurrent: 10}, limits.NewOverrides(lim), prometheus.NewRegistry())
	_, releaseA, err := g.Admit(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another workspace is not held up by a's full queue.
	_, releaseB, err := g.Admit(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	releaseB()
	done := make(chan error, 1)
	go func() { _, r, err := g.Admit(context.Background(), "a"); r(); done <- err }()
	waitUntil(t, func() bool { return g.wsSlots("a").waiting() == 1 })
	var full *ErrTooManyQueries
	if _, _, err := g.Admit(context.Background(), "a"); !errors.As(err, &full) {
		t.Fatalf("a third query of a: %v; want 429's error", err)
	}
	// The waiter gives up after the query timeout, as Prometheus' own
	// queue does ("query timed out in query queue").
	err = <-done
	if !errors.As(err, new(promql.ErrQueryTimeout)) {
		t.Fatalf("waiting past the query timeout: %v", err)
	}
	releaseA()
}

func (s *slots) waiting() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.waiters) }

// The samples budget: two queries that may each hold 60 of a 100-sample
// budget run one after the other.
func TestSamplesBudget(t *testing.T) {
	g := NewGate(GateOptions{MaxConcurrent: 10, MaxInflightSamples: 100}, limits.NewOverrides(limits.Defaults()), prometheus.NewRegistry())
	ctx := context.Background()
	r1, err := g.reserve(ctx, "a", 60)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	done := make(chan struct{})
	go func() {
		r2, err := g.reserve(ctx, "b", 60)
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		order = append(order, "second")
		mu.Unlock()
		r2()
		close(done)
	}()
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	order = append(order, "first done")
	mu.Unlock()
	r1()
	<-done
	if strings.Join(order, ",") != "first done,second" {
		t.Fatalf("order %v: the second query ran while the first held the budget", order)
	}
	// A query larger than the budget still runs, alone.
	r, err := g.reserve(ctx, "a", 1000)
	if err != nil {
		t.Fatal(err)
	}
	r()
}

// Over HTTP, a workspace over its queue gets 429 and its next request,
// once a slot is free, runs.
func TestQueryAPIAnswers429WhenTheQueueIsFull(t *testing.T) {
	lim := limits.Defaults()
	lim.MaxConcurrentQueries, lim.MaxQueuedQueries = 1, 0
	eng, _ := newTestAPIEngines(t, lim)
	api := &API{gate: eng.gate}
	_, release, err := api.gate.Admit(context.Background(), "ws")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/query?query=up", nil).WithContext(tenant.WithWorkspace(context.Background(), "ws"))
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "max_concurrent_queries") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	release()
}
