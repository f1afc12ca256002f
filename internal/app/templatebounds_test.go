package app_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/testenv"
)

// F3 (template output has no size limit): the finding's reproductions, end
// to end.

// nestedTemplates defines l0 (leaf) and l1..levels, each calling the one
// below fanout times.
func nestedTemplates(fanout, levels int, leaf string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{{ define "l0" }}%s{{ end }}`, leaf)
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, `{{ define "l%d" }}%s{{ end }}`, i, strings.Repeat(fmt.Sprintf(`{{ template "l%d" . }}`, i-1), fanout))
	}
	return b.String()
}

// slackSink is a real HTTP receiver standing for Slack's API.
type slackSink struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newSlackSink(t *testing.T) *slackSink {
	s := &slackSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, string(b))
		s.mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *slackSink) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// rss is the process's resident set size.
func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// The finding's definition (l6 is 10^8 bytes) notifies nothing: the
// workspace log names the bound, memory stays bounded; a normal definition
// still notifies.
func TestNotificationTemplateBombIsNotSent(t *testing.T) {
	sink := newSlackSink(t)
	s := testenv.Start(t, testenv.Options{}) // loopback opened for the test receiver
	ws := s.CreateWorkspace(t, "f3-am")
	enableWorkspaceLog(t, s, ws)
	def := fmt.Sprintf(`template_files:
  bomb.tmpl: '%s'
alertmanager_config: |
  templates: [bomb.tmpl]
  route: {receiver: r, group_wait: 1s, group_interval: 1s}
  receivers:
  - name: r
    slack_configs:
    - api_url: %s/slack
      channel: '#alerts'
      text: '{{ template "l6" . }}'
`, nestedTemplates(10, 6, strings.Repeat("x", 100)), sink.URL)
	putAlertmanager(t, s, ws, def)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rssBefore := rss(t)
	postAlerts(t, s, ws, ampExampleAlert)
	waitFor(t, func() bool {
		return strings.Contains(workspaceLog(t, s, ws), "notification not sent: template output exceeds max_template_output_bytes (4194304 bytes)")
	})
	runtime.ReadMemStats(&after)
	rssAfter := rss(t)
	t.Logf("refused: %.1f MiB allocated, RSS %.0f -> %.0f MiB", float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), float64(rssBefore)/(1<<20), float64(rssAfter)/(1<<20))
	if n := len(sink.received()); n != 0 {
		t.Fatalf("the receiver got %d notifications", n)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 256<<20 {
		t.Errorf("the refused notification allocated %d bytes", d)
	}
	if d := rssAfter - rssBefore; d > 128<<20 {
		t.Errorf("RSS grew by %d bytes", d)
	}

	// The same receiver with a template of a reasonable size notifies.
	putAlertmanager(t, s, ws, fmt.Sprintf(`template_files:
  t.tmpl: '%s{{ define "text" }}{{ .CommonLabels.alertname }}: {{ template "l2" . }}{{ end }}'
alertmanager_config: |
  templates: [t.tmpl]
  route: {receiver: r, group_wait: 1s, group_interval: 1s}
  receivers:
  - name: r
    slack_configs:
    - api_url: %s/slack
      channel: '#alerts'
      text: '{{ template "text" . }}'
`, nestedTemplates(10, 2, "y"), sink.URL))
	postAlerts(t, s, ws, strings.Replace(ampExampleAlert, `"alertname": "`, `"alertname": "Second`, 1))
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := sink.received()
	if len(got) == 0 {
		t.Fatalf("no notification; workspace log:\n%s", workspaceLog(t, s, ws))
	}
	if !strings.Contains(got[0], ": "+strings.Repeat("y", 100)) {
		t.Errorf("notification %s", got[0])
	}
}

// An alerting rule whose annotation is the finding's nested defines (10^7
// bytes), and one doubling a variable in a loop, fail with the bound in
// /api/v1/rules and the workspace log, and make no alert; a templated rule
// fires with its annotations expanded.
func TestRuleTemplateBombsFail(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: fastRules})
	ws := s.CreateWorkspace(t, "f3-rules")
	enableWorkspaceLog(t, s, ws)
	hook := newWebhookSink(t)
	putAlertmanager(t, s, ws, groupPerAlertname(hook.URL+"/hook"))
	push(t, s.Admin, ws, sample(time.Now(), 95, "__name__", "temperature", "instance", "a"))
	putRules(t, s, ws, "f3", fmt.Sprintf(`groups:
- name: g
  interval: 1s
  rules:
  - alert: Bomb
    expr: temperature > 90
    annotations:
      summary: '%s{{ template "l5" . }}'
  - alert: Doubling
    expr: temperature > 90
    annotations:
      summary: '{{ $x := $labels.instance }}{{ range 40 }}{{ $x = printf "%%s%%s" $x $x }}{{ end }}{{ $x }}'
  - alert: Hot
    expr: temperature > 90
    labels:
      severity: '{{ if gt $value 92.0 }}page{{ else }}ticket{{ end }}'
    annotations:
      summary: '{{ $labels.instance }} is at {{ $value | humanize }}'
      count: '{{ with query "count(temperature)" }}{{ . | first | value }}{{ end }}'
`, nestedTemplates(10, 5, strings.Repeat("x", 100))))

	p, _ := hook.waitFor(t, 15*time.Second, hasAlert("Hot"))
	if a := p.Alerts[0]; a.Annotations["summary"] != "a is at 95" || a.Annotations["count"] != "1" || a.Labels["severity"] != "page" {
		t.Errorf("Hot notified as %+v", a)
	}
	want := map[string]string{
		"Bomb":     `annotation "summary": template output exceeds max_template_output_bytes (4194304 bytes)`,
		"Doubling": `annotation "summary": a template value of`,
	}
	waitFor(t, func() bool {
		n := 0
		for _, g := range ruleGroups(t, s, ws) {
			for _, r := range g.Rules {
				if w, ok := want[r.Name]; ok && r.Health == "err" && strings.Contains(r.LastError, w) && len(r.Alerts) == 0 {
					n++
				}
			}
		}
		return n == len(want)
	})
	waitFor(t, func() bool {
		l := workspaceLog(t, s, ws)
		return strings.Contains(l, "Evaluating rule failed") && strings.Contains(l, "max_template_output_bytes")
	})
	code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/alerts", url.Values{})
	if code != 200 || strings.Contains(string(r.Data), "Bomb") || strings.Contains(string(r.Data), "Doubling") {
		t.Fatalf("alerts: %d %s", code, r.Data)
	}
	for _, n := range hook.notifications() {
		for _, a := range n.Alerts {
			if name := a.Labels["alertname"]; name != "Hot" {
				t.Fatalf("%s was notified", name)
			}
		}
	}
}
