// Package bench holds Kansoku's load generators. RemoteWrite sends
// realistic Prometheus remote_write traffic (many series with ~10 labels,
// batches of 2000 samples as Prometheus sends by default) to any
// remote_write URL, so that the same run measures Kansoku and a peer (the
// Prometheus remote-write receiver, VictoriaMetrics) side by side.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/client"
)

// RemoteWriteOptions configure one run.
type RemoteWriteOptions struct {
	URL          string         // full remote_write URL
	Signer       *client.Client // signs requests (SigV4 or token); nil: no auth
	Series       int            // active series
	LabelsPer    int            // labels per series, including __name__
	BatchSize    int            // samples per request
	Concurrency  int            // parallel senders ("shards"), each owning a slice of the series
	Duration     time.Duration  // how long to send (an upper bound when Rounds is set)
	Rounds       int            // samples per series to send, then stop (0: send for Duration)
	Step         time.Duration  // timestamp step between two samples of a series
	TargetPID    int            // process whose RSS to sample (0: none)
	TargetDir    string         // data directory whose size to measure (empty: none)
	Label        string         // name of the target in the report
	ExtraHeaders http.Header
	// ExtraLabels are added to every series (e.g. cluster and __replica__).
	ExtraLabels map[string]string
	// Backoff429 makes a sender wait and resend on 429, as Prometheus does
	// with retry_on_http_429 (30 ms doubling to 5 s), instead of moving on.
	Backoff429 bool
	// Workspace returns per-sender URL overrides (several tenants); nil: URL.
	Seed int64
}

// Result is what one run measured.
type Result struct {
	Label          string
	Samples        int64 // accepted samples
	Requests       int64
	Errors         int64
	Throttled      int64 // 429s answered (and resent after a backoff, with Backoff429)
	FirstError     string
	Elapsed        time.Duration
	SamplesPerSec  float64
	P50, P99       time.Duration
	RSSBeforeBytes int64
	RSSPeakBytes   int64
	RSSAfterBytes  int64
	DiskBytes      int64
	BytesPerSample float64
	BytesPerSeries float64 // (RSS after - RSS before) / series
	// SamplesPerSeries is how much data each series got: memory per series
	// compares fairly only between runs with the same figure (use Rounds).
	SamplesPerSeries float64
}

func (o *RemoteWriteOptions) defaults() {
	if o.Series == 0 {
		o.Series = 100000
	}
	if o.LabelsPer == 0 {
		o.LabelsPer = 10
	}
	if o.BatchSize == 0 {
		o.BatchSize = 2000
	}
	if o.Concurrency == 0 {
		o.Concurrency = 8
	}
	if o.Duration == 0 {
		o.Duration = 30 * time.Second
	}
	if o.Step == 0 {
		o.Step = time.Second
	}
	if o.Label == "" {
		o.Label = o.URL
	}
}

// MakeSeries builds n realistic label sets: a hundred metric names over a
// thousand instances, with job, namespace, pod, container, zone, env and
// method/code-style labels, up to labelsPer labels each.
func MakeSeries(n, labelsPer int, seed int64) [][]prompb.Label {
	rng := rand.New(rand.NewSource(seed))
	metrics := make([]string, 100)
	for i := range metrics {
		metrics[i] = fmt.Sprintf("bench_metric_%02d_total", i)
	}
	extra := []struct {
		name   string
		values int
	}{
		{"job", 20}, {"instance", 1000}, {"namespace", 30}, {"pod", 3000}, {"container", 10},
		{"zone", 3}, {"env", 3}, {"method", 5}, {"code", 8}, {"path", 50}, {"cluster", 4}, {"version", 12},
	}
	out := make([][]prompb.Label, n)
	for i := 0; i < n; i++ {
		ls := make([]prompb.Label, 0, labelsPer)
		ls = append(ls, prompb.Label{Name: "__name__", Value: metrics[i%len(metrics)]})
		for j := 0; j < labelsPer-1 && j < len(extra); j++ {
			v := rng.Intn(extra[j].values)
			if extra[j].name == "instance" {
				// Unique per series within a metric: instance carries the series index.
				v = i / len(metrics)
			}
			ls = append(ls, prompb.Label{Name: extra[j].name, Value: extra[j].name + "-" + strconv.Itoa(v)})
		}
		sort.Slice(ls, func(a, b int) bool { return ls[a].Name < ls[b].Name })
		out[i] = ls
	}
	return out
}

