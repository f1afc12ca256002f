package tenantdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

func TestOpenAppendDrop(t *testing.T) {
	dir := t.TempDir()
	m := New(Options{Dir: dir})
	defer m.CloseAll()
	if err := m.Open("ws-1", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	app, err := m.Appender(context.Background(), "ws-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Append(0, labels.FromStrings("__name__", "up"), time.Now().UnixMilli(), 1); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, _ := m.HeadSeries("ws-1"); n != 1 {
		t.Fatalf("head series %d", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "ws-1", "tsdb", "wal")); err != nil {
		t.Fatalf("WAL missing: %v", err)
	}
	if err := m.SetRetention("ws-1", 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := m.Drop("ws-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ws-1")); !os.IsNotExist(err) {
		t.Fatal("Drop left data behind")
	}
	if _, err := m.Appender(context.Background(), "ws-1"); err == nil {
		t.Fatal("appender on a dropped workspace")
	}
}

func TestInvalidIDsCannotEscape(t *testing.T) {
	m := New(Options{Dir: t.TempDir()})
	for _, id := range []string{"", ".", "..", "../x", "a/b", "ws 1"} {
		if err := m.Open(id, time.Hour); err == nil {
			t.Errorf("Open(%q) accepted", id)
		}
		if err := m.Drop(id); err == nil {
			t.Errorf("Drop(%q) accepted", id)
		}
	}
}

// Workspace TSDBs run without isolation, as Cortex's ingesters: commits
// take no append IDs (the head's isolation high watermark, which counts
// them, stays 0), and so series carry no ring of in-flight appends.
func TestWorkspacesRunWithoutIsolation(t *testing.T) {
	m := New(Options{Dir: t.TempDir()})
	defer m.CloseAll()
	if err := m.Open("ws-1", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		app, err := m.Appender(context.Background(), "ws-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Append(0, labels.FromStrings("__name__", "up"), time.Now().UnixMilli()+int64(i), 1); err != nil {
			t.Fatal(err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "prometheus_tsdb_isolation_high_watermark" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			found = true
			if v := mt.GetGauge().GetValue(); v != 0 {
				t.Fatalf("isolation high watermark %v after 3 commits: isolation is on", v)
			}
		}
	}
	if !found {
		t.Fatal("no prometheus_tsdb_isolation_high_watermark from the workspace TSDB")
	}
}
