package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kingpin/v2"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/iam"
	"github.com/kansoku/kansoku/internal/metastore"
)

// The admin secret is printed once, to a terminal only: a log that
// captures stdout must not hold it.
func TestBannerPrintsTheSecretOnlyToATerminal(t *testing.T) {
	a := app.Info{DataDir: config.Default().Storage.DataDir, ExternalURL: "http://localhost:9393", Account: metastore.Account{ID: "123456789012", Region: "us-east-1"},
		FirstStart: &iam.NewKey{AccessKeyID: "AKIAFIRSTSTART000001", SecretAccessKey: "first-start-secret"}}
	var tty, log strings.Builder
	printBanner(&tty, a, true)
	printBanner(&log, a, false)
	if !strings.Contains(tty.String(), "AWS_SECRET_ACCESS_KEY=first-start-secret") {
		t.Errorf("terminal banner lacks the secret:\n%s", tty.String())
	}
	if strings.Contains(log.String(), "first-start-secret") {
		t.Errorf("non-terminal banner prints the secret:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "AKIAFIRSTSTART000001") || !strings.Contains(log.String(), app.AdminCredentialsFile) {
		t.Errorf("non-terminal banner should name the key and the credentials file:\n%s", log.String())
	}
}

// The server's flags and its YAML file go through one mechanism: the
// file over the defaults, then the flags given; flags not given keep the
// file's values.
func TestServerFlagsOverTheFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kansoku.yml")
	if err := os.WriteFile(file, []byte(`
region: eu-west-1
storage: {data_dir: /from/file}
ingest: {guardrails: false}
aws_integration: {poll: false, endpoint_url: "http://file.example"}
alertmanager: {receiver_firewall: {allow_networks: [10.1.0.0/16]}}
workspace: {max_per_account: 3}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(args ...string) config.Config {
		t.Helper()
		a := kingpin.New("kansoku", "")
		f := newServerFlags(a.Command("server", ""))
		if _, err := a.Parse(append([]string{"server"}, args...)); err != nil {
			t.Fatal(err)
		}
		cfg, err := f.config()
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cfg := parse("--config.file", file, "--data.dir", "/from/flag", "--ingest.guardrails", "--alertmanager.receiver-allow-network=127.0.0.0/8", "--web.listen-address=127.0.0.1:0")
	if cfg.Storage.DataDir != "/from/flag" || !cfg.Ingest.Guardrails || cfg.Web.ListenAddress != "127.0.0.1:0" {
		t.Errorf("flags did not win over the file: %+v", cfg)
	}
	if cfg.Region != "eu-west-1" || cfg.AWS.Poll || cfg.AWS.EndpointURL != "http://file.example" || cfg.Workspace.MaxPerAccount != 3 {
		t.Errorf("the file's values were lost: %+v", cfg)
	}
	if got := cfg.Alertmanager.ReceiverFirewall.AllowNetworks; len(got) != 2 || got[0] != "10.1.0.0/16" || got[1] != "127.0.0.0/8" {
		t.Errorf("allow networks %v; want the file's and the flag's", got)
	}
	if cfg := parse("--no-aws.poll", "--workspace.max-per-account=7", "--workspace.retention-days=30"); cfg.AWS.Poll || cfg.Workspace.MaxPerAccount != 7 ||
		cfg.Limits.RetentionDays != 30 || cfg.Storage.DataDir != config.Default().Storage.DataDir {
		t.Errorf("flags without a file: %+v", cfg)
	}
	if cfg := parse("--demo"); cfg.Storage.DataDir != "./demo-data" {
		t.Errorf("demo data dir %q", cfg.Storage.DataDir)
	}
	if cfg := parse("--demo", "--data.dir=./data"); cfg.Storage.DataDir != "./data" {
		t.Errorf("demo with --data.dir: %q", cfg.Storage.DataDir)
	}
}
