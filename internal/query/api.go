// Package query is the read path: the Prometheus HTTP query API
// (/api/v1/query, query_range, labels, label values, series, metadata,
// rules, alerts) for one workspace at a time. It reuses Prometheus' own
// web/api/v1 handlers, so responses are Prometheus' byte for byte, over a
// Queryable that resolves the workspace from the request context, and the
// Prometheus PromQL engine with per-step statistics on (stats=all).
package query

import (
	"context"
	"github.com/grafana/regexp"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/route"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/web/api/v1"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/version"
)

// PromQLVersion is the Prometheus release whose PromQL engine and HTTP API
// Kansoku embeds (module v0.315.0 is Prometheus 3.15.0). It is what
// /api/v1/status/buildinfo reports, so that Grafana enables the features
// this engine has.
const PromQLVersion = "3.15.0"

// Options configure the query API.
type Options struct {
	Logger        *slog.Logger
	Registerer    prometheus.Registerer
	Limits        *limits.Overrides
	LookbackDelta time.Duration
	// MaxConcurrent bounds queries running at once across all workspaces.
	MaxConcurrent int
	// Rules returns the rule groups of the workspace in ctx (/api/v1/rules
	// and /api/v1/alerts). Nil: no rules.
	Rules func(ctx context.Context) v1.RulesRetriever
}

// API serves the Prometheus query API for the workspace in the request
// context. Requests reach it with paths starting /api/v1/.
type API struct {
	router    *route.Router
	engines   *engines
	metadata  *metadataHandler
	queryable *Queryable
}

// New builds the API over a workspace storage.
func New(opts Options, st Storage, md MetadataStore) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LookbackDelta == 0 {
		opts.LookbackDelta = 5 * time.Minute
	}
	if opts.MaxConcurrent == 0 {
		opts.MaxConcurrent = 4 * runtime.GOMAXPROCS(0)
	}
	eng := newEngines(promql.EngineOpts{
		Logger:               opts.Logger.With("component", "promql"),
		LookbackDelta:        opts.LookbackDelta,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		EnablePerStepStats:   true,
		NoStepSubqueryIntervalFn: func(int64) int64 {
			return time.Minute.Milliseconds()
		},
	}, opts.Limits, opts.Registerer, opts.MaxConcurrent)

	q := &Queryable{Storage: st, Limits: opts.Limits}
	rules := opts.Rules
	if rules == nil {
		rules = func(context.Context) v1.RulesRetriever { return noRules{} }
	}
	throwaway := prometheus.NewRegistry() // remote-read metrics of an endpoint we do not serve
	api := v1.NewAPI(
		eng, q, nil, nil, noExemplars{},
		func(context.Context) v1.ScrapePoolsRetriever { return nil },
		func(context.Context) v1.TargetRetriever { return nil },
		func(context.Context) v1.AlertmanagerRetriever { return nil },
		func() config.Config { return config.Config{} },
		map[string]string{},
		v1.GlobalURLOptions{},
		func(f http.HandlerFunc) http.HandlerFunc { return f },
		nil, "", false, false, 0,
		opts.Logger.With("component", "api"),
		rules,
		0, 0, 0, false,
		regexp.MustCompile(`^$`), // no cross-origin browser access
		func() (v1.RuntimeInfo, error) { return v1.RuntimeInfo{}, nil },
		&v1.PrometheusVersion{Version: PromQLVersion, Revision: version.Revision(), Branch: "kansoku-" + version.Version, GoVersion: runtime.Version()},
		nil, nil,
		prometheus.NewRegistry(), throwaway,
		nil,
		false, nil, false, false, false, false,
		opts.LookbackDelta,
		false, false,
		nil, nil,
		v1.OpenAPIOptions{},
		nil,
	)
	r := route.New().WithPrefix("/api/v1")
	api.Register(r)
	return &API{router: r, engines: eng, metadata: &metadataHandler{store: md}, queryable: q}
}

// ServeHTTP serves one /api/v1/... request; the workspace must already be
// in the request context.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, err := tenant.Workspace(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if r.URL.Path == "/api/v1/metadata" {
		a.metadata.ServeHTTP(w, r)
		return
	}
	a.router.ServeHTTP(w, r)
}

// Engine returns the PromQL engine used for a workspace (the ruler runs its
// rules on the same engines).
func (a *API) Engine() promql.QueryEngine { return a.engines }

// Queryable returns the tenant-scoped, limit-checked queryable the engine
// reads (the ruler evaluates through it too).
func (a *API) Queryable() storage.Queryable { return a.queryable }

// engines hands each workspace an engine built for its query limits
// (samples per query, timeout); workspaces with the same limits share one.
type engines struct {
	base   promql.EngineOpts
	limits *limits.Overrides
	gate   chan struct{}

	mu   sync.Mutex
	byKL map[engineKey]*promql.Engine
	reg  prometheus.Registerer
}

type engineKey struct {
	maxSamples int
	timeout    time.Duration
}

func newEngines(base promql.EngineOpts, lim *limits.Overrides, reg prometheus.Registerer, maxConcurrent int) *engines {
	return &engines{base: base, limits: lim, gate: make(chan struct{}, maxConcurrent), byKL: map[engineKey]*promql.Engine{}, reg: reg}
}

func (e *engines) forContext(ctx context.Context) *promql.Engine {
	key := engineKey{maxSamples: 50000000, timeout: 2 * time.Minute}
	if ws, err := tenant.Workspace(ctx); err == nil && e.limits != nil {
		l := e.limits.For(ws)
		key = engineKey{maxSamples: l.MaxSamplesPerQuery, timeout: time.Duration(l.QueryTimeout)}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if eng, ok := e.byKL[key]; ok {
		return eng
	}
	o := e.base
	o.MaxSamples = key.maxSamples
	o.Timeout = key.timeout
	if len(e.byKL) == 0 {
		o.Reg = e.reg // the engine's own metrics, registered once
	}
	eng := promql.NewEngine(o)
	e.byKL[key] = eng
	return eng
}

func (e *engines) NewInstantQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, ts time.Time) (promql.Query, error) {
	return e.forContext(ctx).NewInstantQuery(ctx, q, opts, qs, ts)
}

func (e *engines) NewRangeQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, step time.Duration) (promql.Query, error) {
	return e.forContext(ctx).NewRangeQuery(ctx, q, opts, qs, start, end, step)
}

type noRules struct{}

func (noRules) RuleGroups() []*rules.Group           { return nil }
func (noRules) AlertingRules() []*rules.AlertingRule { return nil }
