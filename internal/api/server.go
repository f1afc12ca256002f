// Package api is Kansoku's HTTP surface: one route table (routes.go) lists
// every endpoint with its method, IAM action, error format and body limit;
// one middleware chain (middleware.go) authenticates, resolves the
// workspace, authorizes and meters every request; the handlers decode
// requests and call the component packages (workspace, ingest, query, iam).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/kansoku/kansoku/internal/amconfig"
	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/audit"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/console"
	"github.com/kansoku/kansoku/internal/hosts"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/iam"
	"github.com/kansoku/kansoku/internal/ingest"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/rulegroups"
	"github.com/kansoku/kansoku/internal/usage"
	"github.com/kansoku/kansoku/internal/workspace"
	"github.com/kansoku/kansoku/internal/wslog"
)

// Authorizer decides whether an identity may perform an action on a resource.
type Authorizer = httpapi.Authorizer

// AllowAccount lets every authenticated principal of the account do
// everything in it.
type AllowAccount struct{ AccountID string }

// Authorize implements Authorizer.
func (a AllowAccount) Authorize(_ context.Context, id *auth.Identity, action, resource string) error {
	if id == nil || id.AccountID != a.AccountID {
		return apierr.AccessDenied("User is not authorized to perform: %s on resource: %s", action, resource)
	}
	return nil
}

// TagStore keeps resource tags.
type TagStore interface {
	Tags(ctx context.Context, arn string) (map[string]string, error)
	SetTags(ctx context.Context, arn string, tags map[string]string) error
	RemoveTags(ctx context.Context, arn string, keys []string) error
}

// Deps are the components the API serves.
type Deps struct {
	// Routes are the components' own routes.
	Routes     Routes
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Gatherer is what /metrics exposes.
	Gatherer   prometheus.Gatherer
	AccountID  string
	Region     string
	Authn      *auth.Authenticator
	Authz      Authorizer
	Workspaces *workspace.Service
	IAM        *iam.Service
	Limits     *limits.Overrides
	RuleGroups *rulegroups.Service
	AMConfig   *amconfig.Service
	Logging    *wslog.Service
	Audit      *audit.Recorder
	// Meta holds resource tags.
	Meta          TagStore
	LimitsService *limits.Service
	Usage         *usage.Tracker
	HA            *ingest.HATracker
	// AWS manages AWS integrations; Hosts is the host inventory.
	AWS   *awsint.Service
	Hosts *hosts.Service
	// Sessions are the web console's sign-ins; Dashboards its saved
	// dashboards (nil: no console).
	Sessions   *console.Sessions
	Dashboards *console.Dashboards
	// Ready reports whether the server may take traffic (/-/ready).
	Ready func() bool
	// BodyReadTimeout bounds how long a client may take to send a request
	// body (0: no bound).
	BodyReadTimeout time.Duration
}

// Server is the HTTP handler of the whole service.
type Server struct {
	Deps
	logger     *slog.Logger
	authn      *auth.Authenticator
	authz      Authorizer
	workspaces *workspace.Service
	mux        *http.ServeMux
	metrics    *httpMetrics
	routes     []route
	arns       httpapi.ARNs
}

type httpMetrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	authFailures  *prometheus.CounterVec
	authzFailures *prometheus.CounterVec
}

// New builds the server and its routes.
func New(d Deps) *Server {
	f := promauto.With(d.Registerer)
	s := &Server{
		Deps:       d,
		logger:     d.Logger,
		authn:      d.Authn,
		authz:      d.Authz,
		workspaces: d.Workspaces,
		mux:        http.NewServeMux(),
		arns:       httpapi.ARNs{Region: d.Region, AccountID: d.AccountID},
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
		},
	}
	s.routes = s.routeTable()
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
			MaxBody: rt.MaxBody, Workspace: rt.Workspace, AuthOnly: rt.AuthOnly, NoAudit: rt.NoAudit, Public: rt.Plane == httpapi.Public,
			Resources: func(r *http.Request) ([]string, error) { return s.resourcesFor(rt, r) }})
	}
	return out
}

// RouteInfo describes one route.
type RouteInfo struct {
	Name, Method, Pattern, Action string
	Plane                         httpapi.Plane
	MaxBody                       int64
	Workspace, AuthOnly, NoAudit  bool
	Public                        bool
	// Resources are the ARNs a request is authorized on (the route's own
	// resolver, or the middleware's default).
	Resources func(r *http.Request) ([]string, error)
}
