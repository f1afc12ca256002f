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
	Seed       int64
	// Base is the timestamp of the first measured sample; zero: Rounds ×
	// Step before the start (the run's data ends about now), or 30 minutes
	// before it for a time-bounded run. Give every target the same Base
	// so that they hold the same data and one query set fits them all.
	Base time.Time
	// Backdate loads this much history before Base, one sample per series
	// every BackdateStep, before the measured run (not counted in it):
	// data for range queries over days. The receiver must accept old
	// samples (a Kansoku workspace's max_sample_age).
	Backdate     time.Duration
	BackdateStep time.Duration
	// ProfileURL, when set, is the target's /debug/pprof/profile: a CPU
	// profile of ProfileSeconds is taken from the start of the measured
	// run (signed with Signer) and written to ProfileOut.
	ProfileURL     string
	ProfileSeconds int
	ProfileOut     string
}

// MaxSpan is the most data a measured run may span (Rounds × Step): a
// Kansoku workspace refuses samples older than its max_sample_age (AMP's
// default: 1 h) while the peers take them, which would make the targets'
// work unequal. Older data is loaded with Backdate.
const MaxSpan = time.Hour

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
	// AnonPeakBytes is the peak of the anonymous part of RSS (RssAnon):
	// the memory the process holds that the kernel cannot drop without
	// swap, unlike the clean pages of its binary it has mapped.
	AnonPeakBytes  int64
	DiskBytes      int64
	BytesPerSample float64
	BytesPerSeries float64 // (RSS after - RSS before) / series
	// PeakBytesPerSeries is (RSS peak - RSS before) / series: what the
	// series took at the peak above what the server held before them (its
	// binary's pages, its runtime and its own state at start).
	PeakBytesPerSeries float64
	// SamplesPerSeries is how much data each series got: memory per series
	// compares fairly only between runs with the same figure (use Rounds).
	SamplesPerSeries float64
	// CPUSeconds is the user + system CPU time the target process spent
	// during the run (0 when unknown); SamplesPerCPUSecond divides the
	// accepted samples by it: throughput independent of what else runs on
	// the machine.
	CPUSeconds          float64
	SamplesPerCPUSecond float64
	// Base is the timestamp of the first measured sample (Unix ms).
	Base int64
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
		if o.Rounds > 0 {
			o.Duration = time.Hour // the rounds end the run
		}
	}
	if o.Step == 0 {
		o.Step = time.Second
	}
	if o.Label == "" {
		o.Label = o.URL
	}
	if o.BackdateStep == 0 {
		o.BackdateStep = 5 * time.Minute
	}
}

