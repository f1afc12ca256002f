package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"golang.org/x/term"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/demo"
	"github.com/kansoku/kansoku/internal/version"
)

func registerServer(a *kingpin.Application) {
	cmd := a.Command("server", "Run the Kansoku server (control plane, ingest, query) on embedded storage.")
	d := config.Default()
	given := map[string]*bool{}
	flag := func(name, help string) *kingpin.FlagClause {
		given[name] = new(bool)
		return cmd.Flag(name, help).IsSetByUser(given[name])
	}
	var (
		configFile  = cmd.Flag("config.file", "Optional YAML configuration file; flags given on the command line win over it.").String()
		listen      = flag("web.listen-address", "Address to listen on.").Default(d.Web.ListenAddress).String()
		externalURL = flag("web.external-url", "URL under which clients reach this server (default: derived from the listen address).").String()
		webConfig   = flag("web.config.file", "Prometheus-style web configuration file enabling TLS.").String()
		dataDir     = flag("data.dir", "Directory for all data (metadata, workspaces' TSDBs).").Default(d.Storage.DataDir).String()
		region      = flag("region", "The installation's region, fixed at first start.").Default(d.Region).String()
		maxWS       = flag("workspace.max-per-account", "Quota of workspaces (AMP: 25).").Default(fmt.Sprint(d.Workspace.MaxPerAccount)).Int()
		retention   = flag("workspace.retention-days", "Default retention of a workspace's samples (AMP: 150).").Default(fmt.Sprint(d.Limits.RetentionDays)).Int()
		selfMetrics = flag("usage.self-metrics", "Write each workspace's own usage series (prometheus_tsdb_head_series, ...; job=\"kansoku\") into it.").Default("true").Bool()
		guardrails  = flag("ingest.guardrails", "AMP's ingestion guardrails (throttling, HA deduplication, series limits). Turn off only to measure their cost.").Default("true").Bool()
		snsEndpoint = flag("alertmanager.sns-endpoint", "SNS API URL for sns_configs receivers without api_url (default: AWS's regional endpoint; credentials from the AWS default chain).").String()
		stsEndpoint = flag("alertmanager.sts-endpoint", "STS API URL for sns_configs with sigv4.role_arn.").String()
		rcvAllow    = flag("alertmanager.receiver-allow-network", "A network (CIDR) tenants' receivers may reach although it is internal (loopback, private, link-local ...); repeatable.").Strings()
		awsPoll     = flag("aws.poll", "Run the AWS integrations' scheduled polls on this server (with several servers on one metadata store, one polls).").Default("true").Bool()
		awsEndpoint = flag("aws.endpoint-url", "Send every AWS call of the AWS integration to this endpoint (an AWS API simulator); default: AWS.").String()
		demoMode    = cmd.Flag("demo", "Demo: a simulated AWS account (in-process AWS API simulator) whose resources an AWS integration collects into a workspace \"demo\", with a rule and an Alertmanager. Data in ./demo-data unless --data.dir is given.").Bool()
		logLevel    = flag("log.level", "Log level: debug, info, warn, error.").Default(d.Log.Level).String()
		logFormat   = flag("log.format", "Log format: logfmt or json.").Default(d.Log.Format).String()
	)
	commands["server"] = func(ctx context.Context) error {
		cfg := config.Default()
		if *configFile != "" {
			var err error
			if cfg, err = config.LoadFile(*configFile); err != nil {
				return err
			}
		}
		// Flags win over the file, but only those actually given.
		set := func(name string) bool { return *configFile == "" || *given[name] }
		if set("web.listen-address") {
			cfg.Web.ListenAddress = *listen
		}
		if set("web.external-url") && *externalURL != "" {
			cfg.Web.ExternalURL = *externalURL
		}
		if set("web.config.file") && *webConfig != "" {
			cfg.Web.ConfigFile = *webConfig
		}
		if set("data.dir") {
			cfg.Storage.DataDir = *dataDir
		}
		if set("region") {
			cfg.Region = *region
		}
		if set("workspace.max-per-account") {
			cfg.Workspace.MaxPerAccount = *maxWS
		}
		if set("workspace.retention-days") {
			cfg.Limits.RetentionDays = *retention
		}
		if set("usage.self-metrics") {
			cfg.Usage.SelfMetrics = *selfMetrics
		}
		if set("ingest.guardrails") {
			cfg.Ingest.Guardrails = *guardrails
		}
		if set("alertmanager.sns-endpoint") && *snsEndpoint != "" {
			cfg.Alertmanager.SNSEndpoint = *snsEndpoint
		}
		if set("alertmanager.sts-endpoint") && *stsEndpoint != "" {
			cfg.Alertmanager.STSEndpoint = *stsEndpoint
		}
		if set("alertmanager.receiver-allow-network") && len(*rcvAllow) > 0 {
			cfg.Alertmanager.ReceiverFirewall.AllowNetworks = *rcvAllow
		}
		if set("aws.poll") {
			cfg.AWS.Poll = *awsPoll
		}
		if set("aws.endpoint-url") && *awsEndpoint != "" {
			cfg.AWS.EndpointURL = *awsEndpoint
		}
		if set("log.level") {
			cfg.Log.Level = *logLevel
		}
		if set("log.format") {
			cfg.Log.Format = *logFormat
		}
		var sim *demo.Simulator
		if *demoMode {
			if !*given["data.dir"] && (*configFile == "" || cfg.Storage.DataDir == config.Default().Storage.DataDir) {
				cfg.Storage.DataDir = "./demo-data"
			}
			var err error
			if sim, err = demo.Start(&cfg); err != nil {
				return err
			}
			defer sim.Close()
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		logger := newLogger(os.Stderr, cfg.Log)
		a, err := app.New(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer a.Close()
		printBanner(os.Stdout, a, term.IsTerminal(int(os.Stdout.Fd())))
		if sim != nil {
			go func() {
				res, err := demo.Setup(ctx, a, sim, logger)
				if err != nil {
					logger.Error("demo setup failed", "err", err)
					return
				}
				printDemo(os.Stdout, a, sim, res)
			}()
		}
		if !a.TLS {
			logger.Warn("TLS is off: bearer tokens and SigV4-signed requests cross the network in clear; use --web.config.file with tls_server_config outside localhost")
		}
		return a.Run(ctx)
	}
}

func newLogger(w io.Writer, c config.LogConfig) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// printBanner tells the operator how to use the server. The admin secret is
// printed only on the installation's first start, and only to a terminal:
// when stdout goes to a log (systemd, docker, a file), the secret stays in
// the credentials file alone.
func printBanner(w io.Writer, a *app.App, tty bool) {
	url := a.ExternalURL
	credFile := filepath.Join(a.Config.Storage.DataDir, app.AdminCredentialsFile)
	var b strings.Builder
	fmt.Fprintf(&b, "\nKansoku %s\n", version.Version)
	fmt.Fprintf(&b, "  endpoint:  %s\n", url)
	fmt.Fprintf(&b, "  console:   %s/console/  (sign in with the admin access key)\n", url)
	fmt.Fprintf(&b, "  account:   %s   region: %s\n", a.Account.ID, a.Account.Region)
	fmt.Fprintf(&b, "  data:      %s\n", a.Config.Storage.DataDir)
	switch k := a.FirstStart; {
	case k != nil && tty:
		fmt.Fprintf(&b, "\nAdmin credentials (shown once; saved in %s, mode 0600):\n", credFile)
		fmt.Fprintf(&b, "  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n", k.AccessKeyID, k.SecretAccessKey)
	case k != nil:
		fmt.Fprintf(&b, "\nAdmin access key %s created; its secret is in %s (mode 0600), not printed because stdout is not a terminal.\n", k.AccessKeyID, credFile)
	default:
		fmt.Fprintf(&b, "  admin credentials: %s\n", credFile)
	}
	fmt.Fprintf(&b, `
Use it:
  set -a; . %[1]s; set +a
  aws amp create-workspace --alias demo --endpoint-url %[2]s
  aws amp list-workspaces --endpoint-url %[2]s

  Prometheus remote_write (prometheus.yml):
    remote_write:
      - url: %[2]s/workspaces/<workspaceId>/api/v1/remote_write
        sigv4: { region: %[3]s, access_key: <AWS_ACCESS_KEY_ID>, secret_key: <AWS_SECRET_ACCESS_KEY> }

  Query (a bearer token for tools that cannot sign):
    TOKEN=$(kansoku token create --data.dir %[4]s --url %[2]s)
    curl -H "Authorization: Bearer $TOKEN" '%[2]s/workspaces/<workspaceId>/api/v1/query?query=up'
    promtool query instant "http://kansoku:$TOKEN@%[5]s/workspaces/<workspaceId>" up
`, credFile, url, a.Account.Region, a.Config.Storage.DataDir, strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://"))
	if !a.TLS {
		fmt.Fprintf(&b, "\nTLS is off: credentials cross the network in clear. Serve only on localhost, or pass --web.config.file with tls_server_config.\n")
	}
	fmt.Fprintln(w, b.String())
}

func printDemo(w io.Writer, a *app.App, sim *demo.Simulator, res demo.Result) {
	dd := a.Config.Storage.DataDir
	fmt.Fprintf(w, `
Demo: the simulated AWS account %[1]s (AWS API simulator at %[2]s) is collected by the AWS
integration %[3]s into the workspace %[4]s, every minute; a rule alerts on busy EC2 instances.
  kansoku hosts list --workspace %[4]s --data.dir %[5]s --url %[6]s
  kansoku aws show %[3]s --data.dir %[5]s --url %[6]s
  TOKEN=$(kansoku token create --data.dir %[5]s --url %[6]s)
  curl -H "Authorization: Bearer $TOKEN" '%[6]s/workspaces/%[4]s/api/v1/query?query=last_over_time(aws_ec2_cpuutilization_average%%5B15m%%5D)'
  curl -H "Authorization: Bearer $TOKEN" '%[6]s/workspaces/%[4]s/api/v1/alerts'
`, demo.Account, sim.URL, res.IntegrationID, res.WorkspaceID, dd, a.ExternalURL)
}
