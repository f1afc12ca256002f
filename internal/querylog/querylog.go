// Package querylog is AMP's query logging: a workspace's query logging
// configuration (Create/Describe/Update/DeleteQueryLoggingConfiguration)
// names a log group and a threshold of query samples processed (QSP);
// every query of the workspace, from the API or from rules, that processes
// more samples than the threshold is written to the workspace log
// (internal/wslog) with component "query": the query, its range and step,
// QSP, duration, caller and outcome. It also counts every workspace's
// queries and QSP for usage, whether or not logging is configured.
package querylog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/query"
	"github.com/kansoku/kansoku/internal/reconcile"
	"github.com/kansoku/kansoku/internal/workspace"
	"github.com/kansoku/kansoku/internal/wslog"
)

// ResourceType names query logging configurations in errors.
const ResourceType = "QueryLoggingConfiguration"

// Component is the workspace log component of query log events.
const Component = "query"

// MaxQueryChars bounds the query text of one log event (a query may be
// up to the workspace's expression size limit; the event stays small).
const MaxQueryChars = 16 << 10

// Store is the metadata the service uses.
type Store interface {
	GetQueryLoggingConfiguration(ctx context.Context, ws string) (metastore.QueryLoggingConfiguration, error)
	CreateQueryLoggingConfiguration(ctx context.Context, l metastore.QueryLoggingConfiguration) error
	UpdateQueryLoggingConfiguration(ctx context.Context, l metastore.QueryLoggingConfiguration) error
	DeleteQueryLoggingConfiguration(ctx context.Context, ws string) error
	ListQueryLoggingConfigurations(ctx context.Context) ([]metastore.QueryLoggingConfiguration, error)
}

// Workspaces resolves workspaces.
type Workspaces interface {
	Get(ctx context.Context, id string) (metastore.Workspace, error)
}

// Log is where query log events go (wslog.Service).
type Log interface {
	Write(ws, logGroupARN, component, level, msg string, fields map[string]string)
}

// Destination is AMP's LoggingDestination.
type Destination struct {
	CloudWatchLogs *CloudWatchLogs `json:"cloudWatchLogs"`
	Filters        *Filters        `json:"filters"`
}

// CloudWatchLogs is AMP's CloudWatchLogDestination.
type CloudWatchLogs struct {
	LogGroupArn string `json:"logGroupArn"`
}

// Filters is AMP's LoggingFilter.
type Filters struct {
	QspThreshold *int64 `json:"qspThreshold"`
}

// Configuration is a workspace's query logging configuration.
type Configuration struct {
	metastore.QueryLoggingConfiguration
	// Dests is the parsed Destinations.
	Dests []Destination
}

// destination is an active configuration, as Observe reads it.
type destination struct {
	logGroup  string
	threshold int64
}

// Service runs query logging configurations and counts queries.
type Service struct {
	store      Store
	workspaces Workspaces
	log        Log
	logger     *slog.Logger
	now        func() time.Time
	loop       *reconcile.Loop

	// active is the workspaces with an ACTIVE configuration: read without
	// a lock by every query, replaced whole by reconcile.
	active atomic.Pointer[map[string]destination]
	// mu serializes replacements of active.
	mu sync.Mutex

	queries *prometheus.CounterVec
	samples *prometheus.CounterVec
	logged  *prometheus.CounterVec
}

// New returns the service; its counters are registered on reg.
func New(store Store, ws Workspaces, log Log, reg prometheus.Registerer, logger *slog.Logger) *Service {
	s := &Service{store: store, workspaces: ws, log: log, logger: logger, now: time.Now,
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kansoku_usage_queries_total",
			Help: "PromQL queries a workspace ran (API and rule queries)."}, []string{"workspace"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kansoku_usage_query_samples_processed_total",
			Help: "Query samples processed (QSP) by a workspace's queries: the sum of Prometheus' total samples of each query."}, []string{"workspace"}),
		logged: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kansoku_query_log_events_total",
			Help: "Queries written to a workspace's query log (QSP over the configured threshold)."}, []string{"workspace"}),
	}
	empty := map[string]destination{}
	s.active.Store(&empty)
	if reg != nil {
		reg.MustRegister(s.queries, s.samples, s.logged)
	}
	s.loop = reconcile.New("querylog", 10*time.Second, logger, s.reconcile)
	return s
}

