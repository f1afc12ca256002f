package app_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/testenv"
)

func TestLimitsAPI(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "limited")
	path := "/admin/v1/workspaces/" + ws + "/limits"
	type limitsResp struct {
		Limits    map[string]any             `json:"limits"`
		Overrides map[string]json.RawMessage `json:"overrides"`
	}
	var got limitsResp
	if err := s.Admin.JSON(ctx, "GET", path, nil, nil, &got); err != nil {
		t.Fatal(err)
	}
	if got.Limits["ingestion_rate"] != 170000.0 || got.Limits["max_active_series"] != 1e7 || len(got.Overrides) != 0 {
		t.Fatalf("defaults: %+v", got)
	}
	if err := s.Admin.JSON(ctx, "PATCH", path, nil, map[string]any{"ingestion_rate": 10, "ingestion_burst_size": 20, "retention_days": 7}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Limits["ingestion_rate"] != 10.0 || got.Limits["retention_days"] != 7.0 || len(got.Overrides) != 2 {
		t.Fatalf("after PATCH: %+v", got)
	}
	// It applies at once: a 21-sample push is refused with 429.
	req := &prompb.WriteRequest{}
	for i := 0; i < 21; i++ {
		req.Timeseries = append(req.Timeseries, sample(time.Now(), 1, "__name__", "m", "i", fmt.Sprint(i)))
	}
	code, body, _ := testenv.RemoteWrite(ctx, s.Admin, ws, req)
	if code != 429 || !strings.Contains(body, "ingestion burst size limit (20)") {
		t.Fatalf("over the new burst: %d %s", code, body)
	}
	var wc struct {
		C struct {
			Retention int `json:"retentionPeriodInDays"`
		} `json:"workspaceConfiguration"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws+"/configuration", nil, nil, &wc); err != nil || wc.C.Retention != 7 {
		t.Fatalf("retention through limits: %+v %v", wc, err)
	}
	for name, body := range map[string]any{"unknown key": map[string]any{"ingestion_rat": 1}, "negative": map[string]any{"ingestion_rate": -5}, "not an object": []int{1}} {
		if e := apiErr(t, s.Admin.JSON(ctx, "PATCH", path, nil, body, nil)); e.Status != 400 {
			t.Errorf("%s: %+v", name, e)
		}
	}
	got = limitsResp{}
	if err := s.Admin.JSON(ctx, "DELETE", path, nil, nil, &got); err != nil || got.Limits["ingestion_rate"] != 170000.0 || len(got.Overrides) != 0 {
		t.Fatalf("reset: %+v %v", got, err)
	}
	// The usage report.
	var u struct {
		Usage struct {
			ActiveSeries     float64            `json:"activeSeries"`
			DiscardedSamples map[string]float64 `json:"discardedSamples"`
		} `json:"usage"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/usage", nil, nil, &u); err != nil {
		t.Fatal(err)
	}
	if u.Usage.DiscardedSamples["rate_limited"] != 21 {
		t.Fatalf("usage: %+v", u)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/ws-nope/limits", nil, nil, nil)); e.Status != 404 {
		t.Fatalf("unknown workspace: %+v", e)
	}
}

// TestSelfMetricsInWorkspace: the queries AMP's troubleshooting guide gives to
// check a Prometheus server's output against the quotas
// (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-troubleshooting.html)
// answer for a workspace.
func TestSelfMetricsInWorkspace(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) { c.Usage.SelfMetrics = true }})
	ws := s.CreateWorkspace(t, "self")
	push(t, s.Admin, ws, sample(time.Now(), 1, "__name__", "up", "job", "a"), sample(time.Now(), 1, "__name__", "up", "job", "b"))
	s.App.Usage().Tick(ctx, time.Now())
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {"prometheus_tsdb_head_series"}}, nil, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Data.Result) != 1 || r.Data.Result[0].Metric["job"] != "kansoku" || r.Data.Result[0].Metric["instance"] != ws || r.Data.Result[0].Value[1] != "2" {
		t.Fatalf("prometheus_tsdb_head_series: %+v", r.Data.Result)
	}
	if err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {`prometheus_tsdb_head_samples_appended_total`}}, nil, &r); err != nil || len(r.Data.Result) != 1 || r.Data.Result[0].Value[1] != "2" {
		t.Fatalf("samples appended: %+v %v", r.Data.Result, err)
	}
	// And on /metrics, per workspace.
	resp, b, err := s.Admin.Raw(ctx, "GET", "/metrics", nil, "", nil, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(err)
	}
	for _, want := range []string{`kansoku_usage_active_series{workspace="` + ws + `"}`, `kansoku_usage_active_series_limit{workspace="` + ws + `"} 2e+06`, `kansoku_usage_ingestion_rate{workspace="` + ws + `"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestQueryLengthLimitAPI(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "q")
	now := time.Now()
	_, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query_range", url.Values{"query": {"up"}, "start": {fmt.Sprint(now.Add(-33 * 24 * time.Hour).Unix())}, "end": {fmt.Sprint(now.Unix())}, "step": {"1h"}})
	if r.Status != "error" || !strings.Contains(r.Error, "the query time range exceeds the limit (query length: 33d5m, limit: 32d)") {
		t.Fatalf("33-day range: %+v", r)
	}
	_, r = get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query_range", url.Values{"query": {"up"}, "start": {fmt.Sprint(now.Add(-31 * 24 * time.Hour).Unix())}, "end": {fmt.Sprint(now.Unix())}, "step": {"1h"}})
	if r.Status != "success" {
		t.Fatalf("31-day range: %+v", r)
	}
	// Label and series listings keep "all time".
	if code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/series", url.Values{"match[]": {"up"}}); code != 200 || r.Status != "success" {
		t.Fatalf("series without a range: %d %+v", code, r)
	}
}
