package iam

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/cliflag"
	"github.com/kansoku/kansoku/internal/egress"
)

// Config configures IAM and STS beyond access keys.
type Config struct {
	// OIDC bounds how OIDC providers' signing keys are fetched for
	// AssumeRoleWithWebIdentity.
	OIDC OIDCConfig `yaml:"oidc"`
}

// OIDCConfig bounds the fetches of OIDC signing keys (issuers' discovery
// documents and JWKS). They go through the receiver firewall's rules:
// internal addresses (loopback, private, link-local, metadata) are refused
// unless AllowNetworks opens them.
type OIDCConfig struct {
	// AllowNetworks are CIDRs issuers may be reached at although they are
	// internal (an in-cluster issuer).
	AllowNetworks []string `yaml:"allow_networks"`
	// CAFile holds PEM certificates trusted for issuers besides the
	// system's (a private CA).
	CAFile string `yaml:"ca_file"`
	// FetchTimeout bounds one fetch; MaxResponseBytes caps each answer.
	FetchTimeout     model.Duration `yaml:"fetch_timeout"`
	MaxResponseBytes int64          `yaml:"max_response_bytes"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{OIDC: OIDCConfig{FetchTimeout: model.Duration(5 * time.Second), MaxResponseBytes: 64 << 10}}
}

// RegisterFlags binds the component's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Strings("iam.oidc-allow-network", "A network (CIDR) OIDC issuers may be fetched from although it is internal (loopback, private ...); repeatable.", &c.OIDC.AllowNetworks)
	f.String("iam.oidc-ca-file", "PEM file of CA certificates trusted for OIDC issuers besides the system's.", &c.OIDC.CAFile)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.OIDC.FetchTimeout <= 0 {
		return errors.New("iam.oidc.fetch_timeout must be positive")
	}
	if c.OIDC.MaxResponseBytes <= 0 {
		return errors.New("iam.oidc.max_response_bytes must be positive")
	}
	return c.firewallConfig().Validate()
}

func (c *Config) firewallConfig() egress.Config {
	fc := egress.DefaultConfig()
	fc.AllowNetworks = c.OIDC.AllowNetworks
	fc.MaxRequestBytes, fc.MaxResponseBytes = 64<<10, c.OIDC.MaxResponseBytes+(16<<10)
	fc.DialTimeout = time.Duration(c.OIDC.FetchTimeout)
	return fc
}

// OIDCOptions builds the fetch options of the configuration: connections
// through a firewall of their own, the CA file's certificates trusted.
func (c *Config) OIDCOptions() (OIDCOptions, error) {
	fw, err := egress.New(c.firewallConfig())
	if err != nil {
		return OIDCOptions{}, fmt.Errorf("OIDC fetch firewall: %w", err)
	}
	o := OIDCOptions{Dial: fw.DialContext, Timeout: time.Duration(c.OIDC.FetchTimeout), MaxBody: c.OIDC.MaxResponseBytes}
	if c.OIDC.CAFile != "" {
		pem, err := os.ReadFile(c.OIDC.CAFile)
		if err != nil {
			return o, fmt.Errorf("read iam.oidc.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return o, fmt.Errorf("iam.oidc.ca_file %s has no PEM certificate", c.OIDC.CAFile)
		}
		o.RootCAs = pool
	}
	return o, nil
}
