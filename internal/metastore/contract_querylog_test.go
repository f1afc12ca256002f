package metastore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// contractQueryLogging: query logging configurations (querylog.go).
func contractQueryLogging(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	mustWorkspace(t, db, "ws-q")
	mustWorkspace(t, db, "ws-q2")
	l := metastore.QueryLoggingConfiguration{WorkspaceID: "ws-q", Destinations: `[{"x":1}]`, Status: metastore.StatusCreating,
		ClientToken: "ct", CreatedAt: now, ModifiedAt: now}
	if err := db.CreateQueryLoggingConfiguration(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateQueryLoggingConfiguration(ctx, l); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("second configuration: %v", err)
	}
	if got, err := db.GetQueryLoggingConfiguration(ctx, "ws-q"); err != nil || got != l {
		t.Fatalf("round trip: %+v %v, want %+v", got, err, l)
	}
	if _, err := db.GetQueryLoggingConfiguration(ctx, "ws-q2"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("none: %v", err)
	}
	l.Destinations, l.Status, l.StatusReason, l.ClientToken, l.ModifiedAt = `[{"y":2}]`, metastore.StatusUpdating, "why", "ct2", now.Add(time.Minute)
	if err := db.UpdateQueryLoggingConfiguration(ctx, l); err != nil {
		t.Fatal(err)
	}
	if all, err := db.ListQueryLoggingConfigurations(ctx); err != nil || len(all) != 1 || all[0] != l {
		t.Fatalf("list: %+v %v", all, err)
	}
	missing := l
	missing.WorkspaceID = "ws-q2"
	if err := db.UpdateQueryLoggingConfiguration(ctx, missing); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("update of none: %v", err)
	}
	if err := db.DeleteQueryLoggingConfiguration(ctx, "ws-q"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteQueryLoggingConfiguration(ctx, "ws-q"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// A workspace's deletion takes its configuration with it.
	if err := db.CreateQueryLoggingConfiguration(ctx, metastore.QueryLoggingConfiguration{WorkspaceID: "ws-q2", Destinations: "[]",
		Status: metastore.StatusActive, CreatedAt: now, ModifiedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteWorkspace(ctx, "ws-q2", "arn:ws-q2", "arn:ws-q2/"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetQueryLoggingConfiguration(ctx, "ws-q2"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("configuration outlived its workspace: %v", err)
	}
}
