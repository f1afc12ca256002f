package metastore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Statuses of rule-groups namespaces, Alertmanager definitions and logging
// configurations, as AMP names them.
const (
	StatusCreating       = "CREATING"
	StatusActive         = "ACTIVE"
	StatusUpdating       = "UPDATING"
	StatusDeleting       = "DELETING"
	StatusCreationFailed = "CREATION_FAILED"
	StatusUpdateFailed   = "UPDATE_FAILED"
)

// RuleNamespace is a rule-groups namespace: one Prometheus rule file.
type RuleNamespace struct {
	WorkspaceID string
	Name        string
	ARN         string
	// Data is the file as last uploaded; ActiveData the last one that was
	// valid, which the ruler evaluates (nil if none ever was).
	Data         []byte
	ActiveData   []byte
	RuleCount    int // rules in ActiveData
	Status       string
	StatusReason string
	ClientToken  string
	Version      int // bumped by every write, for optimistic concurrency
	CreatedAt    time.Time
	ModifiedAt   time.Time
}

const ruleNamespaceCols = `workspace_id, name, arn, data, active_data, rule_count, status, status_reason, client_token, version, created_at, modified_at`

func scanRuleNamespace(s interface{ Scan(...any) error }) (RuleNamespace, error) {
	var n RuleNamespace
	var reason, token sql.NullString
	var created, modified int64
	if err := s.Scan(&n.WorkspaceID, &n.Name, &n.ARN, &n.Data, &n.ActiveData, &n.RuleCount, &n.Status, &reason, &token, &n.Version, &created, &modified); err != nil {
		return RuleNamespace{}, mapErr(err)
	}
	n.StatusReason, n.ClientToken = reason.String, token.String
	n.CreatedAt, n.ModifiedAt = fromMillis(created), fromMillis(modified)
	return n, nil
}

// CreateRuleNamespace inserts a namespace; ErrConflict if the name exists.
func (q *Queries) CreateRuleNamespace(ctx context.Context, n RuleNamespace) error {
	_, err := q.exec(ctx, `INSERT INTO rule_namespaces (`+ruleNamespaceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.WorkspaceID, n.Name, n.ARN, n.Data, n.ActiveData, n.RuleCount, n.Status, nullString(n.StatusReason), nullString(n.ClientToken),
		n.Version, millis(n.CreatedAt), millis(n.ModifiedAt))
	return err
}

// GetRuleNamespace returns one namespace.
func (q *Queries) GetRuleNamespace(ctx context.Context, ws, name string) (RuleNamespace, error) {
	return scanRuleNamespace(q.queryRow(ctx, `SELECT `+ruleNamespaceCols+` FROM rule_namespaces WHERE workspace_id = ? AND name = ?`, ws, name))
}

