package metastore

import (
	"context"
	"time"
)

// ConsoleSession is a signed-in web console session. The cookie carries the
// id and a secret; only the secret's hash is stored.
type ConsoleSession struct {
	ID          string
	SecretHash  []byte
	PrincipalID string
	CSRFToken   string
	Method      string // access-key or password
	CreatedAt   time.Time
	LastSeenAt  time.Time
	ExpiresAt   time.Time
}

const consoleSessionCols = `id, secret_hash, principal_id, csrf_token, method, created_at, last_seen_at, expires_at`

// CreateConsoleSession stores a session.
func (q *Queries) CreateConsoleSession(ctx context.Context, s ConsoleSession) error {
	_, err := q.exec(ctx, `INSERT INTO console_sessions (`+consoleSessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.SecretHash, s.PrincipalID, s.CSRFToken, s.Method, millis(s.CreatedAt), millis(s.LastSeenAt), millis(s.ExpiresAt))
	return err
}

// GetConsoleSession returns a session.
func (q *Queries) GetConsoleSession(ctx context.Context, id string) (ConsoleSession, error) {
	var s ConsoleSession
	var c, l, e int64
	err := q.queryRow(ctx, `SELECT `+consoleSessionCols+` FROM console_sessions WHERE id = ?`, id).
		Scan(&s.ID, &s.SecretHash, &s.PrincipalID, &s.CSRFToken, &s.Method, &c, &l, &e)
	if err != nil {
		return ConsoleSession{}, mapErr(err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMillis(c), fromMillis(l), fromMillis(e)
	return s, nil
}

// TouchConsoleSession records activity on a session.
func (q *Queries) TouchConsoleSession(ctx context.Context, id string, at time.Time) error {
	return q.execOne(ctx, `UPDATE console_sessions SET last_seen_at = ? WHERE id = ?`, millis(at), id)
}

// DeleteConsoleSession signs a session out.
func (q *Queries) DeleteConsoleSession(ctx context.Context, id string) error {
	_, err := q.exec(ctx, `DELETE FROM console_sessions WHERE id = ?`, id)
	return err
}

// DeleteConsoleSessionsOf signs out every session of a principal except
// one (keep; "" for none), returning how many ended.
func (q *Queries) DeleteConsoleSessionsOf(ctx context.Context, principalID, keep string) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM console_sessions WHERE principal_id = ? AND id <> ?`, principalID, keep)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DeleteExpiredConsoleSessions removes sessions past their expiry.
func (q *Queries) DeleteExpiredConsoleSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= ?`, millis(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ConsolePassword is a principal's console password (PBKDF2-SHA256).
type ConsolePassword struct {
	PrincipalID string
	Hash        []byte
	Salt        []byte
	Iterations  int
	UpdatedAt   time.Time
}

// SetConsolePassword replaces a principal's password.
func (q *Queries) SetConsolePassword(ctx context.Context, p ConsolePassword) error {
	_, err := q.exec(ctx, `INSERT INTO console_passwords (principal_id, hash, salt, iterations, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (principal_id) DO UPDATE SET hash = excluded.hash, salt = excluded.salt, iterations = excluded.iterations, updated_at = excluded.updated_at`,
		p.PrincipalID, p.Hash, p.Salt, p.Iterations, millis(p.UpdatedAt))
	return err
}

// GetConsolePassword returns a principal's password record.
func (q *Queries) GetConsolePassword(ctx context.Context, principalID string) (ConsolePassword, error) {
	var p ConsolePassword
	var t int64
	err := q.queryRow(ctx, `SELECT principal_id, hash, salt, iterations, updated_at FROM console_passwords WHERE principal_id = ?`, principalID).
		Scan(&p.PrincipalID, &p.Hash, &p.Salt, &p.Iterations, &t)
	if err != nil {
		return ConsolePassword{}, mapErr(err)
	}
	p.UpdatedAt = fromMillis(t)
	return p, nil
}

// Dashboard is a saved dashboard of a workspace; Document is its JSON.
type Dashboard struct {
	ID          string
	WorkspaceID string
	Name        string
	Document    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int
}

const dashboardCols = `id, workspace_id, name, document, created_at, updated_at, version`

func scanDashboard(s interface{ Scan(...any) error }) (Dashboard, error) {
	var d Dashboard
	var c, u int64
	if err := s.Scan(&d.ID, &d.WorkspaceID, &d.Name, &d.Document, &c, &u, &d.Version); err != nil {
		return Dashboard{}, mapErr(err)
	}
	d.CreatedAt, d.UpdatedAt = fromMillis(c), fromMillis(u)
	return d, nil
}

// CreateDashboard stores a dashboard.
func (q *Queries) CreateDashboard(ctx context.Context, d Dashboard) error {
	_, err := q.exec(ctx, `INSERT INTO dashboards (`+dashboardCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.WorkspaceID, d.Name, d.Document, millis(d.CreatedAt), millis(d.UpdatedAt), d.Version)
	return err
}

// GetDashboard returns a dashboard of a workspace.
func (q *Queries) GetDashboard(ctx context.Context, ws, id string) (Dashboard, error) {
	return scanDashboard(q.queryRow(ctx, `SELECT `+dashboardCols+` FROM dashboards WHERE workspace_id = ? AND id = ?`, ws, id))
}

// ListDashboards lists a workspace's dashboards by name.
func (q *Queries) ListDashboards(ctx context.Context, ws string) ([]Dashboard, error) {
	rows, err := q.query(ctx, `SELECT `+dashboardCols+` FROM dashboards WHERE workspace_id = ? ORDER BY name, id`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Dashboard
	for rows.Next() {
		d, err := scanDashboard(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UpdateDashboard writes d if the stored version is expectVersion.
func (q *Queries) UpdateDashboard(ctx context.Context, d Dashboard, expectVersion int) error {
	res, err := q.exec(ctx, `UPDATE dashboards SET name = ?, document = ?, updated_at = ?, version = ? WHERE workspace_id = ? AND id = ? AND version = ?`,
		d.Name, d.Document, millis(d.UpdatedAt), d.Version, d.WorkspaceID, d.ID, expectVersion)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := q.GetDashboard(ctx, d.WorkspaceID, d.ID); err != nil {
			return err
		}
		return ErrConflict
	}
	return nil
}

// DeleteDashboard removes a dashboard.
func (q *Queries) DeleteDashboard(ctx context.Context, ws, id string) error {
	return q.execOne(ctx, `DELETE FROM dashboards WHERE workspace_id = ? AND id = ?`, ws, id)
}

// ConsoleRoleSession is a console session signed in with temporary
// credentials (a role session): the access key id and the session token
// (sealed by STS; useless without the secret, which is not stored) are
// kept so that every request checks the credentials again, and the
// console session ends with them.
type ConsoleRoleSession struct {
	ID           string
	SecretHash   []byte
	AccessKeyID  string
	SessionToken string
	CSRFToken    string
	CreatedAt    time.Time
	LastSeenAt   time.Time
	ExpiresAt    time.Time
}

// CreateConsoleRoleSession stores a role session of the console.
func (q *Queries) CreateConsoleRoleSession(ctx context.Context, s ConsoleRoleSession) error {
	_, err := q.exec(ctx, `INSERT INTO console_role_sessions (id, secret_hash, access_key_id, session_token, csrf_token, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.SecretHash, s.AccessKeyID, s.SessionToken, s.CSRFToken, millis(s.CreatedAt), millis(s.LastSeenAt), millis(s.ExpiresAt))
	return err
}

// GetConsoleRoleSession returns a role session of the console.
func (q *Queries) GetConsoleRoleSession(ctx context.Context, id string) (ConsoleRoleSession, error) {
	var s ConsoleRoleSession
	var c, l, e int64
	err := q.queryRow(ctx, `SELECT id, secret_hash, access_key_id, session_token, csrf_token, created_at, last_seen_at, expires_at
		FROM console_role_sessions WHERE id = ?`, id).Scan(&s.ID, &s.SecretHash, &s.AccessKeyID, &s.SessionToken, &s.CSRFToken, &c, &l, &e)
	if err != nil {
		return ConsoleRoleSession{}, mapErr(err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMillis(c), fromMillis(l), fromMillis(e)
	return s, nil
}

// TouchConsoleRoleSession records activity on a role session.
func (q *Queries) TouchConsoleRoleSession(ctx context.Context, id string, at time.Time) error {
	return q.execOne(ctx, `UPDATE console_role_sessions SET last_seen_at = ? WHERE id = ?`, millis(at), id)
}

// DeleteConsoleRoleSession signs a role session out.
func (q *Queries) DeleteConsoleRoleSession(ctx context.Context, id string) error {
	_, err := q.exec(ctx, `DELETE FROM console_role_sessions WHERE id = ?`, id)
	return err
}

// DeleteExpiredConsoleRoleSessions removes role sessions past their expiry.
func (q *Queries) DeleteExpiredConsoleRoleSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := q.exec(ctx, `DELETE FROM console_role_sessions WHERE expires_at <= ?`, millis(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
