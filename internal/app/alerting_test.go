package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/testenv"
	"github.com/kansoku/kansoku/sim/awssim"
)

// webhookSink is a real HTTP receiver for Alertmanager's webhook payloads.
type webhookSink struct {
	*httptest.Server
	mu       sync.Mutex
	payloads []webhookPayload
	arrived  []time.Time
}

type webhookPayload struct {
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
	GroupLabels map[string]string `json:"groupLabels"`
	ExternalURL string            `json:"externalURL"`
}

func newWebhookSink(t *testing.T) *webhookSink {
	w := &webhookSink{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var p webhookPayload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("webhook body is not Alertmanager's JSON: %s", b)
		}
		w.mu.Lock()
		w.payloads = append(w.payloads, p)
		w.arrived = append(w.arrived, time.Now())
		w.mu.Unlock()
	}))
	t.Cleanup(w.Close)
	return w
}

// alertnames returns, per notification, the sorted alertnames it carried.
func (w *webhookSink) notifications() []webhookPayload {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]webhookPayload(nil), w.payloads...)
}

func (w *webhookSink) waitFor(t *testing.T, timeout time.Duration, match func(webhookPayload) bool) (webhookPayload, time.Time) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		for i, p := range w.payloads {
			if match(p) {
				at := w.arrived[i]
				w.mu.Unlock()
				return p, at
			}
		}
		w.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no matching notification within %s; got %+v", timeout, w.notifications())
	return webhookPayload{}, time.Time{}
}

func hasAlert(name string) func(webhookPayload) bool {
	return func(p webhookPayload) bool {
		for _, a := range p.Alerts {
			if a.Labels["alertname"] == name && a.Status == "firing" {
				return true
			}
		}
		return false
	}
}

// fastRules lets tests evaluate every second.
func fastRules(c *config.Config) {
	c.Limits.MinEvaluationInterval = model.Duration(time.Second)
}

