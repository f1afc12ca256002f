// Package auth authenticates requests: AWS Signature Version 4 (header and
// presigned-query forms) for service "aps", bearer API tokens for tools
// that cannot sign, and the web console's session cookies. It produces an
// Identity that the rest of the request carries in its context. It does
// not authorize: the IAM policy language is internal/iam/policy, and
// iam.Service.Authorize evaluates a caller's attached policies; the
// credentials themselves are kept by package iam.
package auth
