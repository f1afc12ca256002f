package wslog

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Routes are AMP's logging configuration API and Kansoku's reading of the
// workspace log (what CloudWatch Logs' FilterLogEvents shows of AMP's
// vended logs), all authorized on the workspace's ARN (the route's
// default).
func (s *Service) Routes() []httpapi.Route {
	h := handlers{s}
	cp := httpapi.ControlRoute
	return []httpapi.Route{
		cp("CreateLoggingConfiguration", "POST", "/workspaces/{workspaceId}/logging", "aps:CreateLoggingConfiguration", h.create),
		cp("DescribeLoggingConfiguration", "GET", "/workspaces/{workspaceId}/logging", "aps:DescribeLoggingConfiguration", h.describe),
		cp("UpdateLoggingConfiguration", "PUT", "/workspaces/{workspaceId}/logging", "aps:UpdateLoggingConfiguration", h.update),
		cp("DeleteLoggingConfiguration", "DELETE", "/workspaces/{workspaceId}/logging", "aps:DeleteLoggingConfiguration", h.delete),
		{Name: "FilterLogEvents", Method: "GET", Pattern: "/admin/v1/workspaces/{workspaceId}/logs", Plane: httpapi.Control,
			Action: "logs:FilterLogEvents", MaxBody: 64 * httpapi.KiB, Handler: http.HandlerFunc(h.filterLogEvents)},
	}
}

// handlers decode AMP's REST JSON and call the Service.
type handlers struct{ s *Service }

type input struct {
	LogGroupArn string `json:"logGroupArn"`
	ClientToken string `json:"clientToken"`
}

func (h handlers) create(w http.ResponseWriter, r *http.Request) {
	var in input
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	l, err := h.s.Create(r.Context(), r.PathValue("workspaceId"), in.LogGroupArn, in.ClientToken)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"status": httpapi.Status{StatusCode: l.Status, StatusReason: l.StatusReason}})
}

func (h handlers) update(w http.ResponseWriter, r *http.Request) {
	var in input
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	l, err := h.s.Update(r.Context(), r.PathValue("workspaceId"), in.LogGroupArn, in.ClientToken)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"status": httpapi.Status{StatusCode: l.Status, StatusReason: l.StatusReason}})
}

func (h handlers) describe(w http.ResponseWriter, r *http.Request) {
	l, err := h.s.Describe(r.Context(), r.PathValue("workspaceId"))
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"loggingConfiguration": map[string]any{
		"status": httpapi.Status{StatusCode: l.Status, StatusReason: l.StatusReason}, "workspace": l.WorkspaceID, "logGroupArn": l.LogGroupARN,
		"createdAt": httpapi.AWSTime(l.CreatedAt), "modifiedAt": httpapi.AWSTime(l.ModifiedAt)}})
}

func (h handlers) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.s.Delete(r.Context(), r.PathValue("workspaceId"), r.URL.Query().Get("clientToken")); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// filterLogEvents returns the workspace log's entries after afterId (the
// console follows the log with it), filtered by component, level and time.
func (h handlers) filterLogEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := metastore.LogFilter{WorkspaceID: r.PathValue("workspaceId"), Component: q.Get("component"), Level: strings.ToUpper(q.Get("level"))}
	var err error
	if f.Since, err = httpapi.TimeParam(q, "startTime"); err == nil {
		f.Until, err = httpapi.TimeParam(q, "endTime")
	}
	if err == nil && q.Get("afterId") != "" {
		f.AfterID, err = strconv.ParseInt(q.Get("afterId"), 10, 64)
	}
	if err == nil && q.Get("limit") != "" {
		f.Limit, err = strconv.Atoi(q.Get("limit"))
	}
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, apierr.Validation(apierr.ReasonFieldValidation, "%v", err))
		return
	}
	events, err := h.s.Query(r.Context(), f)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	out := make([]map[string]any, 0, len(events))
	lastID := f.AfterID
	for _, e := range events {
		rec := Record(e)
		rec["id"] = e.ID
		out = append(out, rec)
		lastID = e.ID
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"events": out, "lastId": lastID})
}
