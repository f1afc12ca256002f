package usage

import "github.com/kansoku/kansoku/internal/cliflag"

// Config configures usage tracking.
type Config struct {
	// SelfMetrics writes each workspace's own usage series
	// (prometheus_tsdb_head_series ...) into it, job="kansoku".
	SelfMetrics bool `yaml:"self_metrics_in_workspace"`
}

// DefaultConfig returns the defaults: self-metrics on.
func DefaultConfig() Config { return Config{SelfMetrics: true} }

// RegisterFlags binds the component's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Bool("usage.self-metrics", "Write each workspace's own usage series (prometheus_tsdb_head_series, ...; job=\"kansoku\") into it.", &c.SelfMetrics)
}
