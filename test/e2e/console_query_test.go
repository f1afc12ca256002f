package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// WebDriver key codes.
const (
	keyTab   = "\uE004"
	keyEnter = "\uE007"
	keyCtrl  = "\uE009"
	keyNull  = "\uE000"
	keyEsc   = "\uE00C"
	keyDown  = "\uE015"
)

// keys sends keystrokes to the element matched by css without clearing it.
func (b *browser) keys(css, text string) {
	b.t.Helper()
	id := b.Wait(css, 10*time.Second)
	b.cmd("POST", "/element/"+id+"/value", map[string]any{"text": text})
}

// value returns the value of the form field matched by css.
func (b *browser) value(css string) string {
	v, _ := b.Exec(`const e = document.querySelector(arguments[0]); return e ? e.value : null;`, css).(string)
	return v
}

// waitJS waits until the script returns true.
func (b *browser) waitJS(what, script string, timeout time.Duration, args ...any) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if ok, _ := b.Exec(script, args...).(bool); ok {
			return
		}
		if time.Now().After(deadline) {
			b.Screenshot("failure-js")
			b.t.Fatalf("timed out after %s waiting for %s; page text:\n%s", timeout, what, b.Text("main"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSuggestion waits until the completion list's selected entry is value.
func (b *browser) waitSuggestion(kind, value string) {
	b.t.Helper()
	b.waitJS("the suggestion "+value, `const s = document.querySelector('#promql-suggest:not([hidden]) div.sel');
		return !!s && s.dataset.kind === arguments[0] && s.dataset.value === arguments[1];`, 10*time.Second, kind, value)
}

// dismissToasts removes the notifications in the bottom-right corner that
// would catch clicks meant for the buttons under them.
func (b *browser) dismissToasts() {
	b.Exec(`document.querySelectorAll('.toast').forEach(e => e.remove());`)
}

// noStrayText fails when a page printed a JavaScript null or undefined.
func (b *browser) noStrayText() {
	b.t.Helper()
	for _, line := range strings.Split(b.Text("main"), "\n") {
		if l := strings.TrimSpace(line); l == "null" || l == "undefined" || strings.Contains(l, "[object ") || strings.Contains(l, "NaN") {
			b.t.Fatalf("the page shows %q", l)
		}
	}
}

// noPageErrors fails on uncaught errors collected by the console's pages.
func (b *browser) noPageErrors() {
	b.t.Helper()
	v := b.Exec(`return window.__errors === undefined ? null : window.__errors;`)
	errs, ok := v.([]any)
	if !ok {
		b.t.Fatalf("the pages' error collector is not installed (window.__errors = %v)", v)
	}
	if len(errs) > 0 {
		b.t.Fatalf("JavaScript errors in the page: %v", errs)
	}
}

// TestConsoleQueryAndDashboards: a real Prometheus remote-writes (sigv4)
// what it scrapes from Kansoku's /metrics; in a real Chromium the query
// explorer completes a query, graphs it with its statistics, shows a parse
// error inline; a dashboard gets a panel of each type ("Add to dashboard"
// and the editor, with the server's validation and version conflicts),
// survives a reload, exports and imports as JSON; a read-only user sees no
// way to change anything.
func TestConsoleQueryAndDashboards(t *testing.T) {
	s := startServer(t, "")
	ws := createWorkspace(t, s.Admin, "console-query")
	token, code := s.kansoku(t, "token", "create", "--name", "scrape")
	token = strings.TrimSpace(strings.Split(token, "\n")[0])
	if code != 0 {
		t.Fatalf("token create: %s", token)
	}
	p := startPrometheus(t, fmt.Sprintf(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: kansoku
    metrics_path: /metrics
    authorization:
      credentials: %q
    static_configs:
      - targets: ['127.0.0.1:%d']
remote_write:
  - url: %s/workspaces/%s/api/v1/remote_write
    sigv4:
      region: us-east-1
      access_key: %s
      secret_key: %s
    queue_config:
      batch_send_deadline: 500ms
    metadata_config:
      send_interval: 2s
`, token, s.port, s.URL, ws, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"]))

	// A read-only user: queries and dashboards to look at, nothing to change.
	doc := filepath.Join(t.TempDir(), "viewer.json")
	if err := os.WriteFile(doc, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["aps:QueryMetrics","aps:GetLabels",
		"aps:GetSeries","aps:GetMetricMetadata","aps:ListWorkspaces","aps:DescribeWorkspace","kansoku:ListDashboards","kansoku:GetDashboard"],"Resource":"*"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := s.kansoku(t, "iam", "create-policy", "--name", "viewer", "--document", "file://"+doc); code != 0 {
		t.Fatalf("create-policy: %s", out)
	}
	out, code := s.kansoku(t, "keys", "create", "--name", "viewer", "--policy", "viewer")
	var viewerID, viewerSecret string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "AWS_ACCESS_KEY_ID="); ok {
			viewerID = v
		}
		if v, ok := strings.CutPrefix(line, "AWS_SECRET_ACCESS_KEY="); ok {
			viewerSecret = v
		}
	}
	if code != 0 || viewerID == "" || viewerSecret == "" {
		t.Fatalf("keys create: %d %s", code, out)
	}

	b := startBrowser(t)
	waitFor(t, 60*time.Second, "Prometheus' samples in the workspace", func() bool {
		var r struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		err := s.Admin.JSON(context.Background(), "GET", "/workspaces/"+ws+"/api/v1/query", url.Values{"query": {`up{job="kansoku"}`}}, nil, &r)
		return err == nil && len(r.Data.Result) == 1 && r.Data.Result[0].Value[1] == "1"
	})
	if strings.Contains(p.log(), "non-recoverable error") {
		t.Fatalf("Prometheus reported remote write errors:\n%s", lastLines(p.log(), 20))
	}

	b.SignIn(s, s.Creds["AWS_ACCESS_KEY_ID"], s.Creds["AWS_SECRET_ACCESS_KEY"])
	b.Go(s.URL + "/console/#/ws/" + ws + "/query")
	b.Wait("#promql", 10*time.Second)

	// Completion: a metric name picked with the mouse, a label name with
	// Tab, a label value with Enter.
	b.keys("#promql", "kansoku_http_re")
	b.waitJS("several suggestions", `return document.querySelectorAll('#promql-suggest:not([hidden]) div[data-kind=metric]').length >= 2;`, 10*time.Second)
	first, _ := b.Exec(`return document.querySelector('#promql-suggest div.sel').dataset.value;`).(string)
	b.keys("#promql", keyDown)
	b.waitJS("ArrowDown to select the next one", `const s = document.querySelector('#promql-suggest div.sel'); return !!s && s.dataset.value !== arguments[0];`, 5*time.Second, first)
	b.keys("#promql", keyEsc)
	b.waitJS("Escape to close the list", `return document.querySelector('#promql-suggest').hidden;`, 5*time.Second)
	b.Type("#promql", "kansoku_ht")
	b.Click(`#promql-suggest div[data-kind=metric][data-value="kansoku_http_requests_total"]`)
	if v := b.value("#promql"); v != "kansoku_http_requests_total" {
		t.Fatalf("after picking the metric the editor holds %q", v)
	}
	b.keys("#promql", "{jo")
	b.waitSuggestion("label", "job")
	b.keys("#promql", keyTab)
	if v := b.value("#promql"); v != `kansoku_http_requests_total{job="` {
		t.Fatalf("after Tab on a label the editor holds %q", v)
	}
	b.waitSuggestion("value", "kansoku")
	b.keys("#promql", keyEnter)
	b.keys("#promql", "}")
	const q = `kansoku_http_requests_total{job="kansoku"}`
	if v := b.value("#promql"); v != q {
		t.Fatalf("after completing the editor holds %q", v)
	}
	if b.Exec(`return document.querySelector('#promql-suggest').hidden;`) != true {
		t.Fatal("the completion list stays open after a complete selector")
	}

	// A range query: uPlot graph, legend, sample statistics, the URL.
	b.Select("#query-mode", "range")
	b.Select("#query-range", "5m")
	b.Click("#run-query")
	b.Wait("#query-graph .u-over", 15*time.Second)
	b.WaitText("#query-graph .u-legend", "kansoku_http_requests_total{", 10*time.Second)
	b.WaitText("#query-table", `job="kansoku"`, 10*time.Second)
	b.WaitText("#query-stats", "Samples queried", 10*time.Second)
	if n, _ := b.Exec(`return +document.querySelector('#stat-total-samples').dataset.total;`).(float64); n <= 0 {
		t.Fatalf("no samples counted: %s", b.Text("#query-stats"))
	}
	if n, _ := b.Exec(`return +document.querySelector('#stat-peak-samples').dataset.peak;`).(float64); n <= 0 {
		t.Fatalf("no peak samples: %s", b.Text("#query-stats"))
	}
	// Zoom: drag over the last few seconds of the graph; the window is
	// queried again, finer, and kept in the URL.
	over := b.Wait("#query-graph .u-over", 5*time.Second)
	w, _ := b.Exec(`return document.querySelector('#query-graph .u-over').getBoundingClientRect().width;`).(float64)
	origin := map[string]any{"element-6066-11e4-a52e-4f735466cecf": over}
	b.cmd("POST", "/actions", map[string]any{"actions": []any{map[string]any{
		"type": "pointer", "id": "mouse", "parameters": map[string]any{"pointerType": "mouse"},
		"actions": []any{
			map[string]any{"type": "pointerMove", "duration": 0, "origin": origin, "x": int(w * 0.45), "y": 0},
			map[string]any{"type": "pointerDown", "button": 0},
			map[string]any{"type": "pointerMove", "duration": 150, "origin": origin, "x": int(w*0.5) - 1, "y": 0},
			map[string]any{"type": "pointerUp", "button": 0},
		}}}})
	b.cmd("DELETE", "/actions", nil)
	b.waitJS("the zoomed window in the URL", `return /[?&]start=\d+/.test(location.hash) && /[?&]end=\d+/.test(location.hash);`, 10*time.Second)
	b.Wait("#reset-zoom", 5*time.Second)
	b.WaitText("#query-stats", "step 1s", 10*time.Second)
	b.Wait("#query-graph .u-over", 10*time.Second)
	b.noStrayText()
	b.Screenshot("query-explorer")
	b.Click("#reset-zoom")
	b.waitJS("the zoom gone from the URL", `return !location.hash.includes('start=') && location.hash.includes('range=5m');`, 10*time.Second)
	b.WaitText("#query-stats", "step 2s", 10*time.Second)
	hash, _ := b.Exec(`return location.hash;`).(string)
	if !strings.Contains(hash, "mode=range") || !strings.Contains(hash, "range=5m") || !strings.Contains(hash, "q=kansoku_http_requests_total") {
		t.Fatalf("the URL does not hold the query: %s", hash)
	}
	b.noPageErrors()
	// A reload (or the link) reproduces it.
	b.cmd("POST", "/refresh", map[string]any{})
	b.Wait("#query-graph .u-over", 15*time.Second)
	if v := b.value("#promql"); v != q {
		t.Fatalf("after a reload the editor holds %q", v)
	}
	if v := b.value("#query-range"); v != "5m" {
		t.Fatalf("after a reload the range is %q", v)
	}

	// An invalid query, run with Ctrl+Enter: Prometheus' error inline.
	b.Type("#promql", "sum(rate(")
	b.keys("#promql", keyCtrl+keyEnter+keyNull)
	b.WaitText("#query-error", "parse error", 10*time.Second)
	if txt := b.Text("#query-error"); !strings.Contains(txt, "unclosed left parenthesis") {
		t.Fatalf("the error is not Prometheus': %s", txt)
	}
	// An instant query fills the table.
	b.Type("#promql", `up{job="kansoku"}`)
	b.Select("#query-mode", "instant")
	b.WaitText("#query-table", `instance="127.0.0.1:`, 10*time.Second)
	if txt := b.Text("#query-error"); txt != "" {
		t.Fatalf("the error stays: %s", txt)
	}
	// Prometheus' annotations: a warning, an info.
	b.Type("#promql", `histogram_quantile(0.9, up)`)
	b.Click("#run-query")
	b.WaitText("#query-warnings .query-warning", `bucket label "le" is missing`, 10*time.Second)
	b.Type("#promql", `rate(up[1m])`)
	b.Click("#run-query")
	b.WaitText("#query-warnings .query-info", "might not be a counter", 10*time.Second)

	// "Add to dashboard": a line panel into a new dashboard, a bar panel
	// into that one.
	b.Select("#query-mode", "range")
	b.Type("#promql", q)
	b.Click("#add-to-dashboard")
	b.Type("#add-panel-form input[name=title]", "Requests")
	b.Select("#add-panel-form select[name=type]", "line")
	b.Select("#add-panel-form select[name=dashboard]", "")
	b.Type("#add-panel-form input[name=newTitle]", "E2E board")
	b.Click("#add-panel-form button[type=submit]")
	b.WaitText("#added-link", "E2E board", 10*time.Second)
	b.Exec(`document.querySelector('#query-added').replaceChildren();`)
	b.Type("#promql", `sum by (job) (rate(kansoku_http_requests_total[1m]))`)
	b.Click("#add-to-dashboard")
	b.Type("#add-panel-form input[name=title]", "Request rate")
	b.Select("#add-panel-form select[name=type]", "bar")
	if v := b.value("#add-panel-form select[name=dashboard]"); !strings.HasPrefix(v, "db-") {
		t.Fatalf("the dashboard just used is not proposed: %q", v)
	}
	b.Click("#add-panel-form button[type=submit]")
	b.WaitText("#added-link", "E2E board", 10*time.Second)
	b.noPageErrors()
	b.Click("#added-link")
	b.WaitText("#dashboard-title", "E2E board", 10*time.Second)
	b.Wait(`.panel[data-type=line] canvas`, 15*time.Second)
	b.Wait(`.panel[data-type=bar] canvas`, 15*time.Second)
	dashURL, _ := b.Exec(`return location.href;`).(string)

	// The editor: a gauge and a stat; the server refuses a bad query; reorder.
	b.Click("#edit-dashboard")
	b.Click("#add-panel")
	if shown, _ := b.Exec(`return ['#dashboard-panels', '#edit-dashboard', '#export-dashboard'].filter(c => document.querySelector(c).offsetParent !== null);`).([]any); len(shown) > 0 {
		t.Fatalf("the editor leaves %v on screen", shown)
	}
	p2 := `.panel-edit[data-index="2"] `
	b.Select(p2+"select[name=type]", "gauge")
	b.Type(p2+"input[name=title]", "Up")
	b.Type(p2+"textarea[name=query]", `up{job="kansoku"}`)
	b.Type(p2+"input[name=min]", "0")
	b.Type(p2+"input[name=max]", "1")
	b.Type(p2+"input[name=thresholds]", "0.5")
	b.Click("#add-panel")
	p3 := `.panel-edit[data-index="3"] `
	b.Select(p3+"select[name=type]", "stat")
	b.Type(p3+"input[name=title]", "Samples per scrape")
	b.Type(p3+"textarea[name=query]", "sum(scrape_samples_scraped")
	b.Type(p3+"input[name=thresholds]", "1000000, 2000000")
	if shown, _ := b.Exec(`return document.querySelector(arguments[0]).offsetParent !== null;`, p3+"input[name=min]").(bool); shown {
		t.Fatal("a stat panel is offered a min")
	}
	b.dismissToasts()
	b.Click("#save-dashboard")
	b.WaitText("#dashboard-error", "panels[3].query", 10*time.Second)
	b.Wait(`.panel-edit.invalid[data-index="3"]`, 5*time.Second)
	b.Type(p3+"textarea[name=query]", "sum(scrape_samples_scraped)")
	b.Click(p3 + "button.move-up")
	if v := b.value(`.panel-edit[data-index="2"] select[name=type]`); v != "stat" {
		t.Fatalf("move up: panel 3 is a %q", v)
	}
	b.Click(`.panel-edit[data-index="2"] button.move-down`)
	if v := b.value(`.panel-edit[data-index="3"] textarea[name=query]`); v != "sum(scrape_samples_scraped)" {
		t.Fatalf("move down: panel 4 queries %q", v)
	}
	b.Click("#save-dashboard")
	b.Wait("#edit-dashboard", 10*time.Second)
	if txt := b.Text("#dashboard-error"); txt != "" {
		t.Fatalf("saving: %s", txt)
	}

	// A reload shows the four panels, each drawn its way.
	b.cmd("POST", "/refresh", map[string]any{})
	b.WaitText("#dashboard-title", "E2E board", 10*time.Second)
	b.Wait(`.panel[data-type=line] canvas`, 15*time.Second)
	b.Wait(`.panel[data-type=bar] canvas`, 15*time.Second)
	b.Wait(`.panel[data-type=gauge] svg`, 15*time.Second)
	b.Wait(`.panel[data-type=stat] .stat`, 15*time.Second)
	b.waitJS("a number in the stat panel", `const e = document.querySelector('.panel[data-type=stat] .stat'); return !!e && /\d/.test(e.innerText);`, 10*time.Second)
	if n, _ := b.Exec(`return document.querySelectorAll('#dashboard-panels .panel').length;`).(float64); n != 4 {
		t.Fatalf("%v panels after the reload", n)
	}
	types, _ := b.Exec(`return [...document.querySelectorAll('#dashboard-panels .panel')].map(e => e.dataset.type).join(',');`).(string)
	if types != "line,bar,gauge,stat" {
		t.Fatalf("panels in order: %s", types)
	}
	if txt := b.Text("#dashboard-panels"); strings.Contains(txt, "Error") || strings.Contains(txt, "parse error") {
		t.Fatalf("a panel failed:\n%s", txt)
	}
	// Auto-refresh: the selector keeps the choice in the URL.
	b.Select("#time-range", "15m")
	b.Select("#refresh", "10s")
	b.waitJS("the view in the URL", `return location.hash.includes('range=15m') && location.hash.includes('refresh=10s');`, 5*time.Second)
	b.Wait(`.panel[data-type=line] canvas`, 15*time.Second)
	b.noStrayText()
	b.Screenshot("dashboard")

	// Export JSON: a modal with the document and a download link.
	b.Click("#export-dashboard")
	b.Wait("#export-json", 5*time.Second)
	var exported struct {
		Title  string `json:"title"`
		Panels []struct {
			Type       string    `json:"type"`
			Query      string    `json:"query"`
			Min        *float64  `json:"min"`
			Max        *float64  `json:"max"`
			Thresholds []float64 `json:"thresholds"`
		} `json:"panels"`
	}
	exportedJSON := b.value("#export-json")
	if err := json.Unmarshal([]byte(exportedJSON), &exported); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, exportedJSON)
	}
	var got []string
	for _, pn := range exported.Panels {
		got = append(got, pn.Type)
	}
	if strings.Join(got, ",") != "line,bar,gauge,stat" || exported.Title != "E2E board" {
		t.Fatalf("exported: %s", exportedJSON)
	}
	if g := exported.Panels[2]; g.Min == nil || *g.Min != 0 || g.Max == nil || *g.Max != 1 || len(g.Thresholds) != 1 {
		t.Fatalf("the gauge's bounds were not saved: %s", exportedJSON)
	}
	if href, _ := b.Exec(`return document.querySelector('#download-dashboard').href;`).(string); !strings.HasPrefix(href, "blob:") {
		t.Fatalf("download link: %q", href)
	}
	b.Click("#close-export")

	// Someone else saves meanwhile: ours is refused with a way to reload.
	id := regexp.MustCompile(`dashboards/(db-[A-Za-z0-9_-]+)`).FindStringSubmatch(dashURL)
	if id == nil {
		t.Fatalf("no dashboard id in %s", dashURL)
	}
	var cur struct {
		Dashboard map[string]any `json:"dashboard"`
	}
	path := "/admin/v1/workspaces/" + ws + "/dashboards/" + id[1]
	if err := s.Admin.JSON(context.Background(), "GET", path, nil, nil, &cur); err != nil {
		t.Fatal(err)
	}
	if err := s.Admin.JSON(context.Background(), "PUT", path, nil, map[string]any{"title": "E2E board, changed", "timeRange": cur.Dashboard["timeRange"],
		"panels": cur.Dashboard["panels"], "version": cur.Dashboard["version"]}, nil); err != nil {
		t.Fatal(err)
	}
	b.dismissToasts()
	b.Click("#edit-dashboard")
	b.Click("#save-dashboard")
	b.WaitText("#dashboard-error", "Reload", 10*time.Second)
	b.Click("#reload-dashboard")
	b.WaitText("#dashboard-title", "E2E board, changed", 10*time.Second)
	b.Wait(`.panel[data-type=gauge] svg`, 15*time.Second)
	b.noPageErrors()

	// The list: import the export under another title, then delete it.
	b.Go(s.URL + "/console/#/ws/" + ws + "/dashboards")
	b.WaitText("#dashboards", "E2E board, changed", 10*time.Second)
	b.Click("#import-dashboard")
	b.Type("#import-dashboard-form textarea[name=json]", "{not json")
	b.Click("#import-dashboard-form button[type=submit]")
	b.WaitText("#import-dashboard-form .error", "Not JSON", 5*time.Second)
	b.Exec(`document.querySelector('#import-dashboard-form textarea[name=json]').value = arguments[0];`, exportedJSON)
	b.Type("#import-dashboard-form input[name=title]", "Imported board")
	b.Click("#import-dashboard-form button[type=submit]")
	b.WaitText("#dashboard-title", "Imported board", 10*time.Second)
	b.Wait(`.panel[data-type=stat] .stat`, 15*time.Second)
	b.Go(s.URL + "/console/#/ws/" + ws + "/dashboards")
	b.WaitText("#dashboards", "Imported board", 10*time.Second)
	b.Click(`#dashboards tr[data-title="Imported board"] button.delete`)
	b.Click("#delete-dashboard-form button[type=submit]")
	b.waitJS("the imported dashboard gone", `const t = document.querySelector('#dashboards'); return !!t && !t.innerText.includes('Imported board') && t.innerText.includes('E2E board');`, 10*time.Second)
	// Create: an empty dashboard opens in the editor.
	b.Click("#create-dashboard")
	b.Type("#create-dashboard-form input[name=title]", "Empty board")
	b.Select("#create-dashboard-form select[name=timeRange]", "6h")
	b.Click("#create-dashboard-form button[type=submit]")
	b.Wait("#dashboard-editor #edit-title", 10*time.Second)
	if v := b.value("#edit-time-range"); v != "6h" {
		t.Fatalf("the new dashboard's time range: %q", v)
	}
	b.Click("#cancel-edit")
	b.Wait("#dashboard-panels .empty-dashboard", 5*time.Second)
	b.WaitText("#dashboard-title", "Empty board", 5*time.Second)
	b.noPageErrors()
	for _, o := range b.ResourceOrigins() {
		if o != s.URL {
			t.Errorf("the console loaded a resource from %s", o)
		}
	}

	// A read-only user queries and looks, and is offered nothing to change.
	b.Click("#sign-out")
	b.Wait("#login-key", 10*time.Second)
	b.SignIn(s, viewerID, viewerSecret)
	b.Go(s.URL + "/console/#/ws/" + ws + "/query?mode=range&range=5m&q=" + url.QueryEscape(q))
	b.Wait("#query-graph .u-over", 15*time.Second)
	b.Go(s.URL + "/console/#/ws/" + ws + "/dashboards")
	b.WaitText("#dashboards", "E2E board, changed", 10*time.Second)
	b.ClickText("#dashboards a.dashboard-link", "E2E board")
	b.Wait(`.panel[data-type=gauge] svg`, 15*time.Second)
	b.Wait("#export-dashboard", 5*time.Second)
	for _, pg := range []struct{ hash, ready string }{
		{"/query", "#run-query"}, {"/dashboards", "#dashboards"}, {"/dashboards/" + id[1], "#dashboard-panels .panel"},
	} {
		b.Go(s.URL + "/console/#/ws/" + ws + pg.hash)
		b.Wait(pg.ready, 10*time.Second)
		for _, css := range []string{"#add-to-dashboard", "#create-dashboard", "#import-dashboard", "#edit-dashboard", "#save-dashboard", "button.delete"} {
			if found, _ := b.Exec(`return !!document.querySelector(arguments[0]);`, css).(bool); found {
				t.Errorf("the read-only user sees %s on %s", css, pg.hash)
			}
		}
	}
	b.noPageErrors()
}
