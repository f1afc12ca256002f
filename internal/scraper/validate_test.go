package scraper

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
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
		"consul sd":           {"scrape_configs:\n  - job_name: j\n    consul_sd_configs: [{server: '10.0.0.1:8500'}]\n", "consul_sd_configs is not supported"},
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
	f.Add([]byte(ec2Job("        port: 9100\n        filters: [{name: tag:a, values: [b]}]\n")))
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
		// EC2 discovery goes through a role, bounded.
		for _, cs := range p.EC2 {
			for _, c := range cs {
				if !roleRE.MatchString(c.RoleARN) || c.Port < 1 || c.Port > 65535 || time.Duration(c.RefreshInterval) < MinEC2RefreshInterval || len(c.Filters) > maxEC2Filters {
					t.Fatalf("EC2 discovery accepted: %+v", c)
				}
			}
		}
	})
}

const ec2Role = "arn:aws:iam::123456789012:role/KansokuIntegration"

func ec2Job(entry string) string {
	return "scrape_configs:\n  - job_name: ec2\n    ec2_sd_configs:\n      - role_arn: " + ec2Role + "\n" + entry
}

// TestValidateEC2 accepts AMP-style EC2 discovery with Prometheus'
// defaults (port 80, refresh 60s), keeps it out of Prometheus' own
// configuration (Kansoku runs it) and names its roles.
func TestValidateEC2(t *testing.T) {
	p, err := Validate([]byte(`global:
  scrape_interval: 30s
scrape_configs:
  - job_name: node
    ec2_sd_configs:
      - role_arn: ` + ec2Role + `
        region: eu-west-1
        port: 9100
        refresh_interval: 2m
        filters:
          - name: tag:scrape
            values: ['yes']
          - name: subnet-id
            values: [subnet-0abc]
      - role_arn: arn:aws:iam::123456789012:role/Other
    static_configs:
      - targets: ['10.0.0.1:9100']
    relabel_configs:
      - source_labels: [__meta_ec2_instance_id]
        target_label: instance_id
  - job_name: plain
    static_configs:
      - targets: ['10.0.0.2:9100']
`))
	if err != nil {
		t.Fatal(err)
	}
	cs := p.EC2["node"]
	if len(cs) != 2 || len(p.EC2) != 1 {
		t.Fatalf("ec2 configs %+v", p.EC2)
	}
	if c := cs[0]; c.Region != "eu-west-1" || c.Port != 9100 || c.RefreshInterval.String() != "2m" || len(c.Filters) != 2 ||
		c.Filters[0].Name != "tag:scrape" || c.Filters[0].Values[0] != "yes" {
		t.Fatalf("first entry %+v", c)
	}
	if c := cs[1]; c.Port != 80 || c.RefreshInterval.String() != "1m" || c.Region != "" {
		t.Fatalf("defaults %+v", c)
	}
	if got := strings.Join(p.RoleARNs(), " "); got != "arn:aws:iam::123456789012:role/KansokuIntegration arn:aws:iam::123456789012:role/Other" {
		t.Fatalf("roles %s", got)
	}
	// EC2 discovery is bound to a vpcConfiguration's subnets.
	if err := checkSourceFits(p, &Source{EKS: &EKSConfiguration{}}); err == nil || !strings.Contains(err.Error(), "ec2_sd_configs needs a vpcConfiguration source") {
		t.Fatalf("EKS source: %v", err)
	}
	if err := checkSourceFits(p, &Source{VPC: &VPCConfiguration{}}); err != nil {
		t.Fatalf("VPC source: %v", err)
	}
	// An empty ec2_sd_configs is none, as Prometheus reads it.
	if p, err := Validate([]byte("scrape_configs:\n  - job_name: e\n    ec2_sd_configs:\n")); err != nil || len(p.EC2) != 0 {
		t.Fatalf("empty ec2_sd_configs: %v %v", p, err)
	}
	// The rest of the job is Prometheus' as before.
	if len(p.Config.ScrapeConfigs) != 2 || len(p.Config.ScrapeConfigs[0].RelabelConfigs) != 1 || p.Static != 2 {
		t.Fatalf("prometheus configuration %+v static %d", p.Config.ScrapeConfigs, p.Static)
	}
}

