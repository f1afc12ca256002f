package cluster

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/cliflag"
)

// Config makes a server one node of a cluster.
type Config struct {
	// Enabled: this server shares its metadata (PostgreSQL) and samples
	// (Cortex) with other nodes, and runs only the singletons it holds the
	// lease of.
	Enabled bool `yaml:"enabled"`
	// NodeName identifies the node among the others; default: the host name.
	NodeName string `yaml:"node_name"`
	// AdvertiseURL is how the other nodes reach this one (requests for a
	// workspace's Alertmanager are forwarded to its owner); default: the
	// server's external URL.
	AdvertiseURL string `yaml:"advertise_url"`
	// LeaseTTL is how long a node's leases outlive it: a dead node's work
	// resumes elsewhere within LeaseTTL + LeaseRenew.
	LeaseTTL model.Duration `yaml:"lease_ttl"`
	// LeaseRenew is how often leases are renewed and the node heartbeats.
	LeaseRenew model.Duration `yaml:"lease_renew"`
}

// DefaultConfig returns the defaults: one node.
func DefaultConfig() Config {
	t := DefaultTiming()
	return Config{LeaseTTL: model.Duration(t.TTL), LeaseRenew: model.Duration(t.Renew)}
}

// RegisterFlags registers the settings as flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Bool("cluster.enabled", "Run as one node of a cluster (needs PostgreSQL metadata and Cortex samples).", &c.Enabled)
	f.String("cluster.node-name", "This node's name among the cluster's nodes (default: the host name).", &c.NodeName)
	f.String("cluster.advertise-url", "URL at which the other nodes reach this one (default: the external URL).", &c.AdvertiseURL)
	f.Duration("cluster.lease-ttl", "How long a dead node's leases last before others take its work.", &c.LeaseTTL)
	f.Duration("cluster.lease-renew", "How often a node renews its leases.", &c.LeaseRenew)
}

// Timing returns the lease timing: a third of the TTL between a missed
// renewal and the end of the lease stays as the margin.
func (c Config) Timing() Timing {
	ttl := time.Duration(c.LeaseTTL)
	return Timing{TTL: ttl, Renew: time.Duration(c.LeaseRenew), Margin: ttl / 5}
}

// Validate checks the settings.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	if err := c.Timing().Validate(); err != nil {
		return fmt.Errorf("lease_ttl %s and lease_renew %s: renewals must come at least twice within 4/5 of the TTL",
			time.Duration(c.LeaseTTL), time.Duration(c.LeaseRenew))
	}
	if c.AdvertiseURL != "" {
		u, err := url.Parse(c.AdvertiseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("advertise_url must be an http(s) URL")
		}
	}
	return nil
}

// Node returns this node's identity, defaulting the name to the host name
// and the URL to externalURL.
func (c Config) Node(externalURL string) (NodeInfo, error) {
	n := NodeInfo{ID: c.NodeName, URL: c.AdvertiseURL}
	if n.ID == "" {
		h, err := os.Hostname()
		if err != nil {
			return NodeInfo{}, fmt.Errorf("cluster.node_name is not set and the host name is unknown: %w", err)
		}
		n.ID = h
	}
	if n.URL == "" {
		n.URL = externalURL
	}
	return n, nil
}
