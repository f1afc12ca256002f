package metastore

import (
	"context"
	"database/sql"
	"time"
)

// QueryLoggingConfiguration sends a workspace's expensive queries (samples
// processed over a threshold) to a log group that Kansoku keeps. Destinations
// is the JSON of AMP's LoggingDestinations list, stored as given.
type QueryLoggingConfiguration struct {
	WorkspaceID  string
	Destinations string
	Status       string
	StatusReason string
	ClientToken  string
	CreatedAt    time.Time
	ModifiedAt   time.Time
}

const queryLoggingCols = `workspace_id, destinations, status, status_reason, client_token, created_at, modified_at`

func scanQueryLogging(s interface{ Scan(...any) error }) (QueryLoggingConfiguration, error) {
	var l QueryLoggingConfiguration
	var reason, token sql.NullString
	var created, modified int64
	if err := s.Scan(&l.WorkspaceID, &l.Destinations, &l.Status, &reason, &token, &created, &modified); err != nil {
		return QueryLoggingConfiguration{}, mapErr(err)
	}
	l.StatusReason, l.ClientToken = reason.String, token.String
	l.CreatedAt, l.ModifiedAt = fromMillis(created), fromMillis(modified)
	return l, nil
}

// CreateQueryLoggingConfiguration inserts one; ErrConflict if one exists.
func (q *Queries) CreateQueryLoggingConfiguration(ctx context.Context, l QueryLoggingConfiguration) error {
	_, err := q.exec(ctx, `INSERT INTO query_logging_configurations (`+queryLoggingCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		l.WorkspaceID, l.Destinations, l.Status, nullString(l.StatusReason), nullString(l.ClientToken), millis(l.CreatedAt), millis(l.ModifiedAt))
	return err
}

// GetQueryLoggingConfiguration returns a workspace's query logging configuration.
func (q *Queries) GetQueryLoggingConfiguration(ctx context.Context, ws string) (QueryLoggingConfiguration, error) {
	return scanQueryLogging(q.queryRow(ctx, `SELECT `+queryLoggingCols+` FROM query_logging_configurations WHERE workspace_id = ?`, ws))
}

// ListQueryLoggingConfigurations returns every query logging configuration.
func (q *Queries) ListQueryLoggingConfigurations(ctx context.Context) ([]QueryLoggingConfiguration, error) {
	rows, err := q.query(ctx, `SELECT `+queryLoggingCols+` FROM query_logging_configurations ORDER BY workspace_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueryLoggingConfiguration
	for rows.Next() {
		l, err := scanQueryLogging(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// UpdateQueryLoggingConfiguration changes the destinations and status.
func (q *Queries) UpdateQueryLoggingConfiguration(ctx context.Context, l QueryLoggingConfiguration) error {
	return q.execOne(ctx, `UPDATE query_logging_configurations SET destinations = ?, status = ?, status_reason = ?, client_token = ?, modified_at = ? WHERE workspace_id = ?`,
		l.Destinations, l.Status, nullString(l.StatusReason), nullString(l.ClientToken), millis(l.ModifiedAt), l.WorkspaceID)
}

// DeleteQueryLoggingConfiguration removes a workspace's query logging configuration.
func (q *Queries) DeleteQueryLoggingConfiguration(ctx context.Context, ws string) error {
	return q.execOne(ctx, `DELETE FROM query_logging_configurations WHERE workspace_id = ?`, ws)
}
