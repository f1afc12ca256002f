// Package kubetest starts a real Kubernetes API server on loopback for
// tests: kube-apiserver of Kubernetes v1.37.2 and a single-member etcd,
// which scripts/build-kube-apiserver.sh builds from the Go module proxy
// into .cache/kubeapiserver (tools/kubeapiserver pins them). The server
// makes its own self-signed serving certificate (--cert-dir), signs
// service-account tokens with a key made here, authorizes with RBAC, and
// authenticates bearer tokens through a token-review webhook when one is
// given (the AWS simulator's EKS IAM authenticator), besides a static
// admin token for the test's own setup.
package kubetest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/testenv/freeport"
	"github.com/kansoku/kansoku/internal/testenv/repo"
)

// Options shape the server.
type Options struct {
	// WebhookURL is a TokenReview webhook (authentication.k8s.io/v1) that
	// authenticates bearer tokens the static admin token is not.
	WebhookURL string
}

// Cluster is a running API server.
type Cluster struct {
	// URL is https://127.0.0.1:<port>.
	URL string
	// CA is the PEM the serving certificate chains to (what EKS returns
	// as certificateAuthority.data).
	CA []byte
	// AdminToken authenticates as a member of system:masters.
	AdminToken string
	// StartedIn is how long the server took to answer /readyz.
	StartedIn time.Duration

	dir    string
	client *http.Client
	procs  []*proc
}

type proc struct {
	name   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// Binaries returns kube-apiserver and etcd, or an error saying how to
// build them.
func Binaries() (apiserver, etcd string, err error) {
	dir := filepath.Join(repo.Root(), ".cache", "kubeapiserver")
	apiserver, etcd = filepath.Join(dir, "kube-apiserver"), filepath.Join(dir, "etcd")
	for _, b := range []string{apiserver, etcd} {
		if _, err := os.Stat(b); err != nil {
			return "", "", fmt.Errorf("no %s: run scripts/build-kube-apiserver.sh (the test command does)", b)
		}
	}
	return apiserver, etcd, nil
}

// Start starts etcd and kube-apiserver and stops them when the test ends;
// the test fails with their logs if they do not become ready.
func Start(t testing.TB, o Options) *Cluster {
	t.Helper()
	apiserver, etcd, err := Binaries()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	c := &Cluster{dir: dir, AdminToken: hex.EncodeToString(tok)}
	t.Cleanup(c.stop)

	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = freeport.Get(); err != nil {
			t.Fatal(err)
		}
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	p := c.run(t, "etcd", etcd, "-data-dir", filepath.Join(dir, "etcd"), "-listen-client-url", etcdURL,
		"-listen-peer-url", "http://127.0.0.1:"+strconv.Itoa(ports[1]))
	c.waitLog(t, p, "etcd ready", 60*time.Second)

	certs := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certs, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	write := func(name string, data []byte) string {
		path := filepath.Join(certs, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	saKey := write("sa.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	saPub := write("sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	tokens := write("tokens.csv", []byte(c.AdminToken+",kubetest-admin,kubetest-admin,system:masters\n"))
	c.URL = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(ports[2]),
		// A self-signed serving certificate for 127.0.0.1 and localhost.
		"--cert-dir=" + certs,
		"--service-account-key-file=" + saPub, "--service-account-signing-key-file=" + saKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		// A range for Service objects: no traffic goes there.
		"--service-cluster-ip-range=10.96.0.0/24",
		// The loopback address cannot be the kubernetes Service's endpoint.
		"--endpoint-reconciler-type=none",
		"--authorization-mode=RBAC",
		"--token-auth-file=" + tokens,
		// No controller manager creates default service accounts here.
		"--disable-admission-plugins=ServiceAccount",
		"--profiling=false",
	}
	if o.WebhookURL != "" {
		kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
  - name: authenticator
    cluster:
      server: %s
users:
  - name: apiserver
current-context: webhook
contexts:
  - name: webhook
    context:
      cluster: authenticator
      user: apiserver
`, o.WebhookURL)
		args = append(args, "--authentication-token-webhook-config-file="+write("webhook.yaml", []byte(kubeconfig)),
			"--authentication-token-webhook-version=v1",
			// Every request is reviewed: a test changes mappings.
			"--authentication-token-webhook-cache-ttl=0s")
	}
	started := time.Now()
	p = c.run(t, "kube-apiserver", apiserver, args...)
	deadline := time.Now().Add(120 * time.Second)
	for {
		select {
		case <-p.exited:
			t.Fatalf("kube-apiserver exited during start:\n%s", tail(p.log))
		default:
		}
		if ca, err := os.ReadFile(filepath.Join(certs, "apiserver.crt")); err == nil && c.client == nil && len(ca) > 0 {
			pool := x509.NewCertPool()
			if pool.AppendCertsFromPEM(ca) {
				c.CA = ca
				c.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			}
		}
		if c.client != nil {
			if code, _, err := c.Do("GET", "/readyz", nil); err == nil && code == 200 {
				c.StartedIn = time.Since(started)
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kube-apiserver not ready in 120s:\n%s", tail(p.log))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Cluster) run(t testing.TB, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: filepath.Join(c.dir, name+".log"), exited: make(chan struct{})}
	lf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = lf, lf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); lf.Close(); close(p.exited) }()
	c.procs = append(c.procs, p)
	return p
}

func (c *Cluster) waitLog(t testing.TB, p *proc, want string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(p.log)
		if bytes.Contains(b, []byte(want)) {
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited during start:\n%s", p.name, tail(p.log))
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s not ready in %s:\n%s", p.name, d, tail(p.log))
}

func (c *Cluster) stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
}

// Log returns the tail of the API server's log.
func (c *Cluster) Log() string {
	for _, p := range c.procs {
		if p.name == "kube-apiserver" {
			return tail(p.log)
		}
	}
	return ""
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

// Do sends a request as the admin; body is JSON-encoded unless nil.
func (c *Cluster) Do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		if method == http.MethodPatch {
			req.Header.Set("Content-Type", "application/merge-patch+json")
		}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, out, err
}

// Must sends a request as the admin and fails the test unless it
// succeeds (2xx).
func (c *Cluster) Must(t testing.TB, method, path string, body any) []byte {
	t.Helper()
	code, out, err := c.Do(method, path, body)
	if err != nil || code/100 != 2 {
		t.Fatalf("%s %s: %d %v %s", method, path, code, err, strings.TrimSpace(string(out)))
	}
	return out
}
