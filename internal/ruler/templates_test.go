package ruler

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/querycost"
	"github.com/kansoku/kansoku/internal/rulegroups"
)

// nestedDefines is the finding's annotation: l0 is 100 bytes, each level
// calls the one below ten times, l5 is 10^7 bytes.
func nestedDefines() string {
	var b strings.Builder
	b.WriteString(`{{ define "l0" }}` + strings.Repeat("x", 100) + `{{ end }}`)
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, `{{ define "l%d" }}%s{{ end }}`, i, strings.Repeat(fmt.Sprintf(`{{ template "l%d" . }}`, i-1), 10))
	}
	return b.String() + `{{ template "l5" . }}`
}

const ruleFile = `groups:
- name: g
  rules:
  - alert: Bomb
    expr: up == 1
    annotations:
      summary: '%s'
  - alert: Doubling
    expr: up == 1
    annotations:
      summary: '{{ $x := $labels.instance }}{{ range 40 }}{{ $x = printf "%%s%%s" $x $x }}{{ end }}{{ $x }}'
  - alert: Normal
    expr: up == 1
    labels:
      severity: '{{ if gt $value 0.5 }}page{{ else }}ticket{{ end }}'
      team: sre
    annotations:
      summary: '{{ $labels.instance }} is at {{ $value | humanize }}'
      ups: '{{ with query "sum(up)" }}{{ . | first | value }}{{ end }}'
`

// fakeEngine answers the rules' queries and counts them.
type fakeEngine struct{ calls map[string]*atomic.Int64 }

func (f *fakeEngine) query(_ context.Context, qs string, t time.Time) (promql.Vector, error) {
	if c := f.calls[qs]; c != nil {
		c.Add(1)
	}
	switch qs {
	case "up == 1":
		return promql.Vector{{Metric: labels.FromStrings("__name__", "up", "instance", "host-1:9100", "job", "node"), F: 1, T: t.UnixMilli()}}, nil
	case "sum(up)":
		return promql.Vector{{Metric: labels.EmptyLabels(), F: 3, T: t.UnixMilli()}}, nil
	}
	return nil, fmt.Errorf("unexpected query %q", qs)
}

func loadRules(t *testing.T) (*templateGuard, map[string]*rules.AlertingRule, *fakeEngine) {
	t.Helper()
	lim := limits.Defaults()
	text := fmt.Sprintf(ruleFile, nestedDefines())
	groups, _, err := rulegroups.Validate("ns", []byte(text), &lim)
	if err != nil {
		t.Fatal(err)
	}
	p := querycost.NewParser(querycost.Of(&lim))
	eng := &fakeEngine{calls: map[string]*atomic.Int64{"up == 1": {}, "sum(up)": {}}}
	g := newTemplateGuard("ws", limits.NewOverrides(lim), eng.query, "http://kansoku.example/workspaces/ws")
	g.load(map[string]*rulefmt.RuleGroups{"ns": groups}, p)(true)
	out := map[string]*rules.AlertingRule{}
	for _, r := range groups.Groups[0].Rules {
		expr, err := p.ParseExpr(r.Expr)
		if err != nil {
			t.Fatal(err)
		}
		out[r.Alert] = rules.NewAlertingRule(r.Alert, expr, 0, 0, labels.FromMap(r.Labels), labels.FromMap(r.Annotations),
			labels.EmptyLabels(), "http://kansoku.example/workspaces/ws", true, slog.New(slog.DiscardHandler))
	}
	return g, out, eng
}

