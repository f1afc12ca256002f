package alertmanager

import (
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/limits"
)

// alertsLimiter enforces AMP's per-workspace alert quotas (number of
// alerts, total size of their labels and annotations) as the alert store's
// callback, and keeps the figures for usage.
type alertsLimiter struct {
	ws     string
	limits *limits.Overrides

	mu    sync.Mutex
	sizes map[model.Fingerprint]int
	total int

	rejected *prometheus.CounterVec
}

func newAlertsLimiter(ws string, l *limits.Overrides, reg prometheus.Registerer) *alertsLimiter {
	return &alertsLimiter{ws: ws, limits: l, sizes: map[model.Fingerprint]int{},
		rejected: promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
			Name: "kansoku_alertmanager_alerts_rejected_total",
			Help: "Alerts refused because the workspace's alert quota (max_alerts, max_alerts_size_bytes) was reached.",
		}, []string{"reason"})}
}

func alertSize(a model.Alert) int {
	n := len(a.GeneratorURL)
	for k, v := range a.Labels {
		n += len(k) + len(v)
	}
	for k, v := range a.Annotations {
		n += len(k) + len(v)
	}
	return n
}

var (
	errTooManyAlerts = errors.New("too many alerts")
	errAlertsTooBig  = errors.New("alerts too big")
)

// PreStore implements mem.AlertStoreCallback.
func (l *alertsLimiter) PreStore(a *alert.Alert, existing bool) error {
	lim := l.limits.For(l.ws)
	fp := a.Fingerprint()
	size := alertSize(a.Alert)
	l.mu.Lock()
	defer l.mu.Unlock()
	old, had := l.sizes[fp]
	if !existing || !had {
		if lim.MaxAlerts > 0 && len(l.sizes) >= lim.MaxAlerts {
			l.rejected.WithLabelValues("max_alerts").Inc()
			return fmt.Errorf("%w: the workspace has %d alerts, the limit is %d (alert %s not stored)", errTooManyAlerts, len(l.sizes), lim.MaxAlerts, a.Name())
		}
		old = 0
	}
	if lim.MaxAlertsSizeBytes > 0 && l.total-old+size > lim.MaxAlertsSizeBytes {
		l.rejected.WithLabelValues("max_alerts_size_bytes").Inc()
		return fmt.Errorf("%w: the workspace's alerts would take %d bytes, the limit is %d (alert %s not stored)", errAlertsTooBig, l.total-old+size, lim.MaxAlertsSizeBytes, a.Name())
	}
	return nil
}

// PostStore implements mem.AlertStoreCallback.
func (l *alertsLimiter) PostStore(a *alert.Alert, _ bool) {
	fp := a.Fingerprint()
	size := alertSize(a.Alert)
	l.mu.Lock()
	l.total += size - l.sizes[fp]
	l.sizes[fp] = size
	l.mu.Unlock()
}

// PostDelete implements mem.AlertStoreCallback.
func (l *alertsLimiter) PostDelete(a *alert.Alert) {
	fp := a.Fingerprint()
	l.mu.Lock()
	l.total -= l.sizes[fp]
	delete(l.sizes, fp)
	l.mu.Unlock()
}

// PostGC implements mem.AlertStoreCallback.
func (l *alertsLimiter) PostGC(fps model.Fingerprints) {
	l.mu.Lock()
	for _, fp := range fps {
		l.total -= l.sizes[fp]
		delete(l.sizes, fp)
	}
	l.mu.Unlock()
}

func (l *alertsLimiter) usage() (count, size int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sizes), l.total
}

// groupLimits is the dispatcher's limit on aggregation groups.
type groupLimits struct {
	limits *limits.Overrides
	ws     string
}

func (g groupLimits) MaxNumberOfAggregationGroups() int {
	return g.limits.For(g.ws).MaxAggregationGroups
}
