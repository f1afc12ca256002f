package app_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kansoku/kansoku/internal/client"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/testenv"
)

const validRules = "groups:\n  - name: example\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n"
const invalidRules = "groups:\n  - name: bad\n    rules:\n      - record: x\n        expr: sum(\n"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

type statusResp struct {
	Status struct {
		StatusCode   string `json:"statusCode"`
		StatusReason string `json:"statusReason"`
	} `json:"status"`
}

func waitNamespace(t *testing.T, s *testenv.Server, ws, name, want string) map[string]any {
	t.Helper()
	var last map[string]any
	for i := 0; i < 300; i++ {
		var d struct {
			NS map[string]any `json:"ruleGroupsNamespace"`
		}
		if err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws+"/rulegroupsnamespaces/"+name, nil, nil, &d); err == nil {
			last = d.NS
			if d.NS["status"].(map[string]any)["statusCode"] == want {
				return d.NS
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("namespace %s never reached %s: %v", name, want, last)
	return nil
}

func TestRuleGroupsNamespaces(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) { c.Limits.MaxRulesPerWorkspace = 3 }})
	ws := s.CreateWorkspace(t, "rules")
	base := "/workspaces/" + ws + "/rulegroupsnamespaces"
	var created struct {
		statusResp
		Name, ARN string
		Tags      map[string]string
	}
	if err := s.Admin.JSON(ctx, "POST", base, nil, map[string]any{"name": "team-a", "data": b64(validRules), "tags": map[string]string{"team": "a"}}, &created); err != nil {
		t.Fatal(err)
	}
	if created.Status.StatusCode != "CREATING" || created.Tags["team"] != "a" || !strings.HasSuffix(created.ARN, ":rulegroupsnamespace/"+ws+"/team-a") {
		t.Fatalf("create: %+v", created)
	}
	d := waitNamespace(t, s, ws, "team-a", "ACTIVE")
	if d["data"] != b64(validRules) {
		t.Fatalf("data round trip: %v", d["data"])
	}

	// Duplicate name: ConflictException.
	err := s.Admin.JSON(ctx, "POST", base, nil, map[string]any{"name": "team-a", "data": b64(validRules)}, nil)
	if e := apiErr(t, err); e.Status != 409 || e.Type != "ConflictException" {
		t.Fatalf("duplicate: %v", e)
	}

	// An invalid file is recorded CREATION_FAILED with the bad line.
	var bad statusResp
	if err := s.Admin.JSON(ctx, "POST", base, nil, map[string]any{"name": "broken", "data": b64(invalidRules)}, &bad); err != nil {
		t.Fatal(err)
	}
	if bad.Status.StatusCode != "CREATION_FAILED" || !strings.Contains(bad.Status.StatusReason, "5:15") {
		t.Fatalf("invalid create: %+v", bad)
	}

	// A bad Put keeps the active rules and says UPDATE_FAILED.
	var put statusResp
	if err := s.Admin.JSON(ctx, "PUT", base+"/team-a", nil, map[string]any{"data": b64(invalidRules)}, &put); err != nil {
		t.Fatal(err)
	}
	if put.Status.StatusCode != "UPDATE_FAILED" || !strings.Contains(put.Status.StatusReason, "unclosed left parenthesis") {
		t.Fatalf("invalid put: %+v", put)
	}
	active, err := s.App.RuleGroups().Active(ctx, ws)
	if err != nil || string(active["team-a"]) != validRules {
		t.Fatalf("active rules changed by a failed update: %q %v", active["team-a"], err)
	}
	// A good Put goes UPDATING -> ACTIVE.
	newRules := strings.Replace(validRules, "job:up:sum", "job:up:count", 1)
	if err := s.Admin.JSON(ctx, "PUT", base+"/team-a", nil, map[string]any{"data": b64(newRules)}, &put); err != nil || put.Status.StatusCode != "UPDATING" {
		t.Fatalf("put: %+v %v", put, err)
	}
	waitNamespace(t, s, ws, "team-a", "ACTIVE")
	if active, _ := s.App.RuleGroups().Active(ctx, ws); string(active["team-a"]) != newRules {
		t.Fatal("the new rules are not active")
	}

	// The rules-per-workspace quota (3 here).
	fourRules := "groups:\n  - name: g\n    rules:\n" + strings.Repeat("      - record: r\n        expr: up\n", 3)
	err = s.Admin.JSON(ctx, "POST", base, nil, map[string]any{"name": "big", "data": b64(fourRules)}, nil)
	if e := apiErr(t, err); e.Status != 402 || e.Type != "ServiceQuotaExceededException" {
		t.Fatalf("rule quota: %v", e)
	}

	// Request-level validation.
	for name, body := range map[string]map[string]any{
		"not base64":    {"name": "x", "data": "%%%"},
		"no data":       {"name": "x"},
		"bad name":      {"name": "bad name!", "data": b64(validRules)},
		"no name":       {"data": b64(validRules)},
		"over 1 MB":     {"name": "x", "data": b64(strings.Repeat("#", 1<<20+1))},
		"empty file":    {"name": "x", "data": ""},
		"name too long": {"name": strings.Repeat("n", 129), "data": b64(validRules)},
	} {
		if e := apiErr(t, s.Admin.JSON(ctx, "POST", base, nil, body, nil)); e.Status != 400 || e.Type != "ValidationException" {
			t.Errorf("%s: %v", name, e)
		}
	}

	// List: prefix and pages; summaries have no data.
	var l struct {
		NS        []map[string]any `json:"ruleGroupsNamespaces"`
		NextToken string           `json:"nextToken"`
	}
	if err := s.Admin.JSON(ctx, "GET", base, url.Values{"maxResults": {"1"}}, nil, &l); err != nil || len(l.NS) != 1 || l.NextToken == "" {
		t.Fatalf("page 1: %+v %v", l, err)
	}
	if _, has := l.NS[0]["data"]; has {
		t.Fatal("summaries carry no data")
	}
	tok := l.NextToken
	l.NextToken = ""
	if err := s.Admin.JSON(ctx, "GET", base, url.Values{"maxResults": {"1"}, "nextToken": {tok}}, nil, &l); err != nil || len(l.NS) != 1 || l.NextToken != "" {
		t.Fatalf("page 2: %+v %v", l, err)
	}
	if err := s.Admin.JSON(ctx, "GET", base, url.Values{"name": {"team"}}, nil, &l); err != nil || len(l.NS) != 1 || l.NS[0]["name"] != "team-a" {
		t.Fatalf("prefix: %+v %v", l, err)
	}

	// Delete, then 404.
	if err := s.Admin.JSON(ctx, "DELETE", base+"/team-a", url.Values{"clientToken": {"d1"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", base+"/team-a", nil, nil, nil)); e.Status != 404 || e.Type != "ResourceNotFoundException" {
		t.Fatalf("after delete: %v", e)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", "/workspaces/ws-nope/rulegroupsnamespaces", nil, nil, nil)); e.Status != 404 {
		t.Fatalf("unknown workspace: %v", e)
	}
}

func TestAlertManagerDefinition(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "am")
	path := "/workspaces/" + ws + "/alertmanager/definition"
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", path, nil, nil, nil)); e.Status != 404 {
		t.Fatalf("describe before create: %v", e)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "PUT", path, nil, map[string]any{"data": b64(ampBasicAM)}, nil)); e.Status != 404 {
		t.Fatalf("put before create: %v", e)
	}
	var st statusResp
	if err := s.Admin.JSON(ctx, "POST", path, nil, map[string]any{"data": b64(ampBasicAM)}, &st); err != nil || st.Status.StatusCode != "CREATING" {
		t.Fatalf("create: %+v %v", st, err)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "POST", path, nil, map[string]any{"data": b64(ampBasicAM)}, nil)); e.Status != 409 {
		t.Fatalf("second create: %v", e)
	}
	waitFor(t, func() bool {
		var d struct {
			D struct {
				statusResp
				Data string `json:"data"`
			} `json:"alertManagerDefinition"`
		}
		return s.Admin.JSON(ctx, "GET", path, nil, nil, &d) == nil && d.D.Status.StatusCode == "ACTIVE" && d.D.Data == b64(ampBasicAM)
	})
	if err := s.Admin.JSON(ctx, "PUT", path, nil, map[string]any{"data": b64("alertmanager_config: |\n  route:\n    receiver: nope\n")}, &st); err != nil {
		t.Fatal(err)
	}
	if st.Status.StatusCode != "UPDATE_FAILED" || !strings.Contains(st.Status.StatusReason, "undefined receiver") {
		t.Fatalf("invalid put: %+v", st)
	}
	if active, _ := s.App.AMConfig().Active(ctx, ws); string(active) != ampBasicAM {
		t.Fatal("a failed update replaced the active configuration")
	}
	if err := s.Admin.JSON(ctx, "DELETE", path, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", path, nil, nil, nil)); e.Status != 404 {
		t.Fatalf("after delete: %v", e)
	}
}

