package wslog

import (
	"errors"
	"time"

	"github.com/prometheus/common/model"
)

// Config configures the workspace log store.
type Config struct {
	Retention model.Duration `yaml:"retention"`
}

// DefaultConfig keeps 30 days.
func DefaultConfig() Config { return Config{Retention: model.Duration(30 * 24 * time.Hour)} }

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Retention <= 0 {
		return errors.New("retention must be positive")
	}
	return nil
}
