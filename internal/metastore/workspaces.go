package metastore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
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

	// The workspace configuration (UpdateWorkspaceConfiguration): its
	// label-set limits, the status of their application (ACTIVE,
	// UPDATING, UPDATE_FAILED) and a version each update increments, so
	// that a node marks ACTIVE only the version it applied.
	LabelSetLimits     []LabelSetLimit
	ConfigStatus       string
	ConfigStatusReason string
	ConfigVersion      int64
}

// Workspace configuration statuses, as AMP names them.
const (
	ConfigActive       = "ACTIVE"
	ConfigUpdating     = "UPDATING"
	ConfigUpdateFailed = "UPDATE_FAILED"
)

// LabelSetLimit is one of a workspace's limitsPerLabelSet: the active
// series that carry every label of LabelSet are at most MaxSeries (0:
// counted, not limited).
type LabelSetLimit struct {
	LabelSet  map[string]string `json:"labelSet"`
	MaxSeries int64             `json:"maxSeries"`
}

const workspaceCols = `id, alias, arn, status, client_token, retention_days, created_at, updated_at`

// workspaceSelect reads a workspace with its configuration, which has a
// row of workspace_configs once it was first updated.
const workspaceSelect = `SELECT ` + workspaceCols + `, COALESCE(c.label_set_limits, '[]'), COALESCE(c.config_status, 'ACTIVE'),
	COALESCE(c.config_status_reason, ''), COALESCE(c.config_version, 0)
	FROM workspaces LEFT JOIN workspace_configs c ON c.workspace_id = workspaces.id`

func scanWorkspace(s interface{ Scan(...any) error }) (Workspace, error) {
	var w Workspace
	var alias, token sql.NullString
	var created, updated int64
	var sets string
	if err := s.Scan(&w.ID, &alias, &w.ARN, &w.Status, &token, &w.RetentionDays, &created, &updated,
		&sets, &w.ConfigStatus, &w.ConfigStatusReason, &w.ConfigVersion); err != nil {
		return Workspace{}, mapErr(err)
	}
	if err := json.Unmarshal([]byte(sets), &w.LabelSetLimits); err != nil {
		return Workspace{}, fmt.Errorf("decode label-set limits of %s: %w", w.ID, err)
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

func encodeLabelSets(sets []LabelSetLimit) (string, error) {
	if sets == nil {
		sets = []LabelSetLimit{}
	}
	b, err := json.Marshal(sets)
	if err != nil {
		return "", fmt.Errorf("encode label-set limits: %w", err)
	}
	return string(b), nil
}

// GetWorkspace returns a workspace by id.
func (q *Queries) GetWorkspace(ctx context.Context, id string) (Workspace, error) {
	return scanWorkspace(q.queryRow(ctx, workspaceSelect+` WHERE id = ?`, id))
}

// GetWorkspaceByClientToken returns the workspace created with token.
func (q *Queries) GetWorkspaceByClientToken(ctx context.Context, token string) (Workspace, error) {
	return scanWorkspace(q.queryRow(ctx, workspaceSelect+` WHERE client_token = ?`, token))
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
	query := workspaceSelect
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

// ConfigurationUpdate is what UpdateWorkspaceConfiguration changes: nil
// fields are kept.
type ConfigurationUpdate struct {
	LabelSetLimits *[]LabelSetLimit
	RetentionDays  *int
}

// UpdateWorkspaceConfiguration stores a configuration change and marks it
// UPDATING with the next version, if the workspace is ACTIVE and no other
// change is UPDATING (ErrNotFound otherwise: the caller reads the row to
// say why). It returns the new version. Run it in a transaction (InTx).
func (q *Queries) UpdateWorkspaceConfiguration(ctx context.Context, id string, u ConfigurationUpdate, at time.Time) (int64, error) {
	w, err := q.GetWorkspace(ctx, id)
	if err != nil {
		return 0, err
	}
	if w.Status != WorkspaceActive || w.ConfigStatus == ConfigUpdating {
		return 0, ErrNotFound
	}
	sets := w.LabelSetLimits
	if u.LabelSetLimits != nil {
		sets = *u.LabelSetLimits
	}
	enc, err := encodeLabelSets(sets)
	if err != nil {
		return 0, err
	}
	v := w.ConfigVersion + 1
	// A compare-and-set on the version read: a concurrent update (another
	// node) makes this one match nothing.
	if w.ConfigVersion == 0 {
		_, err = q.exec(ctx, `INSERT INTO workspace_configs (workspace_id, label_set_limits, config_status, config_status_reason, config_version) VALUES (?, ?, ?, '', ?)`,
			id, enc, ConfigUpdating, v)
		if errors.Is(err, ErrConflict) {
			return 0, ErrNotFound
		}
	} else {
		err = q.execOne(ctx, `UPDATE workspace_configs SET label_set_limits = ?, config_status = ?, config_status_reason = '', config_version = ? WHERE workspace_id = ? AND config_version = ?`,
			enc, ConfigUpdating, v, id, w.ConfigVersion)
	}
	if err != nil {
		return 0, err
	}
	if u.RetentionDays != nil {
		if err := q.SetWorkspaceRetention(ctx, id, *u.RetentionDays, at); err != nil {
			return 0, err
		}
	} else if err := q.execOne(ctx, `UPDATE workspaces SET updated_at = ? WHERE id = ?`, millis(at), id); err != nil {
		return 0, err
	}
	return v, nil
}

// FinishWorkspaceConfiguration records the outcome (ACTIVE, or
// UPDATE_FAILED with a reason) of applying configuration version. A newer
// version stored meanwhile is left UPDATING (ErrNotFound).
func (q *Queries) FinishWorkspaceConfiguration(ctx context.Context, id string, version int64, status, reason string) error {
	return q.execOne(ctx, `UPDATE workspace_configs SET config_status = ?, config_status_reason = ? WHERE workspace_id = ? AND config_version = ? AND config_status = ?`,
		status, reason, id, version, ConfigUpdating)
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