func putRules(t *testing.T, s *testenv.Server, ws, name, rules string) {
	t.Helper()
	base := "/workspaces/" + ws + "/rulegroupsnamespaces"
	err := s.Admin.JSON(ctx, "POST", base, nil, map[string]any{"name": name, "data": b64(rules)}, nil)
	if err != nil && strings.Contains(err.Error(), "Conflict") {
		err = s.Admin.JSON(ctx, "PUT", base+"/"+name, nil, map[string]any{"data": b64(rules)}, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	waitNamespace(t, s, ws, name, "ACTIVE")
	if err := s.App.Ruler().SyncNow(ctx, ws); err != nil {
		t.Fatal(err)
	}
}

func putAlertmanager(t *testing.T, s *testenv.Server, ws, def string) {
	t.Helper()
	path := "/workspaces/" + ws + "/alertmanager/definition"
	method := "POST"
	if s.App.Alertmanager().Running(ws) {
		method = "PUT"
	}
	var st statusResp
	if err := s.Admin.JSON(ctx, method, path, nil, map[string]any{"data": b64(def)}, &st); err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(st.Status.StatusCode, "FAILED") {
		t.Fatalf("definition refused: %s", st.Status.StatusReason)
	}
	waitFor(t, func() bool {
		var d struct {
			D statusResp `json:"alertManagerDefinition"`
		}
		return s.Admin.JSON(ctx, "GET", path, nil, nil, &d) == nil && d.D.Status.StatusCode == "ACTIVE"
	})
	if err := s.App.Alertmanager().SyncNow(ctx, ws); err != nil {
		t.Fatal(err)
	}
}

func amGet(t *testing.T, s *testenv.Server, ws, path string, q url.Values, out any) int {
	t.Helper()
	resp, b, err := s.Admin.Raw(ctx, "GET", "/workspaces/"+ws+"/alertmanager/api/v2"+path, q, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode
}

func amPost(t *testing.T, s *testenv.Server, ws, path string, body any, out any) int {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, b, err := s.Admin.Raw(ctx, "POST", "/workspaces/"+ws+"/alertmanager/api/v2"+path, nil, "application/json", raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v: %s", path, err, b)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// postSilence creates an hour-long silence with one matcher (name=value,
// or name=~value) through the workspace's Alertmanager API and returns the
// status code and the silence's id.
func postSilence(t *testing.T, s *testenv.Server, ws, name, value string, regex bool, comment string) (int, string) {
	t.Helper()
	var created struct {
		SilenceID string `json:"silenceID"`
	}
	now := time.Now().UTC()
	code := amPost(t, s, ws, "/silences", map[string]any{
		"matchers": []map[string]any{{"name": name, "value": value, "isRegex": regex, "isEqual": true}},
		"startsAt": now.Format(time.RFC3339), "endsAt": now.Add(time.Hour).Format(time.RFC3339),
		"createdBy": "test", "comment": comment,
	}, &created)
	return code, created.SilenceID
}

type amAlert struct {
	Labels map[string]string `json:"labels"`
	Status struct {
		State       string   `json:"state"`
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

func amAlerts(t *testing.T, s *testenv.Server, ws string) map[string]amAlert {
	t.Helper()
	var as []amAlert
	if code := amGet(t, s, ws, "/alerts", nil, &as); code != 200 {
		t.Fatalf("list alerts: %d", code)
	}
	out := map[string]amAlert{}
	for _, a := range as {
		out[a.Labels["alertname"]+"/"+a.Labels["instance"]] = a
	}
	return out
}

const alertingRules = `groups:
- name: alerts
  interval: 1s
  rules:
  - alert: Critical
    expr: temperature > 90
    labels:
      severity: critical
    annotations:
      summary: "{{ $labels.instance }} is at {{ $value }} degrees"
  - alert: Warm
    expr: temperature > 50
    labels:
      severity: warning
- name: records
  interval: 1s
  rules:
  - record: instance:temperature:max
    expr: max by (instance) (temperature)
`

func alertingDefinition(hook string) string {
	return fmt.Sprintf(`alertmanager_config: |
  route:
    receiver: hook
    group_by: [alertname]
    group_wait: 1s
    group_interval: 1s
    repeat_interval: 1h
  inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [instance]
  receivers:
  - name: hook
    webhook_configs:
    - url: %s/hook
      send_resolved: false
`, hook)
}

// groupPerAlertname is a definition with one aggregation group per
// alertname, notified to a webhook after 1 s.
func groupPerAlertname(hook string) string {
	return fmt.Sprintf(`alertmanager_config: |
  route:
    receiver: hook
    group_by: [alertname]
    group_wait: 1s
    group_interval: 1s
  receivers:
  - name: hook
    webhook_configs:
    - url: %s
`, hook)
}

// TestAlertFromSampleToWebhook: a remote-written sample fires an alerting
// rule, whose notification reaches a real webhook within the evaluation
// interval + group_wait + 1 s; an inhibit rule suppresses the warning; a
// silence stops the next notification; the recording rule's output is
// queryable.
func TestAlertFromSampleToWebhook(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: fastRules})
	ws := s.CreateWorkspace(t, "alerting")
	hook := newWebhookSink(t)
	putAlertmanager(t, s, ws, alertingDefinition(hook.URL))
	putRules(t, s, ws, "alerts", alertingRules)

	written := time.Now()
	push(t, s.Admin, ws, sample(written, 95, "__name__", "temperature", "instance", "a"))
	_, at := hook.waitFor(t, 10*time.Second, hasAlert("Critical"))
	const interval, groupWait = time.Second, time.Second
	t.Logf("sample to webhook notification: %s", at.Sub(written))
	if lat := at.Sub(written); lat > interval+groupWait+time.Second {
		t.Errorf("sample to notification took %s; want <= evaluation interval + group_wait + 1s = %s", lat, interval+groupWait+time.Second)
	}

	// The warning on the same instance is inhibited by the critical alert.
	waitFor(t, func() bool {
		as := amAlerts(t, s, ws)
		return as["Warm/a"].Status.State == "suppressed" && len(as["Warm/a"].Status.InhibitedBy) == 1 && as["Critical/a"].Status.State == "active"
	})
	for _, p := range hook.notifications() {
		if hasAlert("Warm")(p) {
			t.Fatalf("an inhibited alert was notified: %+v", p)
		}
	}

	// Recording rule output is queryable with PromQL.
	waitFor(t, func() bool {
		code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {`instance:temperature:max{instance="a"}`}})
		return code == 200 && strings.Contains(string(r.Data), `"95"`)
	})

	// A silence on Critical: a new critical instance does not notify.
	code, silenceID := postSilence(t, s, ws, "alertname", "Critical", false, "maintenance")
	if code != 200 || silenceID == "" {
		t.Fatalf("create silence: %d %q", code, silenceID)
	}
	before := len(hook.notifications())
	push(t, s.Admin, ws, sample(time.Now(), 99, "__name__", "temperature", "instance", "b"))
	waitFor(t, func() bool {
		a := amAlerts(t, s, ws)["Critical/b"]
		return a.Status.State == "suppressed" && len(a.Status.SilencedBy) == 1 && a.Status.SilencedBy[0] == silenceID
	})
	// Several flushes of the Critical group, each muting the silenced alert
	// (the Alertmanager counts them), then nothing of it may have been sent.
	muted := s.App.AlertmanagerMetric(ws, "alertmanager_notifications_suppressed_total", "reason", "silence")
	waitUntil(t, 15*time.Second, "three flushes muting the silenced alert", func() bool {
		return s.App.AlertmanagerMetric(ws, "alertmanager_notifications_suppressed_total", "reason", "silence") >= muted+3
	})
	for _, p := range hook.notifications()[before:] {
		if hasAlert("Critical")(p) {
			t.Fatalf("a silenced alert was notified: %+v", p)
		}
	}

	// /api/v1/rules and /api/v1/alerts show the rules and their state.
	code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/rules", nil)
	if code != 200 || !strings.Contains(string(r.Data), `"file":"alerts"`) || !strings.Contains(string(r.Data), `"health":"ok"`) {
		t.Fatalf("rules: %d %s", code, r.Data)
	}
	code, r = get(t, s.Admin, "/workspaces/"+ws+"/api/v1/alerts", nil)
	if code != 200 || !strings.Contains(string(r.Data), `"alertname":"Critical"`) || !strings.Contains(string(r.Data), `"state":"firing"`) {
		t.Fatalf("alerts: %d %s", code, r.Data)
	}

	// Usage counts rule evaluations and received alerts.
	u := s.App.Usage().Report(ws)
	if u.Other["RuleEvaluations"] < 3 || u.Other["AlertManagerAlertsReceived"] < 2 || u.Other["SuppressedAlerts"] < 1 {
		t.Errorf("usage: %+v", u.Other)
	}
}

// ampTemplatesAM is the second alert manager example of AMP's user guide
// (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-alertmanager-config.html, its 2024
// edition), with the lines the PDF extraction wrapped joined again (and
// its two code blocks put back together); nothing else changed.
const ampTemplatesAM = `template_files:
  default_template: |
    {{ define "sns.default.subject" }}[{{ .Status | toUpper }}]{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}]{{ end }}
    {{ define "__alertmanager" }}AlertManager{{ end }}
    {{ define "__alertmanagerURL" }}[{{ .ExternalURL }}]#/alerts?receiver={{ .Receiver | urlquery }}]{{ end }}
alertmanager_config: |
  global:
  templates:
  - 'default_template'
  route:
    receiver: default
  receivers:
  - name: 'default'
    sns_configs:
    - topic_arn: arn:aws:sns:us-east-2:accountid:My-Topic
      sigv4:
        region: us-east-2
      attributes:
        key: severity
        value: SEV2
`

// ampExampleAlert is the sample request body of AMP's CreateAlertManagerAlerts
// (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-APIReference-CreateAlertManagerAlerts.html).
const ampExampleAlert = `[
  {
    "labels": {
      "alertname": "test-alert"
    },
    "annotations": {
      "summary": "this is a test alert used for demo purposes"
    },
    "generatorURL": "https://www.amazon.com/"
  }
]`

func postAlerts(t *testing.T, s *testenv.Server, ws, body string) {
	t.Helper()
	resp, b, err := s.Admin.Raw(ctx, "POST", "/workspaces/"+ws+"/alertmanager/api/v2/alerts", nil, "application/json", []byte(body), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CreateAlertManagerAlerts: %v %v %s", resp, err, b)
	}
}

// waitUntil polls cond until it holds, failing the test after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within %s", what, timeout)
}

func waitPublished(t *testing.T, sim *awssim.Server, topic string, timeout time.Duration) awssim.PublishedMessage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p := sim.Published(topic); len(p) > 0 {
			return p[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing published to %s within %s", topic, timeout)
	return awssim.PublishedMessage{}
}

func attrs(m awssim.PublishedMessage) map[string]string {
	out := map[string]string{}
	for k, v := range m.Attributes {
		out[k] = v.StringValue
	}
	return out
}

// TestAMPAlertmanagerExamplesPublishToSNS runs AMP's two alert manager
// definitions as written (the server's SNS endpoint points at the AWS
// simulator, credentials come from the AWS default chain as they would on
// AWS) and AMP's sample CreateAlertManagerAlerts request; the simulator
// checks the SNS Publish calls the AWS SDK makes.
func TestAMPAlertmanagerExamplesPublishToSNS(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDKANSOKUSNSTEST01")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "kansoku-sns-test-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	sim := awssim.New(awssim.Options{Region: "us-east-2", Credentials: map[string]string{"AKIDKANSOKUSNSTEST01": "kansoku-sns-test-secret"}})
	basicTopic, templTopic := "arn:aws:sns:us-east-2:123456789012:My-Topic", "arn:aws:sns:us-east-2:accountid:My-Topic"
	sim.AddTopic(basicTopic)
	sim.AddTopic(templTopic)
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()

	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) { c.Alertmanager.SNSEndpoint = simSrv.URL }})
	basic, templ := s.CreateWorkspace(t, "amp-basic"), s.CreateWorkspace(t, "amp-templates")
	putAlertmanager(t, s, basic, ampBasicAM)
	putAlertmanager(t, s, templ, ampTemplatesAM)
	postAlerts(t, s, basic, ampExampleAlert)
	postAlerts(t, s, templ, ampExampleAlert)

	// AMP's examples keep Alertmanager's default group_wait of 30s.
	m := waitPublished(t, sim, basicTopic, 45*time.Second)
	if m.Subject != "[FIRING:1]  (test-alert)" || !strings.Contains(m.Message, "this is a test alert used for demo purposes") {
		t.Errorf("basic example: subject %q message %q", m.Subject, m.Message)
	}
	if a := attrs(m); a["key"] != "key1" || a["value"] != "value1" || len(a) != 2 {
		t.Errorf("basic example attributes: %v", a)
	}
	if m.AccessKeyID != "AKIDKANSOKUSNSTEST01" {
		t.Errorf("signed with %q", m.AccessKeyID)
	}
	m = waitPublished(t, sim, templTopic, 10*time.Second)
	if m.Subject != "[FIRING]:1]" || !strings.Contains(m.Message, "this is a test alert used for demo purposes") {
		t.Errorf("template example: subject %q message %q", m.Subject, m.Message)
	}
	if a := attrs(m); a["key"] != "severity" || a["value"] != "SEV2" {
		t.Errorf("template example attributes: %v", a)
	}
}

