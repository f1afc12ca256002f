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
	SetConsolePassword(ctx context.Context, p metastore.ConsolePassword) error
	GetConsolePassword(ctx context.Context, principalID string) (metastore.ConsolePassword, error)
	GetPrincipal(ctx context.Context, id string) (metastore.Principal, error)
	GetPrincipalByName(ctx context.Context, name string) (metastore.Principal, error)
}

// Credentials verifies access keys (iam.Service).
type Credentials interface {
	AccessKeySecret(ctx context.Context, accessKeyID string) (auth.Principal, string, error)
}

// Sign-in methods.
const (
	MethodAccessKey = "access-key"
	MethodPassword  = "password"
)

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

	mu       sync.Mutex
	limiters map[string]*rate.Limiter // sign-in attempts per source IP
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
	return &Sessions{store: store, creds: creds, o: o, limiters: map[string]*rate.Limiter{}}
}

// ErrSignIn is the one answer to every failed sign-in (it does not say
// whether the user or key exists).
var ErrSignIn = errors.New("sign-in failed: unknown access key or user, or wrong secret or password")

// ErrThrottled is returned when a source tries to sign in too often.
var ErrThrottled = errors.New("too many sign-in attempts from this address; wait a minute")

// SignInInput is what the sign-in form sends: an access key, or a user
// name and password.
type SignInInput struct {
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	User            string `json:"user,omitempty"`
	Password        string `json:"password,omitempty"`
}

// Session is a new session: the cookie value to set and its CSRF token.
type Session struct {
	Cookie    string
	CSRFToken string
	Principal auth.Principal
	Method    string
	ExpiresAt time.Time
}

// allow applies the per-IP sign-in rate limit (10 per minute, burst 5).
func (s *Sessions) allow(ip string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[ip]
	if !ok {
		if len(s.limiters) > 10000 {
			s.limiters = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(rate.Every(6*time.Second), 5)
		s.limiters[ip] = l
	}
	return l.Allow()
}

// SignIn verifies credentials and opens a session.
func (s *Sessions) SignIn(ctx context.Context, in SignInInput, sourceIP string) (Session, error) {
	if !s.allow(sourceIP) {
		return Session{}, ErrThrottled
	}
	var p auth.Principal
	method := ""
	switch {
	case in.AccessKeyID != "":
		principal, secret, err := s.creds.AccessKeySecret(ctx, in.AccessKeyID)
		if err != nil || subtle.ConstantTimeCompare([]byte(secret), []byte(in.SecretAccessKey)) != 1 {
			return Session{}, ErrSignIn
		}
		p, method = principal, MethodAccessKey
	case in.User != "":
		mp, err := s.store.GetPrincipalByName(ctx, in.User)
		if err != nil {
			verifyPassword(dummyPassword, in.Password) // same work whether or not the user exists
			return Session{}, ErrSignIn
		}
		pw, err := s.store.GetConsolePassword(ctx, mp.ID)
		if err != nil {
			verifyPassword(dummyPassword, in.Password)
			return Session{}, ErrSignIn
		}
		if !verifyPassword(pw, in.Password) {
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
func (s *Sessions) Session(ctx context.Context, cookie string) (auth.Principal, string, error) {
	rec, err := s.lookup(ctx, cookie)
	if err != nil {
		return auth.Principal{}, "", err
	}
	mp, err := s.store.GetPrincipal(ctx, rec.PrincipalID)
	if err != nil {
		return auth.Principal{}, "", sessionErr("The console session's user no longer exists")
	}
	return auth.Principal{ID: mp.ID, Name: mp.Name, ARN: mp.ARN}, rec.CSRFToken, nil
}

// Info describes the session a cookie names (for the console after a reload).
func (s *Sessions) Info(ctx context.Context, cookie string) (metastore.ConsoleSession, error) {
	return s.lookup(ctx, cookie)
}

// SignOut ends the session a cookie names.
func (s *Sessions) SignOut(ctx context.Context, cookie string) error {
	id, _, _ := strings.Cut(cookie, ".")
	return s.store.DeleteConsoleSession(ctx, id)
}

// SetPassword sets a user's console password.
func (s *Sessions) SetPassword(ctx context.Context, user, password string) error {
	if n := len([]rune(password)); n < 12 || n > 256 {
		return fmt.Errorf("a console password has 12 to 256 characters")
	}
	mp, err := s.store.GetPrincipalByName(ctx, user)
	if err != nil {
		return err
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	hash, err := pbkdf2.Key(sha256.New, password, salt, passwordIterations, 32)
	if err != nil {
		return err
	}
	return s.store.SetConsolePassword(ctx, metastore.ConsolePassword{PrincipalID: mp.ID, Hash: hash, Salt: salt,
		Iterations: passwordIterations, UpdatedAt: s.o.Now().UTC()})
}

// Run removes expired sessions every 10 minutes until ctx ends.
func (s *Sessions) Run(ctx context.Context) error {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if _, err := s.store.DeleteExpiredConsoleSessions(ctx, s.o.Now()); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("remove expired console sessions", "err", err)
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
