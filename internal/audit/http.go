package audit

import (
	"errors"
	"net/http"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Routes are the audit trail's API: CloudTrail's LookupEvents, newest
// first, filtered by event, user, access key, resource, time and outcome.
func (r *Recorder) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Name: "LookupEvents", Method: "GET", Pattern: "/admin/v1/audit", Plane: httpapi.Control, Action: "cloudtrail:LookupEvents",
			Resources: httpapi.One(func(*http.Request) string { return "*" }), MaxBody: 64 * httpapi.KiB, Handler: http.HandlerFunc(r.lookupEvents)},
	}
}

func (r *Recorder) lookupEvents(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	f := metastore.AuditFilter{EventName: q.Get("eventName"), EventSource: q.Get("eventSource"), UserName: q.Get("userName"),
		AccessKeyID: q.Get("accessKeyId"), Resource: q.Get("resource"), ErrorsOnly: q.Get("errorsOnly") == "true", Before: q.Get("nextToken")}
	var err error
	if f.Since, err = httpapi.TimeParam(q, "startTime"); err == nil {
		f.Until, err = httpapi.TimeParam(q, "endTime")
	}
	if err == nil {
		f.Limit, err = httpapi.MaxResultsParam(req)
	}
	if err != nil {
		httpapi.WriteError(w, req, httpapi.Control, err)
		return
	}
	if ro := q.Get("readOnly"); ro != "" {
		b := ro == "true"
		f.ReadOnly = &b
	}
	events, next, err := r.Lookup(req.Context(), f)
	if errors.Is(err, metastore.ErrBadPageToken) {
		err = apierr.Validation(apierr.ReasonFieldValidation, "Invalid nextToken")
	}
	if err != nil {
		httpapi.WriteError(w, req, httpapi.Control, err)
		return
	}
	resp := map[string]any{"events": events}
	if next != "" {
		resp["nextToken"] = next
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
}
