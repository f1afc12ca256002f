package hosts

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/testenv/fakeclock"
)

var ctx = context.Background()

type fixture struct {
	db    *metastore.DB
	clock *fakeclock.Clock
	svc   *Service
}

// newFixture opens an inventory over a fresh store holding workspaces
// ws-a and ws-b.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := metastore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "kansoku.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, ws := range []string{"ws-a", "ws-b"} {
		if err := db.CreateWorkspace(ctx, metastore.Workspace{ID: ws, ARN: "arn:aws:aps:us-east-1:123456789012:workspace/" + ws,
			Status: metastore.WorkspaceActive, RetentionDays: 150, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{db: db, clock: fakeclock.New(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))}
	f.svc = f.reopen(t)
	return f
}

// reopen is the inventory of a restarted server over the same store.
func (f *fixture) reopen(t *testing.T) *Service {
	t.Helper()
	s := New(f.db, nil)
	s.now = f.clock.Now
	if err := s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func ec2(integration, id string, idents ...string) Observation {
	return Observation{Integration: integration, ARN: "arn:aws:ec2:us-east-1:111122223333:instance/" + id, Name: id, Kind: "standard",
		Product: "ec2", AWSAccountID: "111122223333", Region: "us-east-1", Status: "working", Identifiers: idents,
		Roles: []string{"infra:ec2"}, Tags: map[string]string{"env": "prod"}}
}

func (f *fixture) observe(t *testing.T, ws string, o Observation) Host {
	t.Helper()
	h, err := f.svc.Observe(ctx, ws, o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A resource seen again is the same host: its name, identifiers and
// status follow the resource, its first sighting stays.
func TestObserveCreatesThenUpdates(t *testing.T) {
	f := newFixture(t)
	first := f.observe(t, "ws-a", ec2("int-1", "i-1", "i-1", "10.0.0.1"))
	if first.FirstSeenAt != f.clock.Now() || first.LastSeenAt != f.clock.Now() || len(first.Integrations) != 1 {
		t.Fatalf("new host %+v", first)
	}
	f.clock.Advance(time.Minute)
	o := ec2("int-1", "i-1", "i-1", "10.0.0.2")
	o.Name, o.Status = "web-1", "standby"
	again := f.observe(t, "ws-a", o)
	if again.ID != first.ID || again.Name != "web-1" || again.Status != "standby" || !again.FirstSeenAt.Equal(first.FirstSeenAt) ||
		!again.LastSeenAt.Equal(f.clock.Now()) {
		t.Fatalf("seen again: %+v", again)
	}
	roles, err := f.svc.Roles(ctx, "ws-a")
	if err != nil || !slices.Equal(roles, []string{"infra:ec2"}) {
		t.Fatalf("roles %v %v", roles, err)
	}
	if other := f.observe(t, "ws-b", ec2("int-2", "i-1", "i-1")); other.ID == first.ID {
		t.Fatal("the same resource in another workspace is the same host")
	}
}

// Series with a custom_identifier attach to the live host of the
// workspace that has that identifier, and to no other.
func TestCustomIdentifierIndex(t *testing.T) {
	f := newFixture(t)
	h := f.observe(t, "ws-a", ec2("int-1", "i-1", "i-1", "10.0.0.1"))
	if id, ok := f.svc.HostIDFor("ws-a", "10.0.0.1"); !ok || id != h.ID {
		t.Fatalf("HostIDFor = %s %v", id, ok)
	}
	if _, ok := f.svc.HostIDFor("ws-b", "10.0.0.1"); ok {
		t.Fatal("another workspace's host matched")
	}
	f.observe(t, "ws-a", ec2("int-1", "i-1", "i-1", "10.0.0.9"))
	if _, ok := f.svc.HostIDFor("ws-a", "10.0.0.1"); ok {
		t.Fatal("an identifier the host lost still matches")
	}
	if id, ok := f.reopen(t).HostIDFor("ws-a", "10.0.0.9"); !ok || id != h.ID {
		t.Fatal("a restarted inventory lost the index")
	}
	if _, err := f.svc.Retire(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.svc.HostIDFor("ws-a", "i-1"); ok {
		t.Fatal("a retired host still matches")
	}
	if _, ok := f.reopen(t).HostIDFor("ws-a", "i-1"); ok {
		t.Fatal("a retired host is indexed after a restart")
	}
}

// Mackerel's automatic retirement: when an integration finds a host's
// resource deleted, it judges once, with its setting of that moment; an
// integration whose tag filter excludes the host never retires it.
func TestAutomaticRetirement(t *testing.T) {
	f := newFixture(t)
	h := f.observe(t, "ws-a", ec2("int-1", "i-1", "i-1"))
	retired, err := f.svc.DeletionDetected(ctx, h.ID, "int-1", false)
	if err != nil || retired {
		t.Fatalf("auto-retirement off: retired=%v %v", retired, err)
	}
	if retired, _ := f.svc.DeletionDetected(ctx, h.ID, "int-1", true); retired {
		t.Fatal("turning auto-retirement on later retired a host already judged")
	}
	got, _ := f.svc.Get(ctx, h.ID)
	if got.DeletionDetectedAt == nil || got.RetiredAt != nil {
		t.Fatalf("after the judgement: %+v", got)
	}
	if _, err := f.svc.DeletionDetected(ctx, h.ID, "int-unknown", true); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.Get(ctx, h.ID); got.RetiredAt != nil {
		t.Fatal("an integration that does not see the host retired it")
	}

	// Seen again: the deletion is forgotten.
	f.clock.Advance(time.Minute)
	if again := f.observe(t, "ws-a", ec2("int-1", "i-1", "i-1")); again.DeletionDetectedAt != nil {
		t.Fatalf("a resource seen again keeps its deletion: %+v", again)
	}

	// Two integrations see the host; the second retires it.
	f.observe(t, "ws-a", ec2("int-2", "i-1", "i-1"))
	if retired, _ := f.svc.DeletionDetected(ctx, h.ID, "int-1", false); retired {
		t.Fatal("retired with auto-retirement off")
	}
	retired, err = f.svc.DeletionDetected(ctx, h.ID, "int-2", true)
	if err != nil || !retired {
		t.Fatalf("the second integration's judgement: %v %v", retired, err)
	}
	got, _ = f.svc.Get(ctx, h.ID)
	if got.Status != "retired" || got.RetiredAt == nil || !got.RetiredAt.Equal(f.clock.Now()) {
		t.Fatalf("retired host %+v", got)
	}

	// A host whose resource the integration's filter now excludes stays,
	// marked excluded, and is not retired by it; a resource the filter
	// excludes from the start gets no host.
	x := f.observe(t, "ws-a", ec2("int-1", "i-2", "i-2"))
	if marked, err := f.svc.MarkExcluded(ctx, "ws-a", "int-1", x.ARN); err != nil || !marked {
		t.Fatalf("mark excluded: %v %v", marked, err)
	}
	if got, _ := f.svc.Get(ctx, x.ID); len(got.Integrations) != 1 || !got.Integrations[0].Excluded {
		t.Fatalf("excluded link: %+v", got.Integrations)
	}
	if retired, _ := f.svc.DeletionDetected(ctx, x.ID, "int-1", true); retired {
		t.Fatal("an integration retired a host its tag filter excludes")
	}
	if marked, err := f.svc.MarkExcluded(ctx, "ws-a", "int-1", "arn:aws:ec2:us-east-1:123456789012:instance/i-none"); err != nil || marked {
		t.Fatalf("an excluded resource without a host: %v %v", marked, err)
	}
	if hs, _ := f.svc.List(ctx, Filter{Workspace: "ws-a"}); len(hs) != 1 || hs[0].ID != x.ID {
		t.Fatalf("hosts: %d", len(hs))
	}
	if _, err := f.svc.DeletionDetected(ctx, "h-nosuchhost", "int-1", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown host: %v", err)
	}
}

func TestRetireByHand(t *testing.T) {
	f := newFixture(t)
	h := f.observe(t, "ws-a", ec2("int-1", "i-1", "i-1"))
	r1, err := f.svc.Retire(ctx, h.ID)
	if err != nil || r1.Status != "retired" {
		t.Fatalf("retire: %+v %v", r1, err)
	}
	f.clock.Advance(time.Hour)
	r2, err := f.svc.Retire(ctx, h.ID)
	if err != nil || !r2.RetiredAt.Equal(*r1.RetiredAt) {
		t.Fatalf("retiring twice moved the retirement: %v %v", r2.RetiredAt, err)
	}
	// A resource seen after its host retired is a new host.
	if n := f.observe(t, "ws-a", ec2("int-1", "i-1", "i-1")); n.ID == h.ID {
		t.Fatal("a retired host came back")
	}
	if _, err := f.svc.Retire(ctx, "h-nosuchhost"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown host: %v", err)
	}
}

func TestListFilters(t *testing.T) {
	f := newFixture(t)
	web := f.observe(t, "ws-a", ec2("int-1", "i-1"))
	db := Observation{Integration: "int-2", ARN: "arn:aws:rds:us-east-1:111122223333:db:main", Name: "main", Kind: "micro",
		Product: "rds", Status: "working", Roles: []string{"app:db"}, Tags: map[string]string{"env": "dev", "team": "data"}}
	main := f.observe(t, "ws-a", db)
	gone := f.observe(t, "ws-a", ec2("int-1", "i-2"))
	if _, err := f.svc.Retire(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	f.observe(t, "ws-b", ec2("int-3", "i-9"))
	for _, c := range []struct {
		f    Filter
		want []string
	}{
		{Filter{Workspace: "ws-a"}, []string{web.ID, main.ID}},
		{Filter{Workspace: "ws-a", WithRetired: true}, []string{web.ID, main.ID, gone.ID}},
		{Filter{Workspace: "ws-a", Status: "retired"}, []string{gone.ID}},
		{Filter{Workspace: "ws-a", Product: "rds"}, []string{main.ID}},
		{Filter{Workspace: "ws-a", Kind: "standard"}, []string{web.ID}},
		{Filter{Workspace: "ws-a", Service: "app"}, []string{main.ID}},
		{Filter{Workspace: "ws-a", Role: "infra:ec2"}, []string{web.ID}},
		{Filter{Workspace: "ws-a", Integration: "int-2"}, []string{main.ID}},
		{Filter{Workspace: "ws-a", Tag: "team"}, []string{main.ID}},
		{Filter{Workspace: "ws-a", Tag: "env=prod"}, []string{web.ID}},
		{Filter{Workspace: "ws-a", Tag: "env=staging"}, nil},
	} {
		hs, err := f.svc.List(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range hs {
			got = append(got, h.ID)
		}
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("List(%+v) = %v, want %v", c.f, got, want)
		}
	}
}
