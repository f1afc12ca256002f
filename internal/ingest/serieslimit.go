package ingest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

// seriesLimitError is a TSDB refusal to create a series over a limit.
type seriesLimitError struct {
	reason string
	msg    string
}

func (e *seriesLimitError) Error() string { return e.msg }

// SeriesLimiter enforces a workspace's active-series limits inside its
// TSDB: the head asks it before creating each new series
// (tsdb.SeriesLifecycleCallback). The per-workspace limit adapts as AMP's
// does: twice the average of the last 30 minutes, never under the minimum
// capacity (2,000,000) and never over the quota (10,000,000).
type SeriesLimiter struct {
	ws     string
	limits *limits.Overrides

	armed     atomic.Bool // false during WAL replay: replay never hits limits
	effective atomic.Int64
	head      atomic.Pointer[tsdb.DB]
	// counter counts the workspace's series when they live in another
	// store than an embedded TSDB (Cortex, which enforces the limit).
	counter atomic.Pointer[func(ws string) (uint64, error)]

	// account names the AMP user of messages (user=<account>_<ws>:).
	account atomic.Pointer[string]

	mu        sync.Mutex
	perMetric map[string]int
	history   []seriesObservation // one per minute, last 30 minutes
	// sets are the workspace's label-set limits (UpdateWorkspaceConfiguration).
	sets    []*labelSetState
	hasSets atomic.Bool
}

type seriesObservation struct {
	at     time.Time
	series uint64
}

const adaptiveWindow = 30 * time.Minute

// NewSeriesLimiter returns the limiter of one workspace.
func NewSeriesLimiter(ws string, lim *limits.Overrides) *SeriesLimiter {
	s := &SeriesLimiter{ws: ws, limits: lim, perMetric: map[string]int{}}
	s.effective.Store(int64(s.adaptive(lim.For(ws), 0)))
	return s
}

// Opened arms the limiter once the TSDB has replayed its WAL.
func (s *SeriesLimiter) Opened(db *tsdb.DB) {
	s.head.Store(db)
	s.armed.Store(true)
	s.Observe(time.Now())
}

// Disarm turns enforcement off (guardrails disabled).
func (s *SeriesLimiter) Disarm() { s.armed.Store(false) }

func (s *SeriesLimiter) headSeries() uint64 {
	if db := s.head.Load(); db != nil {
		return db.Head().NumSeries()
	}
	if c := s.counter.Load(); c != nil {
		if n, err := (*c)(s.ws); err == nil {
			return n
		}
	}
	return 0
}

// adaptive computes the per-workspace limit from the 30-minute average.
func (s *SeriesLimiter) adaptive(l *limits.Limits, avg float64) int {
	max := l.MaxActiveSeries
	if max <= 0 {
		return 0 // no limit
	}
	limit := int(2 * avg)
	if limit < l.MinActiveSeriesCapacity {
		limit = l.MinActiveSeriesCapacity
	}
	if limit > max {
		limit = max
	}
	return limit
}

// Observe records the current number of active series (called every
// minute or so) and recomputes the adaptive limit.
func (s *SeriesLimiter) Observe(now time.Time) {
	n := s.headSeries()
	s.mu.Lock()
	if len(s.history) == 0 || now.Sub(s.history[len(s.history)-1].at) >= time.Minute {
		s.history = append(s.history, seriesObservation{at: now, series: n})
	}
	for len(s.history) > 0 && now.Sub(s.history[0].at) > adaptiveWindow {
		s.history = s.history[1:]
	}
	var sum float64
	for _, o := range s.history {
		sum += float64(o.series)
	}
	avg := sum / float64(max(len(s.history), 1))
	s.mu.Unlock()
	s.effective.Store(int64(s.adaptive(s.limits.For(s.ws), avg)))
}

// Limit returns the workspace's current active-series limit (0: none).
func (s *SeriesLimiter) Limit() int64 { return s.effective.Load() }

// PreCreation implements tsdb.SeriesLifecycleCallback.
func (s *SeriesLimiter) PreCreation(lset labels.Labels) error {
	if !s.armed.Load() {
		return nil
	}
	l := s.limits.For(s.ws)
	if limit := s.effective.Load(); limit > 0 && s.headSeries() >= uint64(limit) {
		// AMP's text (troubleshooting guide, seed 001 6787-6795): the
		// capacity range with thousands separators, the limits without.
		return &seriesLimitError{reason: ReasonPerUserSeries, msg: fmt.Sprintf(
			"%sper-user series limit of %d exceeded, Capacity from %s to %s is automatically adjusted based on the last 30 min of usage. "+
				"If throttled above %s or in case of incoming surges, please contact administrator to raise it. (local limit: 0 global limit: %d actual local limit: %d)",
			s.userPrefix(), l.MaxActiveSeries, thousands(int64(l.MinActiveSeriesCapacity)), thousands(int64(l.MaxActiveSeries)),
			thousands(int64(l.MaxActiveSeries)), l.MaxActiveSeries, limit)}
	}
	if s.hasSets.Load() {
		s.mu.Lock()
		err := s.checkLabelSets(lset)
		s.mu.Unlock()
		if err != nil {
			return err
		}
	}
	if l.MaxSeriesPerMetric > 0 {
		name := lset.Get(model.MetricNameLabel)
		s.mu.Lock()
		n := s.perMetric[name]
		s.mu.Unlock()
		if n >= l.MaxSeriesPerMetric {
			return &seriesLimitError{reason: ReasonPerMetricSeries, msg: fmt.Sprintf(
				"per-metric series limit of %d exceeded for metric %s, please contact administrator to raise it", l.MaxSeriesPerMetric, name)}
		}
	}
	return nil
}

