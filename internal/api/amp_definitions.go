package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/rulegroups"
)

// blobInput decodes AMP's base64 blob members ("data").
type blobInput struct {
	Data        *string           `json:"data"`
	Name        string            `json:"name"`
	ClientToken string            `json:"clientToken"`
	Tags        map[string]string `json:"tags"`
}

// decodeBlob decodes the data member strictly; a missing one is a
// validation error.
func (in blobInput) blob() ([]byte, error) {
	if in.Data == nil {
		return nil, apierr.InvalidField("data", "Member must not be null")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(*in.Data)
	if err != nil {
		return nil, apierr.Validation(apierr.ReasonCannotParse, "data must be base64: %v (with the AWS CLI v2, pass the file as fileb://)", err)
	}
	return b, nil
}

func statusOf(code, reason string) statusJSON {
	return statusJSON{StatusCode: code, StatusReason: reason}
}

// doubleEncodedHint explains a failure the AWS CLI v1 causes when given a
// base64 string literal (it encodes it once more).
func doubleEncodedHint(status statusJSON, data []byte) statusJSON {
	if status.StatusReason == "" || !utf8.Valid(data) {
		return status
	}
	s := strings.TrimSpace(string(data))
	if _, err := base64.StdEncoding.DecodeString(s); err == nil && len(s) >= 8 && !strings.ContainsAny(s, " :\n") {
		status.StatusReason += " (the data looks base64-encoded twice: pass the plain YAML file, e.g. --data fileb://rules.yaml)"
	}
	return status
}

func nsSummary(n rulegroups.Namespace) map[string]any {
	return map[string]any{"arn": n.ARN, "name": n.Name, "status": statusOf(n.Status, n.StatusReason),
		"createdAt": httpapi.AWSTime(n.CreatedAt), "modifiedAt": httpapi.AWSTime(n.ModifiedAt), "tags": httpapi.NonNilTags(n.Tags)}
}

func (s *Server) createRuleGroupsNamespace(w http.ResponseWriter, r *http.Request) {
	var in blobInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	data, err := in.blob()
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if in.Name == "" {
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("name", "Member must not be null"))
		return
	}
	n, err := s.RuleGroups.Create(r.Context(), rulegroups.CreateInput{WorkspaceID: r.PathValue("workspaceId"), Name: in.Name, Data: data, ClientToken: in.ClientToken, Tags: in.Tags})
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"name": n.Name, "arn": n.ARN, "status": doubleEncodedHint(statusOf(n.Status, n.StatusReason), data), "tags": httpapi.NonNilTags(n.Tags)})
}

func (s *Server) putRuleGroupsNamespace(w http.ResponseWriter, r *http.Request) {
	var in blobInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	data, err := in.blob()
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	n, err := s.RuleGroups.Put(r.Context(), r.PathValue("workspaceId"), r.PathValue("name"), data, in.ClientToken)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"name": n.Name, "arn": n.ARN, "status": doubleEncodedHint(statusOf(n.Status, n.StatusReason), data), "tags": httpapi.NonNilTags(n.Tags)})
}

func (s *Server) describeRuleGroupsNamespace(w http.ResponseWriter, r *http.Request) {
	n, err := s.RuleGroups.Describe(r.Context(), r.PathValue("workspaceId"), r.PathValue("name"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	d := nsSummary(n)
	d["data"] = n.Data // []byte: base64 in JSON, as the blob member is
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"ruleGroupsNamespace": d})
}

