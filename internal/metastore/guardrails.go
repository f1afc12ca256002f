package metastore

import (
	"context"
	"errors"
	"time"
)

// LimitOverrides is a workspace's JSON object of overridden limits.
type LimitOverrides struct {
	WorkspaceID string
	Overrides   string
	UpdatedAt   time.Time
}

// ListLimitOverrides returns every workspace's overrides.
func (q *Queries) ListLimitOverrides(ctx context.Context) ([]LimitOverrides, error) {
	rows, err := q.query(ctx, `SELECT workspace_id, overrides, updated_at FROM workspace_limits`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LimitOverrides
	for rows.Next() {
		var l LimitOverrides
		var t int64
		if err := rows.Scan(&l.WorkspaceID, &l.Overrides, &t); err != nil {
			return nil, err
		}
		l.UpdatedAt = fromMillis(t)
		out = append(out, l)
	}
	return out, rows.Err()
}

// GetLimitOverrides returns a workspace's overrides ("{}" when none).
func (q *Queries) GetLimitOverrides(ctx context.Context, ws string) (string, error) {
	var s string
	err := q.queryRow(ctx, `SELECT overrides FROM workspace_limits WHERE workspace_id = ?`, ws).Scan(&s)
	if err != nil {
		if errors.Is(mapErr(err), ErrNotFound) {
			return "{}", nil
		}
		return "", mapErr(err)
	}
	return s, nil
}

// SetLimitOverrides replaces a workspace's overrides.
func (q *Queries) SetLimitOverrides(ctx context.Context, ws, overrides string, at time.Time) error {
	if _, err := q.exec(ctx, `DELETE FROM workspace_limits WHERE workspace_id = ?`, ws); err != nil {
		return err
	}
	_, err := q.exec(ctx, `INSERT INTO workspace_limits (workspace_id, overrides, updated_at) VALUES (?, ?, ?)`, ws, overrides, millis(at))
	return err
}

// DeleteLimitOverrides returns a workspace to the default limits.
func (q *Queries) DeleteLimitOverrides(ctx context.Context, ws string) error {
	_, err := q.exec(ctx, `DELETE FROM workspace_limits WHERE workspace_id = ?`, ws)
	return err
}

// HALeader is the elected replica of one HA cluster of a workspace.
type HALeader struct {
	WorkspaceID string
	Cluster     string
	Replica     string
	ReceivedAt  time.Time
}

// ListHALeaders returns every elected replica.
func (q *Queries) ListHALeaders(ctx context.Context) ([]HALeader, error) {
	rows, err := q.query(ctx, `SELECT workspace_id, cluster, replica, received_at FROM ha_leaders`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HALeader
	for rows.Next() {
		var l HALeader
		var t int64
		if err := rows.Scan(&l.WorkspaceID, &l.Cluster, &l.Replica, &t); err != nil {
			return nil, err
		}
		l.ReceivedAt = fromMillis(t)
		out = append(out, l)
	}
	return out, rows.Err()
}

// UpsertHALeader records the elected replica of a cluster.
func (q *Queries) UpsertHALeader(ctx context.Context, l HALeader) error {
	res, err := q.exec(ctx, `UPDATE ha_leaders SET replica = ?, received_at = ? WHERE workspace_id = ? AND cluster = ?`,
		l.Replica, millis(l.ReceivedAt), l.WorkspaceID, l.Cluster)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = q.exec(ctx, `INSERT INTO ha_leaders (workspace_id, cluster, replica, received_at) VALUES (?, ?, ?, ?)`,
		l.WorkspaceID, l.Cluster, l.Replica, millis(l.ReceivedAt))
	return err
}

// DeleteIdleHALeaders forgets clusters not heard of since before.
func (q *Queries) DeleteIdleHALeaders(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM ha_leaders WHERE received_at < ?`, millis(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
