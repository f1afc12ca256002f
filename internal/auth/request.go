package auth

import "context"

// RequestInfo is what authorization conditions may test about a request
// (aws:SourceIp, aws:SecureTransport, aws:RequestedRegion).
type RequestInfo struct {
	SourceIP string
	Secure   bool
	Region   string
}

type requestInfoKey struct{}

// WithRequestInfo returns ctx carrying info.
func WithRequestInfo(ctx context.Context, info RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, info)
}

// RequestInfoFrom returns the request information in ctx.
func RequestInfoFrom(ctx context.Context) (RequestInfo, bool) {
	info, ok := ctx.Value(requestInfoKey{}).(RequestInfo)
	return info, ok
}
