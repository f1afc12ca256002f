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
	"github.com/prometheus/prometheus/tsdb"
	v1 "github.com/prometheus/prometheus/web/api/v1"
	"go.yaml.in/yaml/v2"

	"github.com/kansoku/kansoku/internal/alertmanager"
	"github.com/kansoku/kansoku/internal/alertmanager/snsnotify"
	"github.com/kansoku/kansoku/internal/amconfig"
	"github.com/kansoku/kansoku/internal/anomaly"
	"github.com/kansoku/kansoku/internal/api"
	"github.com/kansoku/kansoku/internal/audit"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/cluster"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/console"
	"github.com/kansoku/kansoku/internal/cortex"
	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/hosts"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/iam"
	"github.com/kansoku/kansoku/internal/ingest"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/query"
	"github.com/kansoku/kansoku/internal/querylog"
	"github.com/kansoku/kansoku/internal/rulegroups"
	"github.com/kansoku/kansoku/internal/ruler"
	"github.com/kansoku/kansoku/internal/samplestore"
	"github.com/kansoku/kansoku/internal/scraper"
	"github.com/kansoku/kansoku/internal/secrets"
	"github.com/kansoku/kansoku/internal/tagging"
	"github.com/kansoku/kansoku/internal/telemetry"
	"github.com/kansoku/kansoku/internal/tenantdb"
	"github.com/kansoku/kansoku/internal/throttle"
	"github.com/kansoku/kansoku/internal/usage"
	"github.com/kansoku/kansoku/internal/version"
	"github.com/kansoku/kansoku/internal/workspace"
	"github.com/kansoku/kansoku/internal/wslog"
)

// AdminCredentialsFile is the name, under the data dir, of the file holding
// the admin access key created at first start.
const AdminCredentialsFile = "admin-credentials"

// App is one running Kansoku server. Its components are its own: callers
// get what they need through Info and a few accessors (the demo's
// set-up), tests through export_internal_test.go.
type App struct {
	cfg      config.Config
	logger   *slog.Logger
	registry *prometheus.Registry
	meta     *metastore.DB
	account  metastore.Account
	iam      *iam.Service
	// samples is where workspaces' samples live: tsdb (embedded) or
	// cortex (scale-out); the other one is nil.
	samples samplestore.Store
	tsdb    *tenantdb.Manager
	// resultsCache is nil with Cortex or when turned off.
	resultsCache *query.ResultsCache
	cortex       *cortex.Store
	// own says which singletons this node runs: all of them on one node,
	// those whose lease it holds in a cluster (coord; forwarder sends
	// requests for the others to their owner).
	own           cluster.Ownership
	coord         *cluster.Coordinator
	forwarder     *cluster.Forwarder
	workspaces    *workspace.Service
	limits        *limits.Overrides
	limitsService *limits.Service // persists per-workspace overrides
	seriesLimits  *ingest.SeriesLimiters
	ha            *ingest.HATracker
	distributor   *ingest.Distributor
	query         *query.API
	ruleGroups    *rulegroups.Service
	amConfig      *amconfig.Service
	ruler         *ruler.Ruler
	alertmanager  *alertmanager.Manager
	hosts         *hosts.Service
	aws           *awsint.Service
	sessions      *console.Sessions
	dashboards    *console.Dashboards
	logging       *wslog.Service
	queryLog      *querylog.Service
	anomaly       *anomaly.Service
	anomalyEval   *anomaly.Evaluator
	audit         *audit.Recorder
	usage         *usage.Tracker
	scrapers      *scraper.Service
	scrapeRunner  *scraper.Runner
	api           *api.Server
	externalURL   string
	tls           bool
	firstStart    *iam.NewKey

	ready    atomic.Bool
	closers  []func() error
	listener net.Listener
	// extraLoops are added by tests (export_internal_test.go).
	extraLoops []loop
}

