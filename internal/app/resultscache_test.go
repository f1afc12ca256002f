package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/testenv"
)

// TestRangeQueryResultsCache: through the server, a range query over the
// past is answered from the results cache the second time, the same; a
// sample written late into it (the remote-write path's commit) is in the
// next answer; another workspace's identical query gets its own data.
func TestRangeQueryResultsCache(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	a := s.CreateWorkspace(t, "cache-a")
	b := s.CreateWorkspace(t, "cache-b")
	now := time.Now().Truncate(time.Minute)
	first := now.Add(-50 * time.Minute)
	var ts []prompb.TimeSeries
	for m := 0; m <= 30; m++ {
		at := first.Add(time.Duration(m) * time.Minute)
		ts = append(ts, sample(at, float64(m), "__name__", "cache_m", "job", "x"))
	}
	// One series, in time order, in one request.
	one := prompb.TimeSeries{Labels: ts[0].Labels}
	for _, t := range ts {
		one.Samples = append(one.Samples, t.Samples...)
	}
	push(t, s.Admin, a, one)
	one.Samples = one.Samples[:10] // B has less of it
	push(t, s.Admin, b, one)

	q := url.Values{"query": {"count(cache_m)"}, "start": {fmt.Sprint(first.Unix())}, "end": {fmt.Sprint(now.Add(-15 * time.Minute).Unix())}, "step": {"60"}}
	rangeOf := func(ws string) string {
		t.Helper()
		code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query_range", q)
		if code != 200 || r.Status != "success" {
			t.Fatalf("query_range: %d %+v", code, r)
		}
		return string(r.Data)
	}
	hits := func() float64 {
		t.Helper()
		_, body, err := s.Admin.Raw(ctx, "GET", "/metrics", nil, "", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^kansoku_query_results_cache_hits_total (\S+)$`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no kansoku_query_results_cache_hits_total in /metrics")
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	first1 := rangeOf(a)
	h0 := hits()
	if again := rangeOf(a); again != first1 {
		t.Fatalf("second answer differs:\n%s\n%s", again, first1)
	}
	if hits() <= h0 {
		t.Fatal("the second query was not answered from the cache")
	}
	if bAns := rangeOf(b); bAns == first1 {
		t.Fatal("workspace B got workspace A's cached answer")
	}
	if strings.Contains(first1, `"2"`) {
		t.Fatalf("count is 1 before the late sample: %s", first1)
	}

	// A new series with a sample 40 minutes old: accepted (within
	// max_sample_age), and in the cached range.
	push(t, s.Admin, a, sample(now.Add(-40*time.Minute), 1, "__name__", "cache_m", "job", "late"))
	after := rangeOf(a)
	var data struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(after), &data); err != nil || len(data.Result) != 1 {
		t.Fatalf("%s: %v", after, err)
	}
	twos := 0
	for _, v := range data.Result[0].Values {
		if v[1] == "2" {
			twos++
		}
	}
	if twos == 0 {
		t.Fatalf("the late sample is not in the answer (the cached result was not invalidated): %s", after)
	}
}

// A dashboard over the last hour through the server: its refresh is
// answered partly from the cache (the steps before max_freshness), sees
// what was written since in the fresh steps, and a request with
// Cache-Control: no-store is evaluated by the engine alone.
func TestRangeQueryResultsCacheLastHour(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "cache-last-hour")
	now := time.Now().Truncate(time.Minute)
	series := prompb.TimeSeries{Labels: sample(now, 0, "__name__", "dash_m", "job", "x").Labels}
	for m := 40; m >= 1; m-- {
		series.Samples = append(series.Samples, prompb.Sample{Timestamp: now.Add(-time.Duration(m) * time.Minute).UnixMilli(), Value: float64(m)})
	}
	push(t, s.Admin, ws, series)
	q := url.Values{"query": {"max_over_time(dash_m[2m])"}, "start": {fmt.Sprint(now.Add(-time.Hour).Unix())}, "end": {fmt.Sprint(now.Unix())}, "step": {"60"}}
	ask := func(header http.Header) string {
		t.Helper()
		resp, b, err := s.Admin.Raw(ctx, "GET", "/workspaces/"+ws+"/api/v1/query_range", q, "", nil, header)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("query_range: %v %s", err, b)
		}
		return string(b)
	}
	counter := func(name string) float64 {
		t.Helper()
		_, body, err := s.Admin.Raw(ctx, "GET", "/metrics", nil, "", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in /metrics", name)
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	first := ask(nil)
	if counter("kansoku_query_results_cache_misses_total") == 0 {
		t.Fatal("the steps older than max_freshness were not cached")
	}
	// A sample at the last step, written after the first answer.
	push(t, s.Admin, ws, sample(now, 1000, "__name__", "dash_m", "job", "x"))
	hits := counter("kansoku_query_results_cache_hits_total")
	second := ask(nil)
	if counter("kansoku_query_results_cache_hits_total") <= hits {
		t.Fatal("the refresh was not answered from the cache")
	}
	if second == first || !strings.Contains(second, `"1000"`) {
		t.Fatalf("the sample written since is not in the refresh: %s", second)
	}
	hits = counter("kansoku_query_results_cache_hits_total")
	if bypassed := ask(http.Header{"Cache-Control": {"no-store"}}); bypassed != second {
		t.Fatalf("the engine's answer differs from the cached one:\n%s\n%s", bypassed, second)
	}
	if counter("kansoku_query_results_cache_hits_total") != hits {
		t.Fatal("a request with Cache-Control: no-store was answered from the cache")
	}
}
