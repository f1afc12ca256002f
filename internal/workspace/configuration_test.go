package workspace

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// fakeLabelSets records the label sets applied to each workspace.
type fakeLabelSets struct {
	mu   sync.Mutex
	sets map[string][]metastore.LabelSetLimit
	fail bool
}

func (f *fakeLabelSets) SetLabelSetLimits(ws string, sets []metastore.LabelSetLimit) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("head unavailable")
	}
	f.sets[ws] = sets
	return nil
}

func (f *fakeLabelSets) get(ws string) []metastore.LabelSetLimit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sets[ws]
}

func TestValidateLabelSetLimits(t *testing.T) {
	set := func(kv map[string]string, max int64) metastore.LabelSetLimit {
		return metastore.LabelSetLimit{LabelSet: kv, MaxSeries: max}
	}
	good := [][]metastore.LabelSetLimit{
		nil,
		{set(map[string]string{"team": "a", "env": "prod"}, 1000000)},
		{set(map[string]string{"__name__": "http_requests_total"}, 0), set(map[string]string{"job": "a b"}, 5)},
	}
	for _, g := range good {
		if err := ValidateLabelSetLimits(g); err != nil {
			t.Errorf("%+v: %v", g, err)
		}
	}
	many := make([]metastore.LabelSetLimit, MaxLabelSets+1)
	for i := range many {
		many[i] = set(map[string]string{"i": strings.Repeat("x", i+1)}, 1)
	}
	bad := map[string][]metastore.LabelSetLimit{
		"no label set":      {{MaxSeries: 1}},
		"empty label set":   {set(map[string]string{}, 1)},
		"label name":        {set(map[string]string{"1a": "x"}, 1)},
		"dash in name":      {set(map[string]string{"a-b": "x"}, 1)},
		"empty value":       {set(map[string]string{"a": ""}, 1)},
		"blank value":       {set(map[string]string{"a": "  "}, 1)},
		"control character": {set(map[string]string{"a": "x\ty"}, 1)},
		"non-ASCII":         {set(map[string]string{"a": "日本"}, 1)},
		"metric name":       {set(map[string]string{"__name__": "a-b"}, 1)},
		"negative maximum":  {set(map[string]string{"a": "x"}, -1)},
		"a set twice":       {set(map[string]string{"a": "x", "b": "y"}, 1), set(map[string]string{"b": "y", "a": "x"}, 2)},
		"too many sets":     many,
		"long value":        {set(map[string]string{"a": strings.Repeat("v", MaxLabelSetValueLen+1)}, 1)},
	}
	for name, b := range bad {
		err := ValidateLabelSetLimits(b)
		e := wantAPIErr(t, err, "ValidationException", http.StatusBadRequest)
		if !strings.Contains(e.Message, "limitsPerLabelSet") {
			t.Errorf("%s: %s", name, e.Message)
		}
	}
}

// An update is stored UPDATING, applied by the reconciler (retention and
// label sets) and then ACTIVE; a second update while UPDATING is a
// conflict; a failed application is UPDATE_FAILED and retried.
func TestUpdateConfiguration(t *testing.T) {
	ls := &fakeLabelSets{sets: map[string][]metastore.LabelSetLimit{}}
	f := newFixture(t, Options{LabelSets: ls})
	ctx := context.Background()
	d := f.create(t, CreateInput{})
	sets := []metastore.LabelSetLimit{{LabelSet: map[string]string{"team": "a"}, MaxSeries: 10}}
	_, err := f.svc.UpdateConfiguration(ctx, d.ID, ConfigurationInput{LabelSetLimits: &sets})
	wantAPIErr(t, err, "ConflictException", http.StatusConflict) // CREATING
	f.reconcile(t)
	_, err = f.svc.UpdateConfiguration(ctx, d.ID, ConfigurationInput{})
	wantAPIErr(t, err, "ValidationException", http.StatusBadRequest)
	_, err = f.svc.UpdateConfiguration(ctx, "ws-nope", ConfigurationInput{LabelSetLimits: &sets})
	wantAPIErr(t, err, "ResourceNotFoundException", http.StatusNotFound)
	days := 0
	_, err = f.svc.UpdateConfiguration(ctx, d.ID, ConfigurationInput{RetentionDays: &days})
	wantAPIErr(t, err, "ValidationException", http.StatusBadRequest)

	status, err := f.svc.UpdateConfiguration(ctx, d.ID, ConfigurationInput{LabelSetLimits: &sets})
	if err != nil || status != metastore.ConfigUpdating {
		t.Fatalf("update: %s %v", status, err)
	}
	days = 30
	_, err = f.svc.UpdateConfiguration(ctx, d.ID, ConfigurationInput{RetentionDays: &days})
	wantAPIErr(t, err, "ConflictException", http.StatusConflict)
	f.reconcile(t)
	w, _ := f.db.GetWorkspace(ctx, d.ID)
	if w.ConfigStatus != metastore.ConfigActive || len(ls.get(d.ID)) != 1 || ls.get(d.ID)[0].MaxSeries != 10 {
		t.Fatalf("applied: %+v %+v", w, ls.get(d.ID))
	}
	// Retention alone: the sets stay, the storage gets the retention.
	if _, err := f.svc.UpdateConfiguration(ctx, d.ID, ConfigurationInput{RetentionDays: &days}); err != nil {
		t.Fatal(err)
	}
	f.reconcile(t)
	f.storage.mu.Lock()
	applied := f.storage.retention[d.ID]
	f.storage.mu.Unlock()
	if w, _ = f.db.GetWorkspace(ctx, d.ID); w.ConfigStatus != metastore.ConfigActive || w.RetentionDays != 30 || applied != 30*24*time.Hour || len(ls.get(d.ID)) != 1 {
		t.Fatalf("retention: %+v %s", w, applied)
	}
	// A failure is UPDATE_FAILED with a reason, then retried.
	ls.mu.Lock()
	ls.fail = true
	ls.mu.Unlock()
	none := []metastore.LabelSetLimit{}
	if _, err := f.svc.UpdateConfiguration(ctx, d.ID, ConfigurationInput{LabelSetLimits: &none}); err != nil {
		t.Fatal(err)
	}
	f.reconcile(t)
	if w, _ = f.db.GetWorkspace(ctx, d.ID); w.ConfigStatus != metastore.ConfigUpdateFailed || w.ConfigStatusReason == "" {
		t.Fatalf("failed: %+v", w)
	}
	ls.mu.Lock()
	ls.fail = false
	ls.mu.Unlock()
	f.reconcile(t)
	if got := ls.get(d.ID); len(got) != 0 {
		t.Fatalf("retried: %+v", got)
	}
}
