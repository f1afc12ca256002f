package workspace

import (
	"strings"
	"testing"
)

func TestAliasValidation(t *testing.T) {
	ptr := func(s string) *string { return &s }
	for _, ok := range []string{"prod", "  team-a  ", "本番 ワークスペース", strings.Repeat("a", 100)} {
		if _, err := normalizeAlias(ptr(ok)); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "   ", strings.Repeat("a", 101), "bad\xffutf8", "nul\x00byte", "evil\u202etxt.exe", "tab\tinside", "line\nbreak", "zwj\u2066isolate"} {
		if _, err := normalizeAlias(ptr(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if a, err := normalizeAlias(nil); err != nil || a != "" {
		t.Errorf("nil alias: %q %v", a, err)
	}
}
