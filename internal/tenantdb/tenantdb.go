// Package tenantdb keeps one Prometheus TSDB per workspace under
// <data.dir>/workspaces/<id>/tsdb, with the WAL on. It is the embedded
// storage backend: ingest appends through Appender, queries read through
// Querier, and each workspace has its own retention. A sample is durable
// once Appender.Commit returns (it is in the WAL).
package tenantdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"
)

// ErrNotOpen is returned for a workspace whose TSDB is not open (unknown,
// being created, or deleted).
var ErrNotOpen = errors.New("workspace storage is not open")

// Options configure the manager.
type Options struct {
	// Dir holds one sub-directory per workspace.
	Dir string
	// Config tunes every workspace's TSDB; a field left zero takes
	// DefaultConfig()'s.
	Config Config
	// OutOfOrderTimeWindow accepts samples this much older than a series'
	// newest sample. AMP accepts none: 0.
	OutOfOrderTimeWindow time.Duration
	Logger               *slog.Logger
	// TSDB, when set, adjusts the options of every workspace's TSDB.
	TSDB func(*tsdb.Options)
	// Series, when set, returns the series lifecycle callback of a workspace
	// (active-series limits); Opened is called once its WAL is replayed.
	Series SeriesHooks
	// OnCommit, when set, is called after every successful commit of
	// samples with the range of their timestamps (the query results
	// cache's invalidation of days written late).
	OnCommit func(ws string, mint, maxt int64)
}

// SeriesHooks lets a limiter watch a workspace's series.
type SeriesHooks interface {
	For(ws string) SeriesCallback
	Opened(ws string, db *tsdb.DB)
}

// SeriesCallback is the TSDB's series lifecycle callback.
type SeriesCallback = tsdb.SeriesLifecycleCallback

// Manager opens, serves and drops the per-workspace TSDBs.
type Manager struct {
	opts Options

	mu  sync.RWMutex
	dbs map[string]*tenant
}

type tenant struct {
	db   *tsdb.DB
	reg  *prometheus.Registry
	refs *RefCache
}

// New returns a manager; no TSDB is opened until Open.
func New(opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	def := DefaultConfig()
	if opts.Config.StripeSize == 0 {
		opts.Config.StripeSize = def.StripeSize
	}
	if opts.Config.HeadChunksWriteBufferSizeBytes == 0 {
		opts.Config.HeadChunksWriteBufferSizeBytes = def.HeadChunksWriteBufferSizeBytes
	}
	return &Manager{opts: opts, dbs: map[string]*tenant{}}
}

// Dir returns the TSDB directory of a workspace.
func (m *Manager) Dir(ws string) string { return filepath.Join(m.opts.Dir, ws, "tsdb") }

// WorkspaceDir returns the directory holding all of a workspace's local state.
func (m *Manager) WorkspaceDir(ws string) string { return filepath.Join(m.opts.Dir, ws) }

// Open opens (creating if needed, replaying its WAL) the TSDB of a
// workspace. Opening an open workspace only updates its retention.
func (m *Manager) Open(ws string, retention time.Duration) error {
	if err := validID(ws); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.dbs[ws]; ok {
		return applyRetention(t.db, retention)
	}
	o := tsdb.DefaultOptions()
	o.RetentionDuration = retention.Milliseconds()
	o.StripeSize = m.opts.Config.StripeSize
	o.HeadChunksWriteBufferSize = m.opts.Config.HeadChunksWriteBufferSizeBytes
	o.WALCompression = compression.Snappy
	o.OutOfOrderTimeWindow = m.opts.OutOfOrderTimeWindow.Milliseconds()
	// No isolation, as Cortex's (AMP's) and Mimir's ingesters: it keeps a
	// ring of in-flight append IDs in every series (~50 B per series, a
	// fifth of the TSDB's own heap per series besides labels, chunks and
	// postings) so that a query never sees half of a commit; a remote_write
	// sender cuts a scrape into batches anyway, so a commit is no unit a
	// query could rely on.
	o.IsolationDisabled = true
	if m.opts.TSDB != nil {
		m.opts.TSDB(o)
	}
	if m.opts.Series != nil {
		o.SeriesLifecycleCallback = m.opts.Series.For(ws)
	}
	reg := prometheus.NewRegistry()
	start := time.Now()
	db, err := tsdb.Open(m.Dir(ws), m.opts.Logger.With("workspace", ws), reg, o, nil)
	if err != nil {
		return fmt.Errorf("open tsdb of %s: %w", ws, err)
	}
	if m.opts.Series != nil {
		m.opts.Series.Opened(ws, db)
	}
	m.opts.Logger.Info("workspace storage open", "workspace", ws, "retention", retention, "duration", time.Since(start).Round(time.Millisecond))
	m.dbs[ws] = &tenant{db: db, reg: reg, refs: NewRefCache(db.Head().NumSeries)}
	return nil
}

func applyRetention(db *tsdb.DB, retention time.Duration) error {
	return db.ApplyConfig(&config.Config{StorageConfig: config.StorageConfig{TSDBConfig: &config.TSDBConfig{
		Retention: &config.TSDBRetentionConfig{Time: model.Duration(retention)},
	}}})
}

// SetRetention changes a workspace's retention without reopening it.
func (m *Manager) SetRetention(ws string, retention time.Duration) error {
	t, err := m.get(ws)
	if err != nil {
		return err
	}
	return applyRetention(t.db, retention)
}

func (m *Manager) get(ws string) (*tenant, error) {
	m.mu.RLock()
	t, ok := m.dbs[ws]
	m.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%s: %w", ws, ErrNotOpen)
	}
	return t, nil
}

