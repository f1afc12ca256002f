package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/scraper"
	"github.com/kansoku/kansoku/internal/testenv"
)

type scraperCreated struct {
	ScraperID string            `json:"scraperId"`
	ARN       string            `json:"arn"`
	Status    map[string]string `json:"status"`
	Tags      map[string]string `json:"tags"`
}

func scraperBody(s *testenv.Server, ws, cfg string, extra map[string]any) map[string]any {
	b := map[string]any{
		"scrapeConfiguration": map[string]any{"configurationBlob": base64.StdEncoding.EncodeToString([]byte(cfg))},
		"source":              map[string]any{"vpcConfiguration": map[string]any{"securityGroupIds": []string{"sg-1"}, "subnetIds": []string{"subnet-1", "subnet-2"}}},
		"destination":         map[string]any{"ampConfiguration": map[string]any{"workspaceArn": s.WorkspaceARN(ws)}},
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func describeScraper(t *testing.T, s *testenv.Server, id string) (map[string]any, error) {
	t.Helper()
	var d struct {
		Scraper map[string]any `json:"scraper"`
	}
	err := s.Admin.JSON(ctx, "GET", "/scrapers/"+id, nil, nil, &d)
	return d.Scraper, err
}

func waitScraper(t *testing.T, s *testenv.Server, id, want string) map[string]any {
	t.Helper()
	var last map[string]any
	for i := 0; i < 500; i++ {
		d, err := describeScraper(t, s, id)
		if want == "" && err != nil && apiErr(t, err).Status == 404 {
			return nil
		}
		if err == nil {
			last = d
			if d["status"].(map[string]any)["statusCode"] == want {
				return d
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("scraper %s never reached %q: %v", id, want, last)
	return nil
}

const staticScrape = "global:\n  scrape_interval: 30s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['10.0.0.1:9100']\n"

// TestScraperAPI drives the scraper operations through their statuses,
// filters, idempotency, quota, tags, logging configuration and bad input.
func TestScraperAPI(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) {
		c.Scraper.MaxPerAccount = 2
		c.Scraper.Run = false
	}})
	ws := s.CreateWorkspace(t, "scraped")
	var c scraperCreated
	body := scraperBody(s, ws, staticScrape, map[string]any{"alias": "node-a", "clientToken": "tok-1", "tags": map[string]string{"team": "obs"}})
	if err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, body, &c); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.ScraperID, "s-") || c.Status["statusCode"] != "CREATING" || c.Tags["team"] != "obs" ||
		c.ARN != "arn:aws:aps:"+s.App.Info().Account.Region+":"+s.App.Info().Account.ID+":scraper/"+c.ScraperID {
		t.Fatalf("create: %+v", c)
	}
	// The same client token and parameters: the same scraper.
	var again scraperCreated
	if err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, body, &again); err != nil || again.ScraperID != c.ScraperID {
		t.Fatalf("replay: %+v %v", again, err)
	}
	// The same token with other parameters: ConflictException.
	err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, staticScrape, map[string]any{"alias": "other", "clientToken": "tok-1"}), nil)
	if e := apiErr(t, err); e.Status != 409 || e.Type != "ConflictException" {
		t.Fatalf("token reuse: %v", e)
	}
	d := waitScraper(t, s, c.ScraperID, "ACTIVE")
	blob, _ := base64.StdEncoding.DecodeString(d["scrapeConfiguration"].(map[string]any)["configurationBlob"].(string))
	if string(blob) != staticScrape || d["alias"] != "node-a" ||
		!strings.Contains(d["roleArn"].(string), ":role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper_") ||
		d["destination"].(map[string]any)["ampConfiguration"].(map[string]any)["workspaceArn"] != s.WorkspaceARN(ws) ||
		d["source"].(map[string]any)["vpcConfiguration"] == nil || d["createdAt"] == nil || d["lastModifiedAt"] == nil {
		t.Fatalf("describe: %v", d)
	}

	// Bad input, each a ValidationException that names the problem.
	for name, tc := range map[string]struct {
		body map[string]any
		want string
	}{
		"interval":  {scraperBody(s, ws, strings.Replace(staticScrape, "30s", "10s", 1), nil), "scrape_interval 10s is below the minimum of 30s"},
		"sections":  {scraperBody(s, ws, staticScrape+"remote_write: [{url: 'http://x'}]\n", nil), "remote_write not allowed"},
		"body size": {scraperBody(s, ws, staticScrape+"    body_size_limit: 100MB\n", nil), "above the limit of 50MB"},
		"eks": {scraperBody(s, ws, staticScrape, map[string]any{"source": map[string]any{"eksConfiguration": map[string]any{
			"clusterArn": "arn:aws:eks:us-east-1:123456789012:cluster/c", "subnetIds": []string{"subnet-1"}}}}), "the cluster's account 123456789012 is not reachable from the destination workspace"},
		"kubernetes sd": {scraperBody(s, ws, "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs: [{role: pod}]\n", nil), "kubernetes_sd_configs needs an eksConfiguration source"},
		"other account": {scraperBody(s, ws, staticScrape, map[string]any{"destination": map[string]any{"ampConfiguration": map[string]any{
			"workspaceArn": "arn:aws:aps:us-east-1:999999999999:workspace/" + ws}}}), "not a workspace of this account"},
		"not base64": {map[string]any{"scrapeConfiguration": map[string]any{"configurationBlob": "%%%"}, "source": body["source"], "destination": body["destination"]}, "must be base64"},
		"no source":  {map[string]any{"scrapeConfiguration": body["scrapeConfiguration"], "destination": body["destination"]}, "source"},
		"bad alias":  {scraperBody(s, ws, staticScrape, map[string]any{"alias": "no spaces"}), "alias"},
	} {
		err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, tc.body, nil)
		if e := apiErr(t, err); e.Status != 400 || e.Type != "ValidationException" || !strings.Contains(e.Message, tc.want) {
			t.Errorf("%s: want ValidationException with %q, got %v", name, tc.want, e)
		}
	}
	err = s.Admin.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, "ws-00000000-0000-0000-0000-000000000000", staticScrape, nil), nil)
	if e := apiErr(t, err); e.Status != 404 || e.Type != "ResourceNotFoundException" {
		t.Fatalf("missing workspace: %v", e)
	}

	// The quota counts every scraper (here 2).
	var second scraperCreated
	if err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, staticScrape, nil), &second); err != nil {
		t.Fatal(err)
	}
	err = s.Admin.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, staticScrape, nil), nil)
	if e := apiErr(t, err); e.Status != 402 || e.Type != "ServiceQuotaExceededException" || !strings.Contains(e.Message, "Maximum scrapers per account (2)") {
		t.Fatalf("quota: %v", e)
	}
	waitScraper(t, s, second.ScraperID, "ACTIVE")

	// Filters and pages.
	list := func(q url.Values) ([]string, string) {
		t.Helper()
		var out struct {
			Scrapers  []map[string]any `json:"scrapers"`
			NextToken string           `json:"nextToken"`
		}
		if err := s.Admin.JSON(ctx, "GET", "/scrapers", q, nil, &out); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, sc := range out.Scrapers {
			if _, ok := sc["scrapeConfiguration"]; ok {
				t.Fatal("a summary carries no configuration")
			}
			ids = append(ids, sc["scraperId"].(string))
		}
		return ids, out.NextToken
	}
	if ids, _ := list(url.Values{"alias": {"node-a"}}); fmt.Sprint(ids) != fmt.Sprint([]string{c.ScraperID}) {
		t.Fatalf("alias filter: %v", ids)
	}
	if ids, _ := list(url.Values{"status": {"ACTIVE"}, "destinationArn": {s.WorkspaceARN(ws)}}); len(ids) != 2 {
		t.Fatalf("status+destination filter: %v", ids)
	}
	if ids, next := list(url.Values{"maxResults": {"1"}}); len(ids) != 1 || next == "" {
		t.Fatalf("page: %v %q", ids, next)
	} else if ids2, next2 := list(url.Values{"maxResults": {"1"}, "nextToken": {next}}); len(ids2) != 1 || ids2[0] == ids[0] || next2 != "" {
		t.Fatalf("second page: %v %q", ids2, next2)
	}
	err = s.Admin.JSON(ctx, "GET", "/scrapers", url.Values{"color": {"red"}}, nil, nil)
	if e := apiErr(t, err); e.Type != "ValidationException" || !strings.Contains(e.Message, `unknown filter key "color"`) {
		t.Fatalf("unknown filter: %v", e)
	}

	// Update: UPDATING, then ACTIVE with the new alias and configuration.
	newCfg := strings.Replace(staticScrape, "10.0.0.1", "10.0.0.2", 1)
	var up scraperCreated
	if err := s.Admin.JSON(ctx, "PUT", "/scrapers/"+c.ScraperID, nil, map[string]any{"alias": "node-b",
		"scrapeConfiguration": map[string]any{"configurationBlob": base64.StdEncoding.EncodeToString([]byte(newCfg))}}, &up); err != nil {
		t.Fatal(err)
	}
	if up.Status["statusCode"] != "UPDATING" {
		t.Fatalf("update: %+v", up)
	}
	d = waitScraper(t, s, c.ScraperID, "ACTIVE")
	blob, _ = base64.StdEncoding.DecodeString(d["scrapeConfiguration"].(map[string]any)["configurationBlob"].(string))
	if d["alias"] != "node-b" || string(blob) != newCfg {
		t.Fatalf("after update: %v", d)
	}
	err = s.Admin.JSON(ctx, "PUT", "/scrapers/"+c.ScraperID, nil, map[string]any{
		"scrapeConfiguration": map[string]any{"configurationBlob": base64.StdEncoding.EncodeToString([]byte("global:\n  scrape_interval: 1s\n"))}}, nil)
	if e := apiErr(t, err); e.Type != "ValidationException" {
		t.Fatalf("bad update: %v", e)
	}

	// Tags on the scraper's ARN.
	tagPath := "/tags/" + url.PathEscape(c.ARN)
	if err := s.Admin.JSON(ctx, "POST", tagPath, nil, map[string]any{"tags": map[string]string{"env": "prod"}}, nil); err != nil {
		t.Fatal(err)
	}
	var tags struct{ Tags map[string]string }
	if err := s.Admin.JSON(ctx, "GET", tagPath, nil, nil, &tags); err != nil || tags.Tags["env"] != "prod" || tags.Tags["team"] != "obs" {
		t.Fatalf("tags: %v %v", tags, err)
	}

	// Logging configuration.
	logPath := "/scrapers/" + c.ScraperID + "/logging-configuration"
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", logPath, nil, nil, nil)); e.Status != 404 {
		t.Fatalf("no logging yet: %v", e)
	}
	group := "arn:aws:logs:us-east-1:" + s.App.Info().Account.ID + ":log-group:/scrapers/a:*"
	var st statusResp
	if err := s.Admin.JSON(ctx, "PUT", logPath, nil, map[string]any{"loggingDestination": map[string]any{"cloudWatchLogs": map[string]any{"logGroupArn": group}},
		"scraperComponents": []map[string]any{{"type": "COLLECTOR"}}}, &st); err != nil || st.Status.StatusCode != "ACTIVE" {
		t.Fatalf("update logging: %+v %v", st, err)
	}
	var lg map[string]any
	if err := s.Admin.JSON(ctx, "GET", logPath, nil, nil, &lg); err != nil {
		t.Fatal(err)
	}
	if lg["scraperId"] != c.ScraperID || lg["loggingDestination"].(map[string]any)["cloudWatchLogs"].(map[string]any)["logGroupArn"] != group ||
		lg["scraperComponents"].([]any)[0].(map[string]any)["type"] != "COLLECTOR" || lg["modifiedAt"] == nil {
		t.Fatalf("describe logging: %v", lg)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "PUT", logPath, nil, map[string]any{"loggingDestination": map[string]any{"cloudWatchLogs": map[string]any{"logGroupArn": "nope"}}}, nil)); e.Type != "ValidationException" {
		t.Fatalf("bad log group: %v", e)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "PUT", logPath, nil, map[string]any{"loggingDestination": map[string]any{"cloudWatchLogs": map[string]any{"logGroupArn": group}},
		"scraperComponents": []map[string]any{{"type": "EVERYTHING"}}}, nil)); e.Type != "ValidationException" {
		t.Fatalf("bad component: %v", e)
	}
	if err := s.Admin.JSON(ctx, "DELETE", logPath, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", logPath, nil, nil, nil)); e.Status != 404 {
		t.Fatalf("logging deleted: %v", e)
	}

	// The default configuration is one this installation accepts.
	var def struct{ Configuration []byte }
	if err := s.Admin.JSON(ctx, "GET", "/scraperconfiguration", nil, nil, &def); err != nil || string(def.Configuration) != scraper.DefaultConfiguration {
		t.Fatalf("default configuration: %q %v", def.Configuration, err)
	}

	// Delete: DELETING, then gone with its tags; the quota frees up.
	var del struct {
		ScraperID string            `json:"scraperId"`
		Status    map[string]string `json:"status"`
	}
	if err := s.Admin.JSON(ctx, "DELETE", "/scrapers/"+c.ScraperID, url.Values{"clientToken": {"del-1"}}, nil, &del); err != nil || del.Status["statusCode"] != "DELETING" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	waitScraper(t, s, c.ScraperID, "")
	if e := apiErr(t, s.Admin.JSON(ctx, "GET", tagPath, nil, nil, nil)); e.Status != 404 {
		t.Fatalf("tags of a deleted scraper: %v", e)
	}
	if err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, staticScrape, nil), nil); err != nil {
		t.Fatalf("quota after delete: %v", err)
	}

	// The audit trail keeps the configuration's size, not its text.
	var ev struct {
		Events []map[string]any `json:"events"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/admin/v1/audit", url.Values{"eventName": {"CreateScraper"}}, nil, &ev); err == nil {
		raw, _ := json.Marshal(ev)
		if strings.Contains(string(raw), base64.StdEncoding.EncodeToString([]byte(staticScrape))) {
			t.Fatalf("audit holds the configuration: %s", raw)
		}
	}
}

// TestScraperAuthorization: CreateScraper needs aps:CreateScraper and the
// right to write into the destination workspace.
func TestScraperAuthorization(t *testing.T) {
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) { c.Scraper.Run = false }})
	ws := s.CreateWorkspace(t, "authz")
	policy := func(name string, actions ...string) string {
		doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{{"Effect": "Allow", "Action": actions, "Resource": "*"}}})
		return createPolicy(t, s, name, string(doc))
	}
	onlyCreate := s.User(t, "only-create", policy("create-only", "aps:CreateScraper"))
	err := onlyCreate.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, staticScrape, nil), nil)
	if e := apiErr(t, err); e.Status != 403 || !strings.Contains(e.Message, "aps:RemoteWrite") {
		t.Fatalf("create without RemoteWrite: %v", e)
	}
	both := s.User(t, "both", policy("create-and-write", "aps:CreateScraper", "aps:RemoteWrite"))
	if err := both.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, staticScrape, nil), nil); err != nil {
		t.Fatalf("create with both: %v", err)
	}
	if e := apiErr(t, both.JSON(ctx, "GET", "/scrapers", nil, nil, nil)); e.Status != 403 {
		t.Fatalf("list without aps:ListScrapers: %v", e)
	}
}

// nodeExporter starts Debian's prometheus-node-exporter on loopback.
func nodeExporter(t *testing.T) string {
	t.Helper()
	bin := "/usr/bin/prometheus-node-exporter"
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("prometheus-node-exporter is not installed: scripts/install-test-deps.sh installs it (%v)", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo", "--collector.loadavg")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; i < 200; i++ {
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			resp.Body.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("node exporter did not start")
	return ""
}

// queryValues runs an instant query and returns its series' labels and
// values.
func queryValues(t *testing.T, s *testenv.Server, ws, q string) []map[string]string {
	t.Helper()
	code, r := get(t, s.Admin, "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {q}})
	if code != 200 {
		t.Fatalf("query %s: %d %s", q, code, r.Error)
	}
	var d struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, x := range d.Result {
		m := x.Metric
		m["__value__"] = fmt.Sprint(x.Value[1])
		out = append(out, m)
	}
	return out
}

// waitQuery polls a query until check accepts its result.
func waitQuery(t *testing.T, s *testenv.Server, ws, q string, timeout time.Duration, check func([]map[string]string) bool) []map[string]string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last []map[string]string
	for time.Now().Before(deadline) {
		last = queryValues(t, s, ws, q)
		if check(last) {
			return last
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s never satisfied the check: %v", q, last)
	return nil
}

// TestScraperScrapesRealExporters: a scraper scrapes Debian's node exporter
// and Kansoku's own /metrics (with an API token) into its workspace, with
// up and the scrape series as Prometheus writes them and the external
// labels added.
func TestScraperScrapesRealExporters(t *testing.T) {
	node := nodeExporter(t)
	s := testenv.Start(t, testenv.Options{Config: func(c *config.Config) { c.Scraper.AllowNetworks = []string{"127.0.0.0/8"} }})
	ws := s.CreateWorkspace(t, "scraped")
	tok := s.Token(t).Token
	self := strings.TrimPrefix(s.URL, "http://")
	cfg := fmt.Sprintf(`global:
  scrape_interval: 30s
  external_labels:
    collector: managed
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['%s']
  - job_name: kansoku
    authorization:
      credentials: %s
    static_configs:
      - targets: ['%s']
`, node, tok, self)
	var c scraperCreated
	if err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, cfg, nil), &c); err != nil {
		t.Fatal(err)
	}
	waitScraper(t, s, c.ScraperID, "ACTIVE")
	// The configuration holds a credential: sealed at rest, returned whole
	// to a caller allowed to describe the scraper.
	dbFile, _ := os.ReadFile(filepath.Join(s.DataDir, "kansoku.db"))
	dbWAL, _ := os.ReadFile(filepath.Join(s.DataDir, "kansoku.db-wal"))
	if bytes.Contains(dbFile, []byte(tok)) || bytes.Contains(dbWAL, []byte(tok)) {
		t.Fatal("the scrape configuration's credential is stored in clear")
	}
	var described struct {
		Scraper struct {
			ScrapeConfiguration struct{ ConfigurationBlob []byte }
		}
	}
	if err := s.Admin.JSON(ctx, "GET", "/scrapers/"+c.ScraperID, nil, nil, &described); err != nil {
		t.Fatal(err)
	}
	if string(described.Scraper.ScrapeConfiguration.ConfigurationBlob) != cfg {
		t.Fatalf("described configuration %q, want %q", described.Scraper.ScrapeConfiguration.ConfigurationBlob, cfg)
	}
	up := waitQuery(t, s, ws, "up", 90*time.Second, func(r []map[string]string) bool { return len(r) == 2 })
	for _, u := range up {
		if u["__value__"] != "1" || u["collector"] != "managed" {
			t.Fatalf("up: %v", up)
		}
	}
	waitQuery(t, s, ws, `count(node_cpu_seconds_total{job="node"}) > 0`, 30*time.Second, func(r []map[string]string) bool { return len(r) == 1 })
	waitQuery(t, s, ws, `kansoku_build_info{job="kansoku"}`, 30*time.Second, func(r []map[string]string) bool { return len(r) == 1 })
	for _, m := range []string{"scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"} {
		waitQuery(t, s, ws, m, 10*time.Second, func(r []map[string]string) bool { return len(r) == 2 })
	}

	// A logging configuration sends the scraper's events to the
	// workspace's log under its log group.
	group := "arn:aws:logs:us-east-1:" + s.App.Info().Account.ID + ":log-group:/aps/scrapers:*"
	if err := s.Admin.JSON(ctx, "PUT", "/scrapers/"+c.ScraperID+"/logging-configuration", nil, map[string]any{
		"loggingDestination": map[string]any{"cloudWatchLogs": map[string]any{"logGroupArn": group}},
		"scraperComponents":  []map[string]any{{"type": "SERVICE_DISCOVERY"}}}, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		var logs struct{ Events []map[string]any }
		if err := s.Admin.JSON(ctx, "GET", "/admin/v1/workspaces/"+ws+"/logs", url.Values{"component": {"scraper"}}, nil, &logs); err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(logs)
		if strings.Contains(string(raw), "scraper started") && strings.Contains(string(raw), c.ScraperID) {
			break
		}
		if i > 200 {
			t.Fatalf("no scraper event in the workspace log: %s", raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestScraperAttacks: a scraper cannot reach internal addresses unless the
// operator opened them, a body over body_size_limit fails the scrape
// without its samples, and sample_limit holds.
func TestScraperAttacks(t *testing.T) {
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// An endless body: the scrape must stop at its limit.
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "flood_metric{i=\"%d\"} 1\n", i); err != nil {
				return
			}
		}
	}))
	defer big.Close()
	many := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 100; i++ {
			fmt.Fprintf(w, "many_metric{i=\"%d\"} 1\n", i)
		}
	}))
	defer many.Close()
	node := nodeExporter(t)

	// Loopback is internal: refused by default.
	s := testenv.Start(t, testenv.Options{})
	ws := s.CreateWorkspace(t, "closed")
	cfg := fmt.Sprintf("global:\n  scrape_interval: 30s\nscrape_configs:\n  - job_name: internal\n    static_configs:\n      - targets: ['%s', '169.254.169.254:80']\n", node)
	var c scraperCreated
	if err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, cfg, nil), &c); err != nil {
		t.Fatal(err)
	}
	up := waitQuery(t, s, ws, "up", 90*time.Second, func(r []map[string]string) bool { return len(r) == 2 })
	for _, u := range up {
		if u["__value__"] != "0" {
			t.Fatalf("an internal address was scraped: %v", up)
		}
	}
	if r := queryValues(t, s, ws, `{__name__=~"node_.+"}`); len(r) != 0 {
		t.Fatalf("node exporter samples behind the firewall: %d series", len(r))
	}
	s.Stop()

	// Opened loopback: a flood is cut at body_size_limit, a target over
	// sample_limit stores nothing of that scrape.
	s = testenv.Start(t, testenv.Options{Config: func(c *config.Config) { c.Scraper.AllowNetworks = []string{"127.0.0.0/8"} }})
	ws = s.CreateWorkspace(t, "bounded")
	cfg = fmt.Sprintf(`global:
  scrape_interval: 30s
scrape_configs:
  - job_name: flood
    body_size_limit: 1MB
    static_configs:
      - targets: ['%s']
  - job_name: many
    sample_limit: 10
    static_configs:
      - targets: ['%s']
`, strings.TrimPrefix(big.URL, "http://"), strings.TrimPrefix(many.URL, "http://"))
	if err := s.Admin.JSON(ctx, "POST", "/scrapers", nil, scraperBody(s, ws, cfg, nil), &c); err != nil {
		t.Fatal(err)
	}
	up = waitQuery(t, s, ws, "up", 90*time.Second, func(r []map[string]string) bool { return len(r) == 2 })
	for _, u := range up {
		if u["__value__"] != "0" {
			t.Fatalf("a bounded scrape succeeded: %v", up)
		}
	}
	if r := queryValues(t, s, ws, `count({__name__=~"flood_metric|many_metric"})`); len(r) != 0 {
		t.Fatalf("samples of failed scrapes were stored: %v", r)
	}
}
