package attack

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/client"
)

// maxRSS is the bound, in KiB, on the server's peak resident memory over
// the whole suite (docs/benchmarks.md records the measured peak). Before
// the fixes single attacks took it to 22 GB (F2), 1.85 GB (F4), 1.32 GB
// (F5) and 579 MB (F3).
const maxRSS = 512 << 10

func remoteWrite(c *client.Client, ws, series string, n int) (int, string, error) {
	name, rest, _ := strings.Cut(series, "{")
	ls := []prompb.Label{{Name: "__name__", Value: name}}
	if rest != "" {
		for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
			k, v, _ := strings.Cut(kv, "=")
			ls = append(ls, prompb.Label{Name: k, Value: strings.Trim(v, `"`)})
		}
	}
	ts := prompb.TimeSeries{Labels: ls}
	now := time.Now()
	for i := 0; i < n; i++ {
		ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: now.Add(time.Duration(i-n) * time.Millisecond).UnixMilli(), Value: float64(i)})
	}
	raw, err := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts}}).Marshal()
	if err != nil {
		return 0, "", err
	}
	h := http.Header{"Content-Encoding": {"snappy"}, "X-Prometheus-Remote-Write-Version": {"0.1.0"}}
	resp, b, err := c.Raw(ctx, "POST", "/workspaces/"+ws+"/api/v1/remote_write", nil, "application/x-protobuf", snappy.Encode(nil, raw), h)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(b), nil
}

// TestAttacks replays every finding against one server, with workspace B
// served throughout and the server's memory watched.
func TestAttacks(t *testing.T) {
	x := startTarget(t)
	// Some data in A for the query attacks: 2,000 series.
	for i := 0; i < 20; i++ {
		var ts []prompb.TimeSeries
		for j := 0; j < 100; j++ {
			ts = append(ts, prompb.TimeSeries{Labels: []prompb.Label{{Name: "__name__", Value: "card"}, {Name: "i", Value: fmt.Sprint(i*100 + j)}},
				Samples: []prompb.Sample{{Timestamp: time.Now().UnixMilli(), Value: 1}}})
		}
		raw, _ := (&prompb.WriteRequest{Timeseries: ts}).Marshal()
		h := http.Header{"Content-Encoding": {"snappy"}}
		if resp, b, err := x.admin.Raw(ctx, "POST", "/workspaces/"+x.a+"/api/v1/remote_write", nil, "application/x-protobuf", snappy.Encode(nil, raw), h); err != nil || resp.StatusCode != 200 {
			t.Fatalf("seeding A: %v %s", err, b)
		}
	}
	by := x.startBystander(x.admin)
	defer by.finish(t)

	if os.Getenv("ATTACK_ONLY") == "" {
		t.Run("F1 header read from a server file", func(t *testing.T) { attackF1(t, x) })
		t.Run("F2 subquery steps", func(t *testing.T) { attackF2(t, x) })
		t.Run("F3 template bombs", func(t *testing.T) { attackF3(t, x) })
		t.Run("F4 snappy declared size", func(t *testing.T) { attackF4(t, x) })
		t.Run("F5 unauthenticated bodies and slow clients", func(t *testing.T) { attackF5(t, x) })
		t.Run("F6 parser and concurrency", func(t *testing.T) { attackF6(t, x) })
		t.Run("F7 trailing JSON", func(t *testing.T) { attackF7(t, x) })
		t.Run("F8 console password takeover", func(t *testing.T) { attackF8(t, x) })
	}
	t.Run("F9 receivers reaching inside", func(t *testing.T) { attackF9(t, x) })
	if os.Getenv("ATTACK_ONLY") == "" {
		t.Run("F10 listings past a Deny", func(t *testing.T) { attackF10(t, x) })
		t.Run("F11 lifting one's own limits", func(t *testing.T) { attackF11(t, x) })
		t.Run("F12 tag ARN partitions", func(t *testing.T) { attackF12(t, x) })
		t.Run("F14 in-request order", func(t *testing.T) { attackF14(t, x) })
		t.Run("F15 unsigned payloads", func(t *testing.T) { attackF15(t, x) })
		t.Run("isolation", func(t *testing.T) { attackIsolation(t, x) })
	}

	_, peak := x.rss()
	if p := x.peakRSS.Load(); p > peak {
		peak = p
	}
	t.Logf("server peak RSS over the attack suite: %d MiB (bound %d MiB)", peak>>10, maxRSS>>10)
	if peak > maxRSS {
		t.Errorf("server peak RSS %d MiB is over the bound of %d MiB", peak>>10, maxRSS>>10)
	}
	if strings.Contains(x.logText(), "panic") {
		t.Errorf("the server log has a panic:\n%s", x.logText())
	}
}

