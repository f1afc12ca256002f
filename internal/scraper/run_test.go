package scraper

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/internal/metastore"
)

// staticConfig is a configuration any source runs.
const staticConfig = "global:\n  scrape_interval: 30s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['192.0.2.10:9100']\n"

type nopPusher struct{}

func (nopPusher) Push(context.Context, string, *prompb.WriteRequest) error { return nil }

type oneWorkspace struct{ w metastore.Workspace }

func (o oneWorkspace) Get(context.Context, string) (metastore.Workspace, error) { return o.w, nil }

// TestRunnerRunsOnlyOwnedScrapers: of two nodes sharing the metadata, each
// scraper runs on the one whose ownership (the cluster lease) says so, and
// moves when ownership moves.
func TestRunnerRunsOnlyOwnedScrapers(t *testing.T) {
	ctx := t.Context()
	db, err := metastore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "kansoku.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	ws := metastore.Workspace{ID: "ws-1", ARN: "arn:aws:aps:us-east-1:123456789012:workspace/ws-1", Status: metastore.WorkspaceActive, RetentionDays: 1, CreatedAt: now, UpdatedAt: now}
	svc := New(Options{AccountID: "123456789012", Region: "us-east-1"}, db, oneWorkspace{ws})
	for _, id := range []string{"s-a", "s-b", "s-c"} {
		if err := db.CreateScraper(ctx, metastore.Scraper{ID: id, ARN: svc.ARN(id), Status: metastore.ScraperActive, RequestHash: "h",
			Configuration: []byte(staticConfig), Source: "{}", DestinationARN: ws.ARN, RoleConfiguration: "{}", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := egress.New(egress.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]string{"s-a": "n1", "s-b": "n2", "s-c": "n1"}
	node := func(name string) *Runner {
		return NewRunner(RunnerOptions{Service: svc, Pusher: nopPusher{}, Active: func(string) bool { return true }, Firewall: fw,
			Owns: func(id string) bool { return owner[id] == name }})
	}
	n1, n2 := node("n1"), node("n2")
	defer n1.stopAll()
	defer n2.stopAll()
	check := func(r *Runner, want ...string) {
		t.Helper()
		if err := r.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		got := r.Running()
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("running %v, want %v", got, want)
		}
	}
	check(n1, "s-a", "s-c")
	check(n2, "s-b")
	// A lease moves: the old owner stops, the new one starts.
	owner["s-c"] = "n2"
	check(n1, "s-a")
	check(n2, "s-b", "s-c")
	// A deleted scraper stops everywhere.
	if err := db.DeleteScraper(ctx, "s-b", svc.ARN("s-b")); err != nil {
		t.Fatal(err)
	}
	check(n2, "s-c")
}

type statusWorkspace struct{ status *string }

func (s statusWorkspace) Get(_ context.Context, id string) (metastore.Workspace, error) {
	return metastore.Workspace{ID: id, Status: *s.status}, nil
}

// TestReconcileStatuses: a scraper waits for a CREATING destination,
// becomes ACTIVE with an ACTIVE one, and is CREATION_FAILED with the
// reason when the destination is being deleted.
func TestReconcileStatuses(t *testing.T) {
	ctx := t.Context()
	db, err := metastore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "kansoku.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	status := metastore.WorkspaceCreating
	svc := New(Options{AccountID: "123456789012", Region: "us-east-1"}, db, statusWorkspace{&status})
	create := func() string {
		sc, err := svc.Create(ctx, CreateInput{Configuration: []byte(staticConfig), Source: &Source{VPC: &VPCConfiguration{SecurityGroupIDs: []string{"sg-1"}, SubnetIDs: []string{"subnet-1"}}},
			Destination: "arn:aws:aps:us-east-1:123456789012:workspace/ws-1"})
		if err != nil {
			t.Fatal(err)
		}
		return sc.ID
	}
	get := func(id string) metastore.Scraper {
		rec, err := svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	a := create()
	if err := svc.reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if got := get(a).Status; got != metastore.ScraperCreating {
		t.Fatalf("with a CREATING destination: %s", got)
	}
	status = metastore.WorkspaceActive
	_ = svc.reconcile(ctx)
	if got := get(a).Status; got != metastore.ScraperActive {
		t.Fatalf("with an ACTIVE destination: %s", got)
	}
	b := create()
	status = metastore.WorkspaceDeleting
	_ = svc.reconcile(ctx)
	if rec := get(b); rec.Status != metastore.ScraperCreationFailed || !strings.Contains(rec.StatusReason, "workspace ws-1 is DELETING") {
		t.Fatalf("with a DELETING destination: %s %q", rec.Status, rec.StatusReason)
	}
	// A failed scraper can be deleted.
	if _, err := svc.Delete(ctx, b, ""); err != nil {
		t.Fatal(err)
	}
	_ = svc.reconcile(ctx)
	if _, err := svc.Get(ctx, b); err == nil {
		t.Fatal("deleted scraper still there")
	}
}
