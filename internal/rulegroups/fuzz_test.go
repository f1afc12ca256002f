package rulegroups

import (
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/limits"
)

// FuzzValidate: any rule file a tenant uploads is accepted or refused with
// an error, quickly, never a panic.
func FuzzValidate(f *testing.F) {
	f.Add([]byte("groups:\n- name: g\n  interval: 1m\n  rules:\n  - record: r\n    expr: sum(rate(x[5m]))\n  - alert: A\n    expr: up == 0\n    for: 5m\n    labels: {severity: page}\n    annotations: {summary: '{{ $labels.instance }} down'}\n"))
	f.Add([]byte("groups: [{name: g, rules: [{record: r, expr: '" + strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200) + "'}]}]"))
	f.Add([]byte("a: &a [*a, *a]\ngroups: *a\n"))
	f.Add([]byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: x\n    annotations: {s: '{{ define \"x\" }}{{ template \"x\" . }}{{ end }}'}\n"))
	lim := limits.Defaults()
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		_, n, err := Validate("ns", data, &lim)
		if err == nil && n < 0 {
			t.Fatalf("negative rule count %d", n)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("validating %d bytes took %s", len(data), took)
		}
	})
}
