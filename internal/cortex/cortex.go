// Package cortex stores Kansoku's samples in a Cortex cluster, the sample
// store of the scale-out mode (the embedded default is internal/tenantdb).
// A workspace is a Cortex tenant: every request carries X-Scope-OrgID set
// to the workspace id.
//
//   - Writes: an Appender buffers what the ingest path appends and Commit
//     pushes it as one remote-write request to a distributor
//     (/api/v1/push), round-robin over the configured distributors; a
//     sample is acknowledged once Cortex acknowledged it, that is once it
//     is in the write-ahead log of replication-factor ingesters. Cortex's
//     own refusals (rate limit, series limits, out-of-order samples) come
//     back as *PushError with Cortex's status and message, which are AMP's.
//   - Reads: Querier and ChunkQuerier read through Prometheus' remote-read
//     client (/prometheus/api/v1/read on the query path), so the ruler and
//     every internal reader use the same storage.Queryable as with the
//     embedded TSDB; the Prometheus query API itself is proxied to the
//     query-frontend (Proxy).
//   - Tenants: per-workspace limits and retention are written as Cortex
//     runtime overrides (Overrides), which Cortex reloads; Drop asks the
//     purger to delete the tenant's data.
package cortex

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/cliflag"
)

// Config locates the Cortex cluster.
type Config struct {
	// DistributorURLs are the distributors' base URLs (remote write goes to
	// <url>/api/v1/push), used round-robin.
	DistributorURLs []string `yaml:"distributor_urls"`
	// QueryFrontendURL is the query-frontend's base URL; the Prometheus API
	// is under <url>/prometheus/api/v1/.
	QueryFrontendURL string `yaml:"query_frontend_url"`
	// PurgerURL serves /purger/delete_tenant; empty: the query-frontend's.
	PurgerURL string `yaml:"purger_url"`
	// RuntimeConfigFile is the runtime configuration file Cortex reloads
	// (its -runtime-config.file), where Kansoku writes each workspace's
	// limits as overrides.
	RuntimeConfigFile string `yaml:"runtime_config_file"`
	// Timeout bounds one push or read.
	Timeout model.Duration `yaml:"timeout"`
}

// DefaultConfig returns the defaults: no cluster.
func DefaultConfig() Config { return Config{Timeout: model.Duration(30 * time.Second)} }

// Enabled reports whether a cluster is configured.
func (c Config) Enabled() bool { return len(c.DistributorURLs) > 0 || c.QueryFrontendURL != "" }

// Validate checks a configured cluster is complete.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	if len(c.DistributorURLs) == 0 {
		return errors.New("cortex.distributor_urls: at least one distributor URL is required")
	}
	for _, u := range c.DistributorURLs {
		if err := checkURL("cortex.distributor_urls", u); err != nil {
			return err
		}
	}
	if err := checkURL("cortex.query_frontend_url", c.QueryFrontendURL); err != nil {
		return err
	}
	if c.PurgerURL != "" {
		if err := checkURL("cortex.purger_url", c.PurgerURL); err != nil {
			return err
		}
	}
	if c.RuntimeConfigFile == "" {
		return errors.New("cortex.runtime_config_file: required, the runtime configuration file Cortex reloads (its -runtime-config.file)")
	}
	if c.Timeout <= 0 {
		return errors.New("cortex.timeout must be positive")
	}
	return nil
}

func checkURL(key, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: %q is not an http(s) URL", key, s)
	}
	return nil
}

// RegisterFlags registers the settings as flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Strings("cortex.distributor-url", "Base URL of a Cortex distributor; repeat for several. Set to store samples in Cortex instead of the embedded TSDB.", &c.DistributorURLs)
	f.String("cortex.query-frontend-url", "Base URL of the Cortex query-frontend.", &c.QueryFrontendURL)
	f.String("cortex.purger-url", "Base URL serving Cortex's tenant deletion API (default: the query-frontend's).", &c.PurgerURL)
	f.String("cortex.runtime-config-file", "Cortex's runtime configuration file, where Kansoku writes each workspace's limits.", &c.RuntimeConfigFile)
	f.Duration("cortex.timeout", "Timeout of one push to or read from Cortex.", &c.Timeout)
}

// OrgIDHeader names the tenant of a Cortex request.
const OrgIDHeader = "X-Scope-OrgID"

func trimURL(s string) string { return strings.TrimRight(s, "/") }