// PostCreation implements tsdb.SeriesLifecycleCallback.
func (s *SeriesLimiter) PostCreation(lset labels.Labels) {
	name := lset.Get(model.MetricNameLabel)
	s.mu.Lock()
	s.perMetric[name]++
	s.countLabelSets(lset, 1)
	s.mu.Unlock()
}

// userPrefix is AMP's "user=<account>_<workspace>: " before a limit's
// message (none without an account).
func (s *SeriesLimiter) userPrefix() string {
	a := s.account.Load()
	if a == nil || *a == "" {
		return ""
	}
	return "user=" + *a + "_" + s.ws + ": "
}

// PostDeletion implements tsdb.SeriesLifecycleCallback.
func (s *SeriesLimiter) PostDeletion(deleted map[chunks.HeadSeriesRef]labels.Labels) {
	s.mu.Lock()
	for _, lset := range deleted {
		name := lset.Get(model.MetricNameLabel)
		if s.perMetric[name] <= 1 {
			delete(s.perMetric, name)
		} else {
			s.perMetric[name]--
		}
		s.countLabelSets(lset, -1)
	}
	s.mu.Unlock()
}

// SeriesLimiters holds the limiter of every open workspace.
type SeriesLimiters struct {
	limits *limits.Overrides
	off    bool

	mu      sync.Mutex
	m       map[string]*SeriesLimiter
	counter func(ws string) (uint64, error)
	account string
}

// SetAccount names the installation's account in limit messages
// (user=<account>_<workspace>:, as AMP's).
func (r *SeriesLimiters) SetAccount(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.account = id
	for _, s := range r.m {
		s.account.Store(&id)
	}
}

// NewSeriesLimiters returns the registry; disabled turns enforcement off.
func NewSeriesLimiters(lim *limits.Overrides, disabled bool) *SeriesLimiters {
	return &SeriesLimiters{limits: lim, off: disabled, m: map[string]*SeriesLimiter{}}
}

// For returns (creating it) the limiter of a workspace; tenantdb installs it
// in the workspace's TSDB.
func (r *SeriesLimiters) For(ws string) *SeriesLimiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.m[ws]
	if !ok {
		s = NewSeriesLimiter(ws, r.limits)
		acct := r.account
		s.account.Store(&acct)
		if r.counter != nil {
			s.counter.Store(&r.counter)
		}
		r.m[ws] = s
	}
	return s
}

// SetCounter makes the limiters count series with count instead of a TSDB
// head: the store (Cortex) enforces the limit these limiters compute.
// Call before the first workspace is opened.
func (r *SeriesLimiters) SetCounter(count func(ws string) (uint64, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counter = count
}

// Opened arms a workspace's limiter after its WAL replay.
func (r *SeriesLimiters) Opened(ws string, db *tsdb.DB) {
	s := r.For(ws)
	if r.off {
		s.head.Store(db)
		return
	}
	s.Opened(db)
}

// Observe samples every workspace's active series (adaptive limits).
func (r *SeriesLimiters) Observe(now time.Time) {
	r.mu.Lock()
	all := make([]*SeriesLimiter, 0, len(r.m))
	for _, s := range r.m {
		all = append(all, s)
	}
	r.mu.Unlock()
	for _, s := range all {
		s.Observe(now)
	}
}

// Get returns a workspace's limiter if it has one.
func (r *SeriesLimiters) Get(ws string) (*SeriesLimiter, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.m[ws]
	return s, ok
}

// Forget drops a deleted workspace's limiter.
func (r *SeriesLimiters) Forget(ws string) {
	r.mu.Lock()
	delete(r.m, ws)
	r.mu.Unlock()
}

// Hooks adapts the registry to tenantdb.SeriesHooks.
func (r *SeriesLimiters) Hooks() tenantdb.SeriesHooks { return seriesHooks{r} }

type seriesHooks struct{ r *SeriesLimiters }

func (h seriesHooks) For(ws string) tenantdb.SeriesCallback { return h.r.For(ws) }
func (h seriesHooks) Opened(ws string, db *tsdb.DB)         { h.r.Opened(ws, db) }
