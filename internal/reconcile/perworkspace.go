package reconcile

import (
	"context"
	"log/slog"
	"time"
)

// PerWorkspace keeps per-workspace runtime state (a rule manager, an
// Alertmanager ...) in line with the workspaces: a full pass syncs every
// listed workspace and removes the state of those gone; then requests for
// one workspace are served as they come and a full pass repeats every
// Interval as a safety net.
type PerWorkspace struct {
	Name string // for logs
	// List returns the workspaces that should have state.
	List func(ctx context.Context) ([]string, error)
	// Running returns the workspaces that have state now.
	Running func() []string
	Sync    func(ctx context.Context, ws string)
	Remove  func(ws string)
	// Pending carries requests to sync one workspace.
	Pending <-chan string
	// Owns, when set, says whether this node runs a workspace's state (a
	// cluster node runs only the workspaces it holds the lease of): a
	// request for one it does not own removes its state instead.
	Owns     func(ws string) bool
	Interval time.Duration
	// Ready, if set, is called once after the first full pass.
	Ready  func()
	Logger *slog.Logger
}

// Run runs until ctx ends.
func (p PerWorkspace) Run(ctx context.Context) error {
	full := func() {
		wss, err := p.List(ctx)
		if err != nil {
			if p.Logger != nil && ctx.Err() == nil {
				p.Logger.Error("list workspaces", "for", p.Name, "err", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, ws := range wss {
			seen[ws] = true
			p.Sync(ctx, ws)
		}
		for _, ws := range p.Running() {
			if !seen[ws] {
				p.Remove(ws)
			}
		}
	}
	full()
	if p.Ready != nil {
		p.Ready()
	}
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ws := <-p.Pending:
			if p.Owns != nil && !p.Owns(ws) {
				p.Remove(ws)
				continue
			}
			p.Sync(ctx, ws)
		case <-t.C:
			full()
		}
	}
}
