// Package alertmanager runs one Prometheus Alertmanager per workspace, in
// process, built from the upstream packages (github.com/prometheus/
// alertmanager v0.34.2: provider/mem, silence, nflog, inhibit, dispatch,
// notify, api/v2) the way Cortex runs one per tenant. Each workspace's
// Alertmanager is configured by its AMP alertmanager definition
// (alertmanager_config + template_files), receives the alerts of the
// workspace's alerting rules and of CreateAlertManagerAlerts, and serves
// Alertmanager's API v2 under /workspaces/{id}/alertmanager/api/v2/.
//
// Silences and the notification log are snapshotted to
// <workspace dir>/alertmanager/ after every change, so a restart keeps
// silences and does not repeat notifications already sent.
package alertmanager

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"
	"github.com/prometheus/prometheus/notifier"

	"github.com/kansoku/kansoku/internal/alertmanager/snsnotify"
	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/reconcile"
	"github.com/kansoku/kansoku/internal/telemetry"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/wslog"
)

// Source gives a workspace's alertmanager definition in force
// (amconfig.Service.Active); it returns nil data when there is none.
type Source interface {
	Active(ctx context.Context, ws string) ([]byte, error)
}

// Options configure the per-workspace Alertmanagers.
type Options struct {
	Logger *slog.Logger
	// WorkspaceDir returns a workspace's data directory; with no State,
	// state goes to <dir>/alertmanager.
	WorkspaceDir func(ws string) string
	// State keeps silences and notification logs; nil: files under
	// WorkspaceDir (FileState).
	State StateStore
	// Epoch is this node's lease epoch on a workspace, saved with its
	// state; nil: 1 (one node).
	Epoch      func(ws string) int64
	Source     Source
	Limits     *limits.Overrides
	Logs       wslog.Sink
	Registries *telemetry.Registries
	// ExternalURL is the server's URL; templates' .ExternalURL is
	// <ExternalURL>/workspaces/<id>/alertmanager.
	ExternalURL string
	// SNS are the server-wide settings of SNS receivers (endpoint,
	// credentials).
	SNS snsnotify.Options
	// Retention of expired silences and notification log entries (120h).
	Retention time.Duration
	// MaintenanceInterval is how often silences and the notification log
	// are garbage-collected and snapshotted besides after each change (15m).
	MaintenanceInterval time.Duration
	// Owns, when set, says whether this node runs a workspace's
	// Alertmanager (a cluster node runs those of the workspaces it holds
	// the lease of).
	Owns func(ws string) bool
	// ResyncInterval is how often every workspace's definition is re-read
	// as a safety net behind change notifications (1m).
	ResyncInterval time.Duration
	// Firewall checks every connection a receiver opens (required).
	Firewall *egress.Firewall
}

// Manager runs the workspaces' Alertmanagers.
type Manager struct {
	o Options

	mu        sync.Mutex
	running   bool
	instances map[string]*instance
	pending   chan string
	syncMu    sync.Mutex
	ready     chan struct{}
	readyOnce sync.Once

	dropped prometheus.Counter
	// templates is built at the first definition applied.
	templates func() (templateBases, error)
}

// New returns a Manager; Run starts it.
func New(o Options) *Manager {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Retention == 0 {
		o.Retention = 120 * time.Hour
	}
	if o.MaintenanceInterval == 0 {
		o.MaintenanceInterval = 15 * time.Minute
	}
	if o.ResyncInterval == 0 {
		o.ResyncInterval = time.Minute
	}
	if o.Registries == nil {
		o.Registries = telemetry.NewRegistries()
	}
	if o.State == nil {
		o.State = FileState{Dir: o.WorkspaceDir}
	}
	if o.Epoch == nil {
		o.Epoch = func(string) int64 { return 1 }
	}
	return &Manager{
		o: o, instances: map[string]*instance{}, pending: make(chan string, 1024), ready: make(chan struct{}),
		templates: sync.OnceValues(newTemplateBases),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kansoku_alertmanager_alerts_dropped_total",
			Help: "Alerts of alerting rules dropped because their workspace has no Alertmanager definition.",
		}),
	}
}

