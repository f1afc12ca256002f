package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
)

type ctxKey int

const (
	bodyKey ctxKey = iota
	requestIDKey
	loggerKey
	authorizerKey
)

// Authorizer decides whether an identity may perform an action on a resource.
type Authorizer interface {
	Authorize(ctx context.Context, id *auth.Identity, action, resource string) error
}

// WithRequest returns ctx carrying what the middleware learnt of a request
// (its id, the logger, the authorizer listings filter with) for handlers.
func WithRequest(ctx context.Context, requestID string, logger *slog.Logger, authz Authorizer) context.Context {
	ctx = context.WithValue(ctx, requestIDKey, requestID)
	ctx = context.WithValue(ctx, loggerKey, logger)
	return context.WithValue(ctx, authorizerKey, authz)
}

// WithBody returns ctx carrying the request body the middleware read.
func WithBody(ctx context.Context, body []byte) context.Context {
	return context.WithValue(ctx, bodyKey, body)
}

// Body returns the request body the middleware read (within the route's
// limit, after authentication).
func Body(r *http.Request) []byte {
	b, _ := r.Context().Value(bodyKey).([]byte)
	return b
}

// RequestID is the request's x-amzn-RequestId.
func RequestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey).(string)
	return id
}

func logger(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(loggerKey).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// Identity is the authenticated caller.
func Identity(r *http.Request) *auth.Identity { return auth.IdentityFrom(r.Context()) }

// Authorize checks, with the authorizer the middleware used, that the
// caller may do action on every resource: a handler that does more than
// its route's action (attaching policies while creating a user) asks for
// each. Without an authorizer in the context nothing is allowed.
func Authorize(r *http.Request, action string, resources ...string) error {
	a, ok := r.Context().Value(authorizerKey).(Authorizer)
	if !ok || a == nil {
		return apierr.AccessDenied("User is not authorized to perform: %s (no authorizer)", action)
	}
	for _, res := range resources {
		if err := a.Authorize(r.Context(), Identity(r), action, res); err != nil {
			return err
		}
	}
	return nil
}

// Allowed reports whether the caller may do action on every resource (a
// listing keeps only the items it is allowed to see).
func Allowed(r *http.Request, action string, resources ...string) bool {
	return Authorize(r, action, resources...) == nil
}

// AWSTime renders a timestamp as rest-json does: epoch seconds, fractions allowed.
func AWSTime(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// DecodeJSON parses a control-plane request body; an empty body is {}.
// AMP's shapes ignore unknown members, as AWS does.
func DecodeJSON(r *http.Request, v any) error {
	return DecodeBody(Body(r), v, false)
}

// DecodeStrictJSON parses a Kansoku-specific (admin, console) request body:
// unlike AMP's API, which ignores unknown members as AWS does, these are
// Kansoku's own shapes, so an unknown member is a mistake worth a 400.
func DecodeStrictJSON(r *http.Request, v any) error {
	body := Body(r)
	if len(bytes.TrimSpace(body)) == 0 {
		return apierr.Validation(apierr.ReasonCannotParse, "the body must be a JSON object")
	}
	return DecodeBody(body, v, true)
}

// DecodeBody is the one JSON decoder of request bodies: handlers and the
// resource functions that authorize them decode the same bytes the same
// way, so they cannot disagree on what a request says. Exactly one JSON
// value is accepted: trailing data (`{...} {}`) is refused.
func DecodeBody(body []byte, v any, strict bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return apierr.Validation(apierr.ReasonCannotParse, "Could not parse the request body as JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apierr.Validation(apierr.ReasonCannotParse, "Could not parse the request body as JSON: it has data after the JSON value")
	}
	return nil
}

// WriteJSON writes v as a JSON response.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// WriteAWSError writes an AWS-style error as the AWS CLI and SDKs parse it.
func WriteAWSError(w http.ResponseWriter, e *apierr.Error) {
	body := map[string]any{"message": e.Message, "__type": e.Type}
	if e.ResourceID != "" || e.ResourceType != "" {
		body["resourceId"], body["resourceType"] = e.ResourceID, e.ResourceType
	}
	if e.Reason != "" {
		body["reason"] = e.Reason
	}
	if len(e.FieldList) > 0 {
		body["fieldList"] = e.FieldList
	}
	if e.ServiceCode != "" {
		body["serviceCode"] = e.ServiceCode
	}
	if e.QuotaCode != "" {
		body["quotaCode"] = e.QuotaCode
	}
	if e.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfterSeconds))
	}
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	WriteJSON(w, e.Status, body)
}

// ToAWSError maps any error to an AWS-style error; unexpected ones are
// logged and hidden behind InternalServerException.
func ToAWSError(err error, r *http.Request) *apierr.Error {
	if e, ok := apierr.As(err); ok {
		return e
	}
	var ae *auth.Error
	if errors.As(err, &ae) {
		return &apierr.Error{Type: ae.Code, Status: http.StatusForbidden, Message: ae.Message}
	}
	logger(r).Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return apierr.Internal("internal error; the server logged the cause (request id %s)", RequestID(r))
}

// Prometheus API error types.
const (
	ErrorBadData      = "bad_data"
	ErrorInternal     = "internal"
	ErrorNotFound     = "not_found"
	ErrorUnauthorized = "unauthorized"
	ErrorForbidden    = "forbidden"
)

// WritePrometheusError writes a Prometheus API error envelope.
func WritePrometheusError(w http.ResponseWriter, status int, errorType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}{"error", errorType, msg})
}

// WriteError writes err in the format of plane p.
func WriteError(w http.ResponseWriter, r *http.Request, p Plane, err error) {
	e := ToAWSError(err, r)
	switch p {
	case Data, Alertmanager:
		typ := ErrorBadData
		switch {
		case e.Status == http.StatusForbidden:
			typ = ErrorForbidden
		case e.Status == http.StatusUnauthorized:
			typ = ErrorUnauthorized
		case e.Status == http.StatusNotFound:
			typ = ErrorNotFound
		case e.Status >= 500:
			typ = ErrorInternal
		}
		w.Header().Set("X-Amzn-ErrorType", e.Type)
		WritePrometheusError(w, e.Status, typ, e.Message)
	case Write:
		w.Header().Set("X-Amzn-ErrorType", e.Type)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.Status)
		_, _ = io.WriteString(w, e.Message+"\n") // the client may be gone
	case Query:
		WriteQueryError(w, r, e)
	default:
		WriteAWSError(w, e)
	}
}

// MaxResultsParam reads AMP's maxResults query parameter (0: not given).
func MaxResultsParam(r *http.Request) (int, error) {
	mr := r.URL.Query().Get("maxResults")
	if mr == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(mr)
	if err != nil {
		return 0, apierr.InvalidField("maxResults", "Member must be an integer between 1 and 1000")
	}
	return n, nil
}

// NonNilTags renders absent tags as {} (AMP always has a tags member).
func NonNilTags(t map[string]string) map[string]string {
	if t == nil {
		return map[string]string{}
	}
	return t
}
