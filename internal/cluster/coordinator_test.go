package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/testenv/fakeclock"
)

// memStore is a LeaseStore in memory on the test's clock.
type memStore struct {
	clock *fakeclock.Clock
	mu    sync.Mutex
	lease map[string]*memLease
	beats map[string]memBeat
	down  map[string]bool // nodes whose calls fail (a partition)
}

type memLease struct {
	holder  string
	epoch   int64
	expires time.Time
}

type memBeat struct {
	url string
	at  time.Time
}

func newMemStore(c *fakeclock.Clock) *memStore {
	return &memStore{clock: c, lease: map[string]*memLease{}, beats: map[string]memBeat{}, down: map[string]bool{}}
}

var errPartition = errors.New("store unreachable")

func (m *memStore) AcquireLease(_ context.Context, name, holder string, ttl time.Duration) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down[holder] {
		return 0, false, errPartition
	}
	now := m.clock.Now()
	l, ok := m.lease[name]
	switch {
	case !ok:
		m.lease[name] = &memLease{holder: holder, epoch: 1, expires: now.Add(ttl)}
		return 1, true, nil
	case l.holder == holder:
		l.expires = now.Add(ttl)
		return l.epoch, true, nil
	case !now.Before(l.expires):
		l.holder, l.epoch, l.expires = holder, l.epoch+1, now.Add(ttl)
		return l.epoch, true, nil
	}
	return l.epoch, false, nil
}

func (m *memStore) ReleaseLease(_ context.Context, name, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down[holder] {
		return errPartition
	}
	if l, ok := m.lease[name]; ok && l.holder == holder {
		l.expires = time.Time{}
	}
	return nil
}

func (m *memStore) Heartbeat(_ context.Context, node, url string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down[node] {
		return errPartition
	}
	m.beats[node] = memBeat{url: url, at: m.clock.Now()}
	return nil
}

func (m *memStore) LiveNodes(_ context.Context, ttl time.Duration) ([]NodeInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []NodeInfo
	for id, b := range m.beats {
		if m.clock.Now().Sub(b.at) < ttl {
			out = append(out, NodeInfo{ID: id, URL: b.url})
		}
	}
	return out, nil
}

func (m *memStore) setDown(node string, down bool) {
	m.mu.Lock()
	m.down[node] = down
	m.mu.Unlock()
}

// runLog records, per key, which node runs it, and fails on overlap.
type runLog struct {
	t       *testing.T
	mu      sync.Mutex
	running map[string]string
}

func (r *runLog) group(node string, keys []string) *Group {
	return &Group{
		Name: "workspace",
		Keys: func(context.Context) ([]string, error) { return keys, nil },
		Acquired: func(key string, _ int64) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if other, ok := r.running[key]; ok && other != node {
				r.t.Errorf("%s starts %s while %s still runs it", node, key, other)
			}
			r.running[key] = node
		},
		Lost: func(key string) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.running[key] == node {
				delete(r.running, key)
			}
		},
	}
}

func (r *runLog) owners() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for k, v := range r.running {
		out[k] = v
	}
	return out
}

