package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"golang.org/x/sync/semaphore"
)

// Inflight bounds the bytes of remote_write requests being decoded and
// stored at once, across workspaces, as Mimir's distributor does: a
// request that does not fit is refused with 503 (Prometheus retries it),
// so a burst of large requests cannot take the server's memory.
type Inflight struct {
	sem     *semaphore.Weighted
	max     int64
	refused prometheus.Counter
}

// NewInflight returns a bound of max bytes.
func NewInflight(max int64, reg prometheus.Registerer) *Inflight {
	return &Inflight{sem: semaphore.NewWeighted(max), max: max,
		refused: promauto.With(reg).NewCounter(prometheus.CounterOpts{
			Name: "kansoku_ingest_inflight_refused_total",
			Help: "remote_write requests refused because ingest.max_inflight_bytes were being decoded.",
		})}
}

// take reserves n bytes without waiting; a request larger than the whole
// bound still runs when nothing else does.
func (f *Inflight) take(n int64) (func(), bool) {
	n = min(n, f.max)
	if !f.sem.TryAcquire(n) {
		f.refused.Inc()
		return nil, false
	}
	return func() { f.sem.Release(n) }, true
}
