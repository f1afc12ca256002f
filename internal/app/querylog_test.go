package app_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/testenv"
)

type queryLogEvent struct {
	Component string         `json:"component"`
	Message   map[string]any `json:"message"`
}

func queryLogEvents(t *testing.T, s *testenv.Server, ws string) []queryLogEvent {
	t.Helper()
	var out struct {
		Events []queryLogEvent `json:"events"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/logs", url.Values{"component": {"query"}}, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.Events
}

// TestQueryLogging: AMP's query logging configuration API, and a query
// over the QSP threshold written to the workspace log with its query,
// range, QSP, caller and outcome; queries under it are not; QSP counted
// in usage whether or not logging is on.
func TestQueryLogging(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "qlog")
	path := "/workspaces/" + ws + "/logging/query"
	group := fmt.Sprintf("arn:aws:logs:us-east-1:%s:log-group:/kansoku/%s/queries:*", s.App.Info().Account.ID, ws)
	dest := func(arn string, threshold any) map[string]any {
		return map[string]any{"destinations": []any{map[string]any{"cloudWatchLogs": map[string]any{"logGroupArn": arn}, "filters": map[string]any{"qspThreshold": threshold}}}}
	}

	// Bad input: no destination, two, a bad ARN, a negative or missing
	// threshold; describe/update/delete of none.
	for name, body := range map[string]any{
		"none":       map[string]any{"destinations": []any{}},
		"two":        map[string]any{"destinations": []any{dest(group, 1)["destinations"].([]any)[0], dest(group, 1)["destinations"].([]any)[0]}},
		"bad arn":    dest("arn:aws:logs:us-east-1:1:log-group:x", 1),
		"negative":   dest(group, -1),
		"no filter":  map[string]any{"destinations": []any{map[string]any{"cloudWatchLogs": map[string]any{"logGroupArn": group}}}},
		"long token": map[string]any{"destinations": dest(group, 1)["destinations"], "clientToken": strings.Repeat("x", 65)},
	} {
		if e := apiErr(t, s.Admin.JSON(ctx, "POST", path, nil, body, nil)); e.Status != 400 || e.Type != "ValidationException" {
			t.Fatalf("%s: %v", name, e)
		}
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", path, nil, nil, nil)); e.Status != 404 || e.Type != "ResourceNotFoundException" {
		t.Fatalf("describe of none: %v", e)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "PUT", path, nil, dest(group, 1), nil)); e.Status != 404 {
		t.Fatalf("update of none: %v", e)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "DELETE", path, nil, nil, nil)); e.Status != 404 {
		t.Fatalf("delete of none: %v", e)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "POST", "/workspaces/ws-nope/logging/query", nil, dest(group, 1), nil)); e.Status != 404 {
		t.Fatalf("create in no workspace: %v", e)
	}

	// Samples: 3 series, 51 points each over the last 50 minutes.
	now := time.Now().Truncate(time.Minute)
	var series []prompb.TimeSeries
	for i := 0; i < 3; i++ {
		ts := prompb.TimeSeries{Labels: testenv.Series("__name__", "qlog_metric", "i", fmt.Sprint(i))}
		for m := 50; m >= 0; m-- {
			ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: now.Add(-time.Duration(m) * time.Minute).UnixMilli(), Value: float64(m)})
		}
		series = append(series, ts)
	}
	if code, body, err := testenv.RemoteWrite(ctx, s.Admin, ws, &prompb.WriteRequest{Timeseries: series}); err != nil || code != 200 {
		t.Fatalf("remote write: %d %s %v", code, body, err)
	}
	// query runs a range query and returns its QSP as stats=all reports it.
	query := func(q string) int64 {
		t.Helper()
		code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query_range", url.Values{"query": {q},
			"start": {fmt.Sprint(now.Add(-time.Hour).Unix())}, "end": {fmt.Sprint(now.Unix())}, "step": {"60"}, "stats": {"all"}})
		if code != 200 || r.Status != "success" {
			t.Fatalf("query %s: %d %+v", q, code, r)
		}
		var d struct {
			Stats struct {
				Samples struct {
					Total int64 `json:"totalQueryableSamples"`
				} `json:"samples"`
			} `json:"stats"`
		}
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatal(err)
		}
		return d.Stats.Samples.Total
	}
	// Without a configuration, queries are counted but not logged.
	rangeQSP := query("sum(qlog_metric)")
	if rangeQSP <= 100 {
		t.Fatalf("the range query processed %d samples", rangeQSP)
	}
	var usage struct {
		Usage struct {
			Other map[string]float64 `json:"other"`
		} `json:"usage"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/usage", nil, nil, &usage); err != nil {
		t.Fatal(err)
	}
	qsp := usage.Usage.Other["querySamplesProcessed"]
	if qsp < float64(rangeQSP) || usage.Usage.Other["queries"] < 1 {
		t.Fatalf("usage after one query: %+v", usage.Usage.Other)
	}

	// Create with a threshold of 100 samples, idempotently with a token.
	var st statusResp
	body := dest(group, 100)
	body["clientToken"] = "tok-1"
	if err := s.Admin.JSON(ctx, "POST", path, nil, body, &st); err != nil || st.Status.StatusCode != "CREATING" {
		t.Fatalf("create: %+v %v", st, err)
	}
	if err := s.Admin.JSON(ctx, "POST", path, nil, body, &st); err != nil {
		t.Fatalf("retry with the same token: %v", err)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "POST", path, nil, dest(group, 5), nil)); e.Status != 409 || e.Type != "ConflictException" {
		t.Fatalf("second create: %v", e)
	}
	type described struct {
		C struct {
			statusResp
			Workspace    string `json:"workspace"`
			Destinations []struct {
				CloudWatchLogs struct {
					LogGroupArn string `json:"logGroupArn"`
				} `json:"cloudWatchLogs"`
				Filters struct {
					QspThreshold int64 `json:"qspThreshold"`
				} `json:"filters"`
			} `json:"destinations"`
			CreatedAt  float64 `json:"createdAt"`
			ModifiedAt float64 `json:"modifiedAt"`
		} `json:"queryLoggingConfiguration"`
	}
	waitFor(t, func() bool {
		var d described
		return s.Admin.JSON(ctx, "GET", path, nil, nil, &d) == nil && d.C.Status.StatusCode == "ACTIVE" && d.C.Workspace == ws &&
			len(d.C.Destinations) == 1 && d.C.Destinations[0].CloudWatchLogs.LogGroupArn == group && d.C.Destinations[0].Filters.QspThreshold == 100 &&
			d.C.CreatedAt > 0 && d.C.ModifiedAt >= d.C.CreatedAt
	})

	// A query over the threshold (the range query) is logged with the QSP
	// stats=all reports; one under it (3 samples) is not.
	query("sum(qlog_metric)")
	code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {"qlog_metric"}, "time": {fmt.Sprint(now.Unix())}})
	if code != 200 || r.Status != "success" {
		t.Fatalf("instant query: %d %+v", code, r)
	}
	var ev []queryLogEvent
	waitFor(t, func() bool { ev = queryLogEvents(t, s, ws); return len(ev) > 0 })
	time.Sleep(500 * time.Millisecond) // the instant query's event, were it (wrongly) logged
	ev = queryLogEvents(t, s, ws)
	if len(ev) != 1 {
		t.Fatalf("want only the range query logged, got %+v", ev)
	}
	m := ev[0].Message
	if ev[0].Component != "query" || m["query"] != "sum(qlog_metric)" || m["qsp"] != fmt.Sprint(rangeQSP) || m["status"] != "success" ||
		m["step"] != "1m0s" || m["start"] == nil || m["end"] == nil || m["duration"] == nil || m["source"] != "api" ||
		!strings.HasSuffix(fmt.Sprint(m["caller"]), ":user/admin") {
		t.Fatalf("query log event: %+v", ev[0])
	}

	// Update: a threshold of 0 logs the instant query too.
	if err := s.Admin.JSON(ctx, "PUT", path, nil, dest(group, 0), &st); err != nil || st.Status.StatusCode != "UPDATING" {
		t.Fatalf("update: %+v %v", st, err)
	}
	waitFor(t, func() bool {
		var d described
		return s.Admin.JSON(ctx, "GET", path, nil, nil, &d) == nil && d.C.Status.StatusCode == "ACTIVE" && d.C.Destinations[0].Filters.QspThreshold == 0
	})
	code, r = get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {"qlog_metric"}, "time": {fmt.Sprint(now.Unix())}})
	if code != 200 {
		t.Fatalf("instant query: %d %+v", code, r)
	}
	waitFor(t, func() bool {
		for _, e := range queryLogEvents(t, s, ws) {
			if e.Message["query"] == "qlog_metric" && e.Message["qsp"] == "3" && e.Message["time"] != nil {
				return true
			}
		}
		return false
	})

	// A failing query is logged with its error.
	code, _ = get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {`qlog_metric + on(i) group_left qlog_metric{i="0"} * 0 + on() qlog_metric`}, "time": {fmt.Sprint(now.Unix())}})
	if code == 200 {
		t.Fatal("the many-to-many query succeeded")
	}
	waitFor(t, func() bool {
		for _, e := range queryLogEvents(t, s, ws) {
			if e.Message["status"] == "error" && e.Message["error"] != nil && e.Message["level"] == "WARN" {
				return true
			}
		}
		return false
	})

	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/usage", nil, nil, &usage); err != nil {
		t.Fatal(err)
	}
	if usage.Usage.Other["querySamplesProcessed"] < qsp+float64(rangeQSP)+3+3 {
		t.Fatalf("QSP did not grow: %v then %+v", qsp, usage.Usage.Other)
	}
	resp, metrics, err := s.Admin.Raw(ctx, "GET", "/metrics", nil, "", nil, nil)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(metrics), `kansoku_usage_query_samples_processed_total{workspace="`+ws+`"}`) {
		t.Fatalf("/metrics: %v", err)
	}

	// Delete: no more logging.
	if err := s.Admin.JSON(ctx, "DELETE", path, url.Values{"clientToken": {"d-1"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", path, nil, nil, nil)); e.Status != 404 {
		t.Fatalf("after delete: %v", e)
	}
	before := len(queryLogEvents(t, s, ws))
	query("sum(qlog_metric)")
	time.Sleep(500 * time.Millisecond)
	if after := len(queryLogEvents(t, s, ws)); after != before {
		t.Fatalf("logged after delete: %d -> %d", before, after)
	}
}
