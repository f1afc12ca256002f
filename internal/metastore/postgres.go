package metastore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// OpenPostgres connects to the PostgreSQL database of cfg.DSN (through
// pgx's database/sql driver, so that the same Queries serve both engines)
// and brings its schema up to date. Any number of nodes may open the same
// database at once: migrations take an advisory lock, and InTx runs
// serializable transactions.
func OpenPostgres(ctx context.Context, cfg Config) (*DB, error) {
	pc, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, errors.New("metastore dsn is not a PostgreSQL connection string")
	}
	if _, ok := pc.RuntimeParams["application_name"]; !ok {
		pc.RuntimeParams["application_name"] = "kansoku"
	}
	db := stdlib.OpenDB(*pc)
	maxConns := cfg.MaxOpenConns
	if maxConns <= 0 {
		maxConns = DefaultConfig().MaxOpenConns
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxLifetime(time.Duration(cfg.ConnMaxLifetime))
	db.SetConnMaxIdleTime(5 * time.Minute)
	m, err := open(ctx, db, Postgres)
	if err != nil {
		// Name the server, never the DSN (it may hold a password).
		return nil, fmt.Errorf("postgres %s:%d/%s: %w", pc.Host, pc.Port, pc.Database, err)
	}
	return m, nil
}
