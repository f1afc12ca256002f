package cortex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
)

// A workspace's label-set limits are written as Cortex's
// limits_per_label_set, kept when the other limits are rewritten, and
// read back after a restart.
func TestOverridesLabelSets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runtime.yaml")
	o := NewOverrides(path)
	sets := LabelSetLimitsFor([]metastore.LabelSetLimit{{LabelSet: map[string]string{"team": "a", "env": "prod"}, MaxSeries: 1000}})
	if err := o.SetLabelSets("ws-1", sets); err != nil {
		t.Fatal(err)
	}
	l := limits.Defaults()
	if err := o.Set("ws-1", LimitsFor(&l, 0)); err != nil { // nil sets: kept
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `    limits_per_label_set:
    - limits:
        max_series: 1000
      label_set:
        env: prod
        team: a
`
	if !strings.Contains(string(b), want) {
		t.Fatalf("runtime config:\n%s\nwant:\n%s", b, want)
	}
	again := NewOverrides(path)
	if got, _ := again.Get("ws-1"); len(got.LimitsPerLabelSet) != 1 || got.LimitsPerLabelSet[0].Limits.MaxSeries != 1000 {
		t.Fatalf("read back: %+v", got)
	}
	if err := again.SetLabelSets("ws-1", LabelSetLimitsFor(nil)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "limits_per_label_set") {
		t.Fatalf("removed:\n%s", b)
	}
}
