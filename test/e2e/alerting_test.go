package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/sim/awssim"
)

// hookSink is a real HTTP endpoint receiving Alertmanager webhook calls.
type hookSink struct {
	mu       sync.Mutex
	payloads []map[string]any
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var p map[string]any
	_ = json.Unmarshal(b, &p)
	h.mu.Lock()
	h.payloads = append(h.payloads, p)
	h.mu.Unlock()
}

func (h *hookSink) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.payloads)
}

func (h *hookSink) first() map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.payloads[0]
}

// TestAlertingEndToEnd follows an alert with real peers all the way: a
// real Prometheus remote-writes with SigV4; the workspace's rules and
// Alertmanager definition are uploaded with the real AWS CLI; the alerting
// rule fires; the notification reaches a real webhook and, via the AWS SDK,
// the SNS simulator; the real amtool lists the alert and adds, queries and
// expires silences; after a kill -9 and restart the silences are still
// there and the notification is not sent again.
func TestAlertingEndToEnd(t *testing.T) {
	amtool := need(t, "/usr/bin/amtool")
	aws := need(t, "/usr/bin/aws")

	sim := awssim.New(awssim.Options{Region: "us-east-1", Credentials: map[string]string{"AKIDE2ESNSPUBLISHER1": "e2e-sns-secret"}})
	topic := "arn:aws:sns:us-east-1:123456789012:oncall"
	sim.AddTopic(topic)
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	hook := &hookSink{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()

	dataDir := t.TempDir()
	// The webhook listens on loopback, which the receiver firewall refuses unless opened.
	s := startServer(t, dataDir, "--alertmanager.sns-endpoint="+simSrv.URL, "--alertmanager.receiver-allow-network=127.0.0.0/8")
	env := awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1")
	awsCLI := func(args ...string) string {
		t.Helper()
		out, code := run(t, env, aws, append(append([]string{"amp"}, args...), "--endpoint-url", s.URL, "--output", "json")...)
		if code != 0 {
			t.Fatalf("aws amp %v: %s", args, out)
		}
		return out
	}
	var created struct {
		WorkspaceID string `json:"workspaceId"`
	}
	if err := json.Unmarshal([]byte(awsCLI("create-workspace", "--alias", "alerting")), &created); err != nil {
		t.Fatal(err)
	}
	ws := created.WorkspaceID
	awsCLI("wait", "workspace-active", "--workspace-id", ws)
	// Evaluate every second in this test (AMP's minimum is 30s).
	if out, code := s.kansoku(t, "limits", "set", ws, "min_evaluation_interval=1s"); code != 0 {
		t.Fatalf("limits set: %s", out)
	}

	dir := t.TempDir()
	amFile, rulesFile := filepath.Join(dir, "am.yaml"), filepath.Join(dir, "rules.yaml")
	writeFile(t, amFile, fmt.Sprintf(`alertmanager_config: |
  route:
    receiver: oncall
    group_by: [alertname]
    group_wait: 1s
    group_interval: 1s
    repeat_interval: 4h
  receivers:
  - name: oncall
    webhook_configs:
    - url: %s/hook
    sns_configs:
    - topic_arn: %s
      subject: 'Kansoku: {{ .CommonLabels.alertname }}'
      sigv4:
        region: us-east-1
        access_key: AKIDE2ESNSPUBLISHER1
        secret_key: e2e-sns-secret
      attributes:
        severity: '{{ .CommonLabels.severity }}'
`, hookSrv.URL, topic))
	writeFile(t, rulesFile, `groups:
- name: kansoku
  interval: 1s
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: KansokuScraped
    expr: up{job="kansoku"} == 1
    labels:
      severity: page
    annotations:
      summary: 'Kansoku at {{ $labels.instance }} is up'
`)
	awsCLI("create-alert-manager-definition", "--workspace-id", ws, "--data", "fileb://"+amFile)
	awsCLI("create-rule-groups-namespace", "--workspace-id", ws, "--name", "kansoku", "--data", "fileb://"+rulesFile)
	waitFor(t, 30*time.Second, "definition and namespace ACTIVE", func() bool {
		out1, _ := run(t, env, aws, "amp", "describe-alert-manager-definition", "--workspace-id", ws, "--endpoint-url", s.URL)
		out2, _ := run(t, env, aws, "amp", "describe-rule-groups-namespace", "--workspace-id", ws, "--name", "kansoku", "--endpoint-url", s.URL)
		return strings.Contains(out1, `"statusCode": "ACTIVE"`) && strings.Contains(out2, `"statusCode": "ACTIVE"`)
	})

	token, code := s.kansoku(t, "token", "create", "--name", "e2e")
	token = strings.TrimSpace(strings.Split(token, "\n")[0])
	if code != 0 {
		t.Fatalf("token create: %s", token)
	}
	startPrometheus(t, fmt.Sprintf(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: kansoku
    authorization:
      credentials: %q
    static_configs:
      - targets: ['127.0.0.1:%d']
remote_write:
  - url: %s/workspaces/%s/api/v1/remote_write
    sigv4:
      region: us-east-1
      access_key: %s
      secret_key: %s
    queue_config:
      batch_send_deadline: 500ms
`, token, s.port, s.URL, ws, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"]))

	waitFor(t, 60*time.Second, "the webhook notification", func() bool { return hook.count() > 0 })
	p := hook.first()
	if alerts, _ := p["alerts"].([]any); len(alerts) != 1 || !strings.Contains(fmt.Sprint(alerts[0]), "alertname:KansokuScraped") || !strings.Contains(fmt.Sprint(alerts[0]), "is up") {
		t.Fatalf("webhook payload: %v", p)
	}
	waitFor(t, 10*time.Second, "the SNS publish", func() bool { return len(sim.Published(topic)) > 0 })
	m := sim.Published(topic)[0]
	if m.Subject != "Kansoku: KansokuScraped" || !strings.Contains(m.Message, "Kansoku at 127.0.0.1:") || m.Attributes["severity"].StringValue != "page" {
		t.Fatalf("SNS message: %+v", m)
	}

	// amtool against the workspace's Alertmanager, authenticated with the token.
	httpCfg := filepath.Join(dir, "amtool-http.yml")
	writeFile(t, httpCfg, fmt.Sprintf("authorization:\n  type: Bearer\n  credentials: %q\n", token))
	am := func(args ...string) (string, int) {
		t.Helper()
		return run(t, nil, amtool, append([]string{"--alertmanager.url=" + s.URL + "/workspaces/" + ws + "/alertmanager", "--http.config.file=" + httpCfg}, args...)...)
	}
	if out, code := am("alert", "query"); code != 0 || !strings.Contains(out, "KansokuScraped") {
		t.Fatalf("amtool alert query: %d %s", code, out)
	}
	idRE := regexp.MustCompile(`^[0-9a-f-]{36}$`)
	out, code := am("silence", "add", "alertname=Unrelated", "--comment=kept across a crash", "--duration=2h", "--author=e2e")
	keep := lastLine(out) // amtool warns first that its version differs
	if code != 0 || !idRE.MatchString(keep) {
		t.Fatalf("amtool silence add: %d %s", code, out)
	}
	out, code = am("silence", "add", "alertname=Temporary", "--comment=expire me", "--duration=1h")
	expire := lastLine(out)
	if code != 0 || !idRE.MatchString(expire) {
		t.Fatalf("amtool silence add: %d %s", code, out)
	}
	if out, code := am("silence", "query", "-q"); code != 0 || !strings.Contains(out, keep) || !strings.Contains(out, expire) {
		t.Fatalf("amtool silence query: %d %s", code, out)
	}
	if out, code := am("silence", "expire", expire); code != 0 {
		t.Fatalf("amtool silence expire: %d %s", code, out)
	}
	if out, code := am("silence", "query", "-q"); code != 0 || !strings.Contains(out, keep) || strings.Contains(out, expire) {
		t.Fatalf("amtool silence query after expire: %d %s", code, out)
	}
	// Without credentials amtool is refused.
	if out, code := run(t, nil, amtool, "--alertmanager.url="+s.URL+"/workspaces/"+ws+"/alertmanager", "silence", "query"); code == 0 {
		t.Fatalf("amtool without a token: %s", out)
	}

	// Crash and restart: the silence is kept, the alert fires again and is
	// not notified a second time.
	sent, published := hook.count(), len(sim.Published(topic))
	if err := s.stop(true); err == nil {
		t.Log("kansoku exited cleanly on SIGKILL?")
	}
	s.start("--alertmanager.sns-endpoint="+simSrv.URL, "--alertmanager.receiver-allow-network=127.0.0.0/8")
	waitFor(t, 30*time.Second, "the alert again after restart", func() bool {
		out, code := am("alert", "query")
		return code == 0 && strings.Contains(out, "KansokuScraped")
	})
	if out, code := am("silence", "query", "-q"); code != 0 || lastLine(out) != keep || strings.Contains(out, expire) {
		t.Fatalf("silences after a crash: %d %q (want %s)", code, out, keep)
	}
	time.Sleep(4 * time.Second) // group_wait + several group_intervals
	if hook.count() != sent || len(sim.Published(topic)) != published {
		t.Fatalf("notifications were sent again after the restart: webhook %d -> %d, SNS %d -> %d", sent, hook.count(), published, len(sim.Published(topic)))
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
