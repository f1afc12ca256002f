// Package cluster tests Kansoku's scale-out shape for real: the cluster
// scripts/cluster-up.sh starts (PostgreSQL, three Cortex processes with
// replication factor 3, two Kansoku nodes, haproxy), driven by the aws
// CLI, a real Prometheus and HTTP clients, with processes killed with
// SIGKILL while it runs.
package cluster

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	_ "github.com/jackc/pgx/v5/stdlib" // the lease table is read directly

	"github.com/kansoku/kansoku/internal/client"
	"github.com/kansoku/kansoku/internal/testenv/repo"
)

// The cluster every test of the package shares.
var (
	repoRoot string
	dir      string
	env      map[string]string // cluster.env
	creds    map[string]string // admin-credentials
	nodes    []string          // the Kansoku nodes' URLs
	lb       string
	cortexes []string
)

func TestMain(m *testing.M) {
	repoRoot = repo.Root()
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster tests:", err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	var err error
	// Under /tmp, open to the postgres user that runs PostgreSQL.
	if dir, err = os.MkdirTemp("/tmp", "kansoku-cluster-"); err != nil {
		return 1, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return 1, err
	}
	up := exec.Command(filepath.Join(repoRoot, "scripts", "cluster-up.sh"), dir)
	// The tests poll the control plane: no throttling (its shared bucket
	// is tested on PostgreSQL by the metastore contract).
	up.Env = append(os.Environ(), "KANSOKU_EXTRA_FLAGS=--alertmanager.receiver-allow-network=127.0.0.0/8 --log.level=info --control-plane.rate=0")
	out, err := up.CombinedOutput()
	defer func() {
		down := exec.Command(filepath.Join(repoRoot, "scripts", "cluster-down.sh"), dir)
		if out, err := down.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "cluster-down: %v\n%s", err, out)
		}
		if os.Getenv("KANSOKU_KEEP_CLUSTER") == "" {
			_ = os.RemoveAll(dir)
		}
	}()
	if err != nil {
		return 1, fmt.Errorf("cluster-up.sh: %w\n%s", err, out)
	}
	if env, err = client.LoadCredentialsFile(filepath.Join(dir, "cluster.env")); err != nil {
		return 1, err
	}
	if creds, err = client.LoadCredentialsFile(filepath.Join(dir, "admin-credentials")); err != nil {
		return 1, err
	}
	nodes, lb, cortexes = strings.Fields(env["KANSOKU_URLS"]), env["LB_URL"], strings.Fields(env["CORTEX_URLS"])
	if len(nodes) != 2 || lb == "" || len(cortexes) != 3 {
		return 1, fmt.Errorf("cluster.env: %v", env)
	}
	return m.Run(), nil
}

// api returns a SigV4 client of the admin key against base.
func api(base string) *client.Client {
	return client.New(base, creds["AWS_DEFAULT_REGION"], aws.Credentials{
		AccessKeyID: creds["AWS_ACCESS_KEY_ID"], SecretAccessKey: creds["AWS_SECRET_ACCESS_KEY"]})
}

