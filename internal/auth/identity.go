package auth

import "context"

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
