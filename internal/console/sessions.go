// Package console is Kansoku's web console: the single-page application
// under /console/ (embedded static files, no build step, no CDN), its
// sign-in sessions (an access key id and secret, or a password set with
// `kansoku console set-password`), and the dashboards it saves. The console
// calls the same APIs as every other client — control plane, Prometheus and
// Alertmanager APIs, admin API — authenticated by a session cookie
// (HttpOnly, SameSite=Strict, Secure under TLS) with a CSRF token on every
// change, and authorized by the same IAM policies.
package console

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Store is the metadata the console keeps.
type Store interface {
	CreateConsoleSession(ctx context.Context, s metastore.ConsoleSession) error
	GetConsoleSession(ctx context.Context, id string) (metastore.ConsoleSession, error)
	TouchConsoleSession(ctx context.Context, id string, at time.Time) error
	DeleteConsoleSession(ctx context.Context, id string) error
	DeleteExpiredConsoleSessions(ctx context.Context, now time.Time) (int64, error)
	DeleteConsoleSessionsOf(ctx context.Context, principalID, keep string) (int64, error)
	SetConsolePassword(ctx context.Context, p metastore.ConsolePassword) error
	GetConsolePassword(ctx context.Context, principalID string) (metastore.ConsolePassword, error)
	GetPrincipal(ctx context.Context, id string) (metastore.Principal, error)
	GetPrincipalByName(ctx context.Context, name string) (metastore.Principal, error)
	CreateConsoleRoleSession(ctx context.Context, s metastore.ConsoleRoleSession) error
	GetConsoleRoleSession(ctx context.Context, id string) (metastore.ConsoleRoleSession, error)
	TouchConsoleRoleSession(ctx context.Context, id string, at time.Time) error
	DeleteConsoleRoleSession(ctx context.Context, id string) error
	DeleteExpiredConsoleRoleSessions(ctx context.Context, now time.Time) (int64, error)
}

// Credentials verifies access keys and temporary credentials (iam.Service).
type Credentials interface {
	AccessKeySecret(ctx context.Context, accessKeyID string) (auth.Principal, string, error)
	SessionCredentials(ctx context.Context, accessKeyID, token string) (*auth.Identity, string, error)
}

// Sign-in methods.
const (
	MethodAccessKey   = "access-key"
	MethodPassword    = "password"
	MethodRoleSession = "role-session"
)

// roleCookie starts the cookie of a console session signed in with
// temporary credentials.
const roleCookie = "sts."

// Options configure sessions.
type Options struct {
	// TTL is a session's absolute lifetime (12h); Idle ends a session
	// unused that long (1h).
	TTL, Idle time.Duration
	Logger    *slog.Logger
	Now       func() time.Time
}

// Sessions manages console sign-in.
type Sessions struct {
	store Store
	creds Credentials
	o     Options

	// Failed sign-ins are throttled per source address and per user name
	// (successes cost nothing); password checks (PBKDF2, ~0.1 s of CPU
	// each) run at most two at a time.
	byIP, byUser *failures
	pbkdf2       chan struct{}
}