// TestSNSMessageRules: AMP's SNS validation and truncation rules, end to
// end: an oversized message is truncated and flagged, a non-ASCII subject
// replaced, and both are reported in the workspace log.
func TestSNSMessageRules(t *testing.T) {
	sim := awssim.New(awssim.Options{Region: "eu-west-1", Credentials: map[string]string{"AKIDTENANTKEY0000001": "tenant-secret"}})
	topic := "arn:aws:sns:eu-west-1:123456789012:alerts"
	sim.AddTopic(topic)
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "sns-rules")
	group := fmt.Sprintf("arn:aws:logs:us-east-1:%s:log-group:/kansoku/%s:*", s.App.Info().Account.ID, ws)
	if err := s.Admin.JSON(ctx, "POST", "/workspaces/"+ws+"/logging", nil, map[string]any{"logGroupArn": group}, nil); err != nil {
		t.Fatal(err)
	}
	putAlertmanager(t, s, ws, fmt.Sprintf(`alertmanager_config: |
  route:
    receiver: sns
    group_wait: 1s
  receivers:
  - name: sns
    sns_configs:
    - topic_arn: %s
      api_url: %s
      subject: '{{ .CommonLabels.alertname }}'
      message: '{{ .CommonAnnotations.details }}'
      sigv4:
        region: eu-west-1
        access_key: AKIDTENANTKEY0000001
        secret_key: tenant-secret
      attributes:
        team: storage
        'AWS.reserved': x
`, topic, simSrv.URL))
	waitFor(t, func() bool {
		_, err := s.App.Logging().Describe(ctx, ws)
		return err == nil
	})
	big := strings.Repeat("ü", 140*1024) // 280 KiB of 2-byte characters
	body, _ := json.Marshal([]map[string]any{{"labels": map[string]string{"alertname": "Überhitzung"}, "annotations": map[string]string{"details": big}}})
	postAlerts(t, s, ws, string(body))
	m := waitPublished(t, sim, topic, 15*time.Second)
	a := attrs(m)
	if m.Subject != "Error - contains non printable ASCII characters." {
		t.Errorf("subject %q", m.Subject)
	}
	if len(m.Message) >= len(big) || len(m.Message) > 256*1024 || !strings.HasPrefix(big, m.Message) {
		t.Errorf("message of %d bytes is not a truncation of the %d-byte original at a character boundary", len(m.Message), len(big))
	}
	if a["truncated"] != "true" || a["team"] != "storage" || a["AWS.reserved"] != "" {
		t.Errorf("attributes %v", a)
	}
	for _, want := range []string{"Message: Error - Message has been truncated from 280 KB, because it exceeds the 256 KB size limit.",
		"Subject: Error - contains non-printable ASCII characters.",
		"MessageAttribute: Error - 1 of the message attributes have been removed because of invalid MessageAttributeKey or MessageAttributeValue."} {
		if !strings.Contains(a["modified"], want) {
			t.Errorf("modified attribute %q lacks %q", a["modified"], want)
		}
	}
	// The warnings reach the workspace log, as AMP's do in CloudWatch Logs.
	waitFor(t, func() bool {
		_ = s.App.Logging().Flush(ctx)
		var out struct {
			Events []struct {
				Component string         `json:"component"`
				Message   map[string]any `json:"message"`
			} `json:"events"`
		}
		if err := s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/logs", nil, nil, &out); err != nil {
			return false
		}
		found := map[string]bool{}
		for _, e := range out.Events {
			if e.Component == "alertmanager" && e.Message["level"] == "WARN" {
				found[fmt.Sprint(e.Message["log"])] = true
			}
		}
		return found["Subject has been modified because it contains control or non-ASCII characters."] &&
			found["MessageAttributes has been removed because of invalid key/value, numberOfRemovedAttributes=1"] &&
			found["Message has been truncated because it exceeds size limit, originSize=280K, truncatedSize=256K"]
	})
}

