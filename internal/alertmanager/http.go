package alertmanager

import (
	"net/http"
	"strings"

	"github.com/kansoku/kansoku/internal/httpapi"
)

// Routes are each workspace's Alertmanager API v2 under
// /workspaces/{workspaceId}/alertmanager/api/v2/, each authorized as the
// AMP action that covers it. The middleware puts the workspace into the
// request context; the prefix up to /api/v2 is removed before the
// workspace's Alertmanager sees the path.
func (m *Manager) Routes() []httpapi.Route {
	am := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefix := "/workspaces/" + r.PathValue("workspaceId") + "/alertmanager"
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
		if r.URL.RawPath != "" {
			r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, prefix)
		}
		m.ServeHTTP(w, r2)
	})
	dp := httpapi.DataRoute
	// The writes are in the audit trail, as CloudTrail records them.
	audited := func(rt httpapi.Route) httpapi.Route { rt.Audited = true; return rt }
	return []httpapi.Route{
		audited(dp("CreateAlertManagerAlerts", "POST", "/alertmanager/api/v2/alerts", "aps:CreateAlertManagerAlerts", am)),
		dp("ListAlertManagerAlerts", "GET", "/alertmanager/api/v2/alerts", "aps:ListAlertManagerAlerts", am),
		dp("ListAlertManagerAlertGroups", "GET", "/alertmanager/api/v2/alerts/groups", "aps:ListAlertManagerAlertGroups", am),
		dp("ListAlertManagerReceivers", "GET", "/alertmanager/api/v2/receivers", "aps:ListAlertManagerReceivers", am),
		dp("ListAlertManagerSilences", "GET", "/alertmanager/api/v2/silences", "aps:ListAlertManagerSilences", am),
		audited(dp("PutAlertManagerSilences", "POST", "/alertmanager/api/v2/silences", "aps:PutAlertManagerSilences", am)),
		dp("GetAlertManagerSilence", "GET", "/alertmanager/api/v2/silence/{silenceId}", "aps:GetAlertManagerSilence", am),
		audited(dp("DeleteAlertManagerSilence", "DELETE", "/alertmanager/api/v2/silence/{silenceId}", "aps:DeleteAlertManagerSilence", am)),
		dp("GetAlertManagerStatus", "GET", "/alertmanager/api/v2/status", "aps:GetAlertManagerStatus", am),
	}
}
