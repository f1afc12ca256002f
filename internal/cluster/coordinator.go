package cluster

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Ownership answers, for one node, which singletons it runs. The embedded
// default (one process) owns everything (Everything); a cluster node asks
// its Coordinator.
type Ownership interface {
	// Owns reports whether this node runs key of group now.
	Owns(group, key string) bool
	// Epoch is the fencing epoch of an owned key (0 when not owned): state
	// written on its behalf carries it, and the store refuses a write of a
	// lower epoch than the last one written.
	Epoch(group, key string) int64
}

// The groups of singletons a Kansoku node runs.
const (
	// GroupWorkspace: a workspace's rule evaluation and Alertmanager.
	GroupWorkspace = "workspace"
	// GroupAWS: an AWS integration's polls.
	GroupAWS = "awsint"
	// GroupScraper: a managed scraper's scrapes.
	GroupScraper = "scraper"
	// GroupGlobal: chores done once for the whole cluster.
	GroupGlobal = "global"
)

// Everything is the ownership of a single node: it runs every singleton.
type Everything struct{}

// Owns implements Ownership.
func (Everything) Owns(string, string) bool { return true }

// Epoch implements Ownership: one node has one epoch.
func (Everything) Epoch(string, string) int64 { return 1 }

// Group is a family of singletons with one lease each: "workspace" keys
// are workspace ids (rules, Alertmanager), "awsint" keys integration ids,
// a global singleton is a group with one key.
type Group struct {
	// Name prefixes the leases: <name>/<key>.
	Name string
	// Keys lists what must have an owner now.
	Keys func(ctx context.Context) ([]string, error)
	// Acquired is called, on the coordinator's goroutine, when this node
	// starts owning key; Lost when it stops (the lease was lost, released,
	// or the key is gone). Lost must stop the key's work before it
	// returns: another node may start it once the lease expires.
	Acquired func(key string, epoch int64)
	Lost     func(key string)
}

type held struct {
	epoch int64
	// deadline is when this node must have stopped the work unless a
	// renewal succeeds first.
	deadline time.Time
}

// Coordinator keeps this node's leases: it takes those of the keys whose
// preferred node it is (rendezvous hashing over the live nodes, so that a
// node joining or dying moves only its share), renews them, releases those
// it should no longer hold, and stops a key's work when its lease cannot
// be renewed in time.
type Coordinator struct {
	store  LeaseStore
	self   NodeInfo
	timing Timing
	logger *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	groups []*Group
	owned  map[string]map[string]*held // group -> key -> lease
	live   []NodeInfo

	leaseChanges *prometheus.CounterVec
	ownedGauge   *prometheus.GaugeVec
	liveGauge    prometheus.Gauge
}

// CoordinatorOptions configure a Coordinator.
type CoordinatorOptions struct {
	Store      LeaseStore
	Self       NodeInfo
	Timing     Timing
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the local clock (tests); nil: time.Now.
	Now func() time.Time
}

// NewCoordinator returns a coordinator; Run must be running for it to act.
func NewCoordinator(o CoordinatorOptions) (*Coordinator, error) {
	if err := o.Timing.Validate(); err != nil {
		return nil, err
	}
	if o.Self.ID == "" {
		return nil, errors.New("cluster: the node needs an id")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	f := promauto.With(o.Registerer)
	return &Coordinator{
		store: o.Store, self: o.Self, timing: o.Timing, logger: o.Logger, now: o.Now,
		owned: map[string]map[string]*held{},
		leaseChanges: f.NewCounterVec(prometheus.CounterOpts{
			Name: "kansoku_cluster_lease_changes_total",
			Help: "Leases this node started or stopped holding, by group and event (acquired, released, lost).",
		}, []string{"group", "event"}),
		ownedGauge: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kansoku_cluster_leases_held",
			Help: "Leases this node holds, by group.",
		}, []string{"group"}),
		liveGauge: f.NewGauge(prometheus.GaugeOpts{
			Name: "kansoku_cluster_live_nodes",
			Help: "Nodes with a recent heartbeat, as this node last saw them.",
		}),
	}, nil
}

