package api

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/query"
)

// plane says which error format a route speaks.
type plane int

const (
	planeControl      plane = iota // AWS REST JSON (AMP control plane, admin API)
	planeData                      // Prometheus API JSON
	planeWrite                     // remote_write: plain text
	planeAlertmanager              // Alertmanager API v2 JSON
	planePublic                    // health, no auth
)

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// writeAWSError writes an AWS-style error as the AWS CLI and SDKs parse it.
func writeAWSError(w http.ResponseWriter, e *apierr.Error) {
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
	writeJSON(w, e.Status, body)
}

// toAWSError maps any error to an AWS-style error; unexpected ones are
// logged and hidden behind InternalServerException.
func toAWSError(err error, logger *slog.Logger, r *http.Request) *apierr.Error {
	if e, ok := apierr.As(err); ok {
		return e
	}
	var ae *auth.Error
	if errors.As(err, &ae) {
		return &apierr.Error{Type: ae.Code, Status: http.StatusForbidden, Message: ae.Message}
	}
	logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return apierr.Internal("internal error; the server logged the cause (request id %s)", w3RequestID(r))
}

// writeError writes err in the format of the route's plane.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, p plane, err error) {
	e := toAWSError(err, s.logger, r)
	switch p {
	case planeData, planeAlertmanager:
		typ := query.ErrorBadData
		switch {
		case e.Status == http.StatusForbidden:
			typ = query.ErrorForbidden
		case e.Status == http.StatusUnauthorized:
			typ = query.ErrorUnauthorized
		case e.Status == http.StatusNotFound:
			typ = query.ErrorNotFound
		case e.Status >= 500:
			typ = query.ErrorInternal
		}
		w.Header().Set("X-Amzn-ErrorType", e.Type)
		query.WriteError(w, e.Status, typ, e.Message)
	case planeWrite:
		w.Header().Set("X-Amzn-ErrorType", e.Type)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.Status)
		_, _ = io.WriteString(w, e.Message+"\n") // the client may be gone
	default:
		writeAWSError(w, e)
	}
}