// TestRuleTemplateBombsFail: Prometheus' own AlertingRule.Eval, through the
// guard, fails with the bound for the finding's annotation and for a loop
// doubling a variable, and makes no alert.
func TestRuleTemplateBombsFail(t *testing.T) {
	g, rs, _ := loadRules(t)
	for name, want := range map[string]string{
		"Bomb":     `annotation "summary": template output exceeds max_template_output_bytes (4194304 bytes)`,
		"Doubling": `annotation "summary": a template value of`,
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := rs[name].Eval(context.Background(), 0, time.Now(), g.QueryFunc, nil, 0)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		t.Logf("%s: refused in %s, %.1f MiB allocated: %v", name, took.Round(time.Millisecond), float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), err)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v; want %q", name, err, want)
		}
		if n := len(rs[name].ActiveAlerts()); n != 0 {
			t.Errorf("%s: %d alerts", name, n)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 128<<20 {
			t.Errorf("%s: allocated %d bytes", name, d)
		}
		if took > 3*time.Second {
			t.Errorf("%s: took %s", name, took)
		}
	}
}

// TestNormalRuleTemplatesExpand: a templated rule fires with its labels
// and annotations expanded, and its template query runs once: the real
// expansion is answered from the dry run.
func TestNormalRuleTemplatesExpand(t *testing.T) {
	g, rs, eng := loadRules(t)
	if _, err := rs["Normal"].Eval(context.Background(), 0, time.Now(), g.QueryFunc, nil, 0); err != nil {
		t.Fatal(err)
	}
	alerts := rs["Normal"].ActiveAlerts()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts", len(alerts))
	}
	a := alerts[0]
	if got := a.Annotations.Get("summary"); got != "host-1:9100 is at 1" {
		t.Errorf("summary %q", got)
	}
	if got := a.Annotations.Get("ups"); got != "3" {
		t.Errorf("ups %q", got)
	}
	if got := a.Labels.Get("severity"); got != "page" {
		t.Errorf("severity %q", got)
	}
	if n := eng.calls["sum(up)"].Load(); n != 1 {
		t.Errorf("the template query ran %d times; want once (dry run), the real expansion answered from it", n)
	}
	if n := eng.calls["up == 1"].Load(); n != 1 {
		t.Errorf("the rule's query ran %d times", n)
	}
}

// Recording rules and rules the guard does not know go straight to the
// engine.
func TestOtherQueriesPassThrough(t *testing.T) {
	g, _, eng := loadRules(t)
	ctx := rules.NewOriginContext(context.Background(), rules.RuleDetail{Name: "r", Query: "sum(up)", Kind: rules.KindRecording})
	if v, err := g.QueryFunc(ctx, "sum(up)", time.Now()); err != nil || len(v) != 1 {
		t.Fatal(v, err)
	}
	ctx = rules.NewOriginContext(context.Background(), rules.RuleDetail{Name: "Unknown", Query: "up == 1", Kind: rules.KindAlerting})
	if v, err := g.QueryFunc(ctx, "up == 1", time.Now()); err != nil || len(v) != 1 {
		t.Fatal(v, err)
	}
	if n := eng.calls["sum(up)"].Load() + eng.calls["up == 1"].Load(); n != 2 {
		t.Errorf("%d engine queries; want 2", n)
	}
}

// While new rules load, the old ones are dry-run too: an evaluation of the
// old rule may be under way.
func TestLoadKeepsOldRulesUntilCommitted(t *testing.T) {
	g, _, _ := loadRules(t)
	lim := limits.Defaults()
	groups, _, err := rulegroups.Validate("ns", []byte("groups:\n- name: g\n  rules:\n  - alert: Bomb\n    expr: up == 1\n    annotations: {summary: fine}\n"), &lim)
	if err != nil {
		t.Fatal(err)
	}
	commit := g.load(map[string]*rulefmt.RuleGroups{"ns": groups}, querycost.NewParser(querycost.Of(&lim)))
	if n := len(g.index[ruleKey{"Bomb", "up == 1"}]); n != 2 {
		t.Fatalf("while loading, %d versions of Bomb are dry-run; want 2", n)
	}
	commit(true)
	if n := len(g.index[ruleKey{"Bomb", "up == 1"}]); n != 1 {
		t.Fatalf("after loading, %d versions of Bomb are dry-run; want 1", n)
	}
	if _, ok := g.index[ruleKey{"Normal", "up == 1"}]; ok {
		t.Fatal("a removed rule is still indexed")
	}
}
