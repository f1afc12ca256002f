package api

import (
	"net/http"
	"strconv"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/workspace"
)

type statusJSON struct {
	StatusCode   string `json:"statusCode"`
	StatusReason string `json:"statusReason,omitempty"`
}

type workspaceSummaryJSON struct {
	WorkspaceID string            `json:"workspaceId"`
	Alias       string            `json:"alias,omitempty"`
	ARN         string            `json:"arn"`
	Status      statusJSON        `json:"status"`
	CreatedAt   float64           `json:"createdAt"`
	Tags        map[string]string `json:"tags"`
}

type workspaceDescriptionJSON struct {
	workspaceSummaryJSON
	PrometheusEndpoint string `json:"prometheusEndpoint"`
}

func summaryJSON(d workspace.Description) workspaceSummaryJSON {
	return workspaceSummaryJSON{WorkspaceID: d.ID, Alias: d.Alias, ARN: d.ARN, Status: statusJSON{StatusCode: d.Status},
		CreatedAt: httpapi.AWSTime(d.CreatedAt), Tags: d.Tags}
}

func (s *Server) createWorkspace(w http.ResponseWriter, r *http.Request) {
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
	d, err := s.workspaces.Create(r.Context(), workspace.CreateInput{Alias: in.Alias, ClientToken: in.ClientToken, Tags: in.Tags})
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{
		"workspaceId": d.ID, "arn": d.ARN, "status": statusJSON{StatusCode: d.Status}, "tags": d.Tags,
	})
}

func (s *Server) describeWorkspace(w http.ResponseWriter, r *http.Request) {
	d, err := s.workspaces.Describe(r.Context(), r.PathValue("workspaceId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"workspace": workspaceDescriptionJSON{
		workspaceSummaryJSON: summaryJSON(d), PrometheusEndpoint: d.PrometheusEndpoint,
	}})
}

func (s *Server) listWorkspaces(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := workspace.ListInput{AliasPrefix: q.Get("alias"), NextToken: q.Get("nextToken")}
	if mr := q.Get("maxResults"); mr != "" {
		n, err := strconv.Atoi(mr)
		if err != nil {
			httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("maxResults", "Member must be an integer between 1 and 1000"))
			return
		}
		in.MaxResults = n
	}
	ws, next, err := s.workspaces.List(r.Context(), in)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := make([]workspaceSummaryJSON, 0, len(ws))
	for _, d := range ws {
		out = append(out, summaryJSON(d))
	}
	resp := map[string]any{"workspaces": out}
	if next != "" {
		resp["nextToken"] = next
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) updateWorkspaceAlias(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Alias       *string `json:"alias"`
		ClientToken string  `json:"clientToken"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if err := s.workspaces.UpdateAlias(r.Context(), r.PathValue("workspaceId"), in.Alias, in.ClientToken); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteWorkspace(w http.ResponseWriter, r *http.Request) {
	if err := s.workspaces.Delete(r.Context(), r.PathValue("workspaceId"), r.URL.Query().Get("clientToken")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
