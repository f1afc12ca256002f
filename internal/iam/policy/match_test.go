package policy

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything/at:all", true},
		{"", "", true},
		{"", "a", false},
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"a*c", "abbbc", true},
		{"a*c", "ac", true},
		{"a*c", "acb", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aébc", false},
		{"a?c", "aéc", true}, // ? is one character, not one byte
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"*a*b*c*", "xxaxxcxxbxx", false},
		{"a**b", "ab", true},
		{"*?", "", false},
		{"*?", "x", true},
		{"arn:aws:aps:*:1:workspace/*", "arn:aws:aps:us-east-1:1:workspace/ws-1", true},
		{"arn:aws:aps:*:1:workspace/*", "arn:aws:aps:us-east-1:2:workspace/ws-1", false},
	}
	for _, tc := range tests {
		if got := compileGlob(tc.pattern).match(tc.s); got != tc.want {
			t.Errorf("glob %q match %q = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// TestGlobIsLinear guards against exponential backtracking.
func TestGlobIsLinear(t *testing.T) {
	pattern := strings.Repeat("*a", 50) + "b"
	s := strings.Repeat("a", 5000)
	start := time.Now()
	if compileGlob(pattern).match(s) {
		t.Error("unexpected match")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("glob match took %v", d)
	}
}

func TestGlobSplit(t *testing.T) {
	g := compileGlob("arn:aws:*:x")
	got := g.split(':', 3)
	want := []glob{{{kind: tokLit, text: "arn"}}, {{kind: tokLit, text: "aws"}}, {{kind: tokStar}, {kind: tokLit, text: ":x"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("split = %+v, want %+v", got, want)
	}
}

func TestStripVars(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:iam::*:user/${aws:username}": "arn:aws:iam::*:user/x",
		"${a}${b:c}d":                         "xxd",
		"no vars":                             "no vars",
		"open ${a":                            "open ${a",
	} {
		if got := stripVars(in); got != want {
			t.Errorf("stripVars(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLookupIsDeterministic(t *testing.T) {
	c := map[string][]string{"Aws:Username": {"b"}, "AWS:USERNAME": {"a"}, "aws:userName": {"c"}}
	for range 20 {
		if got := lookup(c, "aws:username"); !reflect.DeepEqual(got, []string{"a"}) {
			t.Fatalf("lookup = %v, want the smallest key's value [a]", got)
		}
	}
	if got := lookup(c, "aws:userName"); !reflect.DeepEqual(got, []string{"c"}) {
		t.Errorf("exact key not preferred: %v", got)
	}
}
