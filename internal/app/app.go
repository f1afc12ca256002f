// Package app is the composition root: it builds every component of a
// Kansoku server from a config.Config, wires them together and runs them as
// one group. A half-built App closes what it opened. Tests start it
// in-process; cmd/kansoku runs it as `kansoku server`.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/oklog/run"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/exporter-toolkit/web"
	v1 "github.com/prometheus/prometheus/web/api/v1"
	"go.yaml.in/yaml/v2"

	"github.com/kansoku/kansoku/internal/alertmanager"
	"github.com/kansoku/kansoku/internal/alertmanager/snsnotify"
	"github.com/kansoku/kansoku/internal/amconfig"
	"github.com/kansoku/kansoku/internal/api"
	"github.com/kansoku/kansoku/internal/audit"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/console"
	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/hosts"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/iam"
	"github.com/kansoku/kansoku/internal/ingest"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/query"
	"github.com/kansoku/kansoku/internal/rulegroups"
	"github.com/kansoku/kansoku/internal/ruler"
	"github.com/kansoku/kansoku/internal/secrets"
	"github.com/kansoku/kansoku/internal/tagging"
	"github.com/kansoku/kansoku/internal/telemetry"
	"github.com/kansoku/kansoku/internal/tenantdb"
	"github.com/kansoku/kansoku/internal/usage"
	"github.com/kansoku/kansoku/internal/version"
	"github.com/kansoku/kansoku/internal/workspace"
	"github.com/kansoku/kansoku/internal/wslog"
)

// AdminCredentialsFile is the name, under the data dir, of the file holding
// the admin access key created at first start.
const AdminCredentialsFile = "admin-credentials"

// App is one running Kansoku server.
type App struct {
	Config     config.Config
	Logger     *slog.Logger
	Registry   *prometheus.Registry
	Meta       *metastore.DB
	Account    metastore.Account
	IAM        *iam.Service
	TSDB       *tenantdb.Manager
	Workspaces *workspace.Service
	Limits     *limits.Overrides
	// LimitsService persists per-workspace overrides.
	LimitsService *limits.Service
	SeriesLimits  *ingest.SeriesLimiters
	HA            *ingest.HATracker
	Distributor   *ingest.Distributor
	Query         *query.API
	RuleGroups    *rulegroups.Service
	AMConfig      *amconfig.Service
	Ruler         *ruler.Ruler
	Alertmanager  *alertmanager.Manager
	Hosts         *hosts.Service
	AWS           *awsint.Service
	Sessions      *console.Sessions
	Dashboards    *console.Dashboards
	Logging       *wslog.Service
	Audit         *audit.Recorder
	Usage         *usage.Tracker
	API           *api.Server
	ExternalURL   string
	TLS           bool
	// FirstStart holds the admin key minted on this start, if this was the
	// installation's first.
	FirstStart *iam.NewKey

	ready    atomic.Bool
	closers  []func() error
	listener net.Listener
	// extraLoops are added by tests (export_test.go).
	extraLoops []loop
}

