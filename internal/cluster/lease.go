// Package cluster is what lets several Kansoku nodes share one metadata
// store and one sample store: a registry of live nodes, leases that give
// each per-workspace or per-integration singleton (rule evaluation, the
// Alertmanager's dispatch, an AWS integration's polls, the reconcilers)
// exactly one owner at a time, and the fencing that stops an owner before
// another can start.
//
// A lease is a row in the metadata store (metastore: table leases) with a
// holder, an epoch and an expiry on the store's clock. A node takes a
// lease that is free or expired, renews its own well before expiry, and
// stops the work a lease guards as soon as it cannot be sure it still holds
// it: when a renewal has not succeeded within TTL − Margin of the last
// successful one, measured on its own monotonic clock from before that
// renewal was sent. The store lets another node take the lease only after
// the expiry, TTL after that renewal reached it, so the two never run at
// once as long as clocks advance at about the same rate (Margin absorbs
// the difference). The epoch grows each time the holder changes: state
// written under a lease carries it, so a write from a former holder is
// refused (fencing tokens).
package cluster

import (
	"context"
	"time"
)

// LeaseStore keeps leases (metastore.DB implements it on SQLite and
// PostgreSQL).
type LeaseStore interface {
	// AcquireLease takes name for holder until the store's now + ttl, or
	// renews it, if it is free, expired, or already holder's. It returns
	// the lease's epoch and whether holder now holds it.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (epoch int64, held bool, err error)
	// ReleaseLease gives name up if holder holds it.
	ReleaseLease(ctx context.Context, name, holder string) error
	// Heartbeat records that node is alive and reachable at url.
	Heartbeat(ctx context.Context, node, url string) error
	// LiveNodes lists the nodes whose last heartbeat is within ttl on the
	// store's clock.
	LiveNodes(ctx context.Context, ttl time.Duration) ([]NodeInfo, error)
}

// NodeInfo is a live node.
type NodeInfo struct {
	ID  string
	URL string
}

// Timing of leases and heartbeats.
type Timing struct {
	// TTL is how long a lease holds without renewal, and how long a node
	// counts as live without a heartbeat.
	TTL time.Duration
	// Renew is how often leases are renewed and heartbeats sent.
	Renew time.Duration
	// Margin is taken off TTL for the local deadline after which a holder
	// stops its work (clock rate differences, the store's latency).
	Margin time.Duration
}

// DefaultTiming is the lease timing: a dead node's work restarts elsewhere within TTL + Renew
// (about 20 s).
func DefaultTiming() Timing {
	return Timing{TTL: 15 * time.Second, Renew: 3 * time.Second, Margin: 3 * time.Second}
}

// Validate checks the timing is coherent.
func (t Timing) Validate() error {
	if t.TTL <= 0 || t.Renew <= 0 || t.Margin < 0 || t.Renew*2 >= t.TTL-t.Margin {
		return errTiming
	}
	return nil
}

type timingError string

func (e timingError) Error() string { return string(e) }

const errTiming = timingError("cluster: lease timing must have renew*2 < ttl - margin, all positive")
