package alertmanager

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/alertmanager/alert"
	apiv2 "github.com/prometheus/alertmanager/api/v2"
	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/eventrecorder"
	"github.com/prometheus/alertmanager/featurecontrol"
	"github.com/prometheus/alertmanager/inhibit"
	"github.com/prometheus/alertmanager/marker"
	"github.com/prometheus/alertmanager/nflog"
	"github.com/prometheus/alertmanager/nflog/nflogpb"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/provider/mem"
	"github.com/prometheus/alertmanager/silence"
	"github.com/prometheus/alertmanager/timeinterval"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/kansoku/kansoku/internal/amconfig"
	"github.com/kansoku/kansoku/internal/wslog"
)

type labelsLabel = labels.Label

// instance is one workspace's Alertmanager. The long-lived parts (alerts,
// silences, notification log, API) live as long as the instance; the
// configuration-scoped parts (routes, receivers, inhibitor, dispatcher) are
// rebuilt on every definition change.
type instance struct {
	m       *Manager
	ws      string
	logger  *slog.Logger
	reg     *prometheus.Registry
	limiter *alertsLimiter

	alerts     *countingAlerts
	silences   *silence.Silences
	nflog      *nflog.Log
	groups     marker.GroupMarker
	silencer   *silence.Silencer
	pipeline   *notify.PipelineBuilder
	dispMetric *dispatch.DispatcherMetrics
	throttled  prometheus.Counter
	startTime  time.Time

	mu         sync.Mutex // serializes apply and stop
	dryRunMu   sync.Mutex // one template dry run at a time (templateGuard)
	hash       [32]byte
	inhibitor  atomic.Pointer[inhibit.Inhibitor]
	dispatcher atomic.Pointer[dispatch.Dispatcher]

	// The API v2 is built at its first request: each one loads and
	// analyses Alertmanager's OpenAPI document (0.7 MB of heap), and most
	// workspaces' Alertmanagers only ever get alerts from their rules.
	apiMu      sync.Mutex
	api        *apiv2.API
	apiConf    *config.Config // the applied configuration, for the API's status
	apiSilence func(context.Context, model.LabelSet)

	persistMu sync.Mutex // one snapshot write at a time
	stopc     chan struct{}
	wg        sync.WaitGroup
	stopped   bool
}

// countingAlerts counts every alert put into the store (AMP's
// AlertManagerAlertsReceived), whether from rules or the API.
type countingAlerts struct {
	*mem.Alerts
	received prometheus.Counter
}

func (c *countingAlerts) Put(ctx context.Context, alerts ...*alert.Alert) error {
	c.received.Add(float64(len(alerts)))
	return c.Alerts.Put(ctx, alerts...)
}

