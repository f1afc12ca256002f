// Package iam keeps the principals of the account and their credentials:
// SigV4 access keys (secrets sealed with package secrets) and bearer API
// tokens (hashed). It answers package auth's credential lookups through a
// short-lived cache, so that authenticating a remote_write does not cost a
// database round trip.
package iam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/iam/policy"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/secrets"
)

// Key statuses, as IAM names them.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// AdminUser is the principal created on first start.
const AdminUser = "admin"

var userNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// Store is the part of the metadata store this package uses.
type Store interface {
	CreatePrincipal(ctx context.Context, p metastore.Principal) error
	GetPrincipal(ctx context.Context, id string) (metastore.Principal, error)
	GetPrincipalByName(ctx context.Context, name string) (metastore.Principal, error)
	ListPrincipals(ctx context.Context) ([]metastore.Principal, error)
	DeletePrincipal(ctx context.Context, id string) error
	CreateAccessKey(ctx context.Context, k metastore.AccessKey) error
	GetAccessKey(ctx context.Context, id string) (metastore.AccessKey, error)
	ListAccessKeys(ctx context.Context, principalID string) ([]metastore.AccessKey, error)
	SetAccessKeyStatus(ctx context.Context, id, status string) error
	DeleteAccessKey(ctx context.Context, id string) error
	CreateAPIToken(ctx context.Context, t metastore.APIToken) error
	GetAPIToken(ctx context.Context, id string) (metastore.APIToken, error)
	ListAPITokens(ctx context.Context, principalID string) ([]metastore.APIToken, error)
	DeleteAPIToken(ctx context.Context, id string) error
	PolicyStore
	RoleStore
}

// RoleStore is the part of the metadata store that holds roles, inline
// policies, tags, OIDC providers and workspace resource policies.
type RoleStore interface {
	CreateRole(ctx context.Context, r metastore.Role) error
	GetRole(ctx context.Context, id string) (metastore.Role, error)
	GetRoleByName(ctx context.Context, name string) (metastore.Role, error)
	ListRoles(ctx context.Context) ([]metastore.Role, error)
	UpdateRole(ctx context.Context, id, description string, maxSessionSeconds int64) error
	UpdateRoleTrustPolicy(ctx context.Context, id, doc string) error
	DeleteRole(ctx context.Context, id string) error
	AttachRolePolicy(ctx context.Context, roleID, policyARN string, at time.Time) error
	DetachRolePolicy(ctx context.Context, roleID, policyARN string) error
	RoleAttachedPolicies(ctx context.Context, roleID string) ([]string, error)
	PutInlinePolicy(ctx context.Context, ownerID, name, doc string, at time.Time) error
	GetInlinePolicy(ctx context.Context, ownerID, name string) (metastore.InlinePolicy, error)
	ListInlinePolicies(ctx context.Context, ownerID string) ([]metastore.InlinePolicy, error)
	DeleteInlinePolicy(ctx context.Context, ownerID, name string) error
	ListPolicyVersions(ctx context.Context, arn string) ([]metastore.PolicyVersion, error)
	Tags(ctx context.Context, arn string) (map[string]string, error)
	SetTags(ctx context.Context, arn string, tags map[string]string) error
	RemoveTags(ctx context.Context, arn string, keys []string) error
	CreateOIDCProvider(ctx context.Context, p metastore.OIDCProvider) error
	GetOIDCProvider(ctx context.Context, arn string) (metastore.OIDCProvider, error)
	ListOIDCProviders(ctx context.Context) ([]metastore.OIDCProvider, error)
	UpdateOIDCProvider(ctx context.Context, p metastore.OIDCProvider) error
	DeleteOIDCProvider(ctx context.Context, arn string) error
	PutResourcePolicy(ctx context.Context, p metastore.ResourcePolicy, expectRevision string) error
	GetResourcePolicy(ctx context.Context, workspaceID string) (metastore.ResourcePolicy, error)
	DeleteResourcePolicy(ctx context.Context, workspaceID, expectRevision string) error
}

// Errors a caller maps to API errors.
var (
	ErrNotFound    = errors.New("not found")
	ErrExists      = errors.New("already exists")
	ErrInvalidName = errors.New("invalid name")
)

// Service manages principals and credentials.
type Service struct {
	store     Store
	box       *secrets.Box
	accountID string
	logger    *slog.Logger
	now       func() time.Time
	cacheTTL  time.Duration

	mu        sync.Mutex
	keys      map[string]cachedKey
	tokens    map[string]cachedToken
	roleCache ttlCache[metastore.Role]
	userCache ttlCache[metastore.Principal]
	tagCache  ttlCache[map[string]string]
	rpCache   ttlCache[policy.Policy]
	docCache  ttlCache[policy.Policy]

	policies policyCache
	versions versionStore
	oidc     *oidcKeys
	ops      map[string]queryOp
}

