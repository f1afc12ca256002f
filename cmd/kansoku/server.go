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
	"github.com/kansoku/kansoku/internal/cliflag"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/demo"
	"github.com/kansoku/kansoku/internal/version"
)

// serverFlags are the server command's flags, bound to a Config.
type serverFlags struct {
	cfg        config.Config
	configFile *string
	demo       *bool
	parsed     *kingpin.ParseContext
}

func newServerFlags(cmd *kingpin.CmdClause) *serverFlags {
	// Every component binds its flags to its section of cfg; a file given
	// with --config.file is read over the defaults and the flags the user
	// gave are applied again over it: flags win, one mechanism for both.
	f := &serverFlags{cfg: config.Default()}
	f.configFile = cmd.Flag("config.file", "Optional YAML configuration file; flags given on the command line win over it.").String()
	f.demo = cmd.Flag("demo", "Demo: a simulated AWS account (in-process AWS API simulator) whose resources an AWS integration collects into a workspace \"demo\", with a rule and an Alertmanager. Data in ./demo-data unless --data.dir is given.").Bool()
	f.cfg.RegisterFlags(cliflag.New(cmd))
	cmd.Action(func(pc *kingpin.ParseContext) error { f.parsed = pc; return nil })
	return f
}

// config is the configuration the command line asks for: defaults, the
// file, the flags given.
func (f *serverFlags) config() (config.Config, error) {
	if *f.configFile != "" {
		f.cfg = config.Default()
		if err := f.cfg.LoadFile(*f.configFile); err != nil {
			return f.cfg, err
		}
		if err := cliflag.Reapply(f.parsed); err != nil {
			return f.cfg, err
		}
	}
	cfg := f.cfg
	if *f.demo && !cliflag.Given(f.parsed, "data.dir") && cfg.Storage.DataDir == config.Default().Storage.DataDir {
		cfg.Storage.DataDir = "./demo-data"
	}
	return cfg, nil
}

func registerServer(a *kingpin.Application, commands map[string]func(context.Context) error) {
	cmd := a.Command("server", "Run the Kansoku server (control plane, ingest, query) on embedded storage.")
	flags := newServerFlags(cmd)
	commands["server"] = func(ctx context.Context) error {
		cfg, err := flags.config()
		if err != nil {
			return err
		}
		var sim *demo.Simulator
		if *flags.demo {
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
		printBanner(os.Stdout, a.Info(), term.IsTerminal(int(os.Stdout.Fd())))
		if sim != nil {
			go func() {
				res, err := demo.Setup(ctx, a, sim, logger)
				if err != nil {
					logger.Error("demo setup failed", "err", err)
					return
				}
				printDemo(os.Stdout, a.Info(), sim, res)
			}()
		}
		if !a.Info().TLS {
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
func printBanner(w io.Writer, a app.Info, tty bool) {
	url := a.ExternalURL
	credFile := filepath.Join(a.DataDir, app.AdminCredentialsFile)
	var b strings.Builder
	fmt.Fprintf(&b, "\nKansoku %s\n", version.Version)
	fmt.Fprintf(&b, "  endpoint:  %s\n", url)
	fmt.Fprintf(&b, "  console:   %s/console/  (sign in with the admin access key)\n", url)
	fmt.Fprintf(&b, "  account:   %s   region: %s\n", a.Account.ID, a.Account.Region)
	fmt.Fprintf(&b, "  data:      %s\n", a.DataDir)
	switch k := a.FirstStart; {
	case k != nil && tty:
		fmt.Fprintf(&b, "\nAdmin credentials (shown once; saved in %s, mode 0600):\n", credFile)
		fmt.Fprintf(&b, "  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n", k.AccessKeyID, k.SecretAccessKey)
	case k != nil:
		fmt.Fprintf(&b, "\nAdmin access key %s created; its secret is in %s (mode 0600), not printed because stdout is not a terminal.\n", k.AccessKeyID, credFile)
	default:
		if _, err := os.Stat(credFile); err == nil {
			fmt.Fprintf(&b, "  admin credentials: %s\n", credFile)
		} else {
			// Another node of the installation created the admin key (a
			// cluster shares one database): its credentials file is there.
			credFile = "<the admin-credentials file of the node that initialised the installation>"
			fmt.Fprintf(&b, "  admin credentials: in the data directory of the node that initialised the installation\n")
		}
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
`, credFile, url, a.Account.Region, a.DataDir, strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://"))
	if !a.TLS {
		fmt.Fprintf(&b, "\nTLS is off: credentials cross the network in clear. Serve only on localhost, or pass --web.config.file with tls_server_config.\n")
	}
	fmt.Fprintln(w, b.String())
}

func printDemo(w io.Writer, a app.Info, sim *demo.Simulator, res demo.Result) {
	dd := a.DataDir
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
