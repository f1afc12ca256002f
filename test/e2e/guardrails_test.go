package e2e

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/client"
)

func (s *server) tokenClient(t *testing.T) (*client.Client, string) {
	t.Helper()
	out, code := s.kansoku(t, "token", "create", "--name", "e2e")
	tok := strings.TrimSpace(strings.Split(out, "\n")[0])
	if code != 0 {
		t.Fatalf("token create: %s", out)
	}
	c := client.New(s.URL, "us-east-1", s.Admin.Creds)
	c.Token = tok
	return c, tok
}

type usageOut struct {
	Usage struct {
		DiscardedSamples map[string]float64 `json:"discardedSamples"`
	} `json:"usage"`
	HA map[string]string `json:"haElectedReplicas"`
}

func (s *server) usage(t *testing.T, ws string) usageOut {
	t.Helper()
	var u usageOut
	if err := s.Admin.JSON(context.Background(), "GET", "/admin/v1/workspaces/"+ws+"/usage", nil, nil, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// rawSamples returns the timestamps of a series' raw samples in the last window.
func rawSamples(t *testing.T, c *client.Client, ws, selector string, window time.Duration) []float64 {
	t.Helper()
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][]any           `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	q := url.Values{"query": {fmt.Sprintf("%s[%ds]", selector, int(window.Seconds()))}}
	if err := c.JSON(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/query", q, nil, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Data.Result) != 1 {
		t.Fatalf("%s: %d series, want 1: %+v", selector, len(r.Data.Result), r.Data.Result)
	}
	var ts []float64
	for _, v := range r.Data.Result[0].Values {
		ts = append(ts, v[0].(float64))
	}
	sort.Float64s(ts)
	return ts
}

// TestHAPairDeduplicationAndFailover: two real Prometheus replicas of one
// cluster remote-write to one workspace; one copy is stored; killing the
// leader fails over within ~30 s.
func TestHAPairDeduplicationAndFailover(t *testing.T) {
	s := startServer(t, "")
	ws := createWorkspace(t, s.Admin, "ha")
	tc, token := s.tokenClient(t)
	cfg := func(replica string) string {
		return fmt.Sprintf(`
global:
  scrape_interval: 1s
  external_labels:
    cluster: prod
    __replica__: %s
scrape_configs:
  - job_name: kansoku
    authorization: {credentials: %q}
    static_configs: [{targets: ['127.0.0.1:%d']}]
remote_write:
  - url: %s/workspaces/%s/api/v1/remote_write
    sigv4: {region: us-east-1, access_key: %s, secret_key: %s}
    queue_config: {batch_send_deadline: 500ms}
`, replica, token, s.port, s.URL, ws, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"])
	}
	replicas := map[string]*prometheusProcess{"r1": startPrometheus(t, cfg("r1")), "r2": startPrometheus(t, cfg("r2"))}

	var leader string
	waitFor(t, 90*time.Second, "an elected replica and samples from both", func() bool {
		u := s.usage(t, ws)
		leader = u.HA["prod"]
		return leader != "" && u.Usage.DiscardedSamples != nil && counterValue(t, s, `kansoku_ha_deduped_samples_total{cluster="prod",workspace="`+ws+`"}`) > 0
	})
	// One copy: every series carries cluster="prod" and no __replica__.
	var series struct {
		Data []map[string]string `json:"data"`
	}
	if err := tc.JSON(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/series", url.Values{"match[]": {`up`}}, nil, &series); err != nil {
		t.Fatal(err)
	}
	if len(series.Data) != 1 || series.Data[0]["cluster"] != "prod" || series.Data[0]["__replica__"] != "" {
		t.Fatalf("series of up: %+v", series.Data)
	}
	for _, p := range replicas {
		if strings.Contains(p.log(), "non-recoverable error") {
			t.Fatalf("a replica logged remote-write errors (202 for the non-elected one must count as success):\n%s", lastLines(p.log(), 10))
		}
	}

	// Kill the leader; the other replica takes over.
	killedAt := time.Now()
	if err := replicas[leader].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	other := map[string]string{"r1": "r2", "r2": "r1"}[leader]
	waitFor(t, 60*time.Second, "failover to "+other, func() bool { return s.usage(t, ws).HA["prod"] == other })
	took := time.Since(killedAt)
	t.Logf("failover after %s", took.Round(time.Second))
	if took > 45*time.Second {
		t.Fatalf("failover took %s", took)
	}
	// Samples flow again from the new leader; the gap is about the failover timeout.
	waitFor(t, 30*time.Second, "samples after failover", func() bool {
		ts := rawSamples(t, tc, ws, `up{cluster="prod"}`, 3*time.Minute)
		return ts[len(ts)-1] > float64(time.Now().Add(-3*time.Second).Unix())
	})
	ts := rawSamples(t, tc, ws, `up{cluster="prod"}`, 3*time.Minute)
	maxGap := 0.0
	for i := 1; i < len(ts); i++ {
		maxGap = math.Max(maxGap, ts[i]-ts[i-1])
	}
	t.Logf("largest gap in up{cluster=\"prod\"}: %.1fs", maxGap)
	if maxGap > 40 {
		t.Fatalf("gap of %.1fs: more than the 30s failover timeout allows", maxGap)
	}
	// The election survives a restart of Kansoku.
	if err := s.stop(false); err != nil {
		t.Fatal(err)
	}
	s.start()
	if got := s.usage(t, ws).HA["prod"]; got != other {
		t.Fatalf("elected replica after restart: %q, want %q", got, other)
	}
}

func counterValue(t *testing.T, s *server, series string) float64 {
	t.Helper()
	resp, b, err := s.Admin.Raw(context.Background(), "GET", "/metrics", nil, "", nil, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, series+" ") {
			var v float64
			fmt.Sscanf(strings.TrimPrefix(line, series+" "), "%g", &v)
			return v
		}
	}
	return 0
}

// TestThrottledPrometheusBacksOffAndDelivers: a real Prometheus over its
// workspace's rate limit gets 429s, backs off, and once the limit is raised
// at runtime (kansoku limits set) delivers everything it had.
func TestThrottledPrometheusBacksOffAndDelivers(t *testing.T) {
	s := startServer(t, "")
	ws := createWorkspace(t, s.Admin, "throttled")
	if out, code := s.kansoku(t, "limits", "set", ws, "ingestion_rate=20", "ingestion_burst_size=200"); code != 0 || !strings.Contains(out, "overridden") {
		t.Fatalf("limits set: %d %s", code, out)
	}
	tc, token := s.tokenClient(t)
	p := startPrometheus(t, fmt.Sprintf(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: kansoku
    authorization: {credentials: %q}
    static_configs: [{targets: ['127.0.0.1:%d']}]
remote_write:
  - url: %s/workspaces/%s/api/v1/remote_write
    sigv4: {region: us-east-1, access_key: %s, secret_key: %s}
    queue_config: {batch_send_deadline: 500ms, max_samples_per_send: 150, retry_on_http_429: true, max_backoff: 1s}
    metadata_config: {send: false}
`, token, s.port, s.URL, ws, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"]))

	waitFor(t, 60*time.Second, "throttling", func() bool { return s.usage(t, ws).Usage.DiscardedSamples["rate_limited"] > 2000 })
	out, code := s.kansoku(t, "usage", ws)
	if code != 0 || !strings.Contains(out, "rate_limited") {
		t.Fatalf("kansoku usage: %s", out)
	}
	throttledUntil := time.Now()
	promClient := client.New(p.URL, "us-east-1", s.Admin.Creds)
	promClient.Token = "unused" // Prometheus ignores the header
	window := 60
	at := fmt.Sprint(throttledUntil.Unix())
	count := func(c *client.Client, path string) string {
		var r struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		q := url.Values{"query": {fmt.Sprintf(`count_over_time(up{job="kansoku"}[%ds])`, window)}, "time": {at}}
		if err := c.JSON(context.Background(), "GET", path, q, nil, &r); err != nil || len(r.Data.Result) != 1 {
			return fmt.Sprintf("err=%v result=%+v", err, r.Data.Result)
		}
		return fmt.Sprint(r.Data.Result[0].Value[1])
	}
	// While throttled, Kansoku has fewer samples than Prometheus scraped.
	before, scraped := count(tc, "/workspaces/"+ws+"/api/v1/query"), count(promClient, "/api/v1/query")
	if before == scraped {
		t.Fatalf("no backlog while throttled: Kansoku %s, Prometheus %s", before, scraped)
	}
	if out, code := s.kansoku(t, "limits", "set", ws, "ingestion_rate=1000000", "ingestion_burst_size=10000000"); code != 0 {
		t.Fatalf("raising the limit: %s", out)
	}
	// Everything Prometheus scraped while throttled arrives: its own count of
	// `up` samples in the throttled window equals Kansoku's.
	var local, remote string
	waitFor(t, 90*time.Second, "the backlog to be delivered", func() bool {
		local, remote = count(promClient, "/api/v1/query"), count(tc, "/workspaces/"+ws+"/api/v1/query")
		return local == remote
	})
	t.Logf("samples of up in the throttled window: Prometheus %s; Kansoku %s while throttled, %s after the limit was raised", local, before, remote)
	if strings.Contains(p.log(), "non-recoverable") {
		t.Fatalf("Prometheus dropped data:\n%s", lastLines(p.log(), 10))
	}
	var lim struct {
		Limits map[string]any `json:"limits"`
	}
	if err := s.Admin.JSON(context.Background(), "GET", "/admin/v1/workspaces/"+ws+"/limits", nil, nil, &lim); err != nil || lim.Limits["ingestion_rate"] != 1e6 {
		t.Fatalf("limits after raising: %v %v", lim.Limits["ingestion_rate"], err)
	}
}
