package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kansoku/kansoku/internal/client"
)

// Query is one PromQL query of a query benchmark.
type Query struct {
	Name  string
	Expr  string
	Range bool // query_range over the window, else an instant query at its end
}

// DashboardQueries are nine Grafana-like queries over the series
// MakeSeries writes: rates, aggregations by label, top-k, quantiles, a
// regular-expression selector and counts.
func DashboardQueries() []Query {
	return []Query{
		{"rate-sum", `sum(rate(bench_metric_00_total[5m]))`, true},
		{"rate-by-job", `sum by (job) (rate(bench_metric_01_total[5m]))`, true},
		{"topk-pods", `topk(5, sum by (pod) (rate(bench_metric_02_total[5m])))`, false},
		{"avg-by-namespace", `avg by (namespace) (bench_metric_03_total)`, false},
		{"count-regex", `count({__name__=~"bench_metric_1.*"})`, false},
		{"increase-by-code", `sum by (code) (increase(bench_metric_04_total[1h]))`, false},
		{"max-over-time", `max(max_over_time(bench_metric_05_total[10m]))`, true},
		{"rate-filtered-by-zone", `sum by (zone) (rate(bench_metric_06_total{env="env-1"}[5m]))`, true},
		{"quantile", `quantile(0.9, rate(bench_metric_07_total[5m]))`, true},
	}
}

// QueryOptions configure a query benchmark.
type QueryOptions struct {
	// BaseURL is where the Prometheus API lives: /api/v1/query is under it
	// (a Kansoku workspace URL, http://prometheus:9090, a Cortex
	// query-frontend's /prometheus).
	BaseURL string
	Signer  *client.Client // SigV4 or token; nil: none
	Headers http.Header    // e.g. X-Scope-OrgID for Cortex
	Queries []Query
	Runs    int           // runs of each query
	Window  time.Duration // range of range queries, ending at End
	Step    time.Duration
	End     time.Time
	Stats   bool // stats=all
	Label   string
	// PID, when set, is the target's process on this machine: the CPU
	// time its threads spend on each query is measured too (a figure the
	// rest of a shared machine's load disturbs far less than latency).
	PID int
}

// QueryTiming is one query's latencies.
type QueryTiming struct {
	Name     string
	Range    bool
	P50, P90 time.Duration
	// CPUP50 is the median CPU time the target's process spent per run
	// (0: not measured).
	CPUP50 time.Duration `json:",omitempty"`
	Errors int
	// Result is the first run's result, for comparing targets.
	Result string `json:"-"`
}

// QueryResult is a query benchmark's outcome.
type QueryResult struct {
	Label   string
	Queries []QueryTiming
	// GeomeanP50 is the geometric mean of the queries' p50s.
	GeomeanP50 time.Duration
}

// RunQueries runs each query Runs times, one at a time, and reports its
// latency percentiles.
func RunQueries(ctx context.Context, o QueryOptions) (QueryResult, error) {
	res, err := RunQueriesCompare(ctx, []QueryOptions{o})
	if len(res) == 0 {
		return QueryResult{Label: o.Label}, err
	}
	return res[0], err
}

// RunQueriesCompare runs the same queries against several targets,
// alternating between them: each run of each query goes to every target
// in turn, starting with a different one each run (A,B,C; B,C,A; ...), so
// that load from elsewhere on the machine and caches warming up affect
// every target alike. Runs, Window, Step, End, Stats and Queries come
// from the first target's options.
func RunQueriesCompare(ctx context.Context, targets []QueryOptions) ([]QueryResult, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("no target")
	}
	o := &targets[0]
	if o.Runs <= 0 {
		o.Runs = 10
	}
	if o.Window == 0 {
		o.Window = time.Hour
	}
	if o.Step == 0 {
		o.Step = 15 * time.Second
	}
	if o.End.IsZero() {
		o.End = time.Now()
	}
	if len(o.Queries) == 0 {
		o.Queries = DashboardQueries()
	}
	for i := range targets[1:] {
		t := &targets[i+1]
		t.Runs, t.Window, t.Step, t.End, t.Stats, t.Queries = o.Runs, o.Window, o.Step, o.End, o.Stats, o.Queries
	}
	n := len(targets)
	timings := make([][]QueryTiming, n)
	lats := make([][][]time.Duration, n)
	cpus := make([][][]time.Duration, n)
	for k := range targets {
		timings[k] = make([]QueryTiming, len(o.Queries))
		lats[k] = make([][]time.Duration, len(o.Queries))
		cpus[k] = make([][]time.Duration, len(o.Queries))
		for qi, q := range o.Queries {
			timings[k][qi].Name, timings[k][qi].Range = q.Name, q.Range
		}
	}
	for run := 0; run < o.Runs; run++ {
		for qi, q := range o.Queries {
			for j := 0; j < n; j++ {
				k := (j + run) % n
				qt := &timings[k][qi]
				cpu0 := threadsCPU(targets[k].PID)
				d, body, err := targets[k].do(ctx, q)
				if c := threadsCPU(targets[k].PID) - cpu0; targets[k].PID > 0 && err == nil && c >= 0 {
					// (negative: a thread ended and took its count along)
					cpus[k][qi] = append(cpus[k][qi], c)
				}
				if err != nil {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					qt.Errors++
					if qt.Errors == 1 {
						qt.Result = "error: " + err.Error()
					}
					continue
				}
				if qt.Result == "" {
					qt.Result = body
				}
				lats[k][qi] = append(lats[k][qi], d)
			}
		}
	}
	out := make([]QueryResult, n)
	for k := range targets {
		res := QueryResult{Label: targets[k].Label}
		logSum := 0.0
		for qi := range o.Queries {
			qt, lat := timings[k][qi], lats[k][qi]
			if len(lat) == 0 {
				return out, fmt.Errorf("%s: query %s failed every run: %s", targets[k].Label, qt.Name, qt.Result)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			qt.P50, qt.P90 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*9/10)]
			if c := cpus[k][qi]; len(c) > 0 {
				sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
				qt.CPUP50 = c[len(c)/2]
			}
			logSum += math.Log(float64(qt.P50))
			res.Queries = append(res.Queries, qt)
		}
		res.GeomeanP50 = time.Duration(math.Exp(logSum / float64(len(res.Queries))))
		out[k] = res
	}
	return out, nil
}