// NewSessions returns the session manager.
func NewSessions(store Store, creds Credentials, o Options) *Sessions {
	if o.TTL == 0 {
		o.TTL = 12 * time.Hour
	}
	if o.Idle == 0 {
		o.Idle = time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Sessions{store: store, creds: creds, o: o,
		byIP:   newFailures(rate.Every(6*time.Second), 10, maxTracked),
		byUser: newFailures(rate.Every(3*time.Second), 20, maxTracked),
		pbkdf2: make(chan struct{}, 2)}
}

// maxTracked bounds the addresses and user names whose failures are kept.
const maxTracked = 10000

// ErrSignIn is the one answer to every failed sign-in (it does not say
// whether the user or key exists).
var ErrSignIn = errors.New("sign-in failed: unknown access key or user, or wrong secret or password")

// ErrThrottled is returned when a source, or attempts on one user, failed
// to sign in too often.
var ErrThrottled = errors.New("too many failed sign-in attempts from this address or for this user; wait a minute")

// SignInInput is what the sign-in form sends: an access key, or a user
// name and password.
type SignInInput struct {
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	// SessionToken comes with temporary credentials (aws sts assume-role).
	SessionToken string `json:"sessionToken,omitempty"`
	User         string `json:"user,omitempty"`
	Password     string `json:"password,omitempty"`
}

// Session is a new session: the cookie value to set and its CSRF token.
type Session struct {
	Cookie    string
	CSRFToken string
	Principal auth.Principal
	Method    string
	ExpiresAt time.Time
}

// failures is a token bucket of failed sign-ins per key (an address or a
// user name). Only failures take tokens; a key whose bucket is full is as
// good as forgotten, so when more than max keys are tracked those go
// first, then the ones idle longest — never all of them at once.
type failures struct {
	every rate.Limit
	burst int
	max   int

	mu   sync.Mutex
	keys map[string]*failureBucket
}

type failureBucket struct {
	l    *rate.Limiter
	last time.Time
}

func newFailures(every rate.Limit, burst, max int) *failures {
	return &failures{every: every, burst: burst, max: max, keys: map[string]*failureBucket{}}
}

// blocked reports whether key has no failure left to spend.
func (f *failures) blocked(key string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.keys[key]
	return ok && b.l.TokensAt(now) < 1
}

// fail records a failure of key.
func (f *failures) fail(key string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.keys[key]
	if !ok {
		if len(f.keys) >= f.max {
			f.evict(now)
		}
		b = &failureBucket{l: rate.NewLimiter(f.every, f.burst)}
		f.keys[key] = b
	}
	b.last = now
	b.l.AllowN(now, 1)
}

func (f *failures) evict(now time.Time) {
	for k, b := range f.keys {
		if b.l.TokensAt(now) >= float64(f.burst) {
			delete(f.keys, k)
		}
	}
	for len(f.keys) >= f.max {
		oldest, at := "", now
		for k, b := range f.keys {
			if b.last.Before(at) || oldest == "" {
				oldest, at = k, b.last
			}
		}
		delete(f.keys, oldest)
	}
}

// SignIn verifies credentials and opens a session.
func (s *Sessions) SignIn(ctx context.Context, in SignInInput, sourceIP string) (Session, error) {
	now := s.o.Now()
	user := in.User
	if in.AccessKeyID != "" {
		user = "key:" + in.AccessKeyID
	}
	if s.byIP.blocked(sourceIP, now) || s.byUser.blocked(user, now) {
		return Session{}, ErrThrottled
	}
	sess, err := s.signIn(ctx, in)
	if errors.Is(err, ErrSignIn) {
		s.byIP.fail(sourceIP, now)
		s.byUser.fail(user, now)
	}
	return sess, err
}

// checkPassword verifies a password with at most two PBKDF2 computations
// running at once across the server.
func (s *Sessions) checkPassword(ctx context.Context, p metastore.ConsolePassword, password string) (bool, error) {
	select {
	case s.pbkdf2 <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-time.After(10 * time.Second):
		return false, ErrThrottled
	}
	defer func() { <-s.pbkdf2 }()
	return verifyPassword(p, password), nil
}

func (s *Sessions) signIn(ctx context.Context, in SignInInput) (Session, error) {
	var p auth.Principal
	method := ""
	switch {
	case in.AccessKeyID != "" && (in.SessionToken != "" || auth.IsTemporaryKey(in.AccessKeyID)):
		return s.signInRoleSession(ctx, in)
	case in.AccessKeyID != "":
		principal, secret, err := s.creds.AccessKeySecret(ctx, in.AccessKeyID)
		if err != nil || subtle.ConstantTimeCompare([]byte(secret), []byte(in.SecretAccessKey)) != 1 {
			return Session{}, ErrSignIn
		}
		p, method = principal, MethodAccessKey
	case in.User != "":
		pw := dummyPassword // the same work whether or not the user and password exist
		mp, err := s.store.GetPrincipalByName(ctx, in.User)
		if err == nil {
			if stored, err := s.store.GetConsolePassword(ctx, mp.ID); err == nil {
				pw = stored
			}
		}
		ok, cerr := s.checkPassword(ctx, pw, in.Password)
		if cerr != nil {
			return Session{}, cerr
		}
		if !ok || err != nil || pw.PrincipalID == "" {
			return Session{}, ErrSignIn
		}
		p, method = auth.Principal{ID: mp.ID, Name: mp.Name, ARN: mp.ARN}, MethodPassword
	default:
		return Session{}, ErrSignIn
	}
	now := s.o.Now().UTC()
	id, secret, csrf := randomToken(12), randomToken(24), randomToken(24)
	rec := metastore.ConsoleSession{ID: id, SecretHash: hashSecret(secret), PrincipalID: p.ID, CSRFToken: csrf, Method: method,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.o.TTL)}
	if err := s.store.CreateConsoleSession(ctx, rec); err != nil {
		return Session{}, err
	}
	return Session{Cookie: id + "." + secret, CSRFToken: csrf, Principal: p, Method: method, ExpiresAt: rec.ExpiresAt}, nil
}

func sessionErr(msg string) error {
	return &auth.Error{Code: auth.CodeUnrecognizedClient, Message: msg}
}

