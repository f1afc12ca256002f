package auth

import (
	"context"
	"time"
)

// Method says how a request proved who it is.
type Method string

// How a request authenticated.
const (
	MethodSigV4   Method = "sigv4"
	MethodToken   Method = "token"
	MethodSession Method = "session" // web console cookie
)

// Identity is the authenticated caller of a request.
type Identity struct {
	AccountID     string
	PrincipalID   string
	PrincipalName string
	PrincipalARN  string
	// AccessKeyID is the SigV4 key or API token id that authenticated.
	AccessKeyID string
	Method      Method
	// Type is the principal's type as CloudTrail names it: TypeUser
	// (also when empty) or TypeAssumedRole.
	Type string
	// Session describes temporary credentials (STS); nil for long-term ones.
	Session *Session
	// Service is the service of the SigV4 credential scope ("aps", "sts",
	// "iam"); empty for other methods.
	Service string
}

// Principal types.
const (
	TypeUser        = "IAMUser"
	TypeAssumedRole = "AssumedRole"
)

// IsRoleSession reports whether the identity is a role's session.
func (id *Identity) IsRoleSession() bool {
	return id != nil && id.Session != nil && id.Session.RoleID != ""
}

// Session is what temporary credentials carry: who issued them, for how
// long, and what limits they. It travels sealed inside the session token
// (package iam), so a client can neither read nor change it.
type Session struct {
	// IssuedAt is aws:TokenIssueTime; Expires the end of the credentials.
	IssuedAt time.Time `json:"iat"`
	Expires  time.Time `json:"exp"`
	// UserID is the user of GetSessionToken credentials, or the user at
	// the start of a chain of role sessions.
	UserID string `json:"uid,omitempty"`
	// RoleID, RoleName and RoleARN name the role of a role session.
	RoleID      string `json:"rid,omitempty"`
	RoleName    string `json:"rn,omitempty"`
	RoleARN     string `json:"rarn,omitempty"`
	SessionName string `json:"sn,omitempty"`
	// Policy and PolicyARNs are session policies: the session may do only
	// what they and the role's own policies both allow.
	Policy     string   `json:"sp,omitempty"`
	PolicyARNs []string `json:"spa,omitempty"`
	// Tags are session tags (aws:PrincipalTag/*, over the role's own);
	// TransitiveKeys those that follow into chained role sessions.
	Tags           map[string]string `json:"tags,omitempty"`
	TransitiveKeys []string          `json:"ttk,omitempty"`
	SourceIdentity string            `json:"si,omitempty"`
	// Chained: issued to a role session (role chaining, at most one hour).
	Chained bool `json:"ch,omitempty"`
	// Provider is the OIDC provider ARN of AssumeRoleWithWebIdentity;
	// Subject and Audience the token's sub and aud.
	Provider string `json:"idp,omitempty"`
	Subject  string `json:"sub,omitempty"`
	Audience string `json:"aud,omitempty"`
	// MFA is aws:MultiFactorAuthPresent (always false: Kansoku has no MFA).
	MFA bool `json:"mfa,omitempty"`
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity in ctx, or nil.
func IdentityFrom(ctx context.Context) *Identity {
	id, _ := ctx.Value(identityKey{}).(*Identity)
	return id
}
