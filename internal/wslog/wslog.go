// Package wslog is a workspace's log destination: AMP sends ruler and
// Alertmanager warnings and errors to a CloudWatch Logs group named by the
// workspace's logging configuration; Kansoku keeps those events itself and
// serves them (`kansoku logs`). It also runs AMP's logging-configuration
// API (Create/Describe/Update/DeleteLoggingConfiguration).
package wslog

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/reconcile"
	"github.com/kansoku/kansoku/internal/workspace"
)

// ResourceType names logging configurations in errors.
const ResourceType = "LoggingConfiguration"

// logGroupRE is AMP's log group ARN pattern less the name's length
// (1–512, checked by validLogGroupARN): a counted repetition of 512 would
// compile into a program of a thousand instructions.
var logGroupRE = regexp.MustCompile(`^arn:aws[a-z0-9-]*:logs:[a-z0-9-]+:\d{12}:log-group:([A-Za-z0-9\.\-\_\#/]+):\*$`)

// validLogGroupARN reports whether arn matches AMP's pattern
// arn:aws[a-z0-9-]*:logs:[a-z0-9-]+:\d{12}:log-group:[A-Za-z0-9\.\-\_\#/]{1,512}:\*.
func validLogGroupARN(arn string) bool {
	m := logGroupRE.FindStringSubmatch(arn)
	return m != nil && len(m[1]) <= 512
}

// Store is the metadata the service uses.
type Store interface {
	GetLoggingConfiguration(ctx context.Context, ws string) (metastore.LoggingConfiguration, error)
	CreateLoggingConfiguration(ctx context.Context, l metastore.LoggingConfiguration) error
	UpdateLoggingConfiguration(ctx context.Context, l metastore.LoggingConfiguration) error
	DeleteLoggingConfiguration(ctx context.Context, ws string) error
	ListLoggingConfigurations(ctx context.Context) ([]metastore.LoggingConfiguration, error)
	AppendLogEvents(ctx context.Context, events []metastore.LogEvent) error
	QueryLogEvents(ctx context.Context, f metastore.LogFilter) ([]metastore.LogEvent, error)
	PruneLogEvents(ctx context.Context, before time.Time) (int64, error)
}

// Workspaces resolves workspaces.
type Workspaces interface {
	Get(ctx context.Context, id string) (metastore.Workspace, error)
}

// Service runs logging configurations and the log store.
type Service struct {
	store      Store
	workspaces Workspaces
	logger     *slog.Logger
	retention  time.Duration
	now        func() time.Time
	loop       *reconcile.Loop
	events     chan *metastore.LogEvent // pointers: 4,096 queued values would be held from start
	dropped    func()

	mu     sync.RWMutex
	active map[string]string // workspace -> log group ARN, for ACTIVE configurations
}

// New returns the service. Events older than retention are pruned.
func New(store Store, ws Workspaces, retention time.Duration, logger *slog.Logger) *Service {
	s := &Service{store: store, workspaces: ws, logger: logger, retention: retention, now: time.Now,
		events: make(chan *metastore.LogEvent, 4096), active: map[string]string{}, dropped: func() {}}
	s.loop = reconcile.New("logging", 10*time.Second, logger, s.reconcile)
	return s
}

// OnDrop is called for each event dropped because the writer fell behind.
func (s *Service) OnDrop(f func()) { s.dropped = f }

// ValidateLogGroupARN checks a log group ARN as AMP's model does; field
// names it in the error (logGroupArn in a workspace's logging
// configurations, loggingDestination.cloudWatchLogs.logGroupArn in a
// scraper's).
func ValidateLogGroupARN(field, arn string) error {
	if !validLogGroupARN(arn) {
		return apierr.InvalidField(field, "Member must satisfy regular expression pattern: arn:aws[a-z0-9-]*:logs:[a-z0-9-]+:\\d{12}:log-group:[A-Za-z0-9\\.\\-\\_\\#/]{1,512}\\:\\* (note the trailing :*)")
	}
	return nil
}