// New builds an App. On error everything opened so far is closed.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Logger: logger, Registry: prometheus.NewRegistry()}
	if cfg.Runtime.GoGC > 0 {
		debug.SetGCPercent(cfg.Runtime.GoGC)
	}
	defer func() {
		if err != nil {
			a.Close() // roll back what was opened
		}
	}()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kansoku_build_info", Help: "Kansoku build information.",
		ConstLabels: prometheus.Labels{"version": version.Version, "revision": version.Revision()},
	}, func() float64 { return 1 }))

	tlsOn, err := webTLSEnabled(cfg.Web.ConfigFile)
	if err != nil {
		return nil, err
	}
	a.TLS = tlsOn
	// The listener is bound now, so that a listen address with port 0 gives
	// the external URL (and the log) the port actually bound.
	a.listener = cfg.Web.Listener
	if a.listener == nil {
		if a.listener, err = net.Listen("tcp", cfg.Web.ListenAddress); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", cfg.Web.ListenAddress, err)
		}
	}
	a.closers = append(a.closers, func() error {
		if err := a.listener.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	})
	a.ExternalURL = cfg.ExternalURLFor(tlsOn, a.listener.Addr().String())

	dataDir := cfg.Storage.DataDir
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := a.openMetadata(ctx); err != nil {
		return nil, err
	}
	keyFile := cfg.Storage.SecretKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(dataDir, "secret.key")
	}
	key, err := secrets.LoadOrCreateKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	box, err := secrets.New(key)
	if err != nil {
		return nil, err
	}
	if err := a.initAccount(ctx, box); err != nil {
		return nil, err
	}

	a.Limits = limits.NewOverrides(cfg.Limits)
	a.LimitsService = limits.NewService(a.Meta, a.Limits, logger.With("component", "limits"))
	if err := a.LimitsService.Load(ctx); err != nil {
		return nil, err
	}
	a.SeriesLimits = ingest.NewSeriesLimiters(a.Limits, !cfg.Ingest.Guardrails)
	a.TSDB = tenantdb.New(tenantdb.Options{Dir: filepath.Join(dataDir, "workspaces"), Logger: logger.With("component", "tsdb"), Series: a.SeriesLimits.Hooks()})
	a.closers = append(a.closers, a.TSDB.CloseAll)

	a.Workspaces = workspace.New(workspace.Options{
		AccountID: a.Account.ID, Region: a.Account.Region, ExternalURL: a.ExternalURL,
		MaxWorkspaces: cfg.Workspace.MaxPerAccount, RetentionDays: cfg.Limits.RetentionDays,
		Logger: logger.With("component", "workspace"),
	}, a.Meta, a.TSDB)

	ingestMetrics := ingest.NewMetrics(a.Registry)
	a.HA = ingest.NewHATracker(a.Meta, a.Registry, logger.With("component", "ha"))
	if err := a.HA.Load(ctx); err != nil {
		return nil, err
	}
	a.Distributor = ingest.NewDistributor(ingest.DistributorOptions{Storage: a.TSDB, Limits: a.Limits, Metadata: a.Meta,
		Metrics: ingestMetrics, HA: a.HA, Guardrails: cfg.Ingest.Guardrails, Logger: logger.With("component", "ingest")})
	a.Workspaces.AddListener(forgetOnDelete{a})
	a.Hosts = hosts.New(a.Meta, logger.With("component", "hosts"))
	if err := a.Hosts.Load(ctx); err != nil {
		return nil, err
	}
	a.Distributor.SetHostResolver(a.Hosts.HostIDFor)

	a.Query = query.New(query.Options{
		Logger: logger.With("component", "query"), Registerer: a.Registry, Limits: a.Limits,
		LookbackDelta: time.Duration(cfg.Query.LookbackDelta), MaxConcurrent: cfg.Query.MaxConcurrent, MaxInflightSamples: cfg.Query.MaxInflightSamples,
		Rules: func(ctx context.Context) v1.RulesRetriever { return a.Ruler.RulesFor(ctx) },
	}, a.TSDB, a.Meta)

	a.Logging = wslog.New(a.Meta, a.Workspaces, time.Duration(cfg.WorkspaceLogs.Retention), logger.With("component", "wslog"))
	a.AWS = awsint.New(awsint.Options{
		Logger: logger.With("component", "aws"), Store: a.Meta, Workspaces: a.Workspaces, Hosts: a.Hosts, Pusher: a.Distributor,
		Sealer: box, Registerer: a.Registry, Logs: a.Logging, EndpointURL: cfg.AWS.EndpointURL, BaseRegion: cfg.AWS.Region,
		Delay: time.Duration(cfg.AWS.CloudWatchDelay), MaxConcurrentPolls: cfg.AWS.MaxConcurrentPolls,
		DefaultPollInterval: time.Duration(cfg.AWS.DefaultPollInterval), Backfill: time.Duration(cfg.AWS.Backfill),
		BaseCredentials: staticAWSCredentials(cfg.AWS),
	})
	a.RuleGroups = rulegroups.New(a.Meta, a.Workspaces, a.Limits, a.Logging, a.Account.Region, a.Account.ID, logger.With("component", "rulegroups"))
	firewall, err := egress.New(cfg.Alertmanager.ReceiverFirewall)
	if err != nil {
		return nil, err
	}
	amStore := amconfig.SealedStore{Store: a.Meta, Box: box}
	if n, err := amStore.SealAll(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		logger.Info("sealed Alertmanager definitions stored in clear by an earlier version", "definitions", n)
	}
	a.AMConfig = amconfig.New(amStore, a.Workspaces, a.Limits, a.Logging, logger.With("component", "amconfig"))
	a.AMConfig.SetFirewall(firewall)
	a.Alertmanager = alertmanager.New(alertmanager.Options{
		Logger: logger.With("component", "alertmanager"), WorkspaceDir: a.TSDB.WorkspaceDir,
		Source: a.AMConfig, Limits: a.Limits, Logs: a.Logging, Registries: telemetry.NewRegistries(),
		ExternalURL: a.ExternalURL, Retention: time.Duration(cfg.Alertmanager.Retention),
		SNS:      snsnotify.Options{Endpoint: cfg.Alertmanager.SNSEndpoint, STSEndpoint: cfg.Alertmanager.STSEndpoint},
		Firewall: firewall,
	})
	a.Registry.MustRegister(a.Alertmanager)
	a.Ruler = ruler.New(ruler.Options{
		Logger: logger.With("component", "ruler"), Engine: a.Query.Engine(), Queryable: a.Query.Queryable(),
		Storage: a.TSDB, Source: a.RuleGroups, Limits: a.Limits, Notify: a.Alertmanager.Send,
		Logs: a.Logging, Registries: telemetry.NewRegistries(), ExternalURL: a.ExternalURL,
		OutageTolerance: time.Duration(cfg.Ruler.OutageTolerance), ForGracePeriod: time.Duration(cfg.Ruler.ForGracePeriod),
		ResendDelay: time.Duration(cfg.Ruler.ResendDelay), DefaultInterval: time.Duration(cfg.Ruler.DefaultEvaluationInterval),
	})
	a.RuleGroups.OnChange(func(_ context.Context, ws string) { a.Ruler.Sync(ws) })
	a.AMConfig.OnChange(func(_ context.Context, ws string) { a.Alertmanager.Sync(ws) })
	a.Audit = audit.NewRecorder(a.Meta, a.Registry, logger.With("component", "audit"))
	a.Usage = usage.New(usage.Options{Workspaces: a.Workspaces, Storage: a.TSDB, Series: a.SeriesLimits, Ingest: ingestMetrics,
		SelfMetrics: cfg.Usage.SelfMetrics, Logger: logger.With("component", "usage")})
	a.Usage.AddExtra(a.Ruler.Usage)
	a.Usage.AddExtra(a.Alertmanager.Usage)
	a.Registry.MustRegister(a.Usage)

	a.Sessions = console.NewSessions(a.Meta, a.IAM, console.Options{Logger: logger.With("component", "console")})
	a.Dashboards = console.NewDashboards(a.Meta)
	authn := auth.NewAuthenticator(a.Account.ID, a.Account.Region, a.IAM, nil)
	authn.Sessions = a.Sessions
	authn.ExternalOrigin = originOf(a.ExternalURL)
	arns := httpapi.ARNs{Region: a.Account.Region, AccountID: a.Account.ID}
	a.API = api.New(api.Options{
		Logger: logger.With("component", "api"), Registerer: a.Registry,
		Gatherer: prometheus.Gatherers{a.Registry, a.TSDB.Gatherer(), a.Ruler.Gatherer(), a.Alertmanager.Gatherer()},
		ARNs:     arns, Authn: authn, Authz: a.IAM,
		Workspaces: a.Workspaces, Limits: a.Limits, Audit: a.Audit,
		Ready:           a.ready.Load,
		BodyReadTimeout: time.Duration(cfg.Web.BodyReadTimeout),
	}, api.Routes{
		Workspaces:   a.Workspaces.Routes(),
		RuleGroups:   a.RuleGroups.Routes(),
		AMConfig:     a.AMConfig.Routes(),
		Logging:      a.Logging.Routes(),
		Tags:         tagging.Routes(arns, a.Meta, a.Workspaces, a.RuleGroups),
		Ingest:       a.Distributor.Routes(ingest.NewInflight(cfg.Ingest.MaxInflightBytes, a.Registry)),
		Query:        a.Query.Routes(),
		Alertmanager: a.Alertmanager.Routes(),
		IAM:          a.IAM.Routes(),
		Audit:        a.Audit.Routes(),
		Limits:       a.LimitsService.Routes(arns, a.Workspaces),
		Usage:        a.Usage.Routes(a.Workspaces, a.Limits, a.HA),
		AWS:          a.AWS.Routes(arns),
		Hosts:        a.Hosts.Routes(arns, a.Workspaces),
		Console: console.HTTP{Sessions: a.Sessions, Dashboards: a.Dashboards, Workspaces: a.Workspaces, UserARN: a.IAM.UserARN,
			Audit: a.Audit, ARNs: arns, Logger: logger.With("component", "console")}.Routes(),
	})
	return a, nil
}