// New builds an App. On error everything opened so far is closed.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, logger: logger, registry: prometheus.NewRegistry()}
	if cfg.Runtime.GoGC > 0 {
		debug.SetGCPercent(cfg.Runtime.GoGC)
	}
	defer func() {
		if err != nil {
			a.Close() // roll back what was opened
		}
	}()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kansoku_build_info", Help: "Kansoku build information.",
		ConstLabels: prometheus.Labels{"version": version.Version, "revision": version.Revision()},
	}, func() float64 { return 1 }))

	tlsOn, err := webTLSEnabled(cfg.Web.ConfigFile)
	if err != nil {
		return nil, err
	}
	a.tls = tlsOn
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
	a.externalURL = cfg.ExternalURLFor(tlsOn, a.listener.Addr().String())

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
	if err := a.checkSecretKey(ctx, box, keyFile); err != nil {
		return nil, err
	}

	a.limits = limits.NewOverrides(cfg.Limits)
	a.limitsService = limits.NewService(a.meta, a.limits, logger.With("component", "limits"))
	if err := a.limitsService.Load(ctx); err != nil {
		return nil, err
	}
	a.seriesLimits = ingest.NewSeriesLimiters(a.limits, !cfg.Ingest.Guardrails)
	a.seriesLimits.SetAccount(a.account.ID)
	var labelSets workspace.LabelSetLimiter = a.seriesLimits
	queryShards := 0 // Cortex answers queries itself
	if cfg.Cortex.Enabled() {
		if a.cortex, err = cortex.New(cortex.Options{Config: cfg.Cortex, Logger: logger.With("component", "cortex")}); err != nil {
			return nil, err
		}
		a.samples = a.cortex
		// The adaptive active-series limit follows the tenant's series as
		// Cortex counts them.
		a.seriesLimits.SetCounter(a.cortex.HeadSeries)
		labelSets = a.cortex
	} else {
		// Range queries over the embedded TSDB are split by day and the
		// past days cached; every commit invalidates what it wrote into.
		a.resultsCache = query.NewResultsCache(cfg.Query.ResultsCache, a.registry)
		topts := tenantdb.Options{Dir: filepath.Join(dataDir, "workspaces"), Config: cfg.Storage.TSDB, Logger: logger.With("component", "tsdb"), Series: a.seriesLimits.Hooks()}
		if a.resultsCache != nil {
			topts.OnCommit = a.resultsCache.Invalidate
		}
		if cfg.Query.Shards > 1 {
			// Query sharding selects shards of a workspace's series: the
			// head keeps each series' shard hash.
			topts.TSDB = func(o *tsdb.Options) { o.EnableSharding = true }
			queryShards = cfg.Query.Shards
		}
		a.tsdb = tenantdb.New(topts)
		a.closers = append(a.closers, a.tsdb.CloseAll)
		a.samples = a.tsdb
	}
	if err := a.initCluster(key); err != nil {
		return nil, err
	}

	wsResync := time.Duration(0) // the default
	if cfg.Cluster.Enabled {
		wsResync = 5 * time.Second // other nodes create and delete workspaces too
	}
	a.workspaces = workspace.New(workspace.Options{
		AccountID: a.account.ID, Region: a.account.Region, ExternalURL: a.externalURL,
		MaxWorkspaces: cfg.Workspace.MaxPerAccount, RetentionDays: cfg.Limits.RetentionDays,
		ResyncInterval: wsResync, Shared: cfg.Cluster.Enabled, LabelSets: labelSets,
		Logger: logger.With("component", "workspace"),
	}, a.meta, a.samples)

	ingestMetrics := ingest.NewMetrics(a.registry)
	a.ha = ingest.NewHATracker(a.meta, a.registry, logger.With("component", "ha"))
	if err := a.ha.Load(ctx); err != nil {
		return nil, err
	}
	a.distributor = ingest.NewDistributor(ingest.DistributorOptions{Storage: a.samples, Limits: a.limits, Metadata: a.meta,
		Metrics: ingestMetrics, HA: a.ha, Guardrails: cfg.Ingest.Guardrails, StoreRateLimits: a.cortex != nil,
		Logger: logger.With("component", "ingest")})
	a.workspaces.AddListener(forgetOnDelete{a})
	a.hosts = hosts.New(a.meta, logger.With("component", "hosts"))
	if err := a.hosts.Load(ctx); err != nil {
		return nil, err
	}
	a.distributor.SetHostResolver(a.hosts.HostIDFor)

	a.logging = wslog.New(a.meta, a.workspaces, time.Duration(cfg.WorkspaceLogs.Retention), logger.With("component", "wslog"))
	a.queryLog = querylog.New(a.meta, a.workspaces, a.logging, a.registry, logger.With("component", "querylog"))
	a.query = query.New(query.Options{
		Logger: logger.With("component", "query"), Registerer: a.registry, Limits: a.limits,
		LookbackDelta: time.Duration(cfg.Query.LookbackDelta), MaxConcurrent: cfg.Query.MaxConcurrent, MaxInflightSamples: cfg.Query.MaxInflightSamples,
		Rules:  func(ctx context.Context) v1.RulesRetriever { return a.ruler.RulesFor(ctx) },
		Remote: a.remoteQueries(), ResultsCache: a.resultsCache, Observe: a.queryLog.Observe, Shards: queryShards, ShardMinSeries: cfg.Query.ShardMinSeries,
	}, a.samples, a.meta)

	a.aws = awsint.New(awsint.Options{
		Logger: logger.With("component", "aws"), Store: a.meta, Workspaces: a.workspaces, Hosts: a.hosts, Pusher: a.distributor,
		Sealer: box, Registerer: a.registry, Logs: a.logging, EndpointURL: cfg.AWS.EndpointURL, BaseRegion: cfg.AWS.Region,
		Delay: time.Duration(cfg.AWS.CloudWatchDelay), MaxConcurrentPolls: cfg.AWS.MaxConcurrentPolls,
		DefaultPollInterval: time.Duration(cfg.AWS.DefaultPollInterval), Backfill: time.Duration(cfg.AWS.Backfill),
		PollTimeout: time.Duration(cfg.AWS.PollTimeout), BaseCredentials: staticAWSCredentials(cfg.AWS),
		Owns: func(id string) bool { return a.own.Owns(cluster.GroupAWS, id) },
	})
	a.scrapers = scraper.New(scraper.Options{AccountID: a.account.ID, Region: a.account.Region, MaxScrapers: cfg.Scraper.MaxPerAccount,
		Logger: logger.With("component", "scraper"), ResyncInterval: a.sharedRefresh(30 * time.Second), Box: box, Integrations: a.aws}, a.meta, a.workspaces)
	scrapeFirewall, err := egress.New(cfg.Scraper.FirewallConfig())
	if err != nil {
		return nil, err
	}
	a.scrapeRunner = scraper.NewRunner(scraper.RunnerOptions{Service: a.scrapers, Pusher: a.distributor,
		Active:   func(ws string) bool { _, ok := a.workspaces.Active(ws); return ok },
		Owns:     func(id string) bool { return a.own.Owns(cluster.GroupScraper, id) },
		Firewall: scrapeFirewall, Logs: a.logging, Logger: logger.With("component", "scraper")})
	a.ruleGroups = rulegroups.New(a.meta, a.workspaces, a.limits, a.logging, a.account.Region, a.account.ID, logger.With("component", "rulegroups"))
	firewall, err := egress.New(cfg.Alertmanager.ReceiverFirewall)
	if err != nil {
		return nil, err
	}
	amStore := amconfig.SealedStore{Store: a.meta, Box: box}
	if n, err := amStore.SealAll(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		logger.Info("sealed Alertmanager definitions stored in clear by an earlier version", "definitions", n)
	}
	a.amConfig = amconfig.New(amStore, a.workspaces, a.limits, a.logging, logger.With("component", "amconfig"))
	a.amConfig.SetFirewall(firewall)
	a.alertmanager = alertmanager.New(alertmanager.Options{
		Logger: logger.With("component", "alertmanager"), WorkspaceDir: a.workspaceDir, State: a.alertmanagerState(),
		Owns: a.ownsWorkspace, Epoch: func(ws string) int64 { return a.own.Epoch(cluster.GroupWorkspace, ws) },
		Source: a.amConfig, Limits: a.limits, Logs: a.logging, Registries: telemetry.NewRegistries(),
		ExternalURL: a.externalURL, Retention: time.Duration(cfg.Alertmanager.Retention),
		SNS:            snsnotify.Options{Endpoint: cfg.Alertmanager.SNSEndpoint, STSEndpoint: cfg.Alertmanager.STSEndpoint},
		Firewall:       firewall,
		ResyncInterval: a.sharedRefresh(time.Minute),
	})
	a.registry.MustRegister(a.alertmanager)
	a.ruler = ruler.New(ruler.Options{
		Logger: logger.With("component", "ruler"), Engine: a.query.Engine(), Queryable: a.query.Queryable(),
		Storage: a.samples, Source: a.ruleGroups, Limits: a.limits, Notify: a.alertmanager.Send, Owns: a.ownsWorkspace,
		Logs: a.logging, Registries: telemetry.NewRegistries(), ExternalURL: a.externalURL,
		OutageTolerance: time.Duration(cfg.Ruler.OutageTolerance), ForGracePeriod: time.Duration(cfg.Ruler.ForGracePeriod),
		ResendDelay: time.Duration(cfg.Ruler.ResendDelay), DefaultInterval: time.Duration(cfg.Ruler.DefaultEvaluationInterval),
		// Another node may activate a namespace of a workspace this node
		// runs: re-read them often enough in a cluster.
		ResyncInterval: a.sharedRefresh(time.Minute),
	})
	a.ruleGroups.OnChange(func(_ context.Context, ws string) { a.ruler.Sync(ws) })
	a.amConfig.OnChange(func(_ context.Context, ws string) { a.alertmanager.Sync(ws) })
	a.anomaly = anomaly.New(a.meta, a.workspaces, anomaly.DefaultLimits(), a.account.Region, a.account.ID, logger.With("component", "anomalydetectors"))
	a.anomalyEval = anomaly.NewEvaluator(anomaly.EvaluatorOptions{Service: a.anomaly, Engine: a.query.Engine(), Queryable: a.query.Queryable(),
		Push: a.distributor.Push, Logs: a.logging, Logger: logger.With("component", "anomalydetectors")})
	a.audit = audit.NewRecorder(a.meta, a.registry, logger.With("component", "audit"))
	a.usage = usage.New(usage.Options{Workspaces: a.workspaces, Storage: a.samples, Series: a.seriesLimits, Ingest: ingestMetrics,
		SelfMetrics: cfg.Usage.SelfMetrics, Logger: logger.With("component", "usage"),
		Node: a.nodeName(), Owns: a.ownsWorkspace})
	a.usage.AddExtra(a.ruler.Usage)
	a.usage.AddExtra(a.alertmanager.Usage)
	a.usage.AddExtra(a.queryLog.Usage)
	a.usage.AddExtra(a.anomalyEval.Models)
	a.registry.MustRegister(a.usage)

	a.sessions = console.NewSessions(a.meta, a.iam, console.Options{Logger: logger.With("component", "console")})
	a.dashboards = console.NewDashboards(a.meta)
	authn := auth.NewAuthenticator(a.account.ID, a.account.Region, a.iam, nil)
	authn.Sessions = a.sessions
	authn.ExternalOrigin = originOf(a.externalURL)
	arns := httpapi.ARNs{Region: a.account.Region, AccountID: a.account.ID}
	a.api = api.New(api.Options{
		Logger: logger.With("component", "api"), Registerer: a.registry,
		Gatherer: a.gatherers(),
		ARNs:     arns, Authn: authn, Authz: a.iam,
		Workspaces: a.workspaces, Limits: a.limits, Audit: a.audit,
		Ready:           a.ready.Load,
		BodyReadTimeout: time.Duration(cfg.Web.BodyReadTimeout),
		Peers:           a.peers(),
		Throttle:        a.controlPlaneThrottle(),
	}, api.Routes{
		Workspaces:   a.workspaces.Routes(),
		RuleGroups:   a.ruleGroups.Routes(),
		AMConfig:     a.amConfig.Routes(),
		Logging:      a.logging.Routes(),
		QueryLogging: a.queryLog.Routes(),
		Tags:         tagging.Routes(arns, a.meta, a.workspaces, a.ruleGroups, a.scrapers, a.anomaly),
		Anomaly:      a.anomaly.Routes(),
		Ingest:       a.distributor.Routes(ingest.NewInflight(cfg.Ingest.MaxInflightBytes, a.registry)),
		Query:        a.toOwner(a.query.Routes(), "ListRules", "ListAlerts"),
		Alertmanager: a.toOwner(a.alertmanager.Routes()),
		IAM:          a.iam.Routes(),
		Audit:        a.audit.Routes(),
		Limits:       a.limitsService.Routes(arns, a.workspaces),
		Usage:        a.usage.Routes(a.workspaces, a.limits, a.ha),
		AWS:          a.toOwnerOf(a.aws.Routes(arns), cluster.GroupAWS, "id", "PollAWSIntegration"),
		Hosts:        a.hosts.Routes(arns, a.workspaces),
		Console: console.HTTP{Sessions: a.sessions, Dashboards: a.dashboards, Workspaces: a.workspaces, UserARN: a.iam.UserARN,
			Audit: a.audit, ARNs: arns, Logger: logger.With("component", "console")}.Routes(),
		Scrapers: a.scrapers.Routes(),
	})
	a.addClusterGroups()
	return a, nil
}

