package scraper

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/storage"

	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/version"
)

// Pusher writes samples into a workspace through the validated ingest path
// (ingest.Distributor.Push: the same guardrails as remote_write).
type Pusher interface {
	Push(ctx context.Context, ws string, req *prompb.WriteRequest) error
}

// RunnerOptions configure the Runner.
type RunnerOptions struct {
	Service *Service
	Pusher  Pusher
	// Active reports whether a destination workspace is ACTIVE.
	Active func(ws string) bool
	// Owns reports whether this node runs a scraper (cluster leases).
	Owns     func(id string) bool
	Firewall *egress.Firewall
	Logs     Logs
	Logger   *slog.Logger
	// Interval is how often the running set is compared with the store.
	Interval time.Duration
}

// Runner runs the ACTIVE scrapers this node owns, each with its own
// Prometheus discovery and scrape managers.
type Runner struct {
	opts RunnerOptions
	kick chan struct{}

	mu      sync.Mutex
	running map[string]*instance
}

type instance struct {
	id, ws  string
	hash    string
	cancel  context.CancelFunc
	scrape  *scrape.Manager
	done    chan struct{}
	logging *Logging
	gw      *gateway // an EKS source's way to its cluster (gateway.go)
}

// NewRunner returns a Runner; Run must be running for scrapes to happen.
func NewRunner(o RunnerOptions) *Runner {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Owns == nil {
		o.Owns = func(string) bool { return true }
	}
	if o.Interval == 0 {
		o.Interval = 10 * time.Second
	}
	r := &Runner{opts: o, kick: make(chan struct{}, 1), running: map[string]*instance{}}
	o.Service.OnChange(func(context.Context) { r.Kick() })
	return r
}

// Kick asks for a sync now.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run syncs the running scrapers with the store until ctx ends, then stops
// them all.
func (r *Runner) Run(ctx context.Context) error {
	defer r.stopAll()
	t := time.NewTicker(r.opts.Interval)
	defer t.Stop()
	for {
		if err := r.Sync(ctx); err != nil && ctx.Err() == nil {
			r.opts.Logger.Error("sync scrapers", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		case <-t.C:
		}
	}
}

// Running lists the ids of the scrapers running here.
func (r *Runner) Running() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.running))
	for id := range r.running {
		out = append(out, id)
	}
	return out
}

