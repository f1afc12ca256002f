package tmplbound

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	promtemplate "github.com/prometheus/prometheus/template"
)

// defaultLimits are the workspace defaults (internal/limits) as the
// Alertmanager and the ruler apply them.
var defaultLimits = Limits{MaxOutputBytes: 4 << 20, MaxValueBytes: 4 << 20, MaxSteps: 1000000, Timeout: 2 * time.Second}

// The finding's notification template: l0 is 100 bytes, each level calls
// the one below ten times, so l6 is 10^8 bytes.
func nested(fanout, levels int, leaf string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{{ define "l0" }}%s{{ end }}`, leaf)
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, `{{ define "l%d" }}`, i)
		for j := 0; j < fanout; j++ {
			fmt.Fprintf(&b, `{{ template "l%d" . }}`, i-1)
		}
		b.WriteString(`{{ end }}`)
	}
	return b.String()
}

// cost runs f and returns how long it took and how many bytes it
// allocated.
func cost(f func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return took, after.TotalAlloc - before.TotalAlloc
}

// amRun executes text as an Alertmanager notification field, with
// templateFile parsed into the definition's templates, instrumented, with
// a fresh budget.
func amRun(t testing.TB, templateFile, text string, data any, lim Limits) (string, *Budget, error) {
	t.Helper()
	var b *Budget
	set := amSet(t, merge(amFuncs(), FuncMap(Alertmanager, func() *Budget { return b })))
	if templateFile != "" {
		if _, err := set.Parse(templateFile); err != nil {
			t.Fatal(err)
		}
	}
	instrumentSet(set)
	src := instrumented(t, "", text)
	b = NewBudget(lim)
	out, err := execIn(set, src, data)
	return out, b, err
}

// promRun expands text as Prometheus expands an alerting rule's
// annotation, through its own Expander, instrumented.
func promRun(t testing.TB, text string, smpl promql.Sample, query promtemplate.QueryFunc, lim Limits) (string, *Budget, error) {
	t.Helper()
	defs := `{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}`
	src := instrumented(t, "__alert_Test", defs+text)
	b := NewBudget(lim)
	exp := promtemplate.NewTemplateExpander(context.Background(), src, "__alert_Test",
		promtemplate.AlertTemplateData(smpl.Metric.Map(), map[string]string{}, "http://kansoku.example/workspaces/ws-1", smpl),
		model.Time(1_700_000_000_000), query, nil, nil)
	exp.Funcs(b.Funcs(Prometheus))
	out, err := exp.Expand()
	return out, b, err
}

// promPlain expands text with Prometheus' Expander, uninstrumented.
func promPlain(text string, smpl promql.Sample, query promtemplate.QueryFunc) (string, error) {
	defs := `{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}`
	exp := promtemplate.NewTemplateExpander(context.Background(), defs+text, "__alert_Test",
		promtemplate.AlertTemplateData(smpl.Metric.Map(), map[string]string{}, "http://kansoku.example/workspaces/ws-1", smpl),
		model.Time(1_700_000_000_000), query, nil, nil)
	return exp.Expand()
}

var upSample = promql.Sample{Metric: labels.FromStrings("__name__", "up", "instance", "host-1:9100", "job", "node"), F: 1234567}

func vectorQuery(n int) promtemplate.QueryFunc {
	return func(context.Context, string, time.Time) (promql.Vector, error) {
		v := make(promql.Vector, n)
		for i := range v {
			v[i] = promql.Sample{Metric: labels.FromStrings("__name__", "up", "instance", fmt.Sprintf("host-%d:9100", i)), F: 1}
		}
		return v, nil
	}
}

// TestBlowUpsAreStopped: every reproduction of finding F3 is stopped by a
// bound, within the caps' time and memory; the bound is named.
func TestBlowUpsAreStopped(t *testing.T) {
	const (
		maxTime = raceFactor * 3 * time.Second // the 2 s timeout plus slack for a slow CI machine
		// Allocated in all, not held: a million steps of template calls
		// allocate about 250 MiB, half of it text/template's own (the
		// uninstrumented reproductions allocate from 0.5 GB to many GB).
		maxAlloc = raceFactor * 384 << 20
	)
	data := testData(t, 1000)
	huge := `{{ $s := printf "%01000000d" 0 }}` // a 1,000,000-byte string, within the value cap
	cases := []struct {
		name, file, text string
		prom             bool
		query            promtemplate.QueryFunc
		want             string
	}{
		{name: "nested templates (the finding, 10^8 bytes)", file: nested(10, 6, strings.Repeat("x", 100)),
			text: `{{ template "l6" . }}`, want: "max_template_output_bytes"},
		{name: "fan-out 2, 22 levels (4M template calls)", file: nested(2, 22, "x"),
			text: `{{ template "l22" . }}`, want: "max_template_steps|longer than 2s"},
		{name: "printf doubling", text: `{{ $x := "x" }}{{ range 64 }}{{ $x = printf "%s%s" $x $x }}{{ end }}{{ $x }}`,
			want: "exceeds max_template_output_bytes"},
		{name: "print doubling", text: `{{ $x := "x" }}{{ range 64 }}{{ $x = print $x $x }}{{ end }}`,
			want: "exceeds max_template_output_bytes"},
		{name: "printf width", text: `{{ printf "%1000000d%1000000d%1000000d%1000000d%1000000d" 1 2 3 4 5 }}`,
			want: "exceeds max_template_output_bytes"},
		{name: "reReplaceAll of the empty pattern", text: `{{ $r := printf "%065536d" 0 }}{{ $t := printf "%065536d" 0 }}{{ reReplaceAll "" $r $t }}`,
			want: "exceeds max_template_output_bytes"},
		{name: "reReplaceAll doubling", text: `{{ $x := "ab" }}{{ range 64 }}{{ $x = reReplaceAll "(.)" "$1$1" $x }}{{ end }}`,
			want: "exceeds max_template_output_bytes|exceeds max_template_steps"},
		{name: "join with a huge separator", text: huge + `{{ join $s (stringSlice "a" "b" "c" "d" "e" "f" "g" "h" "i" "j") }}`,
			want: "exceeds max_template_output_bytes"},
		{name: "Strings.Join with a huge separator", text: `{{ $s := printf "%02000000d" 0 }}{{ $s | .CommonLabels.Names.Join }}{{ .CommonLabels.Values.Join $s }}`,
			want: "exceeds max_template_output_bytes"},
		{name: "list nesting printed", text: `{{ $a := list "xxxxxxxxxx" }}{{ range 64 }}{{ $a = list $a $a }}{{ end }}{{ $a }}`,
			want: "exceeds max_template_output_bytes"},
		{name: "dict nesting to JSON", text: `{{ $a := dict "k" "xxxxxxxxxx" }}{{ range 64 }}{{ $a = dict "a" $a "b" $a }}{{ end }}{{ toJson $a }}`,
			want: "exceeds max_template_output_bytes"},
		{name: "append nesting", text: `{{ $a := list "x" }}{{ range 64 }}{{ $a = append $a $a $a }}{{ end }}{{ toJson $a }}`,
			want: "exceeds max_template_output_bytes"},
		{name: "toJson of escaped text", text: `{{ $x := "<<<<<<<<" }}{{ range 18 }}{{ $x = printf "%s%s" $x $x }}{{ end }}{{ toJson (list $x $x $x) }}`,
			want: "exceeds max_template_output_bytes"},
		{name: "range over a big integer", text: `{{ range 100000000 }}{{ end }}`, want: "max_template_steps"},
		{name: "nested ranges over .Alerts", text: `{{ range .Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}{{ end }}{{ end }}{{ end }}`,
			want: "max_template_steps"},
		{name: "text in a loop", text: `{{ range 1000000 }}` + strings.Repeat("y", 100) + `{{ end }}`, want: "max_template_output_bytes"},
		{name: "slow matches", text: huge + `{{ range 1000000 }}{{ if match "z$" $s }}{{ end }}{{ end }}`, want: "longer than 2s"},
		{name: "Prometheus: nested defines in an annotation", prom: true,
			text: nested(10, 5, strings.Repeat("x", 100)) + `{{ template "l5" . }}`, want: "max_template_output_bytes"},
		{name: "Prometheus: loop doubling", prom: true,
			text: `{{ $x := $labels.instance }}{{ range 64 }}{{ $x = printf "%s%s" $x $x }}{{ end }}{{ $x }}`, want: "exceeds max_template_output_bytes"},
		{name: "Prometheus: args nesting", prom: true,
			text: `{{ $a := args "xxxxxxxxxx" }}{{ range 64 }}{{ $a = args $a $a }}{{ end }}{{ $a }}`, want: "exceeds max_template_output_bytes"},
		{name: "Prometheus: reReplaceAll", prom: true,
			text: `{{ $r := printf "%065536d" 0 }}{{ reReplaceAll "" $r $r }}`, want: "exceeds max_template_output_bytes"},
		{name: "Prometheus: a huge query result printed", prom: true, query: vectorQuery(200000),
			text: `{{ query "up" }}`, want: "max_template_output_bytes"},
		{name: "Prometheus: ranges over a query result", prom: true, query: vectorQuery(2000),
			text: `{{ $r := query "up" }}{{ range $r }}{{ range $r }}{{ end }}{{ end }}`, want: "max_template_steps"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var (
				b   *Budget
				err error
			)
			took, alloc := cost(func() {
				if c.prom {
					_, b, err = promRun(t, c.text, upSample, c.query, defaultLimits)
				} else {
					_, b, err = amRun(t, c.file, c.text, data, defaultLimits)
				}
			})
			t.Logf("refused in %s, %.1f MiB allocated: %v", took.Round(time.Millisecond), float64(alloc)/(1<<20), b.Err())
			// On a loaded machine (the race detector, a parallel suite) the
			// wall-clock bound may come first: that is a bound too.
			if err == nil || b.Err() == nil || !containsAny(b.Err().Error(), append(strings.Split(c.want, "|"), "took longer than")) {
				t.Fatalf("got error %v, budget %v; want a bound naming %q", err, b.Err(), c.want)
			}
			if !IsLimit(b.Err()) {
				t.Errorf("Err() = %T, not a *LimitError", b.Err())
			}
			if took > maxTime {
				t.Errorf("took %s", took)
			}
			if alloc > maxAlloc {
				t.Errorf("allocated %d bytes", alloc)
			}
		})
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestNormalTemplatesPass: what templates normally do passes unchanged:
// Alertmanager's default templates over a group of 1000 alerts, the usual
// rule annotations.
func TestNormalTemplatesPass(t *testing.T) {
	data := testData(t, 1000)
	plain := amSet(t, amFuncs())
	for _, name := range []string{"slack.default.text", "email.default.html", "pagerduty.default.description", "__text_alert_list", "msteamsv2.default.text"} {
		text := fmt.Sprintf(`{{ template %q . }}`, name)
		if name == "__text_alert_list" {
			text = `{{ template "__text_alert_list" .Alerts.Firing }}`
		}
		want, err := execIn(plain, text, data)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		var b *Budget
		took, alloc := cost(func() { got, b, err = amRun(t, "", text, data, defaultLimits) })
		steps, out := b.Used()
		t.Logf("%s over 1000 alerts: %d bytes, %d steps, %s, %.1f MiB allocated", name, out, steps, took.Round(time.Millisecond), float64(alloc)/(1<<20))
		if err != nil || got != want {
			t.Fatalf("%s: %v (%d bytes, want %d)", name, err, len(got), len(want))
		}
	}

	query := func(_ context.Context, q string, _ time.Time) (promql.Vector, error) {
		if q != "up" {
			return nil, fmt.Errorf("unexpected query %q", q)
		}
		return promql.Vector{upSample}, nil
	}
	for _, text := range []string{
		`{{ $labels.instance }} is at {{ $value | humanize }}`,
		`{{ with query "up" }}{{ . | first | value }}{{ end }}`,
		`{{ range query "up" }}{{ .Labels.instance }}={{ .Value }} {{ end }}`,
		`{{ $labels.job | toUpper }} {{ reReplaceAll ":.*" "" $labels.instance }} {{ args 1 "a" }} {{ printf "%.1f" $value }}`,
		`{{ $externalURL }} {{ humanizeDuration 3600 }} {{ $labels.instance | stripPort }} {{ "x" | title }}`,
	} {
		want, wantErr := promPlain(text, upSample, query)
		got, b, err := promRun(t, text, upSample, query, defaultLimits)
		if got != want || (err != nil) != (wantErr != nil) || b.Err() != nil {
			t.Errorf("%q: got %q (%v, budget %v), want %q (%v)", text, got, err, b.Err(), want, wantErr)
		}
	}
}

// TestLimitsAreUsed: each bound is the one given.
func TestLimitsAreUsed(t *testing.T) {
	data := testData(t, 1)
	lim := Limits{MaxOutputBytes: 1000, MaxValueBytes: 100, MaxSteps: 50}
	if _, b, _ := amRun(t, "", strings.Repeat("x", 1001), data, lim); b.Err() == nil || !strings.Contains(b.Err().Error(), "(1000 bytes)") {
		t.Errorf("1001 bytes of text: %v", b.Err())
	}
	if _, b, _ := amRun(t, "", strings.Repeat("x", 1000), data, lim); b.Err() != nil {
		t.Errorf("1000 bytes of text: %v", b.Err())
	}
	if _, b, _ := amRun(t, "", `{{ printf "%0101d" 1 }}`, data, lim); b.Err() == nil {
		t.Error("a value of 101 bytes over a cap of 100 passed")
	}
	if _, b, _ := amRun(t, "", `{{ range 49 }}{{ end }}`, data, lim); b.Err() != nil {
		t.Errorf("50 steps: %v", b.Err())
	}
	if _, b, _ := amRun(t, "", `{{ range 50 }}{{ end }}`, data, lim); b.Err() == nil || !strings.Contains(b.Err().Error(), "max_template_steps (50 steps)") {
		t.Errorf("51 steps: %v", b.Err())
	}
}

// TestNoBudget: an instrumented template executed with no budget fails.
func TestNoBudget(t *testing.T) {
	set := template.Must(template.New("").Funcs(FuncMap(Alertmanager, func() *Budget { return nil })).Parse(instrumented(t, "", "x")))
	if err := set.Execute(&strings.Builder{}, nil); err == nil || !strings.Contains(err.Error(), "without a budget") {
		t.Fatalf("got %v", err)
	}
}
