-- A metadata database made by Kansoku at schema version 5 (before the PostgreSQL
-- backend), one row or two in every table, dumped with sqlite3 .dump. TestSQLiteUpgrade
-- opens it with today's code: it must migrate and read back unchanged.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);
INSERT INTO schema_migrations VALUES(1,1796525514782);
INSERT INTO schema_migrations VALUES(2,1796525514784);
INSERT INTO schema_migrations VALUES(3,1796525514787);
INSERT INTO schema_migrations VALUES(4,1796525514788);
INSERT INTO schema_migrations VALUES(5,1796525514792);
CREATE TABLE account (
		id TEXT PRIMARY KEY,
		region TEXT NOT NULL,
		created_at BIGINT NOT NULL
	);
INSERT INTO account VALUES('123456789012','eu-west-1',1767225600000);
CREATE TABLE principals (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		arn TEXT NOT NULL,
		created_at BIGINT NOT NULL
	);
INSERT INTO principals VALUES('AIDAADMIN','admin','arn:aws:iam::123456789012:user/admin',1767225600000);
CREATE TABLE access_keys (
		id TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		secret_sealed BLOB NOT NULL,
		status TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_used_at BIGINT
	);
INSERT INTO access_keys VALUES('AKIAFIXTURE','AIDAADMIN',X'000102ff','Active',1767225600000,1767225660000);
CREATE TABLE api_tokens (
		id TEXT PRIMARY KEY,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		secret_hash BLOB NOT NULL,
		created_at BIGINT NOT NULL,
		expires_at BIGINT
	);
INSERT INTO api_tokens VALUES('tokfixture','AIDAADMIN','ci',X'090807',1767225600000,NULL);
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
INSERT INTO workspaces VALUES('ws-fixture','prod','arn:aws:aps:eu-west-1:123456789012:workspace/ws-fixture','ACTIVE','ct-1',150,1767225600000,1767225600000);
CREATE TABLE tags (
		resource_arn TEXT NOT NULL,
		tag_key TEXT NOT NULL,
		tag_value TEXT NOT NULL,
		PRIMARY KEY (resource_arn, tag_key)
	);
INSERT INTO tags VALUES('arn:aws:aps:eu-west-1:123456789012:workspace/ws-fixture','env','prod');
CREATE TABLE metric_metadata (
		workspace_id TEXT NOT NULL,
		metric TEXT NOT NULL,
		metric_type TEXT NOT NULL,
		help TEXT NOT NULL,
		unit TEXT NOT NULL,
		updated_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, metric, metric_type, help, unit)
	);
INSERT INTO metric_metadata VALUES('ws-fixture','up','gauge','Up.','',1767225600000);
CREATE TABLE rule_namespaces (
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
INSERT INTO rule_namespaces VALUES('ws-fixture','rules','arn:ns',X'67726f7570733a205b5d0a',X'67726f7570733a205b5d0a',0,'ACTIVE',NULL,NULL,2,1767225600000,1767225600000);
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
INSERT INTO alertmanager_definitions VALUES('ws-fixture',X'010203',NULL,'CREATION_FAILED','bad',NULL,1,1767225600000,1767225600000);
CREATE TABLE logging_configurations (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		log_group_arn TEXT NOT NULL,
		status TEXT NOT NULL,
		status_reason TEXT,
		client_token TEXT,
		created_at BIGINT NOT NULL,
		modified_at BIGINT NOT NULL
	);
INSERT INTO logging_configurations VALUES('ws-fixture','arn:aws:logs:eu-west-1:123456789012:log-group:g:*','ACTIVE',NULL,NULL,1767225600000,1767225600000);
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
INSERT INTO log_events VALUES(1,'ws-fixture','arn:g',1767225600000,'ruler','ERROR','boom','{"namespace":"rules"}');
CREATE TABLE policies (
		arn TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		description TEXT NOT NULL,
		document TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL
	);
INSERT INTO policies VALUES('arn:aws:iam::123456789012:policy/ReadOnly','ReadOnly','d','{"Version":"2012-10-17","Statement":[]}',1767225600000,1767225600000);
CREATE TABLE policy_attachments (
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		policy_arn TEXT NOT NULL,
		attached_at BIGINT NOT NULL,
		PRIMARY KEY (principal_id, policy_arn)
	);
INSERT INTO policy_attachments VALUES('AIDAADMIN','arn:aws:iam::123456789012:policy/ReadOnly',1767225600000);
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
INSERT INTO audit_events VALUES('ev-1',1767225600000,'aps.amazonaws.com','CreateWorkspace','admin','AKIAFIXTURE','127.0.0.1','',0,'arn:ws','{}');
INSERT INTO audit_events VALUES('ev-2',1767225601000,'aps.amazonaws.com','ListWorkspaces','admin','AKIAFIXTURE','127.0.0.1','',1,'','{}');
CREATE TABLE workspace_limits (
		workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
		overrides TEXT NOT NULL,
		updated_at BIGINT NOT NULL
	);
INSERT INTO workspace_limits VALUES('ws-fixture','{"ingestion_rate":5000}',1767225600000);
CREATE TABLE ha_leaders (
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		cluster TEXT NOT NULL,
		replica TEXT NOT NULL,
		received_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, cluster)
	);