func (s *Server) listRuleGroupsNamespaces(w http.ResponseWriter, r *http.Request) {
	mr, err := httpapi.MaxResultsParam(r)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	q := r.URL.Query()
	ns, next, err := s.RuleGroups.List(r.Context(), r.PathValue("workspaceId"), q.Get("name"), mr, q.Get("nextToken"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := make([]map[string]any, 0, len(ns))
	for _, n := range ns {
		out = append(out, nsSummary(n))
	}
	resp := map[string]any{"ruleGroupsNamespaces": out}
	if next != "" {
		resp["nextToken"] = next
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

func (s *Server) deleteRuleGroupsNamespace(w http.ResponseWriter, r *http.Request) {
	if err := s.RuleGroups.Delete(r.Context(), r.PathValue("workspaceId"), r.PathValue("name"), r.URL.Query().Get("clientToken")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) createAlertManagerDefinition(w http.ResponseWriter, r *http.Request) {
	s.writeAlertManagerDefinition(w, r, true)
}

func (s *Server) putAlertManagerDefinition(w http.ResponseWriter, r *http.Request) {
	s.writeAlertManagerDefinition(w, r, false)
}

func (s *Server) writeAlertManagerDefinition(w http.ResponseWriter, r *http.Request, create bool) {
	var in blobInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	data, err := in.blob()
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	var d metastore.AlertmanagerDefinition
	if create {
		d, err = s.AMConfig.Create(r.Context(), r.PathValue("workspaceId"), data, in.ClientToken)
	} else {
		d, err = s.AMConfig.Put(r.Context(), r.PathValue("workspaceId"), data, in.ClientToken)
	}
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"status": doubleEncodedHint(statusOf(d.Status, d.StatusReason), data)})
}

func (s *Server) describeAlertManagerDefinition(w http.ResponseWriter, r *http.Request) {
	d, err := s.AMConfig.Describe(r.Context(), r.PathValue("workspaceId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"alertManagerDefinition": map[string]any{
		"status": statusOf(d.Status, d.StatusReason), "data": d.Data, "createdAt": httpapi.AWSTime(d.CreatedAt), "modifiedAt": httpapi.AWSTime(d.ModifiedAt)}})
}

func (s *Server) deleteAlertManagerDefinition(w http.ResponseWriter, r *http.Request) {
	if err := s.AMConfig.Delete(r.Context(), r.PathValue("workspaceId"), r.URL.Query().Get("clientToken")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

type loggingInput struct {
	LogGroupArn string `json:"logGroupArn"`
	ClientToken string `json:"clientToken"`
}

func (s *Server) createLoggingConfiguration(w http.ResponseWriter, r *http.Request) {
	var in loggingInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	l, err := s.Logging.Create(r.Context(), r.PathValue("workspaceId"), in.LogGroupArn, in.ClientToken)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"status": statusOf(l.Status, l.StatusReason)})
}

func (s *Server) updateLoggingConfiguration(w http.ResponseWriter, r *http.Request) {
	var in loggingInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	l, err := s.Logging.Update(r.Context(), r.PathValue("workspaceId"), in.LogGroupArn, in.ClientToken)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"status": statusOf(l.Status, l.StatusReason)})
}

func (s *Server) describeLoggingConfiguration(w http.ResponseWriter, r *http.Request) {
	l, err := s.Logging.Describe(r.Context(), r.PathValue("workspaceId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"loggingConfiguration": map[string]any{
		"status": statusOf(l.Status, l.StatusReason), "workspace": l.WorkspaceID, "logGroupArn": l.LogGroupARN,
		"createdAt": httpapi.AWSTime(l.CreatedAt), "modifiedAt": httpapi.AWSTime(l.ModifiedAt)}})
}

func (s *Server) deleteLoggingConfiguration(w http.ResponseWriter, r *http.Request) {
	if err := s.Logging.Delete(r.Context(), r.PathValue("workspaceId"), r.URL.Query().Get("clientToken")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) describeWorkspaceConfiguration(w http.ResponseWriter, r *http.Request) {
	ws, err := s.workspaces.Get(r.Context(), r.PathValue("workspaceId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"workspaceConfiguration": map[string]any{
		"status": statusOf("ACTIVE", ""), "retentionPeriodInDays": ws.RetentionDays, "limitsPerLabelSet": []any{}}})
}

func (s *Server) updateWorkspaceConfiguration(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RetentionPeriodInDays *int            `json:"retentionPeriodInDays"`
		LimitsPerLabelSet     json.RawMessage `json:"limitsPerLabelSet"`
		ClientToken           string          `json:"clientToken"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if len(in.LimitsPerLabelSet) > 0 && string(in.LimitsPerLabelSet) != "null" && string(in.LimitsPerLabelSet) != "[]" {
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("limitsPerLabelSet", "label-set scoped series limits are not supported; use the workspace's max_active_series limit"))
		return
	}
	if in.RetentionPeriodInDays == nil {
		httpapi.WriteError(w, r, httpapi.Control, apierr.Validation(apierr.ReasonFieldValidation, "give retentionPeriodInDays"))
		return
	}
	if err := s.workspaces.SetRetention(r.Context(), r.PathValue("workspaceId"), *in.RetentionPeriodInDays); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"status": statusOf("ACTIVE", "")})
}
