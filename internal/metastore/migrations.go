package metastore

import (
	"context"
	"fmt"
)

// A migration is one step of the schema: statements applied in order in
// one transaction and recorded in schema_migrations.
type migration []statement

// A statement is the same SQL for every engine, unless postgres gives
// PostgreSQL's own where the engines differ: BYTEA for SQLite's BLOB, an
// identity column for AUTOINCREMENT, BOOLEAN where SQLite stores 0/1.
// Timestamps are Unix milliseconds in a BIGINT on both, compared and
// ordered as numbers, with no time zone to convert.
type statement struct {
	sql      string
	postgres string
}

func (s statement) forDialect(d Dialect) string {
	if d == Postgres && s.postgres != "" {
		return s.postgres
	}
	return s.sql
}

// migrations are applied in order. Never edit a released migration: append
// a new one. The SQLite text of each statement is what SQLite keeps in
// sqlite_master for every existing installation (TestSQLiteUpgrade holds a
// database made before PostgreSQL was supported).
var migrations = []migration{
	// 1: installation identity, principals and credentials, workspaces.
	{
		{sql: `CREATE TABLE account (
		id TEXT PRIMARY KEY,
		region TEXT NOT NULL,
		created_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE principals (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		arn TEXT NOT NULL,
		created_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE access_keys (
		id TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		secret_sealed BLOB NOT NULL,
		status TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_used_at BIGINT
	)`,
			postgres: `CREATE TABLE access_keys (
		id TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		secret_sealed BYTEA NOT NULL,
		status TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_used_at BIGINT
	)`},
		{sql: `CREATE INDEX access_keys_principal ON access_keys(principal_id)`},
		{sql: `CREATE TABLE api_tokens (
		id TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		secret_hash BLOB NOT NULL,
		created_at BIGINT NOT NULL,
		expires_at BIGINT
	)`,
			postgres: `CREATE TABLE api_tokens (
		id TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		secret_hash BYTEA NOT NULL,
		created_at BIGINT NOT NULL,
		expires_at BIGINT
	)`},
		{sql: `CREATE INDEX api_tokens_principal ON api_tokens(principal_id)`},
		{sql: `CREATE TABLE workspaces (
		id TEXT PRIMARY KEY,
		alias TEXT,
		arn TEXT NOT NULL,
		status TEXT NOT NULL,
		client_token TEXT,
		retention_days INTEGER NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL
	)`},
		{sql: `CREATE UNIQUE INDEX workspaces_client_token ON workspaces(client_token)`},
		{sql: `CREATE INDEX workspaces_created ON workspaces(created_at, id)`},
		{sql: `CREATE TABLE tags (
		resource_arn TEXT NOT NULL,
		tag_key TEXT NOT NULL,
		tag_value TEXT NOT NULL,
		PRIMARY KEY (resource_arn, tag_key)
	)`},
		{sql: `CREATE TABLE metric_metadata (
		workspace_id TEXT NOT NULL,
		metric TEXT NOT NULL,
		metric_type TEXT NOT NULL,
		help TEXT NOT NULL,
		unit TEXT NOT NULL,
		updated_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, metric, metric_type, help, unit)
	)`},
	},

	// 2: the rest of the AMP control plane, IAM policies, audit trail, log store.
	{
		{sql: `CREATE TABLE rule_namespaces (
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
	)`,
			postgres: `CREATE TABLE rule_namespaces (
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		arn TEXT NOT NULL,
		data BYTEA NOT NULL,
		active_data BYTEA,
		rule_count INTEGER NOT NULL,
		status TEXT NOT NULL,
		status_reason TEXT,
		client_token TEXT,
		version INTEGER NOT NULL,
		created_at BIGINT NOT NULL,
		modified_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, name)
	)`},
		{sql: `CREATE TABLE alertmanager_definitions (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		data BLOB NOT NULL,
		active_data BLOB,
		status TEXT NOT NULL,
		status_reason TEXT,
		client_token TEXT,
		version INTEGER NOT NULL,
		created_at BIGINT NOT NULL,
		modified_at BIGINT NOT NULL
	)`,
			postgres: `CREATE TABLE alertmanager_definitions (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		data BYTEA NOT NULL,
		active_data BYTEA,
		status TEXT NOT NULL,
		status_reason TEXT,
		client_token TEXT,
		version INTEGER NOT NULL,
		created_at BIGINT NOT NULL,
		modified_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE logging_configurations (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		log_group_arn TEXT NOT NULL,
		status TEXT NOT NULL,
		status_reason TEXT,
		client_token TEXT,
		created_at BIGINT NOT NULL,
		modified_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE log_events (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		log_group_arn TEXT NOT NULL,
		event_time BIGINT NOT NULL,
		component TEXT NOT NULL,
		level TEXT NOT NULL,
		message TEXT NOT NULL,
		fields TEXT NOT NULL
	)`,
			postgres: `CREATE TABLE log_events (
		id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		log_group_arn TEXT NOT NULL,
		event_time BIGINT NOT NULL,
		component TEXT NOT NULL,
		level TEXT NOT NULL,
		message TEXT NOT NULL,
		fields TEXT NOT NULL
	)`},
		{sql: `CREATE INDEX log_events_ws_time ON log_events(workspace_id, event_time)`},
		{sql: `CREATE TABLE policies (
		arn TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		description TEXT NOT NULL,
		document TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE policy_attachments (
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		policy_arn TEXT NOT NULL,
		attached_at BIGINT NOT NULL,
		PRIMARY KEY (principal_id, policy_arn)
	)`},
		{sql: `CREATE TABLE audit_events (
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
	)`,
			postgres: `CREATE TABLE audit_events (
		id TEXT PRIMARY KEY,
		event_time BIGINT NOT NULL,
		event_source TEXT NOT NULL,
		event_name TEXT NOT NULL,
		user_name TEXT NOT NULL,
		access_key_id TEXT NOT NULL,
		source_ip TEXT NOT NULL,
		error_code TEXT NOT NULL,
		read_only BOOLEAN NOT NULL,
		resource TEXT NOT NULL,
		event TEXT NOT NULL
	)`},
		{sql: `CREATE INDEX audit_events_time ON audit_events(event_time, id)`},
		{sql: `INSERT INTO policy_attachments (principal_id, policy_arn, attached_at)
		SELECT id, 'arn:aws:iam::aws:policy/AdministratorAccess', created_at FROM principals`},
	},

	// 3: per-workspace limit overrides and the HA tracker's elected replicas.
	{
		{sql: `CREATE TABLE workspace_limits (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		overrides TEXT NOT NULL,
		updated_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE ha_leaders (
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		cluster TEXT NOT NULL,
		replica TEXT NOT NULL,
		received_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, cluster)
	)`},
	},

	// 4: AWS integrations, their collection cursors, and the host inventory.
	{
		{sql: `CREATE TABLE aws_integrations (
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
	)`,
			postgres: `CREATE TABLE aws_integrations (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		aws_account_id TEXT NOT NULL,
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		auth_mode TEXT NOT NULL,
		role_arn TEXT NOT NULL,
		external_id TEXT NOT NULL,
		access_key_id TEXT NOT NULL,
		secret_sealed BYTEA,
		settings TEXT NOT NULL,
		status TEXT NOT NULL,
		status_reason TEXT NOT NULL,
		last_poll TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		version INTEGER NOT NULL
	)`},
		{sql: `CREATE TABLE aws_cursors (
		integration_id TEXT NOT NULL REFERENCES aws_integrations(id) ON DELETE CASCADE,
		region TEXT NOT NULL,
		period_seconds INTEGER NOT NULL,
		end_ms BIGINT NOT NULL,
		PRIMARY KEY (integration_id, region, period_seconds)
	)`},
		{sql: `CREATE TABLE hosts (
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
	)`},
		{sql: `CREATE UNIQUE INDEX hosts_live_arn ON hosts(workspace_id, arn) WHERE retired_at IS NULL`},
		{sql: `CREATE INDEX hosts_ws ON hosts(workspace_id)`},
		{sql: `CREATE TABLE host_roles (
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		service TEXT NOT NULL,
		role TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, service, role)
	)`},
	},

	// 5: web console sessions and passwords, dashboards.
	{
		{sql: `CREATE TABLE console_sessions (
		id TEXT PRIMARY KEY,
		secret_hash BLOB NOT NULL,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		csrf_token TEXT NOT NULL,
		method TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_seen_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL
	)`,
			postgres: `CREATE TABLE console_sessions (
		id TEXT PRIMARY KEY,
		secret_hash BYTEA NOT NULL,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		csrf_token TEXT NOT NULL,
		method TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_seen_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL
	)`},
		{sql: `CREATE INDEX console_sessions_expiry ON console_sessions(expires_at)`},
		{sql: `CREATE TABLE console_passwords (
		principal_id TEXT PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
		hash BLOB NOT NULL,
		salt BLOB NOT NULL,
		iterations INTEGER NOT NULL,
		updated_at BIGINT NOT NULL
	)`,
			postgres: `CREATE TABLE console_passwords (
		principal_id TEXT PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
		hash BYTEA NOT NULL,
		salt BYTEA NOT NULL,
		iterations INTEGER NOT NULL,
		updated_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE dashboards (
		id TEXT PRIMARY KEY,
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		document TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		version INTEGER NOT NULL
	)`},
		{sql: `CREATE INDEX dashboards_ws ON dashboards(workspace_id)`},
	},

	// 6: several nodes: their heartbeats, the leases of singletons, and
	// the Alertmanager state every node must be able to read.
	{
		{sql: `CREATE TABLE cluster_nodes (
		id TEXT PRIMARY KEY,
		url TEXT NOT NULL,
		heartbeat_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE leases (
		name TEXT PRIMARY KEY,
		holder TEXT NOT NULL,
		epoch BIGINT NOT NULL,
		expires_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE alertmanager_state (
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		kind TEXT NOT NULL,
		epoch BIGINT NOT NULL,
		data BLOB NOT NULL,
		updated_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, kind)
	)`,
			postgres: `CREATE TABLE alertmanager_state (
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		kind TEXT NOT NULL,
		epoch BIGINT NOT NULL,
		data BYTEA NOT NULL,
		updated_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, kind)
	)`},
	},

	// 7: identity beyond access keys: roles and their trust policies,
	// inline policies, versions of managed policies, OIDC providers and
	// workspace resource policies. Tags of users and roles are rows of
	// tags (keyed by the principal's ARN).
	{
		{sql: `CREATE TABLE roles (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		name_key TEXT NOT NULL UNIQUE,
		arn TEXT NOT NULL,
		path TEXT NOT NULL,
		description TEXT NOT NULL,
		trust_policy TEXT NOT NULL,
		max_session_seconds BIGINT NOT NULL,
		created_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE role_policy_attachments (
		role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
		policy_arn TEXT NOT NULL,
		attached_at BIGINT NOT NULL,
		PRIMARY KEY (role_id, policy_arn)
	)`},
		{sql: `CREATE TABLE inline_policies (
		owner_id TEXT NOT NULL,
		name TEXT NOT NULL,
		document TEXT NOT NULL,
		updated_at BIGINT NOT NULL,
		PRIMARY KEY (owner_id, name)
	)`},
		{sql: `CREATE TABLE policy_version_state (
		policy_arn TEXT PRIMARY KEY REFERENCES policies(arn) ON DELETE CASCADE,
		default_version TEXT NOT NULL,
		next_version BIGINT NOT NULL
	)`},
		{sql: `INSERT INTO policy_version_state (policy_arn, default_version, next_version)
		SELECT arn, 'v1', 2 FROM policies`},
		{sql: `CREATE TABLE policy_versions (
		policy_arn TEXT NOT NULL REFERENCES policies(arn) ON DELETE CASCADE,
		version_id TEXT NOT NULL,
		document TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		PRIMARY KEY (policy_arn, version_id)
	)`},
		{sql: `INSERT INTO policy_versions (policy_arn, version_id, document, created_at)
		SELECT arn, 'v1', document, updated_at FROM policies`},
		{sql: `CREATE TABLE oidc_providers (
		arn TEXT PRIMARY KEY,
		url TEXT NOT NULL,
		client_ids TEXT NOT NULL,
		thumbprints TEXT NOT NULL,
		jwks TEXT NOT NULL,
		created_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE resource_policies (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		document TEXT NOT NULL,
		revision_id TEXT NOT NULL,
		updated_at BIGINT NOT NULL
	)`},
		{sql: `CREATE TABLE console_role_sessions (
		id TEXT PRIMARY KEY,
		secret_hash BLOB NOT NULL,
		access_key_id TEXT NOT NULL,
		session_token TEXT NOT NULL,
		csrf_token TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_seen_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL
	)`,
			postgres: `CREATE TABLE console_role_sessions (
		id TEXT PRIMARY KEY,
		secret_hash BYTEA NOT NULL,
		access_key_id TEXT NOT NULL,
		session_token TEXT NOT NULL,
		csrf_token TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_seen_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL
	)`},
	},

	// 8: the workspace configuration of UpdateWorkspaceConfiguration:
	// label-set limits (JSON), the status of their application and the
	// version each update increments. A row appears with the first update.
	{
		{sql: `CREATE TABLE workspace_configs (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		label_set_limits TEXT NOT NULL,
		config_status TEXT NOT NULL,
		config_status_reason TEXT NOT NULL,
		config_version BIGINT NOT NULL
	)`},
	},
	// 9: AMP's managed scrapers (collectors): the scrape configuration,
	// source and destination, status, and the logging configuration.
	// A scraper outlives its destination workspace, as on AMP: no
	// foreign key.
	{
		{sql: `CREATE TABLE scrapers (
		id TEXT PRIMARY KEY,
		alias TEXT,
		arn TEXT NOT NULL,
		status TEXT NOT NULL,
		status_reason TEXT NOT NULL,
		client_token TEXT UNIQUE,
		request_hash TEXT NOT NULL,
		configuration BLOB NOT NULL,
		source TEXT NOT NULL,
		source_arn TEXT NOT NULL,
		destination_arn TEXT NOT NULL,
		role_configuration TEXT NOT NULL,
		logging TEXT NOT NULL,
		logging_modified_at BIGINT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL
	)`,
			postgres: `CREATE TABLE scrapers (
		id TEXT PRIMARY KEY,
		alias TEXT,
		arn TEXT NOT NULL,
		status TEXT NOT NULL,
		status_reason TEXT NOT NULL,
		client_token TEXT UNIQUE,
		request_hash TEXT NOT NULL,
		configuration BYTEA NOT NULL,
		source TEXT NOT NULL,
		source_arn TEXT NOT NULL,
		destination_arn TEXT NOT NULL,
		role_configuration TEXT NOT NULL,
		logging TEXT NOT NULL,
		logging_modified_at BIGINT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL
	)`},
	},

	// 10: token buckets shared by the nodes of a cluster (the control
	// plane's rate per account), taken by one atomic statement each.
	{
		{sql: `CREATE TABLE rate_buckets (
		name TEXT PRIMARY KEY,
		tokens DOUBLE PRECISION NOT NULL,
		updated_at BIGINT NOT NULL
	)`},
	},
	// 11: query logging configurations (AMP's CreateQueryLoggingConfiguration):
	// destinations is the JSON of the request's LoggingDestinations.
	{
		{sql: `CREATE TABLE query_logging_configurations (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		destinations TEXT NOT NULL,
		status TEXT NOT NULL,
		status_reason TEXT,
		client_token TEXT,
		created_at BIGINT NOT NULL,
		modified_at BIGINT NOT NULL
	)`},
	},

	// 12: anomaly detectors (AMP's CreateAnomalyDetector): missing_data,
	// configuration and labels are the JSON of the request's shapes. Their
	// tags are rows of tags (keyed by the detector's ARN).
	{
		{sql: `CREATE TABLE anomaly_detectors (
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		id TEXT NOT NULL,
		alias TEXT NOT NULL,
		arn TEXT NOT NULL,
		interval_seconds INTEGER NOT NULL,
		missing_data TEXT NOT NULL,
		configuration TEXT NOT NULL,
		labels TEXT NOT NULL,
		status TEXT NOT NULL,
		status_reason TEXT,
		client_token TEXT,
		created_at BIGINT NOT NULL,
		modified_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, id)
	)`},
	},
}

