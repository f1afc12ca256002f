package metastore_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// contractGuardrails: limit overrides and HA elections (guardrails.go).
func contractGuardrails(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	mustWorkspace(t, db, "ws-g")
	mustWorkspace(t, db, "ws-g2")
	if o, err := db.GetLimitOverrides(ctx, "ws-g"); err != nil || o != "{}" {
		t.Fatalf("none: %q %v", o, err)
	}
	for _, o := range []string{`{"ingestion_rate":1}`, `{"ingestion_rate":2}`} {
		if err := db.SetLimitOverrides(ctx, "ws-g", o, now); err != nil {
			t.Fatal(err)
		}
	}
	if o, _ := db.GetLimitOverrides(ctx, "ws-g"); o != `{"ingestion_rate":2}` {
		t.Fatalf("replaced: %s", o)
	}
	next, err := db.UpdateLimitOverrides(ctx, "ws-g2", now.Add(time.Minute), func(cur string) (string, error) {
		if cur != "{}" {
			t.Errorf("update of none sees %q", cur)
		}
		return `{"max_series_per_metric":7}`, nil
	})
	if err != nil || next != `{"max_series_per_metric":7}` {
		t.Fatalf("update: %q %v", next, err)
	}
	refuse := errors.New("refused")
	if _, err := db.UpdateLimitOverrides(ctx, "ws-g2", now, func(string) (string, error) { return "", refuse }); !errors.Is(err, refuse) {
		t.Fatalf("the update's error: %v", err)
	}
	all, err := db.ListLimitOverrides(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("list: %+v %v", all, err)
	}
	for _, l := range all {
		if l.WorkspaceID == "ws-g2" && (l.Overrides != `{"max_series_per_metric":7}` || !l.UpdatedAt.Equal(now.Add(time.Minute))) {
			t.Fatalf("ws-g2 after a refused update: %+v", l)
		}
	}
	if err := db.DeleteLimitOverrides(ctx, "ws-g"); err != nil {
		t.Fatal(err)
	}
	if o, _ := db.GetLimitOverrides(ctx, "ws-g"); o != "{}" {
		t.Fatalf("after delete: %s", o)
	}

	// HA elections: a compare-and-set on one row per cluster.
	failover := 30 * time.Second
	elect := func(replica string, at time.Time) (string, bool) {
		t.Helper()
		l, changed, err := db.ElectHALeader(ctx, metastore.HALeader{WorkspaceID: "ws-g", Cluster: "c1", Replica: replica, ReceivedAt: at}, at.Add(-failover))
		if err != nil {
			t.Fatal(err)
		}
		return l.Replica, changed
	}
	steps := []struct {
		replica     string
		at          time.Duration
		wantElected string
		wantChanged bool
	}{
		{"r1", 0, "r1", true},                  // first election
		{"r2", 10 * time.Second, "r1", false},  // r1 was heard 10 s ago
		{"r1", 20 * time.Second, "r1", false},  // heartbeat
		{"r2", 45 * time.Second, "r1", false},  // 25 s after the heartbeat
		{"r1", 15 * time.Second, "r1", false},  // an old heartbeat does not move time back
		{"r2", 51 * time.Second, "r2", true},   // 31 s of silence: failover
		{"r1", 52 * time.Second, "r2", false},  // r1 is back, too late
		{"r2", 200 * time.Second, "r2", false}, // r2 after a long pause is still elected
	}
	for i, s := range steps {
		if got, changed := elect(s.replica, now.Add(s.at)); got != s.wantElected || changed != s.wantChanged {
			t.Fatalf("step %d (%s at +%v): elected %s changed=%v, want %s changed=%v", i, s.replica, s.at, got, changed, s.wantElected, s.wantChanged)
		}
	}
	if _, _, err := db.ElectHALeader(ctx, metastore.HALeader{WorkspaceID: "ws-g2", Cluster: "c1", Replica: "x", ReceivedAt: now}, now); err != nil {
		t.Fatal(err)
	}
	leaders, err := db.ListHALeaders(ctx)
	if err != nil || len(leaders) != 2 {
		t.Fatalf("leaders: %+v %v", leaders, err)
	}
	for _, l := range leaders {
		if l.WorkspaceID == "ws-g" && (l.Replica != "r2" || !l.ReceivedAt.Equal(now.Add(200*time.Second))) {
			t.Fatalf("stored: %+v", l)
		}
	}
	if n, err := db.DeleteIdleHALeaders(ctx, now.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("idle: %d %v", n, err)
	}
}

