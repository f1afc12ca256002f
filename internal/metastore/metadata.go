package metastore

import (
	"context"
	"time"
)

// MetricMetadata is the TYPE/HELP/UNIT of a metric family, as remote_write
// carries it and /api/v1/metadata serves it.
type MetricMetadata struct {
	Metric string
	Type   string
	Help   string
	Unit   string
}

// UpsertMetricMetadata records metadata entries of a workspace.
func (q *Queries) UpsertMetricMetadata(ctx context.Context, workspaceID string, entries []MetricMetadata, at time.Time) error {
	for _, e := range entries {
		if _, err := q.exec(ctx, `INSERT INTO metric_metadata (workspace_id, metric, metric_type, help, unit, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, metric, metric_type, help, unit) DO UPDATE SET updated_at = excluded.updated_at`,
			workspaceID, e.Metric, e.Type, e.Help, e.Unit, millis(at)); err != nil {
			return err
		}
	}
	return nil
}

// ListMetricMetadata returns a workspace's metadata, optionally for one
// metric, most recently updated first within each metric.
func (q *Queries) ListMetricMetadata(ctx context.Context, workspaceID, metric string) ([]MetricMetadata, error) {
	query := `SELECT metric, metric_type, help, unit FROM metric_metadata WHERE workspace_id = ?`
	args := []any{workspaceID}
	if metric != "" {
		query += ` AND metric = ?`
		args = append(args, metric)
	}
	rows, err := q.query(ctx, query+` ORDER BY metric, updated_at DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MetricMetadata
	for rows.Next() {
		var m MetricMetadata
		if err := rows.Scan(&m.Metric, &m.Type, &m.Help, &m.Unit); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CountMetricMetadata returns how many entries a metric has in a workspace.
func (q *Queries) CountMetricMetadata(ctx context.Context, workspaceID, metric string) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM metric_metadata WHERE workspace_id = ? AND metric = ?`, workspaceID, metric).Scan(&n)
	return n, mapErr(err)
}