// Validate checks that a run's data fits what every target accepts.
func (o *RemoteWriteOptions) Validate() error {
	if o.Rounds < 0 || o.Series < 1 || o.BatchSize < 1 || o.Concurrency < 1 || o.Step <= 0 {
		return fmt.Errorf("series, batch, concurrency and step must be positive and rounds not negative")
	}
	if span := time.Duration(o.Rounds) * o.Step; span > MaxSpan {
		return fmt.Errorf("--rounds %d × %s spans %s, over %s: a Kansoku workspace refuses samples older than its max_sample_age (1 h by default) and the targets' work would differ; load older data with --backdate", o.Rounds, o.Step, span, MaxSpan)
	}
	if o.Backdate < 0 || o.BackdateStep <= 0 {
		return fmt.Errorf("--backdate must not be negative and --backdate-step must be positive")
	}
	return nil
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
	if err := opts.Validate(); err != nil {
		return res, err
	}
	series := MakeSeries(opts.Series, opts.LabelsPer, opts.Seed)
	if len(opts.ExtraLabels) > 0 {
		for i := range series {
			for k, v := range opts.ExtraLabels {
				series[i] = append(series[i], prompb.Label{Name: k, Value: v})
			}
			sort.Slice(series[i], func(a, b int) bool { return series[i][a].Name < series[i][b].Name })
		}
	}
	res.RSSBeforeBytes, _ = rss(opts.TargetPID)

	var (
		samples, requests, errs atomic.Int64
		throttled               atomic.Int64
		latMu                   sync.Mutex
		lats                    []time.Duration
		firstErr                atomic.Value
		peak, anonPeak          atomic.Int64
	)
	peak.Store(res.RSSBeforeBytes)
	sample := func() {
		r, anon := rss(opts.TargetPID)
		if r > peak.Load() {
			peak.Store(r)
		}
		if anon > anonPeak.Load() {
			anonPeak.Store(anon)
		}
	}
	sample()

	stopRSS := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopRSS:
				return
			case <-t.C:
				sample()
			}
		}
	}()

	httpClient := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: opts.Concurrency * 2}}
	base := opts.Base.UnixMilli()
	if opts.Base.IsZero() {
		span := 30 * time.Minute
		if opts.Rounds > 0 {
			span = time.Duration(opts.Rounds) * opts.Step
		}
		base = time.Now().Add(-span).UnixMilli()
	}
	res.Base = base
	// sendRounds sends rounds samples per series, step apart from first;
	// measured rounds count into the result.
	sendRounds := func(ctx context.Context, first int64, step time.Duration, rounds int64, measured bool) {
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
				for round := int64(0); rounds == 0 || round < rounds; round++ {
					ts := first + round*step.Milliseconds()
					for off := 0; off < len(mine); off += opts.BatchSize {
						if ctx.Err() != nil {
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
						status, msg, err := send(ctx, httpClient, opts, buf)
						for backoff := 30 * time.Millisecond; opts.Backoff429 && err == nil && status == http.StatusTooManyRequests; backoff = min(2*backoff, 5*time.Second) {
							throttled.Add(1)
							select {
							case <-ctx.Done():
								return
							case <-time.After(backoff):
							}
							status, msg, err = send(ctx, httpClient, opts, buf)
						}
						d := time.Since(t0)
						if ctx.Err() != nil {
							return
						}
						if err != nil || status/100 != 2 {
							if err != nil {
								msg = err.Error()
							}
							if !measured {
								firstErr.CompareAndSwap(nil, fmt.Sprintf("backdating: HTTP %d: %s", status, msg))
								continue
							}
							errs.Add(1)
							requests.Add(1)
							firstErr.CompareAndSwap(nil, fmt.Sprintf("HTTP %d: %s", status, msg))
							continue
						}
						if !measured {
							continue
						}
						requests.Add(1)
						latMu.Lock()
						lats = append(lats, d)
						latMu.Unlock()
						samples.Add(int64(end - off))
					}
				}
			}(w)
		}
		wg.Wait()
	}
	if opts.Backdate > 0 {
		n := int64(opts.Backdate / opts.BackdateStep)
		sendRounds(ctx, base-n*opts.BackdateStep.Milliseconds(), opts.BackdateStep, n, false)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		res.RSSBeforeBytes, _ = rss(opts.TargetPID)
		peak.Store(res.RSSBeforeBytes)
		anonPeak.Store(0)
		sample()
	}
	runCtx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	profDone := make(chan error, 1)
	if opts.ProfileURL != "" {
		go func() { profDone <- fetchProfile(ctx, opts) }()
	} else {
		profDone <- nil
	}
	cpu0 := cpuSeconds(opts.TargetPID)
	start := time.Now()
	sendRounds(runCtx, base, opts.Step, int64(opts.Rounds), true)
	res.Elapsed = time.Since(start)
	if cpu1 := cpuSeconds(opts.TargetPID); cpu1 > cpu0 {
		res.CPUSeconds = cpu1 - cpu0
	}
	close(stopRSS)

	res.Samples, res.Requests, res.Errors, res.Throttled = samples.Load(), requests.Load(), errs.Load(), throttled.Load()
	if v := firstErr.Load(); v != nil {
		res.FirstError = v.(string)
	}
	res.SamplesPerSec = float64(res.Samples) / res.Elapsed.Seconds()
	if res.CPUSeconds > 0 {
		res.SamplesPerCPUSecond = float64(res.Samples) / res.CPUSeconds
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	if len(lats) > 0 {
		res.P50 = lats[len(lats)*50/100]
		res.P99 = lats[min(len(lats)-1, len(lats)*99/100)]
	}
	res.RSSPeakBytes, res.AnonPeakBytes = peak.Load(), anonPeak.Load()
	res.RSSAfterBytes, _ = rss(opts.TargetPID)
	res.SamplesPerSeries = float64(res.Samples) / float64(opts.Series)
	if opts.Series > 0 && res.RSSAfterBytes > 0 {
		res.BytesPerSeries = float64(res.RSSAfterBytes-res.RSSBeforeBytes) / float64(opts.Series)
	}
	if opts.Series > 0 && res.RSSPeakBytes > 0 {
		res.PeakBytesPerSeries = float64(res.RSSPeakBytes-res.RSSBeforeBytes) / float64(opts.Series)
	}
	if opts.TargetDir != "" {
		res.DiskBytes = dirSize(opts.TargetDir)
		if res.Samples > 0 {
			res.BytesPerSample = float64(res.DiskBytes) / float64(res.Samples)
		}
	}
	if err := <-profDone; err != nil {
		return res, fmt.Errorf("CPU profile: %w", err)
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

// fetchProfile takes a CPU profile of the target during the run.
func fetchProfile(ctx context.Context, opts RemoteWriteOptions) error {
	secs := opts.ProfileSeconds
	if secs <= 0 {
		secs = 10
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, opts.ProfileURL+"?seconds="+strconv.Itoa(secs), nil)
	if err != nil {
		return err
	}
	if opts.Signer != nil {
		if err := opts.Signer.Sign(ctx, req, nil); err != nil {
			return err
		}
	}
	resp, err := (&http.Client{Timeout: time.Duration(secs+30) * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
	}
	return os.WriteFile(opts.ProfileOut, b, 0o644)
}

// rss returns a process' resident set size and its anonymous part, in
// bytes (0 when unknown), read together from /proc/PID/status.
func rss(pid int) (total, anon int64) {
	if pid <= 0 {
		return 0, 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	return statusBytes(b, "VmRSS:"), statusBytes(b, "RssAnon:")
}

// statusBytes reads one "Key:   N kB" line of /proc/PID/status.
func statusBytes(status []byte, key string) int64 {
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's times
// (100 on every architecture Go supports).
const clockTicks = 100

// cpuSeconds returns the user + system CPU time a process has used (0
// when unknown).
func cpuSeconds(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / clockTicks
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
	fmt.Fprintf(w, "%-22s %12s %12s %9s %9s %8s %9s %10s %10s %10s %10s %10s %12s %10s %8s %8s\n",
		"target", "samples/s", "smp/CPU-s", "p50", "p99", "errors", "smp/ser", "RSS before", "RSS peak", "anon peak", "B/series", "peak B/ser", "disk", "B/sample", "ratio", "CPU-rat")
	for _, r := range results {
		ratio := 1.0
		if results[0].SamplesPerSec > 0 {
			ratio = r.SamplesPerSec / results[0].SamplesPerSec
		}
		cpuRatio := 0.0
		if results[0].SamplesPerCPUSecond > 0 {
			cpuRatio = r.SamplesPerCPUSecond / results[0].SamplesPerCPUSecond
		}
		fmt.Fprintf(w, "%-22s %12.0f %12.0f %9s %9s %8d %9.0f %10s %10s %10s %10.0f %10.0f %12s %10.2f %8.2f %8.2f\n",
			r.Label, r.SamplesPerSec, r.SamplesPerCPUSecond, r.P50.Round(100*time.Microsecond), r.P99.Round(100*time.Microsecond), r.Errors, r.SamplesPerSeries,
			mib(r.RSSBeforeBytes), mib(r.RSSPeakBytes), mib(r.AnonPeakBytes), r.BytesPerSeries, r.PeakBytesPerSeries, mib(r.DiskBytes), r.BytesPerSample, ratio, cpuRatio)
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20)) }
