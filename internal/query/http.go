package query

import (
	"net/http"
	"strings"

	"github.com/kansoku/kansoku/internal/httpapi"
)

// Routes are the Prometheus HTTP API of each workspace under
// /workspaces/{workspaceId}/api/v1/, each authorized as the AMP action
// that covers it. The middleware puts the workspace into the request
// context; the prefix up to /api/v1 is removed before Prometheus' router
// sees the path.
func (a *API) Routes() []httpapi.Route {
	q := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.ServeHTTP(w, stripPrefix(r, "/workspaces/"+r.PathValue("workspaceId")))
	})
	dp := httpapi.DataRoute
	return []httpapi.Route{
		dp("QueryMetrics", "GET", "/api/v1/query", "aps:QueryMetrics", q),
		dp("QueryMetrics", "POST", "/api/v1/query", "aps:QueryMetrics", q),
		dp("QueryMetrics", "GET", "/api/v1/query_range", "aps:QueryMetrics", q),
		dp("QueryMetrics", "POST", "/api/v1/query_range", "aps:QueryMetrics", q),
		dp("QueryMetrics", "GET", "/api/v1/query_exemplars", "aps:QueryMetrics", q),
		dp("QueryMetrics", "POST", "/api/v1/query_exemplars", "aps:QueryMetrics", q),
		dp("QueryMetrics", "GET", "/api/v1/format_query", "aps:QueryMetrics", q),
		dp("QueryMetrics", "POST", "/api/v1/format_query", "aps:QueryMetrics", q),
		dp("QueryMetrics", "GET", "/api/v1/parse_query", "aps:QueryMetrics", q),
		dp("QueryMetrics", "POST", "/api/v1/parse_query", "aps:QueryMetrics", q),
		dp("QueryMetrics", "GET", "/api/v1/status/buildinfo", "aps:QueryMetrics", q),
		dp("GetLabels", "GET", "/api/v1/labels", "aps:GetLabels", q),
		dp("GetLabels", "POST", "/api/v1/labels", "aps:GetLabels", q),
		dp("GetLabels", "GET", "/api/v1/label/{name}/values", "aps:GetLabels", q),
		dp("GetSeries", "GET", "/api/v1/series", "aps:GetSeries", q),
		dp("GetSeries", "POST", "/api/v1/series", "aps:GetSeries", q),
		dp("GetMetricMetadata", "GET", "/api/v1/metadata", "aps:GetMetricMetadata", q),
		dp("ListRules", "GET", "/api/v1/rules", "aps:ListRules", q),
		dp("ListAlerts", "GET", "/api/v1/alerts", "aps:ListAlerts", q),
	}
}

// stripPrefix returns a copy of r whose path no longer starts with prefix.
func stripPrefix(r *http.Request, prefix string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
	if r.URL.RawPath != "" {
		r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, prefix)
	}
	return r2
}