// ruleGroup is a group of /api/v1/rules.
type ruleGroup struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Rules []struct {
		Name      string `json:"name"`
		Health    string `json:"health"`
		LastError string `json:"lastError"`
		State     string `json:"state"`
		Alerts    []struct {
			State           string `json:"state"`
			ActiveAt        string `json:"activeAt"`
			KeepFiringSince string `json:"keepFiringSince"`
		} `json:"alerts"`
	} `json:"rules"`
}

func ruleGroups(t *testing.T, s *testenv.Server, ws string) []ruleGroup {
	t.Helper()
	code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/rules", nil)
	if code != 200 {
		t.Fatalf("rules: %d %+v", code, r)
	}
	var out struct {
		Groups []ruleGroup `json:"groups"`
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	return out.Groups
}

// ruleAlerts returns the alerts of the named alerting rule.
func ruleAlerts(t *testing.T, s *testenv.Server, ws, rule string) []struct {
	State           string `json:"state"`
	ActiveAt        string `json:"activeAt"`
	KeepFiringSince string `json:"keepFiringSince"`
} {
	t.Helper()
	for _, g := range ruleGroups(t, s, ws) {
		for _, r := range g.Rules {
			if r.Name == rule {
				return r.Alerts
			}
		}
	}
	return nil
}

// TestBadRuleAndLiveReload: a rule that fails at evaluation is reported in
// /api/v1/rules and the workspace log while the other rules keep working;
// changing a namespace keeps the alert state of unchanged rules; deleting
// it stops its rules; evaluations and failures are counted.
func TestBadRuleAndLiveReload(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: fastRules})
	ws := s.CreateWorkspace(t, "reload")
	group := fmt.Sprintf("arn:aws:logs:us-east-1:%s:log-group:/kansoku/%s:*", s.App.Info().Account.ID, ws)
	if err := s.Admin.JSON(ctx, "POST", "/workspaces/"+ws+"/logging", nil, map[string]any{"logGroupArn": group}, nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	push(t, s.Admin, ws, sample(now, 1, "__name__", "dup", "i", "1"), sample(now, 2, "__name__", "dup", "i", "2"),
		sample(now, 7, "__name__", "load", "host", "h1"))
	putRules(t, s, ws, "stable", `groups:
- name: stable
  interval: 1s
  rules:
  - alert: Loaded
    expr: load > 5
    for: 1h
`)
	putRules(t, s, ws, "mixed", `groups:
- name: mixed
  interval: 1s
  rules:
  - record: broken
    expr: dup * on() dup
  - record: fine
    expr: sum(dup)
`)
	var activeAt string
	waitFor(t, func() bool {
		for _, g := range ruleGroups(t, s, ws) {
			for _, r := range g.Rules {
				if r.Name == "Loaded" && r.State == "pending" && len(r.Alerts) == 1 {
					activeAt = r.Alerts[0].ActiveAt
				}
			}
		}
		return activeAt != ""
	})
	waitFor(t, func() bool {
		health := map[string]string{}
		for _, g := range ruleGroups(t, s, ws) {
			for _, r := range g.Rules {
				health[r.Name] = r.Health + ":" + r.LastError
			}
		}
		return strings.HasPrefix(health["broken"], "err:") && strings.Contains(health["broken"], "many-to-many") && health["fine"] == "ok:"
	})
	waitFor(t, func() bool {
		code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {"fine"}})
		return code == 200 && strings.Contains(string(r.Data), `"3"`)
	})
	waitFor(t, func() bool {
		_ = s.App.Logging().Flush(ctx)
		var out struct {
			Events []struct {
				Component string            `json:"component"`
				Message   map[string]any    `json:"message"`
				Fields    map[string]string `json:"fields"`
			} `json:"events"`
		}
		if err := s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/logs", nil, nil, &out); err != nil {
			return false
		}
		for _, e := range out.Events {
			if e.Component == "ruler" && e.Message["level"] == "WARN" && e.Message["log"] == "Evaluating rule failed" {
				return true
			}
		}
		return false
	})

	// Change the other namespace: the pending alert keeps its activeAt.
	putRules(t, s, ws, "mixed", `groups:
- name: mixed
  interval: 1s
  rules:
  - record: fine
    expr: sum(dup) * 2
`)
	// The new version runs once its "fine" records 2 x 3.
	waitUntil(t, 15*time.Second, "the new version of mixed evaluated", func() bool {
		code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {"fine"}})
		return code == 200 && strings.Contains(string(r.Data), `"6"`)
	})
	for _, g := range ruleGroups(t, s, ws) {
		for _, r := range g.Rules {
			if r.Name == "Loaded" && (len(r.Alerts) != 1 || r.Alerts[0].ActiveAt != activeAt) {
				t.Fatalf("alert state of an unchanged rule was lost: %+v (was active at %s)", r, activeAt)
			}
			if r.Name == "broken" {
				t.Fatal("the removed rule still runs")
			}
		}
	}
	u := s.App.Usage().Report(ws)
	if u.Other["RuleEvaluations"] < 4 || u.Other["RuleEvaluationFailures"] < 1 {
		t.Errorf("usage: %+v", u.Other)
	}
	// Delete a namespace: its groups stop.
	if err := s.Admin.JSON(ctx, "DELETE", "/workspaces/"+ws+"/rulegroupsnamespaces/mixed", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		_ = s.App.Ruler().SyncNow(ctx, ws)
		gs := ruleGroups(t, s, ws)
		return len(gs) == 1 && gs[0].File == "stable"
	})
}

