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
	_, err := q.exec(ctx, `INSERT INTO workspace_limits (workspace_id, overrides, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (workspace_id) DO UPDATE SET overrides = excluded.overrides, updated_at = excluded.updated_at`, ws, overrides, millis(at))
	return err
}

// UpdateLimitOverrides replaces a workspace's overrides with what update
// makes of the current ones ("{}" when none), read and written in one
// serializable transaction: two nodes changing different keys at once
// both keep their change. update may run more than once.
func (db *DB) UpdateLimitOverrides(ctx context.Context, ws string, at time.Time, update func(current string) (string, error)) (string, error) {
	var next string
	err := db.InTx(ctx, func(q *Queries) error {
		cur, err := q.GetLimitOverrides(ctx, ws)
		if err != nil {
			return err
		}
		if next, err = update(cur); err != nil {
			return err
		}
		return q.SetLimitOverrides(ctx, ws, next, at)
	})
	return next, err
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

// ElectHALeader is the HA tracker's compare-and-set, which every node runs
// against the same row: candidate becomes (or stays) its cluster's elected
// replica if none is elected yet, if it is the elected one (its receive
// time moves forward), or if the elected one was last heard of before
// takeoverBefore (a failover). It returns the replica elected afterwards,
// candidate or another, which the caller adopts, and whether this call
// changed it (a first election or a takeover).
//
// Each step is one statement, atomic on its own on both engines (a
// PostgreSQL UPDATE re-checks its WHERE on a row changed concurrently), so
// two nodes electing at once cannot both win.
func (q *Queries) ElectHALeader(ctx context.Context, candidate HALeader, takeoverBefore time.Time) (elected HALeader, changed bool, err error) {
	ws, cluster, at := candidate.WorkspaceID, candidate.Cluster, millis(candidate.ReceivedAt)
	// The elected replica, heard of again.
	res, err := q.exec(ctx, `UPDATE ha_leaders SET received_at = ? WHERE workspace_id = ? AND cluster = ? AND replica = ? AND received_at < ?`,
		at, ws, cluster, candidate.Replica, at)
	if err != nil {
		return HALeader{}, false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return candidate, false, nil
	}
	// A takeover from a replica silent since before takeoverBefore.
	res, err = q.exec(ctx, `UPDATE ha_leaders SET replica = ?, received_at = ? WHERE workspace_id = ? AND cluster = ? AND replica <> ? AND received_at < ?`,
		candidate.Replica, at, ws, cluster, candidate.Replica, millis(takeoverBefore))
	if err != nil {
		return HALeader{}, false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return candidate, true, nil
	}
	// The cluster's first election.
	res, err = q.exec(ctx, `INSERT INTO ha_leaders (workspace_id, cluster, replica, received_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (workspace_id, cluster) DO NOTHING`, ws, cluster, candidate.Replica, at)
	if err != nil {
		return HALeader{}, false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return candidate, true, nil
	}
	// Someone else is elected (or candidate, with a later receive time).
	elected = HALeader{WorkspaceID: ws, Cluster: cluster}
	var t int64
	if err := q.queryRow(ctx, `SELECT replica, received_at FROM ha_leaders WHERE workspace_id = ? AND cluster = ?`, ws, cluster).
		Scan(&elected.Replica, &t); err != nil {
		return HALeader{}, false, mapErr(err)
	}
	elected.ReceivedAt = fromMillis(t)
	return elected, false, nil
}

// DeleteIdleHALeaders forgets clusters not heard of since before.
func (q *Queries) DeleteIdleHALeaders(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM ha_leaders WHERE received_at < ?`, millis(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
