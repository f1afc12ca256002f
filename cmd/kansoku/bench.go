package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/kansoku/kansoku/internal/bench"
	"github.com/kansoku/kansoku/internal/client"
)

func registerBench(a *kingpin.Application, commands map[string]func(context.Context) error) {
	b := a.Command("bench", "Load generators and benchmarks.")
	rw := b.Command("remote-write", "Send realistic remote_write traffic to any remote_write URL and report samples/s, latency, RSS and disk use.")
	o := bench.RemoteWriteOptions{ExtraLabels: map[string]string{}}
	rw.Flag("url", "remote_write URL (Kansoku workspace, Prometheus receiver, VictoriaMetrics...).").Required().StringVar(&o.URL)
	auth := rw.Flag("auth", "Authentication: sigv4 (AWS_* env or --data.dir admin-credentials), token (KANSOKU_TOKEN), none.").Default("none").Enum("sigv4", "token", "none")
	dataDir := rw.Flag("data.dir", "Where to find admin-credentials for --auth=sigv4.").Default("./data").String()
	rw.Flag("series", "Active series.").Default("100000").IntVar(&o.Series)
	rw.Flag("labels", "Labels per series, including __name__.").Default("10").IntVar(&o.LabelsPer)
	rw.Flag("batch", "Samples per request (Prometheus' max_samples_per_send default: 2000).").Default("2000").IntVar(&o.BatchSize)
	rw.Flag("concurrency", "Parallel senders.").Default("8").IntVar(&o.Concurrency)
	rw.Flag("duration", "How long to send (with --rounds: at most).").Default("0s").DurationVar(&o.Duration)
	rw.Flag("rounds", "Send this many samples per series, then stop (equal work for every target).").IntVar(&o.Rounds)
	rw.Flag("step", "Time between two samples of a series (a scrape interval).").Default("1s").DurationVar(&o.Step)
	rwBase := rw.Flag("base", "Unix time (seconds) of the first sample; give every target the same (default: rounds × step before now, so the data ends now).").Float64()
	rw.Flag("backdate", "Load this much history before --base first (not measured), one sample per series every --backdate-step; the receiver must accept old samples.").DurationVar(&o.Backdate)
	rw.Flag("backdate-step", "Time between two samples of the history --backdate loads.").Default("5m").DurationVar(&o.BackdateStep)
	rw.Flag("cpu-profile", "Write a CPU profile of the target, taken from the start of the measured run, to this file (needs --profile-url).").StringVar(&o.ProfileOut)
	rw.Flag("profile-url", "The target's /debug/pprof/profile URL (signed like the writes).").StringVar(&o.ProfileURL)
	rw.Flag("profile-seconds", "Length of the CPU profile.").Default("10").IntVar(&o.ProfileSeconds)
	rw.Flag("target-pid", "PID of the receiving process, to sample its RSS.").IntVar(&o.TargetPID)
	rw.Flag("target-dir", "Data directory of the receiver, to measure bytes on disk per sample.").StringVar(&o.TargetDir)
	rw.Flag("label", "Name of the target in the report.").StringVar(&o.Label)
	jsonOut := rw.Flag("json-out", "Also write the result as JSON to this file.").String()
	rw.Flag("series-label", "Extra label name=value added to every series (e.g. cluster=a, __replica__=r1); repeatable.").StringMapVar(&o.ExtraLabels)
	rw.Flag("backoff-on-429", "On 429, wait and resend the batch like Prometheus with retry_on_http_429 (30 ms doubling to 5 s).").BoolVar(&o.Backoff429)
	rwHeaders := rw.Flag("header", "Extra request header Name=Value (e.g. X-Scope-OrgID=tenant for Cortex); repeatable.").StringMap()
	commands["bench remote-write"] = func(ctx context.Context) error {
		if (o.ProfileURL == "") != (o.ProfileOut == "") {
			return fmt.Errorf("--cpu-profile and --profile-url go together")
		}
		if *rwBase > 0 {
			o.Base = time.UnixMilli(int64(*rwBase * 1000))
		}
		if len(*rwHeaders) > 0 {
			o.ExtraHeaders = http.Header{}
			for k, v := range *rwHeaders {
				o.ExtraHeaders.Set(k, v)
			}
		}
		switch *auth {
		case "sigv4", "token":
			s, err := client.Settings{}.Resolve(*dataDir + "/admin-credentials")
			if err != nil {
				return err
			}
			if *auth == "sigv4" {
				s.Token = ""
			}
			o.Signer = client.FromSettings(s)
		}
		res, err := bench.RunRemoteWrite(ctx, o)
		bench.Report(stdout, []bench.Result{res})
		if res.FirstError != "" {
			fmt.Fprintf(os.Stderr, "first error: %s\n", res.FirstError)
		}
		if *jsonOut != "" {
			b, _ := json.MarshalIndent(res, "", "  ")
			if werr := os.WriteFile(*jsonOut, b, 0o644); werr != nil {
				return werr
			}
		}
		return err
	}

	var qo bench.QueryOptions
	qc := b.Command("query", "Run a set of Grafana-like PromQL queries against any Prometheus API and report latency percentiles.")
	qc.Flag("url", "Base of the Prometheus API: /api/v1/query is under it (a Kansoku workspace URL, http://prometheus:9090, Cortex's .../prometheus).").Required().StringVar(&qo.BaseURL)
	qauth := qc.Flag("auth", "Authentication: sigv4 (AWS_* env or --data.dir admin-credentials), token (KANSOKU_TOKEN), none.").Default("none").Enum("sigv4", "token", "none")
	qDataDir := qc.Flag("data.dir", "Where to find admin-credentials for --auth=sigv4.").Default("./data").String()
	qc.Flag("runs", "Runs of each query.").Default("10").IntVar(&qo.Runs)
	qc.Flag("window", "Range of range queries, ending now.").Default("1h").DurationVar(&qo.Window)
	qc.Flag("step", "Step of range queries.").Default("15s").DurationVar(&qo.Step)
	qc.Flag("stats", "Ask for stats=all.").BoolVar(&qo.Stats)
	qAt := qc.Flag("at", "Unix time the queries are evaluated at (range queries end there); default now.").Int64()
	qc.Flag("label", "Name of the target in the report.").StringVar(&qo.Label)
	qHeaders := qc.Flag("header", "Extra request header Name=Value (e.g. X-Scope-OrgID=tenant); repeatable.").StringMap()
	qJSON := qc.Flag("json-out", "Also write the result as JSON to this file (with --compare: one file per target, <file>.<label>.json).").String()
	qCompare := qc.Flag("compare", "Another target LABEL=URL (no authentication) queried alternately with --url, each run starting with a different target; repeatable, in order.").Strings()
	qc.Flag("pid", "The --url target's process on this machine: its CPU time per query is reported too.").IntVar(&qo.PID)
	qComparePID := qc.Flag("compare-pid", "LABEL=PID of a --compare target's process, for its CPU time per query; repeatable.").StringMap()
	qOnly := qc.Flag("query", "Run only the dashboard query of this name (e.g. topk-pods); repeatable. Default: all nine.").Strings()
	commands["bench query"] = func(ctx context.Context) error {
		if len(*qOnly) > 0 {
			all := bench.DashboardQueries()
			for _, name := range *qOnly {
				i := slices.IndexFunc(all, func(q bench.Query) bool { return q.Name == name })
				if i < 0 {
					return fmt.Errorf("--query %q: no dashboard query of that name", name)
				}
				qo.Queries = append(qo.Queries, all[i])
			}
		}
		if *qAt > 0 {
			qo.End = time.Unix(*qAt, 0)
		}
		if qo.Label == "" {
			qo.Label = qo.BaseURL
		}
		qo.Headers = http.Header{}
		for k, v := range *qHeaders {
			qo.Headers.Set(k, v)
		}
		if *qauth != "none" {
			s, err := client.Settings{}.Resolve(*qDataDir + "/admin-credentials")
			if err != nil {
				return err
			}
			if *qauth == "sigv4" {
				s.Token = ""
			}
			u, err := url.Parse(qo.BaseURL)
			if err != nil {
				return err
			}
			s.URL = u.Scheme + "://" + u.Host
			qo.Signer = client.FromSettings(s)
		}
		targets := []bench.QueryOptions{qo}
		for _, c := range *qCompare {
			label, u, ok := strings.Cut(c, "=")
			if !ok || label == "" || u == "" {
				return fmt.Errorf("--compare %q: want LABEL=URL", c)
			}
			t := bench.QueryOptions{BaseURL: u, Label: label}
			if p, ok := (*qComparePID)[label]; ok {
				pid, err := strconv.Atoi(p)
				if err != nil || pid <= 0 {
					return fmt.Errorf("--compare-pid %s=%q: want a process ID", label, p)
				}
				t.PID = pid
			}
			targets = append(targets, t)
		}
		results, err := bench.RunQueriesCompare(ctx, targets)
		if err != nil {
			return err
		}
		bench.ReportQueries(stdout, results)
		if *qJSON != "" {
			for i, res := range results {
				f := *qJSON
				if i > 0 {
					f = strings.TrimSuffix(f, ".json") + "." + res.Label + ".json"
				}
				b, _ := json.MarshalIndent(res, "", "  ")
				if err := os.WriteFile(f, b, 0o644); err != nil {
					return err
				}
			}
		}
		return nil
	}
	qrep := b.Command("query-report", "Print query results written with --json-out side by side, with p50 ratios against the first.")
	qfiles := qrep.Arg("files", "Result files.").Required().ExistingFiles()
	commands["bench query-report"] = func(context.Context) error {
		var results []bench.QueryResult
		for _, f := range *qfiles {
			raw, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			var r bench.QueryResult
			if err := json.Unmarshal(raw, &r); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			results = append(results, r)
		}
		bench.ReportQueries(stdout, results)
		return nil
	}

	res := b.Command("resident", "Show which sections and Go modules of a running process' executable are resident in its memory (the clean file pages its RSS counts).")
	resPID := res.Flag("pid", "The process.").Required().Int()
	resTop := res.Flag("top", "Modules to list, most resident first (0: all).").Default("30").Int()
	commands["bench resident"] = func(context.Context) error {
		r, err := bench.BinaryResidency(*resPID)
		if err != nil {
			return err
		}
		bench.ReportResidency(stdout, r, *resTop)
		return nil
	}

	rep := b.Command("report", "Print results written with --json-out side by side, with throughput ratios against the first.")
	files := rep.Arg("files", "Result files.").Required().ExistingFiles()
	commands["bench report"] = func(context.Context) error {
		var results []bench.Result
		for _, f := range *files {
			raw, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			var r bench.Result
			if err := json.Unmarshal(raw, &r); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
			results = append(results, r)
		}
		bench.Report(stdout, results)
		return nil
	}
}
