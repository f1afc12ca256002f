package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/awsint"
	"github.com/kansoku/kansoku/internal/awsint/catalog"
	"github.com/kansoku/kansoku/internal/hosts"
)

// awsRoutes are the admin API of AWS integrations and the host inventory.
// Each call is authorized on the ARN of the workspace it concerns, so a
// policy can grant one team its own workspace's integrations and hosts.
func (s *Server) awsRoutes() []route {
	if s.AWS == nil || s.Hosts == nil {
		return nil
	}
	adm := func(name, method, pattern, action string, res func(*Server, *http.Request) string, h http.HandlerFunc) route {
		return route{name: name, method: method, pattern: pattern, plane: planeControl, action: action, resource: res, maxBody: 256 * kib, handler: h}
	}
	integrationWS := func(s *Server, r *http.Request) string {
		if i, err := s.AWS.Get(r.Context(), r.PathValue("id")); err == nil {
			return s.workspaces.ARN(i.WorkspaceID)
		}
		return s.accountResource()
	}
	hostWS := func(s *Server, r *http.Request) string {
		if h, err := s.Hosts.Get(r.Context(), r.PathValue("id")); err == nil {
			return s.workspaces.ARN(h.WorkspaceID)
		}
		return s.accountResource()
	}
	queryWS := func(s *Server, r *http.Request) string {
		if ws := r.URL.Query().Get("workspace"); ws != "" {
			return s.workspaces.ARN(ws)
		}
		return s.accountResource()
	}
	bodyWS := func(s *Server, r *http.Request) string {
		var in struct {
			WorkspaceID string `json:"workspaceId"`
		}
		body, _ := requestBody(r)
		if json.Unmarshal(body, &in) == nil && in.WorkspaceID != "" {
			return s.workspaces.ARN(in.WorkspaceID)
		}
		return s.accountResource()
	}
	pathWS := func(s *Server, r *http.Request) string { return s.workspaces.ARN(r.PathValue("workspaceId")) }
	return []route{
		adm("ListAWSServices", "GET", "/admin/v1/aws/services", "kansoku:ListAWSIntegrations", nil, s.listAWSServices),
		adm("ListAWSIntegrations", "GET", "/admin/v1/aws/integrations", "kansoku:ListAWSIntegrations", queryWS, s.listAWSIntegrations),
		adm("CreateAWSIntegration", "POST", "/admin/v1/aws/integrations", "kansoku:CreateAWSIntegration", bodyWS, s.createAWSIntegration),
		adm("GetAWSIntegration", "GET", "/admin/v1/aws/integrations/{id}", "kansoku:GetAWSIntegration", integrationWS, s.getAWSIntegration),
		adm("UpdateAWSIntegration", "PATCH", "/admin/v1/aws/integrations/{id}", "kansoku:UpdateAWSIntegration", integrationWS, s.updateAWSIntegration),
		adm("DeleteAWSIntegration", "DELETE", "/admin/v1/aws/integrations/{id}", "kansoku:DeleteAWSIntegration", integrationWS, s.deleteAWSIntegration),
		adm("ValidateAWSIntegration", "POST", "/admin/v1/aws/integrations/{id}/validate", "kansoku:UpdateAWSIntegration", integrationWS, s.validateAWSIntegration),
		adm("PollAWSIntegration", "POST", "/admin/v1/aws/integrations/{id}/poll", "kansoku:PollAWSIntegration", integrationWS, s.pollAWSIntegration),
		adm("GetAWSIntegrationPolicies", "GET", "/admin/v1/aws/integrations/{id}/policies", "kansoku:GetAWSIntegration", integrationWS, s.getAWSIntegrationPolicies),
		adm("ListHosts", "GET", "/admin/v1/hosts", "kansoku:ListHosts", queryWS, s.listHosts),
		adm("GetHost", "GET", "/admin/v1/hosts/{id}", "kansoku:GetHost", hostWS, s.getHost),
		adm("RetireHost", "POST", "/admin/v1/hosts/{id}/retire", "kansoku:RetireHost", hostWS, s.retireHost),
		adm("ListHostRoles", "GET", "/admin/v1/workspaces/{workspaceId}/roles", "kansoku:ListHosts", pathWS, s.listHostRoles),
	}
}

func (s *Server) accountResource() string {
	return "arn:aws:aps:" + s.Region + ":" + s.AccountID + ":*"
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
	writeJSON(w, http.StatusOK, map[string]any{"services": out, "fullPolicy": full, "commonActions": catalog.CommonActions})
}

func (s *Server) listAWSIntegrations(w http.ResponseWriter, r *http.Request) {
	list, err := s.AWS.List(r.Context(), r.URL.Query().Get("workspace"))
	if err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"integrations": list})
}

func (s *Server) createAWSIntegration(w http.ResponseWriter, r *http.Request) {
	var in awsint.CreateInput
	if err := decodeStrictJSON(r, &in); err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	i, err := s.AWS.Create(r.Context(), in)
	if err != nil {
		s.writeError(w, r, planeControl, err)
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
	writeJSON(w, status, out)
}

func (s *Server) getAWSIntegration(w http.ResponseWriter, r *http.Request) {
	i, err := s.AWS.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"integration": i})
}

func (s *Server) updateAWSIntegration(w http.ResponseWriter, r *http.Request) {
	var in awsint.UpdateInput
	if err := decodeStrictJSON(r, &in); err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	i, err := s.AWS.Update(r.Context(), r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	s.writeIntegration(w, r, http.StatusOK, i)
}

func (s *Server) deleteAWSIntegration(w http.ResponseWriter, r *http.Request) {
	if err := s.AWS.Delete(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) validateAWSIntegration(w http.ResponseWriter, r *http.Request) {
	i, err := s.AWS.Validate(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"integration": i})
}

func (s *Server) pollAWSIntegration(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rep, err := s.AWS.Poll(r.Context(), id, time.Now())
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			s.writeError(w, r, planeControl, err)
			return
		}
		s.writeError(w, r, planeControl, apierr.Conflict(awsint.ResourceType, id, "%v", err))
		return
	}
	i, err := s.AWS.Get(r.Context(), id)
	if err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"report": rep, "integration": i})
}

func (s *Server) getAWSIntegrationPolicies(w http.ResponseWriter, r *http.Request) {
	p, err := s.AWS.Policies(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) listHosts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := hosts.Filter{Workspace: q.Get("workspace"), Product: q.Get("product"), Service: q.Get("service"), Role: q.Get("role"),
		Status: q.Get("status"), Kind: q.Get("kind"), Integration: q.Get("integration"), Tag: q.Get("tag"), WithRetired: q.Get("retired") == "true"}
	list, err := s.Hosts.List(r.Context(), f)
	if err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"hosts": list})
}

func (s *Server) hostError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, hosts.ErrNotFound) {
		err = apierr.NotFound("Host", r.PathValue("id"), "host %s does not exist", r.PathValue("id"))
	}
	s.writeError(w, r, planeControl, err)
}

func (s *Server) getHost(w http.ResponseWriter, r *http.Request) {
	h, err := s.Hosts.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.hostError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"host": h})
}

func (s *Server) retireHost(w http.ResponseWriter, r *http.Request) {
	h, err := s.Hosts.Retire(r.Context(), r.PathValue("id"))
	if err != nil {
		s.hostError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"host": h})
}

func (s *Server) listHostRoles(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("workspaceId")
	if _, err := s.workspaces.Get(r.Context(), ws); err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	roles, err := s.Hosts.Roles(r.Context(), ws)
	if err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"roles": roles})
}
