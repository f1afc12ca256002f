package metastore_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// contractWorkspaceConfiguration: UpdateWorkspaceConfiguration's stored
// label-set limits and the UPDATING -> ACTIVE versioning (workspaces.go).
func contractWorkspaceConfiguration(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	mustWorkspace(t, db, "ws-c")
	w, err := db.GetWorkspace(ctx, "ws-c")
	if err != nil || w.ConfigStatus != metastore.ConfigActive || len(w.LabelSetLimits) != 0 || w.ConfigVersion != 0 {
		t.Fatalf("a new workspace: %+v %v", w, err)
	}
	sets := []metastore.LabelSetLimit{{LabelSet: map[string]string{"env": "prod", "team": "a"}, MaxSeries: 10}, {LabelSet: map[string]string{"env": "dev"}}}
	v, err := db.UpdateWorkspaceConfiguration(ctx, "ws-c", metastore.ConfigurationUpdate{LabelSetLimits: &sets}, now.Add(time.Minute))
	if err != nil || v != 1 {
		t.Fatalf("update: %d %v", v, err)
	}
	w, _ = db.GetWorkspace(ctx, "ws-c")
	if w.ConfigStatus != metastore.ConfigUpdating || !reflect.DeepEqual(w.LabelSetLimits, sets) || w.RetentionDays != 150 {
		t.Fatalf("stored: %+v", w)
	}
	// A second change while the first is UPDATING is refused.
	days := 30
	if _, err := db.UpdateWorkspaceConfiguration(ctx, "ws-c", metastore.ConfigurationUpdate{RetentionDays: &days}, now); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("while UPDATING: %v", err)
	}
	if err := db.FinishWorkspaceConfiguration(ctx, "ws-c", 0, metastore.ConfigActive, ""); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("an older version must not finish the newer: %v", err)
	}
	if err := db.FinishWorkspaceConfiguration(ctx, "ws-c", 1, metastore.ConfigActive, ""); err != nil {
		t.Fatal(err)
	}
	if v, err = db.UpdateWorkspaceConfiguration(ctx, "ws-c", metastore.ConfigurationUpdate{RetentionDays: &days}, now); err != nil || v != 2 {
		t.Fatalf("retention only: %d %v", v, err)
	}
	if err := db.FinishWorkspaceConfiguration(ctx, "ws-c", 2, metastore.ConfigUpdateFailed, "boom"); err != nil {
		t.Fatal(err)
	}
	w, _ = db.GetWorkspace(ctx, "ws-c")
	if w.ConfigStatus != metastore.ConfigUpdateFailed || w.ConfigStatusReason != "boom" || w.RetentionDays != 30 || !reflect.DeepEqual(w.LabelSetLimits, sets) {
		t.Fatalf("retention kept the sets: %+v", w)
	}
	none := []metastore.LabelSetLimit{}
	if _, err := db.UpdateWorkspaceConfiguration(ctx, "ws-c", metastore.ConfigurationUpdate{LabelSetLimits: &none}, now); err != nil {
		t.Fatal(err)
	}
	if w, _ = db.GetWorkspace(ctx, "ws-c"); len(w.LabelSetLimits) != 0 || w.ConfigStatusReason != "" {
		t.Fatalf("cleared: %+v", w)
	}
	if _, err := db.UpdateWorkspaceConfiguration(ctx, "ws-none", metastore.ConfigurationUpdate{RetentionDays: &days}, now); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("missing workspace: %v", err)
	}
}
