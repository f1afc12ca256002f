// Package reconcile runs a function whenever it is kicked, and periodically
// in any case: the loop behind every asynchronous status transition
// (CREATING -> ACTIVE ...) of the control plane.
package reconcile

import (
	"context"
	"log/slog"
	"time"
)

// Loop calls Fn after each Kick and every Interval.
type Loop struct {
	Name     string
	Interval time.Duration
	Fn       func(ctx context.Context) error
	Logger   *slog.Logger

	kick chan struct{}
}

// New returns a loop; Run must be running for Fn to be called.
func New(name string, interval time.Duration, logger *slog.Logger, fn func(ctx context.Context) error) *Loop {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Loop{Name: name, Interval: interval, Fn: fn, Logger: logger, kick: make(chan struct{}, 1)}
}

// Kick asks for a pass as soon as possible (never blocks).
func (l *Loop) Kick() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Run makes passes until ctx is done.
func (l *Loop) Run(ctx context.Context) error {
	t := time.NewTicker(l.Interval)
	defer t.Stop()
	for {
		if err := l.Fn(ctx); err != nil && ctx.Err() == nil {
			l.Logger.Error("reconcile pass failed", "loop", l.Name, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.kick:
		case <-t.C:
		}
	}
}
