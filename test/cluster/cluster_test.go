package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// push remote-writes series to ws through base and returns the status.
func push(t *testing.T, base, ws string, series []prompb.TimeSeries) (int, string) {
	t.Helper()
	raw, err := (&prompb.WriteRequest{Timeseries: series}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Content-Encoding": {"snappy"}, "X-Prometheus-Remote-Write-Version": {"0.1.0"}}
	resp, body, err := api(base).Raw(context.Background(), http.MethodPost, "/workspaces/"+ws+"/api/v1/remote_write", nil,
		"application/x-protobuf", snappy.Encode(nil, raw), h)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(body)
}

func series(name string, labels map[string]string, ts int64, v float64) prompb.TimeSeries {
	ls := []prompb.Label{{Name: "__name__", Value: name}}
	for k, val := range labels {
		ls = append(ls, prompb.Label{Name: k, Value: val})
	}
	return prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Timestamp: ts, Value: v}}}
}

// A workspace created through one node is ACTIVE on the other at once,
// and what one node ingests the other reads.
func TestWorkspaceOnEveryNode(t *testing.T) {
	dumpOnFailure(t, "kansoku-1", "kansoku-2")
	ws := createWorkspace(t, nodes[0], "across")
	var d struct {
		Workspace struct {
			Status struct {
				StatusCode string `json:"statusCode"`
			} `json:"status"`
		} `json:"workspace"`
	}
	if err := json.Unmarshal([]byte(awsAMP(t, nodes[1], "describe-workspace", "--workspace-id", ws)), &d); err != nil || d.Workspace.Status.StatusCode != "ACTIVE" {
		t.Fatalf("on the other node: %+v %v", d, err)
	}
	now := time.Now().UnixMilli()
	if code, body := push(t, nodes[1], ws, []prompb.TimeSeries{series("across_nodes", map[string]string{"job": "t"}, now, 42)}); code != http.StatusOK {
		t.Fatalf("remote_write on node 2: %d %s", code, body)
	}
	got, err := query(t, nodes[0], ws, "across_nodes", time.Time{})
	if err != nil || !strings.Contains(got, `"42"`) {
		t.Fatalf("node 1 reads %s %v", got, err)
	}
}

