package awsint

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/cliflag"
)

// Config configures the AWS integration.
type Config struct {
	// EndpointURL sends every AWS call of the integration to one endpoint
	// (an AWS API simulator); empty: AWS's regional endpoints. Kansoku's own
	// credentials come from the standard AWS credential chain.
	EndpointURL string `yaml:"endpoint_url"`
	// Region is where Kansoku's own STS calls go.
	Region string `yaml:"region"`
	// CloudWatchDelay: a period's datapoint is read only this long after the
	// period ended (CloudWatch's reporting delay).
	CloudWatchDelay model.Duration `yaml:"cloudwatch_delay"`
	// DefaultPollInterval for new integrations (Mackerel: 5m).
	DefaultPollInterval model.Duration `yaml:"default_poll_interval"`
	// MaxConcurrentPolls bounds integrations polled at once.
	MaxConcurrentPolls int `yaml:"max_concurrent_polls"`
	// Poll runs the scheduled polls on this server (true). With several
	// servers on one metadata store, one of them polls.
	Poll bool `yaml:"poll"`
	// Backfill is how far back a new integration's first poll reads.
	Backfill model.Duration `yaml:"backfill"`
	// PollTimeout bounds one poll of one integration.
	PollTimeout model.Duration `yaml:"poll_timeout"`
	// AccessKeyID and SecretAccessKey, when set, are Kansoku's own AWS
	// credentials instead of the standard chain (the demo's simulated
	// account uses them).
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
}

// DefaultConfig returns the defaults (Mackerel's 5-minute interval).
func DefaultConfig() Config {
	return Config{Region: "us-east-1", CloudWatchDelay: model.Duration(3 * time.Minute), DefaultPollInterval: model.Duration(5 * time.Minute),
		MaxConcurrentPolls: 2, Backfill: model.Duration(10 * time.Minute), PollTimeout: model.Duration(4 * time.Minute), Poll: true}
}

// RegisterFlags binds the component's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Bool("aws.poll", "Run the AWS integrations' scheduled polls on this server (with several servers on one metadata store, one polls).", &c.Poll)
	f.String("aws.endpoint-url", "Send every AWS call of the AWS integration to this endpoint (an AWS API simulator); default: AWS.", &c.EndpointURL)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.DefaultPollInterval < model.Duration(time.Minute) || c.MaxConcurrentPolls < 1 || c.CloudWatchDelay < 0 ||
		c.Backfill < 0 || c.Backfill > model.Duration(50*time.Minute) || c.PollTimeout < 0 || c.PollTimeout > model.Duration(time.Hour) {
		return errors.New("default_poll_interval must be at least 1m, max_concurrent_polls at least 1, cloudwatch_delay not negative, backfill at most 50m, poll_timeout at most 1h")
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return errors.New("access_key_id and secret_access_key go together")
	}
	if u := c.EndpointURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("endpoint_url %q must start with http:// or https://", u)
	}
	return nil
}
