package limits

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// Store persists per-workspace overrides.
type Store interface {
	ListLimitOverrides(ctx context.Context) ([]metastore.LimitOverrides, error)
	GetLimitOverrides(ctx context.Context, ws string) (string, error)
	// UpdateLimitOverrides rewrites a workspace's overrides from the
	// current ones atomically (across nodes too); update may run more
	// than once.
	UpdateLimitOverrides(ctx context.Context, ws string, at time.Time, update func(current string) (string, error)) (string, error)
	DeleteLimitOverrides(ctx context.Context, ws string) error
}

// Merge applies a JSON object of overrides (keys as in the YAML
// configuration, e.g. {"ingestion_rate": 5000}) onto base. Unknown keys
// and invalid results are errors.
func Merge(base Limits, overrides []byte) (Limits, error) {
	out := base
	if len(bytes.TrimSpace(overrides)) == 0 {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(overrides))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return base, fmt.Errorf("limits: %w", err)
	}
	if err := out.Validate(); err != nil {
		return base, err
	}
	return out, nil
}

// combine merges a partial override object into an existing one.
func combine(existing, partial []byte) ([]byte, error) {
	m := map[string]json.RawMessage{}
	if len(existing) > 0 {
		if err := json.Unmarshal(existing, &m); err != nil {
			return nil, err
		}
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal(partial, &p); err != nil {
		return nil, fmt.Errorf("limits must be a JSON object: %w", err)
	}
	for k, v := range p {
		if string(v) == "null" {
			delete(m, k) // back to the default
			continue
		}
		m[k] = v
	}
	return json.Marshal(m)
}

// Service persists overrides and keeps Overrides up to date.
type Service struct {
	store     Store
	overrides *Overrides
	logger    *slog.Logger
	now       func() time.Time
	onChange  []func(ws string, l *Limits)
}

// NewService returns a limits service over overrides.
func NewService(store Store, o *Overrides, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, overrides: o, logger: logger, now: time.Now}
	o.mu.Lock()
	o.reload = s.Refresh
	o.mu.Unlock()
	return s
}

// OnChange registers a function told about every change of a workspace's
// limits (rate limiters, TSDB retention...).
func (s *Service) OnChange(f func(ws string, l *Limits)) { s.onChange = append(s.onChange, f) }

// Overrides returns the in-memory view every consumer reads.
func (s *Service) Overrides() *Overrides { return s.overrides }

// Get returns a workspace's effective limits and its override object.
func (s *Service) Get(ctx context.Context, ws string) (Limits, map[string]json.RawMessage, error) {
	raw, err := s.store.GetLimitOverrides(ctx, ws)
	if err != nil {
		return Limits{}, nil, err
	}
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal([]byte(raw), &m)
	return *s.overrides.For(ws), m, nil
}

// Set merges partial overrides (a JSON object; null resets a key) into a
// workspace's and applies them at once.
func (s *Service) Set(ctx context.Context, ws string, partial []byte) (Limits, error) {
	var l Limits
	merged, err := s.store.UpdateLimitOverrides(ctx, ws, s.now().UTC(), func(raw string) (string, error) {
		merged, err := combine([]byte(raw), partial)
		if err != nil {
			return "", err
		}
		if l, err = Merge(s.overrides.Defaults(), merged); err != nil {
			return "", err
		}
		return string(merged), nil
	})
	if err != nil {
		return Limits{}, err
	}
	s.apply(ws, &l, merged != "{}")
	return l, nil
}

// Reset returns a workspace to the default limits.
func (s *Service) Reset(ctx context.Context, ws string) error {
	if err := s.store.DeleteLimitOverrides(ctx, ws); err != nil {
		return err
	}
	d := s.overrides.Defaults()
	s.apply(ws, &d, false)
	return nil
}

func (s *Service) apply(ws string, l *Limits, override bool) {
	if override {
		s.overrides.Set(ws, l)
	} else {
		s.overrides.Set(ws, nil)
	}
	for _, f := range s.onChange {
		f(ws, s.overrides.For(ws))
	}
}

// Refresh reads ws's overrides from the store into the view every
// consumer reads, at once (Overrides.Current calls it; Load, every few
// seconds, catches up otherwise).
func (s *Service) Refresh(ctx context.Context, ws string) error {
	raw, err := s.store.GetLimitOverrides(ctx, ws)
	if err != nil {
		return fmt.Errorf("read the limit overrides of %s: %w", ws, err)
	}
	s.take(ws, raw)
	return nil
}

// take makes raw, ws's overrides as stored ("{}" or "" for none), the
// limits in force, telling the listeners if they change. Invalid stored
// overrides leave the limits in force as they are.
func (s *Service) take(ws, raw string) {
	l, err := Merge(s.overrides.Defaults(), []byte(raw))
	if err != nil {
		s.logger.Error("stored limit overrides are invalid; the limits in force stay", "workspace", ws, "err", err)
		return
	}
	override := raw != "" && raw != "{}"
	if *s.overrides.For(ws) != l || s.overrides.HasOverride(ws) != override {
		s.apply(ws, &l, override)
	}
}

// Load reads every workspace's overrides from the store (at start, and
// periodically to see other nodes' changes).
func (s *Service) Load(ctx context.Context) error {
	all, err := s.store.ListLimitOverrides(ctx)
	if err != nil {
		return fmt.Errorf("load limit overrides: %w", err)
	}
	seen := map[string]bool{}
	for _, o := range all {
		seen[o.WorkspaceID] = true
		s.take(o.WorkspaceID, o.Overrides)
	}
	for _, ws := range s.overrides.Overridden() {
		if !seen[ws] {
			d := s.overrides.Defaults()
			s.apply(ws, &d, false)
		}
	}
	return nil
}

// Run reloads overrides every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Load(ctx); err != nil {
				s.logger.Error("reload limits", "err", err)
			}
		}
	}
}

// Overridden lists the workspaces with their own limits.
func (o *Overrides) Overridden() []string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]string, 0, len(o.workspace))
	for ws := range o.workspace {
		out = append(out, ws)
	}
	sort.Strings(out)
	return out
}
