package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/testenv/pgtest"
)

var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// haNodes returns two HA trackers, each over its own handle on one
// database: two nodes.
func haNodes(t *testing.T, open func(t *testing.T) (*metastore.DB, *metastore.DB)) (*HATracker, *HATracker) {
	a, b := open(t)
	if err := a.CreateWorkspace(t.Context(), metastore.Workspace{ID: "ws-ha", ARN: "arn:ws-ha", Status: metastore.WorkspaceActive, RetentionDays: 1,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	return NewHATracker(a, prometheus.NewRegistry(), logger), NewHATracker(b, prometheus.NewRegistry(), logger)
}

func sqliteNodes(t *testing.T) (*metastore.DB, *metastore.DB) {
	path := filepath.Join(t.TempDir(), "kansoku.db")
	var dbs [2]*metastore.DB
	for i := range dbs {
		db, err := metastore.OpenSQLite(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs[0], dbs[1]
}

func postgresNodes(t *testing.T) (*metastore.DB, *metastore.DB) {
	cfg := metastore.DefaultConfig()
	cfg.Driver, cfg.DSN = metastore.DriverPostgres, pg.Get(t).NewDatabase(t)
	var dbs [2]*metastore.DB
	for i := range dbs {
		db, err := metastore.OpenPostgres(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs[0], dbs[1]
}

func TestHAAcrossNodes(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) (*metastore.DB, *metastore.DB){"sqlite": sqliteNodes, "postgres": postgresNodes} {
		t.Run(name, func(t *testing.T) {
			t.Run("replicas on different nodes", func(t *testing.T) { haReplicasOnTwoNodes(t, open) })
			t.Run("first requests at once", func(t *testing.T) { haFirstElectionRace(t, open) })
		})
	}
}

// haReplicasOnTwoNodes: the load balancer sends replica r1 to node A and
// r2 to node B. Only one is ever accepted, a failover happens when the
// elected one falls silent, and the old one coming back is refused.
func haReplicasOnTwoNodes(t *testing.T, open func(t *testing.T) (*metastore.DB, *metastore.DB)) {
	ctx := t.Context()
	nodeA, nodeB := haNodes(t, open)
	l := limits.Defaults()
	t0 := time.Now().Truncate(time.Millisecond)
	accepted := func(h *HATracker, replica string, at time.Duration) bool {
		t.Helper()
		e := h.check(ctx, "ws-ha", "prod", replica, 10, &l, t0.Add(at))
		if e != nil && e.Status != http.StatusAccepted {
			t.Fatalf("%s at +%v: %v", replica, at, e)
		}
		return e == nil
	}
	if !accepted(nodeA, "r1", 0) {
		t.Fatal("the first replica heard is elected")
	}
	// Both keep sending every 5 s for 60 s: node B, which never saw r1,
	// refuses r2 all along, because r1 is alive on node A.
	for at := time.Second; at <= 60*time.Second; at += 5 * time.Second {
		if !accepted(nodeA, "r1", at) {
			t.Fatalf("r1 refused at +%v", at)
		}
		if accepted(nodeB, "r2", at+time.Second) {
			t.Fatalf("r2 accepted at +%v while r1 is alive on the other node", at+time.Second)
		}
	}
	// r1 falls silent after +56 s; r2 takes over once the failover
	// timeout has passed since r1's last stored heartbeat.
	var takeover time.Duration
	for at := 62 * time.Second; at <= 120*time.Second; at += time.Second {
		if accepted(nodeB, "r2", at) {
			takeover = at
			break
		}
	}
	if takeover == 0 || takeover < 56*time.Second+30*time.Second-haPersistEvery || takeover > 56*time.Second+30*time.Second+time.Second {
		t.Fatalf("takeover at +%v: want 30 s after r1's last stored heartbeat (between +71 s and +87 s)", takeover)
	}
	// r1 comes back to node A, which still thinks r1 is elected.
	if accepted(nodeA, "r1", takeover+time.Second) {
		t.Fatalf("the old leader is accepted on its node after the takeover")
	}
	if got := nodeA.Elected("ws-ha")["prod"]; got != "r2" {
		t.Fatalf("node A adopted %q", got)
	}
}

// haFirstElectionRace: a new cluster's replicas reach both nodes at once;
// one replica is elected, on both.
func haFirstElectionRace(t *testing.T, open func(t *testing.T) (*metastore.DB, *metastore.DB)) {
	ctx := t.Context()
	nodeA, nodeB := haNodes(t, open)
	l := limits.Defaults()
	now := time.Now()
	for round := 0; round < 5; round++ {
		cluster := fmt.Sprintf("c%d", round)
		var mu sync.Mutex
		won := map[string]bool{}
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			node := nodeA
			if i%2 == 1 {
				node = nodeB
			}
			replica := fmt.Sprintf("r%d", i)
			wg.Go(func() {
				if e := node.check(ctx, "ws-ha", cluster, replica, 1, &l, now); e == nil {
					mu.Lock()
					won[replica] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("%s: accepted %v, want one replica", cluster, won)
		}
		if a, b := nodeA.Elected("ws-ha")[cluster], nodeB.Elected("ws-ha")[cluster]; a != b || !won[a] {
			t.Fatalf("%s: node A elected %q, node B %q, accepted %v", cluster, a, b, won)
		}
	}
}

// failingHAStore is a metadata store that cannot be reached.
type failingHAStore struct{}

func (failingHAStore) ListHALeaders(context.Context) ([]metastore.HALeader, error) { return nil, nil }
func (failingHAStore) ElectHALeader(context.Context, metastore.HALeader, time.Time) (metastore.HALeader, bool, error) {
	return metastore.HALeader{}, false, errors.New("connection refused")
}
func (failingHAStore) DeleteIdleHALeaders(context.Context, time.Time) (int64, error) { return 0, nil }

// Without the store, a node decides as a single node would: the write path
// stays open and still deduplicates what it sees.
func TestHAWithoutTheStore(t *testing.T) {
	h := NewHATracker(failingHAStore{}, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	l := limits.Defaults()
	now := time.Now()
	if e := h.check(t.Context(), "ws", "c", "r1", 1, &l, now); e != nil {
		t.Fatalf("r1: %v", e)
	}
	if e := h.check(t.Context(), "ws", "c", "r2", 1, &l, now.Add(time.Second)); e == nil || e.Status != http.StatusAccepted {
		t.Fatalf("r2 while r1 is alive: %v", e)
	}
	if e := h.check(t.Context(), "ws", "c", "r1", 1, &l, now.Add(20*time.Second)); e != nil {
		t.Fatalf("r1's heartbeat: %v", e)
	}
	if e := h.check(t.Context(), "ws", "c", "r2", 1, &l, now.Add(51*time.Second)); e != nil {
		t.Fatalf("r2 after r1's silence: %v", e)
	}
}