// Describe exposes the manager's own metrics (prometheus.Collector).
func (m *Manager) Describe(ch chan<- *prometheus.Desc) { m.dropped.Describe(ch) }

// Collect exposes the manager's own metrics (prometheus.Collector).
func (m *Manager) Collect(ch chan<- prometheus.Metric) { m.dropped.Collect(ch) }

// Gatherer returns the per-workspace Alertmanager metrics.
func (m *Manager) Gatherer() prometheus.Gatherer { return m.o.Registries }

// Run builds the Alertmanagers of the workspaces listed by workspaces,
// follows change notifications and resyncs periodically until ctx ends;
// then it stops them all (snapshotting their state).
func (m *Manager) Run(ctx context.Context, workspaces func(context.Context) ([]string, error)) error {
	m.mu.Lock()
	m.running = true
	m.mu.Unlock()
	defer m.stopAll()
	return reconcile.PerWorkspace{
		Name: "alertmanager", List: workspaces, Running: m.runningWorkspaces, Remove: m.Remove, Pending: m.pending, Owns: m.o.Owns,
		Sync:     func(ctx context.Context, ws string) { _ = m.sync(ctx, ws) },
		Interval: m.o.ResyncInterval, Logger: m.o.Logger,
		Ready: func() { m.readyOnce.Do(func() { close(m.ready) }) },
	}.Run(ctx)
}

// runningWorkspaces lists the workspaces with an Alertmanager.
func (m *Manager) runningWorkspaces() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.instances))
	for ws := range m.instances {
		out = append(out, ws)
	}
	return out
}

// Ready is closed once every workspace's Alertmanager has been started.
func (m *Manager) Ready() <-chan struct{} { return m.ready }

// Sync asks for ws's definition to be (re)applied soon. It never blocks.
func (m *Manager) Sync(ws string) {
	select {
	case m.pending <- ws:
	default:
	}
}

// SyncNow applies ws's definition synchronously.
func (m *Manager) SyncNow(ctx context.Context, ws string) error {
	m.mu.Lock()
	running := m.running
	m.mu.Unlock()
	if !running {
		return errors.New("alertmanager manager is not running")
	}
	return m.sync(ctx, ws)
}

// Forget stops a deleted workspace's Alertmanager and deletes its state.
func (m *Manager) Forget(ctx context.Context, ws string) error {
	m.Remove(ws)
	return m.o.State.DeleteState(ctx, ws)
}

// Remove stops ws's Alertmanager; its state stays in the state store (for
// a restart, or for the node that owns the workspace next).
func (m *Manager) Remove(ws string) {
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	m.remove(ws)
}

func (m *Manager) remove(ws string) {
	m.mu.Lock()
	in := m.instances[ws]
	delete(m.instances, ws)
	m.mu.Unlock()
	if in != nil {
		in.stop()
		m.o.Registries.Remove(ws)
	}
}

func (m *Manager) stopAll() {
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	m.mu.Lock()
	ins := m.instances
	m.instances = map[string]*instance{}
	m.running = false
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Add(1)
		go func() { defer wg.Done(); in.stop() }()
	}
	wg.Wait()
}

// sync starts, reconfigures or stops ws's Alertmanager to match its
// definition.
func (m *Manager) sync(ctx context.Context, ws string) error {
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	m.mu.Lock()
	running := m.running
	in := m.instances[ws]
	m.mu.Unlock()
	if !running {
		return errors.New("alertmanager manager is not running")
	}
	def, err := m.o.Source.Active(ctx, ws)
	if err != nil {
		m.o.Logger.Error("read alertmanager definition", "workspace", ws, "err", err)
		return err
	}
	if def == nil {
		m.remove(ws)
		return nil
	}
	if in == nil {
		in, err = newInstance(m, ws)
		if err == nil {
			err = in.apply(def)
		}
		if err != nil {
			if in != nil {
				in.stop()
			}
			m.o.Registries.Remove(ws)
			wslog.Logger(m.o.Logger, m.o.Logs, ws, "alertmanager").Error("starting the Alertmanager failed", "err", err)
			return err
		}
		// Served only once configured: the API needs a configuration.
		m.mu.Lock()
		m.instances[ws] = in
		m.mu.Unlock()
		return nil
	}
	if err := in.apply(def); err != nil {
		in.logger.Error("applying the alertmanager definition failed; the previous configuration stays in force", "err", err)
		return err
	}
	return nil
}

