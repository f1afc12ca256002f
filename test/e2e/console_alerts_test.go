package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/testenv"
)

// TestConsoleRulesAlertsLogs: in a real Chromium, upload a rule-groups
// namespace whose alerting rule fires on a remote-written sample and whose
// recording rule fails at evaluation; read both rules' health; upload an
// invalid file and read the rejection with its line number; silence the
// firing alert from the Alerts page, see it suppressed in the Alertmanager's
// groups, expire the silence; read the ruler's warning in the workspace log.
func TestConsoleRulesAlertsLogs(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, "")
	b := startBrowser(t)

	var created struct {
		WorkspaceID string `json:"workspaceId"`
		ARN         string `json:"arn"`
	}
	if err := s.Admin.JSON(ctx, "POST", "/workspaces", nil, map[string]any{"alias": "console-alerts"}, &created); err != nil {
		t.Fatal(err)
	}
	ws := created.WorkspaceID
	waitFor(t, 20*time.Second, "workspace ACTIVE", func() bool {
		var d struct {
			Workspace struct {
				Status struct{ StatusCode string } `json:"status"`
			} `json:"workspace"`
		}
		return s.Admin.JSON(ctx, "GET", "/workspaces/"+ws, nil, nil, &d) == nil && d.Workspace.Status.StatusCode == "ACTIVE"
	})
	if out, code := s.kansoku(t, "limits", "set", ws, "min_evaluation_interval=1s"); code != 0 {
		t.Fatalf("limits set: %s", out)
	}
	am := `alertmanager_config: |
  route:
    receiver: devnull
    group_by: [alertname]
    group_wait: 1s
    group_interval: 1s
  receivers:
  - name: devnull
`
	if err := s.Admin.JSON(ctx, "POST", "/workspaces/"+ws+"/alertmanager/definition", nil,
		map[string]any{"data": base64.StdEncoding.EncodeToString([]byte(am))}, nil); err != nil {
		t.Fatal(err)
	}
	account := strings.Split(created.ARN, ":")[4]
	group := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/kansoku/%s:*", s.Creds["AWS_DEFAULT_REGION"], account, ws)
	if err := s.Admin.JSON(ctx, "POST", "/workspaces/"+ws+"/logging", nil, map[string]any{"logGroupArn": group}, nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	series := func(v float64, kv ...string) prompb.TimeSeries {
		return prompb.TimeSeries{Labels: testenv.Series(kv...), Samples: []prompb.Sample{{Value: v, Timestamp: now}}}
	}
	code, body, err := testenv.RemoteWrite(ctx, s.Admin, ws, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(97, "__name__", "temperature", "room", "lab"),
		series(1, "__name__", "dup", "i", "1"),
		series(2, "__name__", "dup", "i", "2"),
	}})
	if err != nil || code/100 != 2 {
		t.Fatalf("remote write: %d %s %v", code, body, err)
	}

	b.SignIn(s, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"])
	user := b.Text("#signed-in-user")
	// The pages below run in this document (hash navigation): collect its script errors.
	b.Exec(`window.__errors = []; addEventListener('error', e => __errors.push(String(e.message)));
		addEventListener('unhandledrejection', e => __errors.push(String(e.reason && e.reason.stack || e.reason)));`)

	// Rules: upload a namespace with a firing alert and a failing rule.
	b.Go(s.URL + "/console/#/ws/" + ws + "/rules")
	b.WaitText("#alertmanager-definition", "ACTIVE", 15*time.Second)
	b.WaitText("#alertmanager-definition", "receiver: devnull", 5*time.Second)
	b.Click("#upload-namespace")
	b.Type("#namespace-form input[name=name]", "console")
	b.Type("#namespace-form textarea[name=data]", `groups:
- name: console
  interval: 1s
  rules:
  - alert: TemperatureHigh
    expr: temperature > 50
    labels:
      severity: page
    annotations:
      summary: Lab temperature is {{ $value }}
  - record: broken
    expr: dup * on() dup
`)
	b.Click("#namespace-form button[type=submit]")
	b.Wait(`.namespace[data-name=console][data-status=ACTIVE]`, 20*time.Second)
	if b.find("#namespace-form") != "" {
		t.Fatal("the upload form stayed open after the namespace became ACTIVE")
	}
	b.Wait(`#namespaces .rule[data-name=TemperatureHigh][data-health=ok][data-state=firing]`, 30*time.Second)
	b.Wait(`#namespaces .rule[data-name=broken][data-health=err]`, 10*time.Second)
	if txt := b.Text(`#namespaces .rule[data-name=broken]`); !strings.Contains(txt, "many-to-many") {
		t.Fatalf("the failing rule's row lacks its error: %q", txt)
	}
	if txt := b.Text(`#namespaces .rule[data-name=TemperatureHigh]`); !strings.Contains(txt, "1 active alert") || !strings.Contains(txt, "temperature > 50") {
		t.Fatalf("the alerting rule's row: %q", txt)
	}

	// Edit: the current file is loaded; an invalid one is rejected with its line.
	b.Click(`.namespace[data-name=console] .edit-namespace`)
	b.Wait("#namespace-form textarea[name=data]", 10*time.Second)
	if v, _ := b.Exec(`return document.querySelector('#namespace-form textarea[name=data]').value`).(string); !strings.Contains(v, "alert: TemperatureHigh") || !strings.Contains(v, "{{ $value }}") {
		t.Fatalf("the edit form does not hold the current rule file: %q", v)
	}
	b.Type("#namespace-form textarea[name=data]", `groups:
- name: console
  interval: 1s
  rules:
  - alert: TemperatureHigh
    expr: temperature >
`)
	b.Click("#namespace-form button[type=submit]")
	b.WaitText("#namespace-form .status-reason", "UPDATE_FAILED", 15*time.Second)
	reason := b.Text("#namespace-form .status-reason")
	if !regexp.MustCompile(`\b6:\d+:`).MatchString(reason) || !strings.Contains(reason, "TemperatureHigh") {
		t.Fatalf("the rejection does not name the line: %q", reason)
	}
	b.Click("#namespace-form button.cancel")
	b.Wait(`.namespace[data-name=console][data-status=UPDATE_FAILED] .namespace-reason`, 10*time.Second)
	// The previous file stays in force.
	b.Wait(`#namespaces .rule[data-name=TemperatureHigh][data-state=firing]`, 10*time.Second)
	b.Screenshot("rules")

	// Alerts & silences: silence the firing alert.
	b.ClickText("nav a", "Alerts & silences")
	b.Wait(`#alerts .alert[data-alertname=TemperatureHigh][data-state=firing]`, 15*time.Second)
	if txt := b.Text(`#alerts .alert[data-alertname=TemperatureHigh]`); !strings.Contains(txt, "Lab temperature is 97") || !strings.Contains(txt, `room="lab"`) {
		t.Fatalf("the alert's row: %q", txt)
	}
	b.Wait(`#alert-groups .am-alert[data-alertname=TemperatureHigh][data-state=active]`, 25*time.Second)
	b.Click(`#alerts .alert[data-alertname=TemperatureHigh] .silence-alert`)
	b.Wait("#silence-form", 5*time.Second)
	if v, _ := b.Exec(`return document.querySelector('#silence-form textarea[name=matchers]').value`).(string); !strings.Contains(v, `alertname="TemperatureHigh"`) || !strings.Contains(v, `room="lab"`) {
		t.Fatalf("the silence form is not prefilled with the alert's labels: %q", v)
	}
	b.Type("#silence-form input[name=duration]", "2h")
	b.Click("#silence-form button[type=submit]")
	b.WaitText("#silence-form .error", "comment", 5*time.Second) // the comment is required
	b.Type("#silence-form input[name=comment]", "lab maintenance")
	b.Click("#silence-form button[type=submit]")
	b.Wait(`#silences .silence[data-state=active]`, 10*time.Second)
	if txt := b.Text(`#silences .silence[data-state=active]`); !strings.Contains(txt, `alertname="TemperatureHigh"`) || !strings.Contains(txt, "lab maintenance") || !strings.Contains(txt, user) {
		t.Fatalf("the silence's row: %q (signed in as %q)", txt, user)
	}
	b.Wait(`#alert-groups .am-alert[data-alertname=TemperatureHigh][data-state=suppressed]`, 25*time.Second)
	b.WaitText(`#alert-groups .am-alert[data-alertname=TemperatureHigh]`, "silence ", 5*time.Second)
	b.Screenshot("alerts-and-silences")
	b.Click(`#silences .silence[data-state=active] .expire-silence`)
	b.Wait(`#silences .silence[data-state=expired]`, 10*time.Second)
	if b.find(`#silences .silence[data-state=active]`) != "" {
		t.Fatal("the silence is still active after Expire")
	}

	// Logs: the ruler's warning about the failing rule.
	b.ClickText("nav a", "Logs")
	b.WaitText("#logging-configuration", "ACTIVE", 10*time.Second)
	b.WaitText("#workspace-log", "Evaluating rule failed", 15*time.Second)
	b.Select("#log-filters select[name=component]", "ruler")
	b.WaitText("#workspace-log", "many-to-many", 10*time.Second)
	b.Wait(`#workspace-log .log-event[data-component=ruler][data-level=WARN]`, 5*time.Second)
	b.WaitText("#workspace-log", "rule groups namespace console was not loaded", 5*time.Second)
	if b.find(`#workspace-log .log-event:not([data-component=ruler])`) != "" {
		t.Fatal("the component filter let other components through")
	}
	b.Screenshot("logs")

	// Delete the namespace with a confirmation.
	b.ClickText("nav a", "Rules")
	b.Click(`.namespace[data-name=console] .delete-namespace`)
	b.Click("#delete-namespace-confirm")
	waitFor(t, 15*time.Second, "the namespace to go", func() bool { return b.find(`.namespace[data-name=console]`) == "" })
	b.WaitText("#namespaces", "No rule-groups namespace yet", 5*time.Second)

	// A workspace with neither an Alertmanager definition nor a logging
	// configuration: the pages say so and create them.
	var bare struct {
		WorkspaceID string `json:"workspaceId"`
	}
	if err := s.Admin.JSON(ctx, "POST", "/workspaces", nil, map[string]any{"alias": "bare"}, &bare); err != nil {
		t.Fatal(err)
	}
	b.Go(s.URL + "/console/#/ws/" + bare.WorkspaceID + "/alerts")
	b.WaitText("#no-alertmanager", "no Alertmanager definition", 10*time.Second)
	b.Click("#no-alertmanager a.rules-link")
	b.WaitText("#alertmanager-definition", "no Alertmanager definition", 10*time.Second)
	b.Click("#edit-alertmanager")
	b.Click("#alertmanager-form button[type=submit]")
	b.WaitText("#alertmanager-definition", "ACTIVE", 15*time.Second)
	b.ClickText("nav a", "Alerts & silences")
	b.WaitText("#silences", "No silence", 15*time.Second)
	if b.find("#no-alertmanager") != "" {
		t.Fatal("the Alerts page still says there is no Alertmanager")
	}
	b.ClickText("nav a", "Logs")
	b.WaitText("#no-logging", "aws amp create-logging-configuration --workspace-id "+bare.WorkspaceID, 10*time.Second)
	b.Click("#create-logging")
	b.WaitText("#logging-configuration", "ACTIVE", 15*time.Second)
	b.WaitText("#logging-configuration", "log-group:/kansoku/"+bare.WorkspaceID+":*", 5*time.Second)

	if errs, _ := b.Exec(`return window.__errors || ['the page was reloaded']`).([]any); len(errs) > 0 {
		t.Errorf("script errors in the console: %v", errs)
	}
	for _, o := range b.ResourceOrigins() {
		if o != s.URL {
			t.Errorf("the console loaded a resource from %s", o)
		}
	}
}