// awsAMP runs `aws amp ARGS --endpoint-url base --output json`.
func awsAMP(t *testing.T, base string, args ...string) string {
	t.Helper()
	cmd := exec.Command("/usr/bin/aws", append(append([]string{"amp"}, args...), "--endpoint-url", base, "--output", "json")...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+creds["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY="+creds["AWS_SECRET_ACCESS_KEY"],
		"AWS_DEFAULT_REGION="+creds["AWS_DEFAULT_REGION"], "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws amp %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// kansoku runs the kansoku binary the cluster runs, against base.
func kansoku(t *testing.T, base string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(dir, "kansoku"), append(args, "--url", base)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+creds["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY="+creds["AWS_SECRET_ACCESS_KEY"],
		"AWS_DEFAULT_REGION="+creds["AWS_DEFAULT_REGION"])
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kansoku %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// createWorkspace creates a workspace through base and waits for it.
func createWorkspace(t *testing.T, base, alias string) string {
	t.Helper()
	var out struct {
		WorkspaceID string `json:"workspaceId"`
	}
	if err := json.Unmarshal([]byte(awsAMP(t, base, "create-workspace", "--alias", alias)), &out); err != nil {
		t.Fatal(err)
	}
	awsAMP(t, base, "wait", "workspace-active", "--workspace-id", out.WorkspaceID)
	return out.WorkspaceID
}

// pid reads a cluster process's pid file.
func pid(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "pids", name+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// kill9 kills a cluster process (its process group) with SIGKILL.
func kill9(t *testing.T, name string) {
	t.Helper()
	p := pid(t, name)
	_ = syscall.Kill(-p, syscall.SIGKILL)
	_ = syscall.Kill(p, syscall.SIGKILL)
	waitFor(t, 10*time.Second, name+" gone", func() bool { return syscall.Kill(p, 0) != nil })
}

// restart starts a killed process again and waits for readyURL.
func restart(t *testing.T, name, readyURL string) {
	t.Helper()
	if out, err := exec.Command(filepath.Join(dir, "run", name+".sh")).CombinedOutput(); err != nil {
		t.Fatalf("restart %s: %v\n%s", name, err, out)
	}
	waitFor(t, 120*time.Second, name+" ready", func() bool {
		resp, err := http.Get(readyURL)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// nodeName is the cluster name of the node at URL u.
func nodeName(u string) string {
	for i, n := range nodes {
		if n == u {
			return fmt.Sprintf("kansoku-%d", i+1)
		}
	}
	return ""
}

// owner returns the node holding ws's lease now ("" when none).
func owner(t *testing.T, ws string) string {
	t.Helper()
	db, err := sql.Open("pgx", env["PG_DSN"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var holder string
	err = db.QueryRowContext(context.Background(),
		`SELECT holder FROM leases WHERE name = $1 AND expires_at > CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)`,
		"workspace/"+ws).Scan(&holder)
	if err != nil {
		return ""
	}
	return holder
}

// setLimits sets ws's limits through the load balancer and waits until
// every node has them in force: a node reloads other nodes' changes every
// few seconds, and until then validates against the limits it had (a rule
// group at 1 s uploaded through it fails as below the 30 s minimum).
func setLimits(t *testing.T, ws string, limits map[string]string) {
	t.Helper()
	args := []string{"limits", "set", ws}
	for k, v := range limits {
		args = append(args, k+"="+v)
	}
	kansoku(t, lb, args...)
	waitFor(t, 30*time.Second, fmt.Sprintf("every node to have %v in force", limits), func() bool {
		for _, n := range nodes {
			var out struct {
				Limits map[string]any `json:"limits"`
			}
			if err := api(n).JSON(context.Background(), http.MethodGet, "/admin/v1/workspaces/"+ws+"/limits", nil, nil, &out); err != nil {
				return false
			}
			for k, v := range limits {
				if fmt.Sprint(out.Limits[k]) != v {
					return false
				}
			}
		}
		return true
	})
}

// createRuleNamespace uploads a rule groups namespace through base and
// waits for it to be ACTIVE, failing at once on CREATION_FAILED.
func createRuleNamespace(t *testing.T, base, ws, name, file string) {
	t.Helper()
	awsAMP(t, base, "create-rule-groups-namespace", "--workspace-id", ws, "--name", name, "--data", "fileb://"+file)
	waitFor(t, 60*time.Second, "rule groups namespace "+name+" ACTIVE", func() bool {
		var out struct {
			RuleGroupsNamespace struct {
				Status struct {
					StatusCode   string `json:"statusCode"`
					StatusReason string `json:"statusReason"`
				} `json:"status"`
			} `json:"ruleGroupsNamespace"`
		}
		if err := json.Unmarshal([]byte(awsAMP(t, base, "describe-rule-groups-namespace", "--workspace-id", ws, "--name", name)), &out); err != nil {
			t.Fatal(err)
		}
		st := out.RuleGroupsNamespace.Status
		if st.StatusCode == "CREATION_FAILED" {
			t.Fatalf("rule groups namespace %s: %s", name, st.StatusReason)
		}
		return st.StatusCode == "ACTIVE"
	})
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// query runs an instant PromQL query on base for ws and returns the
// result's JSON.
func query(t *testing.T, base, ws, q string, at time.Time) (string, error) {
	t.Helper()
	v := url.Values{"query": {q}}
	if !at.IsZero() {
		v.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	resp, body, err := api(base).Raw(context.Background(), http.MethodGet, "/workspaces/"+ws+"/api/v1/query", v, "", nil, nil)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	var r struct {
		Data struct {
			Result json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", err
	}
	return string(r.Data.Result), nil
}

// logTail returns the end of a cluster process's log.
func logTail(name string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "logs", name+".log"))
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}

// dumpOnFailure logs the nodes' logs when t fails.
func dumpOnFailure(t *testing.T, names ...string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, n := range names {
			t.Logf("%s log (end):\n%s", n, logTail(n))
		}
	})
}
