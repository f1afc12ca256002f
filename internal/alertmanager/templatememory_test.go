package alertmanager

import (
	"net/url"
	"runtime"
	"sync"
	"testing"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/testenv/liveheap"
)

// TestTemplateSetsShareTheDefaults: a workspace's template sets (the
// notifiers' and the guard's) hold its own templates, not another copy of
// Alertmanager's defaults (about 0.8 MB of heap when each definition
// parsed them: text and HTML, plain and instrumented).
func TestTemplateSetsShareTheDefaults(t *testing.T) {
	lim := limits.Defaults()
	parsed, bases := definitionTemplates(t, normalDefinition("http://slack.example/x"))
	ext, _ := url.Parse("http://kansoku.example/workspaces/ws/alertmanager")
	const workspaces = 40
	keep := make([]any, 0, 2*workspaces)
	before := liveheap.Bytes()
	for range workspaces {
		tmpl, err := parsed.Templates(bases.plain)
		if err != nil {
			t.Fatal(err)
		}
		guard, err := newTemplateGuard(parsed, bases.instrumented, ext, "ws", limits.NewOverrides(lim), &sync.Mutex{})
		if err != nil {
			t.Fatal(err)
		}
		keep = append(keep, tmpl, guard)
	}
	per := (liveheap.Bytes() - before) / workspaces
	runtime.KeepAlive(keep)
	t.Logf("%d B of heap per workspace's template sets", per)
	if per > 100<<10 {
		t.Errorf("a workspace's template sets hold %d B of heap; the defaults are shared", per)
	}
}
