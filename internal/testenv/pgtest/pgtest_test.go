package pgtest_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kansoku/kansoku/internal/testenv/pgtest"
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
