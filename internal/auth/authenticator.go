package auth

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"
)

// Principal is what a credential store knows about the owner of a credential.
type Principal struct {
	ID   string
	Name string
	ARN  string
}

// CredentialStore looks credentials up. Implementations return *Error
// (UnrecognizedClientException) for unknown, inactive or expired credentials.
type CredentialStore interface {
	// AccessKeySecret returns the owner and plain secret of an access key.
	AccessKeySecret(ctx context.Context, accessKeyID string) (Principal, string, error)
	// APIToken returns the owner and stored hash of a token.
	APIToken(ctx context.Context, tokenID string) (Principal, []byte, error)
	// SessionCredentials opens the session token of temporary credentials
	// (an ASIA access key id) and returns whom they stand for and their
	// secret; *Error when the token is not this key's, was tampered with,
	// has expired, or its role or user is gone.
	SessionCredentials(ctx context.Context, accessKeyID, token string) (*Identity, string, error)
}

// IsTemporaryKey reports whether an access key id is temporary
// credentials' (AWS's ASIA prefix).
func IsTemporaryKey(id string) bool { return strings.HasPrefix(id, "ASIA") }

// SessionStore resolves web console sessions (package console).
type SessionStore interface {
	// Session returns who signed in (a user, or a role session signed in
	// with temporary credentials) and the CSRF token of the session a
	// cookie value names; *Error for unknown, expired or forged values.
	Session(ctx context.Context, cookie string) (*Identity, string, error)
}

// Web console session: the cookie that carries it, and the header that
// must repeat its CSRF token on every request that changes something.
const (
	SessionCookie = "kansoku_session"
	CSRFHeader    = "X-CSRF-Token"
)

// Authenticator turns a request into an Identity.
type Authenticator struct {
	AccountID string
	Store     CredentialStore
	SigV4     *SigV4Verifier
	// Sessions, when set, accepts web console session cookies.
	Sessions SessionStore
	// ExternalOrigin is the scheme://host[:port] clients use (the external
	// URL's), accepted as a console request's Origin besides the request's
	// own (behind a TLS-terminating proxy they differ in scheme).
	ExternalOrigin string
}

// NewAuthenticator builds an authenticator for service "aps" in region.
func NewAuthenticator(accountID, region string, store CredentialStore, now func() time.Time) *Authenticator {
	a := &Authenticator{AccountID: accountID, Store: store}
	a.SigV4 = &SigV4Verifier{
		Region:  region,
		Service: "aps",
		MaxSkew: 15 * time.Minute,
		Now:     now,
		Secret: func(ctx context.Context, id, token string) (string, error) {
			if token != "" || IsTemporaryKey(id) {
				_, secret, err := store.SessionCredentials(ctx, id, token)
				return secret, err
			}
			_, secret, err := store.AccessKeySecret(ctx, id)
			return secret, err
		},
	}
	return a
}

// Authenticate verifies r (whose body was read into body) and returns who
// sent it: Begin and Finish in one.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request, body []byte) (*Identity, error) {
	at, err := a.Begin(ctx, r)
	if err != nil {
		return nil, err
	}
	return at.Finish(ctx, body)
}

// Attempt is a request authenticated as far as its headers allow.
type Attempt struct {
	a   *Authenticator
	id  *Identity
	sig *Pending
}

// Identity is who sent the request when that is known before its body is
// read (bearer and basic tokens, console sessions, SigV4 with a declared
// payload hash); nil when the signature covers a body not yet read.
func (at *Attempt) Identity() *Identity { return at.id }

// ClaimedKey is the access key id or token id the request names.
func (at *Attempt) ClaimedKey() string {
	if at.sig != nil {
		return at.sig.KeyID()
	}
	if at.id != nil {
		return at.id.AccessKeyID
	}
	return ""
}

// Begin authenticates r from its headers alone: a request that fails here
// is refused before its body is read. Bearer tokens are accepted as
// "Authorization: Bearer <token>" and, for clients that only do basic auth
// (promtool's URL user info, Grafana), as the password of HTTP basic auth.
func (a *Authenticator) Begin(ctx context.Context, r *http.Request) (*Attempt, error) {
	return a.BeginFor(ctx, r, nil)
}

// BeginFor is Begin for a route that accepts SigV4 scopes of the given
// services (nil: aps only).
func (a *Authenticator) BeginFor(ctx context.Context, r *http.Request, services []string) (*Attempt, error) {
	if IsSigV4(r) {
		p, err := a.SigV4.BeginScoped(ctx, r, services)
		if err != nil {
			return nil, err
		}
		at := &Attempt{a: a, sig: p}
		if p.Verified() {
			id, err := a.sigV4Identity(ctx, p)
			if err != nil {
				return nil, err
			}
			at.id = id
		}
		return at, nil
	}
	token, ok := bearerToken(r)
	if !ok {
		if c, err := r.Cookie(SessionCookie); err == nil && a.Sessions != nil && r.Header.Get("Authorization") == "" {
			id, err := a.authenticateSession(ctx, r, c.Value)
			if err != nil {
				return nil, err
			}
			return &Attempt{a: a, id: id}, nil
		}
		return nil, authErr(CodeMissingAuth, "Request is missing Authentication Token: sign it with SigV4 (service aps) or send 'Authorization: Bearer <token>'")
	}
	id, err := a.authenticateToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return &Attempt{a: a, id: id}, nil
}

