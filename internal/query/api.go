// Package query is the read path: the Prometheus HTTP query API
// (/api/v1/query, query_range, labels, label values, series, metadata,
// rules, alerts) for one workspace at a time. It reuses Prometheus' own
// web/api/v1 handlers, so responses are Prometheus' byte for byte, over a
// Queryable that resolves the workspace from the request context, and the
// Prometheus PromQL engine with per-step statistics on (stats=all).
package query

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grafana/regexp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/route"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	v1 "github.com/prometheus/prometheus/web/api/v1"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/querycost"
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
	// MaxInflightSamples is the samples budget of all running queries
	// (each reserves its workspace's max_samples_per_query); 0: none.
	MaxInflightSamples int64
	// Rules returns the rule groups of the workspace in ctx (/api/v1/rules
	// and /api/v1/alerts). Nil: no rules.
	Rules func(ctx context.Context) v1.RulesRetriever
	// Remote, when set, serves the endpoints that read samples or the
	// index (query, query_range, query_exemplars, series, labels, label
	// values) in place of the local engine: the scale-out store's
	// query path (cortex.Store.QueryHandler). Admission and the query
	// cost checks still run here first.
	Remote http.Handler
	// ResultsCache, when set, splits range queries by day and caches the
	// results of their steps older than its max_freshness
	// (resultscache.go); the write path must call its Invalidate on
	// every commit.
	ResultsCache *ResultsCache
	// Shards, above 1, evaluates shardable aggregations over that many
	// shards of the series at once (shard.go). The storage must support
	// SelectHints.ShardCount (tenantdb with sharding on).
	Shards int
	// ShardMinSeries: a query whose selectors match fewer series is not
	// sharded (with a storage that counts them: SeriesCounter).
	ShardMinSeries int
	// Observe, when set, is told of every query the engine ran (API and
	// rule queries alike) once it finished: its samples processed and
	// outcome (query logging, per-workspace QSP usage).
	Observe func(ctx context.Context, e Executed)
}

// Executed describes one finished PromQL query.
type Executed struct {
	Workspace string
	Query     string
	// Start and End are equal, and Step zero, for an instant query.
	Start, End time.Time
	Step       time.Duration
	// Samples is the query's samples processed (QSP): Prometheus'
	// TotalSamples, stats.samples.totalQueryableSamples of stats=all.
	Samples  int64
	Duration time.Duration
	// Err is the query's error (nil: it succeeded).
	Err error
}

// API serves the Prometheus query API for the workspace in the request
// context. Requests reach it with paths starting /api/v1/.
type API struct {
	remote    http.Handler
	router    *route.Router
	gate      *Gate
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
	if opts.Limits == nil {
		opts.Limits = limits.NewOverrides(limits.Defaults())
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	gate := NewGate(GateOptions{MaxConcurrent: opts.MaxConcurrent, MaxInflightSamples: opts.MaxInflightSamples}, opts.Limits, opts.Registerer)
	eng := newEngines(promql.EngineOpts{
		Logger:               opts.Logger.With("component", "promql"),
		LookbackDelta:        opts.LookbackDelta,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		EnablePerStepStats:   true,
		NoStepSubqueryIntervalFn: func(int64) int64 {
			return time.Minute.Milliseconds()
		},
	}, opts.Limits, opts.Registerer, gate)
	eng.cache = opts.ResultsCache
	eng.shards = opts.Shards
	if c, ok := st.(SeriesCounter); ok && opts.ShardMinSeries > 0 {
		eng.minSeries, eng.countSeries = opts.ShardMinSeries, c.CountSeries
		eng.countValues = c.CountLabelValues
	}
	eng.observe = opts.Observe

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
		// format_query, parse_query, exemplars and match[] selectors parse
		// with the default expression limits.
		querycost.NewParser(querycost.Of(ptr(opts.Limits.Defaults()))),
	)
	r := route.New().WithPrefix("/api/v1")
	api.Register(r)
	return &API{remote: opts.Remote, router: r, gate: gate, engines: eng, metadata: &metadataHandler{store: md}, queryable: q}
}

// gated are the endpoints that read samples or the index: each request
// waits for its workspace's and a global slot first.
var gated = map[string]bool{
	"/api/v1/query": true, "/api/v1/query_range": true, "/api/v1/query_exemplars": true,
	"/api/v1/series": true, "/api/v1/labels": true,
}