func attackF1(t *testing.T, x *target) {
	s := newSink(t, 200, "")
	code, reason := x.putDefinition(x.u1, x.a, fmt.Sprintf(`alertmanager_config: |
  route: {receiver: r, group_wait: 1s}
  receivers:
  - name: r
    webhook_configs:
    - url: %s/h
      http_config:
        http_headers:
          X-Leak:
            files: [%s/data/secret.key]
`, s.URL, x.dir))
	if code != "CREATION_FAILED" || !strings.Contains(reason, "files") {
		t.Fatalf("definition: %s %s", code, reason)
	}
	for _, def := range []string{
		"oauth2:\n        client_id: x\n        client_secret_file: /etc/shadow\n        token_url: http://127.0.0.2:1/t",
		"tls_config: {ca_file: /etc/ssl/private/x}",
		"basic_auth: {username: u, password_file: /etc/passwd}",
		"authorization: {credentials_file: /proc/self/environ}",
	} {
		c, r := x.putDefinition(x.u1, x.a, fmt.Sprintf("alertmanager_config: |\n  route: {receiver: r}\n  receivers:\n  - name: r\n    webhook_configs:\n    - url: %s/h\n      http_config:\n        %s\n", s.URL, strings.ReplaceAll(def, "\n", "\n  ")))
		if !strings.HasSuffix(c, "FAILED") {
			t.Errorf("%s: %s %s", def, c, r)
		}
	}
	if n := s.hits.Load(); n != 0 {
		t.Fatalf("the receiver was reached %d times", n)
	}
}

func attackF2(t *testing.T, x *target) {
	for _, q := range []string{"max_over_time(card[32d:1ms])", "count_over_time(vector(1)[12h:1ms])"} {
		start := time.Now()
		code, body := do(t, x.u1, "POST", "/workspaces/"+x.a+"/api/v1/query", "application/x-www-form-urlencoded", []byte("query="+url.QueryEscape(q)))
		if code != 400 || !strings.Contains(body, "subqueries would evaluate") {
			t.Errorf("%s: %d %s", q, code, body)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s: refused after %s", q, took)
		}
	}
}