func newInstance(m *Manager, ws string) (_ *instance, err error) {
	in := &instance{
		m: m, ws: ws, logger: wslog.Logger(m.o.Logger, m.o.Logs, ws, "alertmanager"),
		stopc: make(chan struct{}), startTime: time.Now(),
	}
	nflogState, err := m.o.State.LoadState(context.Background(), ws, StateNflog)
	if err != nil {
		return nil, fmt.Errorf("load the notification log: %w", err)
	}
	silenceState, err := m.o.State.LoadState(context.Background(), ws, StateSilences)
	if err != nil {
		return nil, fmt.Errorf("load the silences: %w", err)
	}
	in.reg = m.o.Registries.Replace(ws)
	defer func() {
		if err != nil {
			in.stop()
		}
	}()
	flags := featurecontrol.NoopFlags{}
	rec := eventrecorder.Recorder{} // event recording is off: it would write files

	in.nflog, err = nflog.New(nflog.Options{
		SnapshotReader: readerOf(nflogState),
		Retention:      m.o.Retention,
		Logger:         in.logger.With("subsystem", "nflog"),
		Metrics:        in.reg,
	})
	if err != nil {
		return nil, fmt.Errorf("notification log: %w", err)
	}
	in.silences, err = silence.New(silence.Options{
		SnapshotReader: readerOf(silenceState),
		Retention:      m.o.Retention,
		Limits: silence.Limits{
			MaxSilences:         func() int { return m.o.Limits.For(ws).MaxSilences },
			MaxSilenceSizeBytes: func() int { return m.o.Limits.For(ws).MaxSilenceSizeBytes },
		},
		Logger:        in.logger.With("subsystem", "silences"),
		Metrics:       in.reg,
		EventRecorder: rec,
	})
	if err != nil {
		return nil, fmt.Errorf("silences: %w", err)
	}
	in.silencer = silence.NewSilencer(in.silences, in.logger.With("subsystem", "silencer"), rec)
	// The API's alert status: muted by the current inhibitor or a silence.
	in.apiSilence = func(ctx context.Context, ls model.LabelSet) {
		if i := in.inhibitor.Load(); i != nil {
			i.Mutes(ctx, ls)
		}
		in.silencer.Mutes(ctx, ls)
	}
	in.groups = marker.NewGroupMarker()
	in.limiter = newAlertsLimiter(ws, m.o.Limits, in.reg)
	memAlerts, err := mem.NewAlerts(context.Background(), 30*time.Minute, 0, in.limiter, in.logger.With("subsystem", "alerts"), rec, in.reg, flags)
	if err != nil {
		return nil, fmt.Errorf("alert store: %w", err)
	}
	in.alerts = &countingAlerts{Alerts: memAlerts, received: promauto.With(in.reg).NewCounter(prometheus.CounterOpts{
		Name: "kansoku_alertmanager_alerts_received_total",
		Help: "Alerts received by the workspace's Alertmanager, from its alerting rules and its API (AMP's AlertManagerAlertsReceived).",
	})}
	in.throttled = promauto.With(in.reg).NewCounter(prometheus.CounterOpts{
		Name: "kansoku_alertmanager_notifications_throttled_total",
		Help: "Notifications not sent because the workspace's notification rate limit was reached (AMP's AlertManagerNotificationsThrottled).",
	})
	in.pipeline = notify.NewPipelineBuilder(in.reg, flags, rec)
	in.dispMetric = dispatch.NewDispatcherMetrics(false, in.reg, flags)

	in.wg.Add(1)
	go in.persistLoop()
	return in, nil
}

// readerOf returns a reader of a saved state, or nil when there is none
// (the upstream loaders refuse an empty snapshot).
func readerOf(b []byte) io.Reader {
	if len(b) == 0 {
		return nil
	}
	return bytes.NewReader(b)
}

func (in *instance) alertGroups(ctx context.Context, routeFilter func(*dispatch.Route) bool, alertFilter func(*alert.Alert, time.Time) bool) (dispatch.AlertGroups, map[model.Fingerprint][]string, error) {
	d := in.dispatcher.Load()
	if d == nil {
		return nil, map[model.Fingerprint][]string{}, nil
	}
	return d.Groups(ctx, routeFilter, alertFilter)
}