// AddGroup registers a family of singletons; call before Run.
func (c *Coordinator) AddGroup(g *Group) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups = append(c.groups, g)
	c.owned[g.Name] = map[string]*held{}
}

// Owns implements Ownership.
func (c *Coordinator) Owns(group, key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.owned[group][key]
	return ok && c.now().Before(h.deadline)
}

// Epoch implements Ownership.
func (c *Coordinator) Epoch(group, key string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.owned[group][key]; ok && c.now().Before(h.deadline) {
		return h.epoch
	}
	return 0
}

// Self is this node.
func (c *Coordinator) Self() NodeInfo { return c.self }

// Live returns the live nodes as last seen.
func (c *Coordinator) Live() []NodeInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.live)
}

// Owner returns the node preferred for key of group among the live ones
// (where its work runs, or will within a renewal period).
func (c *Coordinator) Owner(group, key string) (NodeInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return preferred(group+"/"+key, c.live)
}

// preferred is rendezvous (highest random weight) hashing: each key goes
// to the live node with the highest hash of (key, node).
func preferred(lease string, live []NodeInfo) (NodeInfo, bool) {
	var best NodeInfo
	var bestW uint64
	for _, n := range live {
		h := fnv.New64a()
		_, _ = h.Write([]byte(lease))
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(n.ID))
		if w := h.Sum64(); best.ID == "" || w > bestW {
			best, bestW = n, w
		}
	}
	return best, best.ID != ""
}

// Run renews and rebalances every Timing.Renew and enforces deadlines in
// between, until ctx ends; then it stops every owned key and releases its
// leases.
func (c *Coordinator) Run(ctx context.Context) error {
	renew := time.NewTicker(c.timing.Renew)
	defer renew.Stop()
	watchdog := time.NewTicker(c.timing.Renew / 4)
	defer watchdog.Stop()
	c.pass(ctx)
	for {
		select {
		case <-ctx.Done():
			c.releaseAll()
			return nil
		case <-renew.C:
			c.pass(ctx)
		case <-watchdog.C:
			c.enforceDeadlines()
		}
	}
}