// validate checks destinations as AMP's model does: exactly one, with a
// CloudWatch Logs group ARN (trailing :*) and a QSP threshold >= 0.
func validate(ds []Destination) error {
	if len(ds) != 1 {
		return apierr.InvalidField("destinations", "Member must have length between 1 and 1 (got %d)", len(ds))
	}
	d := ds[0]
	if d.CloudWatchLogs == nil {
		return apierr.InvalidField("destinations.1.member.cloudWatchLogs", "Member must not be null")
	}
	if err := wslog.ValidateLogGroupARN("logGroupArn", d.CloudWatchLogs.LogGroupArn); err != nil {
		return err
	}
	if d.Filters == nil || d.Filters.QspThreshold == nil {
		return apierr.InvalidField("destinations.1.member.filters.qspThreshold", "Member must not be null")
	}
	if *d.Filters.QspThreshold < 0 {
		return apierr.InvalidField("destinations.1.member.filters.qspThreshold", "Member must have value greater than or equal to 0")
	}
	return nil
}

func (s *Service) notFound(ws string) error {
	return apierr.NotFound(ResourceType, ws, "No query logging configuration in workspace %s", ws)
}

func decode(l metastore.QueryLoggingConfiguration) Configuration {
	c := Configuration{QueryLoggingConfiguration: l}
	_ = json.Unmarshal([]byte(l.Destinations), &c.Dests)
	return c
}

// Create configures a workspace's query logging.
func (s *Service) Create(ctx context.Context, ws string, ds []Destination, clientToken string) (Configuration, error) {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return Configuration{}, err
	}
	if err := validate(ds); err != nil {
		return Configuration{}, err
	}
	if err := workspace.RequireActive(ctx, s.workspaces, ws); err != nil {
		return Configuration{}, err
	}
	b, _ := json.Marshal(ds)
	now := s.now().UTC()
	l := metastore.QueryLoggingConfiguration{WorkspaceID: ws, Destinations: string(b), Status: metastore.StatusCreating,
		ClientToken: clientToken, CreatedAt: now, ModifiedAt: now}
	if err := s.store.CreateQueryLoggingConfiguration(ctx, l); err != nil {
		if errors.Is(err, metastore.ErrConflict) {
			// A retry of the same request with the same token is the
			// same creation.
			if cur, gerr := s.store.GetQueryLoggingConfiguration(ctx, ws); gerr == nil && clientToken != "" &&
				cur.ClientToken == clientToken && cur.Destinations == l.Destinations {
				return decode(cur), nil
			}
			return Configuration{}, apierr.Conflict(ResourceType, ws, "Workspace %s already has a query logging configuration; use UpdateQueryLoggingConfiguration", ws)
		}
		return Configuration{}, err
	}
	s.loop.Kick()
	return decode(l), nil
}

// Describe returns a workspace's query logging configuration.
func (s *Service) Describe(ctx context.Context, ws string) (Configuration, error) {
	if _, err := s.workspaces.Get(ctx, ws); err != nil {
		return Configuration{}, err
	}
	l, err := s.store.GetQueryLoggingConfiguration(ctx, ws)
	if errors.Is(err, metastore.ErrNotFound) {
		return Configuration{}, s.notFound(ws)
	}
	if err != nil {
		return Configuration{}, err
	}
	return decode(l), nil
}

// Update replaces a workspace's destinations.
func (s *Service) Update(ctx context.Context, ws string, ds []Destination, clientToken string) (Configuration, error) {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return Configuration{}, err
	}
	if err := validate(ds); err != nil {
		return Configuration{}, err
	}
	c, err := s.Describe(ctx, ws)
	if err != nil {
		return c, err
	}
	b, _ := json.Marshal(ds)
	if clientToken != "" && c.ClientToken == clientToken && c.QueryLoggingConfiguration.Destinations == string(b) {
		return c, nil // a retry of the same update
	}
	if c.Status == metastore.StatusCreating || c.Status == metastore.StatusUpdating || c.Status == metastore.StatusDeleting {
		return c, apierr.Conflict(ResourceType, ws, "The query logging configuration of %s is %s; retry shortly", ws, c.Status)
	}
	l := c.QueryLoggingConfiguration
	l.Destinations, l.Status, l.StatusReason, l.ClientToken, l.ModifiedAt = string(b), metastore.StatusUpdating, "", clientToken, s.now().UTC()
	if err := s.store.UpdateQueryLoggingConfiguration(ctx, l); err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return c, s.notFound(ws)
		}
		return c, err
	}
	s.loop.Kick()
	return decode(l), nil
}

// Delete stops logging a workspace's queries (events already written stay).
func (s *Service) Delete(ctx context.Context, ws, clientToken string) error {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return err
	}
	if _, err := s.workspaces.Get(ctx, ws); err != nil {
		return err
	}
	if err := s.store.DeleteQueryLoggingConfiguration(ctx, ws); err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return s.notFound(ws)
		}
		return err
	}
	s.setActive(func(m map[string]destination) { delete(m, ws) })
	return nil
}

