// Package config is Kansoku's configuration: one root Config made of a
// struct per component, with defaults, a strict YAML file (unknown keys are
// errors) and command-line flags that win over the file.
package config

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/kansoku/kansoku/internal/alertmanager"
	"github.com/kansoku/kansoku/internal/audit"
	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/cliflag"
	"github.com/kansoku/kansoku/internal/cluster"
	"github.com/kansoku/kansoku/internal/cortex"
	"github.com/kansoku/kansoku/internal/iam"
	"github.com/kansoku/kansoku/internal/ingest"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/query"
	"github.com/kansoku/kansoku/internal/ruler"
	"github.com/kansoku/kansoku/internal/scraper"
	"github.com/kansoku/kansoku/internal/tenantdb"
	"github.com/kansoku/kansoku/internal/throttle"
	"github.com/kansoku/kansoku/internal/usage"
	"github.com/kansoku/kansoku/internal/workspace"
	"github.com/kansoku/kansoku/internal/wslog"
)

// Config is the whole server configuration.
type Config struct {
	// Region is the installation's AWS-style region, fixed at first start.
	Region       string              `yaml:"region"`
	Web          WebConfig           `yaml:"web"`
	Storage      StorageConfig       `yaml:"storage"`
	Workspace    workspace.Config    `yaml:"workspace"`
	Query        query.Config        `yaml:"query"`
	Log          LogConfig           `yaml:"log"`
	Runtime      RuntimeConfig       `yaml:"runtime"`
	Ingest       ingest.Config       `yaml:"ingest"`
	Usage        usage.Config        `yaml:"usage"`
	Audit        audit.Config        `yaml:"audit"`
	Ruler        ruler.Config        `yaml:"ruler"`
	AWS          awsint.Config       `yaml:"aws_integration"`
	Alertmanager alertmanager.Config `yaml:"alertmanager"`
	// IAM configures roles, STS and OIDC providers.
	IAM iam.Config `yaml:"iam"`
	// WorkspaceLogs is the log store behind AMP's logging configuration.
	WorkspaceLogs wslog.Config `yaml:"workspace_logs"`
	// Limits are the default per-workspace limits (AMP's quotas).
	Limits limits.Limits `yaml:"limits"`
	// Cortex, when configured, stores samples instead of the embedded TSDB.
	Cortex cortex.Config `yaml:"cortex"`
	// Cluster makes the server one node of several.
	Cluster cluster.Config `yaml:"cluster"`
	// Scraper configures AMP's managed scrapers (collectors).
	Scraper scraper.Config `yaml:"scraper"`
	// ControlPlane is AMP's control-plane request quota per account.
	ControlPlane throttle.Config `yaml:"control_plane"`
}

// WebConfig configures the HTTP listener.
type WebConfig struct {
	ListenAddress string `yaml:"listen_address"`
	// ExternalURL is how clients reach this server (prometheusEndpoint);
	// derived from the listen address when empty.
	ExternalURL string `yaml:"external_url"`
	// ConfigFile is a Prometheus-style web configuration file (TLS).
	ConfigFile string `yaml:"config_file"`
	// BodyReadTimeout is how long a client may take to send a request's
	// body; a slower one is cut off.
	BodyReadTimeout model.Duration `yaml:"body_read_timeout"`
	// Listener, when set (tests, embedding), is used instead of binding
	// ListenAddress.
	Listener net.Listener `yaml:"-"`
}

// StorageConfig locates data.
type StorageConfig struct {
	DataDir  string           `yaml:"data_dir"`
	Metadata metastore.Config `yaml:"metadata"`
	// SecretKeyFile holds the key that encrypts stored secrets; default
	// <data_dir>/secret.key.
	SecretKeyFile string `yaml:"secret_key_file"`
	// TSDB tunes the workspaces' embedded TSDBs.
	TSDB tenantdb.Config `yaml:"tsdb"`
}

// RuntimeConfig tunes the Go runtime.
type RuntimeConfig struct {
	// GoGC is the garbage collector target percentage: how far the heap
	// may grow past what is live before the next collection. Kansoku
	// defaults to 50, between Prometheus 3's 75 and VictoriaMetrics' 30:
	// at 100k series it holds 40 MiB less at its peak than at 75 for no
	// measurable ingest CPU (docs/benchmarks.md). The GOGC environment
	// variable, when set, wins over the default.
	GoGC int `yaml:"gogc"`
}

// DefaultGoGC is the GC percentage used when neither GOGC nor the config set one.
const DefaultGoGC = 50

func defaultGoGC() int {
	if v, err := strconv.Atoi(os.Getenv("GOGC")); err == nil {
		return v
	}
	return DefaultGoGC
}

// LogConfig configures logging.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // logfmt or json
}

// Default returns the defaults.
func Default() Config {
	return Config{
		Region:        "us-east-1",
		Web:           WebConfig{ListenAddress: ":9393", BodyReadTimeout: model.Duration(time.Minute)},
		Storage:       StorageConfig{DataDir: "./data", Metadata: metastore.DefaultConfig(), TSDB: tenantdb.DefaultConfig()},
		Workspace:     workspace.DefaultConfig(),
		Query:         query.DefaultConfig(),
		Log:           LogConfig{Level: "info", Format: "logfmt"},
		Runtime:       RuntimeConfig{GoGC: defaultGoGC()},
		Ingest:        ingest.DefaultConfig(),
		Usage:         usage.DefaultConfig(),
		Audit:         audit.DefaultConfig(),
		Ruler:         ruler.DefaultConfig(),
		Alertmanager:  alertmanager.DefaultConfig(),
		IAM:           iam.DefaultConfig(),
		AWS:           awsint.DefaultConfig(),
		WorkspaceLogs: wslog.DefaultConfig(),
		Limits:        limits.Defaults(),
		Cortex:        cortex.DefaultConfig(),
		Cluster:       cluster.DefaultConfig(),
		Scraper:       scraper.DefaultConfig(),
		ControlPlane:  throttle.DefaultConfig(),
	}
}