// A real Prometheus remote-writes through haproxy, with its sigv4 block,
// and both nodes answer the same query the same way.
func TestPrometheusThroughTheLoadBalancer(t *testing.T) {
	dumpOnFailure(t, "kansoku-1", "kansoku-2", "haproxy")
	ws := createWorkspace(t, lb, "prometheus")
	bin := filepath.Join(repoRoot, ".cache", "peers", "prometheus")
	pdir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs: [{targets: ['127.0.0.1:%s']}]
remote_write:
  - url: %s/workspaces/%s/api/v1/remote_write
    sigv4:
      region: %s
      access_key: %s
      secret_key: %s
    queue_config:
      retry_on_http_429: true
      batch_send_deadline: 1s
`, port, lb, ws, creds["AWS_DEFAULT_REGION"], creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"])
	if err := os.WriteFile(filepath.Join(pdir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, _ := os.Create(filepath.Join(pdir, "prometheus.log"))
	cmd := exec.Command(bin, "--config.file="+filepath.Join(pdir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(pdir, "data"),
		"--web.listen-address=127.0.0.1:"+port)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
	var at time.Time
	waitFor(t, 60*time.Second, "Prometheus' samples on both nodes", func() bool {
		at = time.Now().Add(-2 * time.Second)
		a, err1 := query(t, nodes[0], ws, `count_over_time(up{job="prometheus"}[1m])`, at)
		b, err2 := query(t, nodes[1], ws, `count_over_time(up{job="prometheus"}[1m])`, at)
		return err1 == nil && err2 == nil && a == b && strings.Contains(a, `"value"`) && !strings.Contains(a, `"1"]`)
	})
	a, _ := query(t, nodes[0], ws, `sum(prometheus_tsdb_head_series)`, at)
	b, _ := query(t, nodes[1], ws, `sum(prometheus_tsdb_head_series)`, at)
	if a != b || !strings.Contains(a, "value") {
		t.Fatalf("the nodes disagree: %s and %s", a, b)
	}
}

// hooks counts webhook notifications by alert name and status.
type hooks struct {
	mu    sync.Mutex
	count map[string]int
}

func (h *hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Status string `json:"status"`
		Alerts []struct {
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &msg)
	h.mu.Lock()
	for _, a := range msg.Alerts {
		h.count[a.Labels["alertname"]+"/"+msg.Status]++
	}
	h.mu.Unlock()
}

func (h *hooks) n(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count[key]
}

func (h *hooks) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fmt.Sprint(h.count)
}

// One alert is notified once, not once per node; when the node running
// the workspace's rules and Alertmanager is killed, the other node takes
// them over within the failover time: rules keep evaluating and alerting,
// the silence holds, nothing already notified is notified again, and
// writes and queries through the load balancer go on.
func TestAlertingAndFailover(t *testing.T) {
	dumpOnFailure(t, "kansoku-1", "kansoku-2")
	hk := &hooks{count: map[string]int{}}
	srv := httptest.NewServer(hk)
	defer srv.Close()
	ws := createWorkspace(t, lb, "alerting")
	setLimits(t, ws, map[string]string{"min_evaluation_interval": "1s"})

	tmp := t.TempDir()
	am := filepath.Join(tmp, "am.yaml")
	if err := os.WriteFile(am, []byte(fmt.Sprintf(`alertmanager_config: |
  route:
    receiver: hook
    group_by: [alertname]
    group_wait: 1s
    group_interval: 1s
    repeat_interval: 4h
  receivers:
  - name: hook
    webhook_configs:
    - url: %s/hook
`, srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	awsAMP(t, lb, "create-alert-manager-definition", "--workspace-id", ws, "--data", "fileb://"+am)
	waitFor(t, 60*time.Second, "the Alertmanager definition ACTIVE", func() bool {
		return strings.Contains(awsAMP(t, lb, "describe-alert-manager-definition", "--workspace-id", ws), `"ACTIVE"`)
	})
	// A silence before the rule that would notify exists: it must hold
	// through the failover.
	var silenced struct {
		SilenceID string `json:"silenceID"`
	}
	silence := fmt.Sprintf(`{"matchers":[{"name":"alertname","value":"Silenced","isRegex":false,"isEqual":true}],
		"startsAt":%q,"endsAt":%q,"createdBy":"test","comment":"maintenance"}`,
		time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	waitFor(t, 60*time.Second, "the Alertmanager to take a silence", func() bool {
		resp, body, err := api(lb).Raw(context.Background(), http.MethodPost, "/workspaces/"+ws+"/alertmanager/api/v2/silences", nil,
			"application/json", []byte(silence), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			return false
		}
		return json.Unmarshal(body, &silenced) == nil && silenced.SilenceID != ""
	})

	rules := filepath.Join(tmp, "rules.yaml")
	if err := os.WriteFile(rules, []byte(`groups:
- name: always
  interval: 1s
  rules:
  - alert: Always
    expr: vector(1) > 0
  - alert: Silenced
    expr: vector(2) > 0
