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

	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Config is the whole server configuration.
type Config struct {
	// Region is the installation's AWS-style region, fixed at first start.
	Region       string             `yaml:"region"`
	Web          WebConfig          `yaml:"web"`
	Storage      StorageConfig      `yaml:"storage"`
	Workspace    WorkspaceConfig    `yaml:"workspace"`
	Query        QueryConfig        `yaml:"query"`
	Log          LogConfig          `yaml:"log"`
	Runtime      RuntimeConfig      `yaml:"runtime"`
	Ingest       IngestConfig       `yaml:"ingest"`
	Usage        UsageConfig        `yaml:"usage"`
	Audit        AuditConfig        `yaml:"audit"`
	Ruler        RulerConfig        `yaml:"ruler"`
	AWS          AWSConfig          `yaml:"aws_integration"`
	Alertmanager AlertmanagerConfig `yaml:"alertmanager"`
	// WorkspaceLogs is the log store behind AMP's logging configuration.
	WorkspaceLogs WorkspaceLogsConfig `yaml:"workspace_logs"`
	// Limits are the default per-workspace limits (AMP's quotas).
	Limits limits.Limits `yaml:"limits"`
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
}

// WorkspaceConfig configures the control plane's workspace quotas.
type WorkspaceConfig struct {
	MaxPerAccount int `yaml:"max_per_account"`
}

// QueryConfig configures the PromQL engine.
type QueryConfig struct {
	LookbackDelta model.Duration `yaml:"lookback_delta"`
	// MaxConcurrent bounds queries running at once across workspaces
	// (rule evaluations included); more wait in line.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxInflightSamples is the budget of samples all running queries may
	// hold: each reserves its workspace's max_samples_per_query first.
	MaxInflightSamples int64 `yaml:"max_inflight_samples"`
}

// IngestConfig configures the write path.
type IngestConfig struct {
	// Guardrails turns AMP's ingestion guardrails on: throttling, HA
	// deduplication, active-series limits. Off only to benchmark their cost.
	Guardrails bool `yaml:"guardrails"`
	// MaxInflightBytes bounds the remote_write bytes (compressed and
	// decoded) being processed at once; more are refused with 503.
	MaxInflightBytes int64 `yaml:"max_inflight_bytes"`
}

// UsageConfig configures usage tracking.
type UsageConfig struct {
	// SelfMetrics writes each workspace's own usage series
	// (prometheus_tsdb_head_series ...) into it, job="kansoku".
	SelfMetrics bool `yaml:"self_metrics_in_workspace"`
}

// RulerConfig configures rule evaluation (Prometheus' --rules.alert.*).
type RulerConfig struct {
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

// AWSConfig configures the AWS integration.
type AWSConfig struct {
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
	// AccessKeyID and SecretAccessKey, when set, are Kansoku's own AWS
	// credentials instead of the standard chain (the demo's simulated
	// account uses them).
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
}

// AlertmanagerConfig configures the per-workspace Alertmanagers.
type AlertmanagerConfig struct {
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

// AuditConfig configures the audit trail.
type AuditConfig struct {
	// Retention is how long events are kept (CloudTrail's event history: 90 days).
	Retention model.Duration `yaml:"retention"`
}

// WorkspaceLogsConfig configures the workspace log store.
type WorkspaceLogsConfig struct {
	Retention model.Duration `yaml:"retention"`
}

// RuntimeConfig tunes the Go runtime.
type RuntimeConfig struct {
	// GoGC is the garbage collector target percentage. Like Prometheus 3,
	// Kansoku defaults to 75 (less memory per series than Go's 100), unless
	// the GOGC environment variable is set.
	GoGC int `yaml:"gogc"`
}

// DefaultGoGC is the GC percentage used when neither GOGC nor the config set one.
const DefaultGoGC = 75

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
		Region:    "us-east-1",
		Web:       WebConfig{ListenAddress: ":9393", BodyReadTimeout: model.Duration(time.Minute)},
		Storage:   StorageConfig{DataDir: "./data", Metadata: metastore.Config{Driver: "sqlite"}},
		Workspace: WorkspaceConfig{MaxPerAccount: 25},
		Query:     QueryConfig{LookbackDelta: model.Duration(5 * time.Minute), MaxConcurrent: 20, MaxInflightSamples: 200_000_000},
		Log:       LogConfig{Level: "info", Format: "logfmt"},
		Runtime:   RuntimeConfig{GoGC: defaultGoGC()},
		Ingest:    IngestConfig{Guardrails: true, MaxInflightBytes: 512 << 20},
		Usage:     UsageConfig{SelfMetrics: true},
		Audit:     AuditConfig{Retention: model.Duration(90 * 24 * time.Hour)},
		Ruler: RulerConfig{DefaultEvaluationInterval: model.Duration(time.Minute), OutageTolerance: model.Duration(time.Hour), ForGracePeriod: model.Duration(10 * time.Minute),
			ResendDelay: model.Duration(time.Minute)},
		Alertmanager: AlertmanagerConfig{Retention: model.Duration(120 * time.Hour), ReceiverFirewall: egress.DefaultConfig()},
		AWS: AWSConfig{Region: "us-east-1", CloudWatchDelay: model.Duration(3 * time.Minute), DefaultPollInterval: model.Duration(5 * time.Minute),
			MaxConcurrentPolls: 2, Backfill: model.Duration(10 * time.Minute), Poll: true},
		WorkspaceLogs: WorkspaceLogsConfig{Retention: model.Duration(30 * 24 * time.Hour)},
		Limits:        limits.Defaults(),
	}
}