// ListRuleNamespaces lists a workspace's namespaces by name, optionally with
// a name prefix and keyset pagination (limit 0: all).
func (q *Queries) ListRuleNamespaces(ctx context.Context, ws, prefix string, limit int, after string) ([]RuleNamespace, string, error) {
	query := `SELECT ` + ruleNamespaceCols + ` FROM rule_namespaces WHERE workspace_id = ?`
	args := []any{ws}
	if prefix != "" {
		query += ` AND substr(name, 1, ?) = ?`
		args = append(args, len([]rune(prefix)), prefix)
	}
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		if err != nil || len(b) == 0 {
			return nil, "", ErrBadPageToken
		}
		query += ` AND name > ?`
		args = append(args, string(b))
	}
	query += ` ORDER BY name`
	if limit > 0 {
		query += ` LIMIT ` + strconv.Itoa(limit+1)
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []RuleNamespace
	for rows.Next() {
		n, err := scanRuleNamespace(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if limit > 0 && len(out) > limit {
		out = out[:limit]
		next = base64.RawURLEncoding.EncodeToString([]byte(out[len(out)-1].Name))
	}
	return out, next, nil
}

// UpdateRuleNamespace writes n if the stored version is still expectVersion;
// ErrConflict when another write came first, ErrNotFound when it is gone.
func (q *Queries) UpdateRuleNamespace(ctx context.Context, n RuleNamespace, expectVersion int) error {
	res, err := q.exec(ctx, `UPDATE rule_namespaces SET data = ?, active_data = ?, rule_count = ?, status = ?, status_reason = ?, version = ?, modified_at = ?
		WHERE workspace_id = ? AND name = ? AND version = ?`,
		n.Data, n.ActiveData, n.RuleCount, n.Status, nullString(n.StatusReason), n.Version, millis(n.ModifiedAt), n.WorkspaceID, n.Name, expectVersion)
	if err != nil {
		return err
	}
	if rows, _ := res.RowsAffected(); rows == 0 {
		if _, err := q.GetRuleNamespace(ctx, n.WorkspaceID, n.Name); err != nil {
			return err
		}
		return ErrConflict
	}
	return nil
}

// DeleteRuleNamespace removes a namespace.
func (q *Queries) DeleteRuleNamespace(ctx context.Context, ws, name string) error {
	return q.execOne(ctx, `DELETE FROM rule_namespaces WHERE workspace_id = ? AND name = ?`, ws, name)
}

// CountRules sums the active rules of a workspace, leaving one namespace out
// (the one being replaced).
func (q *Queries) CountRules(ctx context.Context, ws, except string) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COALESCE(SUM(rule_count), 0) FROM rule_namespaces WHERE workspace_id = ? AND name <> ?`, ws, except).Scan(&n)
	return n, mapErr(err)
}

// AlertmanagerDefinition is a workspace's Alertmanager configuration.
type AlertmanagerDefinition struct {
	WorkspaceID  string
	Data         []byte
	ActiveData   []byte
	Status       string
	StatusReason string
	ClientToken  string
	Version      int
	CreatedAt    time.Time
	ModifiedAt   time.Time
}

const amDefCols = `workspace_id, data, active_data, status, status_reason, client_token, version, created_at, modified_at`

func scanAMDef(s interface{ Scan(...any) error }) (AlertmanagerDefinition, error) {
	var d AlertmanagerDefinition
	var reason, token sql.NullString
	var created, modified int64
	if err := s.Scan(&d.WorkspaceID, &d.Data, &d.ActiveData, &d.Status, &reason, &token, &d.Version, &created, &modified); err != nil {
		return AlertmanagerDefinition{}, mapErr(err)
	}
	d.StatusReason, d.ClientToken = reason.String, token.String
	d.CreatedAt, d.ModifiedAt = fromMillis(created), fromMillis(modified)
	return d, nil
}

// CreateAlertmanagerDefinition inserts a definition; ErrConflict if one exists.
func (q *Queries) CreateAlertmanagerDefinition(ctx context.Context, d AlertmanagerDefinition) error {
	_, err := q.exec(ctx, `INSERT INTO alertmanager_definitions (`+amDefCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.WorkspaceID, d.Data, d.ActiveData, d.Status, nullString(d.StatusReason), nullString(d.ClientToken), d.Version, millis(d.CreatedAt), millis(d.ModifiedAt))
	return err
}

// GetAlertmanagerDefinition returns a workspace's definition.
func (q *Queries) GetAlertmanagerDefinition(ctx context.Context, ws string) (AlertmanagerDefinition, error) {
	return scanAMDef(q.queryRow(ctx, `SELECT `+amDefCols+` FROM alertmanager_definitions WHERE workspace_id = ?`, ws))
}

// UpdateAlertmanagerDefinition writes d if the stored version is expectVersion.
func (q *Queries) UpdateAlertmanagerDefinition(ctx context.Context, d AlertmanagerDefinition, expectVersion int) error {
	res, err := q.exec(ctx, `UPDATE alertmanager_definitions SET data = ?, active_data = ?, status = ?, status_reason = ?, version = ?, modified_at = ?
		WHERE workspace_id = ? AND version = ?`,
		d.Data, d.ActiveData, d.Status, nullString(d.StatusReason), d.Version, millis(d.ModifiedAt), d.WorkspaceID, expectVersion)
	if err != nil {
		return err
	}
	if rows, _ := res.RowsAffected(); rows == 0 {
		if _, err := q.GetAlertmanagerDefinition(ctx, d.WorkspaceID); err != nil {
			return err
		}
		return ErrConflict
	}
	return nil
}

// DeleteAlertmanagerDefinition removes a workspace's definition.
func (q *Queries) DeleteAlertmanagerDefinition(ctx context.Context, ws string) error {
	return q.execOne(ctx, `DELETE FROM alertmanager_definitions WHERE workspace_id = ?`, ws)
}

// LoggingConfiguration points a workspace's ruler and Alertmanager logs at
// a log group that Kansoku keeps.
type LoggingConfiguration struct {
	WorkspaceID  string
	LogGroupARN  string
	Status       string
	StatusReason string
	ClientToken  string
	CreatedAt    time.Time
	ModifiedAt   time.Time
}

const loggingCols = `workspace_id, log_group_arn, status, status_reason, client_token, created_at, modified_at`

func scanLogging(s interface{ Scan(...any) error }) (LoggingConfiguration, error) {
	var l LoggingConfiguration
	var reason, token sql.NullString
	var created, modified int64
	if err := s.Scan(&l.WorkspaceID, &l.LogGroupARN, &l.Status, &reason, &token, &created, &modified); err != nil {
		return LoggingConfiguration{}, mapErr(err)
	}
	l.StatusReason, l.ClientToken = reason.String, token.String
	l.CreatedAt, l.ModifiedAt = fromMillis(created), fromMillis(modified)
	return l, nil
}

// CreateLoggingConfiguration inserts one; ErrConflict if one exists.
func (q *Queries) CreateLoggingConfiguration(ctx context.Context, l LoggingConfiguration) error {
	_, err := q.exec(ctx, `INSERT INTO logging_configurations (`+loggingCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		l.WorkspaceID, l.LogGroupARN, l.Status, nullString(l.StatusReason), nullString(l.ClientToken), millis(l.CreatedAt), millis(l.ModifiedAt))
	return err
}

// GetLoggingConfiguration returns a workspace's logging configuration.
func (q *Queries) GetLoggingConfiguration(ctx context.Context, ws string) (LoggingConfiguration, error) {
	return scanLogging(q.queryRow(ctx, `SELECT `+loggingCols+` FROM logging_configurations WHERE workspace_id = ?`, ws))
}

// ListLoggingConfigurations returns every logging configuration.
func (q *Queries) ListLoggingConfigurations(ctx context.Context) ([]LoggingConfiguration, error) {
	rows, err := q.query(ctx, `SELECT `+loggingCols+` FROM logging_configurations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LoggingConfiguration
	for rows.Next() {
		l, err := scanLogging(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// UpdateLoggingConfiguration changes the log group.
func (q *Queries) UpdateLoggingConfiguration(ctx context.Context, l LoggingConfiguration) error {
	return q.execOne(ctx, `UPDATE logging_configurations SET log_group_arn = ?, status = ?, status_reason = ?, modified_at = ? WHERE workspace_id = ?`,
		l.LogGroupARN, l.Status, nullString(l.StatusReason), millis(l.ModifiedAt), l.WorkspaceID)
}

// DeleteLoggingConfiguration removes a workspace's logging configuration.
func (q *Queries) DeleteLoggingConfiguration(ctx context.Context, ws string) error {
	return q.execOne(ctx, `DELETE FROM logging_configurations WHERE workspace_id = ?`, ws)
}

// ListRuleNamespacesByStatus lists namespaces of any workspace in one of
// the given statuses (for the activation pass).
func (q *Queries) ListRuleNamespacesByStatus(ctx context.Context, statuses ...string) ([]RuleNamespace, error) {
	rows, err := q.query(ctx, `SELECT `+ruleNamespaceCols+` FROM rule_namespaces WHERE status IN (`+placeholders(len(statuses))+`)`, anySlice(statuses)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RuleNamespace
	for rows.Next() {
		n, err := scanRuleNamespace(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// ListAlertmanagerDefinitionsByStatus lists definitions in one of the statuses.
func (q *Queries) ListAlertmanagerDefinitionsByStatus(ctx context.Context, statuses ...string) ([]AlertmanagerDefinition, error) {
	rows, err := q.query(ctx, `SELECT `+amDefCols+` FROM alertmanager_definitions WHERE status IN (`+placeholders(len(statuses))+`)`, anySlice(statuses)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AlertmanagerDefinition
	for rows.Next() {
		d, err := scanAMDef(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
