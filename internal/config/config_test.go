package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"
)

func write(t *testing.T, s string) string {
	p := filepath.Join(t.TempDir(), "kansoku.yml")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFile(t *testing.T) {
	cfg, err := LoadFile(write(t, `
region: eu-west-1
web:
  listen_address: 127.0.0.1:9999
storage:
  data_dir: /var/lib/kansoku
limits:
  ingestion_rate: 5000
  max_sample_age: 2h
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || cfg.Web.ListenAddress != "127.0.0.1:9999" || cfg.Limits.IngestionRate != 5000 ||
		time.Duration(cfg.Limits.MaxSampleAge) != 2*time.Hour {
		t.Fatalf("loaded %+v", cfg)
	}
	// Unset keys keep their defaults.
	if cfg.Limits.IngestionBurstSize != 1000000 || cfg.Workspace.MaxPerAccount != 25 || !cfg.Ingest.Guardrails || !cfg.Usage.SelfMetrics {
		t.Fatalf("defaults lost: %+v", cfg.Limits)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestStrict(t *testing.T) {
	_, err := LoadFile(write(t, "web:\n  listen_adress: :1\n"))
	if err == nil || !strings.Contains(err.Error(), "listen_adress") {
		t.Fatalf("unknown key must be an error naming it: %v", err)
	}
}

func TestValidate(t *testing.T) {
	bad := map[string]func(*Config){
		"region":       func(c *Config) { c.Region = "mars" },
		"listen":       func(c *Config) { c.Web.ListenAddress = "nope" },
		"driver":       func(c *Config) { c.Storage.Metadata.Driver = "mysql" },
		"postgres dsn": func(c *Config) { c.Storage.Metadata.Driver = "postgres" },
		"bad dsn": func(c *Config) {
			c.Storage.Metadata.Driver, c.Storage.Metadata.DSN = "postgres", "postgres://u:secret@h:notaport/db"
		},
		"pool":          func(c *Config) { c.Storage.Metadata.MaxOpenConns = 0 },
		"external url":  func(c *Config) { c.Web.ExternalURL = "ftp://x" },
		"rate":          func(c *Config) { c.Limits.IngestionRate = 0 },
		"log level":     func(c *Config) { c.Log.Level = "loud" },
		"max workspace": func(c *Config) { c.Workspace.MaxPerAccount = 0 },
	}
	for name, mutate := range bad {
		c := Default()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: invalid config accepted", name)
		}
	}
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if got := c.ExternalURL(false); got != "http://localhost:9393" {
		t.Fatalf("external URL %q", got)
	}
	c.Web.ListenAddress = "10.1.2.3:443"
	if got := c.ExternalURL(true); got != "https://10.1.2.3:443" {
		t.Fatalf("external URL %q", got)
	}
}

// TestDocumentation: docs/configuration.md lists every key of the
// configuration with its default, as Prometheus' TestDocumentation keeps
// its docs honest: loading the documented block strictly must give
// exactly the defaults.
func TestDocumentation(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	start := strings.Index(s, "```yaml\n")
	end := strings.Index(s[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml block in docs/configuration.md")
	}
	var got Config
	if err := yaml.UnmarshalStrict([]byte(s[start+8:start+8+end]), &got); err != nil {
		t.Fatalf("the documented configuration does not load: %v", err)
	}
	want := Default()
	want.Runtime.GoGC = DefaultGoGC
	// query.shards defaults to the number of CPUs (query.DefaultShards):
	// the documentation shows a 2-CPU machine's.
	want.Query.Shards = 2
	// Compared as YAML: an empty list documented as [] is the default nil.
	gotY, _ := yaml.Marshal(got)
	wantY, _ := yaml.Marshal(want)
	if string(gotY) != string(wantY) {
		t.Errorf("docs/configuration.md and config.Default() differ:\ndocumented:\n%s\ndefaults:\n%s", gotY, wantY)
	}
}
