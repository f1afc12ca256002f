package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/awsint/catalog"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/hosts"
	"github.com/kansoku/kansoku/internal/testenv"
)

// TestDemoAccountHasEveryProduct: the demo's simulated account has
// resources of all 28 products, and its integration's first poll makes
// hosts of each with samples in the workspace.
func TestDemoAccountHasEveryProduct(t *testing.T) {
	var sim *Simulator
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) {
		var err error
		if sim, err = Start(c); err != nil {
			t.Fatal(err)
		}
		c.AWS.Poll = false // the test polls through Setup alone
	}})
	t.Cleanup(func() { _ = sim.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Setup(ctx, s.App, sim, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	i, err := s.App.AWS().Get(ctx, res.IntegrationID)
	if err != nil || i.LastPoll == nil || len(i.LastPoll.Errors) > 0 {
		t.Fatalf("first poll: %+v %v", i.LastPoll, err)
	}
	var hs struct {
		Hosts []hosts.Host `json:"hosts"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/hosts", url.Values{"workspace": {res.WorkspaceID}}, nil, &hs); err != nil {
		t.Fatal(err)
	}
	byProduct := map[string][]hosts.Host{}
	for _, h := range hs.Hosts {
		byProduct[h.Product] = append(byProduct[h.Product], h)
	}
	for _, k := range catalog.Keys() {
		if len(byProduct[k]) == 0 {
			t.Errorf("no %s host", k)
			continue
		}
		// Every product has a host with samples.
		found := false
		for _, h := range byProduct[k] {
			var out struct {
				Data struct {
					Result []any `json:"result"`
				} `json:"data"`
			}
			q := url.Values{"query": {fmt.Sprintf(`count(last_over_time({host_id=%q}[1h]))`, h.ID)}}
			if err := s.Admin.JSON(ctx, "GET", "/workspaces/"+res.WorkspaceID+"/api/v1/query", q, nil, &out); err == nil && len(out.Data.Result) > 0 {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no %s host has samples", k)
		}
	}
}
