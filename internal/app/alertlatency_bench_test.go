package app_test

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/testenv"
)

// TestAlertLatencyBench measures, over KANSOKU_ALERT_BENCH_ROUNDS rounds
// (scripts/bench-alert-latency.sh; skipped otherwise), the time from the
// remote write of a sample that crosses an alerting rule's threshold to
// the webhook's receipt of the notification, with an evaluation interval
// of KANSOKU_ALERT_BENCH_INTERVAL (default 10s) and a group_wait of
// KANSOKU_ALERT_BENCH_GROUP_WAIT (default 5s). Each round writes a new
// instance (a new aggregation group: group_wait applies) at a random
// phase of the evaluation cycle. The bound: interval + group_wait + 1 s.
func TestAlertLatencyBench(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("KANSOKU_ALERT_BENCH_ROUNDS"))
	if rounds <= 0 {
		t.Skip("set KANSOKU_ALERT_BENCH_ROUNDS (scripts/bench-alert-latency.sh)")
	}
	interval, groupWait := envDuration("KANSOKU_ALERT_BENCH_INTERVAL", 10*time.Second), envDuration("KANSOKU_ALERT_BENCH_GROUP_WAIT", 5*time.Second)
	s := testenv.Start(t, testenv.Options{Config: fastRules})
	ws := s.CreateWorkspace(t, "alert-latency")
	hook := newWebhookSink(t)
	putAlertmanager(t, s, ws, fmt.Sprintf(`alertmanager_config: |
  route:
    receiver: hook
    group_by: [instance]
    group_wait: %s
    group_interval: 1m
    repeat_interval: 1h
  receivers:
  - name: hook
    webhook_configs:
    - url: %s/hook
      send_resolved: false
`, groupWait, hook.URL))
	putRules(t, s, ws, "latency", fmt.Sprintf(`groups:
- name: latency
  interval: %s
  rules:
  - alert: Hot
    expr: temperature > 90
`, interval))
	// Below the threshold first, so that the rule group runs.
	push(t, s.Admin, ws, sample(time.Now(), 20, "__name__", "temperature", "instance", "warmup"))
	time.Sleep(interval + time.Second)
	bound := interval + groupWait + time.Second
	var lats []time.Duration
	for r := 0; r < rounds; r++ {
		// A phase spread over the evaluation cycle.
		time.Sleep(time.Duration(r) * interval / time.Duration(rounds))
		inst := fmt.Sprintf("i%d", r)
		written := time.Now()
		push(t, s.Admin, ws, sample(written, 95, "__name__", "temperature", "instance", inst))
		_, at := hook.waitFor(t, 3*bound, func(p webhookPayload) bool {
			for _, a := range p.Alerts {
				if a.Labels["instance"] == inst {
					return true
				}
			}
			return false
		})
		if at.IsZero() {
			t.Fatalf("round %d: no notification within %s", r, 3*bound)
		}
		lat := at.Sub(written)
		lats = append(lats, lat)
		t.Logf("round %d: sample to webhook %s", r, lat.Round(time.Millisecond))
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	worst := lats[len(lats)-1]
	fmt.Printf("alert latency, %d rounds, evaluation interval %s, group_wait %s: min %s, median %s, max %s; bound (interval + group_wait + 1s) %s\n",
		rounds, interval, groupWait, lats[0].Round(time.Millisecond), lats[len(lats)/2].Round(time.Millisecond), worst.Round(time.Millisecond), bound)
	if worst > bound {
		t.Errorf("slowest notification %s, over the bound %s", worst, bound)
	}
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}
