package query

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/prometheus/promql"
	"golang.org/x/sync/semaphore"

	"github.com/kansoku/kansoku/internal/limits"
)

// The gate bounds how many queries run at once and how much memory they
// may hold between them:
//
//   - per workspace, max_concurrent_queries run and max_queued_queries
//     wait (HTTP requests of the query API; more are refused with 429);
//   - across workspaces, query.max_concurrent run (rule evaluations too);
//   - a query reserves its workspace's max_samples_per_query from the
//     global budget query.max_inflight_samples before it runs, so the
//     samples all running queries may hold never exceed the budget.
//
// A query waits in line under its own deadline (the workspace's query
// timeout) and stops waiting when its client goes away.

// Gate is the query admission control.
type Gate struct {
	limits  *limits.Overrides
	global  *slots
	globalN int
	budget  *semaphore.Weighted
	total   int64

	mu sync.Mutex
	ws map[string]*slots

	waiting  *prometheus.GaugeVec
	running  *prometheus.GaugeVec
	refused  *prometheus.CounterVec
	waitTime prometheus.Histogram
}

// GateOptions configure the gate.
type GateOptions struct {
	// MaxConcurrent bounds queries running at once across workspaces.
	MaxConcurrent int
	// MaxInflightSamples is the global budget of samples running queries
	// may hold (each reserves its max_samples_per_query).
	MaxInflightSamples int64
}