// ServeHTTP serves one /api/v1/... request; the workspace must already be
// in the request context.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, err := tenant.Workspace(r.Context()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if r.URL.Path == "/api/v1/query_range" { // the only endpoint the results cache serves
		r = bypassResultsCache(r)
	}
	if r.URL.Path == "/api/v1/metadata" {
		a.metadata.ServeHTTP(w, r)
		return
	}
	if gated[r.URL.Path] || strings.HasPrefix(r.URL.Path, "/api/v1/label/") {
		ws, _ := tenant.Workspace(r.Context())
		ctx, release, err := a.gate.Admit(r.Context(), ws)
		if err != nil {
			var full *ErrTooManyQueries
			switch {
			case errors.As(err, &full):
				w.Header().Set("Retry-After", "1")
				WriteError(w, http.StatusTooManyRequests, ErrorUnavailable, err.Error())
			case errors.As(err, new(promql.ErrQueryTimeout)):
				WriteError(w, http.StatusServiceUnavailable, ErrorTimeout, err.Error())
			default:
				WriteError(w, 499, ErrorCanceled, err.Error())
			}
			return
		}
		defer release()
		r = r.WithContext(ctx)
		if a.remote != nil {
			a.serveRemote(w, r)
			return
		}
	}
	a.router.ServeHTTP(w, r)
}

// serveRemote checks a query's cost as the local engine would, then hands
// the request to the remote query path.
func (a *API) serveRemote(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/v1/query" || r.URL.Path == "/api/v1/query_range" {
		if err := r.ParseForm(); err != nil {
			WriteError(w, http.StatusBadRequest, ErrorBadData, err.Error())
			return
		}
		var span time.Duration
		if r.URL.Path == "/api/v1/query_range" {
			start, err1 := parseTime(r.Form.Get("start"))
			end, err2 := parseTime(r.Form.Get("end"))
			if err := errors.Join(err1, err2); err != nil {
				WriteError(w, http.StatusBadRequest, ErrorBadData, err.Error())
				return
			}
			span = end.Sub(start)
		}
		eng, _ := a.engines.forContext(r.Context())
		if err := a.engines.check(r.Context(), eng, r.Form.Get("query"), span); err != nil {
			WriteError(w, http.StatusBadRequest, ErrorBadData, err.Error())
			return
		}
		// The workspace's query timeout bounds the client's.
		timeout := eng.key.timeout
		if s := r.Form.Get("timeout"); s != "" {
			d, err := parseDuration(s)
			if err != nil {
				WriteError(w, http.StatusBadRequest, ErrorBadData, fmt.Sprintf("invalid parameter \"timeout\": %v", err))
				return
			}
			if timeout == 0 || d < timeout {
				timeout = d
			}
		}
		if timeout > 0 {
			setForm(r, "timeout", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64)+"s")
		}
		// An instant query without a time is evaluated now, to the
		// millisecond, as Prometheus does (Cortex would take the second).
		if r.URL.Path == "/api/v1/query" && r.Form.Get("time") == "" {
			setForm(r, "time", strconv.FormatFloat(float64(time.Now().UnixMilli())/1000, 'f', 3, 64))
		}
		var observed *remoteQuery
		if a.engines.observe != nil {
			ws, _ := tenant.Workspace(r.Context())
			observed = newRemoteQuery(r, ws)
		}
		// The form was read: send it on as the body.
		if r.Method == http.MethodPost {
			body := r.PostForm.Encode()
			r.Body = io.NopCloser(strings.NewReader(body))
			r.ContentLength = int64(len(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if observed != nil {
			a.serveObserved(w, r, observed, a.engines.observe)
			return
		}
	}
	a.remote.ServeHTTP(w, r)
}

// setForm sets a parameter where the request carries its parameters: the
// body of a POST form, the URL of a GET.
func setForm(r *http.Request, k, v string) {
	if r.Method == http.MethodPost {
		r.PostForm.Set(k, v)
		return
	}
	q := r.URL.Query()
	q.Set(k, v)
	r.URL.RawQuery = q.Encode()
}

// parseDuration reads a Prometheus API duration: seconds, or 1m30s.
func parseDuration(s string) (time.Duration, error) {
	if d, err := strconv.ParseFloat(s, 64); err == nil {
		if d <= 0 || d > float64(math.MaxInt64/int64(time.Second)) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
		}
		return time.Duration(d * float64(time.Second)), nil
	}
	d, err := model.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
	}
	return time.Duration(d), nil
}

