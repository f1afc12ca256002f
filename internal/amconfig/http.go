package amconfig

import (
	"net/http"

	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Routes are AMP's Alertmanager definition API, authorized on the
// workspace's ARN (the route's default).
func (s *Service) Routes() []httpapi.Route {
	h := handlers{s}
	cp := httpapi.ControlRoute
	return []httpapi.Route{
		cp("CreateAlertManagerDefinition", "POST", "/workspaces/{workspaceId}/alertmanager/definition", "aps:CreateAlertManagerDefinition", h.create),
		cp("DescribeAlertManagerDefinition", "GET", "/workspaces/{workspaceId}/alertmanager/definition", "aps:DescribeAlertManagerDefinition", h.describe),
		cp("PutAlertManagerDefinition", "PUT", "/workspaces/{workspaceId}/alertmanager/definition", "aps:PutAlertManagerDefinition", h.put),
		cp("DeleteAlertManagerDefinition", "DELETE", "/workspaces/{workspaceId}/alertmanager/definition", "aps:DeleteAlertManagerDefinition", h.delete),
	}
}

// handlers decode AMP's REST JSON and call the Service.
type handlers struct{ s *Service }

func (h handlers) create(w http.ResponseWriter, r *http.Request) { h.write(w, r, true) }

func (h handlers) put(w http.ResponseWriter, r *http.Request) { h.write(w, r, false) }

func (h handlers) write(w http.ResponseWriter, r *http.Request, create bool) {
	var in httpapi.BlobInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	data, err := in.Blob()
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	var d metastore.AlertmanagerDefinition
	if create {
		d, err = h.s.Create(r.Context(), r.PathValue("workspaceId"), data, in.ClientToken)
	} else {
		d, err = h.s.Put(r.Context(), r.PathValue("workspaceId"), data, in.ClientToken)
	}
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	status := httpapi.DoubleEncodedHint(httpapi.Status{StatusCode: d.Status, StatusReason: d.StatusReason}, data)
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"status": status})
}

func (h handlers) describe(w http.ResponseWriter, r *http.Request) {
	d, err := h.s.Describe(r.Context(), r.PathValue("workspaceId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"alertManagerDefinition": map[string]any{
		"status": httpapi.Status{StatusCode: d.Status, StatusReason: d.StatusReason}, "data": d.Data,
		"createdAt": httpapi.AWSTime(d.CreatedAt), "modifiedAt": httpapi.AWSTime(d.ModifiedAt)}})
}

func (h handlers) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.s.Delete(r.Context(), r.PathValue("workspaceId"), r.URL.Query().Get("clientToken")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
