// Package ruler evaluates each workspace's recording and alerting rules
// with Prometheus' own rule manager (github.com/prometheus/prometheus/rules):
// one rules.Manager per workspace, fed from the workspace's ACTIVE rule
// groups namespaces, querying through the tenant-scoped PromQL engine and
// writing recording-rule output and ALERTS series back into the workspace.
// Firing alerts go to the workspace's Alertmanager.
//
// A namespace is a "file" to the rule manager, so a changed namespace only
// restarts its own groups: unchanged groups keep running and keep their
// alert state (rules.Manager.Update compares groups and copies state).
package ruler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/notifier"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	v1 "github.com/prometheus/prometheus/web/api/v1"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/querycost"
	"github.com/kansoku/kansoku/internal/reconcile"
	"github.com/kansoku/kansoku/internal/rulegroups"
	"github.com/kansoku/kansoku/internal/telemetry"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/wslog"
)

// Source gives a workspace's rule files in force, by namespace name
// (rulegroups.Service.Active).
type Source interface {
	Active(ctx context.Context, ws string) (map[string][]byte, error)
}

// Storage is the workspace's TSDB: rules read it to restore alert state and
// append their output to it.
type Storage interface {
	Querier(ws string, mint, maxt int64) (storage.Querier, error)
	Appender(ctx context.Context, ws string) (storage.Appender, error)
}

// Options configure the ruler.
type Options struct {
	Logger *slog.Logger
	// Engine runs rule queries; it reads the workspace and its query limits
	// from the context (query.API.Engine()).
	Engine promql.QueryEngine
	// Queryable is the tenant-scoped, limit-checked queryable the engine
	// reads (query.Queryable).
	Queryable storage.Queryable
	Storage   Storage
	Source    Source
	Limits    *limits.Overrides
	// Notify receives the alerts of a workspace's alerting rules. Nil: alerts
	// are only visible in /api/v1/alerts.
	Notify func(ws string, alerts ...*notifier.Alert)
	// Logs receives ruler warnings and errors per workspace.
	Logs wslog.Sink
	// Registries holds per-workspace rule metrics (evaluations, failures,
	// missed iterations...).
	Registries *telemetry.Registries
	// ExternalURL is the server's URL; alerts link back to
	// <ExternalURL>/workspaces/<id>.
	ExternalURL string
	// DefaultInterval is the evaluation interval of groups that set none
	// (Prometheus' global evaluation_interval). Default 1m, as AMP.
	DefaultInterval time.Duration
	// Owns, when set, says whether this node runs a workspace's rules (a
	// cluster node runs those of the workspaces it holds the lease of).
	Owns func(ws string) bool
	// ResyncInterval is how often every workspace is re-synced as a safety
	// net behind change notifications. Default 1m.
	ResyncInterval time.Duration
	// OutageTolerance, ForGracePeriod, ResendDelay as in Prometheus
	// (--rules.alert.*). Defaults 1h, 10m, 1m.
	OutageTolerance, ForGracePeriod, ResendDelay time.Duration
}

// Ruler runs one rule manager per workspace that has rules.
type Ruler struct {
	o Options

	mu      sync.Mutex
	ctx     context.Context // set by Run; nil before
	tenants map[string]*workspaceRuler
	pending chan string
	syncMu  sync.Mutex // one sync at a time: the loader and Update go together

	ready     chan struct{}
	readyOnce sync.Once
}

type workspaceRuler struct {
	ws      string
	manager *rules.Manager
	loader  *memLoader
	guard   *templateGuard
	cancel  context.CancelFunc
	done    chan struct{}
	// files are the namespaces currently loaded, sorted.
	files []string
}

// New returns a ruler; Run starts it.
func New(o Options) *Ruler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ResyncInterval == 0 {
		o.ResyncInterval = time.Minute
	}
	if o.DefaultInterval == 0 {
		o.DefaultInterval = rulegroups.DefaultEvaluationInterval
	}
	if o.OutageTolerance == 0 {
		o.OutageTolerance = time.Hour
	}
	if o.ForGracePeriod == 0 {
		o.ForGracePeriod = 10 * time.Minute
	}
	if o.ResendDelay == 0 {
		o.ResendDelay = time.Minute
	}
	if o.Registries == nil {
		o.Registries = telemetry.NewRegistries()
	}
	return &Ruler{o: o, tenants: map[string]*workspaceRuler{}, pending: make(chan string, 1024), ready: make(chan struct{})}
}

// Run syncs every workspace in wss, then follows change notifications
// (Sync) and resyncs periodically until ctx ends; then it stops every rule
// manager. Call it once storage is open.
func (r *Ruler) Run(ctx context.Context, workspaces func(context.Context) ([]string, error)) error {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	defer r.stopAll()
	return reconcile.PerWorkspace{
		Name: "ruler", List: workspaces, Running: r.running, Remove: r.Remove, Pending: r.pending, Owns: r.o.Owns,
		Sync:     func(ctx context.Context, ws string) { _ = r.sync(ctx, ws) },
		Interval: r.o.ResyncInterval, Logger: r.o.Logger,
		Ready: func() { r.readyOnce.Do(func() { close(r.ready) }) },
	}.Run(ctx)
}

