package alertmanager

import (
	"context"
	"fmt"
	tmplhtml "html/template"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"sync"
	tmpltext "text/template"
	"text/template/parse"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"

	"github.com/kansoku/kansoku/internal/amconfig"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tmplbound"
)

// templateBases are Alertmanager's default templates, parsed once per
// Manager and shared by every workspace's template sets: plain for the
// notifiers, instrumented (text only) for the template guard. Parsed per
// definition they took about 0.8 MB of heap per workspace.
type templateBases struct {
	plain, instrumented *amconfig.BaseTemplates
}

func newTemplateBases() (templateBases, error) {
	plain, err := amconfig.NewBaseTemplates()
	if err != nil {
		return templateBases{}, err
	}
	return templateBases{plain: plain, instrumented: plain.TextCopy(tmplbound.Instrument)}, nil
}

// dryRunTimeout is how long the dry run of one notification's templates
// may take.
const dryRunTimeout = 2 * time.Second

// templateGuard dry-runs a definition's notification templates before each
// notification (finding F3): the notifiers execute the templates of their
// configuration's fields with no bound, so the same fields are first
// executed, on the same data, with an instrumented copy of the same
// template set (package tmplbound) within the workspace's
// max_template_output_bytes and max_template_steps. Template execution is
// deterministic, so a notification whose dry run stayed within the bounds
// executes to what the dry run produced.
type templateGuard struct {
	ws     string
	limits *limits.Overrides
	// tmpl is the definition's template set, every tree instrumented; its
	// functions charge budget.
	tmpl *template.Template
	text *tmpltext.Template
	// mu (the instance's) makes a workspace's dry runs one at a time: they
	// are CPU only and bounded, and budget is the running one's.
	mu     *sync.Mutex
	budget *tmplbound.Budget
}

// newTemplateGuard builds the instrumented template set of a definition on
// base, the default templates already instrumented (shared by every
// workspace's guard; see templateBases).
func newTemplateGuard(parsed *amconfig.Parsed, base *amconfig.BaseTemplates, extURL *url.URL, ws string, lim *limits.Overrides, mu *sync.Mutex) (*templateGuard, error) {
	g := &templateGuard{ws: ws, limits: lim, mu: mu}
	funcs := tmplbound.FuncMap(tmplbound.Alertmanager, func() *tmplbound.Budget { return g.budget })
	tmpl, err := parsed.Templates(base, func(text *tmpltext.Template, _ *tmplhtml.Template) {
		g.text = text
		text.Funcs(funcs)
	})
	if err != nil {
		return nil, err
	}
	// template.New adds Alertmanager's functions after the options: put the
	// checked ones back over them. Clones (ExecuteTextString clones the set)
	// copy the function map.
	g.text.Funcs(funcs)
	// Instrument the definition's own templates; the shared ones are, and
	// instrumenting them again would charge twice (and write to trees other
	// workspaces read).
	for _, t := range g.text.Templates() {
		if t.Tree != nil && !base.Shared(t.Name(), t.Tree) {
			tmplbound.Instrument(t.Tree)
		}
	}
	tmpl.ExternalURL = extURL
	g.tmpl = tmpl
	return g, nil
}

// fields returns the instrumented source of every field of conf (an
// integration's configuration) that holds a template: every string with
// "{{" in it, wherever it is (string fields, secrets, map keys and values,
// lists, nested structures).
func (g *templateGuard) fields(conf any) []string {
	var out []string
	templateStrings(reflect.ValueOf(conf), map[uintptr]bool{}, func(s string) {
		if src, ok := g.instrument(s); ok {
			out = append(out, src)
		}
	})
	return out
}

// instrument returns text's instrumented source, to execute as the
// notifiers execute text (ExecuteTextString parses it into a clone of the
// set), false if it does not parse (the notifier fails on it too).
func (g *templateGuard) instrument(text string) (string, bool) {
	trees, err := tmplbound.Parse("", text)
	if err != nil {
		return "", false
	}
	for name, t := range trees {
		if parse.IsEmptyTree(t.Root) {
			// An empty {{define}} does not replace a template of the set,
			// an instrumented one would: drop it where one exists. An empty
			// main template runs once and prints only what it holds.
			if name == "" {
				continue
			}
			if g.text.Lookup(name) != nil {
				delete(trees, name)
				continue
			}
		}
		tmplbound.Instrument(t)
	}
	return tmplbound.Source("", trees), true
}

// dryRun executes fields for the notification of alerts in ctx (receiver,
// group labels, as the notifiers read them) within the workspace's
// bounds, and returns the bound reached, if any.
func (g *templateGuard) dryRun(ctx context.Context, fields []string, alerts []*alert.Alert, logger *slog.Logger) error {
	data := notify.GetTemplateData(ctx, g.tmpl, alerts, logger)
	lim := g.limits.For(g.ws)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.budget = tmplbound.NewBudget(tmplbound.Limits{
		MaxOutputBytes: lim.MaxTemplateOutputBytes,
		MaxValueBytes:  lim.MaxTemplateOutputBytes,
		MaxSteps:       lim.MaxTemplateSteps,
		Timeout:        dryRunTimeout,
	})
	defer func() { g.budget = nil }()
	for _, f := range fields {
		// Errors other than a bound are the notifier's to report.
		_, _ = g.tmpl.ExecuteTextString(f, data)
		if err := g.budget.Err(); err != nil {
			return fmt.Errorf("notification not sent: %w", err)
		}
	}
	return nil
}

// integrationConfig returns the configuration of a receiver's integration
// (BuildReceiverIntegrations names an integration after its field,
// slack_configs -> "slack", and numbers it within the field), or the whole
// receiver when it cannot be told.
func integrationConfig(rcv config.Receiver, name string, idx int) any {
	v := reflect.ValueOf(rcv)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != name+"_configs" {
			continue
		}
		if f := v.Field(i); f.Kind() == reflect.Slice && idx < f.Len() {
			return f.Index(idx).Interface()
		}
	}
	return rcv
}

// templateStrings calls found for every string in v holding "{{".
func templateStrings(v reflect.Value, seen map[uintptr]bool, found func(string)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		templateStrings(v.Elem(), seen, found)
	case reflect.Interface:
		if !v.IsNil() {
			templateStrings(v.Elem(), seen, found)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				templateStrings(v.Field(i), seen, found)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			templateStrings(v.Index(i), seen, found)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			templateStrings(it.Key(), seen, found)
			templateStrings(it.Value(), seen, found)
		}
	case reflect.String:
		if s := v.String(); strings.Contains(s, "{{") {
			found(s)
		}
	}
}
