package app_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/testenv"
)

// TestShardedQueryThroughServer: with query.shards the server's
// workspace TSDBs keep shard hashes, and an aggregation over enough
// series to shard answers through the HTTP API as unsharded.
func TestShardedQueryThroughServer(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) { c.Query.Shards = 4 }})
	ws := s.CreateWorkspace(t, "sharded")
	now := time.Now().Truncate(time.Second)
	var series []prompb.TimeSeries
	want := map[string]float64{}
	for i := range 300 {
		job := fmt.Sprintf("job-%d", i%3)
		series = append(series, sample(now.Add(-time.Minute), float64(i), "__name__", "work_total", "job", job, "instance", fmt.Sprint(i)))
		want[job] += float64(i)
	}
	push(t, s.Admin, ws, series...)
	tc := s.Token(t)
	for _, qs := range []string{`sum by (job) (work_total)`, `count(work_total)`, `max(work_total * 2)`} {
		code, r := get(t, tc, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {qs}, "time": {fmt.Sprint(now.Unix())}})
		if code != 200 || r.Status != "success" {
			t.Fatalf("%s: %d %+v", qs, code, r)
		}
		var data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
			} `json:"result"`
		}
		if err := json.Unmarshal(r.Data, &data); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range data.Result {
			if _, ok := s.Metric["__kansoku_shard__"]; ok {
				t.Fatalf("%s: the shard label leaked: %s", qs, r.Data)
			}
			got[s.Metric["job"]] = s.Value[1].(string)
		}
		switch qs {
		case `sum by (job) (work_total)`:
			if len(got) != 3 {
				t.Fatalf("%s: %s", qs, r.Data)
			}
			for job, v := range want {
				if got[job] != fmt.Sprint(v) {
					t.Fatalf("%s: %s = %s, want %v", qs, job, got[job], v)
				}
			}
		case `count(work_total)`:
			if got[""] != "300" {
				t.Fatalf("%s: %s", qs, r.Data)
			}
		default:
			if got[""] != "598" {
				t.Fatalf("%s: %s", qs, r.Data)
			}
		}
	}
}
