package audit

import (
	"errors"
	"time"

	"github.com/prometheus/common/model"
)

// Config configures the audit trail.
type Config struct {
	// Retention is how long events are kept (CloudTrail's event history: 90 days).
	Retention model.Duration `yaml:"retention"`
}

// DefaultConfig keeps 90 days, as CloudTrail's event history does.
func DefaultConfig() Config { return Config{Retention: model.Duration(90 * 24 * time.Hour)} }

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Retention <= 0 {
		return errors.New("retention must be positive")
	}
	return nil
}