func (a *App) openMetadata(ctx context.Context) error {
	db, err := metastore.Open(ctx, a.cfg.Storage.Metadata, filepath.Join(a.cfg.Storage.DataDir, "kansoku.db"))
	if err != nil {
		return fmt.Errorf("open metadata: %w", err)
	}
	a.meta = db
	a.closers = append(a.closers, a.meta.Close)
	return nil
}

// initAccount loads the installation's account, creating it (and the admin
// user with its first access key) on first start. The read and the
// creation are one serializable transaction, so of several nodes starting
// together on an empty database exactly one creates the account; the
// others read it (after a serialization failure InTx retries, or after the
// unique admin user's conflict this function does).
func (a *App) initAccount(ctx context.Context, box *secrets.Box) error {
	return a.initAccountAttempt(ctx, box, 1)
}

func (a *App) initAccountAttempt(ctx context.Context, box *secrets.Box, attempt int) error {
	var acct metastore.Account
	var key *iam.NewKey
	err := a.meta.InTx(ctx, func(q *metastore.Queries) error {
		key = nil
		var err error
		acct, err = q.GetAccount(ctx)
		if !errors.Is(err, metastore.ErrNotFound) {
			return err
		}
		acct = metastore.Account{ID: newAccountID(), Region: a.cfg.Region, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
		if err := q.CreateAccount(ctx, acct); err != nil {
			return err
		}
		k, err := iam.New(q, box, acct.ID, a.logger, 0).Bootstrap(ctx)
		key = &k
		return err
	})
	if (errors.Is(err, metastore.ErrConflict) || errors.Is(err, iam.ErrExists)) && attempt < 3 {
		// Another node initialised the installation meanwhile.
		return a.initAccountAttempt(ctx, box, attempt+1)
	}
	if err != nil {
		return fmt.Errorf("read or initialise the installation's account: %w", err)
	}
	if key == nil && acct.Region != a.cfg.Region {
		return fmt.Errorf("this installation's region is %s (set at first start); --region=%s does not match", acct.Region, a.cfg.Region)
	}
	a.iam = iam.New(a.meta, box, acct.ID, a.logger.With("component", "iam"), a.sharedRefresh(10*time.Second))
	oidc, err := a.cfg.IAM.OIDCOptions()
	if err != nil {
		return err
	}
	a.iam.SetOIDCOptions(oidc)
	a.account = acct
	if key != nil {
		if err := writeAdminCredentials(filepath.Join(a.cfg.Storage.DataDir, AdminCredentialsFile), *key, acct.Region); err != nil {
			return err
		}
		a.firstStart = key
		a.logger.Info("installation initialised", "account", acct.ID, "region", acct.Region)
	}
	return nil
}

// checkSecretKey refuses to start with a secret key that does not open the
// secrets already stored: nodes sharing a PostgreSQL database must share
// their secret key file too, or a node would refuse every signature made
// with a key another node minted.
func (a *App) checkSecretKey(ctx context.Context, box *secrets.Box, keyFile string) error {
	keys, err := a.meta.ListAccessKeys(ctx, "")
	if err != nil {
		return fmt.Errorf("read access keys: %w", err)
	}
	if len(keys) == 0 {
		return nil
	}
	if _, err := box.Open(keys[0].SecretSealed, []byte(keys[0].ID)); err != nil {
		return fmt.Errorf("the secret key in %s does not open the secrets stored in the metadata database "+
			"(every node of an installation must use the same storage.secret_key_file): %w", keyFile, err)
	}
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
func (a *App) Handler() http.Handler { return a.api }

// Addr is the address the server listens on.
func (a *App) Addr() net.Addr { return a.listener.Addr() }

// Info is what an operator, or a client of a server started in-process,
// needs to know of it.
type Info struct {
	Account     metastore.Account // the installation's account and region
	ExternalURL string
	TLS         bool
	DataDir     string
	// FirstStart holds the admin key minted on this start, if this was
	// the installation's first.
	FirstStart *iam.NewKey
}

// Info describes the server.
func (a *App) Info() Info {
	return Info{Account: a.account, ExternalURL: a.externalURL, TLS: a.tls, DataDir: a.cfg.Storage.DataDir, FirstStart: a.firstStart}
}

// Workspaces manages workspaces. With AWS, RuleGroups and AMConfig, it is
// what the demo (internal/demo) sets up directly: its workspace, AWS
// integration, rules and Alertmanager definition.
func (a *App) Workspaces() *workspace.Service { return a.workspaces }

// AWS manages AWS integrations (see Workspaces).
func (a *App) AWS() *awsint.Service { return a.aws }

// RuleGroups manages rule-groups namespaces (see Workspaces).
func (a *App) RuleGroups() *rulegroups.Service { return a.ruleGroups }

// AMConfig manages Alertmanager definitions (see Workspaces).
func (a *App) AMConfig() *amconfig.Service { return a.amConfig }

// Run serves until ctx is cancelled, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	var g run.Group
	wsCtx, wsCancel := context.WithCancel(context.Background())
	g.Add(func() error {
		a.logger.Info("starting workspace reconciler")
		done := make(chan error, 1)
		go func() { done <- a.workspaces.Run(wsCtx) }()
		select {
		case <-a.workspaces.Ready():
		case err := <-done:
			return err
		}
		// Rules and Alertmanagers start once storage is open; the server is
		// ready when they run too (an Alertmanager API that answers 404 for
		// a few moments after a restart would confuse clients).
		for _, c := range []<-chan struct{}{a.ruler.Ready(), a.alertmanager.Ready()} {
			select {
			case <-c:
			case err := <-done:
				return err
			}
		}
		a.ready.Store(true)
		a.logger.Info("workspace storage, rules and Alertmanagers up; ready")
		return <-done
	}, func(error) {
		wsCancel()
	})

	srv := &http.Server{
		Handler:           a.api,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		MaxHeaderBytes:    256 << 10,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	webFile := a.cfg.Web.ConfigFile
	flags := &web.FlagConfig{WebListenAddresses: &[]string{a.cfg.Web.ListenAddress}, WebConfigFile: &webFile}
	g.Add(func() error {
		// The bound address, which a test harness reads to find the port.
		a.logger.Info("listening", "address", a.listener.Addr().String(), "external_url", a.externalURL, "tls", a.tls)
		err := web.Serve(a.listener, srv, flags, a.logger)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}, func(error) {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		a.logger.Info("stopping HTTP server")
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
			a.logger.Debug("background loop starting", "loop", l.name)
			err := l.run(loopCtx)
			if loopCtx.Err() != nil {
				a.logger.Debug("background loop stopped", "loop", l.name)
				return nil
			}
			if err == nil {
				err = errors.New("returned")
			}
			a.logger.Error("background loop died; stopping the server", "loop", l.name, "err", err)
			return fmt.Errorf("background loop %s: %w", l.name, err)
		}, func(error) { cancel() })
	}

	stopCtx, stop := context.WithCancel(ctx)
	g.Add(func() error {
		<-stopCtx.Done()
		if ctx.Err() != nil {
			a.logger.Info("shutdown requested")
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
			case <-a.alertmanager.Ready():
			case <-ctx.Done():
				return nil
			}
			return a.ruler.Run(ctx, a.ownedWorkspaces)
		})},
		{"alertmanager", a.afterStorage(func(ctx context.Context) error { return a.alertmanager.Run(ctx, a.ownedWorkspaces) })},
	}
	if a.coord != nil {
		// Stops after rules and Alertmanagers, releasing their leases.
		ls = append(ls, loop{"cluster", a.afterStorage(a.coord.Run)})
	}
	if a.cortex != nil {
		ls = append(ls, loop{"cortex-overrides", a.syncCortexOverrides})
	}
	if a.cfg.AWS.Poll {
		ls = append(ls, loop{"aws", a.afterStorage(a.aws.Run)})
	}
	if a.cfg.Scraper.Run {
		ls = append(ls, loop{"scrape", a.afterStorage(a.scrapeRunner.Run)})
	}
	ls = append(ls,
		loop{"rulegroups", a.ruleGroups.Run},
		loop{"scrapers", a.scrapers.Run},
		loop{"amconfig", a.amConfig.Run},
		loop{"querylog", a.queryLog.Run},
		loop{"anomalydetectors", a.anomaly.Run},
		loop{"anomaly-evaluator", a.afterStorage(func(ctx context.Context) error { return a.anomalyEval.Run(ctx, a.ownedWorkspaces) })},
		loop{"limits", func(ctx context.Context) error { return a.limitsService.Run(ctx, a.sharedRefresh(30*time.Second)) }},
		loop{"usage", a.usage.Run},
		loop{"ha-cleanup", a.haCleanup},
		loop{"console-sessions", a.sessions.Run},
	)
	ls = append(ls, a.extraLoops...)
	return append(ls,
		loop{"wslog", a.logging.Run},
		loop{"audit", func(ctx context.Context) error { return a.audit.Run(ctx, time.Duration(a.cfg.Audit.Retention)) }},
	)
}