// migrationLock is the PostgreSQL advisory lock key that serializes
// migrations between nodes starting at once ("kansoku\x00" as a number).
const migrationLock int64 = 0x6b616e736f6b7500

// migrate brings the schema up to date, one migration per transaction.
// Each transaction first takes the migration lock and reads the version
// again, so nodes starting together apply each migration once: on
// PostgreSQL the transaction-scoped advisory lock (released by the commit,
// held by no session if a node dies), on SQLite the write lock BEGIN
// IMMEDIATE takes.
func (db *DB) migrate(ctx context.Context) error {
	for {
		var applied int
		err := db.tx(ctx, nil, func(q *Queries) error {
			if q.dialect == Postgres {
				if _, err := q.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
					return fmt.Errorf("take the migration lock: %w", err)
				}
			}
			if _, err := q.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			var current int
			if err := q.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
				return fmt.Errorf("read schema version: %w", err)
			}
			if current > len(migrations) {
				return fmt.Errorf("metadata schema version %d is newer than this binary knows (%d): refusing to run an older kansoku on it", current, len(migrations))
			}
			if current == len(migrations) {
				return nil
			}
			v := current + 1
			for _, st := range migrations[v-1] {
				if _, err := q.exec(ctx, st.forDialect(q.dialect)); err != nil {
					return fmt.Errorf("apply metadata migration %d: %w\n%s", v, err, st.forDialect(q.dialect))
				}
			}
			if _, err := q.exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, nowMillis()); err != nil {
				return fmt.Errorf("record metadata migration %d: %w", v, err)
			}
			applied = v
			return nil
		})
		if err != nil {
			return err
		}
		if applied == 0 {
			return nil
		}
	}
}

// SchemaVersion reports the applied schema version.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}
