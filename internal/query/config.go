package query

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/cliflag"
)

// Config configures the PromQL engine and its admission.
type Config struct {
	LookbackDelta model.Duration `yaml:"lookback_delta"`
	// MaxConcurrent bounds queries running at once across workspaces
	// (rule evaluations included); more wait in line.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxInflightSamples is the budget of samples all running queries may
	// hold: each reserves its workspace's max_samples_per_query first.
	MaxInflightSamples int64 `yaml:"max_inflight_samples"`
	// ResultsCache splits range queries by day and caches the steps
	// older than its max_freshness.
	ResultsCache ResultsCacheConfig `yaml:"results_cache"`
	// Shards: aggregations over per-series work are evaluated over this
	// many shards of the series at once (embedded storage only); 0 or 1
	// turns sharding off.
	Shards int `yaml:"shards"`
	// ShardMinSeries: queries whose selectors match fewer series are not
	// sharded: sharding costs a fixed ~0.1 ms, which an aggregation over
	// about 100 series gains back (BenchmarkShardMinSeries).
	ShardMinSeries int `yaml:"shard_min_series"`
}

// DefaultShards is the number of CPUs, at most 16.
func DefaultShards() int { return min(runtime.NumCPU(), 16) }

// DefaultConfig returns the defaults (Prometheus' lookback delta).
func DefaultConfig() Config {
	return Config{LookbackDelta: model.Duration(5 * time.Minute), MaxConcurrent: 20, MaxInflightSamples: 200_000_000,
		ResultsCache: DefaultResultsCacheConfig(), Shards: DefaultShards(), ShardMinSeries: 100}
}

// RegisterFlags binds the component's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Int64("query.results-cache.max-size-bytes", "Memory for cached range-query results (per workspace, query and day); 0 turns splitting by day and caching off.", &c.ResultsCache.MaxSizeBytes)
	f.Int64("query.results-cache.max-size-bytes-per-workspace", "Memory one workspace's cached results may hold (its least recently used go first); 0: no bound below max-size-bytes.", &c.ResultsCache.MaxSizeBytesPerWorkspace)
	f.Int("query.shards", "Shards an aggregation such as sum by (job) (rate(x[5m])) is evaluated over at once, one goroutine each (embedded storage); 0 or 1 turns sharding off. Default: the number of CPUs, at most 16.", &c.Shards)
	f.Int("query.shard-min-series", "Queries whose selectors match fewer series are not sharded.", &c.ShardMinSeries)
	f.Duration("query.results-cache.max-freshness", "Results reading samples newer than now minus this are not cached.", &c.ResultsCache.MaxFreshness)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.MaxConcurrent < 1 || c.MaxInflightSamples < 1 {
		return errors.New("max_concurrent and max_inflight_samples must be positive")
	}
	if c.LookbackDelta <= 0 {
		return errors.New("lookback_delta must be positive")
	}
	if c.Shards < 0 || c.Shards > maxShards {
		return fmt.Errorf("query.shards must be between 0 and %d, got %d", maxShards, c.Shards)
	}
	if c.ShardMinSeries < 0 {
		return errors.New("query.shard_min_series must not be negative")
	}
	return c.ResultsCache.Validate()
}
