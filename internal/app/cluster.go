package app

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kansoku/kansoku/internal/alertmanager"
	"github.com/kansoku/kansoku/internal/api"
	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/cluster"
	"github.com/kansoku/kansoku/internal/cortex"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/metastore"
)

// The wiring of the scale-out shape: samples in Cortex, several nodes on
// one PostgreSQL database, each singleton (a workspace's rules and
// Alertmanager, an AWS integration's polls, the Cortex overrides) run by
// the one node that holds its lease, and requests for a workspace's
// Alertmanager or rule state forwarded to that node.

// initCluster sets up this node's ownership of singletons: everything on
// one node, the coordinator's leases in a cluster.
func (a *App) initCluster(sealingKey []byte) error {
	if !a.cfg.Cluster.Enabled {
		a.own = cluster.Everything{}
		return nil
	}
	node, err := a.cfg.Cluster.Node(a.externalURL)
	if err != nil {
		return err
	}
	a.coord, err = cluster.NewCoordinator(cluster.CoordinatorOptions{
		Store: leaseStore{a.meta}, Self: node, Timing: a.cfg.Cluster.Timing(),
		Logger: a.logger.With("component", "cluster"), Registerer: a.registry,
	})
	if err != nil {
		return err
	}
	a.own = a.coord
	a.forwarder = cluster.NewForwarder(sealingKey, node.ID)
	a.logger.Info("cluster node", "node", node.ID, "advertise_url", node.URL)
	return nil
}

// addClusterGroups registers the singletons with the coordinator, once the
// components that run them exist.
func (a *App) addClusterGroups() {
	if a.coord == nil {
		return
	}
	a.coord.AddGroup(&cluster.Group{
		Name: cluster.GroupWorkspace,
		Keys: a.activeWorkspaces,
		Acquired: func(ws string, _ int64) {
			a.ruler.Sync(ws)
			a.alertmanager.Sync(ws)
			a.anomalyEval.Sync()
		},
		// Stopping them saves the Alertmanager's state and stops
		// evaluating before the lease can pass to another node.
		Lost: func(ws string) {
			a.ruler.Remove(ws)
			a.alertmanager.Remove(ws)
			a.anomalyEval.Sync()
		},
	})
	a.coord.AddGroup(&cluster.Group{
		Name: cluster.GroupAWS,
		Keys: func(ctx context.Context) ([]string, error) {
			recs, err := a.meta.ListAWSIntegrations(ctx, "")
			if err != nil {
				return nil, err
			}
			ids := make([]string, len(recs))
			for i, r := range recs {
				ids[i] = r.ID
			}
			return ids, nil
		},
	})
	// A scraper scrapes from exactly one node: the lease's holder.
	a.coord.AddGroup(&cluster.Group{
		Name:     cluster.GroupScraper,
		Keys:     a.scrapers.IDs,
		Acquired: func(string, int64) { a.scrapeRunner.Kick() },
		Lost:     a.scrapeRunner.Stop,
	})
	a.coord.AddGroup(&cluster.Group{
		Name: cluster.GroupGlobal,
		Keys: func(context.Context) ([]string, error) { return []string{globalMaintenance}, nil },
	})
}

// globalMaintenance is the one lease of the cluster-wide chores: the Cortex
// overrides file, HA-tracker cleanup.
const globalMaintenance = "maintenance"

// nodeName is this node's name in a cluster, "" on one node.
func (a *App) nodeName() string {
	if a.coord == nil {
		return ""
	}
	return a.coord.Self().ID
}

// sharedRefresh is how often a cache of metadata other nodes change is
// re-read: d on one node, at most 5 s in a cluster.
func (a *App) sharedRefresh(d time.Duration) time.Duration {
	if a.cfg.Cluster.Enabled && d > 5*time.Second {
		return 5 * time.Second
	}
	return d
}

// ownsWorkspace reports whether this node runs ws's rules and Alertmanager.
func (a *App) ownsWorkspace(ws string) bool { return a.own.Owns(cluster.GroupWorkspace, ws) }

// ownedWorkspaces lists the ACTIVE workspaces this node runs the rules and
// Alertmanager of.
func (a *App) ownedWorkspaces(context.Context) ([]string, error) {
	ids := a.workspaces.ActiveIDs()
	return slices.DeleteFunc(ids, func(ws string) bool { return !a.ownsWorkspace(ws) }), nil
}

// toOwner makes the routes named (all when none are) serve a workspace's
// request on the node that owns the workspace: another node forwards it
// there, with the identity it authenticated. Not in a cluster, the routes
// are unchanged.
func (a *App) toOwner(routes []httpapi.Route, names ...string) []httpapi.Route {
	return a.toOwnerOf(routes, cluster.GroupWorkspace, "workspaceId", names...)
}

