package cortex

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// Two nodes share the runtime configuration file: a node that opens a
// workspace after another node wrote its rate keeps that rate, and the
// node that wrote it sees a change by the other node and writes again.
// (A cluster test once saw Cortex accept six times a workspace's rate:
// the second node's stale copy had dropped it, and the first, comparing
// with its own memory, never put it back.)
func TestOverridesSharedByNodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runtime.yaml")
	a, b := NewOverrides(path), NewOverrides(path)
	if err := b.SetRetention("ws-other", 0); err != nil { // b has read the file
		t.Fatal(err)
	}
	l := limits.Defaults()
	l.IngestionRate, l.IngestionBurstSize = 2000, 2000
	throttled := LimitsFor(&l, 0)
	if err := a.Set("ws-1", throttled); err != nil {
		t.Fatal(err)
	}
	// b opens the workspace (its retention) after a wrote its rate.
	if err := b.SetRetention("ws-1", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	got, ok := NewOverrides(path).Get("ws-1")
	if !ok || got.IngestionRate != 2000 || got.CompactorBlocksRetentionPer != Days(1) {
		t.Fatalf("ws-1 in the file: %+v (present %v); want rate 2000 and 1d retention", got, ok)
	}
	if _, ok := NewOverrides(path).Get("ws-other"); !ok {
		t.Fatal("ws-other was dropped")
	}
	// b rewrites ws-1 without the rate; a's next pass must restore it
	// although a's last write had it.
	b.mu.Lock()
	b.tenants["ws-1"] = TenantLimits{CompactorBlocksRetentionPer: Days(1)}
	if err := b.write(); err != nil {
		t.Fatal(err)
	}
	b.mu.Unlock()
	throttled.CompactorBlocksRetentionPer = Days(1)
	if err := a.Set("ws-1", throttled); err != nil {
		t.Fatal(err)
	}
	if got, _ := NewOverrides(path).Get("ws-1"); got.IngestionRate != 2000 {
		t.Fatalf("ws-1 after a's pass: %+v; want rate 2000 back", got)
	}
}
