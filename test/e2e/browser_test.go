package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// browser drives the real Chromium (Debian's chromium) through ChromeDriver
// with the W3C WebDriver protocol: a small client, enough for the console's
// tests.
type browser struct {
	t       *testing.T
	driver  string // http://127.0.0.1:<port>
	session string
}

// screenshotDir is where console tests save their screenshots.
func screenshotDir() string {
	if d := os.Getenv("KANSOKU_SCREENSHOTS"); d != "" {
		return d
	}
	return filepath.Join(repoRoot, "test", "e2e", "screenshots")
}

// startBrowser starts ChromeDriver and a headless Chromium session.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	driverBin := need(t, "/usr/bin/chromedriver")
	chromium := need(t, "/usr/bin/chromium")
	port := freePort(t)
	cmd := exec.Command(driverBin, fmt.Sprintf("--port=%d", port))
	logFile := filepath.Join(t.TempDir(), "chromedriver.log")
	lf, _ := os.Create(logFile)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, driver: fmt.Sprintf("http://127.0.0.1:%d", port)}
	t.Cleanup(func() {
		if b.session != "" {
			b.call("DELETE", "/session/"+b.session, nil)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		lf.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(b.driver + "/status")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile)
			t.Fatalf("chromedriver did not start: %s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	profile := t.TempDir()
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{"binary": chromium, "args": []string{
			"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
			"--user-data-dir=" + profile, "--no-first-run", "--disable-extensions", "--lang=en-US",
		}},
	}}}
	out := b.call("POST", "/session", caps)
	b.session, _ = out["sessionId"].(string)
	if b.session == "" {
		t.Fatalf("no WebDriver session: %v", out)
	}
	return b
}

// call sends one WebDriver command and returns its "value".
func (b *browser) call(method, path string, body any) map[string]any {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, b.driver+path, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Value any `json:"value"`
	}
	_ = json.Unmarshal(raw, &out)
	m, ok := out.Value.(map[string]any)
	if !ok {
		m = map[string]any{"value": out.Value}
	}
	if resp.StatusCode >= 300 {
		m["__error"] = fmt.Sprintf("%d %s", resp.StatusCode, raw)
	}
	return m
}

func (b *browser) cmd(method, path string, body any) map[string]any {
	b.t.Helper()
	m := b.call(method, "/session/"+b.session+path, body)
	if e, ok := m["__error"]; ok {
		b.t.Fatalf("webdriver %s %s: %v", method, path, e)
	}
	return m
}

// Go opens a URL.
func (b *browser) Go(url string) { b.t.Helper(); b.cmd("POST", "/url", map[string]any{"url": url}) }

// Exec runs JavaScript in the page and returns its result.
func (b *browser) Exec(script string, args ...any) any {
	b.t.Helper()
	if args == nil {
		args = []any{}
	}
	return b.cmd("POST", "/execute/sync", map[string]any{"script": script, "args": args})["value"]
}

// find returns the element id of the first match of css, or "".
func (b *browser) find(css string) string {
	m := b.call("POST", "/session/"+b.session+"/element", map[string]any{"using": "css selector", "value": css})
	if _, bad := m["__error"]; bad {
		return ""
	}
	for _, v := range m {
		if s, ok := v.(string); ok {
			return s
		}
	}
	return ""
}

// Wait waits until css matches a visible element and returns its id.
func (b *browser) Wait(css string, timeout time.Duration) string {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if id := b.find(css); id != "" {
			if v := b.call("GET", "/session/"+b.session+"/element/"+id+"/displayed", nil)["value"]; v == true {
				return id
			}
		}
		if time.Now().After(deadline) {
			b.Screenshot("failure-" + strings.NewReplacer(" ", "_", "/", "_", "#", "", ".", "", "[", "", "]", "", "\"", "", "=", "").Replace(css))
			b.t.Fatalf("no visible %q after %s; page text:\n%s", css, timeout, b.Text("body"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitText waits until the text of css contains want.
func (b *browser) WaitText(css, want string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if b.find(css) != "" && strings.Contains(b.Text(css), want) {
			return
		}
		if time.Now().After(deadline) {
			b.Screenshot("failure-text")
			b.t.Fatalf("%q never contained %q; it says:\n%s", css, want, b.Text(css))
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// Text returns the visible text of the first match of css ("" if none).
func (b *browser) Text(css string) string {
	v, _ := b.Exec(`const e = document.querySelector(arguments[0]); return e ? e.innerText : "";`, css).(string)
	return v
}

// Click clicks the first visible match of css.
func (b *browser) Click(css string) {
	b.t.Helper()
	id := b.Wait(css, 10*time.Second)
	b.cmd("POST", "/element/"+id+"/click", map[string]any{})
}

// ClickText clicks the first element matching css whose text contains text.
func (b *browser) ClickText(css, text string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, _ := b.Exec(`for (const e of document.querySelectorAll(arguments[0])) { if (e.innerText.includes(arguments[1]) && e.offsetParent !== null) { e.click(); return true; } } return false;`, css, text).(bool)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no %q containing %q", css, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Type clears the field matched by css and types text into it.
func (b *browser) Type(css, text string) {
	b.t.Helper()
	id := b.Wait(css, 10*time.Second)
	b.cmd("POST", "/element/"+id+"/clear", map[string]any{})
	b.cmd("POST", "/element/"+id+"/value", map[string]any{"text": text})
}

// Select picks the option of a <select> whose value is value.
func (b *browser) Select(css, value string) {
	b.t.Helper()
	b.Wait(css, 10*time.Second)
	b.Exec(`const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', {bubbles: true}));`, css, value)
}

// Screenshot saves a PNG of the page under screenshotDir().
func (b *browser) Screenshot(name string) {
	b.t.Helper()
	v, _ := b.call("GET", "/session/"+b.session+"/screenshot", nil)["value"].(string)
	png, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(png) == 0 {
		return
	}
	dir := screenshotDir()
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// ResourceOrigins returns the origins of every resource the page loaded.
func (b *browser) ResourceOrigins() []string {
	v, _ := b.Exec(`return [location.origin].concat(performance.getEntriesByType('resource').map(e => new URL(e.name).origin));`).([]any)
	var out []string
	for _, x := range v {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// SignIn signs in to the console with an access key.
func (b *browser) SignIn(s *server, keyID, secret string) {
	b.t.Helper()
	b.Go(s.URL + "/console/")
	b.Type("#login-key input[name=accessKeyId]", keyID)
	b.Type("#login-key input[name=secretAccessKey]", secret)
	b.Click("#login-key button[type=submit]")
	b.Wait("#sign-out", 10*time.Second)
}
