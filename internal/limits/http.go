package limits

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Workspaces finds the workspace limits are for; its retention lives with
// the workspace (AMP's UpdateWorkspaceConfiguration), not in the overrides.
type Workspaces interface {
	Get(ctx context.Context, id string) (metastore.Workspace, error)
	SetRetention(ctx context.Context, id string, days int) error
}

// Routes are the admin API of a workspace's limits: read them with their
// overrides and defaults, change some at runtime, reset them. A workspace's
// limits are a resource of their own
// (arn:aws:kansoku:<region>:<account>:limits/<workspace>), checked with the
// workspace's ARN: "*" on a workspace lets its tenant use it, not lift its
// own guardrails.
func (s *Service) Routes(arns httpapi.ARNs, ws Workspaces) []httpapi.Route {
	h := handlers{s: s, workspaces: ws}
	lim := func(r *http.Request) ([]string, error) {
		ws := r.PathValue("workspaceId")
		return []string{arns.Kansoku("limits", ws), arns.Workspace(ws)}, nil
	}
	adm := func(name, method, action string, f http.HandlerFunc) httpapi.Route {
		return httpapi.Route{Name: name, Method: method, Pattern: "/admin/v1/workspaces/{workspaceId}/limits", Plane: httpapi.Control,
			Action: action, Resources: lim, MaxBody: 64 * httpapi.KiB, Handler: f}
	}
	return []httpapi.Route{
		adm("GetLimits", "GET", "kansoku:GetLimits", h.get),
		adm("UpdateLimits", "PATCH", "kansoku:UpdateLimits", h.update),
		adm("DeleteLimits", "DELETE", "kansoku:DeleteLimits", h.reset),
	}
}

type handlers struct {
	s          *Service
	workspaces Workspaces
}

func (h handlers) write(w http.ResponseWriter, r *http.Request, status int) {
	wsID := r.PathValue("workspaceId")
	ws, err := h.workspaces.Get(r.Context(), wsID)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	l, overrides, err := h.s.Get(r.Context(), wsID)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	l.RetentionDays = ws.RetentionDays // the workspace row is the retention's home
	httpapi.WriteJSON(w, status, map[string]any{"workspaceId": wsID, "limits": l, "overrides": overrides, "defaults": h.s.Overrides().Defaults()})
}

func (h handlers) get(w http.ResponseWriter, r *http.Request) {
	h.write(w, r, http.StatusOK)
}

func (h handlers) update(w http.ResponseWriter, r *http.Request) {
	wsID := r.PathValue("workspaceId")
	if _, err := h.workspaces.Get(r.Context(), wsID); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	var partial map[string]json.RawMessage
	if err := httpapi.DecodeStrictJSON(r, &partial); err != nil || partial == nil {
		httpapi.WriteError(w, r, httpapi.Control, apierr.Validation(apierr.ReasonCannotParse, "the body must be a JSON object of limits, e.g. {\"ingestion_rate\": 50000}: %v", err))
		return
	}
	// Retention lives with the workspace (UpdateWorkspaceConfiguration).
	if raw, ok := partial["retention_days"]; ok {
		var days int
		if err := json.Unmarshal(raw, &days); err != nil {
			httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("retention_days", "must be a number of days"))
			return
		}
		if err := h.workspaces.SetRetention(r.Context(), wsID, days); err != nil {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
		delete(partial, "retention_days")
	}
	rest, _ := json.Marshal(partial)
	if _, err := h.s.Set(r.Context(), wsID, rest); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, apierr.Validation(apierr.ReasonFieldValidation, "%v", err))
		return
	}
	h.write(w, r, http.StatusOK)
}

func (h handlers) reset(w http.ResponseWriter, r *http.Request) {
	wsID := r.PathValue("workspaceId")
	if _, err := h.workspaces.Get(r.Context(), wsID); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if err := h.s.Reset(r.Context(), wsID); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	h.write(w, r, http.StatusOK)
}