// RunRemoteWrite sends traffic for opts.Duration and reports what happened.
func RunRemoteWrite(ctx context.Context, opts RemoteWriteOptions) (Result, error) {
	opts.defaults()
	res := Result{Label: opts.Label}
	series := MakeSeries(opts.Series, opts.LabelsPer, opts.Seed)
	if len(opts.ExtraLabels) > 0 {
		for i := range series {
			for k, v := range opts.ExtraLabels {
				series[i] = append(series[i], prompb.Label{Name: k, Value: v})
			}
			sort.Slice(series[i], func(a, b int) bool { return series[i][a].Name < series[i][b].Name })
		}
	}
	res.RSSBeforeBytes = rss(opts.TargetPID)

	var (
		samples, requests, errs atomic.Int64
		throttled               atomic.Int64
		latMu                   sync.Mutex
		lats                    []time.Duration
		firstErr                atomic.Value
		peak                    atomic.Int64
	)
	peak.Store(res.RSSBeforeBytes)
	runCtx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()

	stopRSS := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopRSS:
				return
			case <-t.C:
				if r := rss(opts.TargetPID); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	}()

	httpClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: opts.Concurrency * 2}}
	start := time.Now()
	base := start.Add(-30 * time.Minute).UnixMilli()
	var wg sync.WaitGroup
	for w := 0; w < opts.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Each sender owns series w, w+C, w+2C...: a series' samples are
			// always sent in order, as Prometheus' sharding guarantees.
			var mine []int
			for i := w; i < len(series); i += opts.Concurrency {
				mine = append(mine, i)
			}
			var buf []byte
			req := &prompb.WriteRequest{}
			for round := int64(0); opts.Rounds == 0 || round < int64(opts.Rounds); round++ {
				ts := base + round*opts.Step.Milliseconds()
				for off := 0; off < len(mine); off += opts.BatchSize {
					if runCtx.Err() != nil {
						return
					}
					end := min(off+opts.BatchSize, len(mine))
					req.Timeseries = req.Timeseries[:0]
					for _, idx := range mine[off:end] {
						req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
							Labels:  series[idx],
							Samples: []prompb.Sample{{Timestamp: ts, Value: float64(round*10 + int64(idx%7))}},
						})
					}
					raw, err := req.Marshal()
					if err != nil {
						firstErr.CompareAndSwap(nil, err.Error())
						return
					}
					buf = snappy.Encode(buf[:0], raw)
					t0 := time.Now()
					status, msg, err := send(runCtx, httpClient, opts, buf)
					for backoff := 30 * time.Millisecond; opts.Backoff429 && err == nil && status == http.StatusTooManyRequests; backoff = min(2*backoff, 5*time.Second) {
						throttled.Add(1)
						select {
						case <-runCtx.Done():
							return
						case <-time.After(backoff):
						}
						status, msg, err = send(runCtx, httpClient, opts, buf)
					}
					d := time.Since(t0)
					if runCtx.Err() != nil {
						return
					}
					requests.Add(1)
					latMu.Lock()
					lats = append(lats, d)
					latMu.Unlock()
					if err != nil || status/100 != 2 {
						errs.Add(1)
						if err != nil {
							msg = err.Error()
						}
						firstErr.CompareAndSwap(nil, fmt.Sprintf("HTTP %d: %s", status, msg))
						continue
					}
					samples.Add(int64(end - off))
				}
			}
		}(w)
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	close(stopRSS)

	res.Samples, res.Requests, res.Errors, res.Throttled = samples.Load(), requests.Load(), errs.Load(), throttled.Load()
	if v := firstErr.Load(); v != nil {
		res.FirstError = v.(string)
	}
	res.SamplesPerSec = float64(res.Samples) / res.Elapsed.Seconds()
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	if len(lats) > 0 {
		res.P50 = lats[len(lats)*50/100]
		res.P99 = lats[min(len(lats)-1, len(lats)*99/100)]
	}
	res.RSSPeakBytes = peak.Load()
	res.RSSAfterBytes = rss(opts.TargetPID)
	res.SamplesPerSeries = float64(res.Samples) / float64(opts.Series)
	if opts.Series > 0 && res.RSSAfterBytes > 0 {
		res.BytesPerSeries = float64(res.RSSAfterBytes-res.RSSBeforeBytes) / float64(opts.Series)
	}
	if opts.TargetDir != "" {
		res.DiskBytes = dirSize(opts.TargetDir)
		if res.Samples > 0 {
			res.BytesPerSample = float64(res.DiskBytes) / float64(res.Samples)
		}
	}
	if res.Samples == 0 {
		return res, fmt.Errorf("no sample was accepted by %s: %s", opts.URL, res.FirstError)
	}
	return res, nil
}

func send(ctx context.Context, c *http.Client, opts RemoteWriteOptions, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, opts.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "kansoku-bench")
	for k, vs := range opts.ExtraHeaders {
		req.Header[k] = vs
	}
	if opts.Signer != nil {
		if err := opts.Signer.Sign(ctx, req, body); err != nil {
			return 0, "", err
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

// rss returns a process' resident set size in bytes (0 when unknown).
func rss(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// Report renders results as a table, with ratios against the first result.
func Report(w io.Writer, results []Result) {
	fmt.Fprintf(w, "%-22s %12s %9s %9s %8s %9s %10s %10s %12s %10s %8s\n",
		"target", "samples/s", "p50", "p99", "errors", "smp/ser", "RSS peak", "B/series", "disk", "B/sample", "ratio")
	for _, r := range results {
		ratio := 1.0
		if results[0].SamplesPerSec > 0 {
			ratio = r.SamplesPerSec / results[0].SamplesPerSec
		}
		fmt.Fprintf(w, "%-22s %12.0f %9s %9s %8d %9.0f %10s %10.0f %12s %10.2f %8.2f\n",
			r.Label, r.SamplesPerSec, r.P50.Round(100*time.Microsecond), r.P99.Round(100*time.Microsecond), r.Errors, r.SamplesPerSeries,
			mib(r.RSSPeakBytes), r.BytesPerSeries, mib(r.DiskBytes), r.BytesPerSample, ratio)
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20)) }
