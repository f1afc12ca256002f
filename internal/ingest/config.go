package ingest

import (
	"errors"

	"github.com/kansoku/kansoku/internal/cliflag"
)

// Config configures the write path.
type Config struct {
	// Guardrails turns AMP's ingestion guardrails on: throttling, HA
	// deduplication, active-series limits. Off only to benchmark their cost.
	Guardrails bool `yaml:"guardrails"`
	// MaxInflightBytes bounds the remote_write bytes (compressed and
	// decoded) being processed at once; more are refused with 503.
	MaxInflightBytes int64 `yaml:"max_inflight_bytes"`
}

// DefaultConfig returns the defaults: guardrails on.
func DefaultConfig() Config { return Config{Guardrails: true, MaxInflightBytes: 512 << 20} }

// RegisterFlags binds the component's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Bool("ingest.guardrails", "AMP's ingestion guardrails (throttling, HA deduplication, series limits). Turn off only to measure their cost.", &c.Guardrails)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.MaxInflightBytes < 64<<20 {
		return errors.New("max_inflight_bytes must be at least 64MiB (one request may decode to 64MiB)")
	}
	return nil
}
