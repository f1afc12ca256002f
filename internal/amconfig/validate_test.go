package amconfig

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/template"

	"github.com/kansoku/kansoku/internal/limits"
)

// ampBasic is the basic alert manager definition of AMP's user guide
// (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-alertmanager-config.html),
// as written.
const ampBasic = `alertmanager_config: |
  route:
    receiver: 'default'
  receivers:
  - name: 'default'
    sns_configs:
    - topic_arn: arn:aws:sns:us-east-2:123456789012:My-Topic
      sigv4:
        region: us-east-2
      attributes:
        key: key1
        value: value1
`

func TestParse(t *testing.T) {
	lim := limits.Defaults()
	manyInhibit := "alertmanager_config: |\n  route:\n    receiver: d\n  receivers:\n  - name: d\n  inhibit_rules:\n"
	for i := 0; i < 101; i++ {
		manyInhibit += fmt.Sprintf("  - source_matchers: [a=\"%d\"]\n    target_matchers: [b=\"%d\"]\n", i, i)
	}
	manyRoutes := "alertmanager_config: |\n  route:\n    receiver: d\n    routes:\n"
	for i := 0; i < 100; i++ {
		manyRoutes += fmt.Sprintf("    - matchers: [n=\"%d\"]\n", i)
	}
	manyRoutes += "  receivers:\n  - name: d\n"
	cases := []struct {
		name, def, err string
	}{
		{"AMP's basic example", ampBasic, ""},
		{"templates and webhook", `template_files:
  default_template: |
    {{ define "sns.default.subject" }}[{{ .Status | toUpper }}]{{ end }}
alertmanager_config: |
  templates:
  - 'default_template'
  route:
    receiver: hook
  receivers:
  - name: hook
    webhook_configs:
    - url: http://127.0.0.1:9999/hook
`, ""},
		{"missing alertmanager_config", "template_files: {}\n", "alertmanager_config is missing"},
		{"unknown top-level key", "route: {}\nalertmanager_config: |\n  route:\n    receiver: d\n  receivers:\n  - name: d\n", "route"},
		{"undefined receiver", "alertmanager_config: |\n  route:\n    receiver: nope\n", "undefined receiver"},
		{"bad template", "template_files:\n  t: '{{ define \"x\" }}{{ .Foo '\nalertmanager_config: |\n  route:\n    receiver: d\n  receivers:\n  - name: d\n", "template_files[\"t\"]"},
		{"template not in template_files", "alertmanager_config: |\n  templates: ['missing']\n  route:\n    receiver: d\n  receivers:\n  - name: d\n", "not a key of template_files"},
		{"sns without region", "alertmanager_config: |\n  route:\n    receiver: d\n  receivers:\n  - name: d\n    sns_configs:\n    - topic_arn: arn:aws:sns:us-east-2:123456789012:T\n", "sigv4.region is required"},
		{"101 inhibit rules", manyInhibit, "101 inhibit rules"},
		{"webhook reading a server file", "alertmanager_config: |\n  route:\n    receiver: d\n  receivers:\n  - name: d\n    webhook_configs:\n    - url: http://example.com/\n      http_config:\n        authorization:\n          credentials_file: /etc/shadow\n", "receivers[0].webhook_configs[0].http_config.authorization.credentials_file: settings that read files on the server"},
		{"webhook url_file", "alertmanager_config: |\n  route:\n    receiver: d\n  receivers:\n  - name: d\n    webhook_configs:\n    - url_file: /var/lib/kansoku/secret.key\n", "url_file"},
		{"global smtp password file", "alertmanager_config: |\n  global:\n    smtp_auth_password_file: /etc/passwd\n  route:\n    receiver: d\n  receivers:\n  - name: d\n", "global.smtp_auth_password_file"},
		{"tls key file", "alertmanager_config: |\n  route:\n    receiver: d\n  receivers:\n  - name: d\n    webhook_configs:\n    - url: https://example.com/\n      http_config:\n        tls_config:\n          cert_file: /root/cert.pem\n          key_file: /root/key.pem\n", "tls_config.cert_file"},
		{"server AWS profile", "alertmanager_config: |\n  route:\n    receiver: d\n  receivers:\n  - name: d\n    sns_configs:\n    - topic_arn: arn:aws:sns:us-east-2:123456789012:T\n      sigv4:\n        region: us-east-2\n        profile: prod\n", "sigv4.profile: this setting reaches the server's own environment"},
		{"api_url with the server's credentials", "alertmanager_config: |\n  route:\n    receiver: d\n  receivers:\n  - name: d\n    sns_configs:\n    - topic_arn: arn:aws:sns:us-east-2:123456789012:T\n      api_url: https://attacker.example/\n      sigv4:\n        region: us-east-2\n", "api_url needs the receiver's own credentials"},
		{"api_url with own keys", "alertmanager_config: |\n  route:\n    receiver: d\n  receivers:\n  - name: d\n    sns_configs:\n    - topic_arn: arn:aws:sns:us-east-2:123456789012:T\n      api_url: https://sns.example/\n      sigv4:\n        region: us-east-2\n        access_key: AKID\n        secret_key: s\n", ""},
		{"tracing", "alertmanager_config: |\n  tracing:\n    endpoint: collector:4317\n    client_type: grpc\n  route:\n    receiver: d\n  receivers:\n  - name: d\n", "tracing: this setting reaches the server's own environment"},
		{"101 route nodes", manyRoutes, "101 nodes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.def), &lim, nil)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
	t.Run("101 templates", func(t *testing.T) {
		def := "template_files:\n"
		for i := 0; i < 101; i++ {
			def += fmt.Sprintf("  t%d: x\n", i)
		}
		def += "alertmanager_config: |\n  route:\n    receiver: d\n  receivers:\n  - name: d\n"
		if _, err := Parse([]byte(def), &lim, nil); err == nil || !strings.Contains(err.Error(), "101 templates") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestTemplates(t *testing.T) {
	lim := limits.Defaults()
	p, err := Parse([]byte(`template_files:
  used: '{{ define "custom.subject" }}custom {{ .Status }}{{ end }}'
  unused: '{{ define "other" }}x{{ end }}'
alertmanager_config: |
  templates: ['us*']
  route:
    receiver: d
  receivers:
  - name: d
`), &lim, nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := p.Templates()
	if err != nil {
		t.Fatal(err)
	}
	out, err := tmpl.ExecuteTextString(`{{ template "custom.subject" . }}`, map[string]string{"Status": "firing"})
	if err != nil || out != "custom firing" {
		t.Fatalf("custom template: %q %v", out, err)
	}
	// Alertmanager's default templates are there too (sns.default.message ...).
	if _, err := tmpl.ExecuteTextString(`{{ template "sns.default.message" . }}`, &template.Data{Status: "firing"}); err != nil {
		t.Fatalf("default templates missing: %v", err)
	}
	if _, err := tmpl.ExecuteTextString(`{{ template "other" . }}`, nil); err == nil {
		t.Fatal("a template_files entry not named in templates was loaded")
	}
}
