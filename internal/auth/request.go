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

// RequestTags are the tags a request asks to set (aws:RequestTag/*) and
// the tag keys it names (aws:TagKeys): a create call's or TagResource's
// tags, UntagResource's keys.
type RequestTags struct {
	Tags map[string]string
	Keys []string
}

type requestTagsKey struct{}

// WithRequestTags returns ctx carrying the request's tags.
func WithRequestTags(ctx context.Context, t RequestTags) context.Context {
	return context.WithValue(ctx, requestTagsKey{}, t)
}

// RequestTagsFrom returns the request's tags, if it has any.
func RequestTagsFrom(ctx context.Context) (RequestTags, bool) {
	t, ok := ctx.Value(requestTagsKey{}).(RequestTags)
	return t, ok
}
