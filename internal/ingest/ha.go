package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
)

// HAStore holds the elected replicas, shared by every node of the
// installation (and kept across restarts).
type HAStore interface {
	ListHALeaders(ctx context.Context) ([]metastore.HALeader, error)
	ElectHALeader(ctx context.Context, candidate metastore.HALeader, takeoverBefore time.Time) (metastore.HALeader, bool, error)
	DeleteIdleHALeaders(ctx context.Context, before time.Time) (int64, error)
}

// haPersistEvery bounds how stale the stored receive time may be (Mimir's
// update timeout): the elected replica's receive time is written at most
// this often per cluster (and at least twice per failover timeout).
const haPersistEvery = 15 * time.Second

// haIdle is how long a cluster may be silent before it is forgotten.
const haIdle = 30 * time.Minute

// HATracker deduplicates Prometheus HA pairs as AMP and Mimir do: samples
// labelled with a cluster and a replica are accepted only from the elected
// replica of each cluster; another replica takes over when the elected one
// has sent nothing for the failover timeout (30 s).
//
// Many nodes may receive a cluster's requests (the replicas need not reach
// the same node). The election is the store's: a first election, a
// takeover and the elected replica's periodic heartbeat are each a
// compare-and-set on the shared row (HAStore.ElectHALeader), whose answer
// the node adopts. Between heartbeats a node decides from memory, which is
// safe because a takeover needs the stored receive time to be a failover
// timeout old, and a node that accepts the elected replica writes it at
// least twice per failover timeout.
type HATracker struct {
	store  HAStore
	logger *slog.Logger

	mu      sync.Mutex
	leaders map[string]map[string]*haEntry // workspace -> cluster -> elected

	electedChanges *prometheus.CounterVec
	deduped        *prometheus.CounterVec
}

type haEntry struct {
	replica     string
	receivedAt  time.Time
	persistedAt time.Time
}

// NewHATracker returns a tracker; Load restores the elected replicas.
func NewHATracker(store HAStore, reg prometheus.Registerer, logger *slog.Logger) *HATracker {
	f := promauto.With(reg)
	return &HATracker{store: store, logger: logger, leaders: map[string]map[string]*haEntry{},
		electedChanges: f.NewCounterVec(prometheus.CounterOpts{Name: "kansoku_ha_elected_replica_changes_total",
			Help: "Times the elected replica of an HA cluster changed (failovers)."}, []string{"workspace", "cluster"}),
		deduped: f.NewCounterVec(prometheus.CounterOpts{Name: "kansoku_ha_deduped_samples_total",
			Help: "Samples from non-elected HA replicas, acknowledged and not stored."}, []string{"workspace", "cluster"}),
	}
}