// parseTime reads a Prometheus API time: RFC 3339 or Unix seconds.
func parseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(t)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// Gate returns the query admission control (to forget deleted workspaces).
func (a *API) Gate() *Gate { return a.gate }

// Engine returns the PromQL engine used for a workspace (the ruler runs its
// rules on the same engines).
func (a *API) Engine() promql.QueryEngine { return a.engines }

// Queryable returns the tenant-scoped, limit-checked queryable the engine
// reads (the ruler evaluates through it too).
func (a *API) Queryable() storage.Queryable { return a.queryable }

// engines hands each workspace an engine built for its query limits
// (samples per query, timeout, expression limits); workspaces with the
// same limits share one. Every query is checked against the workspace's
// expression limits before it is built and reserves its samples from the
// gate's budget before it runs.
type engines struct {
	base   promql.EngineOpts
	limits *limits.Overrides
	gate   *Gate
	// observe is Options.Observe.
	observe func(ctx context.Context, e Executed)

	mu   sync.Mutex
	byKL map[engineKey]*engine
	reg  prometheus.Registerer

	cache *ResultsCache // nil: no splitting and caching
	// shards is Options.Shards; minSeries and countSeries its minimum.
	shards      int
	minSeries   int
	countSeries func(ctx context.Context, ws string, mint, maxt int64, upTo int, matchers ...*labels.Matcher) (int, error)
	countValues func(ctx context.Context, ws string, mint, maxt int64, name string, upTo int) (int, error)
}

type engineKey struct {
	maxSamples int
	timeout    time.Duration
	expr       querycost.Limits
}

type engine struct {
	*promql.Engine
	parser *querycost.Parser
	key    engineKey
	// With sharding on (shards > 1): outer runs a query whose shardable
	// aggregations were rewritten (shard.go), shard runs one shard of an
	// aggregation under max_samples/shards.
	outer, shard *promql.Engine
	shards       int
	minSeries    int
	countSeries  func(ctx context.Context, ws string, mint, maxt int64, upTo int, matchers ...*labels.Matcher) (int, error)
	countValues  func(ctx context.Context, ws string, mint, maxt int64, name string, upTo int) (int, error)
}

func newEngines(base promql.EngineOpts, lim *limits.Overrides, reg prometheus.Registerer, gate *Gate) *engines {
	return &engines{base: base, limits: lim, gate: gate, byKL: map[engineKey]*engine{}, reg: reg}
}

func keyOf(l *limits.Limits) engineKey {
	return engineKey{maxSamples: l.MaxSamplesPerQuery, timeout: time.Duration(l.QueryTimeout), expr: querycost.Of(l)}
}

