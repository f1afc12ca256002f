package query

import (
	"errors"
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
	// ResultsCache splits range queries by day and caches past days.
	ResultsCache ResultsCacheConfig `yaml:"results_cache"`
}

// DefaultConfig returns the defaults (Prometheus' lookback delta).
func DefaultConfig() Config {
	return Config{LookbackDelta: model.Duration(5 * time.Minute), MaxConcurrent: 20, MaxInflightSamples: 200_000_000,
		ResultsCache: DefaultResultsCacheConfig()}
}

// RegisterFlags binds the component's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Int64("query.results-cache.max-size-bytes", "Memory for cached range-query results per day and workspace; 0 turns splitting by day and caching off.", &c.ResultsCache.MaxSizeBytes)
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
	return c.ResultsCache.Validate()
}
