// Package metastore persists Kansoku's metadata: the account, principals and
// their credentials, workspaces, tags and everything the control plane
// stores. It is plain database/sql with one dialect per engine: SQLite
// (modernc.org/sqlite, pure Go) for the embedded default, and the same
// queries for PostgreSQL when the installation scales out.
//
// Consumers never see SQL: they call the methods of Queries, inside or
// outside a transaction, and get ErrNotFound / ErrConflict for the two
// outcomes they must handle.
package metastore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a row asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write collides with an existing row.
var ErrConflict = errors.New("conflict")

// Dialect names the SQL engine behind a DB.
type Dialect string

// Dialects of SQL the store speaks.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config selects and locates the metadata database.
type Config struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver string `yaml:"driver"`
	// DSN is the PostgreSQL connection string; for SQLite it is the database
	// file, by default <data.dir>/kansoku.db.
	DSN string `yaml:"dsn"`
}

// DB is an open metadata database.
type DB struct {
	Queries
	sql *sql.DB
}

type executor interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Queries holds every metadata operation. The same methods run on the
// database directly or inside InTx.
type Queries struct {
	ex      executor
	dialect Dialect
}

// OpenSQLite opens (creating if needed) the SQLite database at path and
// brings its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create metadata dir: %w", err)
	}
	// The database holds sealed secrets and hashes: readable by its owner only.
	// SQLite gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f.Close()
	// WAL lets readers run beside the single writer; busy_timeout makes a
	// writer wait for the lock instead of failing; _txlock=immediate takes
	// the write lock at BEGIN so two read-then-write transactions cannot
	// deadlock on lock upgrade.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return open(ctx, db, SQLite)
}

// OpenSQL wraps an already opened database/sql handle (used for PostgreSQL,
// whose driver the caller registers) and migrates it.
func OpenSQL(ctx context.Context, db *sql.DB, d Dialect) (*DB, error) {
	return open(ctx, db, d)
}

func open(ctx context.Context, db *sql.DB, d Dialect) (*DB, error) {
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to metadata database: %w", err)
	}
	m := &DB{Queries: Queries{ex: db, dialect: d}, sql: db}
	if err := m.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return m, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

// Dialect reports the engine behind the database.
func (q *Queries) Dialect() Dialect { return q.dialect }

// InTx runs fn in one transaction, committing if it returns nil.
func (db *DB) InTx(ctx context.Context, fn func(q *Queries) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin metadata transaction: %w", err)
	}
	if err := fn(&Queries{ex: tx, dialect: db.dialect}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit metadata transaction: %w", mapErr(err))
	}
	return nil
}

// rebind turns ? placeholders into $n for PostgreSQL.
func (q *Queries) rebind(query string) string {
	if q.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func (q *Queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := q.ex.ExecContext(ctx, q.rebind(query), args...)
	return res, mapErr(err)
}

func (q *Queries) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := q.ex.QueryContext(ctx, q.rebind(query), args...)
	return rows, mapErr(err)
}

func (q *Queries) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return q.ex.QueryRowContext(ctx, q.rebind(query), args...)
}

// execOne runs a statement that must touch exactly one row.
func (q *Queries) execOne(ctx context.Context, query string, args ...any) error {
	res, err := q.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// mapErr turns driver-specific constraint violations into ErrConflict and
// sql.ErrNoRows into ErrNotFound.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	msg := err.Error()
	if strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "constraint failed: PRIMARY KEY") ||
		strings.Contains(msg, "SQLSTATE 23505") || strings.Contains(msg, "duplicate key value") {
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromNullMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}