func (e *engines) forContext(ctx context.Context) (*engine, string) {
	ws, _ := tenant.Workspace(ctx)
	var key engineKey
	if e.limits != nil {
		key = keyOf(e.limits.For(ws))
	} else {
		key = keyOf(ptr(limits.Defaults()))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if eng, ok := e.byKL[key]; ok {
		return eng, ws
	}
	o := e.base
	o.MaxSamples = key.maxSamples
	o.Timeout = key.timeout
	p := querycost.NewParser(key.expr)
	o.Parser = p
	if len(e.byKL) == 0 {
		o.Reg = e.reg // the engine's own metrics, registered once
	}
	eng := newEngine(o, parser.NewParser(parser.Options{}), e.shards)
	eng.parser, eng.key = p, key
	eng.minSeries, eng.countSeries, eng.countValues = e.minSeries, e.countSeries, e.countValues
	e.byKL[key] = eng
	return eng, ws
}

func ptr[T any](v T) *T { return &v }

// newEngine builds an engine from o; with shards > 1 also the engines of
// sharded queries, whose rewrites and nodes parse with plain (the query
// was checked against the expression limits before).
func newEngine(o promql.EngineOpts, plain parser.Parser, shards int) *engine {
	eng := &engine{Engine: promql.NewEngine(o)}
	if shards > 1 {
		o.Reg = nil // the engine's metrics are registered once
		o.Parser = shardingParser{plain}
		eng.outer = promql.NewEngine(o)
		o.Parser = plain
		if o.MaxSamples > 0 {
			// The shards together hold at most the query's samples.
			o.MaxSamples = (o.MaxSamples + shards - 1) / shards
		}
		eng.shard = promql.NewEngine(o)
		eng.shards = shards
	}
	return eng
}

// check refuses, before the engine parses and plans it, a query over its
// workspace's expression limits: size and nesting before parsing, depth
// and subquery steps after.
func (e *engines) check(ctx context.Context, eng *engine, qs string, span time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	expr, err := eng.parser.ParseExpr(qs)
	if err != nil {
		return err
	}
	return eng.key.expr.CheckSubquerySteps(expr, span, time.Duration(e.base.NoStepSubqueryIntervalFn(0))*time.Millisecond)
}

func (e *engines) NewInstantQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, ts time.Time) (promql.Query, error) {
	eng, ws := e.forContext(ctx)
	if err := e.check(ctx, eng, qs, 0); err != nil {
		return nil, err
	}
	qry, err := eng.newQuery(ctx, q, opts, qs, ts, ts, 0, true)
	if err != nil {
		return nil, err
	}
	return &gatedQuery{Query: qry, gate: e.gate, ws: ws, samples: int64(eng.key.maxSamples), timeout: eng.key.timeout,
		observe: e.observe, qs: qs, start: ts, end: ts}, nil
}

func (e *engines) NewRangeQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, step time.Duration) (promql.Query, error) {
	eng, ws := e.forContext(ctx)
	if err := e.check(ctx, eng, qs, end.Sub(start)); err != nil {
		return nil, err
	}
	qry, err := eng.newQuery(ctx, q, opts, qs, start, end, step, false)
	if err != nil {
		return nil, err
	}
	qry = e.cache.newSplitQuery(ctx, qry, eng, q, opts, ws, qs, start, end, step)
	return &gatedQuery{Query: qry, gate: e.gate, ws: ws, samples: int64(eng.key.maxSamples), timeout: eng.key.timeout,
		observe: e.observe, qs: qs, start: start, end: end, step: step}, nil
}

// newQuery returns the engine's query, sharded when it can be.
func (eng *engine) newQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, step time.Duration, instant bool) (promql.Query, error) {
	sq, err := eng.newShardedQuery(ctx, q, opts, qs, start, end, step, instant)
	if err != nil || sq != nil {
		return sq, err
	}
	if instant {
		return eng.NewInstantQuery(ctx, q, opts, qs, start)
	}
	return eng.NewRangeQuery(ctx, q, opts, qs, start, end, step)
}

// gatedQuery reserves the query's samples (and, outside the HTTP API, a
// global slot) before it runs, waiting at most the query timeout.
type gatedQuery struct {
	promql.Query
	gate    *Gate
	ws      string
	samples int64
	timeout time.Duration
	// observe, qs, start, end and step report the finished query.
	observe    func(ctx context.Context, e Executed)
	qs         string
	start, end time.Time
	step       time.Duration
}

func (q *gatedQuery) Exec(ctx context.Context) *promql.Result {
	if q.observe == nil {
		return q.exec(ctx)
	}
	began := time.Now()
	res := q.exec(ctx)
	e := Executed{Workspace: q.ws, Query: q.qs, Start: q.start, End: q.end, Step: q.step, Duration: time.Since(began), Err: res.Err}
	if st := q.Query.Stats(); st != nil && st.Samples != nil {
		e.Samples = st.Samples.TotalSamples
	}
	q.observe(ctx, e)
	return res
}

func (q *gatedQuery) exec(ctx context.Context) *promql.Result {
	if q.gate == nil {
		return q.Query.Exec(ctx)
	}
	if _, ok := ctx.Deadline(); !ok && q.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.timeout)
		defer cancel()
	}
	release, err := q.gate.reserve(ctx, q.ws, q.samples)
	if err != nil {
		return &promql.Result{Err: err}
	}
	defer release()
	return q.Query.Exec(ctx)
}

type noRules struct{}

func (noRules) RuleGroups() []*rules.Group           { return nil }
func (noRules) AlertingRules() []*rules.AlertingRule { return nil }