// contractTransactions: InTx commits or rolls back as a whole.
func contractTransactions(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	ws := func(id, token string) metastore.Workspace {
		return metastore.Workspace{ID: id, ARN: "arn:" + id, Status: metastore.WorkspaceCreating, ClientToken: token, RetentionDays: 1, CreatedAt: now, UpdatedAt: now}
	}
	boom := errors.New("boom")
	err := db.InTx(ctx, func(q *metastore.Queries) error {
		if err := q.CreateWorkspace(ctx, ws("ws-rolled-back", "")); err != nil {
			return err
		}
		if err := q.SetTags(ctx, "arn:ws-rolled-back", map[string]string{"k": "v"}); err != nil {
			return err
		}
		// The transaction sees its own writes.
		if _, err := q.GetWorkspace(ctx, "ws-rolled-back"); err != nil {
			return fmt.Errorf("own write not visible: %w", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("fn's error: %v", err)
	}
	if _, err := db.GetWorkspace(ctx, "ws-rolled-back"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("rolled back workspace: %v", err)
	}
	if tags, _ := db.Tags(ctx, "arn:ws-rolled-back"); len(tags) != 0 {
		t.Fatalf("rolled back tags: %v", tags)
	}
	// A conflict inside a transaction surfaces as ErrConflict and takes
	// the transaction's earlier writes with it.
	if err := db.CreateWorkspace(ctx, ws("ws-1", "tok")); err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(q *metastore.Queries) error {
		if err := q.CreateWorkspace(ctx, ws("ws-2", "")); err != nil {
			return err
		}
		return q.CreateWorkspace(ctx, ws("ws-3", "tok"))
	})
	if !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("conflict in a transaction: %v", err)
	}
	if n, _ := db.CountWorkspaces(ctx); n != 1 {
		t.Fatalf("%d workspaces after the failed transaction, want 1", n)
	}
	if err := db.InTx(ctx, func(q *metastore.Queries) error { return q.CreateWorkspace(ctx, ws("ws-4", "")) }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetWorkspace(ctx, "ws-4"); err != nil {
		t.Fatalf("committed: %v", err)
	}
	if v, err := db.SchemaVersion(ctx); err != nil || v != metastore.SchemaVersions {
		t.Fatalf("schema version %d %v, want %d", v, err, metastore.SchemaVersions)
	}
}

// A sharedOpener opens n handles at once on one new database, as n nodes
// starting together would.
type sharedOpener func(t *testing.T, n int) []*metastore.DB

// RunConcurrency is what several nodes on one database must be able to
// rely on: every handle is another node.
func RunConcurrency(t *testing.T, open sharedOpener) {
	t.Run("leases", func(t *testing.T) { concurrencyLeases(t, open) })
	t.Run("migrations by nodes starting at once", func(t *testing.T) {
		for round := 0; round < 3; round++ {
			dbs := open(t, 4)
			for _, db := range dbs {
				if v, err := db.SchemaVersion(t.Context()); err != nil || v != metastore.SchemaVersions {
					t.Fatalf("schema version %d %v", v, err)
				}
			}
			if n := metastore.CountMigrationRecords(t, dbs[0]); n != metastore.SchemaVersions {
				t.Fatalf("%d migrations recorded, want each of %d once", n, metastore.SchemaVersions)
			}
		}
	})

	t.Run("workspace quota", func(t *testing.T) {
		ctx, now := t.Context(), contractNow()
		dbs := open(t, 2)
		const quota, tries = 5, 8
		errQuota := errors.New("quota")
		var created, refused, unexpected countMap
		// Every first attempt counts before any inserts (where the engine
		// lets transactions run side by side): the race at its worst.
		var counted atomic.Int32
		allCounted := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < tries; i++ {
			db := dbs[i%2]
			wg.Go(func() {
				id := fmt.Sprintf("ws-%d", i)
				first := true
				err := db.InTx(ctx, func(q *metastore.Queries) error {
					n, err := q.CountWorkspaces(ctx)
					if err != nil {
						return err
					}
					if first {
						first = false
						if counted.Add(1) == tries {
							close(allCounted)
						}
						select {
						case <-allCounted:
						case <-time.After(100 * time.Millisecond):
						}
					}
					if n >= quota {
						return errQuota
					}
					return q.CreateWorkspace(ctx, metastore.Workspace{ID: id, ARN: "arn:" + id, Status: metastore.WorkspaceCreating,
						RetentionDays: 1, CreatedAt: now, UpdatedAt: now})
				})
				switch {
				case err == nil:
					created.add(id)
				case errors.Is(err, errQuota):
					refused.add(id)
				default:
					unexpected.add(fmt.Sprint(err))
				}
			})
		}
		wg.Wait()
		if unexpected.n() > 0 {
			t.Fatalf("errors other than the quota: %v", unexpected.list())
		}
		if n, _ := dbs[1].CountWorkspaces(ctx); n != quota || created.n() != quota || refused.n() != tries-quota {
			t.Fatalf("%d workspaces (%d created, %d refused) for a quota of %d", n, created.n(), refused.n(), quota)
		}
	})

	t.Run("client token", func(t *testing.T) {
		ctx, now := t.Context(), contractNow()
		dbs := open(t, 2)
		var created, conflicts countMap
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Go(func() {
				id := fmt.Sprintf("ws-%d", i)
				err := dbs[i%2].InTx(ctx, func(q *metastore.Queries) error {
					if _, err := q.CountWorkspaces(ctx); err != nil {
						return err
					}
					return q.CreateWorkspace(ctx, metastore.Workspace{ID: id, ARN: "arn:" + id, Status: metastore.WorkspaceCreating,
						ClientToken: "same", RetentionDays: 1, CreatedAt: now, UpdatedAt: now})
				})
				switch {
				case err == nil:
					created.add(id)
				case errors.Is(err, metastore.ErrConflict):
					conflicts.add(id)
				default:
					t.Errorf("%s: %v", id, err)
				}
			})
		}
		wg.Wait()
		if created.n() != 1 || conflicts.n() != 5 {
			t.Fatalf("one token: %d created, %d conflicts", created.n(), conflicts.n())
		}
	})

	t.Run("HA election", func(t *testing.T) {
		ctx, now := t.Context(), contractNow()
		dbs := open(t, 2)
		mustWorkspace(t, dbs[0], "ws-ha")
		for round := 0; round < 5; round++ {
			cluster := fmt.Sprintf("c%d", round)
			var winners countMap
			elected := make([]string, 6)
			var wg sync.WaitGroup
			for i := range elected {
				wg.Go(func() {
					replica := fmt.Sprintf("r%d", i)
					l, changed, err := dbs[i%2].ElectHALeader(ctx, metastore.HALeader{WorkspaceID: "ws-ha", Cluster: cluster, Replica: replica, ReceivedAt: now},
						now.Add(-30*time.Second))
					if err != nil {
						t.Error(err)
						return
					}
					elected[i] = l.Replica
					if changed {
						winners.add(replica)
					}
				})
			}
			wg.Wait()
			if winners.n() != 1 {
				t.Fatalf("%s: %d replicas won the election: %v", cluster, winners.n(), winners.list())
			}
			for i, e := range elected {
				if e != winners.list()[0] {
					t.Fatalf("%s: caller %d was told %s is elected, the winner is %s", cluster, i, e, winners.list()[0])
				}
			}
		}
	})

	t.Run("limit overrides merged, not lost", func(t *testing.T) {
		ctx, now := t.Context(), contractNow()
		dbs := open(t, 2)
		mustWorkspace(t, dbs[0], "ws-lim")
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Go(func() {
				_, err := dbs[i%2].UpdateLimitOverrides(ctx, "ws-lim", now, func(cur string) (string, error) {
					return appendJSONKey(cur, fmt.Sprintf("k%d", i)), nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got, _ := dbs[1].GetLimitOverrides(ctx, "ws-lim")
		for i := 0; i < 6; i++ {
			if !containsKey(got, fmt.Sprintf("k%d", i)) {
				t.Fatalf("k%d lost: %s", i, got)
			}
		}
	})

	t.Run("unique names", func(t *testing.T) {
		ctx, now := t.Context(), contractNow()
		dbs := open(t, 2)
		var created, conflicts countMap
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Go(func() {
				id := fmt.Sprintf("AIDA%d", i)
				err := dbs[i%2].CreatePrincipal(ctx, metastore.Principal{ID: id, Name: "alice", ARN: "arn:alice", CreatedAt: now})
				switch {
				case err == nil:
					created.add(id)
				case errors.Is(err, metastore.ErrConflict):
					conflicts.add(id)
				default:
					t.Errorf("%s: %v", id, err)
				}
			})
		}
		wg.Wait()
		if created.n() != 1 || conflicts.n() != 5 {
			t.Fatalf("one name: %d created, %d conflicts", created.n(), conflicts.n())
		}
	})
}

// countMap collects names from goroutines.
type countMap struct {
	mu    sync.Mutex
	names []string
}

func (c *countMap) add(s string) { c.mu.Lock(); c.names = append(c.names, s); c.mu.Unlock() }
func (c *countMap) n() int       { c.mu.Lock(); defer c.mu.Unlock(); return len(c.names) }
func (c *countMap) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.names...)
}

// appendJSONKey adds "key":1 to a JSON object's text.
func appendJSONKey(obj, key string) string {
	if obj == "{}" {
		return `{"` + key + `":1}`
	}
	return obj[:len(obj)-1] + `,"` + key + `":1}`
}

func containsKey(obj, key string) bool { return strings.Contains(obj, `"`+key+`":`) }
