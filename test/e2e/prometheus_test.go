package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/client"
	"github.com/kansoku/kansoku/internal/testenv"
)

// prometheusProcess runs upstream Prometheus with a config.
type prometheusProcess struct {
	cmd     *exec.Cmd
	logFile string
	URL     string
}

func startPrometheus(t *testing.T, config string, extraArgs ...string) *prometheusProcess {
	t.Helper()
	return startPrometheusEnv(t, config, nil, extraArgs...)
}

// startPrometheusEnv starts Prometheus with the given environment (nil:
// this process's).
func startPrometheusEnv(t *testing.T, config string, env []string, extraArgs ...string) *prometheusProcess {
	t.Helper()
	bin := need(t, filepath.Join(peersDir, "prometheus"))
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p := &prometheusProcess{logFile: filepath.Join(dir, "prometheus.log"), URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	lf, _ := os.Create(p.logFile)
	args := append([]string{"--config.file=" + cfgFile, "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port)}, extraArgs...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = lf, lf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		lf.Close()
		if t.Failed() {
			t.Logf("prometheus log (last lines):\n%s", tail(p.log(), 40))
		}
	})
	return p
}

func (p *prometheusProcess) log() string {
	b, _ := os.ReadFile(p.logFile)
	return string(b)
}

// TestPrometheusSigV4RemoteWriteAndPromtool is the first path of an AMP
// user: a real Prometheus remote-writes with its sigv4 block, and promtool
// reads the data back with a bearer token.
func TestPrometheusSigV4RemoteWriteAndPromtool(t *testing.T) {
	promtool := need(t, filepath.Join(peersDir, "promtool"))
	s := startServer(t, "")
	ws := createWorkspace(t, s.Admin, "prom")
	token, code := s.kansoku(t, "token", "create", "--name", "scrape")
	token = strings.TrimSpace(strings.Split(token, "\n")[0])
	if code != 0 {
		t.Fatalf("token create: %s", token)
	}
	cfg := fmt.Sprintf(`
global:
  scrape_interval: 1s
  external_labels:
    replica_set: e2e
scrape_configs:
  - job_name: kansoku
    metrics_path: /metrics
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
    metadata_config:
      send_interval: 2s
`, token, s.port, s.URL, ws, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"])
	p := startPrometheus(t, cfg)

	tc := client.New(s.URL, "us-east-1", s.Admin.Creds)
	tc.Token = token
	waitFor(t, 60*time.Second, "Prometheus' samples in the workspace", func() bool {
		var r struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		err := tc.JSON(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {`up{job="kansoku"}`}}, nil, &r)
		return err == nil && len(r.Data.Result) == 1 && r.Data.Result[0].Value[1] == "1"
	})
	// Prometheus logs a refused write as "server returned HTTP status 403
	// Forbidden: ..." (a bare "403" also turns up in durations and ports).
	if l := p.log(); strings.Contains(l, "non-recoverable error") || strings.Contains(l, "HTTP status 4") || strings.Contains(l, "HTTP status 5") {
		t.Fatalf("Prometheus reported remote write errors:\n%s", lastLines(p.log(), 20))
	}
	// Metadata sent by Prometheus is served by /api/v1/metadata. (Kansoku's
	// /metrics speaks OpenMetrics, whose counter families drop "_total".)
	waitFor(t, 30*time.Second, "metadata from Prometheus", func() bool {
		var r struct {
			Data map[string][]map[string]string `json:"data"`
		}
		err := tc.JSON(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/metadata", url.Values{"metric": {"kansoku_http_requests"}}, nil, &r)
		md := r.Data["kansoku_http_requests"]
		return err == nil && len(md) == 1 && md[0]["type"] == "counter" && strings.HasPrefix(md[0]["help"], "HTTP requests")
	})

	httpCfg := filepath.Join(t.TempDir(), "http.yml")
	if err := os.WriteFile(httpCfg, []byte(fmt.Sprintf("authorization:\n  type: Bearer\n  credentials: %q\n", token)), 0o600); err != nil {
		t.Fatal(err)
	}
	endpoint := s.URL + "/workspaces/" + ws
	out, code := run(t, nil, promtool, "query", "instant", "--http.config.file="+httpCfg, endpoint, `up{job="kansoku"}`)
	if code != 0 || !strings.Contains(out, `up{instance="127.0.0.1:`) || !strings.Contains(out, "=> 1 @") || !strings.Contains(out, `replica_set="e2e"`) {
		t.Fatalf("promtool query instant: %d %s", code, out)
	}
	// Let a few scrapes arrive so the range has several points.
	first := time.Now()
	waitFor(t, 30*time.Second, "three scrapes", func() bool { return time.Since(first) > 3500*time.Millisecond })
	start := time.Now().Add(-30 * time.Second).UTC().Format(time.RFC3339)
	out, code = run(t, nil, promtool, "query", "range", "--http.config.file="+httpCfg, "--start="+start, "--step=1s", endpoint, `sum(up{job="kansoku"})`)
	if code != 0 || strings.Count(out, " @[") < 3 {
		t.Fatalf("promtool query range: %d %s", code, out)
	}
	out, code = run(t, nil, promtool, "query", "labels", "--http.config.file="+httpCfg, endpoint, "job")
	if code != 0 || strings.TrimSpace(out) != "kansoku" {
		t.Fatalf("promtool query labels: %d %s", code, out)
	}
	out, code = run(t, nil, promtool, "query", "series", "--http.config.file="+httpCfg, "--match=up", endpoint)
	if code != 0 || !strings.Contains(out, `job="kansoku"`) {
		t.Fatalf("promtool query series: %d %s", code, out)
	}
	// Without credentials promtool is refused.
	out, code = run(t, nil, promtool, "query", "instant", endpoint, "up")
	if code == 0 || !strings.Contains(out, "403") {
		t.Fatalf("promtool without a token: %d %s", code, out)
	}
}

// TestPrometheusBadKeyIsRefused: a Prometheus signing with an unknown key
// gets 403 and says so; nothing is stored.
func TestPrometheusBadKeyIsRefused(t *testing.T) {
	s := startServer(t, "")
	ws := createWorkspace(t, s.Admin, "refused")
	cfg := fmt.Sprintf(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ['127.0.0.1:1']
remote_write:
  - url: %s/workspaces/%s/api/v1/remote_write
    sigv4:
      region: us-east-1
      access_key: AKIAIOSFODNN7EXAMPLE
      secret_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
    queue_config:
      batch_send_deadline: 500ms
`, s.URL, ws)
	p := startPrometheus(t, cfg)
	waitFor(t, 60*time.Second, "Prometheus to log the refusal", func() bool {
		return strings.Contains(p.log(), "403") && strings.Contains(p.log(), "UnrecognizedClientException") || strings.Contains(p.log(), "not known to this installation")
	})
	if names := queryNames(t, s.Admin, ws); names != "[]" {
		t.Fatalf("refused writes stored data: %s", names)
	}
}

// writeSamples pushes n samples of one series ending at end, one per second.
func writeSamples(t *testing.T, c *client.Client, ws, metric string, end time.Time, n int) {
	t.Helper()
	var samples []prompb.Sample
	for i := n - 1; i >= 0; i-- {
		samples = append(samples, prompb.Sample{Timestamp: end.Add(-time.Duration(i) * time.Second).UnixMilli(), Value: float64(n - i)})
	}
	code, body, err := testenv.RemoteWrite(context.Background(), c, ws, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: testenv.Series("__name__", metric, "job", "e2e"), Samples: samples}}})
	if err != nil || code != 200 {
		t.Fatalf("remote write: %d %s %v", code, body, err)
	}
}