func (m *Manager) get(ws string) *instance {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.instances[ws]
}

// Send delivers the alerts of ws's alerting rules to its Alertmanager
// (rules.NotifyFunc's sender).
func (m *Manager) Send(ws string, alerts ...*notifier.Alert) {
	in := m.get(ws)
	if in == nil {
		m.dropped.Add(float64(len(alerts)))
		return
	}
	now := time.Now()
	out := make([]*alert.Alert, 0, len(alerts))
	for _, a := range alerts {
		ta := &alert.Alert{
			Alert: model.Alert{
				Labels:       make(model.LabelSet, a.Labels.Len()),
				Annotations:  make(model.LabelSet, a.Annotations.Len()),
				StartsAt:     a.StartsAt,
				EndsAt:       a.EndsAt,
				GeneratorURL: a.GeneratorURL,
			},
			UpdatedAt: now,
		}
		a.Labels.Range(func(l labelsLabel) { ta.Labels[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
		a.Annotations.Range(func(l labelsLabel) { ta.Annotations[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
		if err := ta.Validate(); err != nil {
			in.logger.Warn("alert from an alerting rule is invalid", "alertname", string(ta.Labels[model.AlertNameLabel]), "err", err)
			continue
		}
		out = append(out, ta)
	}
	if err := in.alerts.Put(context.Background(), out...); err != nil {
		in.logger.Error("storing alerts failed", "err", err)
	}
}

// ServeHTTP serves Alertmanager's API v2 for the workspace in the request
// context; the path must start with /api/v2/.
func (m *Manager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := tenant.Workspace(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	in := m.get(ws)
	if in == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"code":404,"message":"workspace ` + ws + ` has no Alertmanager definition: create one with CreateAlertManagerDefinition"}`))
		return
	}
	in.ServeHTTP(w, r)
}

// Running reports whether ws's Alertmanager runs (tests, console).
func (m *Manager) Running(ws string) bool { return m.get(ws) != nil }

// Usage returns AMP's Alertmanager usage figures for ws.
func (m *Manager) Usage(ws string) map[string]float64 {
	reg, ok := m.o.Registries.Get(ws)
	if !ok {
		return nil
	}
	fams := telemetry.GatherFamilies(reg)
	out := map[string]float64{
		"AlertManagerAlertsReceived":         fams.Sum("kansoku_alertmanager_alerts_received_total", "", ""),
		"AlertManagerNotificationsFailed":    fams.Sum("alertmanager_notifications_failed_total", "", ""),
		"AlertManagerNotificationsThrottled": fams.Sum("kansoku_alertmanager_notifications_throttled_total", "", ""),
		"ActiveAlerts":                       fams.Sum("alertmanager_alerts", "state", "active"),
		"SuppressedAlerts":                   fams.Sum("alertmanager_alerts", "state", "suppressed"),
		"UnprocessedAlerts":                  fams.Sum("alertmanager_alerts", "state", "unprocessed"),
	}
	if in := m.get(ws); in != nil {
		n, size := in.limiter.usage()
		out["AllAlerts"] = float64(n)
		out["SizeOfAlerts"] = float64(size)
	}
	return out
}

// Version is the Alertmanager release embedded (go.mod pins it: the
// constructors used here change between minor releases).
const Version = "0.34.2"

func init() {
	// GET /api/v2/status reports prometheus/common/version, which only
	// Alertmanager's own binary sets; clients such as amtool compare it.
	if version.Version == "" {
		version.Version = Version
	}
}
