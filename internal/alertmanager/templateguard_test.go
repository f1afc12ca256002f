package alertmanager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/alertmanager/config/receiver"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/amconfig"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tmplbound"
)

// bombDefinition is the finding's definition: l0 is 100 bytes, each level
// calls the one below ten times, the Slack text calls l6 (10^8 bytes).
func bombDefinition(apiURL string) string {
	var tf strings.Builder
	tf.WriteString(`{{ define "l0" }}` + strings.Repeat("x", 100) + `{{ end }}`)
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&tf, `{{ define "l%d" }}%s{{ end }}`, i, strings.Repeat(fmt.Sprintf(`{{ template "l%d" . }}`, i-1), 10))
	}
	return fmt.Sprintf(`template_files:
  bomb.tmpl: '%s'
alertmanager_config: |
  templates: [bomb.tmpl]
  route: {receiver: r, group_wait: 1s}
  receivers:
  - name: r
    slack_configs:
    - api_url: %s
      channel: '#alerts'
      text: '{{ template "l6" . }}'
`, tf.String(), apiURL)
}

// normalDefinition notifies with a template of its own and the default
// Slack fields.
func normalDefinition(apiURL string) string {
	return fmt.Sprintf(`template_files:
  t.tmpl: '{{ define "summary" }}{{ len .Alerts }} alerts: {{ range .Alerts }}{{ .Labels.instance }} {{ end }}{{ end }}'
alertmanager_config: |
  templates: [t.tmpl]
  route: {receiver: r, group_wait: 1s}
  receivers:
  - name: r
    slack_configs:
    - api_url: %s
      channel: '#alerts'
      text: '{{ template "summary" . }} {{ .CommonLabels.Values.Join ", " }}'
`, apiURL)
}

func testAlerts(n int) []*alert.Alert {
	out := make([]*alert.Alert, n)
	for i := range out {
		out[i] = &alert.Alert{Alert: model.Alert{
			Labels:      model.LabelSet{"alertname": "Down", "instance": model.LabelValue(fmt.Sprintf("host-%d", i))},
			Annotations: model.LabelSet{"summary": "down"},
			StartsAt:    time.Now().Add(-time.Minute),
		}}
	}
	return out
}

func notificationContext() context.Context {
	ctx := notify.WithReceiverName(context.Background(), "r")
	ctx = notify.WithGroupKey(ctx, "{}:{alertname=\"Down\"}")
	ctx = notify.WithGroupLabels(ctx, model.LabelSet{"alertname": "Down"})
	return notify.WithNotificationReason(ctx, notify.ReasonFirstNotification)
}

// slackIntegration builds the definition's real Slack integration behind
// guarded, as buildIntegrations does (without the firewall: the test's
// receiver is on loopback).
func slackIntegration(t *testing.T, def string) *guarded {
	t.Helper()
	lim := limits.Defaults()
	parsed, bases := definitionTemplates(t, def)
	ext, _ := url.Parse("http://kansoku.example/workspaces/ws/alertmanager")
	tmpl, err := parsed.Templates(bases.plain)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExternalURL = ext
	guard, err := newTemplateGuard(parsed, bases.instrumented, ext, "ws", limits.NewOverrides(lim), &sync.Mutex{})
	if err != nil {
		t.Fatal(err)
	}
	rcv := parsed.Config.Receivers[0]
	logger := slog.New(slog.DiscardHandler)
	integrations, err := receiver.BuildReceiverIntegrations(rcv, tmpl, logger)
	if err != nil || len(integrations) != 1 {
		t.Fatalf("integrations: %v %v", integrations, err)
	}
	inner := integrations[0]
	return &guarded{inner: &inner, throttled: prometheus.NewCounter(prometheus.CounterOpts{Name: "x"}), serverLog: logger,
		guard: guard, fields: guard.fields(integrationConfig(rcv, inner.Name(), inner.Index())), logger: logger}
}

type slackSink struct {
	*httptest.Server
	hits  atomic.Int64
	bytes atomic.Int64
	last  atomic.Value
}

func newSlackSink(t *testing.T) *slackSink {
	s := &slackSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.hits.Add(1)
		s.bytes.Add(int64(len(b)))
		s.last.Store(string(b))
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(s.Close)
	return s
}

