// Package httpapi is what a component needs to serve HTTP inside Kansoku:
// the Route it hands to internal/api (path, IAM action, resources, error
// plane, body limit), and the helpers its handlers share (the request body
// the middleware read, the caller's identity, AWS-style and
// Prometheus-style errors, JSON). Components own their routes and
// handlers; internal/api owns the middleware that runs before each of them
// and the one list of every route.
package httpapi

import (
	"net/http"
	"strconv"

	"github.com/kansoku/kansoku/internal/auth"
)

// Plane says which error format a route speaks.
type Plane int

// The planes.
const (
	Control      Plane = iota // AWS REST JSON (AMP control plane, admin API)
	Data                      // Prometheus API JSON
	Write                     // remote_write: plain text
	Alertmanager              // Alertmanager API v2 JSON
	Public                    // health, no auth
	Query                     // AWS query protocol (IAM, STS): form in, XML out
)

func (p Plane) String() string {
	switch p {
	case Control:
		return "control"
	case Data:
		return "data"
	case Write:
		return "write"
	case Alertmanager:
		return "alertmanager"
	case Public:
		return "public"
	case Query:
		return "query"
	}
	return "plane(" + strconv.Itoa(int(p)) + ")"
}

// Body size limits.
const (
	KiB = 1 << 10
	MiB = 1 << 20

	ControlBodyLimit = 4 * MiB  // rule files and alertmanager definitions are 1 MB before base64
	QueryBodyLimit   = 1 * MiB  // AMP: request size 1 MB for ingest and query
	WriteBodyLimit   = 16 * MiB // hard cap; the per-workspace limit (1 MB) is checked after auth
)

// Route is one endpoint of the service, as a component declares it.
type Route struct {
	Name    string // metrics label, logs, audit event name
	Method  string
	Pattern string // net/http ServeMux pattern (path part)
	Plane   Plane
	// Action is the IAM action checked for the route, e.g. aps:RemoteWrite.
	Action string
	// Resources builds every ARN the caller must be allowed Action on (a
	// sub-resource and the workspace it belongs to, as AWS checks an
	// instance and its subnet); the first is the one audited. An error (a
	// body that does not parse, an object that does not exist) answers
	// the request before authorization: there is no fallback to another
	// resource. nil: the workspace's ARN when the pattern has
	// {workspaceId}, else the account's (arn:aws:aps:<region>:<account>:*)
	// for aps: actions and "*" for the others.
	Resources func(r *http.Request) ([]string, error)
	// Workspace: {workspaceId} must name an ACTIVE workspace, which the
	// request context then carries.
	Workspace bool
	MaxBody   int64
	Handler   http.Handler
	// AuthOnly routes need an authenticated caller but no permission (the
	// console asking who it is and what it may do); Action then only names
	// the event in the audit trail.
	AuthOnly bool
	// NoAudit keeps a read-only route out of the audit trail (the console's
	// session and permission checks, made on every page).
	NoAudit bool
	// Audited puts a data-plane route in the audit trail, as CloudTrail
	// records AMP's Alertmanager API writes (control-plane and query
	// routes always are).
	Audited bool
	// SigV4Services are the services a SigV4 credential scope may name on
	// this route (nil: "aps" only). The IAM and STS query endpoint takes
	// "iam" and "sts", and no other route does.
	SigV4Services []string
	// Dispatch, for a route that serves several operations (the query
	// protocol's POST / with an Action parameter), names the operation of
	// a request from its body after authentication: the action that is
	// authorized and audited instead of Action, and its resources. An
	// error (a body that does not parse, an unknown action) answers
	// before authorization.
	Dispatch func(r *http.Request) (Dispatched, error)
	// Unsigned, with Dispatch, admits a request that carries no
	// credentials at all when it says yes for the request's body (read
	// within UnsignedMaxBody): AssumeRoleWithWebIdentity, which is
	// unsigned on AWS too. The operation it dispatches to must be
	// AuthOnly, and authorizes the request itself.
	Unsigned        func(r *http.Request) bool
	UnsignedMaxBody int64
	// RequestTags returns the tags a request sets or names, for the
	// aws:RequestTag/* and aws:TagKeys condition keys (nil: none). It runs
	// after the body is read and before authorization; an error answers
	// the request.
	RequestTags func(r *http.Request) (*auth.RequestTags, error)
}

// Dispatched is the operation a request of a Dispatch route asks for.
type Dispatched struct {
	// Action is the IAM action authorized and audited ("sts:AssumeRole").
	Action string
	// Resources are the ARNs Action is authorized on (the first audited).
	Resources []string
	// AuthOnly: no policy check by the middleware; the operation decides
	// (AssumeRole's trust policy) or needs no permission
	// (GetCallerIdentity, as on AWS).
	AuthOnly bool
	// RequestTags are the tags the operation sets (aws:RequestTag/*,
	// aws:TagKeys).
	RequestTags *auth.RequestTags
}

// ControlRoute returns a control-plane route (AWS errors, 4 MiB bodies).
func ControlRoute(name, method, pattern, action string, h http.HandlerFunc) Route {
	return Route{Name: name, Method: method, Pattern: pattern, Plane: Control, Action: action, MaxBody: ControlBodyLimit, Handler: h}
}

// DataRoute returns a data-plane route under /workspaces/{workspaceId}
// (Prometheus errors, 1 MiB bodies, an ACTIVE workspace).
func DataRoute(name, method, path, action string, h http.Handler) Route {
	return Route{Name: name, Method: method, Pattern: "/workspaces/{workspaceId}" + path, Plane: Data,
		Action: action, Workspace: true, MaxBody: QueryBodyLimit, Handler: h}
}

// One adapts a single-resource function to Route.Resources.
func One(f func(r *http.Request) string) func(*http.Request) ([]string, error) {
	return func(r *http.Request) ([]string, error) { return []string{f(r)}, nil }
}

// ARNs names an installation's resources.
type ARNs struct{ Region, AccountID string }

// Kansoku names a Kansoku-only resource:
// arn:aws:kansoku:<region>:<account>:<kind>/<id>.
func (a ARNs) Kansoku(kind, id string) string {
	return "arn:aws:kansoku:" + a.Region + ":" + a.AccountID + ":" + kind + "/" + id
}

// Workspace is a workspace's ARN, the resource of the calls on it.
func (a ARNs) Workspace(id string) string {
	return "arn:aws:aps:" + a.Region + ":" + a.AccountID + ":workspace/" + id
}

// Collection authorizes a listing of Kansoku resources of a kind: on the
// collection (<kind>/*) and, when the request asks for one workspace's
// (?workspace=), on that workspace. Each item listed is then authorized
// on its own (Allowed).
func (a ARNs) Collection(kind string) func(*http.Request) ([]string, error) {
	return func(r *http.Request) ([]string, error) {
		res := []string{a.Kansoku(kind, "*")}
		if ws := r.URL.Query().Get("workspace"); ws != "" {
			res = append(res, a.Workspace(ws))
		}
		return res, nil
	}
}

// Account is the account-wide resource of AMP actions.
func (a ARNs) Account() string {
	return "arn:aws:aps:" + a.Region + ":" + a.AccountID + ":*"
}
