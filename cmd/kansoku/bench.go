package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

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
	rw.Flag("target-pid", "PID of the receiving process, to sample its RSS.").IntVar(&o.TargetPID)
	rw.Flag("target-dir", "Data directory of the receiver, to measure bytes on disk per sample.").StringVar(&o.TargetDir)
	rw.Flag("label", "Name of the target in the report.").StringVar(&o.Label)
	jsonOut := rw.Flag("json-out", "Also write the result as JSON to this file.").String()
	rw.Flag("series-label", "Extra label name=value added to every series (e.g. cluster=a, __replica__=r1); repeatable.").StringMapVar(&o.ExtraLabels)
	rw.Flag("backoff-on-429", "On 429, wait and resend the batch like Prometheus with retry_on_http_429 (30 ms doubling to 5 s).").BoolVar(&o.Backoff429)
	commands["bench remote-write"] = func(ctx context.Context) error {
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
