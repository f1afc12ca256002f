package metastore_test

import (
	"os"
	"testing"

	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/testenv/pgtest"
)

// pg is this test binary's PostgreSQL server, started by the first test
// that needs it.
var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// postgresConfig is the configuration of a new empty database for t.
func postgresConfig(t *testing.T) metastore.Config {
	cfg := metastore.DefaultConfig()
	cfg.Driver, cfg.DSN = metastore.DriverPostgres, pg.Get(t).NewDatabase(t)
	return cfg
}

func openPostgres(t *testing.T) *metastore.DB {
	t.Helper()
	db, err := metastore.OpenPostgres(t.Context(), postgresConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPostgresContract(t *testing.T) { RunContract(t, openPostgres) }

// openPostgresShared opens n handles on one new PostgreSQL database at
// once, as n nodes starting together would.
func openPostgresShared(t *testing.T, n int) []*metastore.DB {
	cfg := postgresConfig(t)
	return openConcurrently(t, n, func() (*metastore.DB, error) { return metastore.OpenPostgres(t.Context(), cfg) })
}

func TestPostgresConcurrency(t *testing.T) { RunConcurrency(t, openPostgresShared) }
