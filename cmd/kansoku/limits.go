package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/alecthomas/kingpin/v2"
)

// registerLimits adds `kansoku limits` and `kansoku usage`.
func registerLimits(a *kingpin.Application, commands map[string]func(context.Context) error) {
	lim := a.Command("limits", "Show or change a workspace's limits (AMP's quotas) at runtime.")
	path := func(ws string) string { return "/admin/v1/workspaces/" + url.PathEscape(ws) + "/limits" }
	{
		c := lim.Command("get", "Show a workspace's effective limits and which are overridden.")
		f := addClientFlags(c)
		ws := c.Arg("workspace-id", "Workspace.").Required().String()
		commands["limits get"] = func(ctx context.Context) error { return printLimits(ctx, f, http.MethodGet, path(*ws), nil) }
	}
	{
		c := lim.Command("set", "Override limits, e.g. `kansoku limits set ws-... ingestion_rate=50000 max_sample_age=2h`. Takes effect at once.")
		f := addClientFlags(c)
		ws := c.Arg("workspace-id", "Workspace.").Required().String()
		pairs := c.Arg("key=value", "Limits to set (names as in the configuration file's limits section).").Required().Strings()
		commands["limits set"] = func(ctx context.Context) error {
			body := map[string]any{}
			for _, p := range *pairs {
				k, v, ok := strings.Cut(p, "=")
				if !ok {
					return fmt.Errorf("%q: want key=value", p)
				}
				body[k] = parseValue(v)
			}
			return printLimits(ctx, f, http.MethodPatch, path(*ws), body)
		}
	}
	{
		c := lim.Command("reset", "Return limits to the defaults: the named ones, or all.")
		f := addClientFlags(c)
		ws := c.Arg("workspace-id", "Workspace.").Required().String()
		keys := c.Arg("key", "Limits to reset (none: all).").Strings()
		commands["limits reset"] = func(ctx context.Context) error {
			if len(*keys) == 0 {
				return printLimits(ctx, f, http.MethodDelete, path(*ws), nil)
			}
			body := map[string]any{}
			for _, k := range *keys {
				body[k] = nil
			}
			return printLimits(ctx, f, http.MethodPatch, path(*ws), body)
		}
	}

	u := a.Command("usage", "Show a workspace's usage against its quotas (AMP's usage metrics).")
	uf := addClientFlags(u)
	uws := u.Arg("workspace-id", "Workspace.").Required().String()
	asJSON := u.Flag("json", "Print JSON.").Bool()
	commands["usage"] = func(ctx context.Context) error {
		var out struct {
			Usage struct {
				IngestionRate     float64            `json:"ingestionRate"`
				SamplesIngested   float64            `json:"samplesIngested"`
				ActiveSeries      float64            `json:"activeSeries"`
				ActiveSeriesLimit float64            `json:"activeSeriesLimit"`
				DiscardedSamples  map[string]float64 `json:"discardedSamples"`
				Other             map[string]float64 `json:"other"`
				LabelSets         []struct {
					LabelSet      map[string]string `json:"labelSet"`
					MaxSeries     int64             `json:"maxSeries"`
					ActiveSeries  int64             `json:"activeSeries"`
					RefusedSeries uint64            `json:"refusedSeries"`
				} `json:"labelSets"`
			} `json:"usage"`
			Limits            map[string]any    `json:"limits"`
			HAElectedReplicas map[string]string `json:"haElectedReplicas"`
		}
		if *asJSON {
			return printJSON(ctx, uf, http.MethodGet, "/admin/v1/workspaces/"+url.PathEscape(*uws)+"/usage", nil, nil)
		}
		if err := callJSON(ctx, uf, http.MethodGet, "/admin/v1/workspaces/"+url.PathEscape(*uws)+"/usage", nil, nil, &out); err != nil {
			return err
		}
		us := out.Usage
		rows := [][]string{
			{"IngestionRate", fmt.Sprintf("%.1f samples/s", us.IngestionRate), fmt.Sprintf("%v samples/s (burst %v)", out.Limits["ingestion_rate"], out.Limits["ingestion_burst_size"])},
			{"ActiveSeries", fmt.Sprint(us.ActiveSeries), fmt.Sprintf("%v now (quota %v)", us.ActiveSeriesLimit, out.Limits["max_active_series"])},
			{"SamplesIngested", fmt.Sprint(us.SamplesIngested), ""},
		}
		for _, ls := range us.LabelSets {
			limit := "no limit (counted)"
			if ls.MaxSeries > 0 {
				limit = fmt.Sprintf("limit %d", ls.MaxSeries)
			}
			rows = append(rows, []string{"LabelSetActiveSeries", fmt.Sprint(ls.ActiveSeries), fmt.Sprintf("%s %s, %d new series refused", labelSetString(ls.LabelSet), limit, ls.RefusedSeries)})
		}
		reasons := make([]string, 0, len(us.DiscardedSamples))
		for r := range us.DiscardedSamples {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		for _, r := range reasons {
			rows = append(rows, []string{"DiscardedSamples", fmt.Sprint(us.DiscardedSamples[r]), r})
		}
		others := make([]string, 0, len(us.Other))
		for k := range us.Other {
			others = append(others, k)
		}
		sort.Strings(others)
		for _, k := range others {
			rows = append(rows, []string{k, fmt.Sprint(us.Other[k]), ""})
		}
		for c, r := range out.HAElectedReplicas {
			rows = append(rows, []string{"HAElectedReplica", r, "cluster " + c})
		}
		table(stdout, "METRIC\tVALUE\tLIMIT / DETAIL", rows)
		return nil
	}
}

// parseValue reads a limit value: number, boolean, or a string (durations).
func parseValue(v string) any {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		return n
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	return v
}

func printLimits(ctx context.Context, f *clientFlags, method, path string, body any) error {
	var out struct {
		Limits    map[string]any             `json:"limits"`
		Overrides map[string]json.RawMessage `json:"overrides"`
	}
	if err := callJSON(ctx, f, method, path, nil, body, &out); err != nil {
		return err
	}
	keys := make([]string, 0, len(out.Limits))
	for k := range out.Limits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var rows [][]string
	for _, k := range keys {
		mark := ""
		if _, ok := out.Overrides[k]; ok {
			mark = "overridden"
		}
		rows = append(rows, []string{k, fmt.Sprint(out.Limits[k]), mark})
	}
	table(stdout, "LIMIT\tVALUE\t", rows)
	return nil
}

// labelSetString writes a label set as Prometheus does, names sorted.
func labelSetString(m map[string]string) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s=%q", n, m[n]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
