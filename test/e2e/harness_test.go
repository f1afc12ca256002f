// Package e2e runs the real kansoku binary as a child process and drives it
// with real clients: the AWS CLI (Debian awscli), upstream Prometheus and
// promtool (scripts/build-peers.sh), Alertmanager's amtool, curl-like Go
// clients. scripts/test.sh installs and builds all of them first.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kansoku/kansoku/internal/client"
	"github.com/kansoku/kansoku/internal/testenv"
	"github.com/kansoku/kansoku/internal/testenv/pgtest"
	"github.com/kansoku/kansoku/internal/testenv/repo"
	"github.com/kansoku/kansoku/sim/awssim"
)

var (
	// pg is the PostgreSQL server of the tests that need one.
	pg         pgtest.Shared
	kansokuBin string
	repoRoot   string
	peersDir   string
)

func TestMain(m *testing.M) {
	repoRoot = repo.Root()
	peersDir = os.Getenv("KANSOKU_PEERS_DIR")
	if peersDir == "" {
		peersDir = filepath.Join(repoRoot, ".cache", "peers")
	}
	dir, err := os.MkdirTemp("", "kansoku-e2e-bin")
	if err != nil {
		panic(err)
	}
	if kansokuBin, err = testenv.BuildBinary(repoRoot, dir, true); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stop PostgreSQL:", err)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// need returns the path of a peer binary, failing the test (not skipping
// it) when it is missing: scripts/test.sh installs them all.
func need(t *testing.T, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is missing: run ./scripts/install-test-deps.sh and ./scripts/build-peers.sh (or ./scripts/test.sh)", path)
	}
	return path
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is one kansoku server process.
type server struct {
	t       *testing.T
	dataDir string
	port    int
	URL     string
	proc    *testenv.Process
	stdout  *syncBuffer
	lastLog string // the log of a stopped process
	Creds   map[string]string
	Admin   *client.Client
}

func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	s := &server{t: t, dataDir: dataDir}
	s.start(extra...)
	t.Cleanup(func() {
		s.stop(false)
		if t.Failed() {
			t.Logf("kansoku log (last lines):\n%s", tail(s.log(), 80))
		}
	})
	return s
}