// LoadFile reads a YAML file over the defaults. Unknown keys are errors.
func LoadFile(path string) (Config, error) {
	cfg := Default()
	err := cfg.LoadFile(path)
	return cfg, err
}

// LoadFile reads a YAML file over c (keys the file does not set keep c's
// values). Unknown keys are errors.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return fmt.Errorf("parse config file %s: %w", path, err)
	}
	return nil
}

// RegisterFlags binds the server's flags: the root's own and every
// component's (each component registers its flags next to its Config).
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.String("web.listen-address", "Address to listen on.", &c.Web.ListenAddress)
	f.String("web.external-url", "URL under which clients reach this server (default: derived from the listen address).", &c.Web.ExternalURL)
	f.String("web.config.file", "Prometheus-style web configuration file enabling TLS.", &c.Web.ConfigFile)
	f.String("data.dir", "Directory for all data (metadata, workspaces' TSDBs).", &c.Storage.DataDir)
	f.String("storage.secret-key-file", "File of the key sealing stored secrets; every node sharing a metadata database needs the same (default: <data.dir>/secret.key).", &c.Storage.SecretKeyFile)
	f.String("region", "The installation's region, fixed at first start.", &c.Region)
	f.String("log.level", "Log level: debug, info, warn, error.", &c.Log.Level)
	f.String("log.format", "Log format: logfmt or json.", &c.Log.Format)
	c.Storage.Metadata.RegisterFlags(f)
	c.Storage.TSDB.RegisterFlags(f)
	c.Workspace.RegisterFlags(f)
	c.Query.RegisterFlags(f)
	c.Limits.RegisterFlags(f)
	c.Ingest.RegisterFlags(f)
	c.Usage.RegisterFlags(f)
	c.Alertmanager.RegisterFlags(f)
	c.IAM.RegisterFlags(f)
	c.AWS.RegisterFlags(f)
	c.Cortex.RegisterFlags(f)
	c.Cluster.RegisterFlags(f)
	c.Scraper.RegisterFlags(f)
	c.ControlPlane.RegisterFlags(f)
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// Validate checks the configuration.
func (c *Config) Validate() error {
	if !regionRE.MatchString(c.Region) {
		return fmt.Errorf("region %q does not look like an AWS region (e.g. us-east-1)", c.Region)
	}
	if _, _, err := net.SplitHostPort(c.Web.ListenAddress); err != nil {
		return fmt.Errorf("web.listen_address %q: %w", c.Web.ListenAddress, err)
	}
	if c.Storage.DataDir == "" {
		return fmt.Errorf("storage.data_dir must be set")
	}
	if c.Web.BodyReadTimeout < model.Duration(time.Second) {
		return fmt.Errorf("web.body_read_timeout must be at least 1s")
	}
	if u := c.Web.ExternalURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("web.external_url %q must start with http:// or https://", u)
	}
	if err := c.Limits.Validate(); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	// Each component validates its own section.
	for _, v := range []struct {
		key string
		v   interface{ Validate() error }
	}{
		{"storage.metadata", &c.Storage.Metadata}, {"storage.tsdb", &c.Storage.TSDB}, {"workspace", &c.Workspace}, {"query", &c.Query}, {"ingest", &c.Ingest}, {"audit", &c.Audit}, {"ruler", &c.Ruler},
		{"alertmanager", &c.Alertmanager}, {"control_plane", &c.ControlPlane}, {"iam", &c.IAM}, {"aws_integration", &c.AWS}, {"workspace_logs", &c.WorkspaceLogs},
		{"cortex", &c.Cortex}, {"cluster", &c.Cluster}, {"scraper", &c.Scraper},
	} {
		if err := v.v.Validate(); err != nil {
			return fmt.Errorf("%s: %w", v.key, err)
		}
	}
	if c.Cluster.Enabled {
		// Nodes share everything they serve: metadata in PostgreSQL,
		// samples in Cortex.
		if c.Storage.Metadata.Driver != "postgres" {
			return fmt.Errorf("cluster.enabled needs storage.metadata.driver: postgres (nodes share their metadata)")
		}
		if !c.Cortex.Enabled() {
			return fmt.Errorf("cluster.enabled needs a Cortex cluster (cortex.distributor_urls ...): nodes share their samples")
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "logfmt", "json":
	default:
		return fmt.Errorf("log.format %q: want logfmt or json", c.Log.Format)
	}
	return nil
}

// ExternalURL returns the configured external URL, or one derived from the
// listen address (a wildcard host becomes localhost), without trailing slash.
func (c *Config) ExternalURL(tls bool) string { return c.ExternalURLFor(tls, c.Web.ListenAddress) }

// ExternalURLFor is ExternalURL with the port of bound, the address the
// server actually listens on (the listen address may ask for port 0).
func (c *Config) ExternalURLFor(tls bool, bound string) string {
	if c.Web.ExternalURL != "" {
		return strings.TrimSuffix(c.Web.ExternalURL, "/")
	}
	host, port, _ := net.SplitHostPort(c.Web.ListenAddress)
	if _, p, err := net.SplitHostPort(bound); err == nil {
		port = p
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
