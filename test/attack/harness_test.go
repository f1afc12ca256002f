// Package attack replays the attacks of the security report
// (../shared/ref/security-findings.md, F1–F15) and the attacks it found
// refused, against the real kansoku binary with its default, closed
// configuration: every one must be refused or bounded, the server's memory
// must stay under a bound while they run, another tenant must keep being
// served throughout, and no tenant may see another's data or the server's
// files. Everything runs on loopback; nothing leaves the host.
package attack

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kansoku/kansoku/internal/client"
	"github.com/kansoku/kansoku/internal/testenv"
	"github.com/kansoku/kansoku/internal/testenv/repo"
)

var (
	kansokuBin string
	repoRoot   string
)

func TestMain(m *testing.M) {
	repoRoot = repo.Root()
	dir, err := os.MkdirTemp("", "kansoku-attack-bin")
	if err != nil {
		panic(err)
	}
	// Not built with -race: the memory bound is measured on the binary
	// operators run.
	if kansokuBin, err = testenv.BuildBinary(repoRoot, dir, false); err != nil {
		fmt.Fprintln(os.Stderr, "attack:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// target is the server under attack, with the report's tenants.
type target struct {
	t       *testing.T
	dir     string
	url     string
	proc    *testenv.Process
	admin   *client.Client
	account string
	a, b    string // workspaces
	u1, u2  *client.Client
	u1Tok   string

	peakRSS atomic.Int64 // KiB
	stopRSS chan struct{}
}

// startTarget runs kansoku with its defaults, except: the receiver
// firewall opens 127.0.0.2 only (where the suite's own receivers listen),
// the body read timeout is short, evaluation intervals may be 1s, and the
// control plane is not throttled (the suite's setup calls come back to
// back).
func startTarget(t *testing.T) *target {
	x := &target{t: t, dir: t.TempDir(), stopRSS: make(chan struct{})}
	cfgFile := filepath.Join(x.dir, "kansoku.yml")
	writeFile(t, cfgFile, fmt.Sprintf(`web:
  listen_address: 127.0.0.1:0
  body_read_timeout: 2s
storage:
  data_dir: %s
usage:
  self_metrics_in_workspace: false
alertmanager:
  receiver_firewall:
    allow_networks: [127.0.0.2/32]
control_plane:
  rate: 0
`, filepath.Join(x.dir, "data")))
	x.proc = testenv.StartProcess(t, testenv.ProcessOptions{Binary: kansokuBin, Args: []string{"server", "--config.file", cfgFile},
		Env: []string{"AWS_EC2_METADATA_DISABLED=true"}, ReadyPath: "/-/ready"})
	x.url = "http://" + x.proc.Addr
	t.Cleanup(x.stop)
	go x.watchRSS()
	creds, err := client.LoadCredentialsFile(filepath.Join(x.dir, "data", "admin-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	x.admin = client.New(x.url, "us-east-1", aws.Credentials{AccessKeyID: creds["AWS_ACCESS_KEY_ID"], SecretAccessKey: creds["AWS_SECRET_ACCESS_KEY"]})
	var who struct{ AccountID string }
	if err := x.admin.JSON(ctx, "GET", "/console/api/session", nil, nil, &who); err != nil {
		t.Fatal(err)
	}
	x.account = who.AccountID
	x.a, x.b = x.workspace("A"), x.workspace("B")
	// The report's users: u1 may do anything on A only; u2 anything but
	// on B (and no IAM).
	ns := func(ws string) string {
		return fmt.Sprintf("arn:aws:aps:us-east-1:%s:rulegroupsnamespace/%s/*", x.account, ws)
	}
	p1 := x.policy("u1", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":[%q,%q]}]}`, x.wsARN(x.a), ns(x.a)))
	p2 := x.policy("u2", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"*","Resource":"*"},
		{"Effect":"Deny","Action":"*","Resource":[%q,%q]},
		{"Effect":"Deny","Action":["iam:*","kansoku:CreateAPIToken","kansoku:SetConsolePassword"],"Resource":"*"}]}`, x.wsARN(x.b), ns(x.b)))
	x.u1, x.u2 = x.user("u1", p1), x.user("u2", p2)
	var tok struct {
		APIToken struct{ Token string } `json:"apiToken"`
	}
	if err := x.admin.JSON(ctx, "POST", "/admin/v1/tokens", nil, map[string]any{"userName": "u1", "name": "u1"}, &tok); err != nil {
		t.Fatal(err)
	}
	x.u1Tok = tok.APIToken.Token
	return x
}

var ctx = context.Background()

func (x *target) stop() {
	close(x.stopRSS)
	_ = x.proc.Stop(false)
}

// rss reads the server's resident set (VmRSS) and peak (VmHWM), in KiB.
func (x *target) rss() (cur, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", x.proc.Cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			switch f[0] {
			case "VmRSS:":
				cur, _ = strconv.ParseInt(f[1], 10, 64)
			case "VmHWM:":
				peak, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	return cur, peak
}

func (x *target) watchRSS() {
	tk := time.NewTicker(50 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-x.stopRSS:
			return
		case <-tk.C:
			_, peak := x.rss()
			if peak > x.peakRSS.Load() {
				x.peakRSS.Store(peak)
			}
		}
	}
}

func (x *target) logText() string { return x.proc.Log() }

func (x *target) wsARN(ws string) string {
	return fmt.Sprintf("arn:aws:aps:us-east-1:%s:workspace/%s", x.account, ws)
}

func (x *target) workspace(alias string) string {
	var out struct{ WorkspaceID string }
	if err := x.admin.JSON(ctx, "POST", "/workspaces", nil, map[string]any{"alias": alias}, &out); err != nil {
		x.t.Fatal(err)
	}
	waitFor(x.t, 30*time.Second, "workspace ACTIVE", func() bool {
		var d struct {
			Workspace struct{ Status struct{ StatusCode string } } `json:"workspace"`
		}
		return x.admin.JSON(ctx, "GET", "/workspaces/"+out.WorkspaceID, nil, nil, &d) == nil && d.Workspace.Status.StatusCode == "ACTIVE"
	})
	return out.WorkspaceID
}

func (x *target) policy(name, doc string) string {
	var out struct {
		Policy struct{ ARN string } `json:"policy"`
	}
	if err := x.admin.JSON(ctx, "POST", "/admin/v1/iam/policies", nil, map[string]any{"policyName": name, "policyDocument": doc}, &out); err != nil {
		x.t.Fatal(err)
	}
	return out.Policy.ARN
}

func (x *target) user(name string, policies ...string) *client.Client {
	var out struct {
		AccessKey struct{ AccessKeyID, SecretAccessKey string } `json:"accessKey"`
	}
	if err := x.admin.JSON(ctx, "POST", "/admin/v1/keys", nil, map[string]any{"userName": name, "policyArns": policies}, &out); err != nil {
		x.t.Fatal(err)
	}
	return client.New(x.url, "us-east-1", aws.Credentials{AccessKeyID: out.AccessKey.AccessKeyID, SecretAccessKey: out.AccessKey.SecretAccessKey})
}

// do sends a signed request with a raw body and returns status and body.
func do(t *testing.T, c *client.Client, method, path, contentType string, body []byte) (int, string) {
	t.Helper()
	resp, b, err := c.Raw(ctx, method, path, nil, contentType, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// putDefinition uploads an Alertmanager definition and returns its status
// and reason once it left CREATING/UPDATING.
func (x *target) putDefinition(c *client.Client, ws, def string) (string, string) {
	x.t.Helper()
	path := "/workspaces/" + ws + "/alertmanager/definition"
	method := "POST"
	if err := c.JSON(ctx, "GET", path, nil, nil, nil); err == nil {
		method = "PUT"
	}
	if err := c.JSON(ctx, method, path, nil, map[string]any{"data": b64(def)}, nil); err != nil {
		x.t.Fatalf("%s definition: %v", method, err)
	}
	var st struct {
		D struct {
			Status struct{ StatusCode, StatusReason string }
		} `json:"alertManagerDefinition"`
	}
	waitFor(x.t, 30*time.Second, "definition settled", func() bool {
		return c.JSON(ctx, "GET", path, nil, nil, &st) == nil && !strings.HasSuffix(st.D.Status.StatusCode, "ING")
	})
	return st.D.Status.StatusCode, st.D.Status.StatusReason
}

func (x *target) enableLog(ws string) {
	x.t.Helper()
	if x.admin.JSON(ctx, "GET", "/workspaces/"+ws+"/logging", nil, nil, nil) == nil {
		return
	}
	group := fmt.Sprintf("arn:aws:logs:us-east-1:%s:log-group:/kansoku/%s:*", x.account, ws)
	if err := x.admin.JSON(ctx, "POST", "/workspaces/"+ws+"/logging", nil, map[string]any{"logGroupArn": group}, nil); err != nil {
		x.t.Fatal(err)
	}
	waitFor(x.t, 30*time.Second, "logging ACTIVE", func() bool {
		var d struct {
			L struct{ Status struct{ StatusCode string } } `json:"loggingConfiguration"`
		}
		return x.admin.JSON(ctx, "GET", "/workspaces/"+ws+"/logging", nil, nil, &d) == nil && d.L.Status.StatusCode == "ACTIVE"
	})
}

func (x *target) workspaceLog(ws string) string {
	var out struct {
		Events []json.RawMessage `json:"events"`
	}
	_ = x.admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/logs", nil, nil, &out)
	var b strings.Builder
	for _, e := range out.Events {
		b.Write(e)
		b.WriteByte('\n')
	}
	return b.String()
}

func (x *target) postAlert(ws, name string) {
	x.t.Helper()
	body, _ := json.Marshal([]map[string]any{{"labels": map[string]string{"alertname": name}}})
	// The workspace's Alertmanager starts moments after its definition
	// becomes ACTIVE.
	var code int
	var b string
	waitFor(x.t, 30*time.Second, "the Alertmanager to take alerts", func() bool {
		code, b = do(x.t, x.admin, "POST", "/workspaces/"+ws+"/alertmanager/api/v2/alerts", "application/json", body)
		return code != 404
	})
	if code != 200 {
		x.t.Fatalf("post alert: %d %s", code, b)
	}
}

// sink is a receiver the suite controls, on 127.0.0.2 (the one network
// the firewall was opened for), counting what reaches it.
type sink struct {
	*httptest.Server
	hits  atomic.Int64
	bytes atomic.Int64
	mu    sync.Mutex
	hdrs  []http.Header
}

func newSink(t *testing.T, status int, body string) *sink {
	s := &sink{}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		s.hits.Add(1)
		s.bytes.Add(n)
		s.mu.Lock()
		s.hdrs = append(s.hdrs, r.Header.Clone())
		s.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, body)
	})}}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// localListener is a listener on the server's own loopback address that
// must never be reached.
func localListener(t *testing.T) (string, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	return srv.URL, &hits
}

// bystander is workspace B's own traffic while A is attacked: a write and
// a query every 200 ms, each of which must succeed within 5 s.
type bystander struct {
	writes, queries, failures atomic.Int64
	worst                     atomic.Int64 // ms
	stop                      chan struct{}
	done                      chan struct{}
	lastErr                   atomic.Value
}

func (x *target) startBystander(c *client.Client) *bystander {
	b := &bystander{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		hc := &http.Client{Timeout: 5 * time.Second}
		c := *c
		c.HTTP = hc
		for i := 0; ; i++ {
			select {
			case <-b.stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			start := time.Now()
			code, body, err := remoteWrite(&c, x.b, fmt.Sprintf("bystander{i=\"%d\"}", i%50), 1)
			if err != nil || code != 200 {
				b.failures.Add(1)
				b.lastErr.Store(fmt.Sprintf("write: %d %s %v", code, body, err))
			} else {
				b.writes.Add(1)
			}
			resp, rb, err := c.Raw(ctx, "GET", "/workspaces/"+x.b+"/api/v1/query", map[string][]string{"query": {"count(bystander)"}}, "", nil, nil)
			if err != nil || resp.StatusCode != 200 {
				b.failures.Add(1)
				b.lastErr.Store(fmt.Sprintf("query: %v %s", err, rb))
			} else {
				b.queries.Add(1)
			}
			if ms := time.Since(start).Milliseconds(); ms > b.worst.Load() {
				b.worst.Store(ms)
			}
		}
	}()
	return b
}

func (b *bystander) finish(t *testing.T) {
	close(b.stop)
	<-b.done
	t.Logf("workspace B during the attacks: %d writes, %d queries, %d failures, slowest round %d ms", b.writes.Load(), b.queries.Load(), b.failures.Load(), b.worst.Load())
	if b.failures.Load() > 0 {
		t.Errorf("workspace B was not served throughout: %d failures (last: %v)", b.failures.Load(), b.lastErr.Load())
	}
	if b.writes.Load() == 0 || b.queries.Load() == 0 {
		t.Error("workspace B was never served")
	}
}

func readStatusLine(conn net.Conn, wait time.Duration) string {
	conn.SetReadDeadline(time.Now().Add(wait))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line)
}
