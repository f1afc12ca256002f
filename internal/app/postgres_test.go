package app_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/client"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/secrets"
	"github.com/kansoku/kansoku/internal/testenv"
	"github.com/kansoku/kansoku/internal/testenv/pgtest"
)

// pg is this package's PostgreSQL test server, started by the first test
// that needs it.
var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// onPostgres configures a node of an installation on the PostgreSQL
// database dsn, with the secret key file every node shares.
func onPostgres(dsn, secretKeyFile string) func(*config.Config) {
	return func(c *config.Config) {
		c.Storage.Metadata.Driver, c.Storage.Metadata.DSN = metastore.DriverPostgres, dsn
		c.Storage.SecretKeyFile = secretKeyFile
	}
}

// TestPostgresNodesStartTogether: nodes starting at once on an empty
// database migrate it once and create one installation, which all share.
func TestPostgresNodesStartTogether(t *testing.T) {
	dsn := pg.Get(t).NewDatabase(t)
	// Nodes are given the same key file; they do not race to create it.
	secretKey := filepath.Join(t.TempDir(), "secret.key")
	if _, err := secrets.LoadOrCreateKeyFile(secretKey); err != nil {
		t.Fatal(err)
	}
	const nodes = 3
	apps := make([]*app.App, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range apps {
		wg.Go(func() {
			cfg := config.Default()
			cfg.Storage.DataDir = t.TempDir()
			cfg.Web.ListenAddress = "127.0.0.1:0"
			onPostgres(dsn, secretKey)(&cfg)
			apps[i], errs[i] = app.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
		})
	}
	wg.Wait()
	initialised := 0
	for i, a := range apps {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		t.Cleanup(func() { a.Close() })
		if a.Info().FirstStart != nil {
			initialised++
		}
		if a.Info().Account.ID != apps[0].Info().Account.ID {
			t.Fatalf("node %d has account %s, node 0 %s", i, a.Info().Account.ID, apps[0].Info().Account.ID)
		}
	}
	if initialised != 1 {
		t.Fatalf("%d nodes initialised the installation, want 1", initialised)
	}
	if v, err := apps[0].Meta().SchemaVersion(t.Context()); err != nil || v == 0 {
		t.Fatalf("schema version %d %v", v, err)
	}

	// A node with another secret key refuses to start rather than refuse
	// every signature.
	_, err := testStartWith(t.TempDir(), onPostgres(dsn, filepath.Join(t.TempDir(), "other.key")))
	if err == nil || !strings.Contains(err.Error(), "secret_key_file") {
		t.Fatalf("a node with a different secret key: %v", err)
	}
}

// TestPostgresControlPlaneAcrossNodes runs two servers on one PostgreSQL
// database and drives the control plane through both: what one writes the
// other serves, and the workspace quota holds for the two together.
func TestPostgresControlPlaneAcrossNodes(t *testing.T) {
	dsn := pg.Get(t).NewDatabase(t)
	secretKey := filepath.Join(t.TempDir(), "secret.key")
	const quota = 4
	cfg := func(c *config.Config) {
		onPostgres(dsn, secretKey)(c)
		c.Workspace.MaxPerAccount = quota
	}
	a := testenv.Start(t, testenv.Options{Config: cfg})
	b := testenv.Start(t, testenv.Options{Config: cfg, AdminCredentialsFile: filepath.Join(a.DataDir, app.AdminCredentialsFile)})
	if a.App.Info().Account != b.App.Info().Account {
		t.Fatalf("two installations: %+v and %+v", a.App.Info().Account, b.App.Info().Account)
	}

	// A workspace created on A is listed and described by B.
	ws := a.CreateWorkspace(t, "made-on-a")
	listed := func(s *testenv.Server) []string {
		t.Helper()
		var out struct {
			Workspaces []struct {
				WorkspaceID string `json:"workspaceId"`
			} `json:"workspaces"`
		}
		if err := s.Admin.JSON(ctx, "GET", "/workspaces", nil, nil, &out); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, w := range out.Workspaces {
			ids = append(ids, w.WorkspaceID)
		}
		sort.Strings(ids)
		return ids
	}
	if got := listed(b); fmt.Sprint(got) != fmt.Sprint([]string{ws}) {
		t.Fatalf("B lists %v, want [%s]", got, ws)
	}
	b.WaitStatus(t, ws, "ACTIVE")

	// A rule-groups namespace created on B becomes ACTIVE and A lists it.
	base := "/workspaces/" + ws + "/rulegroupsnamespaces"
	if err := b.Admin.JSON(ctx, "POST", base, nil, map[string]any{"name": "team-b", "data": b64(validRules), "clientToken": "ns-1"}, nil); err != nil {
		t.Fatal(err)
	}
	waitNamespace(t, a, ws, "team-b", "ACTIVE")
	// The same request retried on A (the load balancer chose another
	// node) is answered as the first was.
	var replay statusResp
	if err := a.Admin.JSON(ctx, "POST", base, nil, map[string]any{"name": "team-b", "data": b64(validRules), "clientToken": "ns-1"}, &replay); err != nil {
		t.Fatalf("client token replayed on the other node: %v", err)
	}
	var names struct {
		RuleGroupsNamespaces []struct{ Name string } `json:"ruleGroupsNamespaces"`
	}
	if err := a.Admin.JSON(ctx, "GET", base, nil, nil, &names); err != nil || len(names.RuleGroupsNamespaces) != 1 || names.RuleGroupsNamespaces[0].Name != "team-b" {
		t.Fatalf("A lists %+v %v", names, err)
	}
	// Deleted on A: gone for B.
	if err := a.Admin.JSON(ctx, "DELETE", base+"/team-b", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Admin.JSON(ctx, "GET", base+"/team-b", nil, nil, nil); apiErr(t, err).Status != 404 {
		t.Fatalf("B still describes the deleted namespace: %v", err)
	}

	// Workspaces created on both nodes at once: the quota counts both.
	var mu sync.Mutex
	var created, refused int
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			err := s.Admin.JSON(ctx, "POST", "/workspaces", nil, map[string]any{"alias": fmt.Sprintf("race-%d", i)}, nil)
			var e *client.APIError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.As(err, &e) && e.Type == "ServiceQuotaExceededException":
				refused++
			default:
				t.Errorf("create %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if created != quota-1 || refused != 8-(quota-1) {
		t.Fatalf("%d created and %d refused on two nodes with a quota of %d (one existed)", created, refused, quota)
	}
	if got := listed(a); len(got) != quota {
		t.Fatalf("A lists %d workspaces, want %d", len(got), quota)
	}

	// Deleted through B: the row goes, and A's listing follows.
	if err := b.Admin.JSON(ctx, "DELETE", "/workspaces/"+ws, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := listed(a)
		if len(got) == quota-1 && !strings.Contains(fmt.Sprint(got), ws) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A still lists %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
