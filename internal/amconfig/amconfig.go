// Package amconfig is the control plane of a workspace's Alertmanager
// definition: AMP's Create/Describe/Put/DeleteAlertManagerDefinition. The
// definition (template_files + alertmanager_config) is validated on upload
// with Alertmanager's own loader; a valid upload becomes the workspace's
// active configuration (ACTIVE), an invalid one is recorded as
// CREATION_FAILED/UPDATE_FAILED with the reason, and the configuration in
// force stays what it was.
package amconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/reconcile"
	"github.com/kansoku/kansoku/internal/workspace"
)

// ResourceType names definitions in errors.
const ResourceType = "AlertManagerDefinition"

// Store is the metadata the service uses.
type Store interface {
	GetAlertmanagerDefinition(ctx context.Context, ws string) (metastore.AlertmanagerDefinition, error)
	CreateAlertmanagerDefinition(ctx context.Context, d metastore.AlertmanagerDefinition) error
	UpdateAlertmanagerDefinition(ctx context.Context, d metastore.AlertmanagerDefinition, expectVersion int) error
	DeleteAlertmanagerDefinition(ctx context.Context, ws string) error
	ListAlertmanagerDefinitionsByStatus(ctx context.Context, statuses ...string) ([]metastore.AlertmanagerDefinition, error)
}

// Workspaces resolves workspaces.
type Workspaces interface {
	Get(ctx context.Context, id string) (metastore.Workspace, error)
}

// LogSink receives the Alertmanager's workspace log entries.
type LogSink interface {
	Log(ctx context.Context, ws, component, level, msg string, fields map[string]string)
}

// Service manages Alertmanager definitions.
type Service struct {
	store      Store
	workspaces Workspaces
	limits     *limits.Overrides
	logs       LogSink
	now        func() time.Time
	loop       *reconcile.Loop
	listeners  []func(ctx context.Context, ws string)
	// firewall, when set, refuses literal destinations it would refuse
	// at connect time, so the uploader learns at once.
	firewall *egress.Firewall
}

// New returns the service; Run activates uploads.
func New(store Store, ws Workspaces, lim *limits.Overrides, logs LogSink, logger *slog.Logger) *Service {
	s := &Service{store: store, workspaces: ws, limits: lim, logs: logs, now: time.Now}
	s.loop = reconcile.New("amconfig", 10*time.Second, logger, s.activate)
	return s
}

// SetFirewall makes uploads check their destinations against the
// receiver firewall.
func (s *Service) SetFirewall(fw *egress.Firewall) { s.firewall = fw }

// OnChange registers a listener for changes of a workspace's active
// configuration (the per-workspace Alertmanager).
func (s *Service) OnChange(l func(ctx context.Context, ws string)) {
	s.listeners = append(s.listeners, l)
}

// Run activates valid uploads until ctx ends.
func (s *Service) Run(ctx context.Context) error { return s.loop.Run(ctx) }

// Kick runs an activation pass soon.
func (s *Service) Kick() { s.loop.Kick() }

func (s *Service) notFound(ws string) error {
	return apierr.NotFound(ResourceType, ws, "No Alertmanager definition in workspace %s", ws)
}

func (s *Service) prepare(ctx context.Context, ws string, data []byte, clientToken string) error {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return err
	}
	w, err := s.workspaces.Get(ctx, ws)
	if err != nil {
		return err
	}
	if w.Status != metastore.WorkspaceActive {
		return apierr.Conflict(workspace.ResourceType, ws, "Workspace %s is %s", ws, w.Status)
	}
	if len(data) == 0 {
		return apierr.InvalidField("data", "the Alertmanager definition is empty")
	}
	// Create and Put validate against the limits prepare re-reads here.
	lim, err := s.limits.Current(ctx, ws)
	if err != nil {
		return err
	}
	if max := lim.MaxDefinitionSizeBytes; len(data) > max {
		return apierr.InvalidField("data", "the Alertmanager definition is %d bytes; the limit is %d bytes", len(data), max)
	}
	return nil
}

// Create stores a workspace's first definition.
func (s *Service) Create(ctx context.Context, ws string, data []byte, clientToken string) (metastore.AlertmanagerDefinition, error) {
	if err := s.prepare(ctx, ws, data, clientToken); err != nil {
		return metastore.AlertmanagerDefinition{}, err
	}
	if cur, err := s.store.GetAlertmanagerDefinition(ctx, ws); err == nil {
		if clientToken != "" && cur.ClientToken == clientToken && string(cur.Data) == string(data) {
			return cur, nil
		}
		return metastore.AlertmanagerDefinition{}, apierr.Conflict(ResourceType, ws, "Workspace %s already has an Alertmanager definition; use PutAlertManagerDefinition to change it", ws)
	} else if !errors.Is(err, metastore.ErrNotFound) {
		return metastore.AlertmanagerDefinition{}, err
	}
	now := s.now().UTC()
	d := metastore.AlertmanagerDefinition{WorkspaceID: ws, Data: data, Status: metastore.StatusCreating, ClientToken: clientToken,
		Version: 1, CreatedAt: now, ModifiedAt: now}
	if _, err := Parse(data, s.limits.For(ws), s.firewall); err != nil {
		d.Status, d.StatusReason = metastore.StatusCreationFailed, reason(err)
	}
	if err := s.store.CreateAlertmanagerDefinition(ctx, d); err != nil {
		if errors.Is(err, metastore.ErrConflict) {
			// Created concurrently (on another node, perhaps): a retry with
			// the same client token is answered as its first.
			if cur, gerr := s.store.GetAlertmanagerDefinition(ctx, ws); gerr == nil && clientToken != "" && cur.ClientToken == clientToken && string(cur.Data) == string(data) {
				return cur, nil
			}
			return d, apierr.Conflict(ResourceType, ws, "Workspace %s already has an Alertmanager definition", ws)
		}
		return d, fmt.Errorf("create alertmanager definition: %w", err)
	}
	s.afterWrite(ctx, d)
	return d, nil
}

