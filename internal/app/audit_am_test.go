package app_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/testenv"
)

// The Alertmanager API's writes are in the audit trail, as CloudTrail
// records them; its reads are not.
func TestAlertmanagerWritesAudited(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "am-audit")
	putAlertmanager(t, s, ws, "alertmanager_config: |\n  route:\n    receiver: default\n  receivers:\n  - name: default\n")
	code, id := postSilence(t, s, ws, "alertname", "Maintenance", false, "planned")
	if code != 200 || id == "" {
		t.Fatalf("silence: %d %q", code, id)
	}
	if code := amPost(t, s, ws, "/alerts", []map[string]any{{"labels": map[string]string{"alertname": "Test"}}}, nil); code != 200 {
		t.Fatalf("alerts: %d", code)
	}
	if resp, _, err := s.Admin.Raw(ctx, "DELETE", "/workspaces/"+ws+"/alertmanager/api/v2/silence/"+id, nil, "", nil, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("delete silence: %v %v", resp, err)
	}
	_ = amGet(t, s, ws, "/silences", nil, nil)
	type ev struct {
		EventName         string         `json:"eventName"`
		RequestParameters map[string]any `json:"requestParameters"`
	}
	lookup := func(name string) []ev {
		var out struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := s.Admin.JSON(ctx, "GET", "/admin/v1/audit", url.Values{"eventName": {name}}, nil, &out); err != nil {
			t.Fatal(err)
		}
		var evs []ev
		for _, raw := range out.Events {
			var e ev
			_ = json.Unmarshal(raw, &e)
			evs = append(evs, e)
		}
		return evs
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, name := range []string{"PutAlertManagerSilences", "CreateAlertManagerAlerts", "DeleteAlertManagerSilence"} {
		var evs []ev
		for {
			if evs = lookup(name); len(evs) > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(evs) != 1 || evs[0].RequestParameters["workspaceId"] != ws {
			t.Fatalf("%s events: %+v", name, evs)
		}
	}
	if evs := lookup("PutAlertManagerSilences"); evs[0].RequestParameters["comment"] != "planned" {
		t.Fatalf("the silence's parameters: %+v", evs[0].RequestParameters)
	}
	if evs := lookup("ListAlertManagerSilences"); len(evs) != 0 {
		t.Fatalf("reads are not audited: %+v", evs)
	}
}
