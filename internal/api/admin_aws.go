package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/awsint/catalog"
	"github.com/kansoku/kansoku/internal/hosts"
	"github.com/kansoku/kansoku/internal/httpapi"
)

// awsRoutes are the admin API of AWS integrations and the host inventory.
// Each call is authorized on the ARN of the workspace it concerns, so a
// policy can grant one team its own workspace's integrations and hosts.
func (s *Server) awsRoutes() []route {
	if s.AWS == nil || s.Hosts == nil {
		return nil
	}
	adm := func(name, method, pattern, action string, res func(*http.Request) ([]string, error), h http.HandlerFunc) route {
		return route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, Action: action, Resources: res, MaxBody: 256 * httpapi.KiB, Handler: h}
	}
	anyService := func(*http.Request) ([]string, error) { return []string{"*"}, nil }
	// An integration or host is authorized on its own ARN and on its
	// workspace's, so a Deny on a workspace covers its integrations and
	// hosts, and "*" on a workspace alone does not grant them.
	integration := func(r *http.Request) ([]string, error) {
		i, err := s.AWS.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return []string{s.arns.Kansoku("awsintegration", i.ID), s.workspaces.ARN(i.WorkspaceID)}, nil
	}
	host := func(r *http.Request) ([]string, error) {
		h, err := s.Hosts.Get(r.Context(), r.PathValue("id"))
		if errors.Is(err, hosts.ErrNotFound) {
			return nil, apierr.NotFound("Host", r.PathValue("id"), "host %s does not exist", r.PathValue("id"))
		}
		if err != nil {
			return nil, err
		}
		return []string{s.arns.Kansoku("host", h.ID), s.workspaces.ARN(h.WorkspaceID)}, nil
	}
	// Listings name the collection (and the workspace asked for); each
	// item is then authorized on its own.
	collection := func(kind string) func(*http.Request) ([]string, error) {
		return func(r *http.Request) ([]string, error) {
			res := []string{s.arns.Kansoku(kind, "*")}
			if ws := r.URL.Query().Get("workspace"); ws != "" {
				res = append(res, s.workspaces.ARN(ws))
			}
			return res, nil
		}
	}
	newIntegration := func(r *http.Request) ([]string, error) {
		var in awsint.CreateInput
		if err := httpapi.DecodeStrictJSON(r, &in); err != nil { // exactly as the handler decodes it
			return nil, err
		}
		if in.WorkspaceID == "" {
			return nil, apierr.InvalidField("workspaceId", "the workspace the integration writes into is required")
		}
		return []string{s.arns.Kansoku("awsintegration", "*"), s.workspaces.ARN(in.WorkspaceID)}, nil
	}
	workspaceHosts := func(r *http.Request) ([]string, error) {
		return []string{s.arns.Kansoku("host", "*"), s.workspaces.ARN(r.PathValue("workspaceId"))}, nil
	}
	return []route{
		adm("ListAWSServices", "GET", "/admin/v1/aws/services", "kansoku:ListAWSIntegrations", anyService, s.listAWSServices),
		adm("ListAWSIntegrations", "GET", "/admin/v1/aws/integrations", "kansoku:ListAWSIntegrations", collection("awsintegration"), s.listAWSIntegrations),
		adm("CreateAWSIntegration", "POST", "/admin/v1/aws/integrations", "kansoku:CreateAWSIntegration", newIntegration, s.createAWSIntegration),
		adm("GetAWSIntegration", "GET", "/admin/v1/aws/integrations/{id}", "kansoku:GetAWSIntegration", integration, s.getAWSIntegration),
		adm("UpdateAWSIntegration", "PATCH", "/admin/v1/aws/integrations/{id}", "kansoku:UpdateAWSIntegration", integration, s.updateAWSIntegration),
		adm("DeleteAWSIntegration", "DELETE", "/admin/v1/aws/integrations/{id}", "kansoku:DeleteAWSIntegration", integration, s.deleteAWSIntegration),
		adm("ValidateAWSIntegration", "POST", "/admin/v1/aws/integrations/{id}/validate", "kansoku:UpdateAWSIntegration", integration, s.validateAWSIntegration),
		adm("PollAWSIntegration", "POST", "/admin/v1/aws/integrations/{id}/poll", "kansoku:PollAWSIntegration", integration, s.pollAWSIntegration),
		adm("GetAWSIntegrationPolicies", "GET", "/admin/v1/aws/integrations/{id}/policies", "kansoku:GetAWSIntegration", integration, s.getAWSIntegrationPolicies),
		adm("ListHosts", "GET", "/admin/v1/hosts", "kansoku:ListHosts", collection("host"), s.listHosts),
		adm("GetHost", "GET", "/admin/v1/hosts/{id}", "kansoku:GetHost", host, s.getHost),
		adm("RetireHost", "POST", "/admin/v1/hosts/{id}/retire", "kansoku:RetireHost", host, s.retireHost),
		adm("ListHostRoles", "GET", "/admin/v1/workspaces/{workspaceId}/roles", "kansoku:ListHosts", workspaceHosts, s.listHostRoles),
	}
}