func (s *server) start(extra ...string) {
	t := s.t
	t.Helper()
	// Exact label sets are asserted: no self-monitoring series unless a test asks.
	// The first start listens on port 0 and the harness reads the port
	// from the log; a restart takes the same port again (peers keep the
	// URL).
	args := []string{"server", "--data.dir", s.dataDir, "--web.listen-address", fmt.Sprintf("127.0.0.1:%d", s.port), "--log.level", "info", "--no-usage.self-metrics"}
	// Tests make control-plane calls back to back: no throttling unless a
	// test of it sets the rate.
	if !slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(a, "--control-plane.rate") }) {
		args = append(args, "--control-plane.rate=0")
	}
	args = append(args, extra...)
	s.stdout = &syncBuffer{}
	s.proc = testenv.StartProcess(t, testenv.ProcessOptions{Binary: kansokuBin, Args: args, Stdout: s.stdout, ReadyPath: "/-/ready"})
	if _, port, err := net.SplitHostPort(s.proc.Addr); err == nil {
		s.port, _ = strconv.Atoi(port)
	}
	s.URL = "http://" + s.proc.Addr
	creds, err := client.LoadCredentialsFile(filepath.Join(s.dataDir, "admin-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	s.Creds = creds
	s.Admin = client.New(s.URL, creds["AWS_DEFAULT_REGION"], aws.Credentials{AccessKeyID: creds["AWS_ACCESS_KEY_ID"], SecretAccessKey: creds["AWS_SECRET_ACCESS_KEY"]})
}

// stop ends the process: SIGTERM (graceful) or SIGKILL. It returns the exit error.
func (s *server) stop(kill bool) error {
	if s.proc == nil {
		return nil
	}
	err := s.proc.Stop(kill)
	if errors.Is(err, testenv.ErrStopTimeout) {
		s.t.Error(err)
	}
	s.lastLog = s.proc.Log()
	s.proc = nil
	return err
}

func (s *server) log() string {
	if s.proc == nil {
		return s.lastLog
	}
	s.lastLog = s.proc.Log()
	return s.lastLog
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// run executes a command with env and returns combined output and exit code.
func run(t *testing.T, env []string, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else {
			t.Fatalf("%s %v: %v", name, args, err)
		}
	}
	return string(out), code
}

// kansoku runs a kansoku CLI command against s.
func (s *server) kansoku(t *testing.T, args ...string) (string, int) {
	t.Helper()
	env := []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	full := append(args, "--url", s.URL, "--data.dir", s.dataDir)
	return run(t, env, kansokuBin, full...)
}

// awsEnv is a clean environment for the AWS CLI with the given key.
func awsEnv(t *testing.T, keyID, secret, region string) []string {
	home := t.TempDir()
	return []string{
		"HOME=" + home, "PATH=/usr/bin:/bin",
		"AWS_ACCESS_KEY_ID=" + keyID, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_DEFAULT_REGION=" + region,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
	}
}

// startDemoAWS serves the AWS API simulator with the demo scenario's
// account and returns it with its URL. Kansoku's own AWS credentials, the
// scenario's first caller, reach the server the standard way: through the
// environment, which the server process inherits.
func startDemoAWS(t *testing.T) (*awssim.Server, string) {
	t.Helper()
	sc, err := awssim.LoadScenario(repoRoot + "/sim/awssim/testdata/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sim := awssim.New(awssim.Options{})
	if err := sim.SetScenario(sc); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	caller := sc.Callers[0]
	t.Setenv("AWS_ACCESS_KEY_ID", caller.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", caller.SecretAccessKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	return sim, srv.URL
}

// demoRole is the role of the demo account that Kansoku's integration
// assumes (sim/awssim/testdata/demo.yaml).
const demoRole = "arn:aws:iam::123456789012:role/KansokuIntegration"

// registerDemoAccount registers the demo account in workspace ws with the
// kansoku CLI, as a user does: "aws create", the External ID it prints
// put in the role's trust policy, then "aws set-role". It returns the
// integration's id.
func registerDemoAccount(t *testing.T, s *server, sim *awssim.Server, name, ws string) string {
	t.Helper()
	out, code := s.kansoku(t, "aws", "create", "--name", name, "--account", "123456789012", "--workspace", ws, "--aws-region", "us-east-1", "--service", "ec2")
	m := regexp.MustCompile(`integration (awsi-[0-9a-f]+)`).FindStringSubmatch(out)
	ext := regexp.MustCompile(`External ID: (kansoku-[0-9a-f]+)`).FindStringSubmatch(out)
	if code != 0 || m == nil || ext == nil {
		t.Fatalf("aws create: %d\n%s", code, out)
	}
	if err := sim.Update(func(sc *awssim.Scenario) { sc.Accounts[0].Roles[0].ExternalID = ext[1] }); err != nil {
		t.Fatal(err)
	}
	if out, code = s.kansoku(t, "aws", "set-role", m[1], demoRole); code != 0 {
		t.Fatalf("aws set-role: %d\n%s", code, out)
	}
	return m[1]
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// tail returns the last n lines of a log, for a failing test's output.
func tail(log string, n int) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startNodeExporter runs Debian's node exporter (load average only) on a
// free loopback port until the test ends, and returns its address.
func startNodeExporter(t *testing.T) string {
	t.Helper()
	bin := need(t, "/usr/bin/prometheus-node-exporter")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ne := exec.Command(bin, "--web.listen-address="+addr, "--collector.disable-defaults", "--collector.loadavg")
	if err := ne.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ne.Process.Kill(); _ = ne.Wait() })
	return addr
}
