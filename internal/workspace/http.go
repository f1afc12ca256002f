package workspace

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Routes are AMP's workspace API: CreateWorkspace, ListWorkspaces,
// DescribeWorkspace, UpdateWorkspaceAlias, DeleteWorkspace, and the
// workspace configuration (retention, label-set limits). Each call on a workspace is
// authorized on the workspace's ARN (the route's default).
func (s *Service) Routes() []httpapi.Route {
	h := handlers{s}
	cp := httpapi.ControlRoute
	return []httpapi.Route{
		withTags(cp("CreateWorkspace", "POST", "/workspaces", "aps:CreateWorkspace", h.create)),
		cp("ListWorkspaces", "GET", "/workspaces", "aps:ListWorkspaces", h.list),
		cp("DescribeWorkspace", "GET", "/workspaces/{workspaceId}", "aps:DescribeWorkspace", h.describe),
		cp("UpdateWorkspaceAlias", "POST", "/workspaces/{workspaceId}/alias", "aps:UpdateWorkspaceAlias", h.updateAlias),
		cp("DeleteWorkspace", "DELETE", "/workspaces/{workspaceId}", "aps:DeleteWorkspace", h.delete),
		cp("DescribeWorkspaceConfiguration", "GET", "/workspaces/{workspaceId}/configuration", "aps:DescribeWorkspaceConfiguration", h.describeConfiguration),
		cp("UpdateWorkspaceConfiguration", "PATCH", "/workspaces/{workspaceId}/configuration", "aps:UpdateWorkspaceConfiguration", h.updateConfiguration),
	}
}

// handlers decode AMP's REST JSON and call the Service.
type handlers struct{ s *Service }

type summaryJSON struct {
	WorkspaceID string            `json:"workspaceId"`
	Alias       string            `json:"alias,omitempty"`
	ARN         string            `json:"arn"`
	Status      httpapi.Status    `json:"status"`
	CreatedAt   float64           `json:"createdAt"`
	Tags        map[string]string `json:"tags"`
}

type descriptionJSON struct {
	summaryJSON
	PrometheusEndpoint string `json:"prometheusEndpoint"`
}

func toSummaryJSON(d Description) summaryJSON {
	return summaryJSON{WorkspaceID: d.ID, Alias: d.Alias, ARN: d.ARN, Status: httpapi.Status{StatusCode: d.Status},
		CreatedAt: httpapi.AWSTime(d.CreatedAt), Tags: d.Tags}
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Alias       *string           `json:"alias"`
		ClientToken string            `json:"clientToken"`
		Tags        map[string]string `json:"tags"`
		KmsKeyArn   string            `json:"kmsKeyArn"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if in.KmsKeyArn != "" {
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("kmsKeyArn", "customer managed KMS keys are not supported by this installation"))
		return
	}
	d, err := h.s.Create(r.Context(), CreateInput{Alias: in.Alias, ClientToken: in.ClientToken, Tags: in.Tags})
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{
		"workspaceId": d.ID, "arn": d.ARN, "status": httpapi.Status{StatusCode: d.Status}, "tags": d.Tags,
	})
}

func (h handlers) describe(w http.ResponseWriter, r *http.Request) {
	d, err := h.s.Describe(r.Context(), r.PathValue("workspaceId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"workspace": descriptionJSON{
		summaryJSON: toSummaryJSON(d), PrometheusEndpoint: d.PrometheusEndpoint,
	}})
}

func (h handlers) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := ListInput{AliasPrefix: q.Get("alias"), NextToken: q.Get("nextToken")}
	if mr := q.Get("maxResults"); mr != "" {
		n, err := strconv.Atoi(mr)
		if err != nil {
			httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("maxResults", "Member must be an integer between 1 and 1000"))
			return
		}
		in.MaxResults = n
	}
	ws, next, err := h.s.List(r.Context(), in)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := make([]summaryJSON, 0, len(ws))
	for _, d := range ws {
		out = append(out, toSummaryJSON(d))
	}
	resp := map[string]any{"workspaces": out}
	if next != "" {
		resp["nextToken"] = next
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

func (h handlers) updateAlias(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Alias       *string `json:"alias"`
		ClientToken string  `json:"clientToken"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if err := h.s.UpdateAlias(r.Context(), r.PathValue("workspaceId"), in.Alias, in.ClientToken); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h handlers) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.s.Delete(r.Context(), r.PathValue("workspaceId"), r.URL.Query().Get("clientToken")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// labelSetJSON is AMP's LimitsPerLabelSet.
type labelSetJSON struct {
	LabelSet map[string]string `json:"labelSet"`
	Limits   *struct {
		MaxSeries *int64 `json:"maxSeries,omitempty"`
	} `json:"limits"`
}

func (h handlers) describeConfiguration(w http.ResponseWriter, r *http.Request) {
	ws, err := h.s.Get(r.Context(), r.PathValue("workspaceId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	sets := make([]map[string]any, 0, len(ws.LabelSetLimits))
	for _, l := range ws.LabelSetLimits {
		sets = append(sets, map[string]any{"labelSet": l.LabelSet, "limits": map[string]any{"maxSeries": l.MaxSeries}})
	}
	status := map[string]any{"statusCode": ws.ConfigStatus}
	if ws.ConfigStatusReason != "" {
		status["statusReason"] = ws.ConfigStatusReason
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"workspaceConfiguration": map[string]any{
		"status": status, "retentionPeriodInDays": ws.RetentionDays, "limitsPerLabelSet": sets}})
}

func (h handlers) updateConfiguration(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RetentionPeriodInDays *int            `json:"retentionPeriodInDays"`
		LimitsPerLabelSet     *[]labelSetJSON `json:"limitsPerLabelSet"`
		ClientToken           string          `json:"clientToken"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	ci := ConfigurationInput{RetentionDays: in.RetentionPeriodInDays, ClientToken: in.ClientToken}
	if in.LimitsPerLabelSet != nil {
		sets := make([]metastore.LabelSetLimit, 0, len(*in.LimitsPerLabelSet))
		for i, l := range *in.LimitsPerLabelSet {
			if l.Limits == nil {
				httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField(fmt.Sprintf("limitsPerLabelSet.%d.limits", i+1), "Member must not be null"))
				return
			}
			var max int64
			if l.Limits.MaxSeries != nil {
				max = *l.Limits.MaxSeries
			}
			sets = append(sets, metastore.LabelSetLimit{LabelSet: l.LabelSet, MaxSeries: max})
		}
		ci.LabelSetLimits = &sets
	}
	status, err := h.s.UpdateConfiguration(r.Context(), r.PathValue("workspaceId"), ci)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"status": httpapi.Status{StatusCode: status}})
}

// withTags gives a create call's body tags to conditions (aws:RequestTag/*,
// aws:TagKeys).
func withTags(rt httpapi.Route) httpapi.Route {
	rt.RequestTags = httpapi.BodyTags
	return rt
}
