package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/testenv/kubetest"
	"github.com/kansoku/kansoku/sim/awssim"
)

// TestAWSCLIEKSScraper: the real binary, driven by the aws CLI, runs a
// scraper whose source is an EKS cluster: a real kube-apiserver whose
// token webhook is the AWS simulator's IAM authenticator, reached through
// the demo account's AWS integration (kansoku aws create / set-role). The
// default configuration is AMP's EKS one; the scraper discovers a pod
// whose IP and port are a real node exporter's and scrapes it.
func TestAWSCLIEKSScraper(t *testing.T) {
	bin := awsV1(t)
	node := startNodeExporter(t)
	_, port, _ := strings.Cut(node, ":")

	sim, simURL := startDemoAWS(t)
	auth := httptest.NewServer(sim.EKSAuthenticator("123456789012", "us-east-1", "shop", simURL))
	t.Cleanup(auth.Close)
	kube := kubetest.Start(t, kubetest.Options{WebhookURL: auth.URL})
	role := demoRole
	if err := sim.Update(func(sc *awssim.Scenario) {
		a := &sc.Accounts[0]
		a.Roles[0].Policies = append(a.Roles[0].Policies, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:DescribeCluster","Resource":"*"}]}`)
		rg := a.Regions["us-east-1"]
		rg.EKSClusters = append(rg.EKSClusters, awssim.EKSCluster{Name: "shop", Endpoint: kube.URL, CertificateAuthority: string(kube.CA),
			SubnetIDs: []string{"subnet-0123"}, AccessEntries: []awssim.EKSAccessEntry{{PrincipalARN: role, Username: "aps-collector-user"}}})
	}); err != nil {
		t.Fatal(err)
	}
	// The cluster: AMP's collector role bound to the mapped user, and a
	// pod at the exporter's address.
	kube.Must(t, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
		"metadata": map[string]any{"name": "aps-collector-role"},
		"rules":    []map[string]any{{"apiGroups": []string{""}, "resources": []string{"nodes", "services", "endpoints", "pods"}, "verbs": []string{"get", "list", "watch"}}}})
	kube.Must(t, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": "aps-collector-user-role-binding"},
		"subjects": []map[string]any{{"kind": "User", "name": "aps-collector-user", "apiGroup": "rbac.authorization.k8s.io"}},
		"roleRef":  map[string]any{"kind": "ClusterRole", "name": "aps-collector-role", "apiGroup": "rbac.authorization.k8s.io"}})
	p, _ := strconv.Atoi(port)
	kube.Must(t, "POST", "/api/v1/namespaces/default/pods", map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "exporter-0"},
		"spec": map[string]any{"containers": []map[string]any{{"name": "exporter", "image": "prometheus-node-exporter", "ports": []map[string]any{{"containerPort": p}}}}}})
	kube.Must(t, "PATCH", "/api/v1/namespaces/default/pods/exporter-0/status", map[string]any{"status": map[string]any{"phase": "Running", "podIP": "127.0.0.1"}})

	s := startServer(t, "", "--aws.endpoint-url="+simURL, "--no-aws.poll", "--scraper.allow-network", "127.0.0.1/32")
	env := awsEnv(t, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"], "us-east-1")
	ok := func(what string, args ...string) string {
		t.Helper()
		out, code := run(t, env, bin, append(append([]string{"amp"}, args...), "--endpoint-url", s.URL, "--output", "json")...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", what, code, out)
		}
		return out
	}
	var w struct{ WorkspaceID, Arn string }
	_ = json.Unmarshal([]byte(ok("create-workspace", "create-workspace", "--alias", "eks")), &w)
	ok("wait", "wait", "workspace-active", "--workspace-id", w.WorkspaceID)
	ws := w.WorkspaceID
	registerDemoAccount(t, s, sim, "shop", ws)

	var def struct{ Configuration string }
	_ = json.Unmarshal([]byte(ok("default configuration", "get-default-scraper-configuration")), &def)
	defCfg, _ := base64.StdEncoding.DecodeString(def.Configuration)
	if !strings.Contains(string(defCfg), "job_name: pod_exporter") || !strings.Contains(string(defCfg), "- role: pod") {
		t.Fatalf("default configuration: %s", defCfg)
	}
	// AMP's default as it is, and the pod's name as a label.
	cfg := string(defCfg) + "  - job_name: named\n    kubernetes_sd_configs:\n      - role: pod\n    relabel_configs:\n" +
		"      - source_labels: [__meta_kubernetes_pod_name]\n        target_label: pod\n"
	blob, _ := json.Marshal(map[string]string{"configurationBlob": cfg})
	source := `{"eksConfiguration":{"clusterArn":"arn:aws:eks:us-east-1:123456789012:cluster/shop","subnetIds":["subnet-0123"],"securityGroupIds":["sg-0123"]}}`
	var created struct{ ScraperID string }
	_ = json.Unmarshal([]byte(ok("create-scraper", "create-scraper", "--alias", "shop", "--scrape-configuration", string(blob), "--source", source,
		"--destination", fmt.Sprintf(`{"ampConfiguration":{"workspaceArn":%q}}`, w.Arn))), &created)
	if created.ScraperID == "" {
		t.Fatal("no scraper id")
	}
	var d struct {
		Scraper struct {
			Status struct{ StatusCode string }
			Source struct {
				EksConfiguration struct {
					ClusterArn string
					SubnetIds  []string
				}
			}
		}
	}
	waitFor(t, 30*time.Second, "ACTIVE", func() bool {
		_ = json.Unmarshal([]byte(ok("describe-scraper", "describe-scraper", "--scraper-id", created.ScraperID)), &d)
		return d.Scraper.Status.StatusCode == "ACTIVE"
	})
	if d.Scraper.Source.EksConfiguration.ClusterArn != "arn:aws:eks:us-east-1:123456789012:cluster/shop" || d.Scraper.Source.EksConfiguration.SubnetIds[0] != "subnet-0123" {
		t.Fatalf("describe-scraper: %+v", d)
	}
	query := func(q string) string {
		_, raw, err := s.Admin.Raw(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {q}}, "", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	waitFor(t, 150*time.Second, "the pod's exporter scraped", func() bool {
		return strings.Contains(query(`up{job="named",pod="exporter-0"} == 1`), `"instance":"127.0.0.1:`+port+`"`) &&
			strings.Contains(query(`up{job="pod_exporter"} == 1`), `"instance":"127.0.0.1:`+port+`"`)
	})
	if r := query(`node_load1{job="named",pod="exporter-0"}`); !strings.Contains(r, `"pod":"exporter-0"`) {
		t.Fatalf("node_load1: %s", r)
	}
}
