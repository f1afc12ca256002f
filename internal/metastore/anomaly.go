package metastore

import (
	"context"
	"database/sql"
	"time"
)

// AnomalyDetector is an AMP anomaly detector of a workspace. MissingData,
// Configuration and Labels are the JSON of AMP's shapes, stored as given.
type AnomalyDetector struct {
	WorkspaceID     string
	ID              string
	Alias           string
	ARN             string
	IntervalSeconds int
	MissingData     string
	Configuration   string
	Labels          string
	Status          string
	StatusReason    string
	ClientToken     string
	CreatedAt       time.Time
	ModifiedAt      time.Time
}

const anomalyCols = `workspace_id, id, alias, arn, interval_seconds, missing_data, configuration, labels, status, status_reason, client_token, created_at, modified_at`

func scanAnomalyDetector(s interface{ Scan(...any) error }) (AnomalyDetector, error) {
	var d AnomalyDetector
	var reason, token sql.NullString
	var created, modified int64
	if err := s.Scan(&d.WorkspaceID, &d.ID, &d.Alias, &d.ARN, &d.IntervalSeconds, &d.MissingData, &d.Configuration, &d.Labels,
		&d.Status, &reason, &token, &created, &modified); err != nil {
		return AnomalyDetector{}, mapErr(err)
	}
	d.StatusReason, d.ClientToken = reason.String, token.String
	d.CreatedAt, d.ModifiedAt = fromMillis(created), fromMillis(modified)
	return d, nil
}

// CreateAnomalyDetector inserts a detector; ErrConflict if its id exists.
func (q *Queries) CreateAnomalyDetector(ctx context.Context, d AnomalyDetector) error {
	_, err := q.exec(ctx, `INSERT INTO anomaly_detectors (`+anomalyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.WorkspaceID, d.ID, d.Alias, d.ARN, d.IntervalSeconds, d.MissingData, d.Configuration, d.Labels,
		d.Status, nullString(d.StatusReason), nullString(d.ClientToken), millis(d.CreatedAt), millis(d.ModifiedAt))
	return err
}

// GetAnomalyDetector returns one detector.
func (q *Queries) GetAnomalyDetector(ctx context.Context, ws, id string) (AnomalyDetector, error) {
	return scanAnomalyDetector(q.queryRow(ctx, `SELECT `+anomalyCols+` FROM anomaly_detectors WHERE workspace_id = ? AND id = ?`, ws, id))
}

// ListAnomalyDetectors lists a workspace's detectors ("": every
// workspace's), by workspace and id.
func (q *Queries) ListAnomalyDetectors(ctx context.Context, ws string) ([]AnomalyDetector, error) {
	query, args := `SELECT `+anomalyCols+` FROM anomaly_detectors ORDER BY workspace_id, id`, []any{}
	if ws != "" {
		query, args = `SELECT `+anomalyCols+` FROM anomaly_detectors WHERE workspace_id = ? ORDER BY id`, []any{ws}
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AnomalyDetector
	for rows.Next() {
		d, err := scanAnomalyDetector(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// CountAnomalyDetectors counts a workspace's detectors.
func (q *Queries) CountAnomalyDetectors(ctx context.Context, ws string) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM anomaly_detectors WHERE workspace_id = ?`, ws).Scan(&n)
	return n, err
}

// UpdateAnomalyDetector replaces a detector's configuration and status.
func (q *Queries) UpdateAnomalyDetector(ctx context.Context, d AnomalyDetector) error {
	return q.execOne(ctx, `UPDATE anomaly_detectors SET interval_seconds = ?, missing_data = ?, configuration = ?, labels = ?, status = ?, status_reason = ?, client_token = ?, modified_at = ? WHERE workspace_id = ? AND id = ?`,
		d.IntervalSeconds, d.MissingData, d.Configuration, d.Labels, d.Status, nullString(d.StatusReason), nullString(d.ClientToken), millis(d.ModifiedAt), d.WorkspaceID, d.ID)
}

// DeleteAnomalyDetector removes a detector and its tags.
func (q *Queries) DeleteAnomalyDetector(ctx context.Context, ws, id string) error {
	d, err := q.GetAnomalyDetector(ctx, ws, id)
	if err != nil {
		return err
	}
	if err := q.DeleteTags(ctx, d.ARN); err != nil {
		return err
	}
	return q.execOne(ctx, `DELETE FROM anomaly_detectors WHERE workspace_id = ? AND id = ?`, ws, id)
}
