package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// registerLogs adds `kansoku logs`: a workspace's ruler and Alertmanager log.
func registerLogs(a *kingpin.Application, commands map[string]func(context.Context) error) {
	c := a.Command("logs", "Show a workspace's ruler and Alertmanager log (configure it with aws amp create-logging-configuration).")
	f := addClientFlags(c)
	ws := c.Arg("workspace-id", "Workspace.").Required().String()
	since := c.Flag("since", "Start: a duration ago (1h) or RFC 3339 time.").Default("24h").String()
	component := c.Flag("component", "Only ruler, alertmanager, aws (the AWS integration), scraper (managed scrapers) or query (query logging).").Enum("ruler", "alertmanager", "aws", "scraper", "query")
	level := c.Flag("level", "Only WARN, ERROR or INFO.").String()
	follow := c.Flag("follow", "Keep printing new events.").Short('f').Bool()
	asJSON := c.Flag("json", "Print AMP-style JSON records.").Bool()
	commands["logs"] = func(ctx context.Context) error {
		q := url.Values{"startTime": {*since}}
		if *component != "" {
			q.Set("component", *component)
		}
		if *level != "" {
			q.Set("level", *level)
		}
		for {
			var out struct {
				Events []map[string]any `json:"events"`
				LastID int64            `json:"lastId"`
			}
			if err := callJSON(ctx, f, http.MethodGet, "/admin/v1/workspaces/"+url.PathEscape(*ws)+"/logs", q, nil, &out); err != nil {
				return err
			}
			for _, e := range out.Events {
				if *asJSON {
					delete(e, "id")
					b, _ := json.Marshal(e)
					fmt.Fprintln(stdout, string(b))
					continue
				}
				msg, _ := e["message"].(map[string]any)
				fmt.Fprintf(stdout, "%s %-12s %-5s %v\n", e["timestamp"], e["component"], msg["level"], msg["log"])
			}
			if !*follow {
				return nil
			}
			q.Set("afterId", fmt.Sprint(out.LastID))
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
	}
}
