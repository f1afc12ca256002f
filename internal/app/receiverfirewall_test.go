package app_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/testenv"
)

// closedFirewall puts the receiver firewall back to its default: nothing
// internal (loopback included) is reachable.
func closedFirewall(c *config.Config) { c.Alertmanager.ReceiverFirewall.AllowNetworks = nil }

// enableWorkspaceLog creates the workspace's logging configuration (AMP
// logs nothing without one).
func enableWorkspaceLog(t *testing.T, s *testenv.Server, ws string) {
	t.Helper()
	group := fmt.Sprintf("arn:aws:logs:us-east-1:%s:log-group:/kansoku/%s:*", s.App.Info().Account.ID, ws)
	if err := s.Admin.JSON(ctx, "POST", "/workspaces/"+ws+"/logging", nil, map[string]any{"logGroupArn": group}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		_, err := s.App.Logging().Describe(ctx, ws)
		return err == nil
	})
}

// workspaceLog returns the workspace log as the tenant reads it.
func workspaceLog(t *testing.T, s *testenv.Server, ws string) string {
	t.Helper()
	_ = s.App.Logging().Flush(ctx)
	var out struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/logs", nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range out.Events {
		b.Write(e)
		b.WriteByte('\n')
	}
	return b.String()
}

func definitionStatus(t *testing.T, s *testenv.Server, ws string) (code, reason string) {
	t.Helper()
	var d struct {
		D statusResp `json:"alertManagerDefinition"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws+"/alertmanager/definition", nil, nil, &d); err != nil {
		t.Fatal(err)
	}
	return d.D.Status.StatusCode, d.D.Status.StatusReason
}

// F1: a header read from a server file is refused, so the sealing key
// never leaves the server.
func TestHeaderFromServerFileIsRefused(t *testing.T) {
	var leaked atomic.Value
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("X-Leak"); v != "" {
			leaked.Store(v)
		}
	}))
	defer hook.Close()
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "f1")
	def := fmt.Sprintf(`alertmanager_config: |
  route: {receiver: r, group_wait: 1s}
  receivers:
  - name: r
    webhook_configs:
    - url: %s/h
      http_config:
        http_headers:
          X-Leak:
            files: [%s/secret.key]
`, hook.URL, s.DataDir)
	if err := s.Admin.JSON(ctx, "POST", "/workspaces/"+ws+"/alertmanager/definition", nil, map[string]any{"data": b64(def)}, nil); err != nil {
		t.Fatal(err)
	}
	code, reason := definitionStatus(t, s, ws)
	if code != "CREATION_FAILED" || !strings.Contains(reason, "http_headers[X-Leak].files") {
		t.Fatalf("status %s (%s); want CREATION_FAILED naming http_headers[X-Leak].files", code, reason)
	}
	if s.App.Alertmanager().Running(ws) {
		t.Fatal("an Alertmanager runs the refused definition")
	}
	if v := leaked.Load(); v != nil {
		t.Fatalf("the webhook received X-Leak: %v", v)
	}
}

// F9: with the default firewall, a receiver named by a host name that
// resolves to loopback is accepted on upload (a name is checked when
// connecting) and refused at connect time; the workspace log says why and
// the local listener sees nothing.
func TestReceiverFirewallRefusesAtConnectTime(t *testing.T) {
	var hits atomic.Int64
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer local.Close()
	_, port, _ := net.SplitHostPort(local.Listener.Addr().String())
	s := testenv.Start(t, testenv.Options{Config: closedFirewall})
	ws := s.CreateWorkspace(t, "f9")
	enableWorkspaceLog(t, s, ws)

	// A literal loopback address is refused at upload.
	if err := s.Admin.JSON(ctx, "POST", "/workspaces/"+ws+"/alertmanager/definition", nil,
		map[string]any{"data": b64(groupPerAlertname("http://127.0.0.1:" + port + "/admin/v1/keys"))}, nil); err != nil {
		t.Fatal(err)
	}
	if code, reason := definitionStatus(t, s, ws); code != "CREATION_FAILED" || !strings.Contains(reason, "loopback") {
		t.Fatalf("status %s (%s); want CREATION_FAILED naming loopback", code, reason)
	}
	// A name that resolves to loopback passes the upload, not the dial.
	hostURL := "http://localhost:" + port + "/hook"
	if err := s.Admin.JSON(ctx, "PUT", "/workspaces/"+ws+"/alertmanager/definition", nil, map[string]any{"data": b64(groupPerAlertname(hostURL))}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { code, _ := definitionStatus(t, s, ws); return code == "ACTIVE" })
	if err := s.App.Alertmanager().SyncNow(ctx, ws); err != nil {
		t.Fatal(err)
	}
	postAlerts(t, s, ws, ampExampleAlert)
	waitFor(t, func() bool { return strings.Contains(workspaceLog(t, s, ws), "receiver firewall refuses") })
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback listener got %d requests", n)
	}
}

// F9: the body of a failed notification's response stays out of the
// workspace log (the server's log has it).
func TestFailedNotificationBodyIsNotShownToTheTenant(t *testing.T) {
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "listener-response-body SECRET-LOOKING-DATA")
	}))
	defer fail.Close()
	s := testenv.Start(t, testenv.Options{}) // loopback opened for the test receiver
	ws := s.CreateWorkspace(t, "body")
	enableWorkspaceLog(t, s, ws)
	putAlertmanager(t, s, ws, groupPerAlertname(fail.URL+"/fail"))
	postAlerts(t, s, ws, ampExampleAlert)
	waitFor(t, func() bool { return strings.Contains(workspaceLog(t, s, ws), "unexpected status code 500") })
	if l := workspaceLog(t, s, ws); strings.Contains(l, "SECRET-LOOKING-DATA") {
		t.Fatalf("the response body reached the workspace log:\n%s", l)
	}
}

// Email receivers pin the address the firewall checked; a smarthost on
// loopback by name is refused when sending.
func TestEmailReceiverIsFirewalled(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: closedFirewall})
	ws := s.CreateWorkspace(t, "mail")
	enableWorkspaceLog(t, s, ws)
	putAlertmanager(t, s, ws, `alertmanager_config: |
  route: {receiver: m, group_wait: 1s}
  receivers:
  - name: m
    email_configs:
    - to: sre@example.com
      from: kansoku@example.com
      smarthost: localhost:25
      require_tls: false
`)
	postAlerts(t, s, ws, ampExampleAlert)
	waitFor(t, func() bool {
		l := workspaceLog(t, s, ws)
		return strings.Contains(l, "receiver firewall refuses") && strings.Contains(l, "localhost")
	})
}

// An SNS receiver's own api_url is a tenant destination like any other.
func TestSNSAPIURLIsFirewalled(t *testing.T) {
	var hits atomic.Int64
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer local.Close()
	_, port, _ := net.SplitHostPort(local.Listener.Addr().String())
	s := testenv.Start(t, testenv.Options{Config: closedFirewall})
	ws := s.CreateWorkspace(t, "sns")
	enableWorkspaceLog(t, s, ws)
	putAlertmanager(t, s, ws, fmt.Sprintf(`alertmanager_config: |
  route: {receiver: sns, group_wait: 1s}
  receivers:
  - name: sns
    sns_configs:
    - topic_arn: arn:aws:sns:us-east-1:123456789012:alerts
      api_url: http://localhost:%s/
      sigv4: {region: us-east-1, access_key: AKIDTENANTKEY0000001, secret_key: tenant-secret}
`, port))
	postAlerts(t, s, ws, ampExampleAlert)
	waitFor(t, func() bool { return strings.Contains(workspaceLog(t, s, ws), "receiver firewall refuses") })
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback listener got %d requests", n)
	}
}
