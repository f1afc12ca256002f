package alertmanager

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/config/receiver"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/common/model"
	"golang.org/x/time/rate"

	"github.com/kansoku/kansoku/internal/alertmanager/snsnotify"
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
func (l *alertsLimiter) PreStore(a *types.Alert, existing bool) error {
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
func (l *alertsLimiter) PostStore(a *types.Alert, _ bool) {
	fp := a.Fingerprint()
	size := alertSize(a.Alert)
	l.mu.Lock()
	l.total += size - l.sizes[fp]
	l.sizes[fp] = size
	l.mu.Unlock()
}

// PostDelete implements mem.AlertStoreCallback.
func (l *alertsLimiter) PostDelete(a *types.Alert) {
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

// buildIntegrations builds a receiver's notifiers: Alertmanager's own for
// every type but SNS, AMP's SNS notifier for sns_configs; all behind the
// workspace's notification rate limit.
func (in *instance) buildIntegrations(rcv config.Receiver, tmpl *template.Template) ([]notify.Integration, error) {
	others := rcv
	others.SNSConfigs = nil
	integrations, err := receiver.BuildReceiverIntegrations(others, tmpl, in.logger.With("subsystem", "notify", "receiver", rcv.Name))
	if err != nil {
		return nil, err
	}
	for i, c := range rcv.SNSConfigs {
		o := in.m.o.SNS
		o.Logger = in.logger.With("subsystem", "notify", "receiver", rcv.Name, "integration", "sns")
		warnLog := o.Logger
		o.Warn = func(msg string) { warnLog.Warn(msg) }
		n, err := snsnotify.New(c, tmpl, o)
		if err != nil {
			return nil, fmt.Errorf("sns_configs[%d]: %w", i, err)
		}
		integrations = append(integrations, notify.NewIntegration(n, c, "sns", i, rcv.Name))
	}
	limiter := in.notificationLimiter()
	out := make([]notify.Integration, len(integrations))
	for i := range integrations {
		orig := integrations[i]
		out[i] = notify.NewIntegration(&throttled{inner: &orig, limiter: limiter, counter: in.throttled}, &orig, orig.Name(), orig.Index(), rcv.Name)
	}
	return out, nil
}

// notificationLimiter is shared by all of a workspace's integrations.
func (in *instance) notificationLimiter() *rate.Limiter {
	lim := in.m.o.Limits.For(in.ws)
	if lim.NotificationRate <= 0 {
		return nil
	}
	burst := lim.NotificationBurstSize
	if burst < 1 {
		burst = 1
	}
	return rate.NewLimiter(rate.Limit(lim.NotificationRate), burst)
}

// throttled refuses a notification when the workspace's notification rate
// is exhausted; the group is retried at its next group_interval because
// nothing is written to the notification log.
type throttled struct {
	inner   *notify.Integration
	limiter *rate.Limiter
	counter prometheus.Counter
}

var errThrottled = errors.New("notification rate limit reached for this workspace")

func (t *throttled) Notify(ctx context.Context, alerts ...*types.Alert) (bool, error) {
	if t.limiter != nil && !t.limiter.Allow() {
		t.counter.Inc()
		return false, notify.NewErrorWithReason(notify.ClientErrorReason, errThrottled)
	}
	return t.inner.Notify(ctx, alerts...)
}
