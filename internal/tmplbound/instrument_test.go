package tmplbound

import (
	"bytes"
	"fmt"
	tmplhtml "html/template"
	"net/url"
	"strings"
	"testing"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/prometheus/alertmanager/alert"
	amtemplate "github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
)

// amFuncs are Alertmanager's template functions.
func amFuncs() template.FuncMap { return template.FuncMap(amtemplate.DefaultFuncs) }

// representative are templates covering every node kind, the parser's
// corners (trim markers, comments, raw strings, else chains, break and
// continue, block) and the functions and methods instrumentation wraps.
var representative = []string{
	``,
	`plain text`,
	"multi\nline\n text with {braces} and } and {",
	`{{ .Status }}`,
	`{{ .Status | toUpper | printf "%q" }}`,
	`{{- .Status -}} trimmed {{- " x " -}}`,
	`a{ {{- .Status }}`,
	`a{ {{- "{" }}{ {{- /* c */ -}} {b`,
	`{{/* a comment */}}x{{- /* another */ -}}  y`,
	"{{ `raw {{ string` }} {{ 'a' }} {{ 0x1F }} {{ 1e3 }} {{ -1 }} {{ true }} {{ nil | printf \"%v\" }}",
	`{{ $x := "a" }}{{ $x = printf "%s%s" $x $x }}{{ $x }}`,
	`{{ range $i, $a := .Alerts }}{{ $i }}:{{ $a.Labels.alertname }} {{ else }}none{{ end }}`,
	`{{ range .Alerts }}{{ if eq .Status "firing" }}{{ continue }}{{ end }}{{ .Status }}{{ break }}{{ end }}`,
	`{{ range 3 }}{{ . }}{{ end }}{{ range $i, $e := 2 }}{{ $i }}{{ end }}`,
	`{{ if .Alerts.Firing }}F{{ else if .Alerts.Resolved }}R{{ else }}-{{ end }}`,
	`{{ with .CommonLabels.alertname }}{{ . }}{{ else with .Receiver }}r={{ . }}{{ else }}none{{ end }}`,
	`{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" .Status }}{{ template "x" }}`,
	`{{ block "b" . }}block {{ .Receiver }}{{ end }}`,
	`{{ .CommonLabels.SortedPairs.Values | join ", " }}|{{ .CommonLabels.Values.Join "-" }}|{{ "/" | .GroupLabels.Names.Join }}`,
	`{{ $v := .CommonLabels.Values }}{{ $v.Join "+" }}|{{ (.CommonLabels.Remove (stringSlice "job")).Values.Join ";" }}`,
	`{{ (index .Alerts 0).Labels.alertname }} {{ len .Alerts }} {{ slice .Receiver 1 }}`,
	`{{ reReplaceAll "(a+)" "<$1>" "caaandaa" }} {{ match "^f" .Status }} {{ title "hello world" }}`,
	`{{ $l := list 1 "two" (list 3) }}{{ $l = append $l 4 }}{{ $d := dict "k" $l }}{{ toJson $d }}`,
	`{{ printf "%5.2f|%-8s|%x|%[1]v" 3.14159 "ab" "hi" }} {{ print 1 2 "a" "b" }}{{ println "x" }}`,
	`{{ and .Status .Receiver }} {{ or "" "b" }} {{ not false }} {{ html "<a>" }} {{ js "'" }} {{ urlquery "a b" }}`,
	`{{ .ExternalURL }} {{ .Missing }} {{ .Alerts | len }} {{ (.Alerts.Firing | len) }}`,
	`{{ range .Alerts }}{{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}{{ end }}`,
	`{{ template "__subject" . }}`,
	`{{ template "slack.default.text" . }}`,
	`{{ template "email.default.html" . }}`,
}