// running lists the workspaces with a rule manager.
func (r *Ruler) running() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.tenants))
	for ws := range r.tenants {
		out = append(out, ws)
	}
	return out
}

// Ready is closed once every workspace's rules have been loaded.
func (r *Ruler) Ready() <-chan struct{} { return r.ready }

// Sync asks for workspace ws's rules to be reloaded soon (a namespace was
// created, changed or deleted, or the workspace became active). It never
// blocks.
func (r *Ruler) Sync(ws string) {
	select {
	case r.pending <- ws:
	default: // the periodic resync catches up
	}
}

// SyncNow reloads ws's rules synchronously (tests, and callers that must
// know the rules are in force).
func (r *Ruler) SyncNow(ctx context.Context, ws string) error {
	r.mu.Lock()
	running := r.ctx != nil
	r.mu.Unlock()
	if !running {
		return errors.New("ruler is not running")
	}
	return r.sync(ctx, ws)
}

// Remove stops ws's rule evaluation and forgets it (workspace deleted).
func (r *Ruler) Remove(ws string) {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	r.remove(ws)
}

func (r *Ruler) remove(ws string) {
	r.mu.Lock()
	t := r.tenants[ws]
	delete(r.tenants, ws)
	r.mu.Unlock()
	if t != nil {
		t.stop()
		r.o.Registries.Remove(ws)
	}
}

func (r *Ruler) stopAll() {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	r.mu.Lock()
	ts := r.tenants
	r.tenants = map[string]*workspaceRuler{}
	r.ctx = nil
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Add(1)
		go func() { defer wg.Done(); t.stop() }()
	}
	wg.Wait()
}

func (t *workspaceRuler) stop() {
	t.manager.Stop()
	t.cancel()
	<-t.done
}

// sync makes ws's rule manager evaluate exactly the workspace's active
// namespaces, within its limits.
func (r *Ruler) sync(ctx context.Context, ws string) error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	files, err := r.o.Source.Active(ctx, ws)
	if err != nil {
		r.o.Logger.Error("read active rule namespaces", "workspace", ws, "err", err)
		return err
	}
	lim := r.o.Limits.For(ws)
	log := wslog.Logger(r.o.Logger, r.o.Logs, ws, "ruler")
	groups := admit(files, lim, r.o.DefaultInterval, log)

	r.mu.Lock()
	t := r.tenants[ws]
	base := r.ctx
	r.mu.Unlock()
	if base == nil {
		return errors.New("ruler is not running")
	}
	if len(groups) == 0 {
		if t != nil {
			r.remove(ws)
		}
		return nil
	}
	if t == nil {
		t = r.start(base, ws, log)
		r.mu.Lock()
		r.tenants[ws] = t
		r.mu.Unlock()
	}
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	t.loader.set(groups)
	commit := t.guard.load(groups, t.loader.parser)
	err = t.manager.Update(r.o.DefaultInterval, names, labels.EmptyLabels(), r.externalURL(ws), nil)
	commit(err == nil)
	if err != nil {
		log.Error("loading rule groups failed; the previous rules stay in force", "err", err)
		return err
	}
	t.files = names
	return nil
}

func (r *Ruler) externalURL(ws string) string {
	return r.o.ExternalURL + "/workspaces/" + ws
}

