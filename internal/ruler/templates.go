package ruler

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/template"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tmplbound"
)

const (
	// dryRunTimeout is how long the dry run of one evaluation's templates
	// may take.
	dryRunTimeout = 2 * time.Second
	// evaluationTTL is how long the query results of an evaluation's dry
	// run are kept for its real expansion (which follows at once).
	evaluationTTL = 30 * time.Second
)

// templateDefs are the variables Prometheus defines before every label and
// annotation template (rules.AlertingRule.Eval).
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// templateGuard dry-runs the label and annotation templates of a
// workspace's alerting rules (finding F3). Prometheus expands them in
// AlertingRule.Eval, for every sample of the rule's result, with no bound
// on what they produce. The guard sits in the rule manager's QueryFunc:
// when an alerting rule queries its own expression, the guard runs the
// query, then expands the rule's templates for every sample of the result
// with Prometheus' own Expander, instrumented (package tmplbound), within
// the workspace's max_template_output_bytes and max_template_steps. A bound
// reached makes the query fail, so the rule's evaluation fails with that
// error (its health and the workspace log say so) and nothing is expanded.
// Otherwise the queries the templates made are kept for the evaluation and
// answer the real expansion's, which therefore sees the dry run's data and
// produces what the dry run did.
type templateGuard struct {
	ws          string
	limits      *limits.Overrides
	query       rules.QueryFunc // the engine's
	externalURL string          // the rules' .ExternalURL
	now         func() time.Time

	mu    sync.Mutex
	index map[ruleKey][]*guardedRule
	// evals are the evaluations whose dry run passed, by the context
	// AlertingRule.Eval made for them (rules.NewOriginContext): the real
	// expansion's queries carry that same context.
	evals  map[any]*evaluation
	pruned time.Time

	run sync.Mutex // one dry run of the workspace at a time: they are CPU only and bounded
}

// ruleKey is what rules.FromOriginContext tells of an alerting rule.
type ruleKey struct{ name, query string }

// guardedRule is one alerting rule's templates.
type guardedRule struct {
	offset    time.Duration // the group's query_offset: the rule queries ts-offset, expands at ts
	templates []ruleTemplate
}

type ruleTemplate struct {
	what   string // `label "severity"`, `annotation "summary"`
	text   string // the value as written
	source string // instrumented source of templateDefs+text; "" for a value without actions
	broken bool   // does not parse: expands to a short error message
}

// evaluation holds the query results of one evaluation's dry run. It is
// used by the goroutine evaluating the rule only.
type evaluation struct {
	started time.Time
	results map[queryKey]queryResult
}

type queryKey struct {
	query string
	ts    int64
}

type queryResult struct {
	v   promql.Vector
	err error
}

func newTemplateGuard(ws string, lim *limits.Overrides, query rules.QueryFunc, externalURL string) *templateGuard {
	return &templateGuard{ws: ws, limits: lim, query: query, externalURL: externalURL, now: time.Now,
		index: map[ruleKey][]*guardedRule{}, evals: map[any]*evaluation{}}
}

// load prepares the templates of groups, about to be loaded: until commit
// is called, rules of both the groups in force and the new ones are
// dry-run (an evaluation of an old rule may still be under way). commit
// keeps the new ones (ok) or the old ones.
func (g *templateGuard) load(groups map[string]*rulefmt.RuleGroups, p parser.Parser) (commit func(ok bool)) {
	next := indexRules(groups, p)
	g.mu.Lock()
	cur := g.index
	both := make(map[ruleKey][]*guardedRule, len(cur)+len(next))
	for k, rs := range cur {
		both[k] = append(both[k], rs...)
	}
	for k, rs := range next {
		both[k] = append(both[k], rs...)
	}
	g.index = both
	g.mu.Unlock()
	return func(ok bool) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if ok {
			g.index = next
		} else {
			g.index = cur
		}
	}
}

// indexRules maps the alerting rules of groups by name and expression (as
// the rule manager prints it) to their templates.
func indexRules(groups map[string]*rulefmt.RuleGroups, p parser.Parser) map[ruleKey][]*guardedRule {
	out := map[ruleKey][]*guardedRule{}
	for _, rgs := range groups {
		for _, rg := range rgs.Groups {
			var offset time.Duration
			if rg.QueryOffset != nil {
				offset = time.Duration(*rg.QueryOffset)
			}
			for _, r := range rg.Rules {
				if r.Alert == "" {
					continue
				}
				expr, err := p.ParseExpr(r.Expr)
				if err != nil {
					continue // the manager refuses the group
				}
				gr := &guardedRule{offset: offset}
				name := "__alert_" + r.Alert
				rules.FromMaps(rg.Labels, r.Labels).Range(func(l labels.Label) {
					gr.templates = append(gr.templates, prepare(name, fmt.Sprintf("label %q", l.Name), l.Value))
				})
				keys := make([]string, 0, len(r.Annotations))
				for k := range r.Annotations {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					gr.templates = append(gr.templates, prepare(name, fmt.Sprintf("annotation %q", k), r.Annotations[k]))
				}
				key := ruleKey{name: r.Alert, query: expr.String()}
				out[key] = append(out[key], gr)
			}
		}
	}
	return out
}

// prepare instruments one label or annotation value as Prometheus expands
// it: templateDefs+text, in a template named name.
func prepare(name, what, text string) ruleTemplate {
	t := ruleTemplate{what: what, text: text}
	if !strings.Contains(text, "{{") {
		return t // expands to itself
	}
	trees, err := tmplbound.Parse(name, templateDefs+text)
	if err != nil {
		t.broken = true
		return t
	}
	for _, tr := range trees {
		tmplbound.Instrument(tr)
	}
	t.source = tmplbound.Source(name, trees)
	return t
}

