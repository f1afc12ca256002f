// Package apierr defines the AWS-style errors of Kansoku's control plane
// (AMP's REST JSON API and Kansoku's own admin API). Services return them;
// package api writes them the way the AWS CLI and SDKs parse them: the
// X-Amzn-ErrorType header, the status code of the service model, and a JSON
// body with "message" and the error's other members.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is one AWS-style error.
type Error struct {
	Type    string // e.g. ValidationException
	Status  int
	Message string

	// Optional members, sent when set.
	ResourceID   string       `json:"resourceId,omitempty"`
	ResourceType string       `json:"resourceType,omitempty"`
	Reason       string       `json:"reason,omitempty"`
	FieldList    []FieldError `json:"fieldList,omitempty"`
	ServiceCode  string       `json:"serviceCode,omitempty"`
	QuotaCode    string       `json:"quotaCode,omitempty"`
	// RetryAfterSeconds is sent as the Retry-After header.
	RetryAfterSeconds int `json:"-"`
}

// FieldError names one invalid input member.
type FieldError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// As returns err as an *Error if it is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Validation reasons (AMP's ValidationExceptionReason).
const (
	ReasonUnknownOperation = "UNKNOWN_OPERATION"
	ReasonCannotParse      = "CANNOT_PARSE"
	ReasonFieldValidation  = "FIELD_VALIDATION_FAILED"
	ReasonOther            = "OTHER"
)

// Validation is a 400 ValidationException.
func Validation(reason, format string, args ...any) *Error {
	return &Error{Type: "ValidationException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...), Reason: reason}
}

// InvalidField is a ValidationException naming one field.
func InvalidField(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Type: "ValidationException", Status: http.StatusBadRequest, Reason: ReasonFieldValidation,
		Message:   fmt.Sprintf("1 validation error detected: Value at '%s' failed to satisfy constraint: %s", field, msg),
		FieldList: []FieldError{{Name: field, Message: msg}}}
}

// NotFound is a 404 ResourceNotFoundException.
func NotFound(resourceType, id, format string, args ...any) *Error {
	return &Error{Type: "ResourceNotFoundException", Status: http.StatusNotFound, Message: fmt.Sprintf(format, args...),
		ResourceID: id, ResourceType: resourceType}
}

// Conflict is a 409 ConflictException.
func Conflict(resourceType, id, format string, args ...any) *Error {
	return &Error{Type: "ConflictException", Status: http.StatusConflict, Message: fmt.Sprintf(format, args...),
		ResourceID: id, ResourceType: resourceType}
}

// QuotaExceeded is AMP's ServiceQuotaExceededException (status 402, as the
// service model says).
func QuotaExceeded(resourceType, id, quotaCode, format string, args ...any) *Error {
	return &Error{Type: "ServiceQuotaExceededException", Status: http.StatusPaymentRequired, Message: fmt.Sprintf(format, args...),
		ResourceID: id, ResourceType: resourceType, ServiceCode: "aps", QuotaCode: quotaCode}
}

// AccessDenied is a 403 AccessDeniedException.
func AccessDenied(format string, args ...any) *Error {
	return &Error{Type: "AccessDeniedException", Status: http.StatusForbidden, Message: fmt.Sprintf(format, args...)}
}

// Throttling is a 429 ThrottlingException.
func Throttling(retryAfter int, format string, args ...any) *Error {
	return &Error{Type: "ThrottlingException", Status: http.StatusTooManyRequests, Message: fmt.Sprintf(format, args...),
		ServiceCode: "aps", RetryAfterSeconds: retryAfter}
}

// Unavailable is a 503 ServiceUnavailableException: the server cannot
// serve the request yet (it is starting) and the client should retry.
func Unavailable(retryAfter int, format string, args ...any) *Error {
	return &Error{Type: "ServiceUnavailableException", Status: http.StatusServiceUnavailable, Message: fmt.Sprintf(format, args...),
		RetryAfterSeconds: retryAfter}
}

// Internal is a 500 InternalServerException. The message must not carry
// internal details; log them instead.
func Internal(format string, args ...any) *Error {
	return &Error{Type: "InternalServerException", Status: http.StatusInternalServerError, Message: fmt.Sprintf(format, args...)}
}