func attackF3(t *testing.T, x *target) {
	x.enableLog(x.a)
	s := newSink(t, 200, "ok")
	var tmpl strings.Builder
	tmpl.WriteString(`{{ define "l0" }}` + strings.Repeat("x", 100) + `{{ end }}`)
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&tmpl, `{{ define "l%d" }}%s{{ end }}`, i, strings.Repeat(fmt.Sprintf(`{{ template "l%d" . }}`, i-1), 10))
	}
	code, reason := x.putDefinition(x.u1, x.a, fmt.Sprintf(`template_files:
  bomb.tmpl: '%s'
alertmanager_config: |
  templates: [bomb.tmpl]
  route: {receiver: r, group_wait: 1s, group_interval: 1s}
  receivers:
  - name: r
    slack_configs:
    - api_url: %s/slack
      channel: '#x'
      text: '{{ template "l6" . }}'
`, tmpl.String(), s.URL))
	if code != "ACTIVE" {
		t.Fatalf("definition: %s %s", code, reason)
	}
	x.postAlert(x.a, "bomb")
	waitFor(t, 30*time.Second, "the template bound in the workspace log", func() bool {
		return strings.Contains(x.workspaceLog(x.a), "max_template")
	})
	if n := s.bytes.Load(); n > 8<<20 {
		t.Errorf("a notification of %d bytes was sent", n)
	}

	// Rule annotations: the same nesting in an alerting rule.
	var ann strings.Builder
	ann.WriteString(`{{ define "l0" }}` + strings.Repeat("x", 100) + `{{ end }}`)
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&ann, `{{ define "l%d" }}%s{{ end }}`, i, strings.Repeat(fmt.Sprintf(`{{ template "l%d" . }}`, i-1), 10))
	}
	ann.WriteString(`{{ template "l5" . }}`)
	if code, out := do(t, x.admin, "PATCH", "/admin/v1/workspaces/"+x.a+"/limits", "application/json", []byte(`{"min_evaluation_interval":"1s"}`)); code != 200 {
		t.Fatalf("limits: %d %s", code, out)
	}
	rules := fmt.Sprintf("groups:\n- name: bomb\n  interval: 1s\n  rules:\n  - alert: Bomb\n    expr: vector(1)\n    annotations:\n      summary: '%s'\n", ann.String())
	if err := x.u1.JSON(ctx, "POST", "/workspaces/"+x.a+"/rulegroupsnamespaces", nil, map[string]any{"name": "bomb", "data": b64(rules)}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the rule to fail on its template", func() bool {
		code, body := do(t, x.u1, "GET", "/workspaces/"+x.a+"/api/v1/rules", "", nil)
		return code == 200 && strings.Contains(body, `"health":"err"`) && strings.Contains(body, "max_template")
	})
	if code, body := do(t, x.u1, "GET", "/workspaces/"+x.a+"/api/v1/alerts", "", nil); code != 200 || len(body) > 1<<20 {
		t.Errorf("alerts: %d, %d bytes", code, len(body))
	}
	if err := x.u1.JSON(ctx, "DELETE", "/workspaces/"+x.a+"/rulegroupsnamespaces/bomb", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
}

func attackF4(t *testing.T, x *target) {
	bomb := binary.AppendUvarint(nil, 64<<20-1)
	bomb = append(bomb, 0, 0, 0, 0, 0)
	h := http.Header{"Content-Encoding": {"snappy"}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				resp, _, err := x.u1.Raw(ctx, "POST", "/workspaces/"+x.a+"/api/v1/remote_write", nil, "application/x-protobuf", bomb, h)
				mu.Lock()
				if err != nil {
					codes[-1]++
				} else {
					codes[resp.StatusCode]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if codes[400] != 320 {
		t.Errorf("320 ten-byte bombs: answers %v; want 400 for all", codes)
	}
}

func attackF5(t *testing.T, x *target) {
	host := strings.TrimPrefix(x.url, "http://")
	var wg sync.WaitGroup
	var refused, other sync.Map
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			conn, err := net.Dial("tcp", host)
			if err != nil {
				other.Store(i, err.Error())
				return
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /workspaces/%s/api/v1/remote_write HTTP/1.1\r\nHost: %s\r\nContent-Encoding: snappy\r\nContent-Length: %d\r\n\r\n", x.a, host, 15<<20)
			if line := readStatusLine(conn, 5*time.Second); strings.HasPrefix(line, "HTTP/1.1 403") {
				refused.Store(i, true)
			} else {
				other.Store(i, line)
			}
		}(i)
	}
	wg.Wait()
	other.Range(func(k, v any) bool { t.Errorf("unauthenticated request %v: %v", k, v); return true })

	// Slow bodies from an authenticated client are cut off at the body
	// read timeout (2 s here).
	start := time.Now()
	var cut sync.WaitGroup
	for i := 0; i < 30; i++ {
		cut.Add(1)
		go func() {
			defer cut.Done()
			conn, err := net.Dial("tcp", host)
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /workspaces/%s/api/v1/remote_write HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Encoding: snappy\r\nContent-Length: 1000000\r\n\r\nx", x.a, host, x.u1Tok)
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			buf := make([]byte, 512)
			for {
				if _, err := conn.Read(buf); err != nil {
					return
				}
			}
		}()
	}
	cut.Wait()
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("30 slow bodies were held for %s; the body read timeout is 2s", took)
	}
}

