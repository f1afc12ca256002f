package ruler

import (
	"errors"
	"time"

	"github.com/prometheus/common/model"
)

// Config configures rule evaluation (Prometheus' --rules.alert.*).
type Config struct {
	// DefaultEvaluationInterval applies to rule groups without an interval
	// (AMP: 1m); the workspace's min_evaluation_interval still applies.
	DefaultEvaluationInterval model.Duration `yaml:"default_evaluation_interval"`
	// OutageTolerance: how long an outage may last for alert `for` state
	// to be restored on start.
	OutageTolerance model.Duration `yaml:"outage_tolerance"`
	// ForGracePeriod: minimum time left of `for` after a restore.
	ForGracePeriod model.Duration `yaml:"for_grace_period"`
	// ResendDelay: how often firing alerts are re-sent to the Alertmanager.
	ResendDelay model.Duration `yaml:"resend_delay"`
}

// DefaultConfig returns Prometheus' defaults and AMP's interval.
func DefaultConfig() Config {
	return Config{DefaultEvaluationInterval: model.Duration(time.Minute), OutageTolerance: model.Duration(time.Hour),
		ForGracePeriod: model.Duration(10 * time.Minute), ResendDelay: model.Duration(time.Minute)}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.ResendDelay <= 0 || c.DefaultEvaluationInterval <= 0 {
		return errors.New("resend_delay and default_evaluation_interval must be positive")
	}
	if c.OutageTolerance < 0 || c.ForGracePeriod < 0 {
		return errors.New("outage_tolerance and for_grace_period must not be negative")
	}
	return nil
}
