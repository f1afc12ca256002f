package metastore

import (
	"context"
	"time"
)

// Policy is a customer-managed IAM-style policy.
type Policy struct {
	ARN         string
	Name        string
	Description string
	Document    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// DefaultVersion is the version in force ("v1" ...); Document is its text.
	DefaultVersion string
}

const policyCols = `arn, name, description, document, created_at, updated_at`

// policySelect reads a policy with its default version.
const policySelect = `SELECT ` + policyCols + `, COALESCE(s.default_version, 'v1')
	FROM policies LEFT JOIN policy_version_state s ON s.policy_arn = policies.arn`

func scanPolicy(s interface{ Scan(...any) error }) (Policy, error) {
	var p Policy
	var c, u int64
	if err := s.Scan(&p.ARN, &p.Name, &p.Description, &p.Document, &c, &u, &p.DefaultVersion); err != nil {
		return Policy{}, mapErr(err)
	}
	p.CreatedAt, p.UpdatedAt = fromMillis(c), fromMillis(u)
	return p, nil
}

// CreatePolicy inserts a policy and its version v1; ErrConflict if the
// name is taken.
func (q *Queries) CreatePolicy(ctx context.Context, p Policy) error {
	if _, err := q.exec(ctx, `INSERT INTO policies (`+policyCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		p.ARN, p.Name, p.Description, p.Document, millis(p.CreatedAt), millis(p.UpdatedAt)); err != nil {
		return err
	}
	if _, err := q.exec(ctx, `INSERT INTO policy_version_state (policy_arn, default_version, next_version) VALUES (?, 'v1', 2)`, p.ARN); err != nil {
		return err
	}
	_, err := q.exec(ctx, `INSERT INTO policy_versions (policy_arn, version_id, document, created_at) VALUES (?, 'v1', ?, ?)`,
		p.ARN, p.Document, millis(p.CreatedAt))
	return err
}

// GetPolicy returns a customer policy by ARN.
func (q *Queries) GetPolicy(ctx context.Context, arn string) (Policy, error) {
	return scanPolicy(q.queryRow(ctx, policySelect+` WHERE policies.arn = ?`, arn))
}

// ListPolicies returns the customer policies by name.
func (q *Queries) ListPolicies(ctx context.Context) ([]Policy, error) {
	rows, err := q.query(ctx, policySelect+` ORDER BY policies.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Policy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UpdatePolicyDocument replaces a policy's document.
func (q *Queries) UpdatePolicyDocument(ctx context.Context, arn, doc string, at time.Time) error {
	return q.execOne(ctx, `UPDATE policies SET document = ?, updated_at = ? WHERE arn = ?`, doc, millis(at), arn)
}

// DeletePolicy removes a customer policy.
func (q *Queries) DeletePolicy(ctx context.Context, arn string) error {
	return q.execOne(ctx, `DELETE FROM policies WHERE arn = ?`, arn)
}

// AttachPolicy attaches a policy to a principal (idempotent).
func (q *Queries) AttachPolicy(ctx context.Context, principalID, policyARN string, at time.Time) error {
	_, err := q.exec(ctx, `INSERT INTO policy_attachments (principal_id, policy_arn, attached_at) VALUES (?, ?, ?)
		ON CONFLICT (principal_id, policy_arn) DO UPDATE SET attached_at = excluded.attached_at`, principalID, policyARN, millis(at))
	return err
}

// DetachPolicy detaches a policy; ErrNotFound if it was not attached.
func (q *Queries) DetachPolicy(ctx context.Context, principalID, policyARN string) error {
	return q.execOne(ctx, `DELETE FROM policy_attachments WHERE principal_id = ? AND policy_arn = ?`, principalID, policyARN)
}

// AttachedPolicies lists the policy ARNs attached to a principal.
func (q *Queries) AttachedPolicies(ctx context.Context, principalID string) ([]string, error) {
	rows, err := q.query(ctx, `SELECT policy_arn FROM policy_attachments WHERE principal_id = ? ORDER BY policy_arn`, principalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CountPolicyAttachments counts the users and roles a policy is attached to.
func (q *Queries) CountPolicyAttachments(ctx context.Context, policyARN string) (int, error) {
	var n int
	err := q.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM policy_attachments WHERE policy_arn = ?)
		+ (SELECT COUNT(*) FROM role_policy_attachments WHERE policy_arn = ?)`, policyARN, policyARN).Scan(&n)
	return n, mapErr(err)
}
