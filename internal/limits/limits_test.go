package limits

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/metastore"
)

func TestMerge(t *testing.T) {
	l, err := Merge(Defaults(), []byte(`{"ingestion_rate": 5000, "max_sample_age": "2h", "allow_utf8_names": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if l.IngestionRate != 5000 || l.MaxSampleAge != model.Duration(2*time.Hour) || !l.AllowUTF8Names || l.IngestionBurstSize != 1000000 {
		t.Fatalf("%+v", l)
	}
	for _, bad := range []string{`{"ingestion_rat": 1}`, `{"ingestion_rate": -1}`, `{"max_sample_age": "forever"}`, `[1]`} {
		if _, err := Merge(Defaults(), []byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

type memStore map[string]string

func (m memStore) ListLimitOverrides(context.Context) ([]metastore.LimitOverrides, error) {
	var out []metastore.LimitOverrides
	for ws, o := range m {
		out = append(out, metastore.LimitOverrides{WorkspaceID: ws, Overrides: o})
	}
	return out, nil
}
func (m memStore) GetLimitOverrides(_ context.Context, ws string) (string, error) {
	if o, ok := m[ws]; ok {
		return o, nil
	}
	return "{}", nil
}
func (m memStore) UpdateLimitOverrides(ctx context.Context, ws string, _ time.Time, update func(string) (string, error)) (string, error) {
	cur, _ := m.GetLimitOverrides(ctx, ws)
	next, err := update(cur)
	if err != nil {
		return "", err
	}
	m[ws] = next
	return next, nil
}
func (m memStore) DeleteLimitOverrides(_ context.Context, ws string) error {
	delete(m, ws)
	return nil
}

func TestServiceSetResetLoad(t *testing.T) {
	store := memStore{}
	o := NewOverrides(Defaults())
	s := NewService(store, o, nil)
	var changed []string
	s.OnChange(func(ws string, l *Limits) { changed = append(changed, ws) })
	ctx := context.Background()
	if _, err := s.Set(ctx, "ws-1", []byte(`{"ingestion_rate": 10}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set(ctx, "ws-1", []byte(`{"ingestion_burst_size": 20}`)); err != nil {
		t.Fatal(err)
	}
	if l := o.For("ws-1"); l.IngestionRate != 10 || l.IngestionBurstSize != 20 {
		t.Fatalf("partial updates must accumulate: %+v", l)
	}
	if o.For("ws-2").IngestionRate != 170000 {
		t.Fatal("ws-2 affected")
	}
	if _, err := s.Set(ctx, "ws-1", []byte(`{"ingestion_rate": null}`)); err != nil {
		t.Fatal(err)
	}
	if l := o.For("ws-1"); l.IngestionRate != 170000 || l.IngestionBurstSize != 20 {
		t.Fatalf("null resets one key: %+v", l)
	}
	if _, err := s.Set(ctx, "ws-1", []byte(`{"bogus": 1}`)); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown key: %v", err)
	}
	// Another node changes the store: Load picks it up.
	store["ws-3"] = `{"max_label_names_per_series": 5}`
	delete(store, "ws-1")
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if o.For("ws-3").MaxLabelNamesPerSeries != 5 || o.For("ws-1").IngestionBurstSize != 1000000 {
		t.Fatalf("after load: %+v %+v", o.For("ws-3"), o.For("ws-1"))
	}
	if err := s.Reset(ctx, "ws-3"); err != nil || o.HasOverride("ws-3") {
		t.Fatalf("reset: %v", err)
	}
	if len(changed) < 5 {
		t.Fatalf("listeners told %d times", len(changed))
	}
}

// TestRefreshReadsAnotherNodesChange: two nodes' services over one store;
// a change made through one applies on the other at its Refresh (and its
// Overrides' Current), before any Load, and its listeners are told;
// Overrides no service persists answer Current from memory.
func TestRefreshReadsAnotherNodesChange(t *testing.T) {
	store := memStore{}
	ctx := context.Background()
	a := NewService(store, NewOverrides(Defaults()), nil)
	bView := NewOverrides(Defaults())
	b := NewService(store, bView, nil)
	var told []string
	b.OnChange(func(ws string, l *Limits) {
		told = append(told, fmt.Sprint(ws, " ", time.Duration(l.MinEvaluationInterval)))
	})
	if _, err := a.Set(ctx, "ws-1", []byte(`{"min_evaluation_interval": "1s"}`)); err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(bView.For("ws-1").MinEvaluationInterval); got != 30*time.Second {
		t.Fatalf("the other node before Refresh: %s", got)
	}
	l, err := bView.Current(ctx, "ws-1") // its service refreshes it
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(l.MinEvaluationInterval); got != time.Second || !bView.HasOverride("ws-1") || bView.For("ws-1") != l {
		t.Fatalf("the other node after Current: %s", got)
	}
	if err := b.Refresh(ctx, "ws-1"); err != nil { // unchanged: nobody told again
		t.Fatal(err)
	}
	if err := a.Reset(ctx, "ws-1"); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx, "ws-1"); err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(bView.For("ws-1").MinEvaluationInterval); got != 30*time.Second || bView.HasOverride("ws-1") {
		t.Fatalf("the other node after a reset and Refresh: %s", got)
	}
	if want := []string{"ws-1 1s", "ws-1 30s"}; fmt.Sprint(told) != fmt.Sprint(want) {
		t.Fatalf("listeners told %q, want %q", told, want)
	}
	if bView.For("ws-2").MinEvaluationInterval != Defaults().MinEvaluationInterval {
		t.Fatal("another workspace changed")
	}
	alone := NewOverrides(Defaults())
	if l, err := alone.Current(ctx, "ws-1"); err != nil || l != alone.For("ws-1") {
		t.Fatalf("Current without a service: %v %v", l, err)
	}
}