// Put replaces a workspace's definition.
func (s *Service) Put(ctx context.Context, ws string, data []byte, clientToken string) (metastore.AlertmanagerDefinition, error) {
	if err := s.prepare(ctx, ws, data, clientToken); err != nil {
		return metastore.AlertmanagerDefinition{}, err
	}
	cur, err := s.store.GetAlertmanagerDefinition(ctx, ws)
	if errors.Is(err, metastore.ErrNotFound) {
		return cur, s.notFound(ws)
	}
	if err != nil {
		return cur, err
	}
	if cur.Status == metastore.StatusCreating || cur.Status == metastore.StatusUpdating {
		return cur, apierr.Conflict(ResourceType, ws, "The Alertmanager definition of %s is %s; retry when the change in progress is done", ws, cur.Status)
	}
	d := cur
	d.Data, d.Version, d.ModifiedAt = data, cur.Version+1, s.now().UTC()
	d.Status, d.StatusReason = metastore.StatusUpdating, ""
	if _, perr := Parse(data, s.limits.For(ws), s.firewall); perr != nil {
		d.Status, d.StatusReason = metastore.StatusUpdateFailed, reason(perr)
		if cur.ActiveData == nil {
			d.Status = metastore.StatusCreationFailed
		}
	}
	if err := s.store.UpdateAlertmanagerDefinition(ctx, d, cur.Version); err != nil {
		if errors.Is(err, metastore.ErrConflict) {
			return d, apierr.Conflict(ResourceType, ws, "The Alertmanager definition of %s was changed concurrently; retry", ws)
		}
		if errors.Is(err, metastore.ErrNotFound) {
			return d, s.notFound(ws)
		}
		return d, err
	}
	s.afterWrite(ctx, d)
	return d, nil
}

func reason(err error) string {
	r := err.Error()
	if len(r) > 1000 {
		r = r[:1000] + "..."
	}
	return r
}

func (s *Service) afterWrite(ctx context.Context, d metastore.AlertmanagerDefinition) {
	if d.Status == metastore.StatusCreationFailed || d.Status == metastore.StatusUpdateFailed {
		s.logs.Log(ctx, d.WorkspaceID, "alertmanager", "ERROR", "Alertmanager definition was not loaded: "+d.StatusReason, nil)
		return
	}
	s.loop.Kick()
}

// Describe returns a workspace's definition.
func (s *Service) Describe(ctx context.Context, ws string) (metastore.AlertmanagerDefinition, error) {
	if _, err := s.workspaces.Get(ctx, ws); err != nil {
		return metastore.AlertmanagerDefinition{}, err
	}
	d, err := s.store.GetAlertmanagerDefinition(ctx, ws)
	if errors.Is(err, metastore.ErrNotFound) {
		return d, s.notFound(ws)
	}
	return d, err
}

// Delete removes a workspace's definition; its Alertmanager stops.
func (s *Service) Delete(ctx context.Context, ws, clientToken string) error {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return err
	}
	if _, err := s.workspaces.Get(ctx, ws); err != nil {
		return err
	}
	if err := s.store.DeleteAlertmanagerDefinition(ctx, ws); err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return s.notFound(ws)
		}
		return err
	}
	s.notify(ctx, ws)
	return nil
}

// Active returns the configuration in force for a workspace (nil if none).
func (s *Service) Active(ctx context.Context, ws string) ([]byte, error) {
	d, err := s.store.GetAlertmanagerDefinition(ctx, ws)
	if errors.Is(err, metastore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return d.ActiveData, nil
}

func (s *Service) notify(ctx context.Context, ws string) {
	for _, l := range s.listeners {
		l(ctx, ws)
	}
}

func (s *Service) activate(ctx context.Context) error {
	pending, err := s.store.ListAlertmanagerDefinitionsByStatus(ctx, metastore.StatusCreating, metastore.StatusUpdating)
	if err != nil {
		return err
	}
	for _, d := range pending {
		next := d
		next.ActiveData, next.Status, next.StatusReason = d.Data, metastore.StatusActive, ""
		next.Version, next.ModifiedAt = d.Version+1, s.now().UTC()
		if err := s.store.UpdateAlertmanagerDefinition(ctx, next, d.Version); err != nil {
			if errors.Is(err, metastore.ErrConflict) || errors.Is(err, metastore.ErrNotFound) {
				continue
			}
			return err
		}
		s.notify(ctx, d.WorkspaceID)
	}
	return nil
}