func (a *App) openMetadata(ctx context.Context) error {
	mc := a.Config.Storage.Metadata
	switch mc.Driver {
	case "", "sqlite":
		path := mc.DSN
		if path == "" {
			path = filepath.Join(a.Config.Storage.DataDir, "kansoku.db")
		}
		db, err := metastore.OpenSQLite(ctx, path)
		if err != nil {
			return err
		}
		a.Meta = db
	default:
		return fmt.Errorf("metadata driver %q is not available in this build", mc.Driver)
	}
	a.closers = append(a.closers, a.Meta.Close)
	return nil
}

// initAccount loads the installation's account, creating it (and the admin
// user with its first access key) on first start.
func (a *App) initAccount(ctx context.Context, box *secrets.Box) error {
	acct, err := a.Meta.GetAccount(ctx)
	switch {
	case errors.Is(err, metastore.ErrNotFound):
		acct = metastore.Account{ID: newAccountID(), Region: a.Config.Region, CreatedAt: time.Now().UTC()}
		a.IAM = iam.New(a.Meta, box, acct.ID, a.Logger.With("component", "iam"), 10*time.Second)
		var key iam.NewKey
		err = a.Meta.InTx(ctx, func(q *metastore.Queries) error {
			if err := q.CreateAccount(ctx, acct); err != nil {
				return err
			}
			var err error
			key, err = iam.New(q, box, acct.ID, a.Logger, 0).Bootstrap(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("initialise installation: %w", err)
		}
		if err := writeAdminCredentials(filepath.Join(a.Config.Storage.DataDir, AdminCredentialsFile), key, acct.Region); err != nil {
			return err
		}
		a.FirstStart = &key
		a.Logger.Info("installation initialised", "account", acct.ID, "region", acct.Region)
	case err != nil:
		return fmt.Errorf("read installation account: %w", err)
	default:
		if acct.Region != a.Config.Region {
			return fmt.Errorf("this installation's region is %s (set at first start); --region=%s does not match", acct.Region, a.Config.Region)
		}
		a.IAM = iam.New(a.Meta, box, acct.ID, a.Logger.With("component", "iam"), 10*time.Second)
	}
	a.Account = acct
	return nil
}

func newAccountID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(9e11))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%012d", n.Int64()+1e11) // 12 digits, no leading zero
}