// ampBasicAM is the basic alert manager definition of AMP's user guide
// (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-alertmanager-config.html).
const ampBasicAM = `alertmanager_config: |
  route:
    receiver: 'default'
  receivers:
  - name: 'default'
    sns_configs:
    - topic_arn: arn:aws:sns:us-east-2:123456789012:My-Topic
      sigv4:
        region: us-east-2
      attributes:
        key: key1
        value: value1
`

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition never held")
}

func TestLoggingConfigurationAndWorkspaceLog(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "logs")
	path := "/workspaces/" + ws + "/logging"
	group := fmt.Sprintf("arn:aws:logs:us-east-1:%s:log-group:/kansoku/%s:*", s.App.Info().Account.ID, ws)
	if e := apiErr(t, s.Admin.JSON(ctx, "POST", path, nil, map[string]any{"logGroupArn": "arn:aws:logs:us-east-1:1:log-group:x"}, nil)); e.Status != 400 {
		t.Fatalf("bad ARN: %v", e)
	}
	var st statusResp
	if err := s.Admin.JSON(ctx, "POST", path, nil, map[string]any{"logGroupArn": group}, &st); err != nil || st.Status.StatusCode != "CREATING" {
		t.Fatalf("create: %+v %v", st, err)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "POST", path, nil, map[string]any{"logGroupArn": group}, nil)); e.Status != 409 {
		t.Fatalf("second create: %v", e)
	}
	waitFor(t, func() bool {
		var d struct {
			L struct {
				statusResp
				Workspace   string `json:"workspace"`
				LogGroupArn string `json:"logGroupArn"`
			} `json:"loggingConfiguration"`
		}
		return s.Admin.JSON(ctx, "GET", path, nil, nil, &d) == nil && d.L.Status.StatusCode == "ACTIVE" && d.L.Workspace == ws && d.L.LogGroupArn == group
	})
	// A rule file that fails to load is logged to the workspace log.
	if err := s.Admin.JSON(ctx, "POST", "/workspaces/"+ws+"/rulegroupsnamespaces", nil, map[string]any{"name": "broken", "data": b64(invalidRules)}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		var out struct {
			Events []struct {
				Component string         `json:"component"`
				Message   map[string]any `json:"message"`
			} `json:"events"`
		}
		if err := s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/logs", nil, nil, &out); err != nil {
			return false
		}
		for _, e := range out.Events {
			if e.Component == "ruler" && e.Message["level"] == "ERROR" && strings.Contains(fmt.Sprint(e.Message["log"]), "broken") {
				return true
			}
		}
		return false
	})
	if err := s.Admin.JSON(ctx, "PUT", path, nil, map[string]any{"logGroupArn": strings.Replace(group, "/kansoku/", "/other/", 1)}, &st); err != nil || st.Status.StatusCode != "UPDATING" {
		t.Fatalf("update: %+v %v", st, err)
	}
	if err := s.Admin.JSON(ctx, "DELETE", path, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", path, nil, nil, nil)); e.Status != 404 {
		t.Fatalf("after delete: %v", e)
	}
}

