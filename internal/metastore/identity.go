package metastore

import (
	"context"
	"database/sql"
	"time"
)

func nowMillis() int64 { return time.Now().UnixMilli() }

// Account is the installation's identity: what AWS calls the account.
type Account struct {
	ID        string
	Region    string
	CreatedAt time.Time
}

// GetAccount returns the installation's account, or ErrNotFound before the
// first start has initialised it.
func (q *Queries) GetAccount(ctx context.Context) (Account, error) {
	var a Account
	var created int64
	err := q.queryRow(ctx, `SELECT id, region, created_at FROM account LIMIT 1`).Scan(&a.ID, &a.Region, &created)
	if err != nil {
		return Account{}, mapErr(err)
	}
	a.CreatedAt = fromMillis(created)
	return a, nil
}

// CreateAccount records the installation's account. There is only ever one.
func (q *Queries) CreateAccount(ctx context.Context, a Account) error {
	_, err := q.exec(ctx, `INSERT INTO account (id, region, created_at) VALUES (?, ?, ?)`, a.ID, a.Region, millis(a.CreatedAt))
	return err
}

// Principal is a user of the account (an IAM user, in AWS terms).
type Principal struct {
	ID        string
	Name      string
	ARN       string
	CreatedAt time.Time
}

// CreatePrincipal inserts a principal; ErrConflict if the name is taken.
func (q *Queries) CreatePrincipal(ctx context.Context, p Principal) error {
	_, err := q.exec(ctx, `INSERT INTO principals (id, name, arn, created_at) VALUES (?, ?, ?, ?)`,
		p.ID, p.Name, p.ARN, millis(p.CreatedAt))
	return err
}

const principalCols = `id, name, arn, created_at`

func scanPrincipal(s interface{ Scan(...any) error }) (Principal, error) {
	var p Principal
	var created int64
	if err := s.Scan(&p.ID, &p.Name, &p.ARN, &created); err != nil {
		return Principal{}, mapErr(err)
	}
	p.CreatedAt = fromMillis(created)
	return p, nil
}

// GetPrincipal returns the principal with the given id.
func (q *Queries) GetPrincipal(ctx context.Context, id string) (Principal, error) {
	return scanPrincipal(q.queryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE id = ?`, id))
}

// GetPrincipalByName returns the principal with the given name.
func (q *Queries) GetPrincipalByName(ctx context.Context, name string) (Principal, error) {
	return scanPrincipal(q.queryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE name = ?`, name))
}