// TestAlertmanagerAPIAndIsolation: CreateAlertManagerAlerts reaches the
// receiver; a workspace without a definition answers 404; one workspace
// never sees another's alerts or silences, and a key limited to one
// workspace cannot use the other's Alertmanager.
func TestAlertmanagerAPIAndIsolation(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	a, b := s.CreateWorkspace(t, "am-a"), s.CreateWorkspace(t, "am-b")
	if code := amGet(t, s, b, "/status", nil, nil); code != 404 {
		t.Fatalf("status without a definition: %d", code)
	}
	hook := newWebhookSink(t)
	putAlertmanager(t, s, a, fmt.Sprintf(`alertmanager_config: |
  route:
    receiver: hook
    group_wait: 1s
  receivers:
  - name: hook
    webhook_configs:
    - url: %s
`, hook.URL))
	putAlertmanager(t, s, b, `alertmanager_config: |
  route:
    receiver: nobody
  receivers:
  - name: nobody
`)
	postAlerts(t, s, a, ampExampleAlert)
	p, _ := hook.waitFor(t, 10*time.Second, hasAlert("test-alert"))
	if p.Alerts[0].Annotations["summary"] != "this is a test alert used for demo purposes" || !strings.HasSuffix(p.ExternalURL, "/workspaces/"+a+"/alertmanager") {
		t.Errorf("payload: %+v", p)
	}
	code, silenceID := postSilence(t, s, a, "job", "hello", true, "hello-world")
	if code != 200 {
		t.Fatal(code)
	}
	var st struct {
		Config struct {
			Original string `json:"original"`
		} `json:"config"`
		Cluster struct {
			Status string `json:"status"`
		} `json:"cluster"`
	}
	if code := amGet(t, s, a, "/status", nil, &st); code != 200 || !strings.Contains(st.Config.Original, "webhook_configs") || st.Cluster.Status != "disabled" {
		t.Fatalf("status: %d %+v", code, st)
	}
	// A definition changed after the API has served requests shows in it.
	if code := amGet(t, s, b, "/status", nil, &st); code != 200 || !strings.Contains(st.Config.Original, "nobody") || strings.Contains(st.Config.Original, "somebody") {
		t.Fatalf("b's status: %d %+v", code, st)
	}
	putAlertmanager(t, s, b, `alertmanager_config: |
  route:
    receiver: nobody
  receivers:
  - name: nobody
  - name: somebody
`)
	if code := amGet(t, s, b, "/status", nil, &st); code != 200 || !strings.Contains(st.Config.Original, "somebody") {
		t.Fatalf("b's status after its definition changed: %d %+v", code, st)
	}
	var receivers []struct {
		Name string `json:"name"`
	}
	if code := amGet(t, s, a, "/receivers", nil, &receivers); code != 200 || len(receivers) != 1 || receivers[0].Name != "hook" {
		t.Fatalf("receivers: %d %+v", code, receivers)
	}
	var groups []map[string]any
	if code := amGet(t, s, a, "/alerts/groups", nil, &groups); code != 200 || len(groups) != 1 {
		t.Fatalf("groups: %d %+v", code, groups)
	}
	var sil map[string]any
	if code := amGet(t, s, a, "/silence/"+silenceID, nil, &sil); code != 200 || sil["comment"] != "hello-world" {
		t.Fatalf("get silence: %d %v", code, sil)
	}
	// Workspace b sees none of a's state.
	var sils []map[string]any
	if code := amGet(t, s, b, "/silences", nil, &sils); code != 200 || len(sils) != 0 {
		t.Fatalf("b's silences: %d %v", code, sils)
	}
	if code := amGet(t, s, b, "/silence/"+silenceID, nil, nil); code != 404 {
		t.Fatalf("a's silence through b: %d", code)
	}
	if as := amAlerts(t, s, b); len(as) != 0 {
		t.Fatalf("b's alerts: %v", as)
	}
	// A key allowed only on workspace b.
	pol := createPolicy(t, s, "b-alertmanager", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["aps:ListAlertManagerSilences","aps:DeleteAlertManagerSilence","aps:CreateAlertManagerAlerts"],"Resource":"%s"}]}`, s.WorkspaceARN(b)))
	user := s.User(t, "b-only", pol)
	for _, c := range []struct{ method, path string }{
		{"GET", "/workspaces/" + a + "/alertmanager/api/v2/silences"},
		{"DELETE", "/workspaces/" + a + "/alertmanager/api/v2/silence/" + silenceID},
		{"POST", "/workspaces/" + a + "/alertmanager/api/v2/alerts"},
		{"GET", "/workspaces/" + b + "/alertmanager/api/v2/alerts"}, // action not granted
	} {
		resp, _, err := user.Raw(ctx, c.method, c.path, nil, "application/json", []byte(ampExampleAlert), nil)
		if err != nil || resp.StatusCode != 403 {
			t.Errorf("%s %s as b-only: %v %v", c.method, c.path, resp.StatusCode, err)
		}
	}
	if resp, _, err := user.Raw(ctx, "GET", "/workspaces/"+b+"/alertmanager/api/v2/silences", nil, "", nil, nil); err != nil || resp.StatusCode != 200 {
		t.Errorf("b-only on b: %v %v", resp.StatusCode, err)
	}
	// Deleting the silence, then the definition.
	resp, _, err := s.Admin.Raw(ctx, "DELETE", "/workspaces/"+a+"/alertmanager/api/v2/silence/"+silenceID, nil, "", nil, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("delete silence: %v %v", resp.StatusCode, err)
	}
	if err := s.Admin.JSON(ctx, "DELETE", "/workspaces/"+a+"/alertmanager/definition", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		_ = s.App.Alertmanager().SyncNow(ctx, a)
		return amGet(t, s, a, "/status", nil, nil) == 404
	})
}

// TestAlertmanagerLimits: the alert quota refuses alerts beyond it, and
// the notification rate limit throttles (AMP's
// AlertManagerNotificationsThrottled).
func TestAlertmanagerLimits(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) {
		c.Limits.MaxAlerts = 2
		c.Limits.NotificationRate = 0.001
		c.Limits.NotificationBurstSize = 1
	}})
	ws := s.CreateWorkspace(t, "am-limits")
	hook := newWebhookSink(t)
	putAlertmanager(t, s, ws, groupPerAlertname(hook.URL))
	postAlerts(t, s, ws, `[{"labels":{"alertname":"one"}},{"labels":{"alertname":"two"}},{"labels":{"alertname":"three"}}]`)
	if as := amAlerts(t, s, ws); len(as) != 2 {
		t.Fatalf("with max_alerts=2, stored %d alerts: %v", len(as), as)
	}
	waitFor(t, func() bool {
		u := s.App.Alertmanager().Usage(ws)
		return u["AlertManagerNotificationsThrottled"] >= 1 && u["AllAlerts"] == 2 && u["AlertManagerAlertsReceived"] == 3
	})
	// The throttled group may be counted before the allowed one's request
	// arrives: wait for that one, then check no second came.
	waitFor(t, func() bool { return len(hook.notifications()) >= 1 })
	// A group_interval later the throttled group is flushed, and throttled,
	// again (flushes are sequential: the first notification was delivered).
	waitUntil(t, 15*time.Second, "the throttled group flushed again", func() bool {
		return s.App.Alertmanager().Usage(ws)["AlertManagerNotificationsThrottled"] >= 2
	})
	if n := len(hook.notifications()); n != 1 {
		t.Fatalf("with a burst of 1, %d notifications went out", n)
	}
}

// TestRestartKeepsSilencesAndNotificationLog: after a restart the silences
// are still there and an alert that was already notified is not notified
// again, although the ruler fires it anew.
func TestRestartKeepsSilencesAndNotificationLog(t *testing.T) {
	dir := t.TempDir()
	hook := newWebhookSink(t)
	s := testenv.Start(t, testenv.Options{DataDir: dir, Config: fastRules})
	ws := s.CreateWorkspace(t, "restart")
	putAlertmanager(t, s, ws, alertingDefinition(hook.URL))
	putRules(t, s, ws, "alerts", alertingRules)
	push(t, s.Admin, ws, sample(time.Now(), 95, "__name__", "temperature", "instance", "a"))
	hook.waitFor(t, 10*time.Second, hasAlert("Critical"))
	code, silenceID := postSilence(t, s, ws, "instance", "z.*", true, "kept")
	if code != 200 {
		t.Fatal(code)
	}
	// A group_interval with nothing new to send: the Critical group is
	// flushed again and asks the notification log, which has the entry.
	asked := s.App.AlertmanagerMetric(ws, "alertmanager_nflog_queries_total", "", "")
	waitUntil(t, 15*time.Second, "a flush after the notification", func() bool {
		return s.App.AlertmanagerMetric(ws, "alertmanager_nflog_queries_total", "", "") >= asked+2
	})
	sent := len(hook.notifications())
	s.Stop()

	s = testenv.Start(t, testenv.Options{DataDir: dir, Config: fastRules})
	var sils []struct {
		ID     string `json:"id"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if code := amGet(t, s, ws, "/silences", nil, &sils); code != 200 || len(sils) != 1 || sils[0].ID != silenceID || sils[0].Status.State != "active" {
		t.Fatalf("silences after restart: %d %+v", code, sils)
	}
	// The ruler restores the alert and sends it again; the Alertmanager knows
	// it has notified it already.
	waitFor(t, func() bool { return amAlerts(t, s, ws)["Critical/a"].Status.State == "active" })
	// group_wait and two group_intervals: three flushes of the Critical
	// group, each asking the restored notification log; flushes run one
	// after the other, so the first two have delivered whatever they sent.
	waitUntil(t, 15*time.Second, "three flushes after the restart", func() bool {
		return s.App.AlertmanagerMetric(ws, "alertmanager_nflog_queries_total", "", "") >= 3
	})
	if got := hook.notifications(); len(got) != sent {
		t.Fatalf("after restart %d more notifications: %+v", len(got)-sent, got[sent:])
	}
}

