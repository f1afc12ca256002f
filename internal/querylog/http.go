package querylog

import (
	"net/http"

	"github.com/kansoku/kansoku/internal/httpapi"
)

// Routes are AMP's query logging configuration API, authorized on the
// workspace's ARN (the route's default). The workspace log's events are
// read through wslog's FilterLogEvents (component "query").
func (s *Service) Routes() []httpapi.Route {
	cp := httpapi.ControlRoute
	return []httpapi.Route{
		cp("CreateQueryLoggingConfiguration", "POST", "/workspaces/{workspaceId}/logging/query", "aps:CreateQueryLoggingConfiguration", s.handleCreate),
		cp("DescribeQueryLoggingConfiguration", "GET", "/workspaces/{workspaceId}/logging/query", "aps:DescribeQueryLoggingConfiguration", s.handleDescribe),
		cp("UpdateQueryLoggingConfiguration", "PUT", "/workspaces/{workspaceId}/logging/query", "aps:UpdateQueryLoggingConfiguration", s.handleUpdate),
		cp("DeleteQueryLoggingConfiguration", "DELETE", "/workspaces/{workspaceId}/logging/query", "aps:DeleteQueryLoggingConfiguration", s.handleDelete),
	}
}

type input struct {
	Destinations []Destination `json:"destinations"`
	ClientToken  string        `json:"clientToken"`
}

func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request) {
	var in input
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	c, err := s.Create(r.Context(), r.PathValue("workspaceId"), in.Destinations, in.ClientToken)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"status": httpapi.Status{StatusCode: c.Status, StatusReason: c.StatusReason}})
}

func (s *Service) handleUpdate(w http.ResponseWriter, r *http.Request) {
	var in input
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	c, err := s.Update(r.Context(), r.PathValue("workspaceId"), in.Destinations, in.ClientToken)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"status": httpapi.Status{StatusCode: c.Status, StatusReason: c.StatusReason}})
}

func (s *Service) handleDescribe(w http.ResponseWriter, r *http.Request) {
	c, err := s.Describe(r.Context(), r.PathValue("workspaceId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	ds := c.Dests
	if ds == nil {
		ds = []Destination{}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"queryLoggingConfiguration": map[string]any{
		"status": httpapi.Status{StatusCode: c.Status, StatusReason: c.StatusReason}, "workspace": c.WorkspaceID,
		"destinations": ds, "createdAt": httpapi.AWSTime(c.CreatedAt), "modifiedAt": httpapi.AWSTime(c.ModifiedAt)}})
}

func (s *Service) handleDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.Delete(r.Context(), r.PathValue("workspaceId"), r.URL.Query().Get("clientToken")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