`), 0o600); err != nil {
		t.Fatal(err)
	}
	createRuleNamespace(t, lb, ws, "always", rules)
	waitFor(t, 90*time.Second, "Always notified", func() bool { return hk.n("Always/firing") >= 1 })
	time.Sleep(8 * time.Second) // every node evaluates and sends in this time, if more than one ran it
	if n := hk.n("Always/firing"); n != 1 {
		t.Fatalf("Always notified %d times, want once (%s)", n, hk)
	}
	if n := hk.n("Silenced/firing"); n != 0 {
		t.Fatalf("a silenced alert was notified: %s", hk)
	}

	// Kill the owner.
	before := owner(t, ws)
	if before == "" {
		t.Fatal("no node holds the workspace's lease")
	}
	var survivor string
	for _, n := range nodes {
		if nodeName(n) != before {
			survivor = n
		}
	}
	stop := make(chan struct{})
	var writes, writeErrs atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { // a client writing through the load balancer all along, retrying as Prometheus does
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			ok := false
			for try := 0; try < 10 && !ok; try++ {
				code, _ := push(t, lb, ws, []prompb.TimeSeries{series("during_failover", nil, time.Now().UnixMilli(), float64(i))})
				ok = code == http.StatusOK
				if !ok {
					time.Sleep(300 * time.Millisecond)
				}
			}
			if ok {
				writes.Add(1)
			} else {
				writeErrs.Add(1)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	killedAt := time.Now()
	kill9(t, before)
	waitFor(t, 45*time.Second, "the other node to take the workspace over", func() bool {
		return owner(t, ws) == nodeName(survivor)
	})
	tookOver := time.Since(killedAt)
	// Rules evaluate on the new owner: a new alert is notified once.
	more := filepath.Join(tmp, "more.yaml")
	if err := os.WriteFile(more, []byte(`groups:
- name: after
  interval: 1s
  rules:
  - alert: AfterFailover
    expr: vector(3) > 0
`), 0o600); err != nil {
		t.Fatal(err)
	}
	createRuleNamespace(t, survivor, ws, "after", more)
	waitFor(t, 90*time.Second, "AfterFailover notified by the new owner", func() bool { return hk.n("AfterFailover/firing") >= 1 })
	time.Sleep(5 * time.Second)
	if hk.n("Always/firing") != 1 || hk.n("AfterFailover/firing") != 1 || hk.n("Silenced/firing") != 0 {
		t.Fatalf("after the failover: %s (want Always once, AfterFailover once, Silenced never)", hk)
	}
	// The silence is still there, read through either node.
	resp, body, err := api(survivor).Raw(context.Background(), http.MethodGet, "/workspaces/"+ws+"/alertmanager/api/v2/silence/"+silenced.SilenceID, nil, "", nil, nil)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"active"`) {
		t.Fatalf("the silence after the failover: %v %s", err, body)
	}
	close(stop)
	wg.Wait()
	if writeErrs.Load() > 0 || writes.Load() == 0 {
		t.Fatalf("writes through the load balancer during the failover: %d ok, %d failed", writes.Load(), writeErrs.Load())
	}
	if got, err := query(t, lb, ws, `count_over_time(during_failover[5m])`, time.Time{}); err != nil || !strings.Contains(got, "value") {
		t.Fatalf("querying after the failover: %s %v", got, err)
	}
	t.Logf("failover: %s after the kill the other node held the workspace; %d writes went through", tookOver.Round(time.Second), writes.Load())

	restart(t, before, nodeURL(before)+"/-/ready")
	time.Sleep(10 * time.Second) // leases rebalance: still nothing notified twice
	if hk.n("Always/firing") != 1 || hk.n("AfterFailover/firing") != 1 {
		t.Fatalf("after the node came back: %s", hk)
	}
}

