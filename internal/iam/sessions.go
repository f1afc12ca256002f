package iam

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Temporary credentials are an ASIA access key id, a secret and a session
// token. The token is the session itself, sealed: the JSON of sealedSession
// encrypted and authenticated with AES-256-GCM under the installation's
// secret key (package secrets, the key that seals access keys), with the
// access key id as associated data. So nothing about a session is stored,
// every node that shares the key can check it, a client can neither read
// the secret's neighbours nor change a bit of it (the seal would not open),
// and a token is bound to its own access key id. What still must hold when
// the token is used — the role or user exists, with the same unique id —
// is looked up on every request (cached for the IAM cache's TTL), so a
// session dies with its role.

// sessionAAD is the associated data prefix of session tokens.
const sessionAAD = "kansoku-sts-session/v1\x00"

// sealedSession is what a session token carries.
type sealedSession struct {
	Version int    `json:"v"`
	KeyID   string `json:"k"`
	Secret  string `json:"s"`
	auth.Session
}

// Credentials are temporary credentials as STS returns them.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// NewTemporaryAccessKeyID returns a fresh ASIA-style access key id.
func newTemporaryAccessKeyID() string {
	return "ASIA" + auth.NewAccessKeyID()[4:]
}

// mint seals a session into fresh credentials.
func (s *Service) mint(sess auth.Session) (Credentials, error) {
	id, secret := newTemporaryAccessKeyID(), auth.NewSecretAccessKey()
	plain, err := json.Marshal(sealedSession{Version: 1, KeyID: id, Secret: secret, Session: sess})
	if err != nil {
		return Credentials{}, fmt.Errorf("encode session: %w", err)
	}
	sealed, err := s.box.Seal(plain, []byte(sessionAAD+id))
	if err != nil {
		return Credentials{}, fmt.Errorf("seal session: %w", err)
	}
	return Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: base64.StdEncoding.EncodeToString(sealed), Expiration: sess.Expires}, nil
}

func invalidToken(format string, args ...any) error {
	return auth.AuthErr(auth.CodeUnrecognizedClient, "The security token included in the request is invalid: "+format, args...)
}

// openSession checks a session token against the access key id that
// claims it and returns the session and its secret.
func (s *Service) openSession(keyID, token string) (sealedSession, error) {
	if !auth.IsTemporaryKey(keyID) {
		return sealedSession{}, invalidToken("access key %s is a long-term key and takes no session token", keyID)
	}
	if token == "" {
		return sealedSession{}, invalidToken("temporary credentials (%s) need their session token (%s)", keyID, auth.SecurityTokenHeader)
	}
	if len(token) > auth.MaxSessionTokenLength {
		return sealedSession{}, invalidToken("the session token is too long")
	}
	sealed, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return sealedSession{}, invalidToken("the session token is malformed")
	}
	plain, err := s.box.Open(sealed, []byte(sessionAAD+keyID))
	if err != nil {
		return sealedSession{}, invalidToken("the session token was not issued for access key %s or was altered", keyID)
	}
	var ss sealedSession
	if err := json.Unmarshal(plain, &ss); err != nil || ss.Version != 1 || ss.KeyID != keyID {
		return sealedSession{}, invalidToken("the session token is malformed")
	}
	if !s.now().Before(ss.Expires) {
		return sealedSession{}, auth.AuthErr(auth.CodeExpiredToken, "The security token included in the request is expired")
	}
	return ss, nil
}

// SessionCredentials implements auth.CredentialStore.
func (s *Service) SessionCredentials(ctx context.Context, keyID, token string) (*auth.Identity, string, error) {
	ss, err := s.openSession(keyID, token)
	if err != nil {
		return nil, "", err
	}
	sess := ss.Session
	if sess.RoleID != "" {
		r, err := s.cachedRole(ctx, sess.RoleID)
		if err != nil {
			return nil, "", err
		}
		if r == nil || r.Name != sess.RoleName {
			return nil, "", invalidToken("the role %s of this session no longer exists", sess.RoleARN)
		}
		return &auth.Identity{
			PrincipalID:   sess.RoleID + ":" + sess.SessionName,
			PrincipalName: sess.RoleName + "/" + sess.SessionName,
			PrincipalARN:  s.assumedRoleARN(sess.RoleName, sess.SessionName),
			Type:          auth.TypeAssumedRole, Session: &sess,
		}, ss.Secret, nil
	}
	p, err := s.cachedPrincipal(ctx, sess.UserID)
	if err != nil {
		return nil, "", err
	}
	if p == nil {
		return nil, "", invalidToken("the user of this session no longer exists")
	}
	return &auth.Identity{PrincipalID: p.ID, PrincipalName: p.Name, PrincipalARN: p.ARN, Type: auth.TypeUser, Session: &sess}, ss.Secret, nil
}

// assumedRoleARN is a role session's ARN.
func (s *Service) assumedRoleARN(role, session string) string {
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", s.accountID, role, session)
}

type cachedEntry[T any] struct {
	v  *T // nil: not found
	at time.Time
}

// ttlCache is a small map whose entries live for the IAM cache's TTL. It
// holds at most max entries (default 100,000) and starts afresh beyond, so
// a caller spraying keys bounds its memory, not its correctness.
type ttlCache[T any] struct {
	m   map[string]cachedEntry[T]
	max int
}

func (c *ttlCache[T]) get(key string, now time.Time, ttl time.Duration) (*T, bool) {
	e, ok := c.m[key]
	if !ok || now.Sub(e.at) > ttl {
		return nil, false
	}
	return e.v, true
}

func (c *ttlCache[T]) put(key string, v *T, now time.Time) {
	limit := c.max
	if limit == 0 {
		limit = 100000
	}
	if c.m == nil || len(c.m) >= limit { // bound memory against id spraying
		c.m = map[string]cachedEntry[T]{}
	}
	c.m[key] = cachedEntry[T]{v: v, at: now}
}

func (c *ttlCache[T]) forget(key string) { delete(c.m, key) }

func (c *ttlCache[T]) flush() { c.m = nil }

// cachedRole returns a role by id, nil when it does not exist.
func (s *Service) cachedRole(ctx context.Context, id string) (*metastore.Role, error) {
	now := s.now()
	s.mu.Lock()
	r, ok := s.roleCache.get(id, now, s.cacheTTL)
	s.mu.Unlock()
	if ok {
		return r, nil
	}
	got, err := s.store.GetRole(ctx, id)
	switch {
	case errors.Is(err, metastore.ErrNotFound):
		r = nil
	case err != nil:
		return nil, fmt.Errorf("look up role %s: %w", id, err)
	default:
		r = &got
	}
	s.mu.Lock()
	s.roleCache.put(id, r, now)
	s.mu.Unlock()
	return r, nil
}

// cachedPrincipal returns a user by id, nil when it does not exist.
func (s *Service) cachedPrincipal(ctx context.Context, id string) (*metastore.Principal, error) {
	now := s.now()
	s.mu.Lock()
	p, ok := s.userCache.get(id, now, s.cacheTTL)
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	got, err := s.store.GetPrincipal(ctx, id)
	switch {
	case errors.Is(err, metastore.ErrNotFound):
		p = nil
	case err != nil:
		return nil, fmt.Errorf("look up user %s: %w", id, err)
	default:
		p = &got
	}
	s.mu.Lock()
	s.userCache.put(id, p, now)
	s.mu.Unlock()
	return p, nil
}
