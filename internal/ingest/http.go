package ingest

import (
	"net/http"

	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/tenant"
)

// Routes is Prometheus remote_write into a workspace (aps:RemoteWrite):
// the middleware authenticates the request, reads its body within the
// workspace's max_request_bytes and resolves the workspace; Handler
// decodes the body, within inflight's bound, and pushes it to d.
func (d *Distributor) Routes(inflight *Inflight) []httpapi.Route {
	h := &Handler{
		Pusher: d,
		Workspace: func(r *http.Request) string {
			ws, _ := tenant.Workspace(r.Context())
			return ws
		},
		Body:     func(r *http.Request) ([]byte, error) { return httpapi.Body(r), nil },
		Logger:   d.logger,
		Inflight: inflight,
	}
	return []httpapi.Route{
		{Name: "RemoteWrite", Method: "POST", Pattern: "/workspaces/{workspaceId}/api/v1/remote_write", Plane: httpapi.Write,
			Action: "aps:RemoteWrite", Workspace: true, MaxBody: httpapi.WriteBodyLimit, Handler: h},
	}
}
