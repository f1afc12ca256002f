package api

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// route is one endpoint of the service.
type route struct {
	name    string // metrics label and logs
	method  string
	pattern string // net/http ServeMux pattern (path part)
	plane   plane
	// action is the IAM action checked for the route, e.g. aps:RemoteWrite.
	action string
	// resource builds the ARN the action is checked against; nil: the
	// workspace ARN when the route has {workspaceId}, else the account's "*".
	resource func(s *Server, r *http.Request) string
	// resources, when set instead, builds every ARN the caller must be
	// allowed the action on (a sub-resource and the workspace it belongs
	// to, as AWS checks an instance and its subnet); the first is the one
	// audited. An error (a body that does not parse, an object that does
	// not exist) answers the request before authorization: there is no
	// fallback to another resource.
	resources func(s *Server, r *http.Request) ([]string, error)
	// workspace: {workspaceId} must name an ACTIVE workspace, which the
	// request context then carries.
	workspace bool
	maxBody   int64
	handler   http.Handler
	// authOnly routes need an authenticated caller but no permission (the
	// console asking who it is and what it may do); action then only names
	// the event in the audit trail.
	authOnly bool
	// noAudit keeps a read-only route out of the audit trail (the console's
	// session and permission checks, made on every page).
	noAudit bool
}

const (
	kib = 1 << 10
	mib = 1 << 20

	controlBodyLimit = 4 * mib  // rule files and alertmanager definitions are 1 MB before base64
	queryBodyLimit   = 1 * mib  // AMP: request size 1 MB for ingest and query
	writeBodyLimit   = 16 * mib // hard cap; the per-workspace limit (1 MB) is checked after auth
)

