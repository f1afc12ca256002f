// Package metastore persists Kansoku's metadata: the account, principals and
// their credentials, workspaces, tags and everything the control plane
// stores. It is plain database/sql with one dialect per engine: SQLite
// (modernc.org/sqlite, pure Go) for the embedded default, and the same
// queries for PostgreSQL (pgx's database/sql driver) when the installation
// scales out to several nodes sharing one database.
//
// Consumers never see SQL: they call the methods of Queries, inside or
// outside a transaction, and get ErrNotFound / ErrConflict for the two
// outcomes they must handle. What a transaction (InTx) reads still holds
// when it commits, whichever node wrote meanwhile; single statements are
// compare-and-sets or upserts; ARCHITECTURE.md ("Metadata across nodes")
// says which case relies on what.
package metastore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
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

// Open opens the database cfg names and brings its schema up to date. An
// SQLite database without a DSN is defaultSQLitePath.
func Open(ctx context.Context, cfg Config, defaultSQLitePath string) (*DB, error) {
	switch cfg.Driver {
	case "", DriverSQLite:
		path := cfg.DSN
		if path == "" {
			path = defaultSQLitePath
		}
		return openSQLite(ctx, path, cfg.MaxOpenConns)
	case DriverPostgres:
		return OpenPostgres(ctx, cfg)
	default:
		return nil, fmt.Errorf("metadata driver %q: want sqlite or postgres", cfg.Driver)
	}
}

// OpenSQLite opens (creating if needed) the SQLite database at path and
// brings its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	return openSQLite(ctx, path, DefaultConfig().MaxOpenConns)
}

func openSQLite(ctx context.Context, path string, maxConns int) (*DB, error) {
	if maxConns <= 0 {
		maxConns = DefaultConfig().MaxOpenConns
	}
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
	// busy_timeout (first, so that it covers the switch to WAL of a new
	// file that another process opens too) makes a writer wait for the
	// lock instead of failing; WAL lets readers run beside the single
	// writer; _txlock=immediate takes the write lock at BEGIN so two
	// read-then-write transactions cannot deadlock on lock upgrade (and run
	// one after the other: SQLite's transactions are serializable, across
	// processes too).
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return open(ctx, db, SQLite)
}

// OpenSQL wraps an already opened database/sql handle and migrates it.
func OpenSQL(ctx context.Context, db *sql.DB, d Dialect) (*DB, error) {
	return open(ctx, db, d)
}

func open(ctx context.Context, db *sql.DB, d Dialect) (*DB, error) {
	// A new SQLite file that several processes open at once can answer
	// SQLITE_BUSY to the first connection's switch to WAL, which
	// busy_timeout does not cover: try again for as long as it would wait.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.PingContext(ctx)
		if err == nil {
			break
		}
		if d != SQLite || !isBusy(err) || time.Now().After(deadline) {
			db.Close()
			return nil, fmt.Errorf("connect to metadata database: %w", err)
		}
		select {
		case <-ctx.Done():
			db.Close()
			return nil, fmt.Errorf("connect to metadata database: %w", ctx.Err())
		case <-time.After(time.Duration(10+rand.IntN(40)) * time.Millisecond):
		}
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

// txAttempts bounds how often InTx runs a transaction that keeps losing
// serialization conflicts to concurrent ones.
const txAttempts = 10

// InTx runs fn in one transaction, committing if it returns nil.
//
// The transaction is serializable: what fn read is still true when it
// commits, whichever other transactions of this process or of another node
// ran meanwhile (a quota counted and then an insert, a row read and then
// rewritten). SQLite gets there by running write transactions one at a
// time; PostgreSQL runs them at SERIALIZABLE isolation and aborts one of
// two that conflict, which InTx then runs again, up to txAttempts times.
// fn may therefore run more than once: it must do nothing but metadata
// work through q (and set the caller's variables).
func (db *DB) InTx(ctx context.Context, fn func(q *Queries) error) error {
	var opts *sql.TxOptions
	if db.dialect == Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelSerializable}
	}
	for attempt := 1; ; attempt++ {
		err := db.tx(ctx, opts, fn)
		if !errors.Is(err, errSerialization) {
			return err
		}
		if attempt == txAttempts {
			return fmt.Errorf("metadata transaction lost to concurrent ones %d times: %w", attempt, err)
		}
		// Jittered backoff, so that the two that collided do not collide again.
		backoff := time.Duration(1<<min(attempt, 6)) * time.Millisecond
		backoff += rand.N(backoff)
		select {
		case <-ctx.Done():
			return fmt.Errorf("metadata transaction: %w", ctx.Err())
		case <-time.After(backoff):
		}
	}
}

// tx runs fn in one transaction of db.
func (db *DB) tx(ctx context.Context, opts *sql.TxOptions, fn func(q *Queries) error) error {
	tx, err := db.sql.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin metadata transaction: %w", mapErr(err))
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

// errSerialization marks a PostgreSQL transaction aborted because it
// conflicted with a concurrent one (serialization failure, deadlock):
// InTx runs it again, callers never see it.
var errSerialization = errors.New("serialization failure")

// PostgreSQL error codes (SQLSTATE) the store tells apart.
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// isBusy reports whether SQLite answered SQLITE_BUSY (or SQLITE_LOCKED).
func isBusy(err error) bool {
	var liteErr *sqlite.Error
	if !errors.As(err, &liteErr) {
		return false
	}
	code := liteErr.Code() & 0xff // the primary code of an extended one
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// mapErr turns the engines' constraint violations into ErrConflict,
// sql.ErrNoRows into ErrNotFound, and PostgreSQL's serialization failures
// into errSerialization.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgUniqueViolation:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case pgSerializationFailure, pgDeadlockDetected:
			return fmt.Errorf("%w: %w", errSerialization, err)
		}
		return err
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		}
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