// TestValidateEC2Refusals: every key but region, role_arn, port, filters
// and refresh_interval is refused by name (credentials, endpoint, the
// HTTP client's keys), role_arn is required, and the values are bounded.
func TestValidateEC2Refusals(t *testing.T) {
	for _, key := range []string{"access_key: AKIAX", "secret_key: s", "profile: p", "endpoint: http://169.254.169.254", "external_id: x",
		"proxy_url: http://10.0.0.1:3128", "tls_config: {insecure_skip_verify: true}", "basic_auth: {username: u}",
		"authorization: {credentials: c}", "oauth2: {client_id: c}", "follow_redirects: true", "enable_http2: true",
		"bearer_token: t", "no_proxy: x", "http_headers: {}"} {
		name := key[:strings.IndexByte(key, ':')]
		_, err := Validate([]byte(ec2Job("        " + key + "\n")))
		want := `job "ec2": ec2_sd_configs[0]: ` + name + " not allowed in a managed collector's configuration"
		ae, ok := apierr.As(err)
		if !ok || ae.Type != "ValidationException" || !strings.Contains(ae.Message, want) {
			t.Errorf("%s: want a ValidationException with %q, got %v", name, want, err)
		}
	}
	for name, tc := range map[string]struct{ cfg, want string }{
		"no role":       {"scrape_configs:\n  - job_name: ec2\n    ec2_sd_configs: [{region: us-east-1}]\n", "role_arn is required"},
		"bad role":      {"scrape_configs:\n  - job_name: ec2\n    ec2_sd_configs: [{role_arn: 'arn:aws:iam::1:user/x'}]\n", "is not an IAM role ARN"},
		"bad region":    {ec2Job("        region: ../../etc\n"), "is not an AWS region name"},
		"port":          {ec2Job("        port: 70000\n"), "port 70000 is not a TCP port"},
		"fast refresh":  {ec2Job("        refresh_interval: 10s\n"), "refresh_interval 10s is below the minimum of 30s"},
		"empty filter":  {ec2Job("        filters: [{name: tag:a, values: []}]\n"), "values cannot be empty"},
		"bad filter":    {ec2Job("        filters: [{name: '', values: [x]}]\n"), "is not an EC2 DescribeInstances filter name"},
		"filter key":    {ec2Job("        filters: [{name: tag:a, values: [x], op: or}]\n"), "field op not found"},
		"subnet glob":   {ec2Job("        filters: [{name: subnet-id, values: ['subnet-*']}]\n"), "is not a subnet id"},
		"not a list":    {"scrape_configs:\n  - job_name: ec2\n    ec2_sd_configs: {role_arn: x}\n", "ec2_sd_configs must be a list"},
		"wrong type":    {ec2Job("        port: nine\n"), "cannot unmarshal"},
		"too many":      {"scrape_configs:\n  - job_name: ec2\n    ec2_sd_configs:\n" + strings.Repeat("      - role_arn: "+ec2Role+"\n", MaxEC2SDConfigs+1), "more than 10 ec2_sd_configs"},
		"too many vals": {ec2Job("        filters: [{name: tag:a, values: [" + strings.Repeat("x,", 200) + "x]}]\n"), "at most 200 values"},
	} {
		_, err := Validate([]byte(tc.cfg))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want an error containing %q, got %v", name, tc.want, err)
		}
	}
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

// TestKubernetesSDBounds: kubernetes_sd_configs are bounded as EC2
// discovery is: entries in a configuration and namespaces of an entry
// (each namespace a watch of the cluster held by this process); selectors
// by Prometheus' one per role.
func TestKubernetesSDBounds(t *testing.T) {
	job := func(name string, entries, namespaces, selectors int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "  - job_name: %s\n    kubernetes_sd_configs:\n", name)
		for range entries {
			b.WriteString("      - role: pod\n        namespaces: {names: [")
			for n := range namespaces {
				if n > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "ns%d", n)
			}
			b.WriteString("]}\n        selectors: [")
			for s := range selectors {
				if s > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "{role: pod, label: 'a=%d'}", s)
			}
			b.WriteString("]\n")
		}
		return b.String()
	}
	cfg := func(jobs ...string) []byte {
		return []byte("global:\n  scrape_interval: 30s\nscrape_configs:\n" + strings.Join(jobs, ""))
	}
	if _, err := Validate(cfg(job("a", 5, 50, 1), job("b", 5, 1, 1))); err != nil {
		t.Fatalf("at the bounds: %v", err)
	}
	for _, tc := range []struct {
		blob []byte
		want string
	}{
		{cfg(job("a", 6, 1, 1), job("b", 5, 1, 1)), "more than 10 kubernetes_sd_configs"},
		{cfg(job("a", 1, 51, 1)), "at most 50 namespaces.names"},
		{cfg(job("a", 1, 1, 2)), "duplicated selector role"},
	} {
		if _, err := Validate(tc.blob); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v", tc.want, err)
		}
	}
}