// Load restores the elected replicas from the store.
func (h *HATracker) Load(ctx context.Context) error {
	all, err := h.store.ListHALeaders(ctx)
	if err != nil {
		return fmt.Errorf("load HA leaders: %w", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range all {
		m := h.leaders[l.WorkspaceID]
		if m == nil {
			m = map[string]*haEntry{}
			h.leaders[l.WorkspaceID] = m
		}
		m[l.Cluster] = &haEntry{replica: l.Replica, receivedAt: l.ReceivedAt, persistedAt: l.ReceivedAt}
	}
	return nil
}

// haLabels finds the cluster and replica labels of a request, from its
// first series only (the whole request is accepted or dropped as a unit).
func haLabels(req *prompb.WriteRequest, l *limits.Limits) (cluster, replica string) {
	if len(req.Timeseries) == 0 {
		return "", ""
	}
	for _, lp := range req.Timeseries[0].Labels {
		switch lp.Name {
		case l.HAClusterLabel:
			cluster = lp.Value
		case l.HAReplicaLabel:
			replica = lp.Value
		}
	}
	return cluster, replica
}

// check decides whether the request of replica of cluster is accepted.
// A non-nil *Error is either a 202 (not the elected replica: dropped) or a
// 400 (too many clusters).
func (h *HATracker) check(ctx context.Context, ws, cluster, replica string, samples int, l *limits.Limits, now time.Time) *Error {
	failover := time.Duration(l.HAFailoverTimeout)
	persistEvery := min(haPersistEvery, failover/2)
	h.mu.Lock()
	m := h.leaders[ws]
	if m == nil {
		m = map[string]*haEntry{}
		h.leaders[ws] = m
	}
	e, known := m[cluster]
	var prevReplica string
	if known {
		prevReplica = e.replica
	}
	switch {
	case known && e.replica == replica && now.Sub(e.persistedAt) < persistEvery:
		e.receivedAt = now
		h.mu.Unlock()
		return nil
	case known && e.replica != replica && now.Sub(e.receivedAt) < failover:
		elected := e.replica
		h.mu.Unlock()
		return h.dedup(ws, cluster, replica, elected, samples)
	case !known && l.HAMaxClusters > 0 && len(m) >= l.HAMaxClusters:
		h.mu.Unlock()
		return badData(ReasonTooManyHAClusters, "too many HA clusters (limit: %d): cluster %q is not tracked", l.HAMaxClusters, cluster)
	case known && e.replica == replica:
		// This request writes the heartbeat; the others meanwhile go on
		// from memory.
		e.persistedAt = now
	}
	h.mu.Unlock()

	// A first election, a takeover or a heartbeat: the store decides.
	// The strings alias the request buffer: copy them.
	cluster, replica = strings.Clone(cluster), strings.Clone(replica)
	candidate := metastore.HALeader{WorkspaceID: ws, Cluster: cluster, Replica: replica, ReceivedAt: now}
	elected, changed, err := h.store.ElectHALeader(ctx, candidate, now.Add(-failover))
	if err != nil {
		// Without the store this node decides alone, as one node would (no
		// other replica is fresh in its memory, or it would have refused
		// above): availability of the write path over a duplicate during
		// an outage.
		h.logger.Warn("HA election in the metadata store failed; deciding locally", "workspace", ws, "cluster", cluster, "err", err)
		elected, changed = candidate, prevReplica != replica
	}
	h.mu.Lock()
	if m = h.leaders[ws]; m == nil {
		m = map[string]*haEntry{}
		h.leaders[ws] = m
	}
	prev := m[cluster]
	entry := &haEntry{replica: elected.Replica, receivedAt: elected.ReceivedAt, persistedAt: elected.ReceivedAt}
	if elected.Replica == replica {
		entry.receivedAt, entry.persistedAt = now, now
	}
	m[cluster] = entry
	h.mu.Unlock()
	if changed {
		h.electedChanges.WithLabelValues(ws, cluster).Inc()
		if prev != nil && prev.replica != replica {
			h.logger.Info("HA failover", "workspace", ws, "cluster", cluster, "from", prev.replica, "to", replica)
		}
	}
	if elected.Replica != replica {
		return h.dedup(ws, cluster, replica, elected.Replica, samples)
	}
	return nil
}

func (h *HATracker) dedup(ws, cluster, replica, elected string, samples int) *Error {
	h.deduped.WithLabelValues(ws, cluster).Add(float64(samples))
	return &Error{Status: http.StatusAccepted, Msg: fmt.Sprintf("replicas did not match, rejecting sample: replica=%s, elected=%s", replica, elected)}
}

// Elected returns the elected replica of each cluster of a workspace.
func (h *HATracker) Elected(ws string) map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]string{}
	for c, e := range h.leaders[ws] {
		out[c] = e.replica
	}
	return out
}

// Cleanup forgets clusters silent for 30 minutes.
func (h *HATracker) Cleanup(ctx context.Context, now time.Time) {
	h.mu.Lock()
	for ws, m := range h.leaders {
		for c, e := range m {
			if now.Sub(e.receivedAt) > haIdle {
				delete(m, c)
			}
		}
		if len(m) == 0 {
			delete(h.leaders, ws)
		}
	}
	h.mu.Unlock()
	if _, err := h.store.DeleteIdleHALeaders(ctx, now.Add(-haIdle)); err != nil {
		h.logger.Warn("clean up HA leaders", "err", err)
	}
}

func (h *HATracker) forget(ws string) {
	h.mu.Lock()
	delete(h.leaders, ws)
	h.mu.Unlock()
	h.deduped.DeletePartialMatch(prometheus.Labels{"workspace": ws})
	h.electedChanges.DeletePartialMatch(prometheus.Labels{"workspace": ws})
}