// start builds and runs ws's rule manager.
func (r *Ruler) start(base context.Context, ws string, log *slog.Logger) *workspaceRuler {
	ctx, cancel := context.WithCancel(tenant.WithWorkspace(base, ws))
	reg := r.o.Registries.Replace(ws)
	lim := r.o.Limits.For(ws)
	loader := &memLoader{parser: querycost.NewParser(querycost.Of(lim))}
	var notify rules.NotifyFunc = func(context.Context, string, ...*rules.Alert) {}
	if r.o.Notify != nil {
		notify = rules.SendAlerts(senderFunc(func(alerts ...*notifier.Alert) { r.o.Notify(ws, alerts...) }), r.externalURL(ws))
	}
	scheme := modelValidation(lim)
	// Alerting rules' templates are dry-run within the workspace's
	// template bounds before Prometheus expands them (templates.go).
	guard := newTemplateGuard(ws, r.o.Limits, rules.EngineQueryFunc(r.o.Engine, r.o.Queryable), r.externalURL(ws))
	m := rules.NewManager(&rules.ManagerOptions{
		NameValidationScheme: scheme,
		QueryFunc:            guard.QueryFunc,
		NotifyFunc:           notify,
		Context:              ctx,
		Appendable:           appendable{st: r.o.Storage, ws: ws},
		Queryable:            workspaceQueryable{st: r.o.Storage, ws: ws},
		Logger:               log.With("component", "ruler"),
		Registerer:           reg,
		OutageTolerance:      r.o.OutageTolerance,
		ForGracePeriod:       r.o.ForGracePeriod,
		ResendDelay:          r.o.ResendDelay,
		GroupLoader:          loader,
		// Rules of a group run in order; groups run independently.
		ConcurrentEvalsEnabled: false,
		Parser:                 loader.parser,
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run()
	}()
	return &workspaceRuler{ws: ws, manager: m, loader: loader, guard: guard, cancel: cancel, done: done}
}

// RulesFor returns the rules retriever of the workspace in ctx, for the
// query API's /api/v1/rules and /api/v1/alerts.
func (r *Ruler) RulesFor(ctx context.Context) v1.RulesRetriever {
	ws, err := tenant.Workspace(ctx)
	if err != nil {
		return noRules{}
	}
	r.mu.Lock()
	t := r.tenants[ws]
	r.mu.Unlock()
	if t == nil {
		return noRules{}
	}
	return t.manager
}

// Namespaces returns the namespaces being evaluated for ws (tests, console).
func (r *Ruler) Namespaces(ws string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.tenants[ws]; t != nil {
		return append([]string(nil), t.files...)
	}
	return nil
}

// Gatherer returns the per-workspace rule metrics.
func (r *Ruler) Gatherer() prometheus.Gatherer { return r.o.Registries }

type noRules struct{}

func (noRules) RuleGroups() []*rules.Group           { return nil }
func (noRules) AlertingRules() []*rules.AlertingRule { return nil }

type senderFunc func(alerts ...*notifier.Alert)

func (f senderFunc) Send(alerts ...*notifier.Alert) { f(alerts...) }

// admit parses the active rule files and applies the workspace's limits:
// groups below the minimum evaluation interval run at the minimum, and
// namespaces (in name order) that would take the workspace over its rule
// quota are not loaded. Both can only happen when limits were tightened
// after the upload; they are logged to the workspace log.
func admit(files map[string][]byte, lim *limits.Limits, defaultInterval time.Duration, log *slog.Logger) map[string]*rulefmt.RuleGroups {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	out := map[string]*rulefmt.RuleGroups{}
	relaxed := *lim
	relaxed.MinEvaluationInterval = 0 // clamp below instead of rejecting
	total := 0
	for _, n := range names {
		groups, count, err := rulegroups.Validate(n, files[n], &relaxed)
		if err != nil {
			log.Error("rule groups namespace not loaded", "namespace", n, "err", err)
			continue
		}
		if lim.MaxRulesPerWorkspace > 0 && total+count > lim.MaxRulesPerWorkspace {
			log.Error("rule groups namespace not loaded: the workspace's rule quota is exceeded",
				"namespace", n, "rules", count, "loaded_rules", total, "limit", lim.MaxRulesPerWorkspace)
			continue
		}
		total += count
		min := time.Duration(lim.MinEvaluationInterval)
		for i := range groups.Groups {
			g := &groups.Groups[i]
			if g.Interval == 0 {
				g.Interval = modelDuration(defaultInterval)
			}
			if time.Duration(g.Interval) < min {
				log.Warn("rule group interval raised to the workspace minimum", "namespace", n, "group", g.Name,
					"interval", g.Interval.String(), "minimum", modelDuration(min).String())
				g.Interval = modelDuration(min)
			}
		}
		out[n] = groups
	}
	return out
}

// memLoader is a rules.GroupLoader over parsed namespaces held in memory:
// the "file name" the manager passes is the namespace name.
type memLoader struct {
	mu     sync.Mutex
	groups map[string]*rulefmt.RuleGroups
	parser parser.Parser // bounded by the workspace's expression limits
}

func (l *memLoader) set(g map[string]*rulefmt.RuleGroups) {
	l.mu.Lock()
	l.groups = g
	l.mu.Unlock()
}

func (l *memLoader) Load(identifier string, _ bool, _ modelValidationScheme) (*rulefmt.RuleGroups, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	g, ok := l.groups[identifier]
	if !ok {
		return nil, []error{fmt.Errorf("rule groups namespace %q is not loaded", identifier)}
	}
	return g, nil
}

func (l *memLoader) Parse(query string) (parser.Expr, error) {
	return l.parser.ParseExpr(query)
}

// Usage returns AMP's ruler usage figures for ws.
func (r *Ruler) Usage(ws string) map[string]float64 {
	reg, ok := r.o.Registries.Get(ws)
	if !ok {
		return nil
	}
	fams := telemetry.GatherFamilies(reg)
	return map[string]float64{
		"RuleEvaluations":           fams.Sum("prometheus_rule_evaluations_total", "", ""),
		"RuleEvaluationFailures":    fams.Sum("prometheus_rule_evaluation_failures_total", "", ""),
		"RuleGroupIterationsMissed": fams.Sum("prometheus_rule_group_iterations_missed_total", "", ""),
	}
}
