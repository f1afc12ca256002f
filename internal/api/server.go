// Package api is Kansoku's HTTP surface, without the handlers: the
// components (workspace, ingest, query, iam, ...) declare their routes and
// build their handlers (httpapi.Route); this package gathers them into one
// route table (routes.go, with health, readiness, /metrics and pprof) and
// runs every request through one middleware chain (middleware.go) that
// authenticates it before reading its body, reads the body within the
// route's limit, resolves the workspace, authorizes the route's action on
// its resources, answers errors in the route's plane, and records the
// audit trail (audit.go) and the HTTP metrics.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/audit"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/throttle"
)

// Workspaces says which workspaces are ACTIVE (workspace.Service): only
// those serve data-plane routes.
type Workspaces interface {
	Active(id string) (metastore.Workspace, bool)
}

// Limits are each workspace's limits (limits.Overrides): a remote_write
// body may not exceed the workspace's max_request_bytes.
type Limits interface {
	For(ws string) *limits.Limits
}

// Auditor records audit events (audit.Recorder).
type Auditor interface {
	Record(e audit.Event)
}

// Options are what the middleware needs; the routes come from the
// components (Routes).
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Gatherer is what /metrics exposes.
	Gatherer prometheus.Gatherer
	// ARNs names the installation's account and region.
	ARNs       httpapi.ARNs
	Authn      *auth.Authenticator
	Authz      httpapi.Authorizer
	Workspaces Workspaces
	Limits     Limits
	// Audit records control-plane calls and refusals (nil: no trail).
	Audit Auditor
	// Ready reports whether the server may take traffic (/-/ready).
	Ready func() bool
	// BodyReadTimeout bounds how long a client may take to send a request
	// body (0: no bound).
	BodyReadTimeout time.Duration
	// Throttle, when set, takes a token of the account's control-plane
	// quota for every aps: control-plane request (AMP's 10 operations a
	// second); a request finding none is a ThrottlingException.
	Throttle throttle.Limiter
	// Peers, in a cluster, checks requests another node authenticated and
	// forwarded here (nil: a forwarded request is authenticated like any
	// other, and fails).
	Peers Peers
}

// Peers verifies requests the other nodes of a cluster forward
// (cluster.Forwarder).
type Peers interface {
	// Verify returns the identity and the client's request information
	// the forwarding node vouches for, or an error for anything else.
	Verify(r *http.Request, body []byte) (*auth.Identity, auth.RequestInfo, error)
}

// Server is the HTTP handler of the whole service.
type Server struct {
	opts    Options
	logger  *slog.Logger
	mux     *http.ServeMux
	metrics *httpMetrics
	routes  []route
	bodies  bodyReader
}

type httpMetrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	authFailures  *prometheus.CounterVec
	authzFailures *prometheus.CounterVec
	throttled     *prometheus.CounterVec
}

// New builds the server over the components' routes.
func New(o Options, routes Routes) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	f := promauto.With(o.Registerer)
	s := &Server{
		opts:   o,
		logger: o.Logger,
		mux:    http.NewServeMux(),
		metrics: &httpMetrics{
			requests: f.NewCounterVec(prometheus.CounterOpts{
				Name: "kansoku_http_requests_total", Help: "HTTP requests by route, method and status code.",
			}, []string{"route", "method", "code"}),
			duration: f.NewHistogramVec(prometheus.HistogramOpts{
				Name: "kansoku_http_request_duration_seconds", Help: "HTTP request latency by route.",
				Buckets:                     prometheus.DefBuckets,
				NativeHistogramBucketFactor: 1.1,
			}, []string{"route"}),
			authFailures: f.NewCounterVec(prometheus.CounterOpts{
				Name: "kansoku_auth_failures_total", Help: "Requests refused by authentication, by AWS error type.",
			}, []string{"code"}),
			authzFailures: f.NewCounterVec(prometheus.CounterOpts{
				Name: "kansoku_access_denied_total", Help: "Requests refused by authorization, by IAM action.",
			}, []string{"action"}),
			throttled: f.NewCounterVec(prometheus.CounterOpts{
				Name: "kansoku_control_plane_throttled_total", Help: "Control-plane requests refused by the account's rate quota (ThrottlingException), by IAM action.",
			}, []string{"action"}),
		},
	}
	s.routes = s.routeTable(routes)
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	s.mux.Handle("/", http.HandlerFunc(s.notFound))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteAWSError(w, &apierr.Error{Type: "UnknownOperationException", Status: http.StatusNotFound,
		Message: "no operation at " + r.Method + " " + r.URL.Path, Reason: apierr.ReasonUnknownOperation})
}

// Routes lists the route table (for tests and docs).
func (s *Server) Routes() []RouteInfo {
	out := make([]RouteInfo, 0, len(s.routes))
	for _, rt := range s.routes {
		out = append(out, RouteInfo{Name: rt.Name, Method: rt.Method, Pattern: rt.Pattern, Action: rt.Action, Plane: rt.Plane,
			MaxBody: rt.MaxBody, Workspace: rt.Workspace, AuthOnly: rt.AuthOnly, NoAudit: rt.NoAudit, Audited: rt.Audited, Public: rt.Plane == httpapi.Public,
			SigV4Services: rt.SigV4Services, Dispatch: rt.Dispatch != nil, Unsigned: rt.Unsigned != nil,
			Resources: func(r *http.Request) ([]string, error) { return s.resourcesFor(rt, r) }})
	}
	return out
}

// RouteInfo describes one route.
type RouteInfo struct {
	Name, Method, Pattern, Action         string
	Plane                                 httpapi.Plane
	MaxBody                               int64
	Workspace, AuthOnly, NoAudit, Audited bool
	Public                                bool
	// SigV4Services are the credential scopes accepted besides aps.
	SigV4Services []string
	// Dispatch: each request names its operation (the query API's
	// Action); Unsigned: some operations take no credentials.
	Dispatch, Unsigned bool
	// Resources are the ARNs a request is authorized on (the route's own
	// resolver, or the middleware's default).
	Resources func(r *http.Request) ([]string, error)
}
