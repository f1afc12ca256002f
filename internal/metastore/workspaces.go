package metastore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Workspace statuses, as AMP names them.
const (
	WorkspaceCreating       = "CREATING"
	WorkspaceActive         = "ACTIVE"
	WorkspaceUpdating       = "UPDATING"
	WorkspaceDeleting       = "DELETING"
	WorkspaceCreationFailed = "CREATION_FAILED"
)

// Workspace is one tenant: its own TSDB, rules and Alertmanager.
type Workspace struct {
	ID            string
	Alias         string // empty: none
	ARN           string
	Status        string
	ClientToken   string
	RetentionDays int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const workspaceCols = `id, alias, arn, status, client_token, retention_days, created_at, updated_at`

func scanWorkspace(s interface{ Scan(...any) error }) (Workspace, error) {
	var w Workspace
	var alias, token sql.NullString
	var created, updated int64
	if err := s.Scan(&w.ID, &alias, &w.ARN, &w.Status, &token, &w.RetentionDays, &created, &updated); err != nil {
		return Workspace{}, mapErr(err)
	}
	w.Alias, w.ClientToken = alias.String, token.String
	w.CreatedAt, w.UpdatedAt = fromMillis(created), fromMillis(updated)
	return w, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreateWorkspace inserts a workspace. ErrConflict when the id or the client
// token is already used.
func (q *Queries) CreateWorkspace(ctx context.Context, w Workspace) error {
	_, err := q.exec(ctx, `INSERT INTO workspaces (`+workspaceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, nullString(w.Alias), w.ARN, w.Status, nullString(w.ClientToken), w.RetentionDays,
		millis(w.CreatedAt), millis(w.UpdatedAt))
	return err
}

// GetWorkspace returns a workspace by id.
func (q *Queries) GetWorkspace(ctx context.Context, id string) (Workspace, error) {
	return scanWorkspace(q.queryRow(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE id = ?`, id))
}

// GetWorkspaceByClientToken returns the workspace created with token.
func (q *Queries) GetWorkspaceByClientToken(ctx context.Context, token string) (Workspace, error) {
	return scanWorkspace(q.queryRow(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE client_token = ?`, token))
}

// CountWorkspaces counts the workspaces of the account (all statuses).
func (q *Queries) CountWorkspaces(ctx context.Context) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM workspaces`).Scan(&n)
	return n, mapErr(err)
}

// WorkspaceFilter narrows ListWorkspaces.
type WorkspaceFilter struct {
	AliasPrefix string
	Statuses    []string // empty: any
	Limit       int      // 0: no limit
	After       string   // page token from a previous call
}

// ListWorkspaces returns workspaces in creation order and, when more remain,
// the token that continues the listing.
func (q *Queries) ListWorkspaces(ctx context.Context, f WorkspaceFilter) ([]Workspace, string, error) {
	var where []string
	var args []any
	if f.AliasPrefix != "" {
		// Prefix match without LIKE so that % and _ in aliases are literal.
		where = append(where, `substr(alias, 1, ?) = ?`)
		args = append(args, len([]rune(f.AliasPrefix)), f.AliasPrefix)
	}
	if len(f.Statuses) > 0 {
		where = append(where, `status IN (`+strings.TrimSuffix(strings.Repeat("?,", len(f.Statuses)), ",")+`)`)
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	if f.After != "" {
		created, id, err := DecodePageToken(f.After)
		if err != nil {
			return nil, "", err
		}
		where = append(where, `(created_at > ? OR (created_at = ? AND id > ?))`)
		args = append(args, created, created, id)
	}
	query := `SELECT ` + workspaceCols + ` FROM workspaces`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY created_at, id`
	if f.Limit > 0 {
		query += ` LIMIT ` + strconv.Itoa(f.Limit+1)
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []Workspace
	for rows.Next() {
		w, err := scanWorkspace(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = EncodePageToken(millis(last.CreatedAt), last.ID)
	}
	return out, next, nil
}

// ErrBadPageToken is returned for a nextToken this server did not issue.
var ErrBadPageToken = fmt.Errorf("invalid pagination token")

// EncodePageToken makes an opaque keyset-pagination token.
func EncodePageToken(createdMillis int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(createdMillis, 10) + "/" + id))
}

// DecodePageToken reverses EncodePageToken.
func DecodePageToken(tok string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, "", ErrBadPageToken
	}
	ts, id, ok := strings.Cut(string(b), "/")
	if !ok || id == "" {
		return 0, "", ErrBadPageToken
	}
	created, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return 0, "", ErrBadPageToken
	}
	return created, id, nil
}

// UpdateWorkspaceAlias sets (or, with "", clears) the alias.
func (q *Queries) UpdateWorkspaceAlias(ctx context.Context, id, alias string, at time.Time) error {
	return q.execOne(ctx, `UPDATE workspaces SET alias = ?, updated_at = ? WHERE id = ?`, nullString(alias), millis(at), id)
}

// SetWorkspaceStatus moves a workspace to status if it is currently in one of
// from (any status when from is empty). ErrNotFound when no row matched.
func (q *Queries) SetWorkspaceStatus(ctx context.Context, id, status string, at time.Time, from ...string) error {
	query := `UPDATE workspaces SET status = ?, updated_at = ? WHERE id = ?`
	args := []any{status, millis(at), id}
	if len(from) > 0 {
		query += ` AND status IN (` + strings.TrimSuffix(strings.Repeat("?,", len(from)), ",") + `)`
		for _, s := range from {
			args = append(args, s)
		}
	}
	return q.execOne(ctx, query, args...)
}

// SetWorkspaceRetention changes the retention period.
func (q *Queries) SetWorkspaceRetention(ctx context.Context, id string, days int, at time.Time) error {
	return q.execOne(ctx, `UPDATE workspaces SET retention_days = ?, updated_at = ? WHERE id = ?`, days, millis(at), id)
}

// DeleteWorkspace removes the workspace row and the rows that hang off it.
// childARNPrefix names the ARN prefix of the workspace's sub-resources
// (rule-groups namespaces) whose tags go too.
func (q *Queries) DeleteWorkspace(ctx context.Context, id, arn, childARNPrefix string) error {
	if _, err := q.exec(ctx, `DELETE FROM metric_metadata WHERE workspace_id = ?`, id); err != nil {
		return err
	}
	if err := q.DeleteTags(ctx, arn); err != nil {
		return err
	}
	if err := q.DeleteTagsByPrefix(ctx, childARNPrefix); err != nil {
		return err
	}
	return q.execOne(ctx, `DELETE FROM workspaces WHERE id = ?`, id)
}
