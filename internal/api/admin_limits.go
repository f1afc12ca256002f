package api

import (
	"encoding/json"
	"net/http"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
)

// limitsRoutes are the admin API for per-workspace limits and usage.
func (s *Server) limitsRoutes() []route {
	// A workspace's limits are a resource of their own
	// (arn:aws:kansoku:<region>:<account>:limits/<workspace>), checked with
	// the workspace's ARN: "*" on a workspace lets its tenant use it, not
	// lift its own guardrails.
	lim := func(r *http.Request) ([]string, error) {
		ws := r.PathValue("workspaceId")
		return []string{s.arns.Kansoku("limits", ws), s.workspaces.ARN(ws)}, nil
	}
	ws := func(r *http.Request) ([]string, error) {
		return []string{s.workspaces.ARN(r.PathValue("workspaceId"))}, nil
	}
	adm := func(name, method, pattern, action string, res func(*http.Request) ([]string, error), h http.HandlerFunc) route {
		return route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, Action: action, Resources: res, MaxBody: 64 * httpapi.KiB, Handler: h}
	}
	return []route{
		adm("GetLimits", "GET", "/admin/v1/workspaces/{workspaceId}/limits", "kansoku:GetLimits", lim, s.getLimits),
		adm("UpdateLimits", "PATCH", "/admin/v1/workspaces/{workspaceId}/limits", "kansoku:UpdateLimits", lim, s.updateLimits),
		adm("DeleteLimits", "DELETE", "/admin/v1/workspaces/{workspaceId}/limits", "kansoku:DeleteLimits", lim, s.resetLimits),
		adm("GetUsage", "GET", "/admin/v1/workspaces/{workspaceId}/usage", "kansoku:GetUsage", ws, s.getUsage),
	}
}

func (s *Server) writeLimits(w http.ResponseWriter, r *http.Request, status int) {
	wsID := r.PathValue("workspaceId")
	ws, err := s.workspaces.Get(r.Context(), wsID)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	l, overrides, err := s.LimitsService.Get(r.Context(), wsID)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	l.RetentionDays = ws.RetentionDays // the workspace row is the retention's home
	httpapi.WriteJSON(w, status, map[string]any{"workspaceId": wsID, "limits": l, "overrides": overrides, "defaults": s.LimitsService.Overrides().Defaults()})
}

func (s *Server) getLimits(w http.ResponseWriter, r *http.Request) {
	s.writeLimits(w, r, http.StatusOK)
}

func (s *Server) updateLimits(w http.ResponseWriter, r *http.Request) {
	wsID := r.PathValue("workspaceId")
	if _, err := s.workspaces.Get(r.Context(), wsID); err != nil {
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
		if err := s.workspaces.SetRetention(r.Context(), wsID, days); err != nil {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
		delete(partial, "retention_days")
	}
	rest, _ := json.Marshal(partial)
	if _, err := s.LimitsService.Set(r.Context(), wsID, rest); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, apierr.Validation(apierr.ReasonFieldValidation, "%v", err))
		return
	}
	s.writeLimits(w, r, http.StatusOK)
}

func (s *Server) resetLimits(w http.ResponseWriter, r *http.Request) {
	wsID := r.PathValue("workspaceId")
	if _, err := s.workspaces.Get(r.Context(), wsID); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if err := s.LimitsService.Reset(r.Context(), wsID); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	s.writeLimits(w, r, http.StatusOK)
}

func (s *Server) getUsage(w http.ResponseWriter, r *http.Request) {
	wsID := r.PathValue("workspaceId")
	if _, err := s.workspaces.Get(r.Context(), wsID); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	rep := s.Usage.Report(wsID)
	out := map[string]any{"usage": rep, "limits": s.Limits.For(wsID)}
	if s.HA != nil {
		out["haElectedReplicas"] = s.HA.Elected(wsID)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}
