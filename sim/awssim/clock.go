package awssim

import (
	"net/http"
	"sync/atomic"
	"time"
)

// simClock makes the simulator's clock (Server.now) replaceable while
// requests are served: New's clock is wrapped once, while the Server is
// built, and SetNow swaps what the wrapper calls.
type simClock struct {
	fn atomic.Pointer[func() time.Time]
}

// installClock wraps s.now. It must run inside New (service constructors
// do), before the Server is shared.
func installClock(s *Server) *simClock {
	c := &simClock{}
	orig := s.now
	c.fn.Store(&orig)
	s.now = func() time.Time { return (*c.fn.Load())() }
	return c
}

// SetNow replaces the simulated world's clock (nil: time.Now). It is safe
// to call while requests are served. The clock decides which CloudWatch
// datapoints exist (a period's point is published MetricDelay after the
// period ends). Signatures, role-session expiry and Date headers stay on
// the wall clock (or Options.Now), as the SDK signs with the wall clock,
// so tests may move the world hours away.
func (s *Server) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	if cw, ok := s.services[cloudWatchSigningName].(*cloudWatchService); ok {
		cw.clock.fn.Store(&now)
	}
}

// Now returns the simulator's current time.
func (s *Server) Now() time.Time { return s.now() }

// setDate sets the response's Date header to the simulator's time t (the
// SDK measures clock skew from it).
func setDate(w http.ResponseWriter, t time.Time) {
	w.Header().Set("Date", t.UTC().Format(http.TimeFormat))
}
