// Package tenant carries the workspace a request is for in its context.
// Storage and query layers read it from there, so a query can never reach
// another workspace's data: there is no other way to name one.
package tenant

import (
	"context"
	"errors"
)

type key struct{}

// ErrNoWorkspace is returned when a context carries no workspace.
var ErrNoWorkspace = errors.New("no workspace in request context")

// WithWorkspace returns ctx bound to workspace ws.
func WithWorkspace(ctx context.Context, ws string) context.Context {
	return context.WithValue(ctx, key{}, ws)
}

// Workspace returns the workspace of ctx.
func Workspace(ctx context.Context) (string, error) {
	ws, _ := ctx.Value(key{}).(string)
	if ws == "" {
		return "", ErrNoWorkspace
	}
	return ws, nil
}
