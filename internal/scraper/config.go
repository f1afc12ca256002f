package scraper

import (
	"errors"
	"time"

	"github.com/kansoku/kansoku/internal/cliflag"
	"github.com/kansoku/kansoku/internal/egress"
)

// Config is the operator's view of managed scrapers.
type Config struct {
	// MaxPerAccount is the quota of scrapers (AMP: 10 per region per
	// account, adjustable).
	MaxPerAccount int `yaml:"max_per_account"`
	// Run: this server runs the scrapes of the scrapers it owns (all of
	// them on one node). Off, scrapers are only stored.
	Run bool `yaml:"run"`
	// AllowNetworks are CIDRs scrapers may reach although they are
	// internal (loopback, private, link-local, CGNAT, this server's own
	// addresses): the networks of the targets an operator lets tenants
	// scrape, e.g. 10.20.0.0/16 for a peered VPC. Nothing internal is
	// reachable by default, as for Alertmanager receivers.
	AllowNetworks []string `yaml:"allow_networks"`
	// DenyNetworks are refused even inside AllowNetworks.
	DenyNetworks []string `yaml:"deny_networks"`
}

// DefaultConfig is AMP's quota, nothing internal opened.
func DefaultConfig() Config { return Config{MaxPerAccount: 10, Run: true} }

// RegisterFlags binds the component's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Int("scraper.max-per-account", "Quota of managed scrapers (AMP: 10).", &c.MaxPerAccount)
	f.Strings("scraper.allow-network", "A network (CIDR) managed scrapers may scrape although it is internal (loopback, private ...); repeatable.", &c.AllowNetworks)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.MaxPerAccount < 1 {
		return errors.New("max_per_account must be at least 1")
	}
	return c.FirewallConfig().Validate()
}

// FirewallConfig is the receiver firewall's rules with the scrapers' own
// allow-list: one connection (one scrape: keep-alives are off) may read a
// 50 MB body and its headers.
func (c *Config) FirewallConfig() egress.Config {
	fc := egress.DefaultConfig()
	fc.AllowNetworks, fc.DenyNetworks = c.AllowNetworks, c.DenyNetworks
	fc.MaxRequestBytes, fc.MaxResponseBytes = 64<<10, MaxBodySize+(1<<20)
	fc.DialTimeout = 10 * time.Second
	fc.Setting = "scraper.allow_networks"
	return fc
}