func attackF6(t *testing.T, x *target) {
	for _, q := range []string{strings.Repeat("(", 60000) + "1" + strings.Repeat(")", 60000), strings.Repeat("1+", 50000) + "1", strings.Repeat("a or ", 5000) + "a"} {
		start := time.Now()
		code, body := do(t, x.u1, "POST", "/workspaces/"+x.a+"/api/v1/query", "application/x-www-form-urlencoded", []byte("query="+url.QueryEscape(q)))
		if code != 400 {
			t.Errorf("%d-byte expression: %d %.200s", len(q), code, body)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%d-byte expression refused after %s", len(q), took)
		}
	}
	// Concurrency: A may run 2 and queue 2; the rest are refused with 429
	// while B goes on being served.
	if code, body := do(t, x.admin, "PATCH", "/admin/v1/workspaces/"+x.a+"/limits", "application/json", []byte(`{"max_concurrent_queries":2,"max_queued_queries":2}`)); code != 200 {
		t.Fatalf("limits: %d %s", code, body)
	}
	slow := "count(count_over_time(card[1h:1s]))" // ~3,600 steps × 2,000 series
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := do(t, x.u1, "POST", "/workspaces/"+x.a+"/api/v1/query", "application/x-www-form-urlencoded", []byte("query="+url.QueryEscape(slow)))
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[429] == 0 {
		t.Errorf("12 concurrent queries with 2 running and 2 queued allowed: answers %v; want some 429", codes)
	}
	if code, body := do(t, x.admin, "DELETE", "/admin/v1/workspaces/"+x.a+"/limits", "", nil); code != 200 {
		t.Fatalf("reset limits: %d %s", code, body)
	}
}

func attackF7(t *testing.T, x *target) {
	body := fmt.Sprintf(`{"name":"x","awsAccountId":"123456789012","workspaceId":%q,"regions":["us-east-1"],"services":["ec2"]}`, x.b)
	if code, b := do(t, x.u2, "POST", "/admin/v1/aws/integrations", "application/json", []byte(body)); code != 403 {
		t.Errorf("plain: %d %s", code, b)
	}
	for _, trail := range []string{" {}", "x"} {
		if code, b := do(t, x.u2, "POST", "/admin/v1/aws/integrations", "application/json", []byte(body+trail)); code != 400 {
			t.Errorf("trailing %q: %d %s", trail, code, b)
		}
	}
}