// pass heartbeats, reads the live nodes and brings every group's leases in
// line with them.
func (c *Coordinator) pass(ctx context.Context) {
	if err := c.store.Heartbeat(ctx, c.self.ID, c.self.URL); err != nil {
		c.logger.Warn("cluster heartbeat failed", "err", err)
	}
	live, err := c.store.LiveNodes(ctx, c.timing.TTL)
	if err != nil {
		c.logger.Warn("list live nodes", "err", err)
		c.enforceDeadlines()
		return
	}
	if !slices.ContainsFunc(live, func(n NodeInfo) bool { return n.ID == c.self.ID }) {
		live = append(live, c.self) // our own heartbeat may not be visible yet
	}
	slices.SortFunc(live, func(a, b NodeInfo) int { return cmpString(a.ID, b.ID) })
	c.mu.Lock()
	c.live = live
	groups := slices.Clone(c.groups)
	c.mu.Unlock()
	c.liveGauge.Set(float64(len(live)))
	for _, g := range groups {
		c.syncGroup(ctx, g, live)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (c *Coordinator) syncGroup(ctx context.Context, g *Group, live []NodeInfo) {
	keys, err := g.Keys(ctx)
	if err != nil {
		c.logger.Warn("list singleton keys", "group", g.Name, "err", err)
		c.enforceDeadlines()
		return
	}
	want := map[string]bool{}
	for _, k := range keys {
		if p, ok := preferred(g.Name+"/"+k, live); ok && p.ID == c.self.ID {
			want[k] = true
		}
	}
	c.mu.Lock()
	var mine []string
	for k := range c.owned[g.Name] {
		mine = append(mine, k)
	}
	c.mu.Unlock()
	// Leases held but no longer ours to hold: stop, then release, so the
	// preferred node can take over at its next pass.
	for _, k := range mine {
		if !want[k] {
			c.drop(g, k, "released")
			if err := c.store.ReleaseLease(ctx, g.Name+"/"+k, c.self.ID); err != nil {
				c.logger.Warn("release lease", "lease", g.Name+"/"+k, "err", err)
			}
		}
	}
	for k := range want {
		sent := c.now()
		epoch, ok, err := c.store.AcquireLease(ctx, g.Name+"/"+k, c.self.ID, c.timing.TTL)
		switch {
		case err != nil:
			c.logger.Warn("acquire lease", "lease", g.Name+"/"+k, "err", err)
			continue
		case !ok:
			// Someone else holds it until it expires (a node that just died,
			// or one that still prefers it from an older view).
			c.drop(g, k, "lost")
			continue
		}
		deadline := sent.Add(c.timing.TTL - c.timing.Margin)
		c.mu.Lock()
		h, had := c.owned[g.Name][k]
		if had && h.epoch != epoch {
			// The lease changed hands since: what ran under the old epoch
			// must stop before the new one starts.
			c.mu.Unlock()
			c.drop(g, k, "lost")
			c.mu.Lock()
			had = false
		}
		if had {
			h.deadline = deadline
			c.mu.Unlock()
			continue
		}
		c.owned[g.Name][k] = &held{epoch: epoch, deadline: deadline}
		c.ownedGauge.WithLabelValues(g.Name).Set(float64(len(c.owned[g.Name])))
		c.mu.Unlock()
		c.leaseChanges.WithLabelValues(g.Name, "acquired").Inc()
		c.logger.Info("lease acquired", "lease", g.Name+"/"+k, "epoch", epoch)
		if g.Acquired != nil {
			g.Acquired(k, epoch)
		}
	}
}

// drop stops this node's work on key, if it owned it.
func (c *Coordinator) drop(g *Group, key, event string) {
	c.mu.Lock()
	_, had := c.owned[g.Name][key]
	delete(c.owned[g.Name], key)
	c.ownedGauge.WithLabelValues(g.Name).Set(float64(len(c.owned[g.Name])))
	c.mu.Unlock()
	if !had {
		return
	}
	c.leaseChanges.WithLabelValues(g.Name, event).Inc()
	c.logger.Info("lease "+event, "lease", g.Name+"/"+key)
	if g.Lost != nil {
		g.Lost(key)
	}
}

// enforceDeadlines stops the work of every lease whose renewal is overdue.
func (c *Coordinator) enforceDeadlines() {
	now := c.now()
	type gk struct {
		g   *Group
		key string
	}
	var late []gk
	c.mu.Lock()
	for _, g := range c.groups {
		for k, h := range c.owned[g.Name] {
			if !now.Before(h.deadline) {
				late = append(late, gk{g, k})
			}
		}
	}
	c.mu.Unlock()
	for _, l := range late {
		c.logger.Warn("lease not renewed in time: stopping its work", "lease", l.g.Name+"/"+l.key)
		c.drop(l.g, l.key, "lost")
	}
}

func (c *Coordinator) releaseAll() {
	c.mu.Lock()
	groups := slices.Clone(c.groups)
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, g := range groups {
		c.mu.Lock()
		var keys []string
		for k := range c.owned[g.Name] {
			keys = append(keys, k)
		}
		c.mu.Unlock()
		for _, k := range keys {
			c.drop(g, k, "released")
			if err := c.store.ReleaseLease(ctx, g.Name+"/"+k, c.self.ID); err != nil {
				c.logger.Warn("release lease at shutdown", "lease", fmt.Sprintf("%s/%s", g.Name, k), "err", err)
			}
		}
	}
}
