package ruler

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/limits"
)

func TestAdmit(t *testing.T) {
	lim := limits.Defaults()
	lim.MaxRulesPerWorkspace = 3
	lim.MinEvaluationInterval = model.Duration(30 * time.Second)
	files := map[string][]byte{
		"a": []byte("groups:\n- name: fast\n  interval: 10s\n  rules:\n  - record: x\n    expr: vector(1)\n- name: default\n  rules:\n  - record: y\n    expr: vector(2)\n"),
		"b": []byte("groups:\n- name: g\n  rules:\n  - record: z\n    expr: vector(3)\n  - record: w\n    expr: vector(4)\n"),
		"c": []byte("groups:\n- name: g\n  rules:\n  - record: v\n    expr: vector(5)\n"),
		"d": []byte("groups: [oops"),
	}
	var logs bytes.Buffer
	got := admit(files, &lim, time.Minute, slog.New(slog.NewTextHandler(&logs, nil)))
	// a (2 rules) and c (1) fit the quota of 3 in name order; b (2) does not;
	// d does not parse.
	if len(got) != 2 || got["a"] == nil || got["c"] == nil {
		t.Fatalf("admitted %v", got)
	}
	if iv := time.Duration(got["a"].Groups[0].Interval); iv != 30*time.Second {
		t.Errorf("10s group runs every %s; want the 30s minimum", iv)
	}
	if iv := time.Duration(got["a"].Groups[1].Interval); iv != time.Minute {
		t.Errorf("group without interval runs every %s; want 1m", iv)
	}
	for _, want := range []string{`namespace=b`, `rule quota is exceeded`, `namespace=d`, `interval raised to the workspace minimum`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
