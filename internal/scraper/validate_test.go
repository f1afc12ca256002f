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
		"kubernetes sd":       {"scrape_configs:\n  - job_name: j\n    kubernetes_sd_configs: [{role: pod}]\n", "kubernetes_sd_configs is not supported"},
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
