package metastore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// AWSIntegration is one registered AWS account to pull CloudWatch metrics
// from. Settings and LastPoll are JSON documents owned by package awsint.
type AWSIntegration struct {
	ID           string
	Name         string
	AWSAccountID string
	WorkspaceID  string
	AuthMode     string // "role" or "keys"
	RoleARN      string
	ExternalID   string
	AccessKeyID  string
	SecretSealed []byte // sealed secret access key (keys mode)
	Settings     string
	Status       string
	StatusReason string
	LastPoll     string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int
}

const awsIntegrationCols = `id, name, aws_account_id, workspace_id, auth_mode, role_arn, external_id, access_key_id, secret_sealed, settings, status, status_reason, last_poll, created_at, updated_at, version`

func scanAWSIntegration(s interface{ Scan(...any) error }) (AWSIntegration, error) {
	var i AWSIntegration
	var created, updated int64
	if err := s.Scan(&i.ID, &i.Name, &i.AWSAccountID, &i.WorkspaceID, &i.AuthMode, &i.RoleARN, &i.ExternalID, &i.AccessKeyID,
		&i.SecretSealed, &i.Settings, &i.Status, &i.StatusReason, &i.LastPoll, &created, &updated, &i.Version); err != nil {
		return AWSIntegration{}, mapErr(err)
	}
	i.CreatedAt, i.UpdatedAt = fromMillis(created), fromMillis(updated)
	return i, nil
}

// CreateAWSIntegration inserts an integration.
func (q *Queries) CreateAWSIntegration(ctx context.Context, i AWSIntegration) error {
	_, err := q.exec(ctx, `INSERT INTO aws_integrations (`+awsIntegrationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		i.ID, i.Name, i.AWSAccountID, i.WorkspaceID, i.AuthMode, i.RoleARN, i.ExternalID, i.AccessKeyID, i.SecretSealed,
		i.Settings, i.Status, i.StatusReason, i.LastPoll, millis(i.CreatedAt), millis(i.UpdatedAt), i.Version)
	return err
}

// GetAWSIntegration returns one integration.
func (q *Queries) GetAWSIntegration(ctx context.Context, id string) (AWSIntegration, error) {
	return scanAWSIntegration(q.queryRow(ctx, `SELECT `+awsIntegrationCols+` FROM aws_integrations WHERE id = ?`, id))
}