type cachedKey struct {
	principal auth.Principal
	secret    string
	active    bool
	found     bool
	at        time.Time
}

type cachedToken struct {
	principal auth.Principal
	hash      []byte
	expires   time.Time
	found     bool
	at        time.Time
}

// New returns a Service. cacheTTL bounds how long a credential change made
// by another node takes to be seen here (changes made through this node are
// seen at once).
func New(store Store, box *secrets.Box, accountID string, logger *slog.Logger, cacheTTL time.Duration) *Service {
	s := &Service{
		store: store, box: box, accountID: accountID, logger: logger, now: time.Now, cacheTTL: cacheTTL,
		keys: map[string]cachedKey{}, tokens: map[string]cachedToken{},
		policies: policyCache{m: map[string]cachedPolicies{}},
		// Session policies are cached by their hash: callers choose them,
		// so fewer are kept.
		docCache: ttlCache[policy.Policy]{max: 10000},
	}
	s.versions, _ = store.(versionStore)
	s.ops = queryOperations()
	s.oidc = newOIDCKeys(OIDCOptions{}, s.now)
	return s
}

// AccountID is the installation's account id.
func (s *Service) AccountID() string { return s.accountID }

// UserARN returns the ARN of a user of this account.
func (s *Service) UserARN(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:user/%s", s.accountID, name)
}

// CreateUser creates a principal.
func (s *Service) CreateUser(ctx context.Context, name string) (metastore.Principal, error) {
	if !userNameRE.MatchString(name) {
		return metastore.Principal{}, fmt.Errorf("%w: user names are 1-64 characters of letters, digits and +=,.@_-", ErrInvalidName)
	}
	p := metastore.Principal{ID: auth.NewPrincipalID(), Name: name, ARN: s.UserARN(name), CreatedAt: s.now().UTC()}
	if err := s.store.CreatePrincipal(ctx, p); err != nil {
		if errors.Is(err, metastore.ErrConflict) {
			return metastore.Principal{}, fmt.Errorf("user %q: %w", name, ErrExists)
		}
		return metastore.Principal{}, fmt.Errorf("create user %q: %w", name, err)
	}
	return p, nil
}

// User returns a principal by name.
func (s *Service) User(ctx context.Context, name string) (metastore.Principal, error) {
	p, err := s.store.GetPrincipalByName(ctx, name)
	if errors.Is(err, metastore.ErrNotFound) {
		return p, fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	return p, err
}

// Users lists the principals.
func (s *Service) Users(ctx context.Context) ([]metastore.Principal, error) {
	return s.store.ListPrincipals(ctx)
}

// DeleteUser removes a user and its credentials.
func (s *Service) DeleteUser(ctx context.Context, name string) error {
	p, err := s.User(ctx, name)
	if err != nil {
		return err
	}
	if err := s.store.DeletePrincipal(ctx, p.ID); err != nil {
		return fmt.Errorf("delete user %q: %w", name, err)
	}
	s.flushCache()
	s.forgetPolicies(p.ID)
	return nil
}

// NewKey is a freshly minted access key; Secret is shown once and never again.
type NewKey struct {
	AccessKeyID     string
	SecretAccessKey string
	UserName        string
	CreatedAt       time.Time
}

// CreateAccessKey mints an access key for a user.
func (s *Service) CreateAccessKey(ctx context.Context, userName string) (NewKey, error) {
	p, err := s.User(ctx, userName)
	if err != nil {
		return NewKey{}, err
	}
	return s.createAccessKey(ctx, p, auth.NewAccessKeyID(), auth.NewSecretAccessKey())
}

func (s *Service) createAccessKey(ctx context.Context, p metastore.Principal, id, secret string) (NewKey, error) {
	sealed, err := s.box.Seal([]byte(secret), []byte(id))
	if err != nil {
		return NewKey{}, err
	}
	now := s.now().UTC()
	if err := s.store.CreateAccessKey(ctx, metastore.AccessKey{ID: id, PrincipalID: p.ID, SecretSealed: sealed, Status: StatusActive, CreatedAt: now}); err != nil {
		return NewKey{}, fmt.Errorf("create access key for %q: %w", p.Name, err)
	}
	s.forgetKey(id)
	return NewKey{AccessKeyID: id, SecretAccessKey: secret, UserName: p.Name, CreatedAt: now}, nil
}

// KeyInfo describes an access key without its secret.
type KeyInfo struct {
	AccessKeyID string
	UserName    string
	Status      string
	CreatedAt   time.Time
	LastUsedAt  time.Time
}

// AccessKeys lists keys of a user, or of everyone when userName is empty.
func (s *Service) AccessKeys(ctx context.Context, userName string) ([]KeyInfo, error) {
	names, err := s.principalNames(ctx)
	if err != nil {
		return nil, err
	}
	pid := ""
	if userName != "" {
		p, err := s.User(ctx, userName)
		if err != nil {
			return nil, err
		}
		pid = p.ID
	}
	keys, err := s.store.ListAccessKeys(ctx, pid)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		out = append(out, KeyInfo{AccessKeyID: k.ID, UserName: names[k.PrincipalID], Status: k.Status, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt})
	}
	return out, nil
}

