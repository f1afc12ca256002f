package tenantdb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"

	"github.com/kansoku/kansoku/internal/testenv/liveheap"
)

// What a workspace costs before its series do: a node of many small
// workspaces holds each one's TSDB. With Prometheus' stripe count and head
// chunk write buffer, 20 workspaces of 10 series each held 8.6 MB of heap
// apiece; with the defaults, 1.5 MB.
func TestWorkspaceFixedMemory(t *testing.T) {
	perWorkspace := func(cfg Config) float64 {
		m := New(Options{Dir: t.TempDir(), Config: cfg})
		defer func() { _ = m.CloseAll() }()
		before := liveheap.Bytes()
		const n = 20
		base := time.Now().Add(-50 * time.Minute).UnixMilli()
		for i := range n {
			ws := fmt.Sprintf("ws-%02d", i)
			if err := m.Open(ws, 24*time.Hour); err != nil {
				t.Fatal(err)
			}
			app, err := m.Appender(context.Background(), ws)
			if err != nil {
				t.Fatal(err)
			}
			for s := range 10 {
				var ref storage.SeriesRef
				l := labels.FromStrings("__name__", "up", "instance", fmt.Sprint(s))
				for k := range 250 { // two full chunks and an open one
					if ref, err = app.Append(ref, l, base+int64(k)*10_000, float64(k)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
			db, err := m.DB(ws)
			if err != nil {
				t.Fatal(err)
			}
			db.ForceHeadMMap() // the full chunks go through the write buffer
		}
		return float64(liveheap.Bytes()-before) / n
	}
	prometheusDefaults := perWorkspace(Config{StripeSize: tsdb.DefaultStripeSize, HeadChunksWriteBufferSizeBytes: chunks.DefaultWriteBufferSize})
	defaults := perWorkspace(DefaultConfig())
	t.Logf("heap per workspace: %.2f MB with Prometheus' defaults, %.2f MB with Kansoku's", prometheusDefaults/1e6, defaults/1e6)
	if defaults > 2e6 || defaults*4 > prometheusDefaults {
		t.Errorf("a workspace of 10 series holds %.2f MB of heap (Prometheus' defaults: %.2f MB)", defaults/1e6, prometheusDefaults/1e6)
	}
}

func TestConfigValidate(t *testing.T) {
	d := DefaultConfig()
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []Config{
		{StripeSize: 0, HeadChunksWriteBufferSizeBytes: d.HeadChunksWriteBufferSizeBytes},
		{StripeSize: 1000, HeadChunksWriteBufferSizeBytes: d.HeadChunksWriteBufferSizeBytes},
		{StripeSize: 1 << 17, HeadChunksWriteBufferSizeBytes: d.HeadChunksWriteBufferSizeBytes},
		{StripeSize: d.StripeSize, HeadChunksWriteBufferSizeBytes: 1 << 10},
		{StripeSize: d.StripeSize, HeadChunksWriteBufferSizeBytes: 9 << 20},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	for _, c := range []Config{{StripeSize: 1, HeadChunksWriteBufferSizeBytes: chunks.MinWriteBufferSize}, {StripeSize: 1 << 16, HeadChunksWriteBufferSizeBytes: chunks.MaxWriteBufferSize}} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
