package api

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kansoku/kansoku/internal/httpapi"
)

// route is one endpoint of the service (see httpapi.Route).
type route = httpapi.Route

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

		// AMP control plane: workspaces.
		cp("CreateWorkspace", "POST", "/workspaces", "aps:CreateWorkspace", s.createWorkspace),
		cp("ListWorkspaces", "GET", "/workspaces", "aps:ListWorkspaces", s.listWorkspaces),
		s.withWorkspaceResource(cp("DescribeWorkspace", "GET", "/workspaces/{workspaceId}", "aps:DescribeWorkspace", s.describeWorkspace)),
		s.withWorkspaceResource(cp("UpdateWorkspaceAlias", "POST", "/workspaces/{workspaceId}/alias", "aps:UpdateWorkspaceAlias", s.updateWorkspaceAlias)),
		s.withWorkspaceResource(cp("DeleteWorkspace", "DELETE", "/workspaces/{workspaceId}", "aps:DeleteWorkspace", s.deleteWorkspace)),
		s.withWorkspaceResource(cp("DescribeWorkspaceConfiguration", "GET", "/workspaces/{workspaceId}/configuration", "aps:DescribeWorkspaceConfiguration", s.describeWorkspaceConfiguration)),
		s.withWorkspaceResource(cp("UpdateWorkspaceConfiguration", "PATCH", "/workspaces/{workspaceId}/configuration", "aps:UpdateWorkspaceConfiguration", s.updateWorkspaceConfiguration)),

		// AMP control plane: rule-groups namespaces (authorized on the namespace's ARN).
		s.withNamespaceResource(cp("CreateRuleGroupsNamespace", "POST", "/workspaces/{workspaceId}/rulegroupsnamespaces", "aps:CreateRuleGroupsNamespace", s.createRuleGroupsNamespace)),
		s.withWorkspaceResource(cp("ListRuleGroupsNamespaces", "GET", "/workspaces/{workspaceId}/rulegroupsnamespaces", "aps:ListRuleGroupsNamespaces", s.listRuleGroupsNamespaces)),
		s.withNamespaceResource(cp("DescribeRuleGroupsNamespace", "GET", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "aps:DescribeRuleGroupsNamespace", s.describeRuleGroupsNamespace)),
		s.withNamespaceResource(cp("PutRuleGroupsNamespace", "PUT", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "aps:PutRuleGroupsNamespace", s.putRuleGroupsNamespace)),
		s.withNamespaceResource(cp("DeleteRuleGroupsNamespace", "DELETE", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "aps:DeleteRuleGroupsNamespace", s.deleteRuleGroupsNamespace)),

		// AMP control plane: Alertmanager definition and logging configuration.
		s.withWorkspaceResource(cp("CreateAlertManagerDefinition", "POST", "/workspaces/{workspaceId}/alertmanager/definition", "aps:CreateAlertManagerDefinition", s.createAlertManagerDefinition)),
		s.withWorkspaceResource(cp("DescribeAlertManagerDefinition", "GET", "/workspaces/{workspaceId}/alertmanager/definition", "aps:DescribeAlertManagerDefinition", s.describeAlertManagerDefinition)),
		s.withWorkspaceResource(cp("PutAlertManagerDefinition", "PUT", "/workspaces/{workspaceId}/alertmanager/definition", "aps:PutAlertManagerDefinition", s.putAlertManagerDefinition)),
		s.withWorkspaceResource(cp("DeleteAlertManagerDefinition", "DELETE", "/workspaces/{workspaceId}/alertmanager/definition", "aps:DeleteAlertManagerDefinition", s.deleteAlertManagerDefinition)),
		s.withWorkspaceResource(cp("CreateLoggingConfiguration", "POST", "/workspaces/{workspaceId}/logging", "aps:CreateLoggingConfiguration", s.createLoggingConfiguration)),
		s.withWorkspaceResource(cp("DescribeLoggingConfiguration", "GET", "/workspaces/{workspaceId}/logging", "aps:DescribeLoggingConfiguration", s.describeLoggingConfiguration)),
		s.withWorkspaceResource(cp("UpdateLoggingConfiguration", "PUT", "/workspaces/{workspaceId}/logging", "aps:UpdateLoggingConfiguration", s.updateLoggingConfiguration)),
		s.withWorkspaceResource(cp("DeleteLoggingConfiguration", "DELETE", "/workspaces/{workspaceId}/logging", "aps:DeleteLoggingConfiguration", s.deleteLoggingConfiguration)),

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
	rs = append(rs, s.adminRoutes()...)
	rs = append(rs, s.iamRoutes()...)
	rs = append(rs, s.limitsRoutes()...)
	rs = append(rs, s.awsRoutes()...)
	rs = append(rs, s.consoleRoutes()...)
	return rs
}

func (s *Server) withNamespaceResource(r route) route {
	r.Resources = func(req *http.Request) ([]string, error) {
		name := req.PathValue("name")
		if name == "" { // CreateRuleGroupsNamespace: the name is in the body, decoded as the handler does
			var in struct {
				Name string `json:"name"`
			}
			if err := httpapi.DecodeJSON(req, &in); err != nil {
				return nil, err
			}
			name = in.Name
		}
		return []string{s.RuleGroups.ARN(req.PathValue("workspaceId"), name)}, nil
	}
	return r
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

func (s *Server) withWorkspaceResource(r route) route {
	r.Resources = httpapi.One(func(req *http.Request) string { return s.workspaces.ARN(req.PathValue("workspaceId")) })
	return r
}

// resourcesFor returns the ARNs a route's action is authorized against.
func (s *Server) resourcesFor(rt route, r *http.Request) ([]string, error) {
	if rt.Resources != nil {
		return rt.Resources(r)
	}
	return []string{s.resourceFor(rt, r)}, nil
}

// resourceFor returns the ARN a route's action is authorized against.
func (s *Server) resourceFor(rt route, r *http.Request) string {
	if rt.Workspace {
		return s.workspaces.ARN(r.PathValue("workspaceId"))
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
