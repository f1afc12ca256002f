package metastore

import (
	"context"
	"fmt"
	"strings"
)

// migrations are applied in order, each in its own transaction, and recorded
// in schema_migrations. Never edit a released migration: append a new one.
// Types are written for SQLite; ddl() adapts them for PostgreSQL.
var migrations = []string{
	// 1: installation identity, principals and credentials, workspaces.
	`CREATE TABLE account (
		id TEXT PRIMARY KEY,
		region TEXT NOT NULL,
		created_at BIGINT NOT NULL
	);
	CREATE TABLE principals (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		arn TEXT NOT NULL,
		created_at BIGINT NOT NULL
	);
	CREATE TABLE access_keys (
		id TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		secret_sealed BLOB NOT NULL,
		status TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_used_at BIGINT
	);
	CREATE INDEX access_keys_principal ON access_keys(principal_id);
	CREATE TABLE api_tokens (
		id TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		secret_hash BLOB NOT NULL,
		created_at BIGINT NOT NULL,
		expires_at BIGINT
	);
	CREATE INDEX api_tokens_principal ON api_tokens(principal_id);
	CREATE TABLE workspaces (
		id TEXT PRIMARY KEY,
		alias TEXT,
		arn TEXT NOT NULL,
		status TEXT NOT NULL,
		client_token TEXT,
		retention_days INTEGER NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL
	);
	CREATE UNIQUE INDEX workspaces_client_token ON workspaces(client_token);
	CREATE INDEX workspaces_created ON workspaces(created_at, id);
	CREATE TABLE tags (
		resource_arn TEXT NOT NULL,
		tag_key TEXT NOT NULL,
		tag_value TEXT NOT NULL,
		PRIMARY KEY (resource_arn, tag_key)
	);
	CREATE TABLE metric_metadata (
		workspace_id TEXT NOT NULL,
		metric TEXT NOT NULL,
		metric_type TEXT NOT NULL,
		help TEXT NOT NULL,
		unit TEXT NOT NULL,
		updated_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, metric, metric_type, help, unit)
	);`,
}

func (q *Queries) ddl(stmt string) string {
	if q.dialect == Postgres {
		stmt = strings.ReplaceAll(stmt, " BLOB", " BYTEA")
	}
	return stmt
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := db.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("metadata schema version %d is newer than this binary knows (%d): refusing to run an older kansoku on it", current, len(migrations))
	}
	for v := current + 1; v <= len(migrations); v++ {
		err := db.InTx(ctx, func(q *Queries) error {
			for _, stmt := range splitStatements(q.ddl(migrations[v-1])) {
				if _, err := q.exec(ctx, stmt); err != nil {
					return fmt.Errorf("%w\n%s", err, stmt)
				}
			}
			_, err := q.exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, nowMillis())
			return err
		})
		if err != nil {
			return fmt.Errorf("apply metadata migration %d: %w", v, err)
		}
	}
	return nil
}

// SchemaVersion reports the applied schema version.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

func splitStatements(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
