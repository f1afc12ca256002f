package ingest

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kansoku/kansoku/internal/limits"
)

// rateLimiters are AMP's ingestion throttling: one token bucket per
// workspace whose size is the burst (1,000,000 by default) and whose refill
// rate is the ingestion rate (170,000 samples/s). A request takes one token
// per sample; one that does not fit is rejected whole.
type rateLimiters struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

func newRateLimiters() *rateLimiters { return &rateLimiters{m: map[string]*rate.Limiter{}} }

func (r *rateLimiters) get(ws string, l *limits.Limits, now time.Time) *rate.Limiter {
	r.mu.Lock()
	lim, ok := r.m[ws]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(l.IngestionRate), l.IngestionBurstSize)
		r.m[ws] = lim
	}
	r.mu.Unlock()
	// Limits may change at runtime: adjust without losing the bucket's state.
	if lim.Limit() != rate.Limit(l.IngestionRate) {
		lim.SetLimitAt(now, rate.Limit(l.IngestionRate))
	}
	if lim.Burst() != l.IngestionBurstSize {
		lim.SetBurstAt(now, l.IngestionBurstSize)
	}
	return lim
}

// take removes n tokens or explains why it cannot.
func (r *rateLimiters) take(ws string, l *limits.Limits, n, metadata int, now time.Time) *Error {
	if n == 0 {
		return nil
	}
	lim := r.get(ws, l, now)
	if n > l.IngestionBurstSize {
		return &Error{Status: http.StatusTooManyRequests, Reason: ReasonRateLimited, Msg: fmt.Sprintf(
			"ingestion burst size limit (%d) exceeded while adding %d samples and %d metadata: send smaller batches or raise the workspace's ingestion_burst_size", l.IngestionBurstSize, n, metadata)}
	}
	if !lim.AllowN(now, n) {
		return &Error{Status: http.StatusTooManyRequests, Reason: ReasonRateLimited, Msg: fmt.Sprintf(
			"ingestion rate limit (%v) exceeded while adding %d samples and %d metadata", l.IngestionRate, n, metadata)}
	}
	return nil
}

func (r *rateLimiters) forget(ws string) {
	r.mu.Lock()
	delete(r.m, ws)
	r.mu.Unlock()
}