// toOwnerOf is toOwner for the singletons of group, keyed by the path
// value named key (an AWS integration's id ...).
func (a *App) toOwnerOf(routes []httpapi.Route, group, key string, names ...string) []httpapi.Route {
	if a.coord == nil {
		return routes
	}
	out := slices.Clone(routes)
	for i, rt := range out {
		if len(names) > 0 && !slices.Contains(names, rt.Name) {
			continue
		}
		local := rt.Handler
		out[i].Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k := r.PathValue(key)
			if a.own.Owns(group, k) || r.Header.Get(cluster.ForwardedHeader) != "" {
				// Here, or already forwarded once: never forward twice.
				local.ServeHTTP(w, r)
				return
			}
			owner, ok := a.coord.Owner(group, k)
			if !ok || owner.ID == a.coord.Self().ID {
				// This node is to own it and will within a renewal period.
				httpapi.WriteError(w, r, rt.Plane, apierr.Unavailable(1, "%s is moving to this node; retry", k))
				return
			}
			if err := a.forwarder.Forward(w, r, owner, httpapi.Identity(r), httpapi.Body(r)); err != nil {
				a.logger.Warn("forward to the owner", "group", group, "key", k, "owner", owner.ID, "err", err)
				httpapi.WriteError(w, r, rt.Plane, apierr.Unavailable(1, "the node running %s is unreachable; retry", k))
			}
		})
	}
	return out
}

// peers verifies requests other nodes forward here (nil on one node).
func (a *App) peers() api.Peers {
	if a.forwarder == nil {
		return nil
	}
	return a.forwarder
}

// remoteQueries is where sample-reading queries go: Cortex's
// query-frontend, or nowhere else (the embedded engine) without Cortex.
func (a *App) remoteQueries() http.Handler {
	if a.cortex == nil {
		return nil
	}
	return a.cortex.QueryHandler()
}

// alertmanagerState is where Alertmanagers keep silences and notification
// logs: the shared metadata in a cluster (every node must read a
// workspace's state when it takes the workspace over), files otherwise.
func (a *App) alertmanagerState() alertmanager.StateStore {
	if a.cfg.Cluster.Enabled {
		return a.meta
	}
	return alertmanager.FileState{Dir: a.workspaceDir}
}

// workspaceDir is a workspace's local directory.
func (a *App) workspaceDir(ws string) string {
	return filepath.Join(a.cfg.Storage.DataDir, "workspaces", ws)
}

// gatherers is what /metrics exposes.
func (a *App) gatherers() prometheus.Gatherer {
	gs := prometheus.Gatherers{a.registry, a.ruler.Gatherer(), a.alertmanager.Gatherer()}
	if a.tsdb != nil {
		gs = append(gs, a.tsdb.Gatherer())
	}
	return gs
}

// syncCortexOverrides keeps Cortex's runtime configuration equal to the
// workspaces' limits: every pass writes each ACTIVE workspace's limits and
// retention and drops the others. Only the node holding the maintenance
// lease writes (every node of a cluster shares the file).
func (a *App) syncCortexOverrides(ctx context.Context) error {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if a.own.Owns(cluster.GroupGlobal, globalMaintenance) {
			if err := a.writeCortexOverrides(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("write cortex overrides", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (a *App) writeCortexOverrides(ctx context.Context) error {
	// Limits may have been changed through another node: read them anew.
	if err := a.limitsService.Load(ctx); err != nil {
		return fmt.Errorf("read limits: %w", err)
	}
	all, _, err := a.meta.ListWorkspaces(ctx, metastore.WorkspaceFilter{})
	if err != nil {
		return fmt.Errorf("list workspaces: %w", err)
	}
	ov := a.cortex.Overrides()
	want := map[string]bool{}
	for _, w := range all {
		if w.Status != metastore.WorkspaceActive && w.Status != metastore.WorkspaceCreating {
			continue
		}
		want[w.ID] = true
		lim := a.limits.For(w.ID)
		// The adaptive limit (twice the 30-minute average, AMP's rule) is
		// computed here from Cortex's count and enforced there.
		t := cortex.LimitsFor(lim, int(a.seriesLimits.For(w.ID).Limit()))
		t.CompactorBlocksRetentionPer = cortex.Days(w.RetentionDays)
		t.LimitsPerLabelSet = cortex.LabelSetLimitsFor(w.LabelSetLimits)
		if err := ov.Set(w.ID, t); err != nil {
			return err
		}
	}
	for _, ws := range ov.Tenants() {
		if !want[ws] {
			if err := ov.Remove(ws); err != nil {
				return err
			}
		}
	}
	return nil
}

// leaseStore adapts the metadata store to the coordinator.
type leaseStore struct{ db *metastore.DB }

func (l leaseStore) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (int64, bool, error) {
	return l.db.AcquireLease(ctx, name, holder, ttl)
}

func (l leaseStore) ReleaseLease(ctx context.Context, name, holder string) error {
	return l.db.ReleaseLease(ctx, name, holder)
}

func (l leaseStore) Heartbeat(ctx context.Context, node, url string) error {
	return l.db.Heartbeat(ctx, node, url)
}

func (l leaseStore) LiveNodes(ctx context.Context, ttl time.Duration) ([]cluster.NodeInfo, error) {
	hb, err := l.db.LiveNodes(ctx, ttl)
	if err != nil {
		return nil, err
	}
	out := make([]cluster.NodeInfo, len(hb))
	for i, n := range hb {
		out[i] = cluster.NodeInfo{ID: n.ID, URL: n.URL}
	}
	return out, nil
}