// TestRestartRestoresPendingAlerts: a pending alert with a long `for` does
// not start its hold over after a restart. Prometheus' rule manager
// restores it from the ALERTS_FOR_STATE series the ruler wrote into the
// workspace: the time it had been pending before the restart stays served
// (the outage itself does not count), so its activeAt lies that far before
// the restore, where a fresh alert's would be the first evaluation after
// the restart.
func TestRestartRestoresPendingAlerts(t *testing.T) {
	dir := t.TempDir()
	s := testenv.Start(t, testenv.Options{DataDir: dir, Config: fastRules})
	ws := s.CreateWorkspace(t, "for-state")
	putRules(t, s, ws, "held", `groups:
- name: held
  interval: 1s
  rules:
  - alert: Held
    expr: temperature > 90
    for: 1h
`)
	push(t, s.Admin, ws, sample(time.Now(), 95, "__name__", "temperature", "instance", "a"))
	var activeAt time.Time
	waitFor(t, func() bool {
		as := ruleAlerts(t, s, ws, "Held")
		if len(as) == 1 && as[0].State == "pending" {
			activeAt, _ = time.Parse(time.RFC3339Nano, as[0].ActiveAt)
		}
		return !activeAt.IsZero()
	})
	const served = 7 * time.Second
	time.Sleep(time.Until(activeAt.Add(served)))
	code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {`ALERTS_FOR_STATE{alertname="Held"}`}})
	if code != 200 || !strings.Contains(string(r.Data), fmt.Sprintf(`"%d"`, activeAt.Unix())) {
		t.Fatalf("the workspace holds no ALERTS_FOR_STATE for the pending alert: %d %s", code, r.Data)
	}
	s.Stop()
	time.Sleep(2 * time.Second) // an outage

	restarted := time.Now()
	s = testenv.Start(t, testenv.Options{DataDir: dir, Config: fastRules})
	// Restored: activeAt = restore time - served (±1 s: the series keeps
	// whole seconds), and the restore follows the second evaluation, within
	// a few seconds of the start. Not restored: activeAt is an evaluation
	// after the start (its timestamp at most one interval earlier).
	var last string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		as := ruleAlerts(t, s, ws, "Held")
		if len(as) == 1 {
			last = as[0].State + " since " + as[0].ActiveAt
			if at, _ := time.Parse(time.RFC3339Nano, as[0].ActiveAt); as[0].State == "pending" && at.Before(restarted.Add(-1500*time.Millisecond)) {
				return
			}
		}
	}
	t.Fatalf("after the restart (at %s) the alert is %s: its %s of pending were not restored", restarted.Format(time.RFC3339Nano), last, served)
}

