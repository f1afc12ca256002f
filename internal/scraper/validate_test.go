package scraper

import (
	"strings"
	"testing"
)

func TestValidateAcceptsDefaultAndAMPStyle(t *testing.T) {
	for name, cfg := range map[string]string{
		"default": DefaultConfiguration,
		"static with relabelling": `global:
  scrape_interval: 60s
scrape_configs:
  - job_name: node
    scrape_interval: 30s
    static_configs:
      - targets: ['10.0.0.1:9100', '[::1]:9100']
        labels: {team: obs}
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: 'go_.*'
        action: drop
`,
	} {
		p, err := Validate([]byte(cfg))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, sc := range p.Config.ScrapeConfigs {
			if sc.BodySizeLimit != MaxBodySize || sc.SampleLimit != MaxSamplesPerScrap || sc.TargetLimit != MaxTargets {
				t.Fatalf("%s: AMP's limits not applied: %v %v %v", name, sc.BodySizeLimit, sc.SampleLimit, sc.TargetLimit)
			}
		}
	}
}

func TestValidateRefusals(t *testing.T) {
	job := func(extra string) string {
		return "scrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: ['10.0.0.1:9100']\n" + extra
	}
	k8s := func(sd string) string {
		return "scrape_configs:\n  - job_name: j\n    kubernetes_sd_configs: [" + sd + "]\n"
	}
	for name, tc := range map[string]struct{ cfg, want string }{
		"empty":               {"", "empty"},
		"not yaml":            {"{{{", "not YAML"},
		"no jobs":             {"global:\n  scrape_interval: 30s\n", "scrape_configs is empty"},
		"fast global":         {"global:\n  scrape_interval: 10s\n" + job(""), "global: scrape_interval 10s is below the minimum of 30s"},
		"fast job":            {job("    scrape_interval: 15s\n"), `job "j": scrape_interval 15s is below the minimum of 30s`},
		"default interval":    {job(""), "below the minimum of 30s"}, // Prometheus' default is 1m: accepted? no: see below
		"body too large":      {"global:\n  scrape_interval: 30s\n" + job("    body_size_limit: 60MB\n"), "body_size_limit 62914560 bytes is above the limit of 50MB"},
		"too many samples":    {"global:\n  scrape_interval: 30s\n" + job("    sample_limit: 600000\n"), "sample_limit 600000 is above the limit of 500000"},
		"too many targets":    {"global:\n  scrape_interval: 30s\n" + job("    target_limit: 40000\n"), "target_limit 40000 is above the limit of 30000"},
		"remote_write":        {"remote_write:\n  - url: http://x\n" + job(""), "the configuration: remote_write not allowed"},
		"rule_files":          {"rule_files: [/etc/passwd]\n" + job(""), "rule_files not allowed"},
		"scrape_config_files": {"scrape_config_files: ['/etc/*']\n" + job(""), "scrape_config_files not allowed"},
		"file sd":             {"scrape_configs:\n  - job_name: j\n    file_sd_configs: [{files: [/etc/passwd]}]\n", "file_sd_configs is not supported"},
		"k8s api_server":      {k8s("{role: pod, api_server: 'https://10.0.0.1'}"), "kubernetes_sd_configs[0]: api_server not allowed"},
		"k8s kubeconfig":      {k8s("{role: pod, kubeconfig_file: /root/.kube/config}"), "kubernetes_sd_configs[0]: kubeconfig_file not allowed"},
		"k8s bearer file":     {k8s("{role: pod, bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token}"), "bearer_token_file not allowed"},
		"k8s authorization":   {k8s("{role: pod, authorization: {credentials: x}}"), "kubernetes_sd_configs[0]: authorization not allowed"},
		"k8s tls":             {k8s("{role: pod, tls_config: {insecure_skip_verify: true}}"), "kubernetes_sd_configs[0]: tls_config not allowed"},
		"k8s proxy":           {k8s("{role: pod, proxy_url: 'http://10.0.0.2:3128'}"), "kubernetes_sd_configs[0]: proxy_url not allowed"},
		"k8s own namespace":   {k8s("{role: pod, namespaces: {own_namespace: true}}"), "namespaces: own_namespace not allowed"},
		"k8s attach metadata": {k8s("{role: pod, attach_metadata: {node: true}}"), "attach_metadata not allowed"},
		"k8s role":            {k8s("{role: secrets}"), `role "secrets" is not one of pod, node, service, endpoints, endpointslice, ingress`},
		"k8s selector":        {k8s("{role: pod, selectors: [{role: pod, label: 'a=b', x: 1}]}"), "selectors[0]: x not allowed"},
		"ec2 sd":              {"scrape_configs:\n  - job_name: j\n    ec2_sd_configs: [{region: us-east-1}]\n", "ec2_sd_configs is not supported"},
		"credentials file":    {job("    authorization: {credentials_file: /etc/shadow}\n"), "authorization: credentials_file not allowed"},
		"tls key file":        {job("    tls_config: {key_file: /etc/ssl/private/k}\n"), "tls_config: key_file not allowed"},
		"proxy":               {job("    proxy_url: http://10.0.0.2:3128\n"), "proxy_url not allowed"},
		"query log":           {"global:\n  query_log_file: /tmp/q\n" + job(""), "global: query_log_file not allowed"},
		"env expansion":       {"global:\n  scrape_interval: 30s\n  external_labels: {k: '$HOME'}\n" + job(""), "may not contain $"},
		"hostname target":     {"global:\n  scrape_interval: 30s\nscrape_configs:\n  - job_name: j\n    static_configs:\n      - targets: ['metadata.internal:80']\n", `static target "metadata.internal:80" is not an IP address`},
		"duplicate job":       {"global:\n  scrape_interval: 30s\n" + job("") + "  - job_name: j\n    static_configs: [{targets: ['10.0.0.2:1']}]\n", "multiple scrape configs"},
		"too large":           {strings.Repeat("#", MaxConfigBytes+1), "at most"},
	} {
		if name == "default interval" {
			// Prometheus' default scrape_interval is 1m: allowed.
			if _, err := Validate([]byte(tc.cfg)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		_, err := Validate([]byte(tc.cfg))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want an error containing %q, got %v", name, tc.want, err)
		}
	}
}

func TestValidateTooManyStaticTargets(t *testing.T) {
	var b strings.Builder
	b.WriteString("global:\n  scrape_interval: 30s\nscrape_configs:\n  - job_name: j\n    static_configs:\n      - targets:\n")
	for i := 0; i <= MaxTargets; i++ {
		b.WriteString("        - 10.1." + itoa(i/250) + "." + itoa(i%250) + ":9100\n")
	}
	_, err := Validate([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "30001 static targets") {
		t.Fatalf("want the target count refused, got %v", err)
	}
}

func itoa(i int) string {
	const d = "0123456789"
	if i < 10 {
		return d[i : i+1]
	}
	return itoa(i/10) + d[i%10:i%10+1]
}

func FuzzValidate(f *testing.F) {
	f.Add([]byte(DefaultConfiguration))
	f.Add([]byte("scrape_configs:\n  - job_name: j\n    static_configs: [{targets: ['10.0.0.1:1']}]\n"))
	f.Add([]byte("global: {scrape_interval: 5s}\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Validate(b)
		if err != nil {
			return
		}
		// What is accepted keeps AMP's rules.
		for _, sc := range p.Config.ScrapeConfigs {
			if sc.ScrapeInterval < 0 || (sc.ScrapeInterval != 0 && int64(sc.ScrapeInterval) < int64(MinScrapeInterval)) {
				t.Fatalf("interval %v accepted", sc.ScrapeInterval)
			}
			if sc.BodySizeLimit > MaxBodySize || sc.SampleLimit > MaxSamplesPerScrap || sc.TargetLimit > MaxTargets {
				t.Fatalf("limits above AMP's accepted: %+v", sc)
			}
		}
	})
}

// TestValidateKubernetesSD: the accepted kubernetes_sd_configs keys parse,
// and such a configuration needs an EKS source.
func TestValidateKubernetesSD(t *testing.T) {
	cfg := `global:
  scrape_interval: 30s
scrape_configs:
  - job_name: pods
    kubernetes_sd_configs:
      - role: pod
        namespaces: {names: [default, monitoring]}
        selectors: [{role: pod, label: 'app=web', field: 'spec.nodeName=n1'}]
      - role: endpointslice
`
	p, err := Validate([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if ks := kubernetesConfigs(p); len(ks) != 2 || ks[0].NamespaceDiscovery.Names[1] != "monitoring" || ks[0].Selectors[0].Label != "app=web" {
		t.Fatalf("parsed: %+v", ks)
	}
	if err := checkSourceFits(p, &Source{VPC: &VPCConfiguration{}}); err == nil || !strings.Contains(err.Error(), "kubernetes_sd_configs needs an eksConfiguration source") {
		t.Fatalf("VPC source: %v", err)
	}
	if err := checkSourceFits(p, &Source{EKS: &EKSConfiguration{}}); err != nil {
		t.Fatalf("EKS source: %v", err)
	}
}
