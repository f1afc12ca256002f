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

	// 2: the rest of the AMP control plane, IAM policies, audit trail, log store.
	`CREATE TABLE rule_namespaces (
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		arn TEXT NOT NULL,
		data BLOB NOT NULL,
		active_data BLOB,
		rule_count INTEGER NOT NULL,
		status TEXT NOT NULL,
		status_reason TEXT,
		client_token TEXT,
		version INTEGER NOT NULL,
		created_at BIGINT NOT NULL,
		modified_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, name)
	);
	CREATE TABLE alertmanager_definitions (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		data BLOB NOT NULL,
		active_data BLOB,
		status TEXT NOT NULL,
		status_reason TEXT,
		client_token TEXT,
		version INTEGER NOT NULL,
		created_at BIGINT NOT NULL,
		modified_at BIGINT NOT NULL
	);
	CREATE TABLE logging_configurations (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		log_group_arn TEXT NOT NULL,
		status TEXT NOT NULL,
		status_reason TEXT,
		client_token TEXT,
		created_at BIGINT NOT NULL,
		modified_at BIGINT NOT NULL
	);
	CREATE TABLE log_events (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		log_group_arn TEXT NOT NULL,
		event_time BIGINT NOT NULL,
		component TEXT NOT NULL,
		level TEXT NOT NULL,
		message TEXT NOT NULL,
		fields TEXT NOT NULL
	);
	CREATE INDEX log_events_ws_time ON log_events(workspace_id, event_time);
	CREATE TABLE policies (
		arn TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		description TEXT NOT NULL,
		document TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL
	);
	CREATE TABLE policy_attachments (
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		policy_arn TEXT NOT NULL,
		attached_at BIGINT NOT NULL,
		PRIMARY KEY (principal_id, policy_arn)
	);
	CREATE TABLE audit_events (
		id TEXT PRIMARY KEY,
		event_time BIGINT NOT NULL,
		event_source TEXT NOT NULL,
		event_name TEXT NOT NULL,
		user_name TEXT NOT NULL,
		access_key_id TEXT NOT NULL,
		source_ip TEXT NOT NULL,
		error_code TEXT NOT NULL,
		read_only INTEGER NOT NULL,
		resource TEXT NOT NULL,
		event TEXT NOT NULL
	);
	CREATE INDEX audit_events_time ON audit_events(event_time, id);
	INSERT INTO policy_attachments (principal_id, policy_arn, attached_at)
		SELECT id, 'arn:aws:iam::aws:policy/AdministratorAccess', created_at FROM principals`,

	// 3: per-workspace limit overrides and the HA tracker's elected replicas.
	`CREATE TABLE workspace_limits (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		overrides TEXT NOT NULL,
		updated_at BIGINT NOT NULL
	);
	CREATE TABLE ha_leaders (
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		cluster TEXT NOT NULL,
		replica TEXT NOT NULL,
		received_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, cluster)
	)`,

	// 4: AWS integrations, their collection cursors, and the host inventory.
	`CREATE TABLE aws_integrations (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		aws_account_id TEXT NOT NULL,
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		auth_mode TEXT NOT NULL,
		role_arn TEXT NOT NULL,
		external_id TEXT NOT NULL,
		access_key_id TEXT NOT NULL,
		secret_sealed BLOB,
		settings TEXT NOT NULL,
		status TEXT NOT NULL,
		status_reason TEXT NOT NULL,
		last_poll TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		version INTEGER NOT NULL
	);
	CREATE TABLE aws_cursors (
		integration_id TEXT NOT NULL REFERENCES aws_integrations(id) ON DELETE CASCADE,
		region TEXT NOT NULL,
		period_seconds INTEGER NOT NULL,
		end_ms BIGINT NOT NULL,
		PRIMARY KEY (integration_id, region, period_seconds)
	);
	CREATE TABLE hosts (
		id TEXT PRIMARY KEY,
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		arn TEXT NOT NULL,
		name TEXT NOT NULL,
		kind TEXT NOT NULL,
		product TEXT NOT NULL,
		aws_account_id TEXT NOT NULL,
		region TEXT NOT NULL,
		status TEXT NOT NULL,
		identifiers TEXT NOT NULL,
		roles TEXT NOT NULL,
		tags TEXT NOT NULL,
		metadata TEXT NOT NULL,
		integrations TEXT NOT NULL,
		first_seen_at BIGINT NOT NULL,
		last_seen_at BIGINT NOT NULL,
		deletion_detected_at BIGINT,
		retired_at BIGINT
	);
	CREATE UNIQUE INDEX hosts_live_arn ON hosts(workspace_id, arn) WHERE retired_at IS NULL;
	CREATE INDEX hosts_ws ON hosts(workspace_id);
	CREATE TABLE host_roles (
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		service TEXT NOT NULL,
		role TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, service, role)
	)`,

	// 5: web console sessions and passwords, dashboards.
	`CREATE TABLE console_sessions (
		id TEXT PRIMARY KEY,
		secret_hash BLOB NOT NULL,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		csrf_token TEXT NOT NULL,
		method TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_seen_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL
	);
	CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);
	CREATE TABLE console_passwords (
		principal_id TEXT PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
		hash BLOB NOT NULL,
		salt BLOB NOT NULL,
		iterations INTEGER NOT NULL,
		updated_at BIGINT NOT NULL
	);
	CREATE TABLE dashboards (
		id TEXT PRIMARY KEY,
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		document TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		version INTEGER NOT NULL
	);
	CREATE INDEX dashboards_ws ON dashboards(workspace_id)`,
}

func (q *Queries) ddl(stmt string) string {
	if q.dialect == Postgres {
		stmt = strings.ReplaceAll(stmt, " BLOB", " BYTEA")
		stmt = strings.ReplaceAll(stmt, "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
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
