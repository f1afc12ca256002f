// Package auth authenticates requests: AWS Signature Version 4 (header and
// presigned-query forms) for service "aps", and bearer API tokens for tools
// that cannot sign. It produces an Identity that the rest of the request
// carries in its context. Authorization (IAM-style policies) lives in
// policy.go; the credentials themselves are kept by package iam.
package auth