// setActive replaces the active map with a changed copy.
func (s *Service) setActive(change func(map[string]destination)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := *s.active.Load()
	next := make(map[string]destination, len(cur))
	for k, v := range cur {
		next[k] = v
	}
	change(next)
	s.active.Store(&next)
}

// Run activates configurations until ctx ends.
func (s *Service) Run(ctx context.Context) error { return s.loop.Run(ctx) }

// Kick runs a reconcile pass soon.
func (s *Service) Kick() { s.loop.Kick() }

// reconcile makes pending configurations ACTIVE (the log group is
// Kansoku's own: nothing to provision) and refreshes the map Observe reads.
func (s *Service) reconcile(ctx context.Context) error {
	all, err := s.store.ListQueryLoggingConfigurations(ctx)
	if err != nil {
		return err
	}
	active := map[string]destination{}
	for _, l := range all {
		if l.Status == metastore.StatusCreating || l.Status == metastore.StatusUpdating {
			l.Status, l.ModifiedAt = metastore.StatusActive, s.now().UTC()
			if err := s.store.UpdateQueryLoggingConfiguration(ctx, l); err != nil {
				if errors.Is(err, metastore.ErrNotFound) {
					continue
				}
				return err
			}
		}
		c := decode(l)
		if l.Status != metastore.StatusActive || len(c.Dests) != 1 || c.Dests[0].CloudWatchLogs == nil ||
			c.Dests[0].Filters == nil || c.Dests[0].Filters.QspThreshold == nil {
			continue
		}
		active[l.WorkspaceID] = destination{logGroup: c.Dests[0].CloudWatchLogs.LogGroupArn, threshold: *c.Dests[0].Filters.QspThreshold}
	}
	s.mu.Lock()
	s.active.Store(&active)
	s.mu.Unlock()
	return nil
}

// Observe counts a finished query and, when its workspace logs queries
// and the query processed more samples than the threshold, logs it. It is
// query.Options.Observe: one map read when logging is not configured.
func (s *Service) Observe(ctx context.Context, e query.Executed) {
	s.queries.WithLabelValues(e.Workspace).Inc()
	s.samples.WithLabelValues(e.Workspace).Add(float64(e.Samples))
	d, ok := (*s.active.Load())[e.Workspace]
	if !ok || e.Samples <= d.threshold {
		return
	}
	s.logged.WithLabelValues(e.Workspace).Inc()
	q := e.Query
	if len(q) > MaxQueryChars {
		q = q[:MaxQueryChars] + "..."
	}
	fields := map[string]string{
		"query":    q,
		"qsp":      strconv.FormatInt(e.Samples, 10),
		"duration": e.Duration.String(),
		"status":   "success",
		"source":   "api",
	}
	if e.Step > 0 {
		fields["start"] = e.Start.UTC().Format(time.RFC3339Nano)
		fields["end"] = e.End.UTC().Format(time.RFC3339Nano)
		fields["step"] = e.Step.String()
	} else {
		fields["time"] = e.Start.UTC().Format(time.RFC3339Nano)
	}
	if id := auth.IdentityFrom(ctx); id != nil {
		fields["caller"] = id.PrincipalARN
	} else {
		fields["source"] = "rule" // the ruler runs without a caller
	}
	level := "INFO"
	if e.Err != nil {
		fields["status"] = "error"
		msg := e.Err.Error()
		if len(msg) > 1024 {
			msg = msg[:1024] + "..."
		}
		fields["error"] = msg
		level = "WARN"
	}
	s.log.Write(e.Workspace, d.logGroup, Component, level,
		fmt.Sprintf("query processed %d samples (threshold %d)", e.Samples, d.threshold), fields)
}

// Usage reports a workspace's query counters (usage.Extra).
func (s *Service) Usage(ws string) map[string]float64 {
	return map[string]float64{
		"queries":               counterValue(s.queries, ws),
		"querySamplesProcessed": counterValue(s.samples, ws),
	}
}

func counterValue(c *prometheus.CounterVec, ws string) float64 {
	m, err := c.GetMetricWithLabelValues(ws)
	if err != nil {
		return 0
	}
	var d dtoMetric
	if err := m.Write(&d.Metric); err != nil || d.Counter == nil {
		return 0
	}
	return d.Counter.GetValue()
}

// Forget drops a deleted workspace's counters.
func (s *Service) Forget(ws string) {
	s.queries.DeleteLabelValues(ws)
	s.samples.DeleteLabelValues(ws)
	s.logged.DeleteLabelValues(ws)
	s.setActive(func(m map[string]destination) { delete(m, ws) })
}

type dtoMetric struct{ dto.Metric }