// apply (re)builds the configuration-scoped parts from a definition. A
// definition identical to the one in force is a no-op, so alert groups
// keep their timers.
func (in *instance) apply(def []byte) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.stopped {
		return fmt.Errorf("alertmanager of workspace %s is stopped", in.ws)
	}
	sum := sha256.Sum256(def)
	if sum == in.hash {
		return nil
	}
	parsed, err := amconfig.Parse(def, in.m.o.Limits.For(in.ws), in.m.o.Firewall)
	if err != nil {
		return err
	}
	conf := parsed.Config
	capRepeatInterval(conf.Route)

	extURL, err := url.Parse(in.m.o.ExternalURL + "/workspaces/" + in.ws + "/alertmanager")
	if err != nil {
		return err
	}
	bases, err := in.m.templates()
	if err != nil {
		return err
	}
	tmpl, err := parsed.Templates(bases.plain)
	if err != nil {
		return err
	}
	tmpl.ExternalURL = extURL
	guard, err := newTemplateGuard(parsed, bases.instrumented, extURL, in.ws, in.m.o.Limits, &in.dryRunMu)
	if err != nil {
		return err
	}

	routes := dispatch.NewRoute(conf.Route, nil)
	used := map[string]bool{}
	routes.Walk(func(r *dispatch.Route) { used[r.RouteOpts.Receiver] = true })
	receivers := map[string][]notify.Integration{}
	for _, rcv := range conf.Receivers {
		if !used[rcv.Name] {
			continue
		}
		integrations, err := in.buildIntegrations(rcv, tmpl, guard)
		if err != nil {
			return fmt.Errorf("receiver %q: %w", rcv.Name, err)
		}
		receivers[rcv.Name] = integrations
	}
	intervals := map[string][]timeinterval.TimeInterval{}
	for _, ti := range conf.MuteTimeIntervals {
		intervals[ti.Name] = ti.TimeIntervals
	}
	for _, ti := range conf.TimeIntervals {
		intervals[ti.Name] = ti.TimeIntervals
	}

	// Nothing can fail from here: swap the configuration in.
	if old := in.inhibitor.Load(); old != nil {
		old.Stop()
	}
	if old := in.dispatcher.Load(); old != nil {
		old.Stop()
	}
	rec := eventrecorder.Recorder{}
	inhibitor := inhibit.NewInhibitor(in.alerts, conf.InhibitRules, in.logger.With("subsystem", "inhibitor"), rec)
	stage := in.pipeline.New(receivers, func() time.Duration { return 0 }, inhibitor, in.silencer,
		timeinterval.NewIntervener(intervals), in.groups, persistingLog{in.nflog, func() error { return in.save(StateNflog) }}, nil)
	in.apiMu.Lock()
	in.apiConf = conf
	if in.api != nil {
		in.api.Update(conf, in.apiSilence)
	}
	in.apiMu.Unlock()
	d := dispatch.NewDispatcher(in.alerts, routes, stage, in.groups, timeout, in.m.o.MaintenanceInterval,
		groupLimits{in.m.o.Limits, in.ws}, in.logger.With("subsystem", "dispatcher"), rec, in.dispMetric, tmpl)
	go inhibitor.Run()
	inhibitor.WaitForLoading()
	in.inhibitor.Store(inhibitor)
	go d.Run(in.startTime)
	d.WaitForLoading()
	in.dispatcher.Store(d)
	in.hash = sum
	in.logger.Info("alertmanager definition applied", "receivers", len(receivers), "inhibit_rules", len(conf.InhibitRules))
	return nil
}

func timeout(d time.Duration) time.Duration {
	if d < notify.MinTimeout {
		d = notify.MinTimeout
	}
	return d
}

// capRepeatInterval applies AMP's 5-day maximum to every route that sets a
// repeat_interval (children inherit their parent's).
func capRepeatInterval(r *config.Route) {
	if r == nil {
		return
	}
	if r.RepeatInterval != nil && time.Duration(*r.RepeatInterval) > amconfig.MaxRepeatInterval {
		capped := model.Duration(amconfig.MaxRepeatInterval)
		r.RepeatInterval = &capped
	}
	for _, c := range r.Routes {
		capRepeatInterval(c)
	}
}

// apiV2 returns the instance's API v2, built at the first call with the
// configuration applied last.
func (in *instance) apiV2() (*apiv2.API, error) {
	in.apiMu.Lock()
	defer in.apiMu.Unlock()
	if in.api != nil {
		return in.api, nil
	}
	api, err := apiv2.NewAPI(in.alerts, in.alertGroups, in.groups.Muted, in.silences, nil, in.logger.With("subsystem", "api"), in.reg)
	if err != nil {
		return nil, err
	}
	if in.apiConf != nil {
		api.Update(in.apiConf, in.apiSilence)
	}
	in.api = api
	return api, nil
}