func TestTags(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "tags")
	arn := s.WorkspaceARN(ws)
	tagsPath := "/tags/" + url.PathEscape(arn)
	if err := s.Admin.JSON(ctx, "POST", tagsPath, nil, map[string]any{"tags": map[string]string{"env": "dev", "Team": "a"}}, nil); err != nil {
		t.Fatal(err)
	}
	var l struct{ Tags map[string]string }
	if err := s.Admin.JSON(ctx, "GET", tagsPath, nil, nil, &l); err != nil || len(l.Tags) != 2 {
		t.Fatalf("list: %v %v", l, err)
	}
	if err := s.Admin.JSON(ctx, "DELETE", tagsPath, url.Values{"tagKeys": {"Team", "absent"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	l.Tags = nil
	if err := s.Admin.JSON(ctx, "GET", tagsPath, nil, nil, &l); err != nil || fmt.Sprint(l.Tags) != "map[env:dev]" {
		t.Fatalf("after untag: %v %v", l, err)
	}
	// Namespaces are taggable too.
	if err := s.Admin.JSON(ctx, "POST", "/workspaces/"+ws+"/rulegroupsnamespaces", nil, map[string]any{"name": "ns", "data": b64(validRules)}, nil); err != nil {
		t.Fatal(err)
	}
	nsPath := "/tags/" + url.PathEscape(s.App.RuleGroups().ARN(ws, "ns"))
	if err := s.Admin.JSON(ctx, "POST", nsPath, nil, map[string]any{"tags": map[string]string{"k": "v"}}, nil); err != nil {
		t.Fatal(err)
	}
	// 51 tags in total is one too many.
	many := map[string]string{}
	for i := 0; i < 50; i++ {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "POST", tagsPath, nil, map[string]any{"tags": many}, nil)); e.Status != 400 || !strings.Contains(e.Message, "at most 50") {
		t.Fatalf("51 tags: %v", e)
	}
	for name, p := range map[string]string{
		"unknown workspace": "/tags/" + url.PathEscape(s.WorkspaceARN("ws-nope")),
		"other account":     "/tags/" + url.PathEscape(strings.Replace(arn, s.App.Info().Account.ID, "999999999999", 1)),
		"unknown namespace": "/tags/" + url.PathEscape(s.App.RuleGroups().ARN(ws, "nope")),
	} {
		if e := apiErr(t, s.Admin.JSON(ctx, "GET", p, nil, nil, nil)); e.Status != 404 {
			t.Errorf("%s: %v", name, e)
		}
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", "/tags/"+url.PathEscape("arn:aws:s3:::bucket"), nil, nil, nil)); e.Status != 400 {
		t.Fatalf("not an aps ARN: %v", e)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "DELETE", tagsPath, nil, nil, nil)); e.Status != 400 {
		t.Fatalf("untag without keys: %v", e)
	}
}

