package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestConsoleDemo is the newcomer's path of the README: start
// `kansoku server --demo`, sign in to the console with the printed admin
// key, see the simulated AWS account's hosts with graphs, query PromQL with
// a graph, and get and silence an alert.
func TestConsoleDemo(t *testing.T) {
	s := startServer(t, t.TempDir(), "--demo")
	waitFor(t, 30*time.Second, "the demo", func() bool { return strings.Contains(s.stdout.String(), "Demo: the simulated AWS account") })
	out := s.stdout.String()
	// stdout is not a terminal here, so the banner names the key and the
	// credentials file instead of printing the secret.
	key := []string{"", s.Creds["AWS_ACCESS_KEY_ID"]}
	secret := []string{"", s.Creds["AWS_SECRET_ACCESS_KEY"]}
	consoleURL := regexp.MustCompile(`console:\s+(\S+)`).FindStringSubmatch(out)
	ws := regexp.MustCompile(`into the workspace (ws-[0-9a-f-]+)`).FindStringSubmatch(out)
	if !strings.Contains(out, key[1]) || !strings.Contains(out, "admin-credentials") || consoleURL == nil || ws == nil {
		t.Fatalf("the banner lacks the key and its credentials file, the console URL or the demo workspace:\n%s", out)
	}

	b := startBrowser(t)
	b.Go(consoleURL[1])
	b.Type("#login-key input[name=accessKeyId]", key[1])
	b.Type("#login-key input[name=secretAccessKey]", secret[1])
	b.Click("#login-key button[type=submit]")
	b.Wait("#sign-out", 10*time.Second)

	// Hosts of the simulated account, and a host's graphs.
	b.ClickText("nav a", "Hosts")
	b.WaitText("#hosts", "tokyo-web-1", 20*time.Second)
	b.Click(`#hosts tr.host[data-name="web-1"] a`)
	b.WaitText("#host-metadata", "m5.large", 10*time.Second)
	b.Wait("#host-graphs .host-graph canvas", 30*time.Second)
	b.Screenshot("demo-host")

	// PromQL with a graph.
	b.Go(s.URL + "/console/#/ws/" + ws[1] + "/query")
	b.Type("#promql", "last_over_time(aws_ec2_cpuutilization_average[15m])")
	b.Click("#run-query")
	b.Wait("#query-graph .u-over", 20*time.Second)

	// The demo rule's alert fires; silence it.
	b.Go(s.URL + "/console/#/ws/" + ws[1] + "/alerts")
	deadline := time.Now().Add(150 * time.Second)
	for !strings.Contains(b.Text("#alert-groups"), "EC2BusierThanAverage") {
		if time.Now().After(deadline) {
			t.Fatalf("no alert in the Alertmanager:\n%s", b.Text("main"))
		}
		time.Sleep(2 * time.Second)
		b.Exec(`location.reload()`)
		b.Wait("#alert-groups", 10*time.Second)
	}
	b.Click(`#alerts .alert[data-alertname=EC2BusierThanAverage] .silence-alert`)
	b.Type("#silence-form input[name=comment]", "looking into it")
	b.Click("#silence-form button[type=submit]")
	b.Wait(`#silences .silence[data-state=active]`, 10*time.Second)
	b.WaitText(`#alert-groups`, "suppressed", 20*time.Second)
	b.Screenshot("demo-alert-silenced")
}