// lookup resolves a cookie value to its live session.
func (s *Sessions) lookup(ctx context.Context, cookie string) (metastore.ConsoleSession, error) {
	id, secret, ok := strings.Cut(cookie, ".")
	if !ok || id == "" || secret == "" {
		return metastore.ConsoleSession{}, sessionErr("The console session is invalid: sign in again")
	}
	rec, err := s.store.GetConsoleSession(ctx, id)
	if err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return metastore.ConsoleSession{}, sessionErr("The console session has ended: sign in again")
		}
		return metastore.ConsoleSession{}, err
	}
	if subtle.ConstantTimeCompare(hashSecret(secret), rec.SecretHash) != 1 {
		return metastore.ConsoleSession{}, sessionErr("The console session is invalid: sign in again")
	}
	now := s.o.Now()
	if !now.Before(rec.ExpiresAt) || now.Sub(rec.LastSeenAt) > s.o.Idle {
		_ = s.store.DeleteConsoleSession(ctx, id)
		return metastore.ConsoleSession{}, sessionErr("The console session has expired: sign in again")
	}
	if now.Sub(rec.LastSeenAt) > time.Minute {
		_ = s.store.TouchConsoleSession(ctx, id, now.UTC())
	}
	return rec, nil
}

// Session implements auth.SessionStore.
func (s *Sessions) Session(ctx context.Context, cookie string) (*auth.Identity, string, error) {
	if rest, ok := strings.CutPrefix(cookie, roleCookie); ok {
		rec, id, err := s.lookupRole(ctx, rest)
		if err != nil {
			return nil, "", err
		}
		return id, rec.CSRFToken, nil
	}
	rec, err := s.lookup(ctx, cookie)
	if err != nil {
		return nil, "", err
	}
	mp, err := s.store.GetPrincipal(ctx, rec.PrincipalID)
	if err != nil {
		return nil, "", sessionErr("The console session's user no longer exists")
	}
	return &auth.Identity{PrincipalID: mp.ID, PrincipalName: mp.Name, PrincipalARN: mp.ARN, Type: auth.TypeUser}, rec.CSRFToken, nil
}

// Info describes the session a cookie names (for the console after a reload).
func (s *Sessions) Info(ctx context.Context, cookie string) (metastore.ConsoleSession, error) {
	if rest, ok := strings.CutPrefix(cookie, roleCookie); ok {
		rec, _, err := s.lookupRole(ctx, rest)
		if err != nil {
			return metastore.ConsoleSession{}, err
		}
		return metastore.ConsoleSession{ID: rec.ID, CSRFToken: rec.CSRFToken, Method: MethodRoleSession, CreatedAt: rec.CreatedAt,
			LastSeenAt: rec.LastSeenAt, ExpiresAt: rec.ExpiresAt}, nil
	}
	return s.lookup(ctx, cookie)
}

// SignOut ends the session a cookie names.
func (s *Sessions) SignOut(ctx context.Context, cookie string) error {
	if rest, ok := strings.CutPrefix(cookie, roleCookie); ok {
		id, _, _ := strings.Cut(rest, ".")
		return s.store.DeleteConsoleRoleSession(ctx, id)
	}
	id, _, _ := strings.Cut(cookie, ".")
	return s.store.DeleteConsoleSession(ctx, id)
}

// signInRoleSession opens a console session with temporary credentials
// (the key id, secret and session token of aws sts assume-role). It ends
// when they expire, and every request checks them again (their role must
// still exist).
func (s *Sessions) signInRoleSession(ctx context.Context, in SignInInput) (Session, error) {
	id, secret, err := s.creds.SessionCredentials(ctx, in.AccessKeyID, in.SessionToken)
	if err != nil || subtle.ConstantTimeCompare([]byte(secret), []byte(in.SecretAccessKey)) != 1 {
		return Session{}, ErrSignIn
	}
	now := s.o.Now().UTC()
	expires := now.Add(s.o.TTL)
	if id.Session != nil && id.Session.Expires.Before(expires) {
		expires = id.Session.Expires
	}
	sid, cookieSecret, csrf := randomToken(12), randomToken(24), randomToken(24)
	rec := metastore.ConsoleRoleSession{ID: sid, SecretHash: hashSecret(cookieSecret), AccessKeyID: in.AccessKeyID, SessionToken: in.SessionToken,
		CSRFToken: csrf, CreatedAt: now, LastSeenAt: now, ExpiresAt: expires}
	if err := s.store.CreateConsoleRoleSession(ctx, rec); err != nil {
		return Session{}, err
	}
	return Session{Cookie: roleCookie + sid + "." + cookieSecret, CSRFToken: csrf, Method: MethodRoleSession, ExpiresAt: expires,
		Principal: auth.Principal{ID: id.PrincipalID, Name: id.PrincipalName, ARN: id.PrincipalARN}}, nil
}