// Finish completes the authentication with the request's body.
func (at *Attempt) Finish(ctx context.Context, body []byte) (*Identity, error) {
	if at.sig == nil {
		return at.id, nil
	}
	if err := at.sig.Finish(body); err != nil {
		return nil, err
	}
	if at.id != nil {
		return at.id, nil
	}
	return at.a.sigV4Identity(ctx, at.sig)
}

func (a *Authenticator) sigV4Identity(ctx context.Context, sig *Pending) (*Identity, error) {
	keyID, token := sig.KeyID(), sig.SessionToken()
	if token != "" || IsTemporaryKey(keyID) {
		id, _, err := a.Store.SessionCredentials(ctx, keyID, token)
		if err != nil {
			return nil, err
		}
		id.AccountID, id.AccessKeyID, id.Method, id.Service = a.AccountID, keyID, MethodSigV4, sig.Service()
		return id, nil
	}
	p, _, err := a.Store.AccessKeySecret(ctx, keyID)
	if err != nil {
		return nil, err
	}
	return &Identity{AccountID: a.AccountID, PrincipalID: p.ID, PrincipalName: p.Name, PrincipalARN: p.ARN,
		AccessKeyID: keyID, Method: MethodSigV4, Type: TypeUser, Service: sig.Service()}, nil
}

// authenticateSession accepts a console session cookie. Requests that may
// change something must carry the session's CSRF token in X-CSRF-Token and,
// when the browser sends an Origin, come from this server's own origin
// (the cookie is also SameSite=Strict).
func (a *Authenticator) authenticateSession(ctx context.Context, r *http.Request, cookie string) (*Identity, error) {
	id, csrf, err := a.Sessions.Session(ctx, cookie)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if got := r.Header.Get(CSRFHeader); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(csrf)) != 1 {
			return nil, authErr(CodeMissingAuth, "The console request lacks its CSRF token (header %s): reload the console", CSRFHeader)
		}
		if o := r.Header.Get("Origin"); o != "" && !a.sameOrigin(r, o) {
			return nil, authErr(CodeMissingAuth, "The console request comes from another origin (%s)", o)
		}
	}
	id.AccountID, id.Method = a.AccountID, MethodSession
	if id.Type == "" {
		id.Type = TypeUser
	}
	return id, nil
}

// sameOrigin reports whether a browser's Origin is this server: the
// request's own scheme and host, or the external URL's origin. An opaque
// "null" origin (sandboxed frames, some redirects) is not.
func (a *Authenticator) sameOrigin(r *http.Request, origin string) bool {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if strings.EqualFold(origin, scheme+"://"+r.Host) {
		return true
	}
	return a.ExternalOrigin != "" && strings.EqualFold(origin, a.ExternalOrigin)
}

func (a *Authenticator) authenticateToken(ctx context.Context, token string) (*Identity, error) {
	id, secret, ok := ParseAPIToken(token)
	if !ok {
		return nil, authErr(CodeUnrecognizedClient, "The API token is malformed: tokens start with %q (create one with `kansoku token create`)", TokenPrefix)
	}
	p, hash, err := a.Store.APIToken(ctx, id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(HashTokenSecret(secret), hash) != 1 {
		return nil, authErr(CodeUnrecognizedClient, "The API token is invalid")
	}
	return &Identity{AccountID: a.AccountID, PrincipalID: p.ID, PrincipalName: p.Name, PrincipalARN: p.ARN,
		AccessKeyID: id, Method: MethodToken}, nil
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, rest, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "bearer":
		t := strings.TrimSpace(rest)
		return t, t != ""
	case "basic":
		_, pass, ok := r.BasicAuth()
		return pass, ok && pass != ""
	}
	return "", false
}

// ErrUnknownAccessKey is the error for an access key id nobody issued.
func ErrUnknownAccessKey(id string) *Error {
	return authErr(CodeUnrecognizedClient, "The security token included in the request is invalid: access key %s is not known to this installation", id)
}

// ErrInactiveAccessKey is the error for a deactivated access key.
func ErrInactiveAccessKey(id string) *Error {
	return authErr(CodeUnrecognizedClient, "The security token included in the request is invalid: access key %s is inactive", id)
}

// ErrUnknownToken is the error for a token id nobody issued or that was revoked.
func ErrUnknownToken() *Error {
	return authErr(CodeUnrecognizedClient, "The API token is invalid or was revoked")
}

// ErrExpiredToken is the error for an expired token.
func ErrExpiredToken() *Error {
	return authErr(CodeUnrecognizedClient, "The API token has expired")
}