func writeAdminCredentials(path string, k iam.NewKey, region string) error {
	content := fmt.Sprintf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_DEFAULT_REGION=%s\n", k.AccessKeyID, k.SecretAccessKey, region)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// webTLSEnabled validates a Prometheus web config file and reports whether
// it turns TLS on. Basic auth there would fight Kansoku's own
// authentication, so it is refused.
func webTLSEnabled(path string) (bool, error) {
	if path == "" {
		return false, nil
	}
	if err := web.Validate(path); err != nil {
		return false, fmt.Errorf("web config file %s: %w", path, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	var wc struct {
		TLS struct {
			CertFile string `yaml:"cert_file"`
			Cert     string `yaml:"cert"`
		} `yaml:"tls_server_config"`
		BasicAuth map[string]string `yaml:"basic_auth_users"`
	}
	if err := yaml.Unmarshal(b, &wc); err != nil {
		return false, fmt.Errorf("web config file %s: %w", path, err)
	}
	if len(wc.BasicAuth) > 0 {
		return false, fmt.Errorf("web config file %s: basic_auth_users is not supported: Kansoku authenticates every request itself (SigV4 or API tokens)", path)
	}
	return wc.TLS.CertFile != "" || wc.TLS.Cert != "", nil
}

// originOf returns the scheme://host[:port] of a URL ("" if none).
func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || p.Host == "" {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// Handler returns the HTTP handler of the whole service.
func (a *App) Handler() http.Handler { return a.API }

// Addr is the address the server listens on.
func (a *App) Addr() net.Addr { return a.listener.Addr() }

// Run serves until ctx is cancelled, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	var g run.Group
	wsCtx, wsCancel := context.WithCancel(context.Background())
	g.Add(func() error {
		a.Logger.Info("starting workspace reconciler")
		done := make(chan error, 1)
		go func() { done <- a.Workspaces.Run(wsCtx) }()
		select {
		case <-a.Workspaces.Ready():
		case err := <-done:
			return err
		}
		// Rules and Alertmanagers start once storage is open; the server is
		// ready when they run too (an Alertmanager API that answers 404 for
		// a few moments after a restart would confuse clients).
		for _, c := range []<-chan struct{}{a.Ruler.Ready(), a.Alertmanager.Ready()} {
			select {
			case <-c:
			case err := <-done:
				return err
			}
		}
		a.ready.Store(true)
		a.Logger.Info("workspace storage, rules and Alertmanagers up; ready")
		return <-done
	}, func(error) {
		wsCancel()
	})

	srv := &http.Server{
		Handler:           a.API,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		MaxHeaderBytes:    256 << 10,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	webFile := a.Config.Web.ConfigFile
	flags := &web.FlagConfig{WebListenAddresses: &[]string{a.Config.Web.ListenAddress}, WebConfigFile: &webFile}
	g.Add(func() error {
		// The bound address, which a test harness reads to find the port.
		a.Logger.Info("listening", "address", a.listener.Addr().String(), "external_url", a.ExternalURL, "tls", a.TLS)
		err := web.Serve(a.listener, srv, flags, a.Logger)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}, func(error) {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		a.Logger.Info("stopping HTTP server")
		_ = srv.Shutdown(sctx)
	})

	// Background loops, one actor each, in a fixed order. run.Group
	// interrupts actors in the order they were added: the HTTP server
	// drains first, then the loops stop, the audit and log writers last, so
	// that the last requests are still recorded. A loop that returns while
	// the server runs, with or without an error, stops the whole server:
	// a Kansoku without its rule evaluation or audit trail must not keep
	// answering as if it were whole.
	for _, l := range a.loops() {
		loopCtx, cancel := context.WithCancel(context.Background())
		g.Add(func() error {
			a.Logger.Debug("background loop starting", "loop", l.name)
			err := l.run(loopCtx)
			if loopCtx.Err() != nil {
				a.Logger.Debug("background loop stopped", "loop", l.name)
				return nil
			}
			if err == nil {
				err = errors.New("returned")
			}
			a.Logger.Error("background loop died; stopping the server", "loop", l.name, "err", err)
			return fmt.Errorf("background loop %s: %w", l.name, err)
		}, func(error) { cancel() })
	}

	stopCtx, stop := context.WithCancel(ctx)
	g.Add(func() error {
		<-stopCtx.Done()
		if ctx.Err() != nil {
			a.Logger.Info("shutdown requested")
		}
		return nil
	}, func(error) { stop() })

	err := g.Run()
	a.ready.Store(false)
	return err
}

// loop is one background loop of the server.
type loop struct {
	name string
	run  func(context.Context) error
}

// loops are the server's background loops, in the order they stop.
func (a *App) loops() []loop {
	ls := []loop{
		// Rules start after the Alertmanagers: an alert fired before its
		// Alertmanager runs is dropped and only resent a ResendDelay later.
		{"ruler", a.afterStorage(func(ctx context.Context) error {
			select {
			case <-a.Alertmanager.Ready():
			case <-ctx.Done():
				return nil
			}
			return a.Ruler.Run(ctx, a.activeWorkspaces)
		})},
		{"alertmanager", a.afterStorage(func(ctx context.Context) error { return a.Alertmanager.Run(ctx, a.activeWorkspaces) })},
	}
	if a.Config.AWS.Poll {
		ls = append(ls, loop{"aws", a.afterStorage(a.AWS.Run)})
	}
	ls = append(ls,
		loop{"rulegroups", a.RuleGroups.Run},
		loop{"amconfig", a.AMConfig.Run},
		loop{"limits", func(ctx context.Context) error { return a.LimitsService.Run(ctx, 30*time.Second) }},
		loop{"usage", a.Usage.Run},
		loop{"ha-cleanup", a.haCleanup},
		loop{"console-sessions", a.Sessions.Run},
	)
	ls = append(ls, a.extraLoops...)
	return append(ls,
		loop{"wslog", a.Logging.Run},
		loop{"audit", func(ctx context.Context) error { return a.Audit.Run(ctx, time.Duration(a.Config.Audit.Retention)) }},
	)
}

// Close releases everything the App opened (TSDBs are closed, their heads
// stay in the WAL for the next start).
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.Logger.Error("close", "err", err)
		}
	}
	a.closers = nil
}

// haCleanup forgets HA clusters that went silent.
func (a *App) haCleanup(ctx context.Context) error {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			a.HA.Cleanup(ctx, now)
		}
	}
}

