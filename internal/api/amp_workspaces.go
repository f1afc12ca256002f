package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/workspace"
)

// awsTime renders a timestamp as rest-json does: epoch seconds, fractions allowed.
func awsTime(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

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
		CreatedAt: awsTime(d.CreatedAt), Tags: d.Tags}
}

// decodeJSON parses a control-plane request body; an empty body is {}.
// AMP's shapes ignore unknown members, as AWS does.
func decodeJSON(r *http.Request, v any) error {
	body, _ := requestBody(r)
	return decodeBody(body, v, false)
}

// decodeStrictJSON parses a Kansoku-specific (admin, console) request body:
// unlike AMP's API, which ignores unknown members as AWS does, these are
// Kansoku's own shapes, so an unknown member is a mistake worth a 400.
func decodeStrictJSON(r *http.Request, v any) error {
	body, _ := requestBody(r)
	if len(bytes.TrimSpace(body)) == 0 {
		return apierr.Validation(apierr.ReasonCannotParse, "the body must be a JSON object")
	}
	return decodeBody(body, v, true)
}

// decodeBody is the one JSON decoder of request bodies: handlers and the
// resource functions that authorize them decode the same bytes the same
// way, so they cannot disagree on what a request says. Exactly one JSON
// value is accepted: trailing data (`{...} {}`) is refused.
func decodeBody(body []byte, v any, strict bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return apierr.Validation(apierr.ReasonCannotParse, "Could not parse the request body as JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apierr.Validation(apierr.ReasonCannotParse, "Could not parse the request body as JSON: it has data after the JSON value")
	}
	return nil
}

func (s *Server) createWorkspace(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Alias       *string           `json:"alias"`
		ClientToken string            `json:"clientToken"`
		Tags        map[string]string `json:"tags"`
		KmsKeyArn   string            `json:"kmsKeyArn"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	if in.KmsKeyArn != "" {
		s.writeError(w, r, planeControl, apierr.InvalidField("kmsKeyArn", "customer managed KMS keys are not supported by this installation"))
		return
	}
	d, err := s.workspaces.Create(r.Context(), workspace.CreateInput{Alias: in.Alias, ClientToken: in.ClientToken, Tags: in.Tags})
	if err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{
		"workspaceId": d.ID, "arn": d.ARN, "status": statusJSON{StatusCode: d.Status}, "tags": d.Tags,
	})
}

func (s *Server) describeWorkspace(w http.ResponseWriter, r *http.Request) {
	d, err := s.workspaces.Describe(r.Context(), r.PathValue("workspaceId"))
	if err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"workspace": workspaceDescriptionJSON{
		workspaceSummaryJSON: summaryJSON(d), PrometheusEndpoint: d.PrometheusEndpoint,
	}})
}

func (s *Server) listWorkspaces(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := workspace.ListInput{AliasPrefix: q.Get("alias"), NextToken: q.Get("nextToken")}
	if mr := q.Get("maxResults"); mr != "" {
		n, err := strconv.Atoi(mr)
		if err != nil {
			s.writeError(w, r, planeControl, apierr.InvalidField("maxResults", "Member must be an integer between 1 and 1000"))
			return
		}
		in.MaxResults = n
	}
	ws, next, err := s.workspaces.List(r.Context(), in)
	if err != nil {
		s.writeError(w, r, planeControl, err)
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
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) updateWorkspaceAlias(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Alias       *string `json:"alias"`
		ClientToken string  `json:"clientToken"`
	}
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	if err := s.workspaces.UpdateAlias(r.Context(), r.PathValue("workspaceId"), in.Alias, in.ClientToken); err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteWorkspace(w http.ResponseWriter, r *http.Request) {
	if err := s.workspaces.Delete(r.Context(), r.PathValue("workspaceId"), r.URL.Query().Get("clientToken")); err != nil {
		s.writeError(w, r, planeControl, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
