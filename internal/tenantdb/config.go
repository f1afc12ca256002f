package tenantdb

import (
	"fmt"
	"math/bits"

	"github.com/prometheus/prometheus/tsdb/chunks"

	"github.com/kansoku/kansoku/internal/cliflag"
)

// Config tunes the TSDB of every workspace on this node. Prometheus'
// defaults suit one TSDB of millions of series; a node holds one TSDB per
// workspace, and every one of them pays their fixed costs, data or not
// (as Cortex's per-tenant ingesters do, which expose the same two knobs).
type Config struct {
	// StripeSize is how many shards (a power of two) a workspace's map of
	// series is split into, each with its own lock and maps, about 250
	// bytes each, empty or not: Prometheus' 16,384 hold 4.3 MB of heap in
	// every workspace, 4,096 hold 1.1 MB. Fewer stripes mean bigger maps
	// to look a series up in: appending into a workspace of 100k series
	// took ~6 % more CPU at 4,096 and 11-17 % more at 1,024
	// (BenchmarkPush). A node of a few very large workspaces may prefer
	// 16,384.
	StripeSize int `yaml:"stripe_size"`
	// HeadChunksWriteBufferSizeBytes is the buffer through which a
	// workspace's full head chunks are written to its chunks_head
	// directory: allocated by every workspace that has cut a chunk
	// (Prometheus: 4 MiB each). A smaller one only writes more often.
	HeadChunksWriteBufferSizeBytes int `yaml:"head_chunks_write_buffer_size_bytes"`
}

// DefaultConfig is sized for a node of many workspaces.
func DefaultConfig() Config {
	return Config{StripeSize: 4096, HeadChunksWriteBufferSizeBytes: 128 << 10}
}

// RegisterFlags binds the configuration's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Int("storage.tsdb.stripe-size", "Shards of each workspace's series map (a power of two); each costs memory in every workspace, empty or not.", &c.StripeSize)
	f.Int("storage.tsdb.head-chunks-write-buffer-size-bytes", "Write buffer of each workspace's head chunks on disk (64 KiB to 8 MiB).", &c.HeadChunksWriteBufferSizeBytes)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.StripeSize < 1 || c.StripeSize > 1<<16 || bits.OnesCount(uint(c.StripeSize)) != 1 {
		return fmt.Errorf("stripe_size %d must be a power of two from 1 to 65536", c.StripeSize)
	}
	if c.HeadChunksWriteBufferSizeBytes < chunks.MinWriteBufferSize || c.HeadChunksWriteBufferSizeBytes > chunks.MaxWriteBufferSize {
		return fmt.Errorf("head_chunks_write_buffer_size_bytes %d must be from %d to %d", c.HeadChunksWriteBufferSizeBytes, chunks.MinWriteBufferSize, chunks.MaxWriteBufferSize)
	}
	return nil
}
