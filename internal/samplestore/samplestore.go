// Package samplestore names what Kansoku needs of the store that holds a
// workspace's samples, so that the embedded default (internal/tenantdb,
// one Prometheus TSDB per workspace) and the scale-out store
// (internal/cortex, one Cortex tenant per workspace) are interchangeable.
// Both pass one contract suite (storetest.Run).
//
// Consumers declare the narrower interface they need (ingest.Storage,
// query.Storage, ruler.Storage, usage.Storage, workspace.Storage); Store
// is their union, what the composition root builds.
package samplestore

import (
	"context"
	"time"

	"github.com/prometheus/prometheus/storage"
)

// Store holds the samples of every workspace.
type Store interface {
	// Open makes a workspace's storage ready, with its retention.
	Open(ws string, retention time.Duration) error
	// Drop deletes a workspace's samples (for good: ids are not reused).
	Drop(ws string) error
	// SetRetention changes how long a workspace's samples are kept.
	SetRetention(ws string, retention time.Duration) error
	// Appender starts a transaction on a workspace: what Commit returns nil
	// for is durable. A sample older than the last stored one of its series
	// is refused with storage.ErrOutOfOrderSample, a different value at a
	// stored timestamp with storage.ErrDuplicateSampleForTimestamp or
	// ErrOutOfOrderSample, and one older than the store accepts with
	// storage.ErrOutOfBounds — by Append or by Commit.
	Appender(ctx context.Context, ws string) (storage.Appender, error)
	// Querier and ChunkQuerier read a workspace's samples in [mint, maxt].
	Querier(ws string, mint, maxt int64) (storage.Querier, error)
	ChunkQuerier(ws string, mint, maxt int64) (storage.ChunkQuerier, error)
	// HeadSeries is the number of a workspace's series in memory (its
	// active series).
	HeadSeries(ws string) (uint64, error)
}
