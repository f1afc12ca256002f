package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/metastore"
)

// DashboardStore is where dashboards live.
type DashboardStore interface {
	CreateDashboard(ctx context.Context, d metastore.Dashboard) error
	GetDashboard(ctx context.Context, ws, id string) (metastore.Dashboard, error)
	ListDashboards(ctx context.Context, ws string) ([]metastore.Dashboard, error)
	UpdateDashboard(ctx context.Context, d metastore.Dashboard, expectVersion int) error
	DeleteDashboard(ctx context.Context, ws, id string) error
}

// PanelTypes are the panel kinds a dashboard may hold: Amazon Managed
// Grafana's table-less set for SQL panels (bar, gauge, stat) plus the line
// graph.
var PanelTypes = []string{"line", "bar", "gauge", "stat"}

// Dashboard is a saved dashboard: panels of PromQL queries over a time range.
type Dashboard struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspaceId"`
	Title       string    `json:"title"`
	TimeRange   string    `json:"timeRange"` // 15m, 1h, 6h, 24h, 7d ...
	Refresh     string    `json:"refresh"`   // "", 10s, 30s, 1m, 5m
	Panels      []Panel   `json:"panels"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int       `json:"version"`
}

// Panel is one chart of a dashboard.
type Panel struct {
	Title string `json:"title"`
	Type  string `json:"type"`
	Query string `json:"query"`
	Unit  string `json:"unit,omitempty"`
	// Min and Max bound a gauge; Thresholds color stat and gauge panels.
	Min        *float64  `json:"min,omitempty"`
	Max        *float64  `json:"max,omitempty"`
	Thresholds []float64 `json:"thresholds,omitempty"`
}

// Dashboards stores dashboards per workspace.
type Dashboards struct {
	store DashboardStore
	now   func() time.Time
}

// NewDashboards returns the dashboard store.
func NewDashboards(store DashboardStore) *Dashboards {
	return &Dashboards{store: store, now: time.Now}
}

const maxPanels = 50

// validate checks a dashboard as a user wrote it.
func (d *Dashboard) validate() error {
	d.Title = strings.TrimSpace(d.Title)
	if d.Title == "" || len(d.Title) > 200 {
		return apierr.InvalidField("title", "a title of 1 to 200 characters")
	}
	if d.TimeRange == "" {
		d.TimeRange = "1h"
	}
	if _, err := parseRange(d.TimeRange); err != nil {
		return apierr.InvalidField("timeRange", "%v", err)
	}
	if d.Refresh != "" {
		r, err := time.ParseDuration(d.Refresh)
		if err != nil || r < 5*time.Second {
			return apierr.InvalidField("refresh", "empty (no refresh) or a duration of at least 5s, like 30s")
		}
	}
	if len(d.Panels) > maxPanels {
		return apierr.InvalidField("panels", "at most %d panels", maxPanels)
	}
	p := parser.NewParser(parser.Options{})
	for i := range d.Panels {
		pn := &d.Panels[i]
		if !slices.Contains(PanelTypes, pn.Type) {
			return apierr.InvalidField(fmt.Sprintf("panels[%d].type", i), "%q: one of %s", pn.Type, strings.Join(PanelTypes, ", "))
		}
		if _, err := p.ParseExpr(pn.Query); err != nil {
			return apierr.InvalidField(fmt.Sprintf("panels[%d].query", i), "%v", err)
		}
		if len(pn.Title) > 200 {
			return apierr.InvalidField(fmt.Sprintf("panels[%d].title", i), "at most 200 characters")
		}
	}
	return nil
}

// parseRange accepts Prometheus durations (15m, 1h, 7d).
func parseRange(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		var n int
		if _, err := fmt.Sscanf(s, "%dd", &n); err == nil && n > 0 && n <= 32 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
		return 0, fmt.Errorf("%q: a range such as 15m, 1h, 7d (at most 32d)", s)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute || d > 32*24*time.Hour {
		return 0, fmt.Errorf("%q: a range such as 15m, 1h, 7d (at most 32d)", s)
	}
	return d, nil
}

func toDashboard(m metastore.Dashboard) (Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal([]byte(m.Document), &d); err != nil {
		return Dashboard{}, fmt.Errorf("dashboard %s: corrupt document: %w", m.ID, err)
	}
	d.ID, d.WorkspaceID, d.CreatedAt, d.UpdatedAt, d.Version = m.ID, m.WorkspaceID, m.CreatedAt, m.UpdatedAt, m.Version
	if d.Panels == nil {
		d.Panels = []Panel{}
	}
	return d, nil
}

func document(d Dashboard) string {
	doc := Dashboard{Title: d.Title, TimeRange: d.TimeRange, Refresh: d.Refresh, Panels: d.Panels}
	b, _ := json.Marshal(doc)
	return string(b)
}

// List returns a workspace's dashboards.
func (s *Dashboards) List(ctx context.Context, ws string) ([]Dashboard, error) {
	ms, err := s.store.ListDashboards(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := []Dashboard{}
	for _, m := range ms {
		d, err := toDashboard(m)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Get returns one dashboard.
func (s *Dashboards) Get(ctx context.Context, ws, id string) (Dashboard, error) {
	m, err := s.store.GetDashboard(ctx, ws, id)
	if errors.Is(err, metastore.ErrNotFound) {
		return Dashboard{}, apierr.NotFound("Dashboard", id, "dashboard %s does not exist in workspace %s", id, ws)
	}
	if err != nil {
		return Dashboard{}, err
	}
	return toDashboard(m)
}

// Create saves a new dashboard (also an imported JSON export).
func (s *Dashboards) Create(ctx context.Context, ws string, d Dashboard) (Dashboard, error) {
	if err := d.validate(); err != nil {
		return Dashboard{}, err
	}
	now := s.now().UTC()
	m := metastore.Dashboard{ID: "db-" + randomToken(9), WorkspaceID: ws, Name: d.Title, Document: document(d), CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.store.CreateDashboard(ctx, m); err != nil {
		return Dashboard{}, err
	}
	return toDashboard(m)
}

// Put replaces a dashboard; version, when not 0, must be the stored one.
func (s *Dashboards) Put(ctx context.Context, ws, id string, d Dashboard) (Dashboard, error) {
	if err := d.validate(); err != nil {
		return Dashboard{}, err
	}
	cur, err := s.store.GetDashboard(ctx, ws, id)
	if errors.Is(err, metastore.ErrNotFound) {
		return Dashboard{}, apierr.NotFound("Dashboard", id, "dashboard %s does not exist in workspace %s", id, ws)
	}
	if err != nil {
		return Dashboard{}, err
	}
	if d.Version != 0 && d.Version != cur.Version {
		return Dashboard{}, apierr.Conflict("Dashboard", id, "the dashboard was changed meanwhile (version %d, yours %d): reload it", cur.Version, d.Version)
	}
	next := cur
	next.Name, next.Document, next.UpdatedAt, next.Version = d.Title, document(d), s.now().UTC(), cur.Version+1
	if err := s.store.UpdateDashboard(ctx, next, cur.Version); err != nil {
		if errors.Is(err, metastore.ErrConflict) {
			return Dashboard{}, apierr.Conflict("Dashboard", id, "the dashboard was changed meanwhile: reload it")
		}
		return Dashboard{}, err
	}
	return toDashboard(next)
}

// Delete removes a dashboard.
func (s *Dashboards) Delete(ctx context.Context, ws, id string) error {
	err := s.store.DeleteDashboard(ctx, ws, id)
	if errors.Is(err, metastore.ErrNotFound) {
		return apierr.NotFound("Dashboard", id, "dashboard %s does not exist in workspace %s", id, ws)
	}
	return err
}