// KeyOwner returns the user name owning an access key.
func (s *Service) KeyOwner(ctx context.Context, accessKeyID string) (string, error) {
	k, err := s.store.GetAccessKey(ctx, accessKeyID)
	if errors.Is(err, metastore.ErrNotFound) {
		return "", fmt.Errorf("access key %s: %w", accessKeyID, ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	p, err := s.store.GetPrincipal(ctx, k.PrincipalID)
	if err != nil {
		return "", err
	}
	return p.Name, nil
}

// TokenOwner returns the user name of an API token's owner.
func (s *Service) TokenOwner(ctx context.Context, tokenID string) (string, error) {
	t, err := s.store.GetAPIToken(ctx, tokenID)
	if errors.Is(err, metastore.ErrNotFound) {
		return "", fmt.Errorf("API token %s: %w", tokenID, ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	p, err := s.store.GetPrincipal(ctx, t.PrincipalID)
	if err != nil {
		return "", err
	}
	return p.Name, nil
}

// SetAccessKeyStatus activates or deactivates a key.
func (s *Service) SetAccessKeyStatus(ctx context.Context, accessKeyID, status string) error {
	if status != StatusActive && status != StatusInactive {
		return fmt.Errorf("status must be %s or %s", StatusActive, StatusInactive)
	}
	err := s.store.SetAccessKeyStatus(ctx, accessKeyID, status)
	s.forgetKey(accessKeyID)
	if errors.Is(err, metastore.ErrNotFound) {
		return fmt.Errorf("access key %s: %w", accessKeyID, ErrNotFound)
	}
	return err
}

// DeleteAccessKey removes a key; requests signed with it fail at once on this node.
func (s *Service) DeleteAccessKey(ctx context.Context, accessKeyID string) error {
	err := s.store.DeleteAccessKey(ctx, accessKeyID)
	s.forgetKey(accessKeyID)
	if errors.Is(err, metastore.ErrNotFound) {
		return fmt.Errorf("access key %s: %w", accessKeyID, ErrNotFound)
	}
	return err
}

// NewToken is a freshly minted API token; Token is shown once.
type NewToken struct {
	ID        string
	Token     string
	Name      string
	UserName  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateAPIToken mints a bearer token for a user. ttl 0 means no expiry.
func (s *Service) CreateAPIToken(ctx context.Context, userName, name string, ttl time.Duration) (NewToken, error) {
	p, err := s.User(ctx, userName)
	if err != nil {
		return NewToken{}, err
	}
	if name == "" {
		name = "token"
	}
	if len(name) > 128 {
		return NewToken{}, fmt.Errorf("%w: token names are at most 128 characters", ErrInvalidName)
	}
	id, tok, hash := auth.NewAPIToken()
	now := s.now().UTC()
	t := metastore.APIToken{ID: id, PrincipalID: p.ID, Name: name, SecretHash: hash, CreatedAt: now}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	if err := s.store.CreateAPIToken(ctx, t); err != nil {
		return NewToken{}, fmt.Errorf("create API token for %q: %w", userName, err)
	}
	s.forgetToken(id)
	return NewToken{ID: id, Token: tok, Name: name, UserName: p.Name, CreatedAt: now, ExpiresAt: t.ExpiresAt}, nil
}

// TokenInfo describes a token without its secret.
type TokenInfo struct {
	ID        string
	Name      string
	UserName  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APITokens lists tokens of a user, or of everyone when userName is empty.
func (s *Service) APITokens(ctx context.Context, userName string) ([]TokenInfo, error) {
	names, err := s.principalNames(ctx)
	if err != nil {
		return nil, err
	}
	pid := ""
	if userName != "" {
		p, err := s.User(ctx, userName)
		if err != nil {
			return nil, err
		}
		pid = p.ID
	}
	toks, err := s.store.ListAPITokens(ctx, pid)
	if err != nil {
		return nil, err
	}
	out := make([]TokenInfo, 0, len(toks))
	for _, t := range toks {
		out = append(out, TokenInfo{ID: t.ID, Name: t.Name, UserName: names[t.PrincipalID], CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt})
	}
	return out, nil
}

// DeleteAPIToken revokes a token.
func (s *Service) DeleteAPIToken(ctx context.Context, id string) error {
	err := s.store.DeleteAPIToken(ctx, id)
	s.forgetToken(id)
	if errors.Is(err, metastore.ErrNotFound) {
		return fmt.Errorf("API token %s: %w", id, ErrNotFound)
	}
	return err
}

func (s *Service) principalNames(ctx context.Context) (map[string]string, error) {
	ps, err := s.store.ListPrincipals(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p.ID] = p.Name
	}
	return m, nil
}

// AccessKeySecret implements auth.CredentialStore.
func (s *Service) AccessKeySecret(ctx context.Context, id string) (auth.Principal, string, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.keys[id]
	s.mu.Unlock()
	if !ok || now.Sub(c.at) > s.cacheTTL {
		var err error
		c, err = s.loadKey(ctx, id)
		if err != nil {
			return auth.Principal{}, "", err
		}
		c.at = now
		s.mu.Lock()
		if len(s.keys) > 100000 { // bound memory against key-id spraying
			s.keys = map[string]cachedKey{}
		}
		s.keys[id] = c
		s.mu.Unlock()
	}
	if !c.found {
		return auth.Principal{}, "", auth.ErrUnknownAccessKey(id)
	}
	if !c.active {
		return auth.Principal{}, "", auth.ErrInactiveAccessKey(id)
	}
	return c.principal, c.secret, nil
}

func (s *Service) loadKey(ctx context.Context, id string) (cachedKey, error) {
	k, err := s.store.GetAccessKey(ctx, id)
	if errors.Is(err, metastore.ErrNotFound) {
		return cachedKey{}, nil
	}
	if err != nil {
		return cachedKey{}, fmt.Errorf("look up access key: %w", err)
	}
	p, err := s.store.GetPrincipal(ctx, k.PrincipalID)
	if err != nil {
		return cachedKey{}, fmt.Errorf("look up owner of access key: %w", err)
	}
	secret, err := s.box.Open(k.SecretSealed, []byte(k.ID))
	if err != nil {
		return cachedKey{}, fmt.Errorf("open secret of access key %s: %w", k.ID, err)
	}
	return cachedKey{
		principal: auth.Principal{ID: p.ID, Name: p.Name, ARN: p.ARN},
		secret:    string(secret), active: k.Status == StatusActive, found: true,
	}, nil
}

// APIToken implements auth.CredentialStore.
func (s *Service) APIToken(ctx context.Context, id string) (auth.Principal, []byte, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.tokens[id]
	s.mu.Unlock()
	if !ok || now.Sub(c.at) > s.cacheTTL {
		t, err := s.store.GetAPIToken(ctx, id)
		switch {
		case errors.Is(err, metastore.ErrNotFound):
			c = cachedToken{}
		case err != nil:
			return auth.Principal{}, nil, fmt.Errorf("look up API token: %w", err)
		default:
			p, err := s.store.GetPrincipal(ctx, t.PrincipalID)
			if err != nil {
				return auth.Principal{}, nil, fmt.Errorf("look up owner of API token: %w", err)
			}
			c = cachedToken{principal: auth.Principal{ID: p.ID, Name: p.Name, ARN: p.ARN}, hash: t.SecretHash, expires: t.ExpiresAt, found: true}
		}
		c.at = now
		s.mu.Lock()
		if len(s.tokens) > 100000 {
			s.tokens = map[string]cachedToken{}
		}
		s.tokens[id] = c
		s.mu.Unlock()
	}
	if !c.found {
		return auth.Principal{}, nil, auth.ErrUnknownToken()
	}
	if !c.expires.IsZero() && now.After(c.expires) {
		return auth.Principal{}, nil, auth.ErrExpiredToken()
	}
	return c.principal, c.hash, nil
}

func (s *Service) forgetKey(id string) {
	s.mu.Lock()
	delete(s.keys, id)
	s.mu.Unlock()
}

func (s *Service) forgetToken(id string) {
	s.mu.Lock()
	delete(s.tokens, id)
	s.mu.Unlock()
}

func (s *Service) flushCache() {
	s.mu.Lock()
	s.keys = map[string]cachedKey{}
	s.tokens = map[string]cachedToken{}
	s.userCache.flush()
	s.mu.Unlock()
}

// Bootstrap creates the admin user (with AdministratorAccess) and its first
// access key, for the first start of an installation. It returns the new key.
func (s *Service) Bootstrap(ctx context.Context) (NewKey, error) {
	p, err := s.CreateUser(ctx, AdminUser)
	if err != nil {
		return NewKey{}, err
	}
	if err := s.store.AttachPolicy(ctx, p.ID, AdministratorAccess, s.now().UTC()); err != nil {
		return NewKey{}, err
	}
	return s.createAccessKey(ctx, p, auth.NewAccessKeyID(), auth.NewSecretAccessKey())
}