type awsServiceInfo struct {
	Key        string               `json:"key"`
	Name       string               `json:"name"`
	HostKind   string               `json:"hostKind"`
	Actions    []string             `json:"actions"`
	SeedPolicy string               `json:"awsManagedPolicy"`
	Metrics    []catalog.Selectable `json:"metrics"`
}

func (s *Server) listAWSServices(w http.ResponseWriter, r *http.Request) {
	out := []awsServiceInfo{}
	for _, p := range catalog.All() {
		out = append(out, awsServiceInfo{Key: p.Key, Name: p.Name, HostKind: p.HostKind, Actions: p.Actions, SeedPolicy: p.SeedPolicy, Metrics: p.Selectables()})
	}
	full := catalog.FullPolicy()
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"services": out, "fullPolicy": full, "commonActions": catalog.CommonActions})
}

func (s *Server) listAWSIntegrations(w http.ResponseWriter, r *http.Request) {
	list, err := s.AWS.List(r.Context(), r.URL.Query().Get("workspace"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := list[:0]
	for _, i := range list {
		if httpapi.Allowed(r, "kansoku:ListAWSIntegrations", s.arns.Kansoku("awsintegration", i.ID), s.workspaces.ARN(i.WorkspaceID)) {
			out = append(out, i)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"integrations": out})
}

func (s *Server) createAWSIntegration(w http.ResponseWriter, r *http.Request) {
	var in awsint.CreateInput
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	i, err := s.AWS.Create(r.Context(), in)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	s.writeIntegration(w, r, http.StatusCreated, i)
}

// writeIntegration answers with an integration and, for a role, the
// policies to paste into IAM.
func (s *Server) writeIntegration(w http.ResponseWriter, r *http.Request, status int, i awsint.Integration) {
	out := map[string]any{"integration": i}
	if p, err := s.AWS.Policies(r.Context(), i.ID); err == nil {
		out["policies"] = p
	} else {
		out["policiesError"] = err.Error()
	}
	httpapi.WriteJSON(w, status, out)
}

func (s *Server) getAWSIntegration(w http.ResponseWriter, r *http.Request) {
	i, err := s.AWS.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"integration": i})
}

func (s *Server) updateAWSIntegration(w http.ResponseWriter, r *http.Request) {
	var in awsint.UpdateInput
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	i, err := s.AWS.Update(r.Context(), r.PathValue("id"), in)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	s.writeIntegration(w, r, http.StatusOK, i)
}

func (s *Server) deleteAWSIntegration(w http.ResponseWriter, r *http.Request) {
	if err := s.AWS.Delete(r.Context(), r.PathValue("id")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) validateAWSIntegration(w http.ResponseWriter, r *http.Request) {
	i, err := s.AWS.Validate(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"integration": i})
}

func (s *Server) pollAWSIntegration(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rep, err := s.AWS.Poll(r.Context(), id, time.Now())
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
		httpapi.WriteError(w, r, httpapi.Control, apierr.Conflict(awsint.ResourceType, id, "%v", err))
		return
	}
	i, err := s.AWS.Get(r.Context(), id)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"report": rep, "integration": i})
}

func (s *Server) getAWSIntegrationPolicies(w http.ResponseWriter, r *http.Request) {
	p, err := s.AWS.Policies(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}

func (s *Server) listHosts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := hosts.Filter{Workspace: q.Get("workspace"), Product: q.Get("product"), Service: q.Get("service"), Role: q.Get("role"),
		Status: q.Get("status"), Kind: q.Get("kind"), Integration: q.Get("integration"), Tag: q.Get("tag"), WithRetired: q.Get("retired") == "true"}
	list, err := s.Hosts.List(r.Context(), f)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := list[:0]
	for _, h := range list {
		if httpapi.Allowed(r, "kansoku:ListHosts", s.arns.Kansoku("host", h.ID), s.workspaces.ARN(h.WorkspaceID)) {
			out = append(out, h)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"hosts": out})
}

func (s *Server) hostError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, hosts.ErrNotFound) {
		err = apierr.NotFound("Host", r.PathValue("id"), "host %s does not exist", r.PathValue("id"))
	}
	httpapi.WriteError(w, r, httpapi.Control, err)
}

func (s *Server) getHost(w http.ResponseWriter, r *http.Request) {
	h, err := s.Hosts.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.hostError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"host": h})
}

func (s *Server) retireHost(w http.ResponseWriter, r *http.Request) {
	h, err := s.Hosts.Retire(r.Context(), r.PathValue("id"))
	if err != nil {
		s.hostError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"host": h})
}

func (s *Server) listHostRoles(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("workspaceId")
	if _, err := s.workspaces.Get(r.Context(), ws); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	roles, err := s.Hosts.Roles(r.Context(), ws)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"roles": roles})
}