// TestKeepFiringFor: an alert with keep_firing_for stays firing after its
// expression stops matching; one without resolves.
func TestKeepFiringFor(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: fastRules})
	ws := s.CreateWorkspace(t, "keep-firing")
	putRules(t, s, ws, "kf", `groups:
- name: kf
  interval: 1s
  rules:
  - alert: Sticky
    expr: temperature > 90
    keep_firing_for: 1h
  - alert: Plain
    expr: temperature > 90
`)
	push(t, s.Admin, ws, sample(time.Now(), 95, "__name__", "temperature", "instance", "a"))
	waitFor(t, func() bool {
		st, pl := ruleAlerts(t, s, ws, "Sticky"), ruleAlerts(t, s, ws, "Plain")
		return len(st) == 1 && st[0].State == "firing" && len(pl) == 1 && pl[0].State == "firing"
	})
	push(t, s.Admin, ws, sample(time.Now(), 20, "__name__", "temperature", "instance", "a"))
	waitFor(t, func() bool {
		st, pl := ruleAlerts(t, s, ws, "Sticky"), ruleAlerts(t, s, ws, "Plain")
		return len(pl) == 0 && len(st) == 1 && st[0].State == "firing" && st[0].KeepFiringSince != ""
	})
}

// TestTimeIntervals: a route's mute_time_intervals and
// active_time_intervals keep its alerts from being notified while the
// routes beside it notify.
func TestTimeIntervals(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "time-intervals")
	hook := newWebhookSink(t)
	putAlertmanager(t, s, ws, fmt.Sprintf(`alertmanager_config: |
  time_intervals:
  - name: always
    time_intervals:
    - times:
      - start_time: "00:00"
        end_time: "24:00"
  - name: long-ago
    time_intervals:
    - years: ["2000"]
  route:
    receiver: hook
    group_by: [alertname]
    group_wait: 1s
    group_interval: 1s
    routes:
    - matchers: [alertname="Muted"]
      mute_time_intervals: [always]
    - matchers: [alertname="Inactive"]
      active_time_intervals: [long-ago]
    - matchers: [alertname="Loud"]
  receivers:
  - name: hook
    webhook_configs:
    - url: %s
`, hook.URL))
	postAlerts(t, s, ws, `[{"labels":{"alertname":"Muted"}},{"labels":{"alertname":"Inactive"}},{"labels":{"alertname":"Loud"}}]`)
	hook.waitFor(t, 10*time.Second, hasAlert("Loud"))
	// The other groups' group_wait and an interval: each flushed twice,
	// and the Alertmanager muted them both times.
	waitUntil(t, 15*time.Second, "two flushes of the muted and inactive groups", func() bool {
		return s.App.AlertmanagerMetric(ws, "alertmanager_notifications_suppressed_total", "reason", "mute_time_interval") >= 2 &&
			s.App.AlertmanagerMetric(ws, "alertmanager_notifications_suppressed_total", "reason", "active_time_interval") >= 2
	})
	for _, p := range hook.notifications() {
		if hasAlert("Muted")(p) || hasAlert("Inactive")(p) {
			t.Fatalf("an alert outside its route's time intervals was notified: %+v", p)
		}
	}
}