// TestTemplateBombIsNotSent: the finding's definition, notified through
// Alertmanager's real Slack notifier: the dry run stops at
// max_template_output_bytes, the notification is not sent nor retried,
// and memory stays bounded.
func TestTemplateBombIsNotSent(t *testing.T) {
	sink := newSlackSink(t)
	g := slackIntegration(t, bombDefinition(sink.URL))
	if len(g.fields) == 0 {
		t.Fatal("no template field found in the Slack configuration")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	retry, err := g.Notify(notificationContext(), testAlerts(1)...)
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	t.Logf("refused in %s, %.1f MiB allocated: %v", took.Round(time.Millisecond), float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), err)
	// The output bound stops it; under -race on a busy machine the time
	// bound (dryRunTimeout) may come first, and stops it as well.
	if err == nil || !strings.Contains(err.Error(), "notification not sent: template output exceeds max_template_output_bytes (4194304 bytes)") &&
		!strings.Contains(err.Error(), "notification not sent: template took longer than "+dryRunTimeout.String()) {
		t.Fatalf("err = %v", err)
	}
	if retry {
		t.Error("a refused notification is retried")
	}
	var re *notify.ErrorWithReason
	if !errors.As(err, &re) || re.Reason != notify.ClientErrorReason {
		t.Errorf("err %T is not a client error", err)
	}
	if n := sink.hits.Load(); n != 0 {
		t.Fatalf("the receiver got %d requests (%d bytes)", n, sink.bytes.Load())
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 128<<20 {
		t.Errorf("the dry run allocated %d bytes", d)
	}
	if took > 2*dryRunTimeout {
		t.Errorf("the dry run took %s", took)
	}
}

// TestNormalNotificationIsSent: a definition within the bounds notifies,
// with the text its templates make.
func TestNormalNotificationIsSent(t *testing.T) {
	sink := newSlackSink(t)
	g := slackIntegration(t, normalDefinition(sink.URL))
	if _, err := g.Notify(notificationContext(), testAlerts(3)...); err != nil {
		t.Fatal(err)
	}
	body, _ := sink.last.Load().(string)
	if sink.hits.Load() != 1 || !strings.Contains(body, `3 alerts: host-0 host-1 host-2  Down`) {
		t.Fatalf("%d notifications, last %s", sink.hits.Load(), body)
	}
}

// TestDryRunMatchesTheNotifier: every template field of a configuration,
// instrumented and executed by the guard's template set, gives what the
// real template set gives.
func TestDryRunMatchesTheNotifier(t *testing.T) {
	lim := limits.Defaults()
	parsed, bases := definitionTemplates(t, normalDefinition("http://slack.example/x"))
	ext, _ := url.Parse("http://kansoku.example/workspaces/ws/alertmanager")
	real, err := parsed.Templates(bases.plain)
	if err != nil {
		t.Fatal(err)
	}
	real.ExternalURL = ext
	// The guard of a workspace alone on its shared trees, and the third of
	// three workspaces on others: each dry run charges what the other's
	// does (the shared trees are instrumented once, by no guard).
	other, err := newTemplateBases()
	if err != nil {
		t.Fatal(err)
	}
	var guards []*templateGuard
	for i, b := range []templateBases{bases, other, other, other} {
		guard, err := newTemplateGuard(parsed, b.instrumented, ext, fmt.Sprint("ws", i), limits.NewOverrides(lim), &sync.Mutex{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 || i == 3 {
			guards = append(guards, guard)
		}
	}
	conf := integrationConfig(parsed.Config.Receivers[0], "slack", 0)
	var texts []string
	templateStrings(reflect.ValueOf(conf), map[uintptr]bool{}, func(s string) { texts = append(texts, s) })
	if len(texts) < 5 {
		t.Fatalf("found %d template fields in a Slack configuration: %q", len(texts), texts)
	}
	data := notify.GetTemplateData(notificationContext(), real, testAlerts(5), slog.New(slog.DiscardHandler))
	for _, text := range texts {
		want, wantErr := real.ExecuteTextString(text, data)
		var steps []int
		for _, guard := range guards {
			src, ok := guard.instrument(text)
			if !ok {
				t.Fatalf("%q does not parse", text)
			}
			guard.mu.Lock()
			guard.budget = newTestBudget()
			got, err := guard.tmpl.ExecuteTextString(src, data)
			used, _ := guard.budget.Used()
			guard.budget = nil
			guard.mu.Unlock()
			if got != want || (err != nil) != (wantErr != nil) {
				t.Errorf("%s %q: dry run %q (%v), notifier %q (%v)", guard.ws, text, got, err, want, wantErr)
			}
			steps = append(steps, used)
		}
		if steps[0] != steps[1] || steps[0] == 0 {
			t.Errorf("%q: the two workspaces' dry runs took %v steps", text, steps)
		}
	}
}

// An empty {{define}} in a field does not replace the set's template of
// that name, in the dry run as in the notifier.
func TestEmptyDefineInAFieldKeepsTheSetsTemplate(t *testing.T) {
	lim := limits.Defaults()
	parsed, bases := definitionTemplates(t, normalDefinition("http://slack.example/x"))
	ext, _ := url.Parse("http://kansoku.example/")
	real, _ := parsed.Templates(bases.plain)
	real.ExternalURL = ext
	guard, err := newTemplateGuard(parsed, bases.instrumented, ext, "ws", limits.NewOverrides(lim), &sync.Mutex{})
	if err != nil {
		t.Fatal(err)
	}
	data := notify.GetTemplateData(notificationContext(), real, testAlerts(2), slog.New(slog.DiscardHandler))
	for _, text := range []string{`{{ define "summary" }} {{ end }}{{ template "summary" . }}`, `{{ define "fresh" }} {{ end }}[{{ template "fresh" . }}]`} {
		want, _ := real.ExecuteTextString(text, data)
		src, _ := guard.instrument(text)
		guard.budget = newTestBudget()
		got, err := guard.tmpl.ExecuteTextString(src, data)
		guard.budget = nil
		if err != nil || got != want {
			t.Errorf("%q: dry run %q (%v), notifier %q", text, got, err, want)
		}
	}
}

// definitionTemplates parses def, and builds the default templates a
// Manager shares among its workspaces.
func definitionTemplates(t *testing.T, def string) (*amconfig.Parsed, templateBases) {
	t.Helper()
	lim := limits.Defaults()
	parsed, err := amconfig.Parse([]byte(def), &lim, nil)
	if err != nil {
		t.Fatal(err)
	}
	bases, err := newTemplateBases()
	if err != nil {
		t.Fatal(err)
	}
	return parsed, bases
}

func newTestBudget() *tmplbound.Budget {
	return tmplbound.NewBudget(tmplbound.Limits{MaxOutputBytes: 1 << 20, MaxValueBytes: 1 << 20, MaxSteps: 100000, Timeout: 5 * time.Second})
}