// Sync starts the owned ACTIVE scrapers not running, restarts those whose
// configuration, destination or logging changed, and stops the others.
func (r *Runner) Sync(ctx context.Context) error {
	scs, err := r.opts.Service.Running(ctx)
	if err != nil {
		return err
	}
	want := map[string]Scraper{}
	for _, sc := range scs {
		if r.opts.Owns(sc.ID) {
			want[sc.ID] = sc
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, in := range r.running {
		sc, ok := want[id]
		if !ok || hashOf(sc) != in.hash {
			in.stop()
			delete(r.running, id)
		}
	}
	for id, sc := range want {
		if _, ok := r.running[id]; ok {
			continue
		}
		in, err := r.start(sc)
		if err != nil {
			// Validated at create; a failure here is the server's.
			r.opts.Logger.Error("start scraper", "scraper", id, "err", err)
			continue
		}
		r.running[id] = in
	}
	return nil
}

// Stop stops one scraper here (its lease was lost).
func (r *Runner) Stop(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if in, ok := r.running[id]; ok {
		in.stop()
		delete(r.running, id)
	}
}

func (r *Runner) stopAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, in := range r.running {
		in.stop()
		delete(r.running, id)
	}
}

func hashOf(sc Scraper) string {
	h := sha256.New()
	h.Write(sc.Configuration)
	h.Write([]byte{0})
	h.Write([]byte(sc.DestinationARN))
	h.Write([]byte{0})
	h.Write([]byte(sc.Logging))
	return hex.EncodeToString(h.Sum(nil))
}

func (r *Runner) start(sc Scraper) (*instance, error) {
	p, err := Validate(sc.Configuration)
	if err != nil {
		return nil, err
	}
	in := &instance{id: sc.ID, ws: sc.WorkspaceID, hash: hashOf(sc), done: make(chan struct{})}
	if l, ok := LoggingOf(sc.Scraper); ok {
		in.logging = &l
	}
	logger := r.opts.Logger.With("scraper", sc.ID, "workspace", sc.WorkspaceID)
	// Each scraper's managers register their metrics in a registry of
	// their own: two scrapers' would collide in one.
	reg := prometheus.NewRegistry()
	sdMetrics, err := discovery.CreateAndRegisterSDMetrics(reg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	dm := discovery.NewManager(ctx, logger.With("manager", "discovery"), reg, sdMetrics)
	if dm == nil {
		cancel()
		return nil, fmt.Errorf("discovery manager")
	}
	app := &appendable{r: r, in: in, external: p.Config.GlobalConfig.ExternalLabels}
	sm, err := scrape.NewManager(&scrape.Options{
		HTTPClientOptions: []config_util.HTTPClientOption{
			// Every connection goes through the firewall (internal
			// addresses refused unless the operator opened them) and is
			// capped in bytes; one connection per scrape, so the cap is
			// per scrape.
			config_util.WithDialContextFunc(r.opts.Firewall.DialContext),
			config_util.WithKeepAlivesDisabled(),
			config_util.WithUserAgent("Kansoku-managed-scraper/" + version.Version),
		},
	}, logger.With("manager", "scrape"), nil, nil, app, reg)
	if err != nil {
		cancel()
		return nil, err
	}
	in.scrape = sm
	if err := r.connectCluster(sc, in, p, logger); err != nil {
		cancel()
		return nil, err
	}
	if err := sm.ApplyConfig(p.Config); err != nil {
		cancel()
		return nil, err
	}
	var env *ec2Env
	if len(p.EC2) > 0 {
		if r.opts.Service.opts.Integrations == nil || sc.Source.VPC == nil {
			cancel()
			return nil, fmt.Errorf("ec2_sd_configs need AWS integrations and a vpcConfiguration source")
		}
		env = newEC2Env(r.opts.Service.opts.Integrations, sc.WorkspaceID, sc.Source.VPC.SubnetIDs, p.Static, logger.With("discovery", "ec2"),
			func(level, msg string, fields map[string]string) { in.log(r, "SERVICE_DISCOVERY", level, msg, fields) })
	}
	sd := map[string]discovery.Configs{}
	for _, c := range p.Config.ScrapeConfigs {
		sd[c.JobName] = c.ServiceDiscoveryConfigs
		if cs := p.EC2[c.JobName]; len(cs) > 0 {
			sd[c.JobName] = ec2SDConfigs(env, c.JobName, c.ServiceDiscoveryConfigs, cs)
		}
	}
	if err := dm.ApplyConfig(sd); err != nil {
		cancel()
		return nil, err
	}
	go func() { _ = dm.Run() }()
	go func() {
		defer close(in.done)
		_ = sm.Run(dm.SyncCh())
	}()
	logger.Info("scraper running", "jobs", len(p.Config.ScrapeConfigs))
	in.log(r, "SERVICE_DISCOVERY", "INFO", "scraper started", map[string]string{"jobs": fmt.Sprint(len(p.Config.ScrapeConfigs))})
	return in, nil
}

func (in *instance) stop() {
	in.scrape.Stop()
	in.cancel()
	<-in.done
	if in.gw != nil {
		in.gw.close()
	}
}

// log writes an event of a component to the destination workspace's log
// when the scraper's logging configuration includes the component.
func (in *instance) log(r *Runner, component, level, msg string, fields map[string]string) {
	if in.logging == nil || r.opts.Logs == nil {
		return
	}
	for _, c := range in.logging.Components {
		if c.Type == component {
			if fields == nil {
				fields = map[string]string{}
			}
			fields["scraper_id"] = in.id
			r.opts.Logs.LogTo(context.Background(), in.ws, in.logging.LogGroupARN, "scraper", level, msg, fields)
			return
		}
	}
}

// appendable hands the scrape loops appenders that write into the
// destination workspace.
type appendable struct {
	r        *Runner
	in       *instance
	external labels.Labels
}

func (a *appendable) AppenderV2(ctx context.Context) storage.AppenderV2 {
	return &appender{a: a, ctx: ctx, index: map[uint64]int{}}
}

// appender buffers a scrape's samples and pushes them as one write
// request on Commit.
type appender struct {
	a     *appendable
	ctx   context.Context
	req   prompb.WriteRequest
	index map[uint64]int
}

func (ap *appender) Append(_ storage.SeriesRef, ls labels.Labels, _, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AOptions) (storage.SeriesRef, error) {
	hash := ls.Hash()
	i, ok := ap.index[hash]
	if !ok {
		// External labels are added where the series does not have them,
		// as Prometheus' remote write does.
		b := labels.NewBuilder(ls)
		ap.a.external.Range(func(l labels.Label) {
			if !ls.Has(l.Name) {
				b.Set(l.Name, l.Value)
			}
		})
		ts := prompb.TimeSeries{}
		b.Labels().Range(func(l labels.Label) { ts.Labels = append(ts.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
		ap.req.Timeseries = append(ap.req.Timeseries, ts)
		i = len(ap.req.Timeseries) - 1
		ap.index[hash] = i
	}
	ts := &ap.req.Timeseries[i]
	switch {
	case h != nil:
		ts.Histograms = append(ts.Histograms, prompb.FromIntHistogram(t, h))
	case fh != nil:
		ts.Histograms = append(ts.Histograms, prompb.FromFloatHistogram(t, fh))
	default:
		ts.Samples = append(ts.Samples, prompb.Sample{Value: v, Timestamp: t})
	}
	ap.exemplars(ts, opts.Exemplars)
	return storage.SeriesRef(hash), nil
}

func (ap *appender) exemplars(ts *prompb.TimeSeries, es []exemplar.Exemplar) {
	for _, e := range es {
		pe := prompb.Exemplar{Value: e.Value, Timestamp: e.Ts}
		e.Labels.Range(func(l labels.Label) { pe.Labels = append(pe.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
		ts.Exemplars = append(ts.Exemplars, pe)
	}
}

// Commit pushes the scrape. Samples the workspace refuses (its limits, a
// workspace that is not ACTIVE) are dropped and logged: the scrape itself
// happened, as its up series says.
func (ap *appender) Commit() error {
	in := ap.a.in
	if len(ap.req.Timeseries) == 0 {
		return nil
	}
	if !ap.a.r.opts.Active(in.ws) {
		ap.a.r.opts.Logger.Warn("scraper destination is not ACTIVE; samples dropped", "scraper", in.id, "workspace", in.ws)
		return nil
	}
	ctx := ap.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ap.a.r.opts.Pusher.Push(ctx, in.ws, &ap.req); err != nil {
		ap.a.r.opts.Logger.Warn("scraper samples refused by the workspace", "scraper", in.id, "workspace", in.ws, "err", err)
		in.log(ap.a.r, "EXPORTER", "WARN", "samples refused by the workspace", map[string]string{"error": err.Error()})
	}
	ap.req = prompb.WriteRequest{}
	clear(ap.index)
	return nil
}

func (ap *appender) Rollback() error {
	ap.req = prompb.WriteRequest{}
	clear(ap.index)
	return nil
}
