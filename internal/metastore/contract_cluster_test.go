package metastore_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// contractCluster: leases, heartbeats and the Alertmanager state.
func contractCluster(t *testing.T, open opener) {
	t.Run("leases", func(t *testing.T) {
		ctx, db := t.Context(), open(t)
		e, held, err := db.AcquireLease(ctx, "workspace/ws-1", "node-a", time.Hour)
		if err != nil || !held || e != 1 {
			t.Fatalf("first acquire: epoch %d held %v err %v", e, held, err)
		}
		if e, held, err = db.AcquireLease(ctx, "workspace/ws-1", "node-a", time.Hour); err != nil || !held || e != 1 {
			t.Fatalf("renewal: epoch %d held %v err %v", e, held, err)
		}
		if _, held, err = db.AcquireLease(ctx, "workspace/ws-1", "node-b", time.Hour); err != nil || held {
			t.Fatalf("another node took a live lease: held %v err %v", held, err)
		}
		// A released lease is free at once, and the epoch moves on.
		if err := db.ReleaseLease(ctx, "workspace/ws-1", "node-a"); err != nil {
			t.Fatal(err)
		}
		if e, held, err = db.AcquireLease(ctx, "workspace/ws-1", "node-b", time.Hour); err != nil || !held || e != 2 {
			t.Fatalf("after release: epoch %d held %v err %v", e, held, err)
		}
		// Releasing someone else's lease does nothing.
		if err := db.ReleaseLease(ctx, "workspace/ws-1", "node-a"); err != nil {
			t.Fatal(err)
		}
		if _, held, _ = db.AcquireLease(ctx, "workspace/ws-1", "node-a", time.Hour); held {
			t.Fatal("node-a released node-b's lease")
		}
		// An expired lease can be taken.
		if _, held, err = db.AcquireLease(ctx, "awsint/i-1", "node-a", 50*time.Millisecond); err != nil || !held {
			t.Fatalf("acquire: %v %v", held, err)
		}
		time.Sleep(100 * time.Millisecond)
		if e, held, err = db.AcquireLease(ctx, "awsint/i-1", "node-b", time.Hour); err != nil || !held || e != 2 {
			t.Fatalf("taking an expired lease: epoch %d held %v err %v", e, held, err)
		}
	})

	t.Run("heartbeats", func(t *testing.T) {
		ctx, db := t.Context(), open(t)
		if err := db.Heartbeat(ctx, "node-a", "http://a"); err != nil {
			t.Fatal(err)
		}
		if err := db.Heartbeat(ctx, "node-b", "http://b-old"); err != nil {
			t.Fatal(err)
		}
		if err := db.Heartbeat(ctx, "node-b", "http://b"); err != nil {
			t.Fatal(err)
		}
		live, err := db.LiveNodes(ctx, time.Minute)
		if err != nil || fmt.Sprint(live) != "[{node-a http://a} {node-b http://b}]" {
			t.Fatalf("live nodes %v %v", live, err)
		}
		time.Sleep(60 * time.Millisecond)
		if err := db.Heartbeat(ctx, "node-b", "http://b"); err != nil {
			t.Fatal(err)
		}
		live, err = db.LiveNodes(ctx, 50*time.Millisecond)
		if err != nil || fmt.Sprint(live) != "[{node-b http://b}]" {
			t.Fatalf("live nodes within 50ms: %v %v", live, err)
		}
	})

	t.Run("alertmanager state", func(t *testing.T) {
		ctx, db := t.Context(), open(t)
		mustWorkspace(t, db, "ws-am")
		if got, err := db.LoadState(ctx, "ws-am", "silences"); err != nil || got != nil {
			t.Fatalf("no state yet: %q %v", got, err)
		}
		if err := db.SaveState(ctx, "ws-am", "silences", 1, []byte("one")); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveState(ctx, "ws-am", "silences", 2, []byte("two")); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveState(ctx, "ws-am", "silences", 1, []byte("stale")); !errors.Is(err, metastore.ErrFenced) {
			t.Fatalf("a save of an older epoch: %v, want ErrFenced", err)
		}
		if got, err := db.LoadState(ctx, "ws-am", "silences"); err != nil || !bytes.Equal(got, []byte("two")) {
			t.Fatalf("state %q %v, want two", got, err)
		}
		if err := db.SaveState(ctx, "ws-am", "nflog", 2, []byte{}); err != nil {
			t.Fatal(err)
		}
		if got, err := db.LoadState(ctx, "ws-am", "nflog"); err != nil || len(got) != 0 {
			t.Fatalf("an empty state loads as %q %v", got, err)
		}
		// A workspace that does not exist (deleted meanwhile) saves nothing.
		if err := db.SaveState(ctx, "ws-gone", "silences", 1, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.LoadState(ctx, "ws-gone", "silences"); got != nil {
			t.Fatalf("state saved for a workspace that does not exist: %q", got)
		}
		if err := db.DeleteState(ctx, "ws-am"); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.LoadState(ctx, "ws-am", "silences"); got != nil {
			t.Fatalf("deleted state loads as %q", got)
		}
	})
}

// concurrencyLeases: nodes racing for the same leases; each lease has one
// holder and every epoch one holder.
func concurrencyLeases(t *testing.T, open sharedOpener) {
	ctx := t.Context()
	dbs := open(t, 4)
	const leases = 10
	var mu sync.Mutex
	holders := map[string][]string{}
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			for l := range leases {
				name := fmt.Sprintf("workspace/ws-%d", l)
				_, held, err := db.AcquireLease(ctx, name, fmt.Sprintf("node-%d", i), time.Hour)
				if err != nil {
					t.Errorf("node %d: %v", i, err)
					return
				}
				if held {
					mu.Lock()
					holders[name] = append(holders[name], fmt.Sprintf("node-%d", i))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for l := range leases {
		name := fmt.Sprintf("workspace/ws-%d", l)
		if len(holders[name]) != 1 {
			t.Errorf("%s held by %v, want exactly one node", name, holders[name])
		}
	}
}