// routeTable is THE list of endpoints. Every request goes through wrap(),
// which authenticates it, resolves its workspace and authorizes its action.
func (s *Server) routeTable() []route {
	dp := func(name, method, path, action string, h http.Handler) route {
		return route{name: name, method: method, pattern: "/workspaces/{workspaceId}" + path, plane: planeData,
			action: action, workspace: true, maxBody: queryBodyLimit, handler: h}
	}
	cp := func(name, method, pattern, action string, h http.HandlerFunc) route {
		return route{name: name, method: method, pattern: pattern, plane: planeControl, action: action,
			workspace: false, maxBody: controlBodyLimit, handler: h}
	}
	q := http.HandlerFunc(s.serveQueryAPI)
	am := http.HandlerFunc(s.serveAlertmanagerAPI)
	rs := []route{
		// Health: the only endpoints without authentication.
		{name: "healthy", method: "GET", pattern: "/-/healthy", plane: planePublic, handler: http.HandlerFunc(s.healthy)},
		{name: "ready", method: "GET", pattern: "/-/ready", plane: planePublic, handler: http.HandlerFunc(s.ready)},
		{name: "metrics", method: "GET", pattern: "/metrics", plane: planeData, action: "kansoku:GetMetrics", maxBody: kib,
			handler: promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{EnableOpenMetrics: true})},

		// AMP control plane: workspaces.
		cp("CreateWorkspace", "POST", "/workspaces", "aps:CreateWorkspace", s.createWorkspace),
		cp("ListWorkspaces", "GET", "/workspaces", "aps:ListWorkspaces", s.listWorkspaces),
		withWorkspaceResource(cp("DescribeWorkspace", "GET", "/workspaces/{workspaceId}", "aps:DescribeWorkspace", s.describeWorkspace)),
		withWorkspaceResource(cp("UpdateWorkspaceAlias", "POST", "/workspaces/{workspaceId}/alias", "aps:UpdateWorkspaceAlias", s.updateWorkspaceAlias)),
		withWorkspaceResource(cp("DeleteWorkspace", "DELETE", "/workspaces/{workspaceId}", "aps:DeleteWorkspace", s.deleteWorkspace)),
		withWorkspaceResource(cp("DescribeWorkspaceConfiguration", "GET", "/workspaces/{workspaceId}/configuration", "aps:DescribeWorkspaceConfiguration", s.describeWorkspaceConfiguration)),
		withWorkspaceResource(cp("UpdateWorkspaceConfiguration", "PATCH", "/workspaces/{workspaceId}/configuration", "aps:UpdateWorkspaceConfiguration", s.updateWorkspaceConfiguration)),

		// AMP control plane: rule-groups namespaces (authorized on the namespace's ARN).
		withNamespaceResource(cp("CreateRuleGroupsNamespace", "POST", "/workspaces/{workspaceId}/rulegroupsnamespaces", "aps:CreateRuleGroupsNamespace", s.createRuleGroupsNamespace)),
		withWorkspaceResource(cp("ListRuleGroupsNamespaces", "GET", "/workspaces/{workspaceId}/rulegroupsnamespaces", "aps:ListRuleGroupsNamespaces", s.listRuleGroupsNamespaces)),
		withNamespaceResource(cp("DescribeRuleGroupsNamespace", "GET", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "aps:DescribeRuleGroupsNamespace", s.describeRuleGroupsNamespace)),
		withNamespaceResource(cp("PutRuleGroupsNamespace", "PUT", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "aps:PutRuleGroupsNamespace", s.putRuleGroupsNamespace)),
		withNamespaceResource(cp("DeleteRuleGroupsNamespace", "DELETE", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "aps:DeleteRuleGroupsNamespace", s.deleteRuleGroupsNamespace)),

		// AMP control plane: Alertmanager definition and logging configuration.
		withWorkspaceResource(cp("CreateAlertManagerDefinition", "POST", "/workspaces/{workspaceId}/alertmanager/definition", "aps:CreateAlertManagerDefinition", s.createAlertManagerDefinition)),
		withWorkspaceResource(cp("DescribeAlertManagerDefinition", "GET", "/workspaces/{workspaceId}/alertmanager/definition", "aps:DescribeAlertManagerDefinition", s.describeAlertManagerDefinition)),
		withWorkspaceResource(cp("PutAlertManagerDefinition", "PUT", "/workspaces/{workspaceId}/alertmanager/definition", "aps:PutAlertManagerDefinition", s.putAlertManagerDefinition)),
		withWorkspaceResource(cp("DeleteAlertManagerDefinition", "DELETE", "/workspaces/{workspaceId}/alertmanager/definition", "aps:DeleteAlertManagerDefinition", s.deleteAlertManagerDefinition)),
		withWorkspaceResource(cp("CreateLoggingConfiguration", "POST", "/workspaces/{workspaceId}/logging", "aps:CreateLoggingConfiguration", s.createLoggingConfiguration)),
		withWorkspaceResource(cp("DescribeLoggingConfiguration", "GET", "/workspaces/{workspaceId}/logging", "aps:DescribeLoggingConfiguration", s.describeLoggingConfiguration)),
		withWorkspaceResource(cp("UpdateLoggingConfiguration", "PUT", "/workspaces/{workspaceId}/logging", "aps:UpdateLoggingConfiguration", s.updateLoggingConfiguration)),
		withWorkspaceResource(cp("DeleteLoggingConfiguration", "DELETE", "/workspaces/{workspaceId}/logging", "aps:DeleteLoggingConfiguration", s.deleteLoggingConfiguration)),

		// AMP control plane: tags, authorized on the tagged resource.
		withARNResource(cp("TagResource", "POST", "/tags/{resourceArn}", "aps:TagResource", s.tagResource)),
		withARNResource(cp("UntagResource", "DELETE", "/tags/{resourceArn}", "aps:UntagResource", s.untagResource)),
		withARNResource(cp("ListTagsForResource", "GET", "/tags/{resourceArn}", "aps:ListTagsForResource", s.listTagsForResource)),

		// Data plane: Prometheus remote write and query API.
		{name: "RemoteWrite", method: "POST", pattern: "/workspaces/{workspaceId}/api/v1/remote_write", plane: planeWrite,
			action: "aps:RemoteWrite", workspace: true, maxBody: writeBodyLimit, handler: s.remoteWriteHandler()},
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
		rs = append(rs, route{name: "pprof", method: "GET", pattern: p, plane: planeControl, action: "kansoku:Debug", maxBody: kib, handler: http.HandlerFunc(servePprof)})
	}
	rs = append(rs, s.adminRoutes()...)
	rs = append(rs, s.iamRoutes()...)
	rs = append(rs, s.limitsRoutes()...)
	rs = append(rs, s.awsRoutes()...)
	rs = append(rs, s.consoleRoutes()...)
	return rs
}

func withNamespaceResource(r route) route {
	r.resources = func(s *Server, req *http.Request) ([]string, error) {
		name := req.PathValue("name")
		if name == "" { // CreateRuleGroupsNamespace: the name is in the body, decoded as the handler does
			var in struct {
				Name string `json:"name"`
			}
			if err := decodeJSON(req, &in); err != nil {
				return nil, err
			}
			name = in.Name
		}
		return []string{s.RuleGroups.ARN(req.PathValue("workspaceId"), name)}, nil
	}
	return r
}

func withARNResource(r route) route {
	r.resources = func(s *Server, req *http.Request) ([]string, error) {
		a, err := s.taggedARN(req)
		if err != nil {
			return nil, err
		}
		return []string{a.String()}, nil
	}
	return r
}

func withWorkspaceResource(r route) route {
	r.resource = func(s *Server, req *http.Request) string { return s.workspaces.ARN(req.PathValue("workspaceId")) }
	return r
}

// resourcesFor returns the ARNs a route's action is authorized against.
func (s *Server) resourcesFor(rt route, r *http.Request) ([]string, error) {
	if rt.resources != nil {
		return rt.resources(s, r)
	}
	return []string{s.resourceFor(rt, r)}, nil
}

// resourceFor returns the ARN a route's action is authorized against.
func (s *Server) resourceFor(rt route, r *http.Request) string {
	if rt.resource != nil {
		return rt.resource(s, r)
	}
	if rt.workspace {
		return s.workspaces.ARN(r.PathValue("workspaceId"))
	}
	if strings.HasPrefix(rt.action, "aps:") {
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
