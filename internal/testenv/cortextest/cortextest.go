// Package cortextest starts a real Cortex cluster on loopback for tests:
// the binary scripts/build-cortex.sh builds into .cache/cortex, configured
// from deploy/cortex/cortex.yaml (the same template scripts/cluster-up.sh
// fills), with one process per node, a memberlist ring between them and a
// shared filesystem bucket.
package cortextest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/cortex"
	"github.com/kansoku/kansoku/internal/testenv/freeport"
	"github.com/kansoku/kansoku/internal/testenv/repo"
)

// Options shape the cluster.
type Options struct {
	// Nodes is the number of Cortex processes (default 1).
	Nodes int
	// ReplicationFactor of the ingesters (default: min(Nodes, 3)).
	ReplicationFactor int
}

// Cluster is a running Cortex cluster.
type Cluster struct {
	Dir         string
	RuntimeFile string
	Nodes       []*Node

	t testing.TB
}

// Node is one Cortex process.
type Node struct {
	Name    string
	HTTPURL string
	cmd     *exec.Cmd
	cfgFile string
	logFile string
	exited  chan struct{}
	mu      sync.Mutex
}

// Binary returns the Cortex binary, or an error saying how to build it.
func Binary() (string, error) {
	bin := filepath.Join(repo.Root(), ".cache", "cortex", "cortex")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("no Cortex binary at %s: run scripts/build-cortex.sh (the test command does)", bin)
	}
	return bin, nil
}

// Start starts a cluster and stops it when the test ends. It fails the
// test if Cortex is not built or does not become ready.
func Start(t testing.TB, o Options) *Cluster {
	t.Helper()
	if o.Nodes <= 0 {
		o.Nodes = 1
	}
	if o.ReplicationFactor <= 0 {
		o.ReplicationFactor = min(o.Nodes, 3)
	}
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(repo.Root(), "deploy", "cortex", "cortex.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := &Cluster{Dir: dir, RuntimeFile: filepath.Join(dir, "runtime.yaml"), t: t}
	if err := os.WriteFile(c.RuntimeFile, []byte("overrides: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type ports struct{ http, grpc, ml int }
	ps := make([]ports, o.Nodes)
	var joins []string
	for i := range ps {
		for _, p := range []*int{&ps[i].http, &ps[i].grpc, &ps[i].ml} {
			if *p, err = freeport.Get(); err != nil {
				t.Fatal(err)
			}
		}
		joins = append(joins, "127.0.0.1:"+strconv.Itoa(ps[i].ml))
	}
	kv, observe := "memberlist", "2s"
	if o.Nodes == 1 {
		kv, observe, joins = "inmemory", "0s", nil
	}
	for i := range ps {
		name := fmt.Sprintf("cortex-%d", i+1)
		vars := map[string]string{
			"CORTEX_NODE": name, "CORTEX_HTTP_PORT": strconv.Itoa(ps[i].http), "CORTEX_GRPC_PORT": strconv.Itoa(ps[i].grpc),
			"CORTEX_MEMBERLIST_PORT": strconv.Itoa(ps[i].ml), "CORTEX_JOIN_MEMBERS": strings.Join(joins, ", "),
			"CORTEX_KV_STORE": kv, "CORTEX_OBSERVE_PERIOD": observe, "CORTEX_REPLICATION_FACTOR": strconv.Itoa(o.ReplicationFactor),
			"CORTEX_BUCKET_DIR": filepath.Join(dir, "bucket"), "CORTEX_DATA_DIR": filepath.Join(dir, name),
			"CORTEX_RUNTIME_CONFIG": c.RuntimeFile, "CORTEX_RUNTIME_RELOAD": "1s",
		}
		cfg := os.Expand(string(tmpl), func(k string) string { return vars[k] })
		n := &Node{Name: name, HTTPURL: "http://127.0.0.1:" + strconv.Itoa(ps[i].http),
			cfgFile: filepath.Join(dir, name+".yaml"), logFile: filepath.Join(dir, name+".log")}
		if err := os.WriteFile(n.cfgFile, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, n)
	}
	t.Cleanup(c.stop)
	for _, n := range c.Nodes {
		if err := n.start(bin); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range c.Nodes {
		if err := n.WaitReady(90 * time.Second); err != nil {
			t.Fatalf("%v\n%s", err, n.LogTail())
		}
	}
	if o.Nodes > 1 {
		if err := c.waitRing(o.Nodes, 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (n *Node) start(bin string) error {
	f, err := os.OpenFile(n.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "-config.file="+n.cfgFile)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", n.Name, err)
	}
	n.mu.Lock()
	n.cmd, n.exited = cmd, make(chan struct{})
	exited := n.exited
	n.mu.Unlock()
	go func() { _ = cmd.Wait(); f.Close(); close(exited) }()
	return nil
}

// WaitReady waits for the node's /ready.
func (n *Node) WaitReady(d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		n.mu.Lock()
		exited := n.exited
		n.mu.Unlock()
		select {
		case <-exited:
			return fmt.Errorf("%s exited before it was ready", n.Name)
		default:
		}
		resp, err := http.Get(n.HTTPURL + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s", n.Name, d)
}

// Kill kills the node with SIGKILL and waits for it to exit.
func (n *Node) Kill() {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// Restart starts a killed node again with the same configuration.
func (n *Node) Restart() error {
	bin, err := Binary()
	if err != nil {
		return err
	}
	return n.start(bin)
}

// LogTail returns the end of the node's log.
func (n *Node) LogTail() string {
	b, _ := os.ReadFile(n.logFile)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (c *Cluster) stop() {
	for _, n := range c.Nodes {
		n.Kill()
	}
}

// waitRing waits until every node sees n ACTIVE ingesters.
func (c *Cluster) waitRing(n int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ok := true
		for _, node := range c.Nodes {
			if got, err := activeIngesters(node.HTTPURL); err != nil || got < n {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return errors.New("the ingester ring did not converge")
}

func activeIngesters(base string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/ingester/ring", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Shards []struct {
			State string `json:"state"`
		} `json:"shards"`
	}
	if err := jsonDecode(resp, &body); err != nil {
		return 0, err
	}
	n := 0
	for _, s := range body.Shards {
		if s.State == "ACTIVE" {
			n++
		}
	}
	return n, nil
}

// Config returns the Kansoku configuration of the cluster: every node a
// distributor, the first one's query-frontend.
func (c *Cluster) Config() cortex.Config {
	cfg := cortex.DefaultConfig()
	for _, n := range c.Nodes {
		cfg.DistributorURLs = append(cfg.DistributorURLs, n.HTTPURL)
	}
	cfg.QueryFrontendURL = c.Nodes[0].HTTPURL
	cfg.RuntimeConfigFile = c.RuntimeFile
	return cfg
}

func jsonDecode(resp *http.Response, v any) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
