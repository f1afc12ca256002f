package pgtest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kansoku/kansoku/internal/testenv/pgtest"
	"github.com/kansoku/kansoku/internal/testenv/repo"
)

var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

func TestDatabasePerTest(t *testing.T) {
	srv := pg.Get(t)
	ctx := t.Context()
	a, b := srv.NewDatabase(t), srv.NewDatabase(t)
	if a == b {
		t.Fatalf("two tests share database %s", a)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var addr, fsync string
	if err := conn.QueryRow(ctx, `SELECT host(inet_server_addr()), current_setting('fsync')`).Scan(&addr, &fsync); err != nil {
		t.Fatal(err)
	}
	if addr != "127.0.0.1" || fsync != "off" {
		t.Fatalf("server on %s with fsync=%s, want loopback and fsync off", addr, fsync)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
		t.Fatal(err)
	}
}

// Without PostgreSQL's binaries a test fails with the way to install them;
// it is never skipped.
func TestMissingBinariesSayWhatToRun(t *testing.T) {
	t.Setenv("PG_BINDIR", t.TempDir())
	_, err := pgtest.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "scripts/install-test-deps.sh") {
		t.Fatalf("want an error naming scripts/install-test-deps.sh, got %v", err)
	}
}

// TestScripts runs scripts/postgres-up.sh and postgres-down.sh as a
// developer would (and the multi-node cluster script will): idempotent
// both, the DSN printed and working, data kept across a restart.
func TestScripts(t *testing.T) {
	if _, err := pgtest.BinDir(); err != nil {
		t.Fatal(err)
	}
	scripts := filepath.Join(repo.Root(), "scripts")
	// Not t.TempDir(): the postgres user must be able to reach the cluster.
	parent, err := os.MkdirTemp("", "kansoku-pgscripts-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "pg")
	script := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(t.Context(), filepath.Join(scripts, name), append([]string{dir}, args...)...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("%s: %v\n%s", name, err, ee.Stderr)
			}
			t.Fatalf("%s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	t.Cleanup(func() { _ = exec.Command(filepath.Join(scripts, "postgres-down.sh"), dir, "--purge").Run() })

	dsn := script("postgres-up.sh")
	if again := script("postgres-up.sh"); again != dsn {
		t.Fatalf("a second postgres-up.sh printed %q, the first %q", again, dsn)
	}
	exec1 := func(stmt string) {
		t.Helper()
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatalf("connect to %s: %v", dsn, err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(t.Context(), stmt); err != nil {
			t.Fatal(err)
		}
	}
	exec1(`CREATE TABLE kept (x int)`)
	script("postgres-down.sh")
	script("postgres-down.sh")
	if restarted := script("postgres-up.sh"); restarted != dsn {
		t.Fatalf("restarted on %q, was %q", restarted, dsn)
	}
	exec1(`INSERT INTO kept VALUES (1)`)
	script("postgres-down.sh", "--purge")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("--purge left %s: %v", dir, err)
	}
}