func TestWorkspaceConfigurationRetention(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "ret")
	var d struct {
		C struct {
			Retention int `json:"retentionPeriodInDays"`
		} `json:"workspaceConfiguration"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws+"/configuration", nil, nil, &d); err != nil || d.C.Retention != 150 {
		t.Fatalf("default retention: %+v %v", d, err)
	}
	if err := s.Admin.JSON(ctx, "PATCH", "/workspaces/"+ws+"/configuration", nil, map[string]any{"retentionPeriodInDays": 30}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws+"/configuration", nil, nil, &d); err != nil || d.C.Retention != 30 {
		t.Fatalf("retention after update: %+v %v", d, err)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "PATCH", "/workspaces/"+ws+"/configuration", nil, map[string]any{"retentionPeriodInDays": 0}, nil)); e.Status != 400 {
		t.Fatalf("retention 0: %v", e)
	}
}

func TestAuditTrail(t *testing.T) {
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "audited")
	var key struct {
		AccessKey struct{ AccessKeyID, SecretAccessKey string } `json:"accessKey"`
	}
	if err := s.Admin.JSON(ctx, "POST", "/admin/v1/keys", nil, map[string]any{"userName": "reader", "policyArns": []string{"AmazonPrometheusQueryAccess"}}, &key); err != nil {
		t.Fatal(err)
	}
	tok := s.Token(t)
	// A refused call, and one with a bad signature.
	reader := s.User(t, "reader2", "AmazonPrometheusQueryAccess")
	_ = reader.JSON(ctx, "DELETE", "/workspaces/"+ws, nil, nil, nil)
	// A fresh client: the SDK signer caches derived keys by access key id.
	bad := client.New(s.URL, "us-east-1", aws.Credentials{AccessKeyID: s.Admin.Creds.AccessKeyID, SecretAccessKey: "wrong"})
	if err := bad.JSON(ctx, "GET", "/workspaces", nil, nil, nil); err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
		t.Fatalf("bad signature: %v", err)
	}

	type ev struct {
		EventName         string         `json:"eventName"`
		EventSource       string         `json:"eventSource"`
		ErrorCode         string         `json:"errorCode"`
		RequestParameters map[string]any `json:"requestParameters"`
		ResponseElements  map[string]any `json:"responseElements"`
		UserIdentity      struct {
			Type, UserName, AccessKeyID string
		} `json:"userIdentity"`
		SourceIPAddress string `json:"sourceIPAddress"`
		UserAgent       string `json:"userAgent"`
		EventTime       string `json:"eventTime"`
	}
	// Poll per event name: the lookups themselves are audited too.
	var events []ev
	lookup := func(q url.Values) []ev {
		var out struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := s.Admin.JSON(ctx, "GET", "/admin/v1/audit", q, nil, &out); err != nil {
			t.Fatal(err)
		}
		var evs []ev
		for _, raw := range out.Events {
			if strings.Contains(string(raw), key.AccessKey.SecretAccessKey) || strings.Contains(string(raw), tok.Token) {
				t.Fatalf("a secret reached the audit trail: %s", raw)
			}
			var e ev
			_ = json.Unmarshal(raw, &e)
			evs = append(evs, e)
		}
		return evs
	}
	waitFor(t, func() bool {
		events = append(lookup(url.Values{"eventName": {"CreateWorkspace"}}), lookup(url.Values{"eventName": {"CreateAccessKey"}})...)
		events = append(events, lookup(url.Values{"errorsOnly": {"true"}})...)
		var kinds = map[string]bool{}
		for _, e := range events {
			kinds[e.EventName+"/"+e.ErrorCode] = true
		}
		return kinds["CreateWorkspace/"] && kinds["CreateAccessKey/"] && kinds["DeleteWorkspace/AccessDeniedException"] && kinds["ListWorkspaces/InvalidSignatureException"]
	})
	var sawCreate, sawDenied, sawBadSig, sawKey bool
	for _, e := range events {
		switch {
		case e.EventName == "CreateWorkspace" && e.ErrorCode == "":
			sawCreate = e.EventSource == "aps.amazonaws.com" && e.RequestParameters["alias"] == "audited" &&
				e.ResponseElements["workspaceId"] == ws && e.UserIdentity.UserName == "admin" && e.SourceIPAddress == "127.0.0.1" && e.EventTime != ""
		case e.EventName == "DeleteWorkspace" && e.ErrorCode == "AccessDeniedException":
			sawDenied = e.UserIdentity.UserName == "reader2"
		case e.ErrorCode == "InvalidSignatureException":
			sawBadSig = e.UserIdentity.Type == "Unknown" && e.UserIdentity.AccessKeyID == s.Admin.Creds.AccessKeyID
		case e.EventName == "CreateAccessKey" && e.ErrorCode == "":
			ak, _ := e.ResponseElements["accessKey"].(map[string]any)
			sawKey = ak["secretAccessKey"] == "HIDDEN_DUE_TO_SECURITY_REASONS" && ak["accessKeyId"] == key.AccessKey.AccessKeyID
		}
	}
	if !sawCreate || !sawDenied || !sawBadSig || !sawKey {
		t.Fatalf("create=%v denied=%v badsig=%v key=%v in %+v", sawCreate, sawDenied, sawBadSig, sawKey, events)
	}
	// Filters.
	var out struct {
		Events []ev `json:"events"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/audit", url.Values{"errorsOnly": {"true"}}, nil, &out); err != nil {
		t.Fatal(err)
	}
	for _, e := range out.Events {
		if e.ErrorCode == "" {
			t.Fatalf("errorsOnly returned a success: %+v", e)
		}
	}
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/audit", url.Values{"userName": {"reader2"}}, nil, &out); err != nil || len(out.Events) == 0 {
		t.Fatalf("by user: %v %v", out, err)
	}
	for _, e := range out.Events {
		if e.UserIdentity.UserName != "reader2" {
			t.Fatalf("userName filter: %+v", e)
		}
	}
	// Successful data-plane calls are not audited (CloudTrail data events are off too).
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/audit", url.Values{"eventName": {"QueryMetrics"}}, nil, &out); err != nil || len(out.Events) != 0 {
		t.Fatalf("data plane in the trail: %v %v", out, err)
	}
}
