package metastore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The tables of several nodes on one database: heartbeats (cluster_nodes),
// leases of singletons (leases) and the Alertmanager state every node can
// read (alertmanager_state). Lease times are on the database's clock on
// PostgreSQL, so nodes' clocks need not agree; SQLite serves one machine.

// ErrFenced is a write refused because a later owner has written since.
var ErrFenced = errors.New("fenced: a later owner has written")

// NodeHeartbeat is a node's last sign of life.
type NodeHeartbeat struct {
	ID  string
	URL string
}

// nowExpr is the SQL expression of the store's current time in Unix
// milliseconds, and its argument (SQLite takes this process's clock).
func (q *Queries) nowExpr() (string, []any) {
	if q.dialect == Postgres {
		return `CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)`, nil
	}
	return `?`, []any{nowMillis()}
}

// AcquireLease takes name for holder until now + ttl on the store's clock,
// or renews it, if it is free, expired, or already holder's; the epoch
// grows each time the holder changes. It reports whether holder holds it.
func (q *Queries) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (int64, bool, error) {
	now, nowArgs := q.nowExpr()
	args := []any{name, holder}
	args = append(args, nowArgs...)
	args = append(args, ttl.Milliseconds())
	args = append(args, nowArgs...)
	var epoch int64
	var got string
	err := q.queryRow(ctx, `INSERT INTO leases (name, holder, epoch, expires_at) VALUES (?, ?, 1, `+now+` + ?)
		ON CONFLICT (name) DO UPDATE SET
			epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch ELSE leases.epoch + 1 END,
			holder = excluded.holder,
			expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= `+now+`
		RETURNING epoch, holder`, args...).Scan(&epoch, &got)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("acquire lease %s: %w", name, mapErr(err))
	}
	return epoch, got == holder, nil
}

// ReleaseLease gives name up if holder holds it: it expires now.
func (q *Queries) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := q.exec(ctx, `UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// Heartbeat records that node is alive and reachable at url.
func (q *Queries) Heartbeat(ctx context.Context, node, url string) error {
	now, nowArgs := q.nowExpr()
	args := append([]any{node, url}, nowArgs...)
	if _, err := q.exec(ctx, `INSERT INTO cluster_nodes (id, url, heartbeat_at) VALUES (?, ?, `+now+`)
		ON CONFLICT (id) DO UPDATE SET url = excluded.url, heartbeat_at = excluded.heartbeat_at`, args...); err != nil {
		return fmt.Errorf("heartbeat of %s: %w", node, err)
	}
	return nil
}

// LiveNodes lists the nodes whose last heartbeat is younger than ttl.
func (q *Queries) LiveNodes(ctx context.Context, ttl time.Duration) ([]NodeHeartbeat, error) {
	now, nowArgs := q.nowExpr()
	rows, err := q.query(ctx, `SELECT id, url FROM cluster_nodes WHERE heartbeat_at > `+now+` - ? ORDER BY id`,
		append(nowArgs, ttl.Milliseconds())...)
	if err != nil {
		return nil, fmt.Errorf("list live nodes: %w", err)
	}
	defer rows.Close()
	var out []NodeHeartbeat
	for rows.Next() {
		var n NodeHeartbeat
		if err := rows.Scan(&n.ID, &n.URL); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// LoadState returns a workspace's saved Alertmanager state of kind (nil
// when none).
func (q *Queries) LoadState(ctx context.Context, ws, kind string) ([]byte, error) {
	var data []byte
	err := q.queryRow(ctx, `SELECT data FROM alertmanager_state WHERE workspace_id = ? AND kind = ?`, ws, kind).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load alertmanager %s of %s: %w", kind, ws, err)
	}
	return data, nil
}

// SaveState replaces a workspace's Alertmanager state of kind, unless a
// save with a higher epoch happened since (ErrFenced). A workspace that no
// longer exists saves nothing.
func (q *Queries) SaveState(ctx context.Context, ws, kind string, epoch int64, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	res, err := q.exec(ctx, `INSERT INTO alertmanager_state (workspace_id, kind, epoch, data, updated_at)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM workspaces WHERE id = ?)
		ON CONFLICT (workspace_id, kind) DO UPDATE SET epoch = excluded.epoch, data = excluded.data, updated_at = excluded.updated_at
		WHERE alertmanager_state.epoch <= excluded.epoch`, ws, kind, epoch, data, nowMillis(), ws)
	if err != nil {
		return fmt.Errorf("save alertmanager %s of %s: %w", kind, ws, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		var exists int
		if err := q.queryRow(ctx, `SELECT COUNT(*) FROM alertmanager_state WHERE workspace_id = ? AND kind = ?`, ws, kind).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return fmt.Errorf("save alertmanager %s of %s at epoch %d: %w", kind, ws, epoch, ErrFenced)
		}
	}
	return nil
}

// DeleteState forgets a workspace's Alertmanager state.
func (q *Queries) DeleteState(ctx context.Context, ws string) error {
	if _, err := q.exec(ctx, `DELETE FROM alertmanager_state WHERE workspace_id = ?`, ws); err != nil {
		return fmt.Errorf("delete alertmanager state of %s: %w", ws, err)
	}
	return nil
}