func (s *Service) notFound(ws string) error {
	return apierr.NotFound(ResourceType, ws, "No logging configuration in workspace %s", ws)
}

// Create configures a workspace's log destination.
func (s *Service) Create(ctx context.Context, ws, logGroupARN, clientToken string) (metastore.LoggingConfiguration, error) {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return metastore.LoggingConfiguration{}, err
	}
	if err := ValidateLogGroupARN("logGroupArn", logGroupARN); err != nil {
		return metastore.LoggingConfiguration{}, err
	}
	w, err := s.workspaces.Get(ctx, ws)
	if err != nil {
		return metastore.LoggingConfiguration{}, err
	}
	if w.Status != metastore.WorkspaceActive {
		return metastore.LoggingConfiguration{}, apierr.Conflict(workspace.ResourceType, ws, "Workspace %s is %s", ws, w.Status)
	}
	now := s.now().UTC()
	l := metastore.LoggingConfiguration{WorkspaceID: ws, LogGroupARN: logGroupARN, Status: metastore.StatusCreating, ClientToken: clientToken, CreatedAt: now, ModifiedAt: now}
	if err := s.store.CreateLoggingConfiguration(ctx, l); err != nil {
		if errors.Is(err, metastore.ErrConflict) {
			if cur, gerr := s.store.GetLoggingConfiguration(ctx, ws); gerr == nil && clientToken != "" && cur.ClientToken == clientToken && cur.LogGroupARN == logGroupARN {
				return cur, nil
			}
			return l, apierr.Conflict(ResourceType, ws, "Workspace %s already has a logging configuration; use UpdateLoggingConfiguration", ws)
		}
		return l, err
	}
	s.loop.Kick()
	return l, nil
}

// Describe returns a workspace's logging configuration.
func (s *Service) Describe(ctx context.Context, ws string) (metastore.LoggingConfiguration, error) {
	if _, err := s.workspaces.Get(ctx, ws); err != nil {
		return metastore.LoggingConfiguration{}, err
	}
	l, err := s.store.GetLoggingConfiguration(ctx, ws)
	if errors.Is(err, metastore.ErrNotFound) {
		return l, s.notFound(ws)
	}
	return l, err
}

// Update points a workspace's logs at another log group.
func (s *Service) Update(ctx context.Context, ws, logGroupARN, clientToken string) (metastore.LoggingConfiguration, error) {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return metastore.LoggingConfiguration{}, err
	}
	if err := ValidateLogGroupARN("logGroupArn", logGroupARN); err != nil {
		return metastore.LoggingConfiguration{}, err
	}
	l, err := s.Describe(ctx, ws)
	if err != nil {
		return l, err
	}
	if l.Status == metastore.StatusCreating || l.Status == metastore.StatusUpdating {
		return l, apierr.Conflict(ResourceType, ws, "The logging configuration of %s is %s; retry shortly", ws, l.Status)
	}
	l.LogGroupARN, l.Status, l.StatusReason, l.ModifiedAt = logGroupARN, metastore.StatusUpdating, "", s.now().UTC()
	if err := s.store.UpdateLoggingConfiguration(ctx, l); err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return l, s.notFound(ws)
		}
		return l, err
	}
	s.loop.Kick()
	return l, nil
}

// Delete stops sending a workspace's logs anywhere (stored events stay).
func (s *Service) Delete(ctx context.Context, ws, clientToken string) error {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return err
	}
	if _, err := s.workspaces.Get(ctx, ws); err != nil {
		return err
	}
	if err := s.store.DeleteLoggingConfiguration(ctx, ws); err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return s.notFound(ws)
		}
		return err
	}
	s.mu.Lock()
	delete(s.active, ws)
	s.mu.Unlock()
	return nil
}

// Log records an event for a workspace if its logging is configured. It
// never blocks: when the writer falls behind the event is dropped and counted.
func (s *Service) Log(ctx context.Context, ws, component, level, msg string, fields map[string]string) {
	s.mu.RLock()
	group, ok := s.active[ws]
	s.mu.RUnlock()
	if ok {
		s.LogTo(ctx, ws, group, component, level, msg, fields)
	}
}

