package anomaly

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/metastore"
)

type workspaces struct{ db *metastore.DB }

func (w workspaces) Get(ctx context.Context, id string) (metastore.Workspace, error) {
	ws, err := w.db.GetWorkspace(ctx, id)
	if errors.Is(err, metastore.ErrNotFound) {
		return ws, apierr.NotFound("Workspace", id, "no workspace %s", id)
	}
	return ws, err
}

func setup(t *testing.T, lim Limits) *Service {
	t.Helper()
	db, err := metastore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := db.CreateWorkspace(t.Context(), metastore.Workspace{ID: "ws-a", ARN: "arn:ws-a", Status: metastore.WorkspaceActive, RetentionDays: 150, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return New(db, workspaces{db}, lim, "us-east-1", "123456789012", slog.New(slog.DiscardHandler))
}

func spec(q string) Spec {
	return Spec{Configuration: &Configuration{RandomCutForest: &RandomCutForest{Query: q}}}
}

func errType(err error) string {
	var e *apierr.Error
	if errors.As(err, &e) {
		return e.Type
	}
	return ""
}

// TestValidation: AMP's model constraints and Kansoku's bounds.
func TestValidation(t *testing.T) {
	s := setup(t, DefaultLimits())
	ctx := t.Context()
	f := func(v float64) *float64 { return &v }
	cases := map[string]func(*Spec){
		"no configuration":   func(sp *Spec) { sp.Configuration = nil },
		"empty query":        func(sp *Spec) { sp.Configuration.RandomCutForest.Query = "" },
		"bad query":          func(sp *Spec) { sp.Configuration.RandomCutForest.Query = "sum(" },
		"range vector":       func(sp *Spec) { sp.Configuration.RandomCutForest.Query = "up[5m]" },
		"long query":         func(sp *Spec) { sp.Configuration.RandomCutForest.Query = strings.Repeat("a", 8193) },
		"interval too short": func(sp *Spec) { sp.EvaluationIntervalInSeconds = ptr(29) },
		"interval too long":  func(sp *Spec) { sp.EvaluationIntervalInSeconds = ptr(86401) },
		"shingle 1":          func(sp *Spec) { sp.Configuration.RandomCutForest.ShingleSize = ptr(1) },
		"sample 255":         func(sp *Spec) { sp.Configuration.RandomCutForest.SampleSize = ptr(255) },
		"forest too big": func(sp *Spec) {
			sp.Configuration.RandomCutForest.ShingleSize, sp.Configuration.RandomCutForest.SampleSize = ptr(1024), ptr(1024)
		},
		"both missing actions": func(sp *Spec) { sp.MissingDataAction = &MissingDataAction{MarkAsAnomaly: ptr(true), Skip: ptr(true)} },
		"no missing action":    func(sp *Spec) { sp.MissingDataAction = &MissingDataAction{} },
		"ignore both": func(sp *Spec) {
			sp.Configuration.RandomCutForest.IgnoreNearExpectedFromAbove = &IgnoreNearExpected{Amount: f(1), Ratio: f(1)}
		},
		"ignore negative": func(sp *Spec) {
			sp.Configuration.RandomCutForest.IgnoreNearExpectedFromBelow = &IgnoreNearExpected{Amount: f(-1)}
		},
		"label __":          func(sp *Spec) { sp.Labels = map[string]string{"__name__": "x"} },
		"label bad":         func(sp *Spec) { sp.Labels = map[string]string{"a-b": "x"} },
		"label empty value": func(sp *Spec) { sp.Labels = map[string]string{"a": ""} },
		"label detector id": func(sp *Spec) { sp.Labels = map[string]string{LabelDetectorID: "x"} },
	}
	for name, mutate := range cases {
		sp := spec("sum(up)")
		mutate(&sp)
		if _, err := s.Create(ctx, "ws-a", "a", sp, nil, ""); errType(err) != "ValidationException" {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, alias := range map[string]string{"empty alias": "", "bad alias": "-x", "long alias": strings.Repeat("a", 65)} {
		if _, err := s.Create(ctx, "ws-a", alias, spec("sum(up)"), nil, ""); errType(err) != "ValidationException" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := s.Create(ctx, "ws-a", "a", spec("sum(up)"), map[string]string{"aws:x": "y"}, ""); errType(err) != "ValidationException" {
		t.Errorf("aws: tag: %v", err)
	}
	if _, err := s.Create(ctx, "ws-nope", "a", spec("sum(up)"), nil, ""); errType(err) != "ResourceNotFoundException" {
		t.Errorf("no workspace: %v", err)
	}
	if _, err := s.Describe(ctx, "ws-a", "bad-id"); errType(err) != "ValidationException" {
		t.Errorf("bad id: %v", err)
	}
	if _, err := s.Describe(ctx, "ws-a", "ad-nope"); errType(err) != "ResourceNotFoundException" {
		t.Errorf("no detector: %v", err)
	}
}

// TestLifecycle: create (defaults filled, idempotent with a token),
// quota, list with paging and alias, put (and put creating), delete.
func TestLifecycle(t *testing.T) {
	lim := DefaultLimits()
	lim.DetectorsPerWorkspace = 3
	s := setup(t, lim)
	ctx := t.Context()
	d, err := s.Create(ctx, "ws-a", "cpu", spec("sum(rate(x[5m]))"), map[string]string{"team": "a"}, "tok")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.ID, "ad-") || d.ARN != "arn:aws:aps:us-east-1:123456789012:anomalydetector/ws-a/"+d.ID || d.Status != "CREATING" ||
		d.IntervalSeconds != 60 || *d.Config.RandomCutForest.ShingleSize != 8 || *d.Config.RandomCutForest.SampleSize != 256 ||
		d.Missing.Skip == nil || !*d.Missing.Skip || d.Tags["team"] != "a" {
		t.Fatalf("created: %+v", d)
	}
	again, err := s.Create(ctx, "ws-a", "cpu", spec("sum(rate(x[5m]))"), nil, "tok")
	if err != nil || again.ID != d.ID {
		t.Fatalf("retry with the token: %+v %v", again, err)
	}
	if _, err := s.Put(ctx, "ws-a", d.ID, spec("sum(y)"), ""); errType(err) != "ConflictException" {
		t.Fatalf("put while CREATING: %v", err)
	}
	if err := s.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Describe(ctx, "ws-a", d.ID); got.Status != "ACTIVE" || got.Tags["team"] != "a" {
		t.Fatalf("after reconcile: %+v", got)
	}
	sp := spec("sum(y)")
	sp.EvaluationIntervalInSeconds = ptr(120)
	sp.Labels = map[string]string{"severity": "high"}
	p, err := s.Put(ctx, "ws-a", d.ID, sp, "")
	if err != nil || p.Status != "UPDATING" || p.IntervalSeconds != 120 || p.Labels["severity"] != "high" || p.Alias != "cpu" {
		t.Fatalf("put: %+v %v", p, err)
	}
	// Put of an id that does not exist creates it.
	created, err := s.Put(ctx, "ws-a", "ad-mine", spec("sum(z)"), "")
	if err != nil || created.ID != "ad-mine" || created.Alias != "ad-mine" || created.Status != "CREATING" {
		t.Fatalf("put creating: %+v %v", created, err)
	}
	if _, err := s.Create(ctx, "ws-a", "mem", spec("sum(m)"), nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "ws-a", "four", spec("sum(m)"), nil, ""); errType(err) != "ServiceQuotaExceededException" {
		t.Fatalf("over the quota: %v", err)
	}
	page1, next, err := s.List(ctx, "ws-a", "", 2, "")
	if err != nil || len(page1) != 2 || next == "" {
		t.Fatalf("page 1: %d %q %v", len(page1), next, err)
	}
	page2, next2, err := s.List(ctx, "ws-a", "", 2, next)
	if err != nil || len(page2) != 1 || next2 != "" || page2[0].ID <= page1[1].ID {
		t.Fatalf("page 2: %+v %q %v", page2, next2, err)
	}
	if l, _, _ := s.List(ctx, "ws-a", "mem", 0, ""); len(l) != 1 || l[0].Alias != "mem" {
		t.Fatalf("by alias: %+v", l)
	}
	if _, _, err := s.List(ctx, "ws-a", "", 1001, ""); errType(err) != "ValidationException" {
		t.Fatalf("maxResults 1001: %v", err)
	}
	if _, _, err := s.List(ctx, "ws-a", "", 0, "garbage token"); errType(err) != "ValidationException" {
		t.Fatalf("bad token: %v", err)
	}
	if err := s.Delete(ctx, "ws-a", d.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Describe(ctx, "ws-a", d.ID); got.Status != "DELETING" {
		t.Fatalf("deleting: %+v", got)
	}
	if err := s.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Describe(ctx, "ws-a", d.ID); errType(err) != "ResourceNotFoundException" {
		t.Fatalf("after delete: %v", err)
	}
}