func (o QueryOptions) do(ctx context.Context, q Query) (time.Duration, string, error) {
	v := url.Values{"query": {q.Expr}}
	path := "/api/v1/query"
	ts := func(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }
	if q.Range {
		path = "/api/v1/query_range"
		v.Set("start", ts(o.End.Add(-o.Window)))
		v.Set("end", ts(o.End))
		v.Set("step", strconv.FormatFloat(o.Step.Seconds(), 'f', -1, 64))
	} else {
		v.Set("time", ts(o.End))
	}
	if o.Stats {
		v.Set("stats", "all")
	}
	base, err := url.Parse(o.BaseURL)
	if err != nil {
		return 0, "", err
	}
	start := time.Now()
	var status int
	var body []byte
	if o.Signer != nil {
		resp, b, err := o.Signer.Raw(ctx, http.MethodGet, base.Path+path, v, "", nil, o.Headers)
		if err != nil {
			return 0, "", err
		}
		status, body = resp.StatusCode, b
	} else {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(o.BaseURL, "/")+path+"?"+v.Encode(), nil)
		if err != nil {
			return 0, "", err
		}
		for k, vs := range o.Headers {
			req.Header[k] = vs
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, "", err
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, "", err
		}
		status = resp.StatusCode
	}
	d := time.Since(start)
	if status != http.StatusOK {
		return 0, "", fmt.Errorf("HTTP %d: %.200s", status, body)
	}
	return d, string(body), nil
}

// ReportQueries prints query results side by side, with each target's
// p50 as a ratio of the first target's (lower is faster).
func ReportQueries(w io.Writer, results []QueryResult) {
	if len(results) == 0 {
		return
	}
	reportTable(w, results, "p50", func(q QueryTiming) time.Duration { return q.P50 })
	for _, r := range results {
		for _, q := range r.Queries {
			if q.CPUP50 > 0 {
				fmt.Fprintln(w, "\nserver CPU time per query (the target process' threads, p50; ratio to the first):")
				reportTable(w, results, "cpu", func(q QueryTiming) time.Duration { return q.CPUP50 })
				return
			}
		}
	}
}

// reportTable prints one figure of every query and target, with its ratio
// to the first target's, and the figure's geometric means.
func reportTable(w io.Writer, results []QueryResult, name string, figure func(QueryTiming) time.Duration) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprint(tw, "query")
	for _, r := range results {
		fmt.Fprintf(tw, "\t%s %s\tratio", r.Label, name)
	}
	fmt.Fprintln(tw)
	for i, q := range results[0].Queries {
		fmt.Fprint(tw, q.Name)
		for _, r := range results {
			if i >= len(r.Queries) || figure(q) == 0 {
				fmt.Fprint(tw, "\t-\t-")
				continue
			}
			fmt.Fprintf(tw, "\t%s\t%.2f", figure(r.Queries[i]).Round(10*time.Microsecond), float64(figure(r.Queries[i]))/float64(figure(q)))
		}
		fmt.Fprintln(tw)
	}
	for _, g := range []struct {
		name string
		keep func(QueryTiming) bool
	}{
		{"geomean", func(QueryTiming) bool { return true }},
		{"geomean instant", func(q QueryTiming) bool { return !q.Range }},
		{"geomean range", func(q QueryTiming) bool { return q.Range }},
	} {
		first := geomean(results[0].Queries, g.keep, figure)
		if first == 0 {
			continue
		}
		fmt.Fprint(tw, g.name)
		for _, r := range results {
			m := geomean(r.Queries, g.keep, figure)
			fmt.Fprintf(tw, "\t%s\t%.2f", m.Round(10*time.Microsecond), float64(m)/float64(first))
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
}

// geomean is the geometric mean of the figures of the queries keep
// selects (0: none).
func geomean(qs []QueryTiming, keep func(QueryTiming) bool, figure func(QueryTiming) time.Duration) time.Duration {
	sum, n := 0.0, 0
	for _, q := range qs {
		if keep(q) && figure(q) > 0 {
			sum += math.Log(float64(figure(q)))
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return time.Duration(math.Exp(sum / float64(n)))
}

// threadsCPU is the CPU time all threads of process pid have spent, from
// the scheduler's nanosecond counters (/proc/<pid>/task/*/schedstat; the
// tick-based utime of /proc/<pid>/stat is too coarse for one query). 0
// when pid is 0 or unreadable.
func threadsCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err == nil {
			total += time.Duration(ns)
		}
	}
	return total
}
