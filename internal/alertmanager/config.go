package alertmanager

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/cliflag"
	"github.com/kansoku/kansoku/internal/egress"
)

// Config configures the per-workspace Alertmanagers.
type Config struct {
	// SNSEndpoint is the SNS API URL for sns_configs that set no api_url
	// (default: AWS's regional endpoint). Credentials come from the AWS
	// default chain (AWS_ACCESS_KEY_ID ..., shared config, instance role)
	// unless a receiver's sigv4 section gives them.
	SNSEndpoint string `yaml:"sns_endpoint"`
	// STSEndpoint is used for sigv4.role_arn in sns_configs.
	STSEndpoint string `yaml:"sts_endpoint"`
	// Retention of expired silences and notification log entries.
	Retention model.Duration `yaml:"retention"`
	// ReceiverFirewall bounds where tenants' receivers may connect.
	ReceiverFirewall egress.Config `yaml:"receiver_firewall"`
}

// DefaultConfig returns Alertmanager's retention and the default firewall.
func DefaultConfig() Config {
	return Config{Retention: model.Duration(120 * time.Hour), ReceiverFirewall: egress.DefaultConfig()}
}

// RegisterFlags binds the component's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.String("alertmanager.sns-endpoint", "SNS API URL for sns_configs receivers without api_url (default: AWS's regional endpoint; credentials from the AWS default chain).", &c.SNSEndpoint)
	f.String("alertmanager.sts-endpoint", "STS API URL for sns_configs with sigv4.role_arn.", &c.STSEndpoint)
	f.Strings("alertmanager.receiver-allow-network", "A network (CIDR) tenants' receivers may reach although it is internal (loopback, private, link-local ...); repeatable.", &c.ReceiverFirewall.AllowNetworks)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	for name, u := range map[string]string{"sns_endpoint": c.SNSEndpoint, "sts_endpoint": c.STSEndpoint} {
		if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("%s %q must start with http:// or https://", name, u)
		}
	}
	if c.Retention <= 0 {
		return errors.New("retention must be positive")
	}
	return c.ReceiverFirewall.Validate()
}