func attackF8(t *testing.T, x *target) {
	u5 := x.user("u5", x.policy("u5", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kansoku:SetConsolePassword","Resource":"arn:aws:iam::%s:user/${aws:username}"}]}`, x.account)))
	if code, b := do(t, u5, "PUT", "/admin/v1/users/u5/console-password", "application/json", []byte(`{"password":"u5's own password"}`)); code != 204 {
		t.Errorf("u5 on itself: %d %s", code, b)
	}
	if code, b := do(t, u5, "PUT", "/admin/v1/users/admin/console-password", "application/json", []byte(`{"password":"taken-over-by-u5"}`)); code != 403 {
		t.Errorf("u5 on admin: %d %s", code, b)
	}
	if code, b := do(t, x.u2, "PUT", "/admin/v1/users/admin/console-password", "application/json", []byte(`{"password":"taken-over-by-u2"}`)); code != 403 {
		t.Errorf("u2 (denied) on admin: %d %s", code, b)
	}
}

func attackF9(t *testing.T, x *target) {
	x.enableLog(x.a)
	local, hits := localListener(t) // on 127.0.0.1: the server's own side
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(local, "http://"))
	for name, rcv := range map[string]string{
		"admin API":         fmt.Sprintf("webhook_configs: [{url: '%s/admin/v1/keys'}]", x.url),
		"instance metadata": "webhook_configs: [{url: 'http://169.254.169.254/latest/meta-data/'}]",
		"private network":   "webhook_configs: [{url: 'http://10.255.255.1/x'}]",
		"proxy":             "webhook_configs: [{url: 'http://10.255.255.1/x', http_config: {proxy_url: 'http://127.0.0.2:3128'}}]",
		"SMTP port scan":    "email_configs: [{to: a@example.com, from: b@example.com, smarthost: '127.0.0.1:22'}]",
		"SNS role":          "sns_configs: [{topic_arn: 'arn:aws:sns:us-east-1:123456789012:t', sigv4: {region: us-east-1, role_arn: 'arn:aws:iam::123456789012:role/Kansoku', external_id: kansoku-x}}]",
	} {
		code, reason := x.putDefinition(x.u1, x.a, "alertmanager_config: |\n  route: {receiver: r, group_wait: 1s}\n  receivers:\n  - name: r\n    "+rcv+"\n")
		if !strings.HasSuffix(code, "FAILED") {
			t.Errorf("%s: %s %s", name, code, reason)
		}
	}
	// A name resolving to loopback passes the upload and fails the dial.
	code, reason := x.putDefinition(x.u1, x.a, fmt.Sprintf("alertmanager_config: |\n  route: {receiver: r, group_wait: 1s}\n  receivers:\n  - name: r\n    webhook_configs: [{url: 'http://localhost:%s/x'}]\n", port))
	if code != "ACTIVE" {
		t.Fatalf("by name: %s %s", code, reason)
	}
	x.postAlert(x.a, "ssrf")
	waitFor(t, 30*time.Second, "the firewall's refusal in the workspace log", func() bool {
		return strings.Contains(x.workspaceLog(x.a), "receiver firewall refuses")
	})
	if n := hits.Load(); n != 0 {
		t.Errorf("the server-side listener was reached %d times", n)
	}
	// An allowed receiver that fails: its body stays out of the tenant's log.
	s := newSink(t, 500, "listener-response-body SECRET-LOOKING-DATA")
	if code, reason := x.putDefinition(x.u1, x.a, fmt.Sprintf("alertmanager_config: |\n  route: {receiver: r, group_wait: 1s}\n  receivers:\n  - name: r\n    webhook_configs: [{url: '%s/fail'}]\n", s.URL)); code != "ACTIVE" {
		t.Fatalf("failing receiver: %s %s", code, reason)
	}
	x.postAlert(x.a, "fail")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(x.workspaceLog(x.a), "unexpected status code 500") {
		if time.Now().After(deadline) {
			l := x.workspaceLog(x.a)
			t.Fatalf("no failure in the workspace log after 30s; sink hits %d; log tail:\n%s\nserver log tail:\n%s", s.hits.Load(), tail(l, 3000), tail(x.logText(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Contains(x.workspaceLog(x.a), "SECRET-LOOKING-DATA") {
		t.Error("a receiver's response body reached the workspace log")
	}
}

func attackF10(t *testing.T, x *target) {
	var in struct {
		Integration struct{ ExternalID string } `json:"integration"`
	}
	if err := x.admin.JSON(ctx, "POST", "/admin/v1/aws/integrations", nil, map[string]any{"name": "b", "awsAccountId": "123456789012", "workspaceId": x.b,
		"regions": []string{"us-east-1"}, "services": []string{"ec2"}}, &in); err != nil {
		t.Fatal(err)
	}
	if code, b := do(t, x.u2, "GET", "/admin/v1/aws/integrations", "", nil); code != 200 || strings.Contains(b, in.Integration.ExternalID) {
		t.Errorf("u2's listing shows B's External ID: %d %s", code, b)
	}
	if code, b := do(t, x.u2, "GET", "/admin/v1/hosts", "", nil); code != 200 {
		t.Errorf("hosts: %d %s", code, b)
	}
}

func attackF11(t *testing.T, x *target) {
	for _, body := range []string{`{"min_evaluation_interval":"1ms"}`, `{"query_timeout":"87600h"}`, `{"max_samples_per_query":9223372036854775807}`,
		`{"max_request_bytes":1073741824}`, `{"max_query_length":"0s"}`, `{"max_alerts_size_bytes":-1}`, `{"max_label_value_length":0}`} {
		if code, b := do(t, x.u1, "PATCH", "/admin/v1/workspaces/"+x.a+"/limits", "application/json", []byte(body)); code != 403 {
			t.Errorf("u1 %s: %d %s", body, code, b)
		}
		if code, b := do(t, x.admin, "PATCH", "/admin/v1/workspaces/"+x.a+"/limits", "application/json", []byte(body)); code != 400 {
			t.Errorf("admin %s: %d %s", body, code, b)
		}
	}
}

func attackF12(t *testing.T, x *target) {
	for _, p := range []string{"arn:aws-cn:", "arn:awsx:"} {
		arn := strings.Replace(x.wsARN(x.b), "arn:aws:", p, 1)
		if code, b := do(t, x.u2, "POST", "/tags/"+url.PathEscape(arn), "application/json", []byte(`{"tags":{"pwn":"1"}}`)); code != 400 {
			t.Errorf("%s: %d %s", p, code, b)
		}
	}
}

func attackF14(t *testing.T, x *target) {
	code, body, err := remoteWrite(x.u1, x.a, "samets", 1)
	if err != nil || code != 200 {
		t.Fatalf("one sample: %d %s %v", code, body, err)
	}
	ts := prompb.TimeSeries{Labels: []prompb.Label{{Name: "__name__", Value: "samets2"}}}
	now := time.Now().UnixMilli()
	for i := 0; i < 50000; i++ {
		ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: now, Value: 1})
	}
	raw, _ := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts}}).Marshal()
	resp, b, err := x.u1.Raw(ctx, "POST", "/workspaces/"+x.a+"/api/v1/remote_write", nil, "application/x-protobuf", snappy.Encode(nil, raw), http.Header{"Content-Encoding": {"snappy"}})
	if err != nil || resp.StatusCode != 400 || !strings.Contains(string(b), "same timestamp") {
		t.Errorf("50,000 samples at one timestamp: %v %s", err, b)
	}
}

func attackF15(t *testing.T, x *target) {
	creds := x.u1.Creds
	req, _ := http.NewRequest("POST", x.url+"/workspaces/"+x.a+"/api/v1/remote_write", strings.NewReader("any body"))
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := signUnsigned(req, creds); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("UNSIGNED-PAYLOAD: %d", resp.StatusCode)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func signUnsigned(req *http.Request, creds aws.Credentials) error {
	return v4.NewSigner().SignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", "aps", "us-east-1", time.Now().UTC())
}

// attackIsolation: u1, restricted to A, sees nothing of B.
func attackIsolation(t *testing.T, x *target) {
	if code, b := do(t, x.u1, "GET", "/workspaces/"+x.b+"/api/v1/query?query=bystander", "", nil); code != 403 {
		t.Errorf("u1 querying B: %d %s", code, b)
	}
	code, b := do(t, x.u1, "GET", "/workspaces/"+x.a+"/api/v1/query?query="+url.QueryEscape(`{__name__=~".+"}`), "", nil)
	if code != 200 || strings.Contains(b, "bystander") {
		t.Errorf("u1 sees B's series through A: %d %.300s", code, b)
	}
	if code, b := do(t, x.u1, "GET", "/metrics", "", nil); code != 403 {
		t.Errorf("u1 reading /metrics: %d %.200s", code, b)
	}
}
