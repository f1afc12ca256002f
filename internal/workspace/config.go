package workspace

import (
	"errors"

	"github.com/kansoku/kansoku/internal/cliflag"
)

// Config configures the control plane's workspace quotas.
type Config struct {
	// MaxPerAccount is the quota of workspaces (AMP: 25).
	MaxPerAccount int `yaml:"max_per_account"`
}

// DefaultConfig is AMP's quota.
func DefaultConfig() Config { return Config{MaxPerAccount: 25} }

// RegisterFlags binds the component's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Int("workspace.max-per-account", "Quota of workspaces (AMP: 25).", &c.MaxPerAccount)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.MaxPerAccount < 1 {
		return errors.New("max_per_account must be at least 1")
	}
	return nil
}
