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

// Routes are the endpoints each component declares, with the handlers it
// builds (its http.go); New gathers them, after the server's own (health,
// readiness, /metrics, pprof), into the one route table. Which component
// serves which paths:
//
//	Workspaces    workspace     /workspaces, /workspaces/{workspaceId}[/alias|/configuration]
//	RuleGroups    rulegroups    /workspaces/{workspaceId}/rulegroupsnamespaces[/{name}]
//	AMConfig      amconfig      /workspaces/{workspaceId}/alertmanager/definition
//	Logging       wslog         /workspaces/{workspaceId}/logging, /admin/v1/workspaces/{workspaceId}/logs
//	QueryLogging  querylog      /workspaces/{workspaceId}/logging/query
//	Anomaly       anomaly       /workspaces/{workspaceId}/anomalydetectors[/{anomalyDetectorId}]
//	Tags          tagging       /tags/{resourceArn}
//	Ingest        ingest        /workspaces/{workspaceId}/api/v1/remote_write
//	Query         query         /workspaces/{workspaceId}/api/v1/... (Prometheus HTTP API)
//	Alertmanager  alertmanager  /workspaces/{workspaceId}/alertmanager/api/v2/...
//	IAM           iam           /admin/v1/iam/..., /admin/v1/keys, /admin/v1/tokens, POST / (IAM and STS query APIs), /workspaces/{workspaceId}/policy
//	Audit         audit         /admin/v1/audit
//	Limits        limits        /admin/v1/workspaces/{workspaceId}/limits
//	Usage         usage         /admin/v1/workspaces/{workspaceId}/usage
//	AWS           awsint        /admin/v1/aws/...
//	Hosts         hosts         /admin/v1/hosts/..., /admin/v1/workspaces/{workspaceId}/roles
//	Console       console       /, /console/..., /admin/v1/users/{userName}/console-password, .../dashboards
//
// internal/app/testdata/routes.txt lists every route with its method,
// IAM action, error plane, body limit and the resources it is authorized
// on; TestRouteTable keeps it true.
type Routes struct {
	Workspaces   []httpapi.Route
	RuleGroups   []httpapi.Route
	AMConfig     []httpapi.Route
	Logging      []httpapi.Route
	QueryLogging []httpapi.Route
	Anomaly      []httpapi.Route
	Tags         []httpapi.Route
	Ingest       []httpapi.Route
	Query        []httpapi.Route
	Alertmanager []httpapi.Route
	IAM          []httpapi.Route
	Audit        []httpapi.Route
	Limits       []httpapi.Route
	Usage        []httpapi.Route
	AWS          []httpapi.Route
	Hosts        []httpapi.Route
	Console      []httpapi.Route
	Scrapers     []httpapi.Route
}

// all is every component's routes, in one list.
func (c Routes) all() []route {
	return slices.Concat(
		c.Workspaces,
		c.RuleGroups,
		c.AMConfig,
		c.Logging,
		c.QueryLogging,
		c.Anomaly,
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
		c.Scrapers,
	)
}

// routeTable is THE list of endpoints: the server's own, then every
// component's. Every request goes through wrap(), which authenticates it,
// resolves its workspace and authorizes its action.
func (s *Server) routeTable(components Routes) []route {
	rs := []route{
		// Health and readiness answer without authentication (as do the
		// console's static files and its sign-in).
		{Name: "healthy", Method: "GET", Pattern: "/-/healthy", Plane: httpapi.Public, Handler: http.HandlerFunc(s.healthy)},
		{Name: "ready", Method: "GET", Pattern: "/-/ready", Plane: httpapi.Public, Handler: http.HandlerFunc(s.ready)},
		{Name: "metrics", Method: "GET", Pattern: "/metrics", Plane: httpapi.Data, Action: "kansoku:GetMetrics", MaxBody: httpapi.KiB,
			Handler: promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{EnableOpenMetrics: true})},
	}
	// Go profiling, for operators (kansoku:Debug).
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/profile", "/debug/pprof/symbol", "/debug/pprof/trace", "/debug/pprof/{profile}"} {
		rs = append(rs, route{Name: "pprof", Method: "GET", Pattern: p, Plane: httpapi.Control, Action: "kansoku:Debug", MaxBody: httpapi.KiB, Handler: http.HandlerFunc(servePprof)})
	}
	rs = append(rs, components.all()...)
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
		return s.opts.ARNs.Workspace(r.PathValue("workspaceId"))
	}
	if strings.HasPrefix(rt.Action, "aps:") {
		return s.opts.ARNs.Account()
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
	if s.opts.Ready != nil && !s.opts.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "Service Unavailable: opening workspace storage.")
		return
	}
	fmt.Fprintln(w, "Kansoku is Ready.")
}