// ListAWSIntegrations lists integrations by id, of one workspace or all ("").
func (q *Queries) ListAWSIntegrations(ctx context.Context, ws string) ([]AWSIntegration, error) {
	query, args := `SELECT `+awsIntegrationCols+` FROM aws_integrations`, []any{}
	if ws != "" {
		query += ` WHERE workspace_id = ?`
		args = append(args, ws)
	}
	rows, err := q.query(ctx, query+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AWSIntegration
	for rows.Next() {
		i, err := scanAWSIntegration(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// UpdateAWSIntegration writes i if the stored version is still
// expectVersion (ErrConflict otherwise, ErrNotFound when it is gone).
func (q *Queries) UpdateAWSIntegration(ctx context.Context, i AWSIntegration, expectVersion int) error {
	res, err := q.exec(ctx, `UPDATE aws_integrations SET name = ?, auth_mode = ?, role_arn = ?, external_id = ?, access_key_id = ?, secret_sealed = ?,
		settings = ?, status = ?, status_reason = ?, last_poll = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
		i.Name, i.AuthMode, i.RoleARN, i.ExternalID, i.AccessKeyID, i.SecretSealed, i.Settings, i.Status, i.StatusReason, i.LastPoll,
		millis(i.UpdatedAt), i.Version, i.ID, expectVersion)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := q.GetAWSIntegration(ctx, i.ID); err != nil {
			return err
		}
		return ErrConflict
	}
	return nil
}

// DeleteAWSIntegration removes an integration and its cursors.
func (q *Queries) DeleteAWSIntegration(ctx context.Context, id string) error {
	if _, err := q.exec(ctx, `DELETE FROM aws_cursors WHERE integration_id = ?`, id); err != nil {
		return err
	}
	return q.execOne(ctx, `DELETE FROM aws_integrations WHERE id = ?`, id)
}

// GetAWSCursor returns the end (exclusive) of what an integration has
// collected for a region and period; ok is false before the first poll.
func (q *Queries) GetAWSCursor(ctx context.Context, id, region string, period int) (end time.Time, ok bool, err error) {
	var ms int64
	err = q.queryRow(ctx, `SELECT end_ms FROM aws_cursors WHERE integration_id = ? AND region = ? AND period_seconds = ?`, id, region, period).Scan(&ms)
	if err != nil {
		if errors.Is(mapErr(err), ErrNotFound) {
			return time.Time{}, false, nil
		}
		return time.Time{}, false, mapErr(err)
	}
	return fromMillis(ms), true, nil
}

// SetAWSCursor records that everything before end has been collected.
func (q *Queries) SetAWSCursor(ctx context.Context, id, region string, period int, end time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO aws_cursors (integration_id, region, period_seconds, end_ms) VALUES (?, ?, ?, ?)
		ON CONFLICT (integration_id, region, period_seconds) DO UPDATE SET end_ms = excluded.end_ms`, id, region, period, millis(end))
	return err
}

// Host is one monitored resource. Identifiers, Roles, Tags, Metadata and
// Integrations are JSON documents owned by package hosts.
type Host struct {
	ID                 string
	WorkspaceID        string
	ARN                string
	Name               string
	Kind               string // standard or micro
	Product            string // ec2, rds, ...
	AWSAccountID       string
	Region             string
	Status             string
	Identifiers        string
	Roles              string
	Tags               string
	Metadata           string
	Integrations       string
	FirstSeenAt        time.Time
	LastSeenAt         time.Time
	DeletionDetectedAt time.Time // zero: not detected
	RetiredAt          time.Time // zero: live
}

const hostCols = `id, workspace_id, arn, name, kind, product, aws_account_id, region, status, identifiers, roles, tags, metadata, integrations, first_seen_at, last_seen_at, deletion_detected_at, retired_at`

func scanHost(s interface{ Scan(...any) error }) (Host, error) {
	var h Host
	var first, last int64
	var detected, retired sql.NullInt64
	if err := s.Scan(&h.ID, &h.WorkspaceID, &h.ARN, &h.Name, &h.Kind, &h.Product, &h.AWSAccountID, &h.Region, &h.Status,
		&h.Identifiers, &h.Roles, &h.Tags, &h.Metadata, &h.Integrations, &first, &last, &detected, &retired); err != nil {
		return Host{}, mapErr(err)
	}
	h.FirstSeenAt, h.LastSeenAt = fromMillis(first), fromMillis(last)
	h.DeletionDetectedAt, h.RetiredAt = fromNullMillis(detected), fromNullMillis(retired)
	return h, nil
}

// CreateHost inserts a host; ErrConflict if a live host has the same ARN in
// the workspace.
func (q *Queries) CreateHost(ctx context.Context, h Host) error {
	_, err := q.exec(ctx, `INSERT INTO hosts (`+hostCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.ID, h.WorkspaceID, h.ARN, h.Name, h.Kind, h.Product, h.AWSAccountID, h.Region, h.Status, h.Identifiers, h.Roles, h.Tags,
		h.Metadata, h.Integrations, millis(h.FirstSeenAt), millis(h.LastSeenAt), nullMillis(h.DeletionDetectedAt), nullMillis(h.RetiredAt))
	return err
}

// UpdateHost rewrites a host.
func (q *Queries) UpdateHost(ctx context.Context, h Host) error {
	return q.execOne(ctx, `UPDATE hosts SET name = ?, kind = ?, status = ?, identifiers = ?, roles = ?, tags = ?, metadata = ?, integrations = ?,
		last_seen_at = ?, deletion_detected_at = ?, retired_at = ? WHERE id = ?`,
		h.Name, h.Kind, h.Status, h.Identifiers, h.Roles, h.Tags, h.Metadata, h.Integrations, millis(h.LastSeenAt),
		nullMillis(h.DeletionDetectedAt), nullMillis(h.RetiredAt), h.ID)
}

// GetHost returns one host.
func (q *Queries) GetHost(ctx context.Context, id string) (Host, error) {
	return scanHost(q.queryRow(ctx, `SELECT `+hostCols+` FROM hosts WHERE id = ?`, id))
}

// GetLiveHostByARN returns the live (not retired) host of a resource.
func (q *Queries) GetLiveHostByARN(ctx context.Context, ws, arn string) (Host, error) {
	return scanHost(q.queryRow(ctx, `SELECT `+hostCols+` FROM hosts WHERE workspace_id = ? AND arn = ? AND retired_at IS NULL`, ws, arn))
}

// ListHosts lists a workspace's hosts (all workspaces for ""), retired ones
// only when asked, by name.
func (q *Queries) ListHosts(ctx context.Context, ws string, withRetired bool) ([]Host, error) {
	query, args := `SELECT `+hostCols+` FROM hosts WHERE 1 = 1`, []any{}
	if ws != "" {
		query += ` AND workspace_id = ?`
		args = append(args, ws)
	}
	if !withRetired {
		query += ` AND retired_at IS NULL`
	}
	rows, err := q.query(ctx, query+` ORDER BY name, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Host
	for rows.Next() {
		h, err := scanHost(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// HostRole is a service:role pair hosts can be assigned to.
type HostRole struct {
	WorkspaceID string
	Service     string
	Role        string
	CreatedAt   time.Time
}

// EnsureHostRole creates a service:role of a workspace if missing; it
// reports whether it was created.
func (q *Queries) EnsureHostRole(ctx context.Context, r HostRole) (bool, error) {
	// DO NOTHING rather than catching the conflict: in a PostgreSQL
	// transaction a failed statement would abort the transaction.
	res, err := q.exec(ctx, `INSERT INTO host_roles (workspace_id, service, role, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (workspace_id, service, role) DO NOTHING`, r.WorkspaceID, r.Service, r.Role, millis(r.CreatedAt))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ListHostRoles lists a workspace's service:roles.
func (q *Queries) ListHostRoles(ctx context.Context, ws string) ([]HostRole, error) {
	rows, err := q.query(ctx, `SELECT workspace_id, service, role, created_at FROM host_roles WHERE workspace_id = ? ORDER BY service, role`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HostRole
	for rows.Next() {
		var r HostRole
		var t int64
		if err := rows.Scan(&r.WorkspaceID, &r.Service, &r.Role, &t); err != nil {
			return nil, err
		}
		r.CreatedAt = fromMillis(t)
		out = append(out, r)
	}
	return out, rows.Err()
}
