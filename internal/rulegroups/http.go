package rulegroups

import (
	"net/http"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
)

// Routes are AMP's rule-groups namespace API. A call on a namespace is
// authorized on the namespace's ARN; the listing on the workspace's.
func (s *Service) Routes() []httpapi.Route {
	h := handlers{s}
	ns := func(rt httpapi.Route) httpapi.Route {
		rt.Resources = h.namespaceARN
		return rt
	}
	cp := httpapi.ControlRoute
	return []httpapi.Route{
		withTags(ns(cp("CreateRuleGroupsNamespace", "POST", "/workspaces/{workspaceId}/rulegroupsnamespaces", "aps:CreateRuleGroupsNamespace", h.create))),
		cp("ListRuleGroupsNamespaces", "GET", "/workspaces/{workspaceId}/rulegroupsnamespaces", "aps:ListRuleGroupsNamespaces", h.list),
		ns(cp("DescribeRuleGroupsNamespace", "GET", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "aps:DescribeRuleGroupsNamespace", h.describe)),
		ns(cp("PutRuleGroupsNamespace", "PUT", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "aps:PutRuleGroupsNamespace", h.put)),
		ns(cp("DeleteRuleGroupsNamespace", "DELETE", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "aps:DeleteRuleGroupsNamespace", h.delete)),
	}
}

// handlers decode AMP's REST JSON and call the Service.
type handlers struct{ s *Service }

// namespaceARN is the namespace a request is for: the {name} in the path,
// or for CreateRuleGroupsNamespace the name in the body, decoded as the
// handler decodes it.
func (h handlers) namespaceARN(r *http.Request) ([]string, error) {
	name := r.PathValue("name")
	if name == "" {
		var in struct {
			Name string `json:"name"`
		}
		if err := httpapi.DecodeJSON(r, &in); err != nil {
			return nil, err
		}
		name = in.Name
	}
	return []string{h.s.ARN(r.PathValue("workspaceId"), name)}, nil
}

func summary(n Namespace) map[string]any {
	return map[string]any{"arn": n.ARN, "name": n.Name, "status": httpapi.Status{StatusCode: n.Status, StatusReason: n.StatusReason},
		"createdAt": httpapi.AWSTime(n.CreatedAt), "modifiedAt": httpapi.AWSTime(n.ModifiedAt), "tags": httpapi.NonNilTags(n.Tags)}
}

// written answers an upload (Create or Put).
func written(w http.ResponseWriter, n Namespace, data []byte) {
	status := httpapi.DoubleEncodedHint(httpapi.Status{StatusCode: n.Status, StatusReason: n.StatusReason}, data)
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"name": n.Name, "arn": n.ARN, "status": status, "tags": httpapi.NonNilTags(n.Tags)})
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) {
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
	if in.Name == "" {
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("name", "Member must not be null"))
		return
	}
	n, err := h.s.Create(r.Context(), CreateInput{WorkspaceID: r.PathValue("workspaceId"), Name: in.Name, Data: data, ClientToken: in.ClientToken, Tags: in.Tags})
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	written(w, n, data)
}

func (h handlers) put(w http.ResponseWriter, r *http.Request) {
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
	n, err := h.s.Put(r.Context(), r.PathValue("workspaceId"), r.PathValue("name"), data, in.ClientToken)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	written(w, n, data)
}

func (h handlers) describe(w http.ResponseWriter, r *http.Request) {
	n, err := h.s.Describe(r.Context(), r.PathValue("workspaceId"), r.PathValue("name"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	d := summary(n)
	d["data"] = n.Data // []byte: base64 in JSON, as the blob member is
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"ruleGroupsNamespace": d})
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	mr, err := httpapi.MaxResultsParam(r)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	q := r.URL.Query()
	ns, next, err := h.s.List(r.Context(), r.PathValue("workspaceId"), q.Get("name"), mr, q.Get("nextToken"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := make([]map[string]any, 0, len(ns))
	for _, n := range ns {
		out = append(out, summary(n))
	}
	resp := map[string]any{"ruleGroupsNamespaces": out}
	if next != "" {
		resp["nextToken"] = next
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

func (h handlers) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.s.Delete(r.Context(), r.PathValue("workspaceId"), r.PathValue("name"), r.URL.Query().Get("clientToken")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// withTags gives a create call's body tags to conditions (aws:RequestTag/*,
// aws:TagKeys).
func withTags(rt httpapi.Route) httpapi.Route {
	rt.RequestTags = httpapi.BodyTags
	return rt
}
