package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/testenv"
)

// TestCrashSafety kill -9s the server during sustained ingest, restarts it,
// and checks that every acknowledged sample is queryable.
func TestCrashSafety(t *testing.T) {
	s := startServer(t, "")
	ws := createWorkspace(t, s.Admin, "crash")
	const (
		writers         = 4
		seriesPerWriter = 50
		step            = 100 * time.Millisecond
	)
	base := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	acked := make([][]int64, writers) // per writer, acknowledged timestamps
	var total atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for seq := 0; ; seq++ {
				ts := base.Add(time.Duration(seq) * step).UnixMilli()
				req := &prompb.WriteRequest{}
				for i := 0; i < seriesPerWriter; i++ {
					req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
						Labels:  testenv.Series("__name__", "crash_total", "writer", strconv.Itoa(w), "series", strconv.Itoa(i)),
						Samples: []prompb.Sample{{Timestamp: ts, Value: float64(seq)}},
					})
				}
				code, _, err := testenv.RemoteWrite(ctx, s.Admin, ws, req)
				if err != nil || code != 200 {
					return // the server is gone
				}
				acked[w] = append(acked[w], ts)
				total.Add(1)
			}
		}(w)
	}
	waitFor(t, 60*time.Second, "sustained ingest", func() bool { return total.Load() >= 400 })
	if err := s.stop(true); err == nil {
		t.Fatal("kill -9 should not exit cleanly")
	}
	wg.Wait()
	t.Logf("killed after %d acknowledged requests", total.Load())

	s.start()
	end := base.Add(time.Duration(total.Load()+10) * step)
	window := fmt.Sprintf("%ds", int(end.Sub(base).Seconds())+10)
	for w := 0; w < writers; w++ {
		var r struct {
			Data struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Values [][]any           `json:"values"`
				} `json:"result"`
			} `json:"data"`
		}
		q := url.Values{"query": {fmt.Sprintf(`crash_total{writer="%d"}[%s]`, w, window)}, "time": {fmt.Sprint(end.Unix() + 1)}}
		if err := s.Admin.JSON(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/query", q, nil, &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Data.Result) != seriesPerWriter {
			t.Fatalf("writer %d: %d series after restart, want %d", w, len(r.Data.Result), seriesPerWriter)
		}
		for _, series := range r.Data.Result {
			stored := map[int64]bool{}
			for _, v := range series.Values {
				stored[int64(v[0].(float64)*1000+0.5)] = true
			}
			for _, ts := range acked[w] {
				if !stored[ts] {
					t.Fatalf("acknowledged sample lost: writer %d series %s ts %d (%d of %d acked stored)", w, series.Metric["series"], ts, len(stored), len(acked[w]))
				}
			}
		}
	}
}