// testData is Alertmanager template data for n alerts.
func testData(t testing.TB, n int) *amtemplate.Data {
	t.Helper()
	tmpl, err := amtemplate.FromGlobs(nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.ExternalURL, _ = url.Parse("http://kansoku.example/workspaces/ws-1/alertmanager")
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	alerts := make([]*alert.Alert, n)
	for i := range alerts {
		alerts[i] = &alert.Alert{Alert: model.Alert{
			Labels: model.LabelSet{"alertname": "HighLatency", "job": "api", "severity": "page",
				"instance": model.LabelValue(fmt.Sprintf("host-%04d:9100", i))},
			Annotations: model.LabelSet{"summary": model.LabelValue(fmt.Sprintf("latency on host-%04d is high", i)),
				"description": "p99 above 2s for 10 minutes"},
			StartsAt:     start,
			GeneratorURL: "http://kansoku.example/graph",
		}}
	}
	return tmpl.Data("team-x", model.LabelSet{"alertname": "HighLatency"}, nil, "firing", alerts...)
}

// amSet returns Alertmanager's default templates as a text/template set
// with funcs, the way Alertmanager builds it.
func amSet(t testing.TB, funcs template.FuncMap) *template.Template {
	t.Helper()
	var text *template.Template
	_, err := amtemplate.FromGlobs(nil, func(tt *template.Template, _ *tmplhtml.Template) {
		text = tt
	})
	if err != nil {
		t.Fatal(err)
	}
	return text.Funcs(funcs)
}

// execIn executes text as Alertmanager does (ExecuteTextString): parsed
// into a clone of set, missing keys as zero values.
func execIn(set *template.Template, text string, data any) (string, error) {
	c, err := set.Clone()
	if err != nil {
		return "", err
	}
	c, err = c.New("").Option("missingkey=zero").Parse(text)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	err = c.Execute(&buf, data)
	return buf.String(), err
}

// instrumented returns Source of text's trees, instrumented.
func instrumented(t testing.TB, name, text string) string {
	t.Helper()
	trees, err := Parse(name, text)
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	for _, tr := range trees {
		Instrument(tr)
	}
	return Source(name, trees)
}

// instrumentSet instruments every template of set in place.
func instrumentSet(set *template.Template) {
	for _, tt := range set.Templates() {
		if tt.Tree != nil {
			Instrument(tt.Tree)
		}
	}
}

func merge(fms ...template.FuncMap) template.FuncMap {
	out := template.FuncMap{}
	for _, fm := range fms {
		for k, v := range fm {
			out[k] = v
		}
	}
	return out
}

// TestSourceRoundTrip: Source(Parse(x)) executes as x does, and so does the
// instrumented Source within an instrumented template set, for every
// representative template and every template Alertmanager ships.
func TestSourceRoundTrip(t *testing.T) {
	data := testData(t, 3)
	plain := amSet(t, amFuncs())
	var b *Budget
	inst := amSet(t, merge(amFuncs(), FuncMap(Alertmanager, func() *Budget { return b })))
	instrumentSet(inst)

	texts := append([]string(nil), representative...)
	for _, tt := range plain.Templates() {
		if tt.Name() != "" {
			texts = append(texts, fmt.Sprintf(`{{ template %q . }}`, tt.Name()))
		}
	}
	for _, text := range texts {
		want, wantErr := execIn(plain, text, data)
		trees, err := Parse("", text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		src := Source("", trees)
		got, err := execIn(plain, src, data)
		if (err != nil) != (wantErr != nil) || got != want {
			t.Errorf("Source of %q is %q:\ngot  %q, %v\nwant %q, %v", text, src, got, err, want, wantErr)
		}
		b = NewBudget(Limits{MaxOutputBytes: 1 << 20, MaxValueBytes: 1 << 20, MaxSteps: 100000, Timeout: 10 * time.Second})
		src = instrumented(t, "", text)
		got, err = execIn(inst, src, data)
		if (err != nil) != (wantErr != nil) || got != want {
			t.Errorf("instrumented %q is %q:\ngot  %q, %v\nwant %q, %v", text, src, got, err, want, wantErr)
		}
		if b.Err() != nil {
			t.Errorf("%q: %v", text, b.Err())
		}
		if _, out := b.Used(); err == nil && out != len(got) {
			t.Errorf("%q: the budget counted %d bytes of output; it is %d", text, out, len(got))
		}
	}

	// Every template of the set, rendered as one source.
	trees := map[string]*parse.Tree{}
	for _, tt := range plain.Templates() {
		trees[tt.Name()] = tt.Tree
	}
	src := Source("", trees)
	again, err := template.New("").Option("missingkey=zero").Funcs(amFuncs()).Parse(src)
	if err != nil {
		t.Fatalf("the default templates' Source does not parse: %v", err)
	}
	for _, tt := range plain.Templates() {
		if tt.Name() == "" {
			continue
		}
		var want, got bytes.Buffer
		wantErr := plain.ExecuteTemplate(&want, tt.Name(), data)
		err := again.ExecuteTemplate(&got, tt.Name(), data)
		if (err != nil) != (wantErr != nil) || got.String() != want.String() {
			t.Errorf("template %q from Source: %q, %v; want %q, %v", tt.Name(), got.String(), err, want.String(), wantErr)
		}
	}
}

// TestSourceEscapesBraces: a '{' that would open a delimiter with what
// follows it is written as an action.
func TestSourceEscapesBraces(t *testing.T) {
	for _, text := range []string{"a{ {{- 1 }}", "{ {{- 1 }}{", "a{ {{- /* */ -}} {b", "{{ if 1 }}{ {{- else }}x{{ end }}"} {
		trees, err := Parse("x", text)
		if err != nil {
			t.Fatal(err)
		}
		src := Source("x", trees)
		if strings.Contains(strings.ReplaceAll(src, `{{"{"}}`, ""), "{{{") {
			t.Errorf("Source(%q) = %q", text, src)
		}
		var want, got bytes.Buffer
		if err := template.Must(template.New("x").Parse(text)).Execute(&want, nil); err != nil {
			t.Fatal(err)
		}
		if err := template.Must(template.New("x").Parse(src)).Execute(&got, nil); err != nil || got.String() != want.String() {
			t.Errorf("Source(%q) = %q executes to %q (%v), want %q", text, src, got.String(), err, want.String())
		}
	}
}
