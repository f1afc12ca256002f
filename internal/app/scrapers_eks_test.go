package app_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/scraper"
	"github.com/kansoku/kansoku/internal/testenv"
	"github.com/kansoku/kansoku/internal/testenv/kubetest"
	"github.com/kansoku/kansoku/sim/awssim"
)

// eksEnv is a real kube-apiserver standing for an EKS cluster's control
// plane, the AWS simulator standing for EKS, STS and the cluster's IAM
// authenticator, and Kansoku with an AWS integration of the cluster's
// account in the scrapers' destination workspace.
type eksEnv struct {
	s    *testenv.Server
	sim  *awssim.Server
	kube *kubetest.Cluster
	ws   string
}

func eksClusterARN(name string) string {
	return "arn:aws:eks:us-east-1:" + customerAccount + ":cluster/" + name
}

func startEKS(t *testing.T) *eksEnv {
	sim, simURL := startSimulator(t, &awssim.Scenario{
		Callers: []awssim.Caller{{AccountID: kansokuAWSAccount, Name: "kansoku", AccessKeyID: kansokuKeyID, SecretAccessKey: kansokuSecret}},
		Accounts: []awssim.Account{{ID: customerAccount,
			Roles: []awssim.Role{{Name: "KansokuIntegration", TrustedPrincipals: []string{kansokuAWSAccount}}}}},
	})
	// The cluster "prod"'s IAM authenticator, its API server's webhook.
	auth := httptest.NewServer(sim.EKSAuthenticator(customerAccount, "us-east-1", "prod", simURL))
	t.Cleanup(auth.Close)
	kube := kubetest.Start(t, kubetest.Options{WebhookURL: auth.URL})
	t.Logf("kube-apiserver ready in %s", kube.StartedIn)
	u, _ := url.Parse(kube.URL)
	if err := sim.Update(func(sc *awssim.Scenario) {
		sc.Accounts[0].Regions = map[string]*awssim.Region{"us-east-1": {EKSClusters: []awssim.EKSCluster{
			// The integration's role is the collector's user, as AMP's
			// setup maps its scraper role (access entry or aws-auth).
			{Name: "prod", Endpoint: kube.URL, CertificateAuthority: string(kube.CA), SubnetIDs: []string{"subnet-1"},
				AccessEntries: []awssim.EKSAccessEntry{{PrincipalARN: roleARN, Username: "aps-collector-user"}}},
			// Another cluster whose endpoint answers with prod's API server:
			// a token made for "other" is not prod's.
			{Name: "other", Endpoint: kube.URL, CertificateAuthority: string(kube.CA), SubnetIDs: []string{"subnet-1"},
				AccessEntries: []awssim.EKSAccessEntry{{PrincipalARN: roleARN, Username: "aps-collector-user"}}},
			// A cluster at an address the scrapers' firewall does not open.
			{Name: "walled", Endpoint: "https://127.0.0.2:" + u.Port(), CertificateAuthority: string(kube.CA), SubnetIDs: []string{"subnet-1"}},
		}}}
	}); err != nil {
		t.Fatal(err)
	}
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) {
		c.AWS.EndpointURL = simURL
		c.AWS.Poll = false
		// The API server and the exporter listen on 127.0.0.1: opened.
		// 127.0.0.2 stays closed.
		c.Scraper.AllowNetworks = []string{"127.0.0.1/32"}
	}})
	e := &eksEnv{s: s, sim: sim, kube: kube, ws: s.CreateWorkspace(t, "eks")}

	// The operator's integration of the cluster's account, its role
	// allowed eks:DescribeCluster.
	var created integrationResp
	if err := s.Admin.JSON(ctx, "POST", "/admin/v1/aws/integrations", nil, map[string]any{"name": "cluster-account", "awsAccountId": customerAccount,
		"workspaceId": e.ws, "regions": []string{"us-east-1"}, "services": []string{"ec2"}}, &created); err != nil {
		t.Fatal(err)
	}
	if err := sim.Update(func(sc *awssim.Scenario) {
		r := &sc.Accounts[0].Roles[0]
		r.ExternalID = created.Integration.ExternalID
		r.Policies = []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:DescribeCluster","Resource":"*"}]}`}
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Admin.JSON(ctx, "PATCH", "/admin/v1/aws/integrations/"+created.Integration.ID, nil, map[string]any{"roleArn": roleARN}, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

func eksBody(s *testenv.Server, ws, cluster, cfg string) map[string]any {
	return scraperBody(s, ws, cfg, map[string]any{"source": map[string]any{"eksConfiguration": map[string]any{
		"clusterArn": cluster, "subnetIds": []string{"subnet-1"}, "securityGroupIds": []string{"sg-1"}}}})
}

// createEKSScraper creates an EKS scraper with a SERVICE_DISCOVERY log.
func (e *eksEnv) createEKSScraper(t *testing.T, cluster, cfg string) string {
	t.Helper()
	var c scraperCreated
	if err := e.s.Admin.JSON(ctx, "POST", "/scrapers", nil, eksBody(e.s, e.ws, cluster, cfg), &c); err != nil {
		t.Fatal(err)
	}
	group := "arn:aws:logs:us-east-1:" + e.s.App.Info().Account.ID + ":log-group:/aps/eks:*"
	if err := e.s.Admin.JSON(ctx, "PUT", "/scrapers/"+c.ScraperID+"/logging-configuration", nil, map[string]any{
		"loggingDestination": map[string]any{"cloudWatchLogs": map[string]any{"logGroupArn": group}},
		"scraperComponents":  []map[string]any{{"type": "SERVICE_DISCOVERY"}}}, nil); err != nil {
		t.Fatal(err)
	}
	waitScraper(t, e.s, c.ScraperID, "ACTIVE")
	return c.ScraperID
}

// waitLog waits for a scraper event containing want in the workspace log
// and returns the log.
func (e *eksEnv) waitLog(t *testing.T, id, want string, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	var raw []byte
	for time.Now().Before(deadline) {
		var logs struct{ Events []map[string]any }
		if err := e.s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+e.ws+"/logs", url.Values{"component": {"scraper"}}, nil, &logs); err != nil {
			t.Fatal(err)
		}
		raw, _ = json.Marshal(logs)
		for _, ev := range logs.Events {
			b, _ := json.Marshal(ev)
			if strings.Contains(string(b), id) && strings.Contains(string(b), want) {
				return string(raw)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no event of %s with %q in the workspace log: %s", id, want, raw)
	return ""
}

const eksPodsConfig = `global:
  scrape_interval: 30s
scrape_configs:
  - job_name: %s
    kubernetes_sd_configs:
      - role: pod
        namespaces:
          names: [default]
    relabel_configs:
      - source_labels: [__meta_kubernetes_pod_name]
        target_label: pod
`

// TestEKSScraperDiscoversPods: a scraper with an eksConfiguration source
// discovers the pods of a real kube-apiserver through the cluster's EKS
// endpoint and CA, authenticated by an IAM authenticator token made with
// the workspace's AWS integration, and scrapes the real node exporter a
// pod's IP and port point at, with the pod's name relabeled into a label.
// Before the collector's user is bound to AMP's aps-collector-role, the
// scraper's log says discovery was denied; a token for another cluster, an
// API server address the firewall does not open and a pod IP it does not
// open are refused with the reason; what Kansoku cannot reach is refused
// at CreateScraper.
func TestEKSScraperDiscoversPods(t *testing.T) {
	node := nodeExporter(t)
	_, port, _ := strings.Cut(node, ":")
	e := startEKS(t)
	k := e.kube

	// The cluster: a node and two pods whose container port is the
	// exporter's; one pod's IP is the exporter's address, the other's an
	// address the firewall keeps closed.
	k.Must(t, "POST", "/api/v1/nodes", map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "node-1"}})
	for name, ip := range map[string]string{"web": "127.0.0.1", "walled-pod": "127.0.0.2"} {
		p, _ := strconv.Atoi(port)
		k.Must(t, "POST", "/api/v1/namespaces/default/pods", map[string]any{"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": name, "labels": map[string]string{"app": "node-exporter"}},
			"spec": map[string]any{"nodeName": "node-1", "containers": []map[string]any{{"name": "exporter", "image": "prometheus-node-exporter",
				"ports": []map[string]any{{"name": "metrics", "containerPort": p}}}}}})
		k.Must(t, "PATCH", "/api/v1/namespaces/default/pods/"+name+"/status", map[string]any{"status": map[string]any{
			"phase": "Running", "podIP": ip, "podIPs": []map[string]string{{"ip": ip}}, "hostIP": "127.0.0.1"}})
	}

	// What Kansoku cannot reach or may not set is refused at create.
	for name, tc := range map[string]struct {
		body map[string]any
		want string
	}{
		"no integration of the account": {eksBody(e.s, e.ws, "arn:aws:eks:us-east-1:999999999999:cluster/prod", fmt.Sprintf(eksPodsConfig, "pods")),
			"the cluster's account 999999999999 is not reachable from the destination workspace"},
		"api_server": {eksBody(e.s, e.ws, eksClusterARN("prod"), "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs: [{role: pod, api_server: 'https://10.0.0.1'}]\n"),
			"kubernetes_sd_configs[0]: api_server not allowed"},
		"kubeconfig_file": {eksBody(e.s, e.ws, eksClusterARN("prod"), "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs: [{role: pod, kubeconfig_file: /root/.kube/config}]\n"),
			"kubeconfig_file not allowed"},
		"bearer_token_file": {eksBody(e.s, e.ws, eksClusterARN("prod"), "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs: [{role: pod, bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token}]\n"),
			"bearer_token_file not allowed"},
		"own_namespace": {eksBody(e.s, e.ws, eksClusterARN("prod"), "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs: [{role: pod, namespaces: {own_namespace: true}}]\n"),
			"own_namespace not allowed"},
		"no subnets": {scraperBody(e.s, e.ws, fmt.Sprintf(eksPodsConfig, "pods"), map[string]any{"source": map[string]any{"eksConfiguration": map[string]any{
			"clusterArn": eksClusterARN("prod")}}}), "subnetIds"},
	} {
		err := e.s.Admin.JSON(ctx, "POST", "/scrapers", nil, tc.body, nil)
		if ae := apiErr(t, err); ae.Status != 400 || ae.Type != "ValidationException" || !strings.Contains(ae.Message, tc.want) {
			t.Errorf("%s: want ValidationException with %q, got %v", name, tc.want, ae)
		}
	}
	// Another workspace has no integration: the cluster is not its to reach.
	other := e.s.CreateWorkspace(t, "other-tenant")
	err := e.s.Admin.JSON(ctx, "POST", "/scrapers", nil, eksBody(e.s, other, eksClusterARN("prod"), fmt.Sprintf(eksPodsConfig, "pods")), nil)
	if ae := apiErr(t, err); ae.Status != 400 || !strings.Contains(ae.Message, "workspace "+other+" has no AWS integration with account "+customerAccount) {
		t.Fatalf("another workspace's integration was used: %v", ae)
	}
	// A caller allowed to create scrapers and write into the workspace,
	// but not to use the integration the cluster is reached through, is
	// refused (as for EC2 discovery).
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{
		{"Effect": "Allow", "Action": []string{"aps:CreateScraper", "aps:RemoteWrite"}, "Resource": "*"}}})
	noIntegration := e.s.User(t, "eks-no-integration", createPolicy(t, e.s, "eks-create-write", string(doc)))
	err = noIntegration.JSON(ctx, "POST", "/scrapers", nil, eksBody(e.s, e.ws, eksClusterARN("prod"), fmt.Sprintf(eksPodsConfig, "pods")), nil)
	if ae := apiErr(t, err); ae.Status != 403 || !strings.Contains(ae.Message, "kansoku:PollAWSIntegration") {
		t.Fatalf("EKS scraper created without kansoku:PollAWSIntegration on the integration: %v", ae)
	}

	// Discovery is denied until the user is bound to the collector role.
	pods := e.createEKSScraper(t, eksClusterARN("prod"), fmt.Sprintf(eksPodsConfig, "pods"))
	// Nor may an update move the scraper to that workspace or give it a
	// refused key.
	err = e.s.Admin.JSON(ctx, "PUT", "/scrapers/"+pods, nil, map[string]any{"destination": map[string]any{"ampConfiguration": map[string]any{"workspaceArn": e.s.WorkspaceARN(other)}}}, nil)
	if ae := apiErr(t, err); ae.Status != 400 || !strings.Contains(ae.Message, "workspace "+other+" has no AWS integration with account "+customerAccount) {
		t.Fatalf("update to another workspace: %v", ae)
	}
	err = e.s.Admin.JSON(ctx, "PUT", "/scrapers/"+pods, nil, map[string]any{"scrapeConfiguration": map[string]any{"configurationBlob": base64.StdEncoding.EncodeToString(
		[]byte("scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs: [{role: pod, kubeconfig_file: /root/.kube/config}]\n"))}}, nil)
	if ae := apiErr(t, err); ae.Status != 400 || !strings.Contains(ae.Message, "kubeconfig_file not allowed") {
		t.Fatalf("update with kubeconfig_file: %v", ae)
	}
	e.waitLog(t, pods, `the API server denied discovery (403): pods is forbidden: User \"aps-collector-user\" cannot list resource \"pods\"`, 90*time.Second)
	if r := queryValues(t, e.s, e.ws, `up{job="pods"}`); len(r) != 0 {
		t.Fatalf("targets without RBAC: %v", r)
	}
	// AMP's aps-collector-role and its binding to the mapped user.
	k.Must(t, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
		"metadata": map[string]any{"name": "aps-collector-role"},
		"rules": []map[string]any{
			{"apiGroups": []string{""}, "resources": []string{"nodes", "nodes/proxy", "nodes/metrics", "services", "endpoints", "pods", "ingresses", "configmaps"},
				"verbs": []string{"describe", "get", "list", "watch"}},
			{"apiGroups": []string{"extensions", "networking.k8s.io"}, "resources": []string{"ingresses/status", "ingresses"}, "verbs": []string{"describe", "get", "list", "watch"}},
			{"apiGroups": []string{"discovery.k8s.io"}, "resources": []string{"endpointslices"}, "verbs": []string{"get", "list", "watch"}},
			{"nonResourceURLs": []string{"/metrics"}, "verbs": []string{"get"}},
		}})
	k.Must(t, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": "aps-collector-user-role-binding"},
		"subjects": []map[string]any{{"kind": "User", "name": "aps-collector-user", "apiGroup": "rbac.authorization.k8s.io"}},
		"roleRef":  map[string]any{"kind": "ClusterRole", "name": "aps-collector-role", "apiGroup": "rbac.authorization.k8s.io"}})

	// AMP's default configuration (what Kansoku keeps of it) runs as it is,
	// and two scrapers that cannot reach their cluster, side by side.
	e.createEKSScraper(t, eksClusterARN("prod"), scraper.DefaultConfiguration)
	stale := e.createEKSScraper(t, eksClusterARN("other"), fmt.Sprintf(eksPodsConfig, "other"))
	walled := e.createEKSScraper(t, eksClusterARN("walled"), fmt.Sprintf(eksPodsConfig, "walled"))

	up := waitQuery(t, e.s, e.ws, `up{job="pods"}`, 150*time.Second, func(r []map[string]string) bool { return len(r) == 2 })
	for _, u := range up {
		want := map[string]string{"web": "1", "walled-pod": "0"}[u["pod"]]
		if want == "" || u["__value__"] != want || u["instance"] != map[string]string{"web": "127.0.0.1:" + port, "walled-pod": "127.0.0.2:" + port}[u["pod"]] {
			t.Fatalf("up: %v", up)
		}
	}
	waitQuery(t, e.s, e.ws, `count(node_cpu_seconds_total{job="pods",pod="web"}) > 0`, 60*time.Second, func(r []map[string]string) bool { return len(r) == 1 })
	if r := queryValues(t, e.s, e.ws, `node_cpu_seconds_total{pod="walled-pod"}`); len(r) != 0 {
		t.Fatalf("samples through the firewall: %d series", len(r))
	}

	// The default's pod job finds both pods; no pod is kube-proxy's.
	waitQuery(t, e.s, e.ws, `up{job="pod_exporter",instance="127.0.0.1:`+port+`"} == 1`, 60*time.Second, func(r []map[string]string) bool { return len(r) == 1 })
	waitQuery(t, e.s, e.ws, `count(up{job="pod_exporter"})`, 30*time.Second, func(r []map[string]string) bool { return len(r) == 1 && r[0]["__value__"] == "2" })
	if r := queryValues(t, e.s, e.ws, `up{job="kube-proxy"}`); len(r) != 0 {
		t.Fatalf("kube-proxy targets: %v", r)
	}

	// A token for another cluster, and an API server the firewall does not
	// open: the log says why, and nothing is discovered.
	e.waitLog(t, stale, "did not accept the scraper's IAM authenticator token (401", 90*time.Second)
	raw := e.waitLog(t, walled, "the API server address is refused by the scrapers' firewall", 90*time.Second)
	if r := queryValues(t, e.s, e.ws, `up{job=~"other|walled"}`); len(r) != 0 {
		t.Fatalf("targets of a refused cluster: %v", r)
	}
	if strings.Contains(raw, "k8s-aws-v1.") || strings.Contains(raw, "X-Amz-Signature") {
		t.Fatal("a token is in the scraper log")
	}
}