INSERT INTO ha_leaders VALUES('ws-fixture','c1','r1',1767225600000);
CREATE TABLE aws_integrations (
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
INSERT INTO aws_integrations VALUES('awsi-fixture','prod','210987654321','ws-fixture','keys','','','AKIAOTHER',X'040506','{}','ACTIVE','','null',1767225600000,1767225600000,1);
CREATE TABLE aws_cursors (
		integration_id TEXT NOT NULL REFERENCES aws_integrations(id) ON DELETE CASCADE,
		region TEXT NOT NULL,
		period_seconds INTEGER NOT NULL,
		end_ms BIGINT NOT NULL,
		PRIMARY KEY (integration_id, region, period_seconds)
	);
INSERT INTO aws_cursors VALUES('awsi-fixture','eu-west-1',300,1767225600000);
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
INSERT INTO hosts VALUES('h-fixture','ws-fixture','arn:aws:ec2:eu-west-1:210987654321:instance/i-1','web','standard','ec2','210987654321','eu-west-1','running','[]','["shop:web"]','{}','{}','[]',1767225600000,1767225600000,NULL,NULL);
CREATE TABLE host_roles (
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		service TEXT NOT NULL,
		role TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		PRIMARY KEY (workspace_id, service, role)
	);
INSERT INTO host_roles VALUES('ws-fixture','shop','web',1767225600000);
CREATE TABLE console_sessions (
		id TEXT PRIMARY KEY,
		secret_hash BLOB NOT NULL,
		principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
		csrf_token TEXT NOT NULL,
		method TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		last_seen_at BIGINT NOT NULL,
		expires_at BIGINT NOT NULL
	);
INSERT INTO console_sessions VALUES('sess-fixture',X'01','AIDAADMIN','csrf','password',1767225600000,1767225600000,1767268800000);
CREATE TABLE console_passwords (
		principal_id TEXT PRIMARY KEY REFERENCES principals(id) ON DELETE CASCADE,
		hash BLOB NOT NULL,
		salt BLOB NOT NULL,
		iterations INTEGER NOT NULL,
		updated_at BIGINT NOT NULL
	);
INSERT INTO console_passwords VALUES('AIDAADMIN',X'02',X'03',600000,1767225600000);
CREATE TABLE dashboards (
		id TEXT PRIMARY KEY,
		workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		document TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		version INTEGER NOT NULL
	);
INSERT INTO dashboards VALUES('db-fixture','ws-fixture','Overview','{"panels":[]}',1767225600000,1767225600000,1);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('log_events',1);
CREATE INDEX access_keys_principal ON access_keys(principal_id);
CREATE INDEX api_tokens_principal ON api_tokens(principal_id);
CREATE UNIQUE INDEX workspaces_client_token ON workspaces(client_token);
CREATE INDEX workspaces_created ON workspaces(created_at, id);
CREATE INDEX log_events_ws_time ON log_events(workspace_id, event_time);
CREATE INDEX audit_events_time ON audit_events(event_time, id);
CREATE UNIQUE INDEX hosts_live_arn ON hosts(workspace_id, arn) WHERE retired_at IS NULL;
CREATE INDEX hosts_ws ON hosts(workspace_id);
CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);
CREATE INDEX dashboards_ws ON dashboards(workspace_id);
COMMIT;
