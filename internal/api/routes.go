package api

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kansoku/kansoku/internal/httpapi"
)

// route is one endpoint of the service (see httpapi.Route).
type route = httpapi.Route

// Routes are the endpoints each component declares and builds the handlers
// of; New gathers them, with the server's own (health, readiness, /metrics,
// pprof), into the one route table. internal/app/testdata/routes.txt lists
// every route with its action, plane and resources.
type Routes struct {
	Workspaces []httpapi.Route // workspace: AMP's /workspaces, aliases, configuration
	RuleGroups []httpapi.Route // rulegroups: AMP's rule-groups namespaces
	AMConfig   []httpapi.Route // amconfig: AMP's Alertmanager definition
	Logging    []httpapi.Route // wslog: AMP's logging configuration, the workspace log
}

// all is every component's routes, in one list.
func (c Routes) all() []route {
	return slices.Concat(
		c.Workspaces,
		c.RuleGroups,
		c.AMConfig,
		c.Logging,
	)
}

// routeTable is THE list of endpoints. Every request goes through wrap(),
// which authenticates it, resolves its workspace and authorizes its action.
func (s *Server) routeTable() []route {
	dp := func(name, method, path, action string, h http.Handler) route {
		return route{Name: name, Method: method, Pattern: "/workspaces/{workspaceId}" + path, Plane: httpapi.Data,
			Action: action, Workspace: true, MaxBody: httpapi.QueryBodyLimit, Handler: h}
	}
	cp := func(name, method, pattern, action string, h http.HandlerFunc) route {
		return route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, Action: action,
			Workspace: false, MaxBody: httpapi.ControlBodyLimit, Handler: h}
	}
	q := http.HandlerFunc(s.serveQueryAPI)
	am := http.HandlerFunc(s.serveAlertmanagerAPI)
	rs := []route{
		// Health: the only endpoints without authentication.
		{Name: "healthy", Method: "GET", Pattern: "/-/healthy", Plane: httpapi.Public, Handler: http.HandlerFunc(s.healthy)},
		{Name: "ready", Method: "GET", Pattern: "/-/ready", Plane: httpapi.Public, Handler: http.HandlerFunc(s.ready)},
		{Name: "metrics", Method: "GET", Pattern: "/metrics", Plane: httpapi.Data, Action: "kansoku:GetMetrics", MaxBody: httpapi.KiB,
			Handler: promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{EnableOpenMetrics: true})},

		// AMP control plane: tags, authorized on the tagged resource.
		s.withARNResource(cp("TagResource", "POST", "/tags/{resourceArn}", "aps:TagResource", s.tagResource)),
		s.withARNResource(cp("UntagResource", "DELETE", "/tags/{resourceArn}", "aps:UntagResource", s.untagResource)),
		s.withARNResource(cp("ListTagsForResource", "GET", "/tags/{resourceArn}", "aps:ListTagsForResource", s.listTagsForResource)),

		// Data plane: Prometheus remote write and query API.
		{Name: "RemoteWrite", Method: "POST", Pattern: "/workspaces/{workspaceId}/api/v1/remote_write", Plane: httpapi.Write,
			Action: "aps:RemoteWrite", Workspace: true, MaxBody: httpapi.WriteBodyLimit, Handler: s.remoteWriteHandler()},
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

		// Data plane: each workspace's Alertmanager API v2.
		dp("CreateAlertManagerAlerts", "POST", "/alertmanager/api/v2/alerts", "aps:CreateAlertManagerAlerts", am),
		dp("ListAlertManagerAlerts", "GET", "/alertmanager/api/v2/alerts", "aps:ListAlertManagerAlerts", am),
		dp("ListAlertManagerAlertGroups", "GET", "/alertmanager/api/v2/alerts/groups", "aps:ListAlertManagerAlertGroups", am),
		dp("ListAlertManagerReceivers", "GET", "/alertmanager/api/v2/receivers", "aps:ListAlertManagerReceivers", am),
		dp("ListAlertManagerSilences", "GET", "/alertmanager/api/v2/silences", "aps:ListAlertManagerSilences", am),
		dp("PutAlertManagerSilences", "POST", "/alertmanager/api/v2/silences", "aps:PutAlertManagerSilences", am),
		dp("GetAlertManagerSilence", "GET", "/alertmanager/api/v2/silence/{silenceId}", "aps:GetAlertManagerSilence", am),
		dp("DeleteAlertManagerSilence", "DELETE", "/alertmanager/api/v2/silence/{silenceId}", "aps:DeleteAlertManagerSilence", am),
		dp("GetAlertManagerStatus", "GET", "/alertmanager/api/v2/status", "aps:GetAlertManagerStatus", am),
	}
	// Go profiling, for operators (kansoku:Debug).
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/profile", "/debug/pprof/symbol", "/debug/pprof/trace", "/debug/pprof/{profile}"} {
		rs = append(rs, route{Name: "pprof", Method: "GET", Pattern: p, Plane: httpapi.Control, Action: "kansoku:Debug", MaxBody: httpapi.KiB, Handler: http.HandlerFunc(servePprof)})
	}
	rs = append(rs, s.Deps.Routes.all()...)
	rs = append(rs, s.adminRoutes()...)
	rs = append(rs, s.iamRoutes()...)
	rs = append(rs, s.limitsRoutes()...)
	rs = append(rs, s.awsRoutes()...)
	rs = append(rs, s.consoleRoutes()...)
	return rs
}

