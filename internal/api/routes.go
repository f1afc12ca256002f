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
	Tags       []httpapi.Route // tagging: AMP's tags on workspaces and namespaces
	Ingest     []httpapi.Route // ingest: remote_write
	Query      []httpapi.Route // query: the Prometheus HTTP API of each workspace
	// Alertmanager: each workspace's Alertmanager API v2.
	Alertmanager []httpapi.Route
	IAM          []httpapi.Route // iam: users, policies, access keys, API tokens
	Audit        []httpapi.Route // audit: the audit trail (LookupEvents)
	Limits       []httpapi.Route // limits: a workspace's limits (AMP's quotas)
	Usage        []httpapi.Route // usage: a workspace's usage against them
	AWS          []httpapi.Route // awsint: AWS integrations
	Hosts        []httpapi.Route // hosts: the host inventory
	Console      []httpapi.Route // console: the web console, its sessions and dashboards
}

// all is every component's routes, in one list.
func (c Routes) all() []route {
	return slices.Concat(
		c.Workspaces,
		c.RuleGroups,
		c.AMConfig,
		c.Logging,
		c.Tags,
		c.Ingest,
		c.Query,
		c.Alertmanager,
		c.IAM,
		c.Audit,
		c.Limits,
		c.Usage,
		c.AWS,
		c.Hosts,
		c.Console,
	)
}

// routeTable is THE list of endpoints. Every request goes through wrap(),
// which authenticates it, resolves its workspace and authorizes its action.
func (s *Server) routeTable() []route {
	rs := []route{
		// Health: the only endpoints without authentication.
		{Name: "healthy", Method: "GET", Pattern: "/-/healthy", Plane: httpapi.Public, Handler: http.HandlerFunc(s.healthy)},
		{Name: "ready", Method: "GET", Pattern: "/-/ready", Plane: httpapi.Public, Handler: http.HandlerFunc(s.ready)},
		{Name: "metrics", Method: "GET", Pattern: "/metrics", Plane: httpapi.Data, Action: "kansoku:GetMetrics", MaxBody: httpapi.KiB,
			Handler: promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{EnableOpenMetrics: true})},
	}
	// Go profiling, for operators (kansoku:Debug).
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/profile", "/debug/pprof/symbol", "/debug/pprof/trace", "/debug/pprof/{profile}"} {
		rs = append(rs, route{Name: "pprof", Method: "GET", Pattern: p, Plane: httpapi.Control, Action: "kansoku:Debug", MaxBody: httpapi.KiB, Handler: http.HandlerFunc(servePprof)})
	}
	rs = append(rs, s.Deps.Routes.all()...)
	return rs
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
