package amconfig

import (
	"fmt"
	tmplhtml "html/template"
	"strings"
	"sync"
	"testing"
	tmpltext "text/template"
	"text/template/parse"
	"time"

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
	base := baseTemplates(t)
	tmpl, err := p.Templates(base)
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

// TestBaseTemplatesShared: sets built on one BaseTemplates execute every
// default template, text and HTML, as a set Alertmanager builds itself
// (template.FromGlobs); a definition that redefines a default template
// changes it in its own set only, text and HTML, however often the sets
// are executed; a text-only base parses a definition's files as text only.
func TestBaseTemplatesShared(t *testing.T) {
	base := baseTemplates(t)
	reference, err := template.FromGlobs(nil)
	if err != nil {
		t.Fatal(err)
	}
	custom, err := withTemplateFiles(t, `  a.tmpl: '{{ define "email.default.subject" }}custom {{ .Status }}{{ end }}{{ define "__subject" }}mine{{ end }}'`).Templates(base)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := withTemplateFiles(t, `  b.tmpl: '{{ define "other" }}x{{ end }}'`).Templates(base)
	if err != nil {
		t.Fatal(err)
	}
	data := &template.Data{Status: "firing", Receiver: "d", GroupLabels: template.KV{"alertname": "Down"},
		CommonLabels: template.KV{"alertname": "Down", "job": "node"}, CommonAnnotations: template.KV{"summary": "<b>down</b>"},
		ExternalURL: "http://kansoku.example", Alerts: template.Alerts{{Status: "firing", Labels: template.KV{"alertname": "Down"},
			Annotations: template.KV{"summary": "<b>down</b>"}, StartsAt: time.Unix(1e9, 0).UTC()}}}
	for round := 0; round < 2; round++ { // executing a set changes none of the shared trees
		for _, name := range defaultTemplateNames(t) {
			call := `{{ template "` + name + `" . }}`
			want, werr := reference.ExecuteTextString(call, data)
			got, gerr := plain.ExecuteTextString(call, data)
			if got != want || (werr == nil) != (gerr == nil) {
				t.Errorf("text %s: %q %v, Alertmanager's %q %v", name, got, gerr, want, werr)
			}
			want, werr = reference.ExecuteHTMLString(call, data)
			got, gerr = plain.ExecuteHTMLString(call, data)
			if got != want || (werr == nil) != (gerr == nil) {
				t.Errorf("HTML %s: %q %v, Alertmanager's %q %v", name, got, gerr, want, werr)
			}
		}
		for _, exec := range []func(string, any) (string, error){custom.ExecuteTextString, custom.ExecuteHTMLString} {
			if out, err := exec(`{{ template "email.default.subject" . }}|{{ template "__subject" . }}`, data); err != nil || out != "custom firing|mine" {
				t.Errorf("the definition's own templates: %q %v", out, err)
			}
		}
		if out, err := plain.ExecuteTextString(`{{ template "__subject" . }}`, data); err != nil || out != "[FIRING:1] Down (node)" {
			t.Errorf("another definition's template leaked into this set: %q %v", out, err)
		}
	}
	textOnly, err := withTemplateFiles(t, `  c.tmpl: '{{ define "c" }}c{{ end }}'`).Templates(base.TextCopy(func(*parse.Tree) {}))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := textOnly.ExecuteTextString(`{{ template "c" . }} {{ template "__subject" . }}`, data); err != nil || out != "c [FIRING:1] Down (node)" {
		t.Errorf("text-only set: %q %v", out, err)
	}
	if out, err := textOnly.ExecuteHTMLString(`{{ template "c" . }}`, data); err == nil {
		t.Errorf("a text-only set executed HTML: %q", out)
	}
}

func baseTemplates(t *testing.T) *BaseTemplates {
	t.Helper()
	base, err := NewBaseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	return base
}

// withTemplateFiles parses a definition of the template_files entries in
// files (YAML lines), every one named by its templates list.
func withTemplateFiles(t *testing.T, files string) *Parsed {
	t.Helper()
	lim := limits.Defaults()
	p, err := Parse([]byte(`template_files:
`+files+`
alertmanager_config: |
  templates: ['*']
  route:
    receiver: d
  receivers:
  - name: d
`), &lim, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// defaultTemplateNames names the templates of Alertmanager's own default set.
func defaultTemplateNames(t *testing.T) []string {
	t.Helper()
	var text *tmpltext.Template
	if _, err := template.FromGlobs(nil, func(tt *tmpltext.Template, _ *tmplhtml.Template) { text = tt }); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range text.Templates() {
		if x.Name() != "" {
			names = append(names, x.Name())
		}
	}
	if len(names) < 20 {
		t.Fatalf("Alertmanager's default templates: %v", names)
	}
	return names
}

// TestBaseTemplatesConcurrently: sets of several workspaces on one base
// execute text and HTML at once (the race detector watches the shared
// trees).
func TestBaseTemplatesConcurrently(t *testing.T) {
	base := baseTemplates(t)
	data := &template.Data{Status: "firing", Alerts: template.Alerts{{Status: "firing", Labels: template.KV{"alertname": "Down"}}},
		GroupLabels: template.KV{"alertname": "Down"}, CommonLabels: template.KV{"alertname": "Down"}}
	var wg sync.WaitGroup
	for i := range 4 {
		p := withTemplateFiles(t, fmt.Sprintf(`  t.tmpl: '{{ define "email.default.subject" }}ws%d{{ end }}'`, i))
		set, err := p.Templates(base)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint("ws", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				for _, exec := range []func(string, any) (string, error){set.ExecuteTextString, set.ExecuteHTMLString} {
					if out, err := exec(`{{ template "email.default.subject" . }}`, data); err != nil || out != want {
						t.Errorf("%s: %q %v", want, out, err)
					}
					if _, err := exec(`{{ template "email.default.html" . }}{{ template "slack.default.text" . }}`, data); err != nil {
						t.Errorf("%s: %v", want, err)
					}
				}
			}
		}()
	}
	wg.Wait()
}
