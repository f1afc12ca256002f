package tmplbound

import (
	"bytes"
	"testing"
	"text/template"
	"time"
)

// deterministic are Alertmanager's functions without the clock, so that
// two executions of one template can be compared.
func deterministic() template.FuncMap {
	fm := amFuncs()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fm["now"] = func() time.Time { return at }
	fm["since"] = func(t time.Time) time.Duration { return at.Sub(t) }
	return fm
}

// FuzzInstrument: a template parses with Parse if text/template parses
// it; Source(Parse(x)) executes as x does; and x instrumented executes as
// x does, or both fail, unless a bound stopped it.
func FuzzInstrument(f *testing.F) {
	for _, s := range representative {
		f.Add(s)
	}
	for _, s := range []string{
		nested(3, 3, "ab"),
		`{{ $x := "x" }}{{ range 5 }}{{ $x = printf "%s%s" $x $x }}{{ end }}{{ $x }}`,
		`{{ reReplaceAll "" "ab" "cd" }}{{ join "--" (stringSlice "a" "b") }}`,
		`{{ $a := list 1 }}{{ range 3 }}{{ $a = list $a $a }}{{ end }}{{ $a }}{{ toJson $a }}`,
		`{{ range 10 }}{{ . }}{{ end }}{{ range .Alerts }}{{ range $.Alerts }}.{{ end }}{{ end }}`,
		`{{ printf "%[2]*[1]d|%-5q|% x" 12 4 "hé" }}{{ .CommonLabels.Values.Join "," }}`,
	} {
		f.Add(s)
	}
	data := testData(f, 3)
	plain := template.New("").Option("missingkey=zero").Funcs(deterministic())
	var b *Budget
	inst := template.New("").Option("missingkey=zero").Funcs(merge(deterministic(), FuncMap(Alertmanager, func() *Budget { return b })))
	lim := Limits{MaxOutputBytes: 1 << 16, MaxValueBytes: 1 << 16, MaxSteps: 20000, Timeout: time.Second}

	f.Fuzz(func(t *testing.T, text string) {
		orig, err := plain.Clone()
		if err != nil {
			t.Fatal(err)
		}
		orig, origParseErr := orig.New("x").Parse(text)
		trees, err := Parse("x", text)
		if err != nil {
			if origParseErr == nil {
				t.Fatalf("Parse refuses %q, which text/template parses: %v", text, err)
			}
			return
		}
		if origParseErr != nil {
			return // an unknown function: both fail
		}
		// Instrumented first: it is bounded.
		for _, tr := range trees {
			Instrument(tr)
		}
		src := Source("x", trees)
		it, err := inst.Clone()
		if err != nil {
			t.Fatal(err)
		}
		it, err = it.New("x").Parse(src)
		if err != nil {
			t.Fatalf("the instrumented source of %q does not parse: %v\n%s", text, err, src)
		}
		b = NewBudget(lim)
		var got bytes.Buffer
		gotErr := it.Execute(&got, data)
		if b.Err() != nil {
			return // stopped by a bound; the original may be huge
		}
		var want bytes.Buffer
		wantErr := orig.Execute(&want, data)
		if (gotErr != nil) != (wantErr != nil) || got.String() != want.String() {
			t.Fatalf("%q instrumented as %q:\ngot  %q, %v\nwant %q, %v", text, src, got.String(), gotErr, want.String(), wantErr)
		}
		if _, out := b.Used(); gotErr == nil && out != got.Len() {
			t.Fatalf("%q: the budget counted %d bytes of output; it is %d", text, out, got.Len())
		}

		// Uninstrumented, Source round-trips.
		trees, _ = Parse("x", text)
		rt, err := plain.Clone()
		if err != nil {
			t.Fatal(err)
		}
		if rt, err = rt.New("x").Parse(Source("x", trees)); err != nil {
			t.Fatalf("Source of %q does not parse: %v", text, err)
		}
		var again bytes.Buffer
		againErr := rt.Execute(&again, data)
		if (againErr != nil) != (wantErr != nil) || again.String() != want.String() {
			t.Fatalf("%q from Source: %q, %v; want %q, %v", text, again.String(), againErr, want.String(), wantErr)
		}
	})
}
