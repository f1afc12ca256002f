package metastore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// contractAnomalyDetectors: anomaly detectors (anomaly.go).
func contractAnomalyDetectors(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	mustWorkspace(t, db, "ws-ad")
	mustWorkspace(t, db, "ws-ad2")
	d := metastore.AnomalyDetector{WorkspaceID: "ws-ad", ID: "ad-1", Alias: "cpu", ARN: "arn:ad/ws-ad/ad-1", IntervalSeconds: 60,
		MissingData: `{"skip":true}`, Configuration: `{"randomCutForest":{"query":"sum(up)"}}`, Labels: `{"a":"b"}`,
		Status: metastore.StatusCreating, ClientToken: "ct", CreatedAt: now, ModifiedAt: now}
	if err := db.CreateAnomalyDetector(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAnomalyDetector(ctx, d); !errors.Is(err, metastore.ErrConflict) {
		t.Fatalf("same id twice: %v", err)
	}
	d2 := d
	d2.ID, d2.ARN = "ad-2", "arn:ad/ws-ad/ad-2"
	if err := db.CreateAnomalyDetector(ctx, d2); err != nil {
		t.Fatal(err)
	}
	other := d
	other.WorkspaceID, other.ARN = "ws-ad2", "arn:ad/ws-ad2/ad-1"
	if err := db.CreateAnomalyDetector(ctx, other); err != nil {
		t.Fatalf("same id in another workspace: %v", err)
	}
	if got, err := db.GetAnomalyDetector(ctx, "ws-ad", "ad-1"); err != nil || got != d {
		t.Fatalf("round trip: %+v %v, want %+v", got, err, d)
	}
	if _, err := db.GetAnomalyDetector(ctx, "ws-ad", "ad-9"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("none: %v", err)
	}
	if n, err := db.CountAnomalyDetectors(ctx, "ws-ad"); err != nil || n != 2 {
		t.Fatalf("count: %d %v", n, err)
	}
	if l, err := db.ListAnomalyDetectors(ctx, "ws-ad"); err != nil || len(l) != 2 || l[0].ID != "ad-1" || l[1].ID != "ad-2" {
		t.Fatalf("list: %+v %v", l, err)
	}
	if l, err := db.ListAnomalyDetectors(ctx, ""); err != nil || len(l) != 3 {
		t.Fatalf("list all: %+v %v", l, err)
	}
	d.IntervalSeconds, d.Configuration, d.Status, d.StatusReason, d.ModifiedAt = 120, `{}`, metastore.StatusUpdating, "r", now.Add(time.Minute)
	if err := db.UpdateAnomalyDetector(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetAnomalyDetector(ctx, "ws-ad", "ad-1"); got != d {
		t.Fatalf("after update: %+v", got)
	}
	if err := db.SetTags(ctx, d.ARN, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAnomalyDetector(ctx, "ws-ad", "ad-1"); err != nil {
		t.Fatal(err)
	}
	if tags, err := db.Tags(ctx, d.ARN); err != nil || len(tags) != 0 {
		t.Fatalf("tags outlived the detector: %v %v", tags, err)
	}
	if err := db.DeleteAnomalyDetector(ctx, "ws-ad", "ad-1"); !errors.Is(err, metastore.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := db.DeleteWorkspace(ctx, "ws-ad2", "arn:ws-ad2", "arn:ws-ad2/"); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.CountAnomalyDetectors(ctx, "ws-ad2"); n != 0 {
		t.Fatal("detector outlived its workspace")
	}
}
