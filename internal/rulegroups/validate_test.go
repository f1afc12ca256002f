package rulegroups

import (
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/limits"
)

func TestValidate(t *testing.T) {
	lim := limits.Defaults()
	cases := []struct {
		name, ns, file string
		rules          int
		err            string // substring; "" means valid
	}{
		{"recording and alerting", "ns", `
groups:
  - name: test
    rules:
      - record: metric:recording_rule
        expr: avg(rate(container_cpu_usage_seconds_total[5m]))
  - name: alert-test
    interval: 30s
    rules:
      - alert: metric:alerting_rule
        expr: avg(rate(container_cpu_usage_seconds_total[5m])) > 0
        for: 2m
`, 2, ""},
		{"bad PromQL names its line", "ns", "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: sum(\n", 0, "5:15"},
		{"unknown field", "ns", "groups:\n  - name: g\n    rulez: []\n", 0, "rulez"},
		{"not YAML", "ns", "groups: [\n", 0, "invalid rule file"},
		{"no groups", "ns", "groups: []\n", 0, "no rule groups"},
		{"both record and alert", "ns", "groups:\n  - name: g\n    rules:\n      - record: a\n        alert: b\n        expr: up\n", 0, "record"},
		{"interval below 30s", "ns", "groups:\n  - name: g\n    interval: 10s\n    rules:\n      - record: a\n        expr: up\n", 0, "below the workspace minimum of 30s"},
		{"names too long together", strings.Repeat("n", 700), "groups:\n  - name: " + strings.Repeat("g", 30) + "\n    rules:\n      - record: a\n        expr: up\n", 0, "exceed 721 bytes"},
		{"annotation template over max_template_bytes", "ns", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations:\n          summary: '" + strings.Repeat("x", 64<<10+1) + "'\n", 0,
			`group "g", alerting rule "A": annotation "summary" is a template of 65537 bytes; the limit is 65536 bytes (max_template_bytes)`},
		{"label template over max_template_bytes", "ns", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels:\n          s: '" + strings.Repeat("x", 64<<10+1) + "'\n", 0, `label "s"`},
		{"group label over max_template_bytes", "ns", "groups:\n  - name: g\n    labels:\n      s: '" + strings.Repeat("x", 64<<10+1) + "'\n    rules:\n      - alert: A\n        expr: up\n", 0, `group "g": label "s"`},
		{"annotation template of max_template_bytes", "ns", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations:\n          summary: '" + strings.Repeat("x", 64<<10) + "'\n", 1, ""},
		{"duplicate groups", "ns", "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n  - name: g\n    rules:\n      - record: b\n        expr: up\n", 0, "repeated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, n, err := Validate(tc.ns, []byte(tc.file), &lim)
			if tc.err == "" {
				if err != nil || n != tc.rules {
					t.Fatalf("got %d rules, %v", n, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want it to contain %q", err, tc.err)
			}
		})
	}
}

// A rule's expression is parsed within the workspace's expression limits:
// a rule file cannot make the parser run for minutes (F6 through rules).
func TestRuleExpressionsAreBounded(t *testing.T) {
	lim := limits.Defaults()
	rules := "groups:\n- name: g\n  rules:\n  - record: r\n    expr: " + strings.Repeat("1+", 20000) + "1\n"
	start := time.Now()
	_, _, err := Validate("ns", []byte(rules), &lim)
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("got %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("refusing took %s", took)
	}
}