// NewGate returns a gate.
func NewGate(o GateOptions, lim *limits.Overrides, reg prometheus.Registerer) *Gate {
	f := promauto.With(reg)
	g := &Gate{limits: lim, global: &slots{}, globalN: o.MaxConcurrent, total: o.MaxInflightSamples, ws: map[string]*slots{},
		waiting: f.NewGaugeVec(prometheus.GaugeOpts{Name: "kansoku_query_queued", Help: "Queries waiting for admission, by workspace."}, []string{"workspace"}),
		running: f.NewGaugeVec(prometheus.GaugeOpts{Name: "kansoku_query_running", Help: "Queries admitted and running, by workspace."}, []string{"workspace"}),
		refused: f.NewCounterVec(prometheus.CounterOpts{Name: "kansoku_query_refused_total",
			Help: "Queries refused before running, by workspace and reason (queue_full, queue_timeout, expression)."}, []string{"workspace", "reason"}),
		waitTime: f.NewHistogram(prometheus.HistogramOpts{Name: "kansoku_query_queue_wait_seconds", Help: "Time queries waited for admission.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}),
	}
	if g.total > 0 {
		g.budget = semaphore.NewWeighted(g.total)
	}
	return g
}

// ErrTooManyQueries is a query refused because its workspace's queue is
// full; the API answers 429.
type ErrTooManyQueries struct{ running, queued int }

func (e *ErrTooManyQueries) Error() string {
	return fmt.Sprintf("too many queries for this workspace: %d running and %d waiting (limits max_concurrent_queries and max_queued_queries); retry later", e.running, e.queued)
}

type gateCtxKey struct{}

// admitted marks a context whose query already holds its workspace's and
// the global slot (the HTTP API admits requests before they reach the
// engine); the engine then only reserves memory.
func admitted(ctx context.Context) bool { return ctx.Value(gateCtxKey{}) != nil }

func (g *Gate) wsSlots(ws string) *slots {
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.ws[ws]
	if !ok {
		s = &slots{}
		g.ws[ws] = s
	}
	return s
}

// Forget drops a deleted workspace's state.
func (g *Gate) Forget(ws string) {
	g.mu.Lock()
	delete(g.ws, ws)
	g.mu.Unlock()
	g.waiting.DeleteLabelValues(ws)
	g.running.DeleteLabelValues(ws)
	g.refused.DeletePartialMatch(prometheus.Labels{"workspace": ws})
}

// Admit waits for a slot of ws and a global slot; the returned context
// carries the admission for the engine. release must be called.
func (g *Gate) Admit(ctx context.Context, ws string) (context.Context, func(), error) {
	lim := g.limits.For(ws)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(lim.QueryTimeout))
	start := time.Now()
	g.waiting.WithLabelValues(ws).Inc()
	s := g.wsSlots(ws)
	err := s.acquire(ctx, lim.MaxConcurrentQueries, lim.MaxQueuedQueries)
	if err == nil {
		if err = g.global.acquire(ctx, g.globalN, -1); err != nil {
			s.release()
		}
	}
	g.waiting.WithLabelValues(ws).Dec()
	g.waitTime.Observe(time.Since(start).Seconds())
	if err != nil {
		cancel()
		return ctx, func() {}, g.refusal(ws, err)
	}
	g.running.WithLabelValues(ws).Inc()
	var once sync.Once
	return context.WithValue(ctx, gateCtxKey{}, true), func() {
		once.Do(func() {
			g.global.release()
			s.release()
			g.running.WithLabelValues(ws).Dec()
			cancel()
		})
	}, nil
}

func (g *Gate) refusal(ws string, err error) error {
	var full *ErrTooManyQueries
	switch {
	case errors.As(err, &full):
		g.refused.WithLabelValues(ws, "queue_full").Inc()
		return err
	case errors.Is(err, context.DeadlineExceeded):
		g.refused.WithLabelValues(ws, "queue_timeout").Inc()
		return promql.ErrQueryTimeout("query queue")
	}
	return promql.ErrQueryCanceled("query queue")
}

// reserve takes samples from the global memory budget for one query (and,
// for queries the HTTP API did not admit, such as rule evaluations, a
// global slot); release returns them.
func (g *Gate) reserve(ctx context.Context, ws string, samples int64) (func(), error) {
	var releaseSlot func()
	if !admitted(ctx) {
		if err := g.global.acquire(ctx, g.globalN, -1); err != nil {
			return nil, g.refusal(ws, err)
		}
		releaseSlot = g.global.release
	}
	if g.budget == nil || samples <= 0 {
		if releaseSlot == nil {
			return func() {}, nil
		}
		return releaseSlot, nil
	}
	samples = min(samples, g.total)
	if err := g.budget.Acquire(ctx, samples); err != nil {
		if releaseSlot != nil {
			releaseSlot()
		}
		return nil, g.refusal(ws, err)
	}
	return func() {
		g.budget.Release(samples)
		if releaseSlot != nil {
			releaseSlot()
		}
	}, nil
}

// slots is a counting semaphore with a FIFO queue whose size and queue
// bound are given at each acquire (a workspace's limits change at
// runtime).
type slots struct {
	mu      sync.Mutex
	used    int
	waiters []chan struct{}
}

// acquire takes a slot when fewer than max are used (max <= 0: no limit),
// else waits in line unless maxWaiting are already waiting (maxWaiting < 0:
// no bound).
func (s *slots) acquire(ctx context.Context, max, maxWaiting int) error {
	s.mu.Lock()
	if max <= 0 || (s.used < max && len(s.waiters) == 0) {
		s.used++
		s.mu.Unlock()
		return nil
	}
	if maxWaiting >= 0 && len(s.waiters) >= maxWaiting {
		err := &ErrTooManyQueries{running: s.used, queued: len(s.waiters)}
		s.mu.Unlock()
		return err
	}
	ch := make(chan struct{})
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for i, w := range s.waiters {
			if w == ch {
				s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
				s.mu.Unlock()
				return ctx.Err()
			}
		}
		s.mu.Unlock()
		// The slot was handed over as the context ended: give it back.
		s.release()
		return ctx.Err()
	}
}

// release frees a slot, handing it to the first waiter if any.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiters) > 0 {
		ch := s.waiters[0]
		s.waiters = s.waiters[1:]
		close(ch)
		return
	}
	s.used--
}
