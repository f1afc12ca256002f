package amconfig

import (
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/limits"
)

// FuzzParse: any definition a tenant uploads is accepted or refused with
// an error, quickly, never a panic; an accepted one passes the tenant
// safety review.
func FuzzParse(f *testing.F) {
	f.Add([]byte(ampBasic))
	f.Add([]byte("alertmanager_config: |\n  route: {receiver: r}\n  receivers:\n  - name: r\n    webhook_configs:\n    - url: http://hooks.example/\n      http_config: {http_headers: {X: {files: [/etc/passwd]}}}\n"))
	f.Add([]byte("template_files:\n  t: '{{ define \"a\" }}x{{ end }}'\nalertmanager_config: |\n  templates: [t]\n  route: {receiver: r}\n  receivers: [{name: r}]\n"))
	f.Add([]byte("a: &a [*a, *a]\nalertmanager_config: *a\n"))
	lim := limits.Defaults()
	fw, err := egress.New(egress.DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		p, err := Parse(data, &lim, fw)
		if err == nil {
			if err := checkTenantSafe(p.Config, fw); err != nil {
				t.Fatalf("accepted, then refused by the review: %v", err)
			}
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("parsing %d bytes took %s", len(data), took)
		}
	})
}