func newNode(t *testing.T, id string, st LeaseStore, c *fakeclock.Clock, log *runLog, keys []string) *Coordinator {
	t.Helper()
	co, err := NewCoordinator(CoordinatorOptions{Store: st, Self: NodeInfo{ID: id, URL: "http://" + id}, Timing: DefaultTiming(), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	co.AddGroup(log.group(id, keys))
	return co
}

func TestEveryKeyHasExactlyOneOwner(t *testing.T) {
	c := fakeclock.New(time.Unix(1e9, 0))
	st := newMemStore(c)
	keys := make([]string, 20)
	for i := range keys {
		keys[i] = fmt.Sprintf("ws-%02d", i)
	}
	log := &runLog{t: t, running: map[string]string{}}
	a, b := newNode(t, "a", st, c, log, keys), newNode(t, "b", st, c, log, keys)
	ctx := context.Background()
	for range 3 { // the first passes see a partial membership
		a.pass(ctx)
		b.pass(ctx)
		c.Advance(3 * time.Second)
	}
	owners := log.owners()
	if len(owners) != len(keys) {
		t.Fatalf("%d of %d keys have an owner: %v", len(owners), len(keys), owners)
	}
	count := map[string]int{}
	for _, k := range keys {
		n := owners[k]
		count[n]++
		if a.Owns("workspace", k) == b.Owns("workspace", k) {
			t.Errorf("%s: a owns %v, b owns %v", k, a.Owns("workspace", k), b.Owns("workspace", k))
		}
	}
	if count["a"] == 0 || count["b"] == 0 {
		t.Errorf("keys not spread over both nodes: %v", count)
	}
}

func TestDeadNodesKeysMoveAfterTheLeaseExpires(t *testing.T) {
	c := fakeclock.New(time.Unix(1e9, 0))
	st := newMemStore(c)
	keys := []string{"ws-1", "ws-2", "ws-3", "ws-4", "ws-5", "ws-6"}
	log := &runLog{t: t, running: map[string]string{}}
	a, b := newNode(t, "a", st, c, log, keys), newNode(t, "b", st, c, log, keys)
	ctx := context.Background()
	for range 3 {
		a.pass(ctx)
		b.pass(ctx)
		c.Advance(3 * time.Second)
	}
	var bKeys []string
	for k, n := range log.owners() {
		if n == "b" {
			bKeys = append(bKeys, k)
		}
	}
	if len(bKeys) == 0 {
		t.Fatal("b owns nothing")
	}
	// b dies (kill -9: no release, no more passes). Its work stops with
	// the process; the log forgets it.
	log.mu.Lock()
	for _, k := range bKeys {
		delete(log.running, k)
	}
	log.mu.Unlock()
	died := c.Now().Add(-3 * time.Second) // b's last pass, its last renewal
	moved := time.Duration(0)
	for step := 0; step < 20 && moved == 0; step++ {
		c.Advance(time.Second)
		a.pass(ctx)
		all := true
		for _, k := range bKeys {
			all = all && a.Owns("workspace", k)
		}
		if all {
			moved = c.Now().Sub(died)
		}
	}
	tm := DefaultTiming()
	if moved == 0 || moved > tm.TTL+tm.Renew {
		t.Fatalf("b's keys moved to a after %v, want within %v", moved, tm.TTL+tm.Renew)
	}
	if moved < tm.TTL {
		t.Fatalf("a took b's keys after %v, before b's leases expired (%v)", moved, tm.TTL)
	}
}

func TestPartitionedOwnerStopsBeforeAnotherStarts(t *testing.T) {
	c := fakeclock.New(time.Unix(1e9, 0))
	st := newMemStore(c)
	keys := []string{"ws-1", "ws-2", "ws-3", "ws-4"}
	log := &runLog{t: t, running: map[string]string{}}
	a, b := newNode(t, "a", st, c, log, keys), newNode(t, "b", st, c, log, keys)
	ctx := context.Background()
	for range 3 {
		a.pass(ctx)
		b.pass(ctx)
		c.Advance(3 * time.Second)
	}
	// a loses the store but keeps running: it must stop its keys on its
	// own before b may take them (the runLog fails the test on overlap).
	st.setDown("a", true)
	for range 30 {
		c.Advance(time.Second)
		a.pass(ctx)
		a.enforceDeadlines()
		b.pass(ctx)
	}
	for _, k := range keys {
		if a.Owns("workspace", k) {
			t.Errorf("partitioned a still owns %s", k)
		}
		if !b.Owns("workspace", k) {
			t.Errorf("b did not take %s", k)
		}
	}
	// a comes back: keys rebalance without overlap.
	st.setDown("a", false)
	for range 10 {
		c.Advance(3 * time.Second)
		a.pass(ctx)
		b.pass(ctx)
	}
	if n := len(log.owners()); n != len(keys) {
		t.Fatalf("after the partition healed %d of %d keys have an owner", n, len(keys))
	}
}

func TestEverythingOwnsEverything(t *testing.T) {
	var o Ownership = Everything{}
	if !o.Owns("workspace", "ws-1") || o.Epoch("workspace", "ws-1") == 0 {
		t.Fatal("the single node must own every key")
	}
}

func TestTimingValidate(t *testing.T) {
	if err := DefaultTiming().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Timing{TTL: 5 * time.Second, Renew: 3 * time.Second, Margin: time.Second}).Validate(); err == nil {
		t.Fatal("renewing every 3s with a 4s deadline accepted")
	}
}
