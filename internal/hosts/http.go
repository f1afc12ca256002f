package hosts

import (
	"context"
	"errors"
	"net/http"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
)

// Existing says whether a workspace exists (an error when it does not).
type Existing interface {
	Exists(ctx context.Context, id string) error
}

// Routes are the admin API of the host inventory: list hosts (each one
// the caller may see), read or retire one, and list a workspace's
// service:roles. A host is authorized on its own ARN and on its
// workspace's, as AWS integrations are.
func (s *Service) Routes(arns httpapi.ARNs, ws Existing) []httpapi.Route {
	h := handlers{s: s, arns: arns, workspaces: ws}
	adm := func(name, method, pattern, action string, res func(*http.Request) ([]string, error), f http.HandlerFunc) httpapi.Route {
		return httpapi.Route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, Action: action, Resources: res, MaxBody: 256 * httpapi.KiB, Handler: f}
	}
	workspaceHosts := func(r *http.Request) ([]string, error) {
		return []string{arns.Kansoku("host", "*"), arns.Workspace(r.PathValue("workspaceId"))}, nil
	}
	return []httpapi.Route{
		adm("ListHosts", "GET", "/admin/v1/hosts", "kansoku:ListHosts", arns.Collection("host"), h.list),
		adm("GetHost", "GET", "/admin/v1/hosts/{id}", "kansoku:GetHost", h.host, h.get),
		adm("RetireHost", "POST", "/admin/v1/hosts/{id}/retire", "kansoku:RetireHost", h.host, h.retire),
		adm("ListHostRoles", "GET", "/admin/v1/workspaces/{workspaceId}/roles", "kansoku:ListHosts", workspaceHosts, h.roles),
	}
}

type handlers struct {
	s          *Service
	arns       httpapi.ARNs
	workspaces Existing
}

// notFound maps ErrNotFound to the API's ResourceNotFoundException.
func notFound(r *http.Request, err error) error {
	if errors.Is(err, ErrNotFound) {
		return apierr.NotFound("Host", r.PathValue("id"), "host %s does not exist", r.PathValue("id"))
	}
	return err
}

// host authorizes a call on the host in the path: its ARN and its
// workspace's.
func (h handlers) host(r *http.Request) ([]string, error) {
	host, err := h.s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, notFound(r, err)
	}
	return []string{h.arns.Kansoku("host", host.ID), h.arns.Workspace(host.WorkspaceID)}, nil
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := Filter{Workspace: q.Get("workspace"), Product: q.Get("product"), Service: q.Get("service"), Role: q.Get("role"),
		Status: q.Get("status"), Kind: q.Get("kind"), Integration: q.Get("integration"), Tag: q.Get("tag"), WithRetired: q.Get("retired") == "true"}
	list, err := h.s.List(r.Context(), f)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := list[:0]
	for _, host := range list {
		if httpapi.Allowed(r, "kansoku:ListHosts", h.arns.Kansoku("host", host.ID), h.arns.Workspace(host.WorkspaceID)) {
			out = append(out, host)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"hosts": out})
}

func (h handlers) get(w http.ResponseWriter, r *http.Request) {
	host, err := h.s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, notFound(r, err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"host": host})
}

func (h handlers) retire(w http.ResponseWriter, r *http.Request) {
	host, err := h.s.Retire(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, notFound(r, err))
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"host": host})
}

func (h handlers) roles(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("workspaceId")
	if err := h.workspaces.Exists(r.Context(), ws); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	roles, err := h.s.Roles(r.Context(), ws)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"roles": roles})
}