// TestAlertmanagerGroupAndSilenceQuotas: beyond max_aggregation_groups an
// alert opens no group and is not notified; beyond max_silences a new
// silence is refused with 400 and the existing one is kept.
func TestAlertmanagerGroupAndSilenceQuotas(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) {
		c.Limits.MaxAggregationGroups = 1
		c.Limits.MaxSilences = 1
	}})
	ws := s.CreateWorkspace(t, "am-quotas")
	hook := newWebhookSink(t)
	putAlertmanager(t, s, ws, groupPerAlertname(hook.URL))
	postAlerts(t, s, ws, `[{"labels":{"alertname":"one"}}]`)
	hook.waitFor(t, 10*time.Second, hasAlert("one"))
	postAlerts(t, s, ws, `[{"labels":{"alertname":"two"}}]`)
	if _, ok := amAlerts(t, s, ws)["two/"]; !ok {
		t.Fatal("the second alert was not stored")
	}
	// The dispatcher refused "two" a group, then "one"'s group flushed
	// twice (a group_wait and an interval went by).
	waitUntil(t, 15*time.Second, "the group quota reached", func() bool {
		return s.App.AlertmanagerMetric(ws, "alertmanager_dispatcher_aggregation_group_limit_reached_total", "", "") >= 1
	})
	asked := s.App.AlertmanagerMetric(ws, "alertmanager_nflog_queries_total", "", "")
	waitUntil(t, 15*time.Second, "two flushes of the first group", func() bool {
		return s.App.AlertmanagerMetric(ws, "alertmanager_nflog_queries_total", "", "") >= asked+2
	})
	var groups []map[string]any
	if code := amGet(t, s, ws, "/alerts/groups", nil, &groups); code != 200 || len(groups) != 1 {
		t.Fatalf("with max_aggregation_groups=1: %d groups %+v", code, groups)
	}
	for _, p := range hook.notifications() {
		if hasAlert("two")(p) {
			t.Fatalf("an alert beyond the aggregation group quota was notified: %+v", p)
		}
	}

	if code, _ := postSilence(t, s, ws, "alertname", "one", false, "first"); code != 200 {
		t.Fatalf("first silence: %d", code)
	}
	if code, _ := postSilence(t, s, ws, "alertname", "one", false, "second"); code != 400 {
		t.Fatalf("a silence beyond max_silences=1: %d, want 400", code)
	}
	var sils []map[string]any
	if code := amGet(t, s, ws, "/silences", nil, &sils); code != 200 || len(sils) != 1 || sils[0]["comment"] != "first" {
		t.Fatalf("silences: %d %v", code, sils)
	}
}

// TestOtherReceivers: beyond AMP, every Alertmanager receiver type works;
// Slack, PagerDuty and Opsgenie are checked against local HTTP endpoints.
func TestOtherReceivers(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits[r.URL.Path] = string(b)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","ok":true}`))
	}))
	defer srv.Close()
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "receivers")
	putAlertmanager(t, s, ws, fmt.Sprintf(`alertmanager_config: |
  route:
    receiver: all
    group_wait: 1s
  receivers:
  - name: all
    slack_configs:
    - api_url: %[1]s/slack
      channel: '#alerts'
    pagerduty_configs:
    - url: %[1]s/pagerduty
      routing_key: abc
    opsgenie_configs:
    - api_url: %[1]s/opsgenie/
      api_key: k
`, srv.URL))
	postAlerts(t, s, ws, ampExampleAlert)
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(hits["/slack"], "test-alert") && strings.Contains(hits["/pagerduty"], `"routing_key":"abc"`) &&
			strings.Contains(hits["/opsgenie/v2/alerts"], "test-alert")
	})
}

// ampRulesExample is the rules file example of AMP's user guide
// (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-ruler-rulesfile.html,
// its 2024 edition; its two code blocks put back together, the wrapped
// indentation restored).
const ampRulesExample = `groups:
- name: test
  rules:
  - record: metric:recording_rule
    expr: avg(rate(container_cpu_usage_seconds_total[5m]))
- name: alert-test
  rules:
  - alert: metric:alerting_rule
    expr: avg(rate(container_cpu_usage_seconds_total[5m])) > 0
    for: 2m
`

// TestAMPRulesFileExample: AMP's example rules file evaluates: the recording rule's
// series appears, and the alerting rule is pending for its 2 minutes.
func TestAMPRulesFileExample(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) {
		fastRules(c)
		c.Ruler.DefaultEvaluationInterval = model.Duration(time.Second) // AMP's default is 1m
	}})
	ws := s.CreateWorkspace(t, "amp-rules")
	now := time.Now()
	var series []prompb.TimeSeries
	for i := 8; i >= 0; i-- { // a counter rising 15 per 15 s: rate 1/s
		series = append(series, sample(now.Add(-time.Duration(i)*15*time.Second), float64(100-15*i), "__name__", "container_cpu_usage_seconds_total", "pod", "p1"))
	}
	req := &prompb.WriteRequest{Timeseries: series}
	if code, body, err := testenv.RemoteWrite(ctx, s.Admin, ws, req); err != nil || code != 200 {
		t.Fatalf("write: %d %s %v", code, body, err)
	}
	putRules(t, s, ws, "example", ampRulesExample)
	waitFor(t, func() bool {
		code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {"metric:recording_rule"}})
		// rate() over 5m of 2 minutes of data: positive, extrapolated.
		return code == 200 && strings.Contains(string(r.Data), `"__name__":"metric:recording_rule"`) && !strings.Contains(string(r.Data), `"0"]`)
	})
	waitFor(t, func() bool {
		code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/alerts", nil)
		return code == 200 && strings.Contains(string(r.Data), `"alertname":"metric:alerting_rule"`) && strings.Contains(string(r.Data), `"state":"pending"`)
	})
}