// ServeHTTP serves the API v2. A change of silences is answered only once
// the silences are saved, so a silence the client was told about survives
// a crash or a change of owner.
func (in *instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api, err := in.apiV2()
	if err != nil {
		in.logger.Error("building the Alertmanager API failed", "err", err)
		http.Error(w, "the Alertmanager API is unavailable", http.StatusInternalServerError)
		return
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || !strings.HasPrefix(r.URL.Path, "/api/v2/silence") {
		api.Handler.ServeHTTP(w, r)
		return
	}
	rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	api.Handler.ServeHTTP(rec, r)
	if rec.status < 300 {
		if err := in.save(StateSilences); err != nil {
			in.logger.Error("saving the silences failed", "err", err)
			http.Error(w, "the silence could not be saved; retry", http.StatusServiceUnavailable)
			return
		}
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes()) // the client may be gone
}

// bufferedResponse holds an answer until the state it reports is saved.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(code int)        { b.status = code }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

// persistingLog saves the notification log after every entry, before the
// notification pipeline goes on, so that a crash or a change of owner
// right after a notification does not send it again.
type persistingLog struct {
	log  *nflog.Log
	save func() error
}

func (p persistingLog) Log(r *nflogpb.Receiver, gkey string, firing, resolved []uint64, store *nflog.Store, expiry time.Duration) error {
	if err := p.log.Log(r, gkey, firing, resolved, store, expiry); err != nil {
		return err
	}
	return p.save()
}

func (p persistingLog) Query(params ...nflog.QueryParam) ([]*nflogpb.Entry, error) {
	return p.log.Query(params...)
}

// persistLoop saves the silences and notification log every maintenance
// interval (after GC) and once more when the instance stops; changes are
// saved as they happen (ServeHTTP, persistingLog).
func (in *instance) persistLoop() {
	defer in.wg.Done()
	t := time.NewTicker(in.m.o.MaintenanceInterval)
	defer t.Stop()
	for {
		select {
		case <-in.stopc:
			in.snapshot(true)
			return
		case <-t.C:
			in.snapshot(true)
		}
	}
}

func (in *instance) snapshot(gc bool) {
	if gc {
		if _, err := in.silences.GC(); err != nil {
			in.logger.Error("silences garbage collection failed", "err", err)
		}
		if _, err := in.nflog.GC(); err != nil {
			in.logger.Error("notification log garbage collection failed", "err", err)
		}
	}
	for _, kind := range []string{StateSilences, StateNflog} {
		if err := in.save(kind); err != nil {
			in.logger.Error("saving the Alertmanager state failed", "state", kind, "err", err)
		}
	}
}

// save writes one kind of state to the state store, under this node's
// epoch of the workspace.
func (in *instance) save(kind string) error {
	in.persistMu.Lock()
	defer in.persistMu.Unlock()
	var buf bytes.Buffer
	var err error
	switch kind {
	case StateSilences:
		_, err = in.silences.Snapshot(&buf)
	case StateNflog:
		_, err = in.nflog.Snapshot(&buf)
	}
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", kind, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return in.m.o.State.SaveState(ctx, in.ws, kind, in.m.o.Epoch(in.ws), buf.Bytes())
}

// stop stops dispatching, writes the final snapshots and releases the
// alert store.
func (in *instance) stop() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.stopped {
		return
	}
	in.stopped = true
	if i := in.inhibitor.Load(); i != nil {
		i.Stop()
	}
	if d := in.dispatcher.Load(); d != nil {
		d.Stop()
	}
	if in.silences != nil && in.nflog != nil {
		close(in.stopc)
		in.wg.Wait()
	}
	if in.alerts != nil {
		in.alerts.Close()
	}
}
