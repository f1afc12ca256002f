package usage

import (
	"context"
	"net/http"

	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/ingest"
	"github.com/kansoku/kansoku/internal/limits"
)

// Existing says whether a workspace exists (an error when it does not).
type Existing interface {
	Exists(ctx context.Context, id string) error
}

// Routes are the admin API of a workspace's usage (`kansoku usage`): the
// report against the workspace's limits and, with HA deduplication, each
// cluster's elected replica. Authorized on the workspace's ARN (the
// route's default).
func (t *Tracker) Routes(ws Existing, lim *limits.Overrides, ha *ingest.HATracker) []httpapi.Route {
	get := func(w http.ResponseWriter, r *http.Request) {
		wsID := r.PathValue("workspaceId")
		if err := ws.Exists(r.Context(), wsID); err != nil {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
		out := map[string]any{"usage": t.Report(wsID), "limits": lim.For(wsID)}
		if ha != nil {
			out["haElectedReplicas"] = ha.Elected(wsID)
		}
		httpapi.WriteJSON(w, http.StatusOK, out)
	}
	return []httpapi.Route{
		{Name: "GetUsage", Method: "GET", Pattern: "/admin/v1/workspaces/{workspaceId}/usage", Plane: httpapi.Control,
			Action: "kansoku:GetUsage", MaxBody: 64 * httpapi.KiB, Handler: http.HandlerFunc(get)},
	}
}