// ListPrincipals returns every principal, by name.
func (q *Queries) ListPrincipals(ctx context.Context) ([]Principal, error) {
	rows, err := q.query(ctx, `SELECT `+principalCols+` FROM principals ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Principal
	for rows.Next() {
		p, err := scanPrincipal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeletePrincipal removes a principal and, by cascade, its credentials and
// attachments; its inline policies and tags go too.
func (q *Queries) DeletePrincipal(ctx context.Context, id string) error {
	p, err := q.GetPrincipal(ctx, id)
	if err != nil {
		return err
	}
	if _, err := q.exec(ctx, `DELETE FROM inline_policies WHERE owner_id = ?`, id); err != nil {
		return err
	}
	if err := q.DeleteTags(ctx, p.ARN); err != nil {
		return err
	}
	return q.execOne(ctx, `DELETE FROM principals WHERE id = ?`, id)
}

// AccessKey is a SigV4 credential. The secret is stored sealed (encrypted).
type AccessKey struct {
	ID           string
	PrincipalID  string
	SecretSealed []byte
	Status       string // Active or Inactive, as IAM says
	CreatedAt    time.Time
	LastUsedAt   time.Time
}

// CreateAccessKey inserts an access key.
func (q *Queries) CreateAccessKey(ctx context.Context, k AccessKey) error {
	_, err := q.exec(ctx, `INSERT INTO access_keys (id, principal_id, secret_sealed, status, created_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.PrincipalID, k.SecretSealed, k.Status, millis(k.CreatedAt))
	return err
}

const accessKeyCols = `id, principal_id, secret_sealed, status, created_at, last_used_at`

func scanAccessKey(s interface{ Scan(...any) error }) (AccessKey, error) {
	var k AccessKey
	var created int64
	var used sql.NullInt64
	if err := s.Scan(&k.ID, &k.PrincipalID, &k.SecretSealed, &k.Status, &created, &used); err != nil {
		return AccessKey{}, mapErr(err)
	}
	k.CreatedAt = fromMillis(created)
	k.LastUsedAt = fromNullMillis(used)
	return k, nil
}

// GetAccessKey returns an access key by id.
func (q *Queries) GetAccessKey(ctx context.Context, id string) (AccessKey, error) {
	return scanAccessKey(q.queryRow(ctx, `SELECT `+accessKeyCols+` FROM access_keys WHERE id = ?`, id))
}

// ListAccessKeys returns the access keys of a principal, or of everyone when
// principalID is empty.
func (q *Queries) ListAccessKeys(ctx context.Context, principalID string) ([]AccessKey, error) {
	query := `SELECT ` + accessKeyCols + ` FROM access_keys`
	var args []any
	if principalID != "" {
		query += ` WHERE principal_id = ?`
		args = append(args, principalID)
	}
	rows, err := q.query(ctx, query+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AccessKey
	for rows.Next() {
		k, err := scanAccessKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// SetAccessKeyStatus activates or deactivates a key.
func (q *Queries) SetAccessKeyStatus(ctx context.Context, id, status string) error {
	return q.execOne(ctx, `UPDATE access_keys SET status = ? WHERE id = ?`, status, id)
}

// TouchAccessKey records that a key was used.
func (q *Queries) TouchAccessKey(ctx context.Context, id string, at time.Time) error {
	_, err := q.exec(ctx, `UPDATE access_keys SET last_used_at = ? WHERE id = ?`, millis(at), id)
	return err
}

// DeleteAccessKey removes an access key.
func (q *Queries) DeleteAccessKey(ctx context.Context, id string) error {
	return q.execOne(ctx, `DELETE FROM access_keys WHERE id = ?`, id)
}

// APIToken is a bearer token; only a hash of its secret part is stored.
type APIToken struct {
	ID          string
	PrincipalID string
	Name        string
	SecretHash  []byte
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: never
}

// CreateAPIToken inserts a token.
func (q *Queries) CreateAPIToken(ctx context.Context, t APIToken) error {
	_, err := q.exec(ctx, `INSERT INTO api_tokens (id, principal_id, name, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.PrincipalID, t.Name, t.SecretHash, millis(t.CreatedAt), nullMillis(t.ExpiresAt))
	return err
}

const apiTokenCols = `id, principal_id, name, secret_hash, created_at, expires_at`

func scanAPIToken(s interface{ Scan(...any) error }) (APIToken, error) {
	var t APIToken
	var created int64
	var expires sql.NullInt64
	if err := s.Scan(&t.ID, &t.PrincipalID, &t.Name, &t.SecretHash, &created, &expires); err != nil {
		return APIToken{}, mapErr(err)
	}
	t.CreatedAt = fromMillis(created)
	t.ExpiresAt = fromNullMillis(expires)
	return t, nil
}

// GetAPIToken returns a token by id.
func (q *Queries) GetAPIToken(ctx context.Context, id string) (APIToken, error) {
	return scanAPIToken(q.queryRow(ctx, `SELECT `+apiTokenCols+` FROM api_tokens WHERE id = ?`, id))
}

// ListAPITokens returns the tokens of a principal, or all when principalID is empty.
func (q *Queries) ListAPITokens(ctx context.Context, principalID string) ([]APIToken, error) {
	query := `SELECT ` + apiTokenCols + ` FROM api_tokens`
	var args []any
	if principalID != "" {
		query += ` WHERE principal_id = ?`
		args = append(args, principalID)
	}
	rows, err := q.query(ctx, query+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteAPIToken revokes a token.
func (q *Queries) DeleteAPIToken(ctx context.Context, id string) error {
	return q.execOne(ctx, `DELETE FROM api_tokens WHERE id = ?`, id)
}