func (s *Server) withARNResource(r route) route {
	r.Resources = func(req *http.Request) ([]string, error) {
		a, err := s.taggedARN(req)
		if err != nil {
			return nil, err
		}
		return []string{a.String()}, nil
	}
	return r
}

// resourcesFor returns the ARNs a route's action is authorized against.
func (s *Server) resourcesFor(rt route, r *http.Request) ([]string, error) {
	if rt.Resources != nil {
		return rt.Resources(r)
	}
	return []string{s.resourceFor(rt, r)}, nil
}

// resourceFor returns the ARN a route's action is authorized against when
// the route does not say (httpapi.Route.Resources).
func (s *Server) resourceFor(rt route, r *http.Request) string {
	if strings.Contains(rt.Pattern, "{workspaceId}") {
		return s.arns.Workspace(r.PathValue("workspaceId"))
	}
	if strings.HasPrefix(rt.Action, "aps:") {
		return fmt.Sprintf("arn:aws:aps:%s:%s:*", s.Region, s.AccountID)
	}
	return "*"
}

func servePprof(w http.ResponseWriter, r *http.Request) {
	switch name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/"); name {
	case "":
		pprof.Index(w, r)
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
}

func (s *Server) healthy(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "Kansoku is Healthy.")
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.Ready != nil && !s.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "Service Unavailable: opening workspace storage.")
		return
	}
	fmt.Fprintln(w, "Kansoku is Ready.")
}

// serveQueryAPI hands /workspaces/{id}/api/v1/... to the Prometheus API
// with the /workspaces/{id} prefix removed.
func (s *Server) serveQueryAPI(w http.ResponseWriter, r *http.Request) {
	prefix := "/workspaces/" + r.PathValue("workspaceId")
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
	if r.URL.RawPath != "" {
		r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, prefix)
	}
	s.Query.ServeHTTP(w, r2)
}

// serveAlertmanagerAPI hands /workspaces/{id}/alertmanager/api/v2/... to
// the workspace's Alertmanager with the prefix up to /api/v2 removed.
func (s *Server) serveAlertmanagerAPI(w http.ResponseWriter, r *http.Request) {
	if s.Alertmanager == nil {
		http.Error(w, "the Alertmanager is not available", http.StatusServiceUnavailable)
		return
	}
	prefix := "/workspaces/" + r.PathValue("workspaceId") + "/alertmanager"
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
	if r.URL.RawPath != "" {
		r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, prefix)
	}
	s.Alertmanager.ServeHTTP(w, r2)
}
