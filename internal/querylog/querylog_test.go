package querylog

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/query"
)

type written struct {
	ws, group, component, level, msg string
	fields                           map[string]string
}

type sink struct{ events []written }

func (s *sink) Write(ws, group, component, level, msg string, fields map[string]string) {
	s.events = append(s.events, written{ws, group, component, level, msg, fields})
}

type workspaces struct{ db *metastore.DB }

func (w workspaces) Get(ctx context.Context, id string) (metastore.Workspace, error) {
	ws, err := w.db.GetWorkspace(ctx, id)
	if errors.Is(err, metastore.ErrNotFound) {
		return ws, apierr.NotFound("Workspace", id, "no workspace %s", id)
	}
	return ws, err
}

const group = "arn:aws:logs:us-east-1:123456789012:log-group:/q:*"

func setup(t *testing.T) (*Service, *sink) {
	t.Helper()
	db, err := metastore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, id := range []string{"ws-a", "ws-b"} {
		if err := db.CreateWorkspace(t.Context(), metastore.Workspace{ID: id, ARN: "arn:" + id, Status: metastore.WorkspaceActive, RetentionDays: 150, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	sk := &sink{}
	return New(db, workspaces{db}, sk, prometheus.NewRegistry(), slog.New(slog.DiscardHandler)), sk
}

func dests(threshold int64) []Destination {
	return []Destination{{CloudWatchLogs: &CloudWatchLogs{LogGroupArn: group}, Filters: &Filters{QspThreshold: &threshold}}}
}

func TestValidate(t *testing.T) {
	neg := int64(-1)
	for name, ds := range map[string][]Destination{
		"none":         nil,
		"two":          append(dests(1), dests(2)...),
		"no logs":      {{Filters: &Filters{QspThreshold: new(int64)}}},
		"bad arn":      {{CloudWatchLogs: &CloudWatchLogs{LogGroupArn: "arn:aws:logs:us-east-1:123456789012:log-group:/q"}, Filters: &Filters{QspThreshold: new(int64)}}},
		"no filters":   {{CloudWatchLogs: &CloudWatchLogs{LogGroupArn: group}}},
		"no threshold": {{CloudWatchLogs: &CloudWatchLogs{LogGroupArn: group}, Filters: &Filters{}}},
		"negative":     {{CloudWatchLogs: &CloudWatchLogs{LogGroupArn: group}, Filters: &Filters{QspThreshold: &neg}}},
	} {
		var e *apierr.Error
		if err := validate(ds); !errors.As(err, &e) || e.Type != "ValidationException" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := validate(dests(0)); err != nil {
		t.Fatal(err)
	}
}

// TestObserve: only queries of a workspace with an ACTIVE configuration
// and more samples than its threshold are logged; every query is counted.
func TestObserve(t *testing.T) {
	s, sk := setup(t)
	ctx := t.Context()
	e := query.Executed{Workspace: "ws-a", Query: "sum(x)", Start: time.Unix(100, 0), End: time.Unix(200, 0), Step: 10 * time.Second, Samples: 50, Duration: time.Millisecond}
	s.Observe(ctx, e) // no configuration
	if _, err := s.Create(ctx, "ws-a", dests(49), "tok"); err != nil {
		t.Fatal(err)
	}
	s.Observe(ctx, e) // CREATING: not yet active
	if len(sk.events) != 0 {
		t.Fatalf("logged before ACTIVE: %+v", sk.events)
	}
	if err := s.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Describe(ctx, "ws-a"); err != nil || c.Status != metastore.StatusActive {
		t.Fatalf("describe: %+v %v", c, err)
	}
	callerCtx := auth.WithIdentity(ctx, &auth.Identity{PrincipalARN: "arn:aws:iam::123456789012:user/u"})
	s.Observe(callerCtx, e)
	s.Observe(callerCtx, query.Executed{Workspace: "ws-a", Query: "x", Samples: 49})  // not over
	s.Observe(callerCtx, query.Executed{Workspace: "ws-b", Query: "x", Samples: 1e6}) // another workspace
	s.Observe(ctx, query.Executed{Workspace: "ws-a", Query: strings.Repeat("y", 2*MaxQueryChars), Samples: 60, Err: errors.New("boom")})
	if len(sk.events) != 2 {
		t.Fatalf("events: %+v", sk.events)
	}
	ev := sk.events[0]
	if ev.ws != "ws-a" || ev.group != group || ev.component != "query" || ev.level != "INFO" || ev.fields["qsp"] != "50" ||
		ev.fields["query"] != "sum(x)" || ev.fields["step"] != "10s" || ev.fields["start"] != "1970-01-01T00:01:40Z" ||
		ev.fields["caller"] != "arn:aws:iam::123456789012:user/u" || ev.fields["status"] != "success" || ev.fields["source"] != "api" {
		t.Fatalf("event: %+v", ev)
	}
	ev = sk.events[1]
	if ev.level != "WARN" || ev.fields["status"] != "error" || ev.fields["error"] != "boom" || ev.fields["source"] != "rule" ||
		len(ev.fields["query"]) != MaxQueryChars+3 {
		t.Fatalf("rule query event: %+v", ev)
	}
	if u := s.Usage("ws-a"); u["queries"] != 5 || u["querySamplesProcessed"] != 50*3+49+60 {
		t.Fatalf("usage: %+v", u)
	}
	if u := s.Usage("ws-b"); u["queries"] != 1 || u["querySamplesProcessed"] != 1e6 {
		t.Fatalf("usage b: %+v", u)
	}

	// Update: CONFLICT while UPDATING, threshold applies once ACTIVE.
	if _, err := s.Update(ctx, "ws-a", dests(1000), ""); err != nil {
		t.Fatal(err)
	}
	var ae *apierr.Error
	if _, err := s.Update(ctx, "ws-a", dests(5), ""); !errors.As(err, &ae) || ae.Type != "ConflictException" {
		t.Fatalf("update while UPDATING: %v", err)
	}
	if err := s.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	s.Observe(ctx, e)
	if len(sk.events) != 2 {
		t.Fatal("logged under the new threshold")
	}
	if err := s.Delete(ctx, "ws-a", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "ws-a", ""); !errors.As(err, &ae) || ae.Type != "ResourceNotFoundException" {
		t.Fatalf("second delete: %v", err)
	}
	s.Forget("ws-b")
	if u := s.Usage("ws-b"); u["queries"] != 0 {
		t.Fatalf("forgotten usage: %+v", u)
	}
}

// BenchmarkObserveUnconfigured is the cost every query pays when its
// workspace has no query logging configuration.
func BenchmarkObserveUnconfigured(b *testing.B) {
	s := New(nil, nil, &sink{}, nil, slog.New(slog.DiscardHandler))
	e := query.Executed{Workspace: "ws-a", Query: "up", Samples: 100}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s.Observe(ctx, e)
	}
}