// LogTo records an event for a workspace under a log group of its own
// choosing (a managed scraper's logging configuration), whether or not the
// workspace's logging is configured. It never blocks, like Log.
func (s *Service) LogTo(_ context.Context, ws, group, component, level, msg string, fields map[string]string) {
	f := "{}"
	if len(fields) > 0 {
		b, _ := json.Marshal(fields)
		f = string(b)
	}
	select {
	case s.events <- &metastore.LogEvent{WorkspaceID: ws, LogGroupARN: group, Time: s.now().UTC(), Component: component, Level: level, Message: msg, Fields: f}:
	default:
		s.dropped()
	}
}

// Write records an event in the given log group, whatever the
// workspace's own logging configuration (query logs name their own
// destination). Like Log it never blocks.
func (s *Service) Write(ws, logGroupARN, component, level, msg string, fields map[string]string) {
	s.LogTo(context.Background(), ws, logGroupARN, component, level, msg, fields)
}

// Query returns a workspace's stored events.
func (s *Service) Query(ctx context.Context, f metastore.LogFilter) ([]metastore.LogEvent, error) {
	if _, err := s.workspaces.Get(ctx, f.WorkspaceID); err != nil {
		return nil, err
	}
	return s.store.QueryLogEvents(ctx, f)
}

// Flush writes queued events now (used at shutdown and by tests).
func (s *Service) Flush(ctx context.Context) error {
	var batch []metastore.LogEvent
	for {
		select {
		case e := <-s.events:
			batch = append(batch, *e)
			continue
		default:
		}
		break
	}
	if len(batch) == 0 {
		return nil
	}
	return s.store.AppendLogEvents(ctx, batch)
}

// Run activates configurations, writes queued events and prunes old ones.
func (s *Service) Run(ctx context.Context) error {
	go func() { _ = s.loop.Run(ctx) }()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return s.Flush(context.Background())
		case <-t.C:
			if err := s.Flush(ctx); err != nil {
				s.logger.Error("write workspace log events", "err", err)
			}
		case <-prune.C:
			if n, err := s.store.PruneLogEvents(ctx, s.now().Add(-s.retention)); err != nil {
				s.logger.Error("prune workspace log events", "err", err)
			} else if n > 0 {
				s.logger.Info("pruned workspace log events", "count", n)
			}
		}
	}
}

// reconcile makes pending configurations ACTIVE (the destination is local:
// nothing to provision) and refreshes the in-memory map Log consults.
func (s *Service) reconcile(ctx context.Context) error {
	all, err := s.store.ListLoggingConfigurations(ctx)
	if err != nil {
		return err
	}
	active := map[string]string{}
	for _, l := range all {
		if l.Status == metastore.StatusCreating || l.Status == metastore.StatusUpdating {
			l.Status, l.ModifiedAt = metastore.StatusActive, s.now().UTC()
			if err := s.store.UpdateLoggingConfiguration(ctx, l); err != nil && !errors.Is(err, metastore.ErrNotFound) {
				return err
			}
		}
		if l.Status == metastore.StatusActive {
			active[l.WorkspaceID] = l.LogGroupARN
		}
	}
	s.mu.Lock()
	s.active = active
	s.mu.Unlock()
	return nil
}

// Kick runs a reconcile pass soon.
func (s *Service) Kick() { s.loop.Kick() }

// Record renders an event as AMP's vended log records look.
func Record(e metastore.LogEvent) map[string]any {
	msg := map[string]any{"log": e.Message, "level": e.Level}
	var fields map[string]string
	if json.Unmarshal([]byte(e.Fields), &fields) == nil {
		for k, v := range fields {
			msg[k] = v
		}
	}
	return map[string]any{"workspaceId": e.WorkspaceID, "message": msg, "component": e.Component,
		"timestamp": e.Time.Format(time.RFC3339Nano), "logGroupArn": e.LogGroupARN}
}