// TestUploadsSeeLimitsSetThroughAnotherNode: an upload is validated
// against the workspace's limits as stored, even when a node has not
// reloaded them since another node changed them a moment ago: a rule group
// the new minimum interval allows is ACTIVE, an Alertmanager definition
// over the new template limit is refused.
func TestUploadsSeeLimitsSetThroughAnotherNode(t *testing.T) {
	dumpOnFailure(t, "kansoku-1", "kansoku-2")
	ws := createWorkspace(t, lb, "fresh-limits")
	tmp := t.TempDir()
	rules := filepath.Join(tmp, "rules.yaml")
	if err := os.WriteFile(rules, []byte("groups:\n- name: fast\n  interval: 1s\n  rules:\n  - record: one\n    expr: vector(1)\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kansoku(t, nodes[0], "limits", "set", ws, "min_evaluation_interval=1s")
	createRuleNamespace(t, nodes[1], ws, "fast", rules)

	am := filepath.Join(tmp, "am.yaml")
	if err := os.WriteFile(am, []byte(`template_files:
  a.tmpl: '{{ define "a" }}a{{ end }}'
  b.tmpl: '{{ define "b" }}b{{ end }}'
alertmanager_config: |
  templates: ['*']
  route: {receiver: d}
  receivers: [{name: d}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	kansoku(t, nodes[0], "limits", "set", ws, "max_templates=1")
	awsAMP(t, nodes[1], "create-alert-manager-definition", "--workspace-id", ws, "--data", "fileb://"+am)
	var out struct {
		AlertManagerDefinition struct {
			Status struct {
				StatusCode   string `json:"statusCode"`
				StatusReason string `json:"statusReason"`
			} `json:"status"`
		} `json:"alertManagerDefinition"`
	}
	if err := json.Unmarshal([]byte(awsAMP(t, nodes[1], "describe-alert-manager-definition", "--workspace-id", ws)), &out); err != nil {
		t.Fatal(err)
	}
	if st := out.AlertManagerDefinition.Status; st.StatusCode != "CREATION_FAILED" || !strings.Contains(st.StatusReason, "the limit is 1") {
		t.Fatalf("a definition over the template limit set a moment ago on the other node: %+v", st)
	}
}

func nodeURL(name string) string {
	for _, n := range nodes {
		if nodeName(n) == name {
			return n
		}
	}
	return ""
}

// Killing one Cortex ingester loses no sample Kansoku acknowledged: every
// sample is in replication-factor ingesters' WAL before the push is
// answered.
func TestCortexIngesterKilled(t *testing.T) {
	dumpOnFailure(t, "kansoku-1", "kansoku-2", "cortex-3")
	ws := createWorkspace(t, lb, "durable")
	const batches, perBatch = 20, 50
	acked := 0
	t0 := time.Now().Add(-time.Minute).UnixMilli()
	write := func(from, to int) {
		for b := from; b < to; b++ {
			var ss []prompb.TimeSeries
			for i := 0; i < perBatch; i++ {
				ss = append(ss, series("durable_total", map[string]string{"i": fmt.Sprint(i)}, t0+int64(b)*1000, float64(b)))
			}
			code, body := push(t, nodes[b%2], ws, ss)
			if code != http.StatusOK {
				t.Fatalf("batch %d: %d %s", b, code, body)
			}
			acked += perBatch
		}
	}
	write(0, batches/2)
	kill9(t, "cortex-3")
	write(batches/2, batches)
	got, err := query(t, nodes[0], ws, `sum(count_over_time(durable_total[10m]))`, time.Time{})
	if err != nil || !strings.Contains(got, fmt.Sprintf(`"%d"`, acked)) {
		t.Fatalf("after an ingester died: %s %v; want %d samples", got, err, acked)
	}
	restart(t, "cortex-3", cortexes[2]+"/ready")
}

// A throttled workspace is throttled at its rate across both nodes
// together, not at twice it.
func TestRateLimitHoldsAcrossNodes(t *testing.T) {
	dumpOnFailure(t, "kansoku-1", "kansoku-2")
	ws := createWorkspace(t, lb, "throttled")
	const rate, burst = 2000, 2000
	kansoku(t, lb, "limits", "set", ws, fmt.Sprintf("ingestion_rate=%d", rate), fmt.Sprintf("ingestion_burst_size=%d", burst))
	waitFor(t, 30*time.Second, "every Cortex process to load the new rate", func() bool {
		for _, c := range cortexes {
			resp, err := http.Get(c + "/runtime_config")
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			i := strings.Index(string(b), ws+":")
			if i < 0 || !strings.Contains(string(b[i:min(len(b), i+200)]), fmt.Sprintf("ingestion_rate: %d", rate)) {
				return false
			}
		}
		return true
	})
	// Cortex's global strategy divides the rate by the distributors each
	// process sees healthy in the distributors' ring: measure once every
	// process sees all three (after the previous test's ingester restart
	// the ring may still be converging).
	waitFor(t, 60*time.Second, "every Cortex process to see 3 healthy distributors and 3 memberlist members", func() bool {
		for _, c := range cortexes {
			if healthyDistributors(t, c) != len(cortexes) || memberlistMembers(c) != len(cortexes) {
				return false
			}
		}
		return true
	})
	t.Cleanup(func() {
		if t.Failed() {
			for _, c := range cortexes {
				t.Logf("%s sees %d healthy distributors, %d memberlist members", c, healthyDistributors(t, c), memberlistMembers(c))
			}
			for i := range cortexes {
				t.Logf("cortex-%d log (end):\n%s", i+1, logTail(fmt.Sprintf("cortex-%d", i+1)))
			}
		}
	})
	// pushFor has four writers push 200 samples each through both
	// Kansoku nodes until d has passed, and counts the answers.
	pushFor := func(d time.Duration) (accepted, throttled int64, elapsed float64) {
		var acc, thr atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < 4; w++ {
			wg.Go(func() {
				base := nodes[w%2]
				for time.Since(start) < d {
					var ss []prompb.TimeSeries
					now := time.Now().UnixMilli()
					for j := 0; j < 200; j++ {
						ss = append(ss, series("throttled", map[string]string{"w": fmt.Sprint(w), "j": fmt.Sprint(j)}, now, 1))
					}
					code, _ := push(t, base, ws, ss)
					switch code {
					case http.StatusOK:
						acc.Add(200)
					case http.StatusTooManyRequests:
						thr.Add(200)
					}
					time.Sleep(20 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		return acc.Load(), thr.Load(), time.Since(start).Seconds()
	}
	// A Cortex distributor fixes a tenant's share when the tenant's first
	// push arrives and revisits it every 10 s: a share taken while a
	// restarted process was still learning the ring would stand for that
	// long. Drain the buckets past one revisit, then measure.
	pushFor(11 * time.Second)
	accepted, throttled, elapsed := pushFor(10 * time.Second)
	// Cortex's global strategy gives each of its 3 distributors rate/3
	// and a burst each: at most rate×d + 3×burst cluster-wide (the
	// buckets were drained, so this is generous).
	limit := rate*elapsed + 3*burst
	t.Logf("accepted %d samples in %.1fs (%d throttled); the workspace's rate allows %.0f", accepted, elapsed, throttled, limit)
	if float64(accepted) > limit*1.1 {
		t.Fatalf("accepted %d samples, more than the rate allows (%.0f): each node throttles on its own", accepted, limit)
	}
	if throttled == 0 || float64(accepted) < 0.5*rate*elapsed {
		t.Fatalf("accepted %d, throttled %d: the test did not reach the limit", accepted, throttled)
	}
}

// memberlistMembers is the number of memberlist members (alive or
// suspected) the Cortex process at base knows: a process restarted under a
// new node name leaves its old name among them until it is declared dead.
func memberlistMembers(base string) int {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "memberlist_client_cluster_members_count "); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(n)
		}
	}
	return 0
}

// healthyDistributors counts the distributors the ring of the Cortex
// process at base shows ACTIVE (its page shows UNHEALTHY for one whose
// heartbeat is older than the heartbeat timeout).
func healthyDistributors(t *testing.T, base string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/distributor/ring", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var ring struct {
		Shards []struct {
			State string `json:"state"`
		} `json:"shards"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ring); err != nil {
		return 0
	}
	n := 0
	for _, s := range ring.Shards {
		if s.State == "ACTIVE" {
			n++
		}
	}
	return n
}

// Queries answered by Cortex are counted and logged with their samples
// processed (QSP) as the embedded engine's are: the query logging
// configuration of AMP works in the scale-out shape, and a client that
// did not ask for statistics does not get them.
func TestQueryLoggingThroughCortex(t *testing.T) {
	dumpOnFailure(t, "kansoku-1", "kansoku-2")
	ws := createWorkspace(t, lb, "qlog")
	var d struct{ Workspace struct{ Arn string } }
	if err := json.Unmarshal([]byte(awsAMP(t, lb, "describe-workspace", "--workspace-id", ws)), &d); err != nil {
		t.Fatal(err)
	}
	account := strings.Split(d.Workspace.Arn, ":")[4]
	group := "arn:aws:logs:us-east-1:" + account + ":log-group:/kansoku/qlog:*"
	// AMP's CreateQueryLoggingConfiguration, signed (the machine's
	// /usr/bin/aws predates query logging).
	ctx := context.Background()
	cfg := []byte(`{"destinations":[{"cloudWatchLogs":{"logGroupArn":"` + group + `"},"filters":{"qspThreshold":10}}]}`)
	if resp, body, err := api(lb).Raw(ctx, http.MethodPost, "/workspaces/"+ws+"/logging/query", nil, "application/json", cfg, nil); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("CreateQueryLoggingConfiguration: %v %s", err, body)
	}
	waitFor(t, 30*time.Second, "the query logging configuration ACTIVE", func() bool {
		resp, body, err := api(lb).Raw(ctx, http.MethodGet, "/workspaces/"+ws+"/logging/query", nil, "", nil, nil)
		return err == nil && resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"ACTIVE"`)
	})
	now := time.Now().Truncate(time.Minute)
	ts := series("qlog_metric", map[string]string{"job": "t"}, 0, 0)
	ts.Samples = nil
	for m := 30; m >= 0; m-- {
		ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: now.Add(-time.Duration(m) * time.Minute).UnixMilli(), Value: float64(m)})
	}
	if code, body := push(t, nodes[0], ws, []prompb.TimeSeries{ts}); code != http.StatusOK {
		t.Fatalf("push: %d %s", code, body)
	}
	// Each node learns of the configuration on its own: query through
	// one node, then the other, until each query is in the log.
	v := url.Values{"query": {"count_over_time(qlog_metric[31m])"}, "time": {strconv.FormatInt(now.Unix(), 10)}}
	logged := func() int {
		out := kansoku(t, lb, "logs", ws, "--component", "query", "--json")
		return strings.Count(out, `"query":"count_over_time(qlog_metric[31m])"`)
	}
	for _, node := range nodes {
		before := logged()
		waitFor(t, 60*time.Second, "a query through "+node+" in the workspace log", func() bool {
			resp, body, err := api(node).Raw(ctx, http.MethodGet, "/workspaces/"+ws+"/api/v1/query", v, "", nil, nil)
			if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"31"`) {
				t.Fatalf("query through %s: %v %s", node, err, body)
			}
			if strings.Contains(string(body), `"stats"`) {
				t.Fatalf("the answer has statistics the client did not ask for: %s", body)
			}
			return logged() > before
		})
	}
	if out := kansoku(t, lb, "logs", ws, "--component", "query", "--json"); !strings.Contains(out, `"qsp":"31"`) {
		t.Fatalf("the logged queries' QSP:\n%s", out)
	}
	// A client that asks for statistics gets Cortex's.
	v.Set("stats", "all")
	_, body, err := api(lb).Raw(ctx, http.MethodGet, "/workspaces/"+ws+"/api/v1/query", v, "", nil, nil)
	if err != nil || !strings.Contains(string(body), `"totalQueryableSamples":31`) {
		t.Fatalf("stats=all: %v %s", err, body)
	}
	// And the workspace's usage counts the samples (each node counts
	// what it served; both served some).
	out := kansoku(t, lb, "usage", ws)
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && strings.Contains(line, "querySamplesProcessed") {
			if n, err := strconv.ParseFloat(f[len(f)-1], 64); err != nil || n < 31 {
				t.Fatalf("kansoku usage: %q", line)
			}
			return
		}
	}
	t.Fatalf("kansoku usage has no querySamplesProcessed:\n%s", out)
}