// staticAWSCredentials are Kansoku's own AWS credentials from the
// configuration, or nil for the standard credential chain.
func staticAWSCredentials(c awsint.Config) aws.CredentialsProvider {
	if c.AccessKeyID == "" {
		return nil
	}
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")
}

// Ready reports whether the server has opened every workspace and started
// rules and Alertmanagers.
func (a *App) Ready() bool { return a.ready.Load() }

// afterStorage delays a loop until every workspace's storage is open (rules
// must not query, and alerts must not be evaluated, over half-open data).
func (a *App) afterStorage(fn func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		select {
		case <-a.Workspaces.Ready():
		case <-ctx.Done():
			return nil
		}
		return fn(ctx)
	}
}

func (a *App) activeWorkspaces(context.Context) ([]string, error) {
	return a.Workspaces.ActiveIDs(), nil
}

// forgetOnDelete drops a deleted workspace's in-memory state.
type forgetOnDelete struct{ a *App }

func (f forgetOnDelete) WorkspaceActivated(_ context.Context, w metastore.Workspace) {
	f.a.Ruler.Sync(w.ID)
	f.a.Alertmanager.Sync(w.ID)
}

func (f forgetOnDelete) WorkspaceDeleted(_ context.Context, ws string) {
	f.a.Ruler.Remove(ws)
	f.a.Alertmanager.Remove(ws)
	f.a.Distributor.ForgetWorkspace(ws)
	f.a.Query.Gate().Forget(ws)
	f.a.SeriesLimits.Forget(ws)
	f.a.Limits.Set(ws, nil)
}
