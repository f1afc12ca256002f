package anomaly

import (
	"net/http"

	"github.com/kansoku/kansoku/internal/httpapi"
)

// Routes are AMP's anomaly detector API. Calls on a detector are
// authorized on the detector's ARN; creating and listing on the
// workspace's.
func (s *Service) Routes() []httpapi.Route {
	det := func(rt httpapi.Route) httpapi.Route {
		rt.Resources = func(r *http.Request) ([]string, error) {
			id := r.PathValue("anomalyDetectorId")
			if err := ValidateID(id); err != nil {
				return nil, err
			}
			return []string{s.ARN(r.PathValue("workspaceId"), id)}, nil
		}
		return rt
	}
	cp := httpapi.ControlRoute
	create := cp("CreateAnomalyDetector", "POST", "/workspaces/{workspaceId}/anomalydetectors", "aps:CreateAnomalyDetector", s.handleCreate)
	create.RequestTags = httpapi.BodyTags
	return []httpapi.Route{
		create,
		cp("ListAnomalyDetectors", "GET", "/workspaces/{workspaceId}/anomalydetectors", "aps:ListAnomalyDetectors", s.handleList),
		det(cp("DescribeAnomalyDetector", "GET", "/workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}", "aps:DescribeAnomalyDetector", s.handleDescribe)),
		det(cp("PutAnomalyDetector", "PUT", "/workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}", "aps:PutAnomalyDetector", s.handlePut)),
		det(cp("DeleteAnomalyDetector", "DELETE", "/workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}", "aps:DeleteAnomalyDetector", s.handleDelete)),
	}
}

type createInput struct {
	Spec
	Alias       string            `json:"alias"`
	ClientToken string            `json:"clientToken"`
	Tags        map[string]string `json:"tags"`
}

func status(d Detector) httpapi.Status {
	return httpapi.Status{StatusCode: d.Status, StatusReason: d.StatusReason}
}

func written(w http.ResponseWriter, d Detector) {
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"anomalyDetectorId": d.ID, "arn": d.ARN, "status": status(d), "tags": httpapi.NonNilTags(d.Tags)})
}

func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request) {
	var in createInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	d, err := s.Create(r.Context(), r.PathValue("workspaceId"), in.Alias, in.Spec, in.Tags, in.ClientToken)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	written(w, d)
}

func (s *Service) handlePut(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Spec
		ClientToken string `json:"clientToken"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	d, err := s.Put(r.Context(), r.PathValue("workspaceId"), r.PathValue("anomalyDetectorId"), in.Spec, in.ClientToken)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	written(w, d)
}

func (s *Service) handleDescribe(w http.ResponseWriter, r *http.Request) {
	d, err := s.Describe(r.Context(), r.PathValue("workspaceId"), r.PathValue("anomalyDetectorId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	labels := d.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"anomalyDetector": map[string]any{
		"arn": d.ARN, "anomalyDetectorId": d.ID, "alias": d.Alias, "evaluationIntervalInSeconds": d.IntervalSeconds,
		"missingDataAction": d.Missing, "configuration": d.Config, "labels": labels, "status": status(d),
		"createdAt": httpapi.AWSTime(d.CreatedAt), "modifiedAt": httpapi.AWSTime(d.ModifiedAt), "tags": httpapi.NonNilTags(d.Tags)}})
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request) {
	mr, err := httpapi.MaxResultsParam(r)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	q := r.URL.Query()
	ds, next, err := s.List(r.Context(), r.PathValue("workspaceId"), q.Get("alias"), mr, q.Get("nextToken"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := make([]map[string]any, 0, len(ds))
	for _, d := range ds {
		out = append(out, map[string]any{"arn": d.ARN, "anomalyDetectorId": d.ID, "alias": d.Alias, "status": status(d),
			"createdAt": httpapi.AWSTime(d.CreatedAt), "modifiedAt": httpapi.AWSTime(d.ModifiedAt), "tags": httpapi.NonNilTags(d.Tags)})
	}
	resp := map[string]any{"anomalyDetectors": out}
	if next != "" {
		resp["nextToken"] = next
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

func (s *Service) handleDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.Delete(r.Context(), r.PathValue("workspaceId"), r.PathValue("anomalyDetectorId"), r.URL.Query().Get("clientToken")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
