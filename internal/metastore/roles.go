package metastore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is an IAM role: an identity that principals named by its trust
// policy assume for a while, through STS.
type Role struct {
	ID                string
	Name              string
	ARN               string
	Path              string
	Description       string
	TrustPolicy       string
	MaxSessionSeconds int64
	CreatedAt         time.Time
}

const roleCols = `id, name, arn, path, description, trust_policy, max_session_seconds, created_at`

func scanRole(s interface{ Scan(...any) error }) (Role, error) {
	var r Role
	var created int64
	if err := s.Scan(&r.ID, &r.Name, &r.ARN, &r.Path, &r.Description, &r.TrustPolicy, &r.MaxSessionSeconds, &created); err != nil {
		return Role{}, mapErr(err)
	}
	r.CreatedAt = fromMillis(created)
	return r, nil
}

// CreateRole inserts a role; ErrConflict if its name is taken in any case
// (IAM role names are unique without regard to case).
func (q *Queries) CreateRole(ctx context.Context, r Role) error {
	_, err := q.exec(ctx, `INSERT INTO roles (id, name, name_key, arn, path, description, trust_policy, max_session_seconds, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Name, strings.ToLower(r.Name), r.ARN, r.Path, r.Description, r.TrustPolicy, r.MaxSessionSeconds, millis(r.CreatedAt))
	return err
}

// GetRole returns a role by id.
func (q *Queries) GetRole(ctx context.Context, id string) (Role, error) {
	return scanRole(q.queryRow(ctx, `SELECT `+roleCols+` FROM roles WHERE id = ?`, id))
}

// GetRoleByName returns a role by name, matched without regard to case.
func (q *Queries) GetRoleByName(ctx context.Context, name string) (Role, error) {
	return scanRole(q.queryRow(ctx, `SELECT `+roleCols+` FROM roles WHERE name_key = ?`, strings.ToLower(name)))
}

// ListRoles returns every role, by name.
func (q *Queries) ListRoles(ctx context.Context) ([]Role, error) {
	rows, err := q.query(ctx, `SELECT `+roleCols+` FROM roles ORDER BY name_key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UpdateRole sets a role's description and maximum session duration.
func (q *Queries) UpdateRole(ctx context.Context, id, description string, maxSessionSeconds int64) error {
	return q.execOne(ctx, `UPDATE roles SET description = ?, max_session_seconds = ? WHERE id = ?`, description, maxSessionSeconds, id)
}

// UpdateRoleTrustPolicy replaces a role's trust policy.
func (q *Queries) UpdateRoleTrustPolicy(ctx context.Context, id, doc string) error {
	return q.execOne(ctx, `UPDATE roles SET trust_policy = ? WHERE id = ?`, doc, id)
}

// DeleteRole removes a role with its attachments (cascade), its inline
// policies and its tags.
func (q *Queries) DeleteRole(ctx context.Context, id string) error {
	r, err := q.GetRole(ctx, id)
	if err != nil {
		return err
	}
	if _, err := q.exec(ctx, `DELETE FROM inline_policies WHERE owner_id = ?`, id); err != nil {
		return err
	}
	if err := q.DeleteTags(ctx, r.ARN); err != nil {
		return err
	}
	return q.execOne(ctx, `DELETE FROM roles WHERE id = ?`, id)
}

// AttachRolePolicy attaches a managed policy to a role (again: no error).
func (q *Queries) AttachRolePolicy(ctx context.Context, roleID, policyARN string, at time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO role_policy_attachments (role_id, policy_arn, attached_at) VALUES (?, ?, ?)
		ON CONFLICT (role_id, policy_arn) DO NOTHING`, roleID, policyARN, millis(at))
	return err
}

// DetachRolePolicy detaches a policy; ErrNotFound if it was not attached.
func (q *Queries) DetachRolePolicy(ctx context.Context, roleID, policyARN string) error {
	return q.execOne(ctx, `DELETE FROM role_policy_attachments WHERE role_id = ? AND policy_arn = ?`, roleID, policyARN)
}

// RoleAttachedPolicies lists the policy ARNs attached to a role.
func (q *Queries) RoleAttachedPolicies(ctx context.Context, roleID string) ([]string, error) {
	return q.strings(ctx, `SELECT policy_arn FROM role_policy_attachments WHERE role_id = ? ORDER BY policy_arn`, roleID)
}

func (q *Queries) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// InlinePolicy is a policy embedded in one user or role.
type InlinePolicy struct {
	Name      string
	Document  string
	UpdatedAt time.Time
}

// PutInlinePolicy adds or replaces an inline policy of a user or role.
func (q *Queries) PutInlinePolicy(ctx context.Context, ownerID, name, doc string, at time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO inline_policies (owner_id, name, document, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (owner_id, name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
		ownerID, name, doc, millis(at))
	return err
}

// GetInlinePolicy returns one inline policy.
func (q *Queries) GetInlinePolicy(ctx context.Context, ownerID, name string) (InlinePolicy, error) {
	var p InlinePolicy
	var at int64
	err := q.queryRow(ctx, `SELECT name, document, updated_at FROM inline_policies WHERE owner_id = ? AND name = ?`, ownerID, name).
		Scan(&p.Name, &p.Document, &at)
	if err != nil {
		return InlinePolicy{}, mapErr(err)
	}
	p.UpdatedAt = fromMillis(at)
	return p, nil
}

// ListInlinePolicies returns the inline policies of a user or role, by name.
func (q *Queries) ListInlinePolicies(ctx context.Context, ownerID string) ([]InlinePolicy, error) {
	rows, err := q.query(ctx, `SELECT name, document, updated_at FROM inline_policies WHERE owner_id = ? ORDER BY name`, ownerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []InlinePolicy
	for rows.Next() {
		var p InlinePolicy
		var at int64
		if err := rows.Scan(&p.Name, &p.Document, &at); err != nil {
			return nil, err
		}
		p.UpdatedAt = fromMillis(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeleteInlinePolicy removes one inline policy; ErrNotFound if absent.
func (q *Queries) DeleteInlinePolicy(ctx context.Context, ownerID, name string) error {
	return q.execOne(ctx, `DELETE FROM inline_policies WHERE owner_id = ? AND name = ?`, ownerID, name)
}

// DeleteInlinePolicies removes every inline policy of a user or role.
func (q *Queries) DeleteInlinePolicies(ctx context.Context, ownerID string) error {
	_, err := q.exec(ctx, `DELETE FROM inline_policies WHERE owner_id = ?`, ownerID)
	return err
}

// PolicyVersion is one version of a customer-managed policy.
type PolicyVersion struct {
	VersionID string
	Document  string
	IsDefault bool
	CreatedAt time.Time
}

// ListPolicyVersions returns a policy's versions, newest first.
func (q *Queries) ListPolicyVersions(ctx context.Context, arn string) ([]PolicyVersion, error) {
	p, err := q.GetPolicy(ctx, arn)
	if err != nil {
		return nil, err
	}
	rows, err := q.query(ctx, `SELECT version_id, document, created_at FROM policy_versions WHERE policy_arn = ? ORDER BY created_at DESC, version_id DESC`, arn)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PolicyVersion
	for rows.Next() {
		var v PolicyVersion
		var at int64
		if err := rows.Scan(&v.VersionID, &v.Document, &at); err != nil {
			return nil, err
		}
		v.CreatedAt, v.IsDefault = fromMillis(at), v.VersionID == p.DefaultVersion
		out = append(out, v)
	}
	return out, rows.Err()
}

// GetPolicyVersion returns one version of a policy.
func (q *Queries) GetPolicyVersion(ctx context.Context, arn, versionID string) (PolicyVersion, error) {
	p, err := q.GetPolicy(ctx, arn)
	if err != nil {
		return PolicyVersion{}, err
	}
	var v PolicyVersion
	var at int64
	err = q.queryRow(ctx, `SELECT version_id, document, created_at FROM policy_versions WHERE policy_arn = ? AND version_id = ?`, arn, versionID).
		Scan(&v.VersionID, &v.Document, &at)
	if err != nil {
		return PolicyVersion{}, mapErr(err)
	}
	v.CreatedAt, v.IsDefault = fromMillis(at), v.VersionID == p.DefaultVersion
	return v, nil
}

// ErrLimitExceeded is returned when a policy already has maxVersions versions.
var ErrLimitExceeded = errors.New("limit exceeded")

// CreatePolicyVersion adds a version to a policy (v2, v3 ...), at most
// maxVersions of them, making it the default when asked. It returns the
// new version's id.
func (db *DB) CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool, maxVersions int, at time.Time) (string, error) {
	var id string
	err := db.InTx(ctx, func(q *Queries) error {
		var next int64
		if err := q.queryRow(ctx, `SELECT next_version FROM policy_version_state WHERE policy_arn = ?`, arn).Scan(&next); err != nil {
			return mapErr(err)
		}
		var n int
		if err := q.queryRow(ctx, `SELECT COUNT(*) FROM policy_versions WHERE policy_arn = ?`, arn).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n >= maxVersions {
			return ErrLimitExceeded
		}
		id = fmt.Sprintf("v%d", next)
		if _, err := q.exec(ctx, `INSERT INTO policy_versions (policy_arn, version_id, document, created_at) VALUES (?, ?, ?, ?)`,
			arn, id, doc, millis(at)); err != nil {
			return err
		}
		if setDefault {
			if _, err := q.exec(ctx, `UPDATE policies SET document = ?, updated_at = ? WHERE arn = ?`, doc, millis(at), arn); err != nil {
				return err
			}
			_, err := q.exec(ctx, `UPDATE policy_version_state SET next_version = ?, default_version = ? WHERE policy_arn = ?`, next+1, id, arn)
			return err
		}
		_, err := q.exec(ctx, `UPDATE policy_version_state SET next_version = ? WHERE policy_arn = ?`, next+1, arn)
		return err
	})
	return id, err
}

// SetDefaultPolicyVersion makes a version the one in force.
func (db *DB) SetDefaultPolicyVersion(ctx context.Context, arn, versionID string, at time.Time) error {
	return db.InTx(ctx, func(q *Queries) error {
		v, err := q.GetPolicyVersion(ctx, arn, versionID)
		if err != nil {
			return err
		}
		if err := q.execOne(ctx, `UPDATE policies SET document = ?, updated_at = ? WHERE arn = ?`, v.Document, millis(at), arn); err != nil {
			return err
		}
		return q.execOne(ctx, `UPDATE policy_version_state SET default_version = ? WHERE policy_arn = ?`, v.VersionID, arn)
	})
}

// DeletePolicyVersion removes a version that is not the default; ErrConflict
// for the default version.
func (db *DB) DeletePolicyVersion(ctx context.Context, arn, versionID string) error {
	return db.InTx(ctx, func(q *Queries) error {
		v, err := q.GetPolicyVersion(ctx, arn, versionID)
		if err != nil {
			return err
		}
		if v.IsDefault {
			return ErrConflict
		}
		return q.execOne(ctx, `DELETE FROM policy_versions WHERE policy_arn = ? AND version_id = ?`, arn, versionID)
	})
}

// OIDCProvider is an OpenID Connect identity provider whose tokens
// AssumeRoleWithWebIdentity accepts.
type OIDCProvider struct {
	ARN         string
	URL         string
	ClientIDs   []string
	Thumbprints []string
	// JWKS is the provider's signing keys given inline (air-gapped
	// installations); empty: fetched from the issuer.
	JWKS      string
	CreatedAt time.Time
}

// CreateOIDCProvider inserts a provider; ErrConflict if its URL is known.
func (q *Queries) CreateOIDCProvider(ctx context.Context, p OIDCProvider) error {
	ids, _ := json.Marshal(nonNil(p.ClientIDs))
	tps, _ := json.Marshal(nonNil(p.Thumbprints))
	_, err := q.exec(ctx, `INSERT INTO oidc_providers (arn, url, client_ids, thumbprints, jwks, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.ARN, p.URL, string(ids), string(tps), p.JWKS, millis(p.CreatedAt))
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func scanOIDCProvider(s interface{ Scan(...any) error }) (OIDCProvider, error) {
	var p OIDCProvider
	var ids, tps string
	var at int64
	if err := s.Scan(&p.ARN, &p.URL, &ids, &tps, &p.JWKS, &at); err != nil {
		return OIDCProvider{}, mapErr(err)
	}
	if err := json.Unmarshal([]byte(ids), &p.ClientIDs); err != nil {
		return OIDCProvider{}, fmt.Errorf("client ids of %s: %w", p.ARN, err)
	}
	if err := json.Unmarshal([]byte(tps), &p.Thumbprints); err != nil {
		return OIDCProvider{}, fmt.Errorf("thumbprints of %s: %w", p.ARN, err)
	}
	p.CreatedAt = fromMillis(at)
	return p, nil
}

// GetOIDCProvider returns a provider by ARN.
func (q *Queries) GetOIDCProvider(ctx context.Context, arn string) (OIDCProvider, error) {
	return scanOIDCProvider(q.queryRow(ctx, `SELECT arn, url, client_ids, thumbprints, jwks, created_at FROM oidc_providers WHERE arn = ?`, arn))
}

// ListOIDCProviders returns every provider, by ARN.
func (q *Queries) ListOIDCProviders(ctx context.Context) ([]OIDCProvider, error) {
	rows, err := q.query(ctx, `SELECT arn, url, client_ids, thumbprints, jwks, created_at FROM oidc_providers ORDER BY arn`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OIDCProvider
	for rows.Next() {
		p, err := scanOIDCProvider(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdateOIDCProvider replaces a provider's client ids, thumbprints and
// inline keys.
func (q *Queries) UpdateOIDCProvider(ctx context.Context, p OIDCProvider) error {
	ids, _ := json.Marshal(nonNil(p.ClientIDs))
	tps, _ := json.Marshal(nonNil(p.Thumbprints))
	return q.execOne(ctx, `UPDATE oidc_providers SET client_ids = ?, thumbprints = ?, jwks = ? WHERE arn = ?`, string(ids), string(tps), p.JWKS, p.ARN)
}

// DeleteOIDCProvider removes a provider and its tags.
func (q *Queries) DeleteOIDCProvider(ctx context.Context, arn string) error {
	if err := q.DeleteTags(ctx, arn); err != nil {
		return err
	}
	return q.execOne(ctx, `DELETE FROM oidc_providers WHERE arn = ?`, arn)
}

// ResourcePolicy is a workspace's resource-based policy.
type ResourcePolicy struct {
	WorkspaceID string
	Document    string
	RevisionID  string
	UpdatedAt   time.Time
}

// NoPolicyRevision is the revision a caller names to require that a
// workspace has no policy yet (AMP's "NO_POLICY").
const NoPolicyRevision = "NO_POLICY"

// PutResourcePolicy stores a workspace's policy. expectRevision "" writes
// whatever is there, NoPolicyRevision only if there is none, any other
// value only if it is the current revision (ErrConflict otherwise).
func (q *Queries) PutResourcePolicy(ctx context.Context, p ResourcePolicy, expectRevision string) error {
	switch expectRevision {
	case "":
		_, err := q.exec(ctx, `INSERT INTO resource_policies (workspace_id, document, revision_id, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id) DO UPDATE SET document = excluded.document, revision_id = excluded.revision_id, updated_at = excluded.updated_at`,
			p.WorkspaceID, p.Document, p.RevisionID, millis(p.UpdatedAt))
		return err
	case NoPolicyRevision:
		_, err := q.exec(ctx, `INSERT INTO resource_policies (workspace_id, document, revision_id, updated_at) VALUES (?, ?, ?, ?)`,
			p.WorkspaceID, p.Document, p.RevisionID, millis(p.UpdatedAt))
		return err
	default:
		err := q.execOne(ctx, `UPDATE resource_policies SET document = ?, revision_id = ?, updated_at = ? WHERE workspace_id = ? AND revision_id = ?`,
			p.Document, p.RevisionID, millis(p.UpdatedAt), p.WorkspaceID, expectRevision)
		if errors.Is(err, ErrNotFound) {
			return ErrConflict
		}
		return err
	}
}

// GetResourcePolicy returns a workspace's policy.
func (q *Queries) GetResourcePolicy(ctx context.Context, workspaceID string) (ResourcePolicy, error) {
	var p ResourcePolicy
	var at int64
	err := q.queryRow(ctx, `SELECT workspace_id, document, revision_id, updated_at FROM resource_policies WHERE workspace_id = ?`, workspaceID).
		Scan(&p.WorkspaceID, &p.Document, &p.RevisionID, &at)
	if err != nil {
		return ResourcePolicy{}, mapErr(err)
	}
	p.UpdatedAt = fromMillis(at)
	return p, nil
}

// ListResourcePolicies returns every workspace's policy.
func (q *Queries) ListResourcePolicies(ctx context.Context) ([]ResourcePolicy, error) {
	rows, err := q.query(ctx, `SELECT workspace_id, document, revision_id, updated_at FROM resource_policies ORDER BY workspace_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ResourcePolicy
	for rows.Next() {
		var p ResourcePolicy
		var at int64
		if err := rows.Scan(&p.WorkspaceID, &p.Document, &p.RevisionID, &at); err != nil {
			return nil, err
		}
		p.UpdatedAt = fromMillis(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeleteResourcePolicy removes a workspace's policy; with expectRevision,
// only that revision (ErrConflict otherwise). ErrNotFound when none.
func (q *Queries) DeleteResourcePolicy(ctx context.Context, workspaceID, expectRevision string) error {
	if expectRevision == "" {
		return q.execOne(ctx, `DELETE FROM resource_policies WHERE workspace_id = ?`, workspaceID)
	}
	if _, err := q.GetResourcePolicy(ctx, workspaceID); err != nil {
		return err
	}
	err := q.execOne(ctx, `DELETE FROM resource_policies WHERE workspace_id = ? AND revision_id = ?`, workspaceID, expectRevision)
	if errors.Is(err, ErrNotFound) {
		return ErrConflict
	}
	return err
}