// LoadFile reads a YAML file over the defaults. Unknown keys are errors.
func LoadFile(path string) (Config, error) {
	cfg := Default()
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config file: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
		return cfg, fmt.Errorf("parse config file %s: %w", path, err)
	}
	return cfg, nil
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
	switch c.Storage.Metadata.Driver {
	case "", "sqlite":
	case "postgres":
		if c.Storage.Metadata.DSN == "" {
			return fmt.Errorf("storage.metadata.dsn must be set for the postgres driver")
		}
	default:
		return fmt.Errorf("storage.metadata.driver %q: want sqlite or postgres", c.Storage.Metadata.Driver)
	}
	if c.Ingest.MaxInflightBytes < 64<<20 {
		return fmt.Errorf("ingest.max_inflight_bytes must be at least 64MiB (one request may decode to 64MiB)")
	}
	if c.Web.BodyReadTimeout < model.Duration(time.Second) {
		return fmt.Errorf("web.body_read_timeout must be at least 1s")
	}
	if c.Query.MaxConcurrent < 1 || c.Query.MaxInflightSamples < 1 {
		return fmt.Errorf("query.max_concurrent and query.max_inflight_samples must be positive")
	}
	if c.Workspace.MaxPerAccount < 1 {
		return fmt.Errorf("workspace.max_per_account must be at least 1")
	}
	if u := c.Web.ExternalURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("web.external_url %q must start with http:// or https://", u)
	}
	if err := c.Limits.Validate(); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	if c.AWS.DefaultPollInterval < model.Duration(time.Minute) || c.AWS.MaxConcurrentPolls < 1 || c.AWS.CloudWatchDelay < 0 ||
		c.AWS.Backfill < 0 || c.AWS.Backfill > model.Duration(50*time.Minute) {
		return fmt.Errorf("aws_integration: default_poll_interval must be at least 1m, max_concurrent_polls at least 1, cloudwatch_delay not negative, backfill at most 50m")
	}
	if (c.AWS.AccessKeyID == "") != (c.AWS.SecretAccessKey == "") {
		return fmt.Errorf("aws_integration: access_key_id and secret_access_key go together")
	}
	for name, u := range map[string]string{"alertmanager.sns_endpoint": c.Alertmanager.SNSEndpoint, "alertmanager.sts_endpoint": c.Alertmanager.STSEndpoint,
		"aws_integration.endpoint_url": c.AWS.EndpointURL} {
		if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Errorf("%s %q must start with http:// or https://", name, u)
		}
	}
	if c.Ruler.ResendDelay <= 0 || c.Ruler.DefaultEvaluationInterval <= 0 || c.Alertmanager.Retention <= 0 {
		return fmt.Errorf("ruler.resend_delay, ruler.default_evaluation_interval and alertmanager.retention must be positive")
	}
	if err := c.Alertmanager.ReceiverFirewall.Validate(); err != nil {
		return fmt.Errorf("alertmanager: %w", err)
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