// QueryFunc is the rule manager's query function: queries of recording
// rules go to the engine; an alerting rule's own query is dry-run; the
// queries of an alerting rule's templates are answered from its dry run.
func (g *templateGuard) QueryFunc(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
	d := rules.FromOriginContext(ctx)
	if d.Kind != rules.KindAlerting {
		return g.query(ctx, qs, t)
	}
	key, cacheable := evalKey(ctx)
	g.mu.Lock()
	ev := g.evals[key]
	rs := g.index[ruleKey{name: d.Name, query: d.Query}]
	g.mu.Unlock()
	if ev != nil {
		// A query of the real expansion, as the dry run made it.
		if r, ok := ev.results[queryKey{qs, t.UnixMilli()}]; ok {
			return r.v, r.err
		}
		return g.query(ctx, qs, t)
	}
	if qs != d.Query || len(rs) == 0 {
		return g.query(ctx, qs, t)
	}
	res, err := g.query(ctx, qs, t)
	if err != nil || len(res) == 0 {
		return res, err
	}
	ev = &evaluation{started: g.now(), results: map[queryKey]queryResult{{qs, t.UnixMilli()}: {v: res}}}
	if err := g.dryRun(ctx, ev, d.Name, rs, res, t); err != nil {
		return nil, err
	}
	if cacheable {
		g.mu.Lock()
		g.evals[key] = ev
		g.prune()
		g.mu.Unlock()
	}
	return res, nil
}

// evalKey is the identity of an evaluation: the context AlertingRule.Eval
// made for it, if it can be a map key.
func evalKey(ctx context.Context) (any, bool) {
	return ctx, reflect.TypeOf(ctx).Comparable()
}

// prune forgets evaluations older than evaluationTTL, at most once a
// second. g.mu is held.
func (g *templateGuard) prune() {
	now := g.now()
	if now.Sub(g.pruned) < time.Second {
		return
	}
	g.pruned = now
	for k, ev := range g.evals {
		if now.Sub(ev.started) > evaluationTTL {
			delete(g.evals, k)
		}
	}
}

// dryRun expands the templates of rs for every sample of res, the result
// of their query at t, as AlertingRule.Eval would, within one budget.
func (g *templateGuard) dryRun(ctx context.Context, ev *evaluation, name string, rs []*guardedRule, res promql.Vector, t time.Time) error {
	g.run.Lock()
	defer g.run.Unlock()
	lim := g.limits.For(g.ws)
	b := tmplbound.NewBudget(tmplbound.Limits{
		MaxOutputBytes: lim.MaxTemplateOutputBytes,
		MaxValueBytes:  lim.MaxTemplateOutputBytes,
		MaxSteps:       lim.MaxTemplateSteps,
		Timeout:        dryRunTimeout,
	})
	funcs := b.Funcs(tmplbound.Prometheus)
	query := func(_ context.Context, q string, qt time.Time) (promql.Vector, error) {
		return g.templateQuery(ctx, ev, b, q, qt)
	}
	externalLabels := labels.EmptyLabels().Map()
	for _, r := range rs {
		ts := model.Time(timestamp.FromTime(t.Add(r.offset)))
		for _, smpl := range res {
			if err := b.Steps(1); err != nil {
				return err
			}
			if smpl.H != nil {
				smpl.H = smpl.H.Copy() // a template may call the histogram's methods
			}
			data := template.AlertTemplateData(smpl.Metric.Map(), externalLabels, g.externalURL, smpl)
			for _, tp := range r.templates {
				if tp.broken {
					continue
				}
				if tp.source == "" {
					if err := b.Output(len(tp.text)); err != nil {
						return fmt.Errorf("%s: %w", tp.what, err)
					}
					continue
				}
				exp := template.NewTemplateExpander(ctx, tp.source, "__alert_"+name, data, ts, query, nil, nil)
				exp.Funcs(funcs)
				_, _ = exp.Expand() // errors other than a bound end up in the alert, as Prometheus writes them
				if err := b.Err(); err != nil {
					return fmt.Errorf("%s: %w", tp.what, err)
				}
			}
		}
	}
	return nil
}

// templateQuery answers a dry run's template query, from its evaluation
// when it made that query already, and charges its result's size to b.
func (g *templateGuard) templateQuery(ctx context.Context, ev *evaluation, b *tmplbound.Budget, q string, t time.Time) (promql.Vector, error) {
	k := queryKey{q, t.UnixMilli()}
	r, ok := ev.results[k]
	if !ok {
		r.v, r.err = g.query(ctx, q, t)
		ev.results[k] = r
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := b.Value(vectorSize(r.v)); err != nil {
		return nil, err
	}
	if err := b.Steps(len(r.v)); err != nil {
		return nil, err
	}
	// A copy: templates may call the methods of histograms, which change
	// them, and the real expansion must see the same result.
	out := make(promql.Vector, len(r.v))
	copy(out, r.v)
	for i := range out {
		if out[i].H != nil {
			out[i].H = out[i].H.Copy()
		}
	}
	return out, nil
}

// vectorSize approximates the bytes of v as a template sees it.
func vectorSize(v promql.Vector) int {
	n := 0
	for _, s := range v {
		n += 32 + int(s.Metric.ByteSize()) // labels, value
		if s.H != nil {
			n += 16 * (len(s.H.PositiveBuckets) + len(s.H.NegativeBuckets) + len(s.H.CustomValues))
		}
	}
	return n
}