// lookupRole resolves a role session's cookie (after its prefix) and
// checks its credentials again.
func (s *Sessions) lookupRole(ctx context.Context, cookie string) (metastore.ConsoleRoleSession, *auth.Identity, error) {
	sid, secret, ok := strings.Cut(cookie, ".")
	if !ok || sid == "" || secret == "" {
		return metastore.ConsoleRoleSession{}, nil, sessionErr("The console session is invalid: sign in again")
	}
	rec, err := s.store.GetConsoleRoleSession(ctx, sid)
	if err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return rec, nil, sessionErr("The console session has ended: sign in again")
		}
		return rec, nil, err
	}
	if subtle.ConstantTimeCompare(hashSecret(secret), rec.SecretHash) != 1 {
		return rec, nil, sessionErr("The console session is invalid: sign in again")
	}
	now := s.o.Now()
	if !now.Before(rec.ExpiresAt) || now.Sub(rec.LastSeenAt) > s.o.Idle {
		_ = s.store.DeleteConsoleRoleSession(ctx, sid)
		return rec, nil, sessionErr("The console session has expired: sign in again")
	}
	id, _, err := s.creds.SessionCredentials(ctx, rec.AccessKeyID, rec.SessionToken)
	if err != nil {
		_ = s.store.DeleteConsoleRoleSession(ctx, sid)
		return rec, nil, sessionErr("The console session's credentials no longer work: sign in again")
	}
	if now.Sub(rec.LastSeenAt) > time.Minute {
		_ = s.store.TouchConsoleRoleSession(ctx, sid, now.UTC())
	}
	return rec, id, nil
}

// ErrCurrentPassword is returned when a user changing their own password
// gives a wrong current one.
var ErrCurrentPassword = errors.New("the current password is wrong")

// PasswordChange is a request to set a user's console password.
type PasswordChange struct {
	User     string
	Password string
	// Self: the caller is the user, signed in to the console. A user who
	// already has a password must then give it (Current), so a stolen
	// session cannot lock its owner out, and the caller's own session
	// (KeepSession, a session id) stays signed in. A caller with an access
	// key or API token (an administrator resetting a password, the CLI)
	// needs only the permission.
	Self        bool
	Current     string
	KeepSession string
}

// SetPassword sets a user's console password and ends the user's other
// sessions, so whoever knew the old password is signed out.
func (s *Sessions) SetPassword(ctx context.Context, c PasswordChange) error {
	if n := len([]rune(c.Password)); n < 12 || n > 256 {
		return fmt.Errorf("a console password has 12 to 256 characters")
	}
	mp, err := s.store.GetPrincipalByName(ctx, c.User)
	if err != nil {
		return err
	}
	if c.Self {
		if old, err := s.store.GetConsolePassword(ctx, mp.ID); err == nil {
			ok, err := s.checkPassword(ctx, old, c.Current)
			if err != nil {
				return err
			}
			if !ok {
				return ErrCurrentPassword
			}
		} else if !errors.Is(err, metastore.ErrNotFound) {
			return err
		}
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	hash, err := pbkdf2.Key(sha256.New, c.Password, salt, passwordIterations, 32)
	if err != nil {
		return err
	}
	if err := s.store.SetConsolePassword(ctx, metastore.ConsolePassword{PrincipalID: mp.ID, Hash: hash, Salt: salt,
		Iterations: passwordIterations, UpdatedAt: s.o.Now().UTC()}); err != nil {
		return err
	}
	keep := ""
	if c.Self {
		keep = c.KeepSession
	}
	if _, err := s.store.DeleteConsoleSessionsOf(ctx, mp.ID, keep); err != nil {
		return fmt.Errorf("password set, but ending the user's sessions failed: %w", err)
	}
	return nil
}

// SessionID returns the session id a cookie value names (not verified).
func SessionID(cookie string) string {
	id, _, _ := strings.Cut(cookie, ".")
	return id
}

// Run removes expired sessions every 10 minutes until ctx ends.
func (s *Sessions) Run(ctx context.Context) error {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if _, err := s.store.DeleteExpiredConsoleSessions(ctx, s.o.Now()); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("remove expired console sessions", "err", err)
		}
		if _, err := s.store.DeleteExpiredConsoleRoleSessions(ctx, s.o.Now()); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("remove expired console role sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// passwordIterations is PBKDF2-SHA256's work factor (OWASP 2023: 600,000).
const passwordIterations = 600_000

var dummyPassword = metastore.ConsolePassword{Hash: make([]byte, 32), Salt: make([]byte, 16), Iterations: passwordIterations}

func verifyPassword(p metastore.ConsolePassword, password string) bool {
	got, err := pbkdf2.Key(sha256.New, password, p.Salt, p.Iterations, len(p.Hash))
	return err == nil && subtle.ConstantTimeCompare(got, p.Hash) == 1
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
