package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/cortex"
	"github.com/kansoku/kansoku/internal/testenv"
	"github.com/kansoku/kansoku/internal/testenv/cortextest"
)

// startOnCortex runs a server whose samples live in a real Cortex.
func startOnCortex(t *testing.T) (*testenv.Server, *cortextest.Cluster) {
	t.Helper()
	c := cortextest.Start(t, cortextest.Options{Nodes: 1})
	s := testenv.Start(t, testenv.Options{Config: func(cfg *config.Config) { cfg.Cortex = c.Config() }})
	return s, c
}

// The query API answers the same over Cortex as over the embedded TSDB:
// results, stats=all, POST forms, isolation, errors.
func TestWriteAndQueryOnCortex(t *testing.T) {
	s, _ := startOnCortex(t)
	testWriteAndQuery(t, s, true)
}

// AMP's guardrails hold over Cortex: Kansoku's own validation first, then
// Cortex's refusals (out of order against stored samples, the rate) passed
// on with AMP's status codes and messages, without Cortex's internal
// addresses; limits and retention reach Cortex's runtime overrides;
// deleting the workspace deletes the tenant.
func TestGuardrailsOnCortex(t *testing.T) {
	s, c := startOnCortex(t)
	ws := s.CreateWorkspace(t, "guarded")
	now := time.Now()
	ok := func(series ...prompb.TimeSeries) (int, string) {
		code, body, err := testenv.RemoteWrite(context.Background(), s.Admin, ws, &prompb.WriteRequest{Timeseries: series})
		if err != nil {
			t.Fatal(err)
		}
		return code, body
	}
	if code, body := ok(sample(now, 1, "__name__", "g", "job", "a")); code != http.StatusOK {
		t.Fatalf("first write: %d %s", code, body)
	}
	// Refused by Kansoku before Cortex: no metric name.
	if code, body := ok(sample(now, 1, "job", "a")); code != http.StatusBadRequest || !strings.Contains(body, "metric name") {
		t.Fatalf("no metric name: %d %s", code, body)
	}
	// Refused by Cortex: older than the stored sample.
	code, body := ok(sample(now.Add(-time.Minute), 2, "__name__", "g", "job", "a"))
	if code != http.StatusBadRequest || !strings.Contains(body, "out of order") || strings.Contains(body, "127.0.0.1") || strings.Contains(body, "quorum") {
		t.Fatalf("out of order: %d %q", code, body)
	}
	r := s.App.Usage().Report(ws)
	if r.DiscardedSamples["sample-out-of-order"] < 1 {
		t.Fatalf("out-of-order discard not counted: %+v", r)
	}

	// Limits and retention become the tenant's overrides.
	var lim map[string]any
	if err := s.Admin.JSON(context.Background(), "PATCH", "/admin/v1/workspaces/"+ws+"/limits", nil,
		map[string]any{"ingestion_rate": 100, "ingestion_burst_size": 100}, &lim); err != nil {
		t.Fatal(err)
	}
	ov := cortex.NewOverrides(c.RuntimeFile)
	waitUntil(t, 20*time.Second, "the overrides to carry the new rate", func() bool {
		ov = cortex.NewOverrides(c.RuntimeFile)
		tl, found := ov.Get(ws)
		return found && tl.IngestionRate == 100 && tl.CompactorBlocksRetentionPer == cortex.Days(150)
	})
	waitUntil(t, 20*time.Second, "Cortex to load them", func() bool {
		resp, err := http.Get(c.Nodes[0].HTTPURL + "/runtime_config")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		_, _ = io.Copy(b, resp.Body)
		return strings.Contains(b.String(), "ingestion_rate: 100")
	})
	// Over the rate: Cortex's 429, passed on.
	var big []prompb.TimeSeries
	for i := 0; i < 500; i++ {
		big = append(big, sample(time.Now(), 1, "__name__", "burst", "i", string(rune('a'+i%26))+strings.Repeat("x", i/26)))
	}
	// Cortex's distributors re-read their rate limits every 10 s.
	waitUntil(t, 30*time.Second, "a write over the rate to be refused with 429", func() bool {
		code, body = ok(big...)
		return code == http.StatusTooManyRequests
	})
	if !strings.Contains(body, "rate limit") {
		t.Fatalf("over the rate: %d %q", code, body)
	}

	// Deleting the workspace deletes the tenant's data in Cortex.
	if err := s.Admin.JSON(context.Background(), "DELETE", "/workspaces/"+ws, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	store, err := cortex.New(cortex.Options{Config: c.Config()})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "Cortex to mark the tenant deleted", func() bool {
		done, err := store.TenantDeleted(context.Background(), ws)
		return err == nil && done
	})
	waitUntil(t, 20*time.Second, "the overrides to forget the workspace", func() bool {
		_, found := cortex.NewOverrides(c.RuntimeFile).Get(ws)
		return !found
	})
}