// DB returns the TSDB of an open workspace.
func (m *Manager) DB(ws string) (*tsdb.DB, error) {
	t, err := m.get(ws)
	if err != nil {
		return nil, err
	}
	return t.db, nil
}

// IsOpen reports whether a workspace's TSDB is open.
func (m *Manager) IsOpen(ws string) bool {
	_, err := m.get(ws)
	return err == nil
}

// Appender returns an appender on a workspace's TSDB.
func (m *Manager) Appender(ctx context.Context, ws string) (storage.Appender, error) {
	t, err := m.get(ws)
	if err != nil {
		return nil, err
	}
	return &hookedAppender{Appender: t.db.Appender(ctx), ws: ws, hook: m.opts.OnCommit, refs: t.refs, mint: math.MaxInt64, maxt: math.MinInt64}, nil
}

// hookedAppender tells OnCommit the time range of what it committed, and
// carries the workspace's RefCache.
type hookedAppender struct {
	storage.Appender
	ws         string
	hook       func(ws string, mint, maxt int64) // nil: none
	refs       *RefCache
	mint, maxt int64
}

// RefCache returns the cache of series references of the TSDB this
// appender writes to.
func (a *hookedAppender) RefCache() *RefCache { return a.refs }

func (a *hookedAppender) seen(t int64) {
	if t < a.mint {
		a.mint = t
	}
	if t > a.maxt {
		a.maxt = t
	}
}

// GetRef passes the head's series lookup through (ingest keeps the head's
// own label set of a known series instead of building one).
func (a *hookedAppender) GetRef(lset labels.Labels, hash uint64) (storage.SeriesRef, labels.Labels) {
	if g, ok := a.Appender.(storage.GetRef); ok {
		return g.GetRef(lset, hash)
	}
	return 0, labels.EmptyLabels()
}

func (a *hookedAppender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	a.seen(t)
	return a.Appender.Append(ref, l, t, v)
}

func (a *hookedAppender) AppendHistogram(ref storage.SeriesRef, l labels.Labels, t int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	a.seen(t)
	return a.Appender.AppendHistogram(ref, l, t, h, fh)
}

func (a *hookedAppender) AppendSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64) (storage.SeriesRef, error) {
	a.seen(st)
	return a.Appender.AppendSTZeroSample(ref, l, t, st)
}

func (a *hookedAppender) AppendHistogramSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	a.seen(st)
	return a.Appender.AppendHistogramSTZeroSample(ref, l, t, st, h, fh)
}

func (a *hookedAppender) Commit() error {
	err := a.Appender.Commit()
	if a.hook != nil && a.mint <= a.maxt {
		// Even a failed commit may have written part of the batch.
		a.hook(a.ws, a.mint, a.maxt)
	}
	return err
}

// Querier returns a querier on a workspace's TSDB for [mint, maxt].
func (m *Manager) Querier(ws string, mint, maxt int64) (storage.Querier, error) {
	t, err := m.get(ws)
	if err != nil {
		return nil, err
	}
	return t.db.Querier(mint, maxt)
}

// ChunkQuerier returns a chunk querier on a workspace's TSDB for [mint, maxt].
func (m *Manager) ChunkQuerier(ws string, mint, maxt int64) (storage.ChunkQuerier, error) {
	t, err := m.get(ws)
	if err != nil {
		return nil, err
	}
	return t.db.ChunkQuerier(mint, maxt)
}

// HeadSeries returns the number of series in a workspace's head block (its
// active series).
func (m *Manager) HeadSeries(ws string) (uint64, error) {
	t, err := m.get(ws)
	if err != nil {
		return 0, err
	}
	return t.db.Head().NumSeries(), nil
}

// Close closes one workspace's TSDB, keeping its files.
func (m *Manager) Close(ws string) error {
	m.mu.Lock()
	t, ok := m.dbs[ws]
	delete(m.dbs, ws)
	m.mu.Unlock()
	if !ok {
		return nil
	}
	return t.db.Close()
}

// Drop closes a workspace's TSDB and deletes all of its local state.
func (m *Manager) Drop(ws string) error {
	if err := validID(ws); err != nil {
		return err
	}
	if err := m.Close(ws); err != nil {
		m.opts.Logger.Warn("closing workspace storage before delete", "workspace", ws, "err", err)
	}
	if err := os.RemoveAll(m.WorkspaceDir(ws)); err != nil {
		return fmt.Errorf("delete data of %s: %w", ws, err)
	}
	return nil
}

// CloseAll closes every TSDB (flushing the head is not needed: the WAL is
// replayed on the next open).
func (m *Manager) CloseAll() error {
	m.mu.Lock()
	dbs := m.dbs
	m.dbs = map[string]*tenant{}
	m.mu.Unlock()
	var errs []error
	for ws, t := range dbs {
		if err := t.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close tsdb of %s: %w", ws, err))
		}
	}
	return errors.Join(errs...)
}

// Workspaces lists the open workspaces.
func (m *Manager) Workspaces() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.dbs))
	for ws := range m.dbs {
		out = append(out, ws)
	}
	sort.Strings(out)
	return out
}

// OnDisk lists the workspace directories present under Dir, open or not.
func (m *Manager) OnDisk() ([]string, error) {
	entries, err := os.ReadDir(m.opts.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && validID(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// validID keeps workspace ids from escaping the data directory.
func validID(ws string) error {
	if ws == "" || ws == "." || ws == ".." || len(ws) > 64 {
		return fmt.Errorf("invalid workspace id %q", ws)
	}
	for _, c := range ws {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("invalid workspace id %q", ws)
		}
	}
	return nil
}

// Gatherer exposes every workspace's TSDB metrics with a workspace label.
func (m *Manager) Gatherer() prometheus.Gatherer { return gatherer{m} }
