package awsint

import (
	"errors"
	"net/http"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/awsint/catalog"
	"github.com/kansoku/kansoku/internal/httpapi"
)

// Routes are the admin API of AWS integrations: the catalog of AWS
// services, and create, read, update, delete, validate and poll an
// integration, with the IAM policies to paste into the customer's account.
// An integration is authorized on its own ARN and on its workspace's, so a
// Deny on a workspace covers its integrations, and "*" on a workspace alone
// does not grant them.
func (s *Service) Routes(arns httpapi.ARNs) []httpapi.Route {
	h := handlers{s: s, arns: arns}
	adm := func(name, method, pattern, action string, res func(*http.Request) ([]string, error), f http.HandlerFunc) httpapi.Route {
		return httpapi.Route{Name: name, Method: method, Pattern: pattern, Plane: httpapi.Control, Action: action, Resources: res, MaxBody: 256 * httpapi.KiB, Handler: f}
	}
	anyService := func(*http.Request) ([]string, error) { return []string{"*"}, nil }
	return []httpapi.Route{
		adm("ListAWSServices", "GET", "/admin/v1/aws/services", "kansoku:ListAWSIntegrations", anyService, h.listServices),
		adm("ListAWSIntegrations", "GET", "/admin/v1/aws/integrations", "kansoku:ListAWSIntegrations", arns.Collection("awsintegration"), h.list),
		adm("CreateAWSIntegration", "POST", "/admin/v1/aws/integrations", "kansoku:CreateAWSIntegration", h.newIntegration, h.create),
		adm("GetAWSIntegration", "GET", "/admin/v1/aws/integrations/{id}", "kansoku:GetAWSIntegration", h.integration, h.get),
		adm("UpdateAWSIntegration", "PATCH", "/admin/v1/aws/integrations/{id}", "kansoku:UpdateAWSIntegration", h.integration, h.update),
		adm("DeleteAWSIntegration", "DELETE", "/admin/v1/aws/integrations/{id}", "kansoku:DeleteAWSIntegration", h.integration, h.delete),
		adm("ValidateAWSIntegration", "POST", "/admin/v1/aws/integrations/{id}/validate", "kansoku:UpdateAWSIntegration", h.integration, h.validate),
		adm("PollAWSIntegration", "POST", "/admin/v1/aws/integrations/{id}/poll", "kansoku:PollAWSIntegration", h.integration, h.poll),
		adm("GetAWSIntegrationPolicies", "GET", "/admin/v1/aws/integrations/{id}/policies", "kansoku:GetAWSIntegration", h.integration, h.policies),
	}
}

type handlers struct {
	s    *Service
	arns httpapi.ARNs
}

// integration authorizes a call on the integration in the path: its ARN
// and its workspace's.
func (h handlers) integration(r *http.Request) ([]string, error) {
	i, err := h.s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return []string{h.arns.Kansoku("awsintegration", i.ID), h.arns.Workspace(i.WorkspaceID)}, nil
}

// newIntegration authorizes a creation on the collection and on the
// workspace the body names, decoded exactly as the handler decodes it.
func (h handlers) newIntegration(r *http.Request) ([]string, error) {
	var in CreateInput
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		return nil, err
	}
	if in.WorkspaceID == "" {
		return nil, apierr.InvalidField("workspaceId", "the workspace the integration writes into is required")
	}
	return []string{h.arns.Kansoku("awsintegration", "*"), h.arns.Workspace(in.WorkspaceID)}, nil
}

type serviceInfo struct {
	Key              string               `json:"key"`
	Name             string               `json:"name"`
	HostKind         string               `json:"hostKind"`
	HostUnit         string               `json:"hostUnit"`
	Scope            string               `json:"scope"` // regional, global, or both
	Tagged           bool                 `json:"tagged"`
	DefaultSettings  ServiceSettings      `json:"defaultSettings"`
	Actions          []string             `json:"actions"`
	AWSManagedPolicy string               `json:"awsManagedPolicy"`
	Labels           map[string]string    `json:"labels"`
	Metrics          []catalog.Selectable `json:"metrics"`
}

func scopeOf(p *catalog.Product) string {
	switch {
	case p.Regional != nil && p.Global != nil:
		return "both"
	case p.Global != nil:
		return "global"
	}
	return "regional"
}

func (h handlers) listServices(w http.ResponseWriter, r *http.Request) {
	out := []serviceInfo{}
	for _, p := range catalog.All() {
		labels := p.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		out = append(out, serviceInfo{Key: p.Key, Name: p.Name, HostKind: p.HostKind, HostUnit: p.HostUnit, Scope: scopeOf(p), Tagged: !p.Untagged,
			DefaultSettings: DefaultServiceSettings(p.Key), Actions: p.Actions, AWSManagedPolicy: p.AWSManagedPolicy, Labels: labels, Metrics: p.Selectables()})
	}
	full := catalog.FullPolicy()
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"services": out, "fullPolicy": full, "commonActions": catalog.CommonActions})
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	list, err := h.s.List(r.Context(), r.URL.Query().Get("workspace"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := list[:0]
	for _, i := range list {
		if httpapi.Allowed(r, "kansoku:ListAWSIntegrations", h.arns.Kansoku("awsintegration", i.ID), h.arns.Workspace(i.WorkspaceID)) {
			out = append(out, i)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"integrations": out})
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) {
	var in CreateInput
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	i, err := h.s.Create(r.Context(), in)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	h.writeIntegration(w, r, http.StatusCreated, i)
}

// writeIntegration answers with an integration and, for a role, the
// policies to paste into IAM.
func (h handlers) writeIntegration(w http.ResponseWriter, r *http.Request, status int, i Integration) {
	out := map[string]any{"integration": i}
	if p, err := h.s.Policies(r.Context(), i.ID); err == nil {
		out["policies"] = p
	} else {
		out["policiesError"] = err.Error()
	}
	httpapi.WriteJSON(w, status, out)
}

func (h handlers) get(w http.ResponseWriter, r *http.Request) {
	i, err := h.s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"integration": i})
}

func (h handlers) update(w http.ResponseWriter, r *http.Request) {
	var in UpdateInput
	if err := httpapi.DecodeStrictJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	i, err := h.s.Update(r.Context(), r.PathValue("id"), in)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	h.writeIntegration(w, r, http.StatusOK, i)
}

func (h handlers) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.s.Delete(r.Context(), r.PathValue("id")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h handlers) validate(w http.ResponseWriter, r *http.Request) {
	i, err := h.s.Validate(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"integration": i})
}

func (h handlers) poll(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rep, err := h.s.Poll(r.Context(), id, time.Now())
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			httpapi.WriteError(w, r, httpapi.Control, err)
			return
		}
		httpapi.WriteError(w, r, httpapi.Control, apierr.Conflict(ResourceType, id, "%v", err))
		return
	}
	i, err := h.s.Get(r.Context(), id)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"report": rep, "integration": i})
}

func (h handlers) policies(w http.ResponseWriter, r *http.Request) {
	p, err := h.s.Policies(r.Context(), r.PathValue("id"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, p)
}
