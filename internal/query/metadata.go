package query

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/tenant"
)

// MetadataStore reads the metric metadata remote_write delivered.
type MetadataStore interface {
	ListMetricMetadata(ctx context.Context, workspaceID, metric string) ([]metastore.MetricMetadata, error)
}

// metadataHandler serves /api/v1/metadata from what remote_write stored (a
// Prometheus server serves it from its scrape targets, which we do not have).
type metadataHandler struct{ store MetadataStore }

type metadataEntry struct {
	Type string `json:"type"`
	Help string `json:"help"`
	Unit string `json:"unit"`
}

func (h *metadataHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := tenant.Workspace(r.Context())
	if err != nil {
		WriteError(w, http.StatusInternalServerError, ErrorInternal, err.Error())
		return
	}
	limit, err := intParam(r, "limit")
	if err != nil {
		WriteError(w, http.StatusBadRequest, ErrorBadData, "limit must be a number")
		return
	}
	perMetric, err := intParam(r, "limit_per_metric")
	if err != nil {
		WriteError(w, http.StatusBadRequest, ErrorBadData, "limit_per_metric must be a number")
		return
	}
	entries, err := h.store.ListMetricMetadata(r.Context(), ws, r.FormValue("metric"))
	if err != nil {
		WriteError(w, http.StatusInternalServerError, ErrorInternal, "read metadata: "+err.Error())
		return
	}
	res := map[string][]metadataEntry{}
	for _, e := range entries {
		ms, ok := res[e.Metric]
		if !ok && limit >= 0 && len(res) >= limit {
			continue
		}
		if perMetric > 0 && len(ms) >= perMetric {
			continue
		}
		res[e.Metric] = append(ms, metadataEntry{Type: e.Type, Help: e.Help, Unit: e.Unit})
	}
	WriteSuccess(w, res)
}

func intParam(r *http.Request, name string) (int, error) {
	s := r.FormValue(name)
	if s == "" {
		return -1, nil
	}
	return strconv.Atoi(s)
}

// Prometheus API error types.
const (
	ErrorBadData     = "bad_data"
	ErrorExecution   = "execution"
	ErrorInternal    = "internal"
	ErrorNotFound    = "not_found"
	ErrorUnavailable = "unavailable"
	ErrorTimeout     = "timeout"
	ErrorCanceled    = "canceled"
	// Not in Prometheus (which has no authentication), used for 401/403.
	ErrorUnauthorized = "unauthorized"
	ErrorForbidden    = "forbidden"
)

type envelope struct {
	Status    string `json:"status"`
	Data      any    `json:"data,omitempty"`
	ErrorType string `json:"errorType,omitempty"`
	Error     string `json:"error,omitempty"`
}

// WriteSuccess writes a Prometheus API success envelope.
func WriteSuccess(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(envelope{Status: "success", Data: data}) // the client may be gone
}

// WriteError writes a Prometheus API error envelope.
func WriteError(w http.ResponseWriter, status int, errorType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(envelope{Status: "error", ErrorType: errorType, Error: msg})
}