// Close releases everything the App opened (TSDBs are closed, their heads
// stay in the WAL for the next start).
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.logger.Error("close", "err", err)
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
			if a.own.Owns(cluster.GroupGlobal, globalMaintenance) {
				a.ha.Cleanup(ctx, now)
			}
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
		case <-a.workspaces.Ready():
		case <-ctx.Done():
			return nil
		}
		return fn(ctx)
	}
}

func (a *App) activeWorkspaces(context.Context) ([]string, error) {
	return a.workspaces.ActiveIDs(), nil
}

// forgetOnDelete drops a deleted workspace's in-memory state.
type forgetOnDelete struct{ a *App }

func (f forgetOnDelete) WorkspaceActivated(_ context.Context, w metastore.Workspace) {
	f.a.ruler.Sync(w.ID)
	f.a.alertmanager.Sync(w.ID)
}

func (f forgetOnDelete) WorkspaceDeleted(ctx context.Context, ws string) {
	f.a.ruler.Remove(ws)
	if err := f.a.alertmanager.Forget(ctx, ws); err != nil {
		f.a.logger.Warn("delete the Alertmanager state of a deleted workspace", "workspace", ws, "err", err)
	}
	f.a.distributor.ForgetWorkspace(ws)
	f.a.query.Gate().Forget(ws)
	f.a.resultsCache.Forget(ws)
	f.a.queryLog.Forget(ws)
	f.a.anomalyEval.Sync()
	if err := f.a.meta.DeleteTagsByPrefix(ctx, f.a.anomaly.ARN(ws, "")); err != nil {
		f.a.logger.Warn("delete the tags of a deleted workspace's anomaly detectors", "workspace", ws, "err", err)
	}
	f.a.seriesLimits.Forget(ws)
	f.a.limits.Set(ws, nil)
}

// controlPlaneThrottle is AMP's control-plane quota: in memory on one
// node, in the shared database for a cluster's nodes (nil when off).
func (a *App) controlPlaneThrottle() throttle.Limiter {
	c := a.cfg.ControlPlane
	switch {
	case !c.Enabled():
		return nil
	case a.cfg.Cluster.Enabled:
		return throttle.NewShared(c, a.meta)
	default:
		return throttle.NewLocal(c)
	}
}
