package tmplbound

import (
	"errors"
	"fmt"
	"reflect"
	stdregexp "regexp"
	"strings"
	"text/template"

	grafanaregexp "github.com/grafana/regexp"
	amtemplate "github.com/prometheus/alertmanager/template"
)

// Dialect is the template language whose growth functions are replaced:
// each one only with the functions its templates have, implemented as it
// implements them.
type Dialect int

const (
	// Alertmanager is Alertmanager's notification templates
	// (github.com/prometheus/alertmanager/template.DefaultFuncs).
	Alertmanager Dialect = iota + 1
	// Prometheus is Prometheus' rule and console templates
	// (github.com/prometheus/prometheus/template.NewTemplateExpander).
	Prometheus
)

// Funcs returns the functions an instrumented template of dialect d calls,
// bound to b.
func (b *Budget) Funcs(d Dialect) template.FuncMap {
	return FuncMap(d, func() *Budget { return b })
}

// errNoBudget is what an instrumented template's functions return when it
// is executed with no Budget in force.
var errNoBudget = errors.New("instrumented template executed without a budget")

// FuncMap returns the functions an instrumented template of dialect d
// calls, each charging the Budget current returns when it is called. It is
// for template sets that live longer than one execution (text/template
// copies function maps when a template is cloned, so the functions cannot
// be replaced per execution): the caller sets the Budget current returns
// before each execution and keeps executions one at a time.
func FuncMap(d Dialect, current func() *Budget) template.FuncMap {
	with := func() (*Budget, error) {
		if b := current(); b != nil {
			return b, nil
		}
		return nil, errNoBudget
	}
	fm := template.FuncMap{
		stepFunc: func() (string, error) {
			b, err := with()
			if err != nil {
				return "", err
			}
			return b.step()
		},
		textFunc: func(n int) (string, error) {
			b, err := with()
			if err != nil {
				return "", err
			}
			return b.text(n)
		},
		outFunc: func(v reflect.Value) (reflect.Value, error) {
			b, err := with()
			if err != nil {
				return v, err
			}
			return b.out(v)
		},
		valFunc: func(v reflect.Value) (reflect.Value, error) {
			b, err := with()
			if err != nil {
				return v, err
			}
			return b.val(v)
		},
		joinFunc: func(recv, sep reflect.Value) (reflect.Value, error) {
			b, err := with()
			if err != nil {
				return sep, err
			}
			return b.join(recv, sep)
		},
		// Builtins of text/template.
		"printf": func(format string, args ...any) (string, error) {
			b, err := with()
			if err != nil {
				return "", err
			}
			if err := b.Value(b.printfBound(format, args)); err != nil {
				return "", err
			}
			return fmt.Sprintf(format, args...), nil
		},
		"print": func(args ...any) (string, error) {
			b, err := with()
			if err != nil {
				return "", err
			}
			if err := b.Value(b.printBound(args)); err != nil {
				return "", err
			}
			return fmt.Sprint(args...), nil
		},
		"println": func(args ...any) (string, error) {
			b, err := with()
			if err != nil {
				return "", err
			}
			if err := b.Value(b.printBound(args) + 1); err != nil {
				return "", err
			}
			return fmt.Sprintln(args...), nil
		},
	}
	switch d {
	case Alertmanager:
		addAlertmanager(fm, with)
	case Prometheus:
		addPrometheus(fm, with)
	}
	return fm
}

// The upstream implementations the checked copies call once the result is
// known to fit.
var (
	amToJSON = amtemplate.DefaultFuncs["toJson"].(func(any) (string, error))
	amJoin   = amtemplate.DefaultFuncs["join"].(func(string, []string) string)
	amList   = amtemplate.DefaultFuncs["list"].(func(...any) ([]any, error))
	amAppend = amtemplate.DefaultFuncs["append"].(func([]any, ...any) []any)
	amDict   = amtemplate.DefaultFuncs["dict"].(func(...any) (map[string]any, error))
)

// boundedReplace is reReplaceAll (pattern, repl, text) with its result
// size checked before it runs, compile giving the dialect's regexp engine
// (the standard library's for Alertmanager, grafana/regexp for Prometheus).
func boundedReplace(with func() (*Budget, error), compile func(pattern string) func(text, repl string) string) func(pattern, repl, text string) (string, error) {
	return func(pattern, repl, text string) (string, error) {
		b, err := with()
		if err != nil {
			return "", err
		}
		replace := compile(pattern) // panics on a bad pattern, as upstream's does
		if err := b.Value(replaceBound(repl, text)); err != nil {
			return "", err
		}
		// A regular expression's work grows with its text (each match of
		// "(.)" allocates): one step per byte keeps a template's regexp
		// work within max_template_steps bytes.
		if err := b.Steps(len(text)); err != nil {
			return "", err
		}
		return replace(text, repl), nil
	}
}

func addAlertmanager(fm template.FuncMap, with func() (*Budget, error)) {
	fm["reReplaceAll"] = boundedReplace(with, func(pattern string) func(text, repl string) string {
		return stdregexp.MustCompile(pattern).ReplaceAllString
	})
	fm["join"] = func(sep string, s []string) (string, error) {
		b, err := with()
		if err != nil {
			return "", err
		}
		n := 0
		if len(s) > 0 {
			n = (len(s) - 1) * len(sep)
		}
		for _, e := range s {
			n += len(e)
		}
		if err := b.Value(n); err != nil {
			return "", err
		}
		return amJoin(sep, s), nil
	}
	fm["toJson"] = func(v any) (string, error) {
		b, err := with()
		if err != nil {
			return "", err
		}
		if err := b.Value(b.weigh(reflect.ValueOf(v), modeJSON, b.valueLimit())); err != nil {
			return "", err
		}
		return amToJSON(v)
	}
	fm["list"] = func(args ...any) ([]any, error) {
		b, err := with()
		if err != nil {
			return nil, err
		}
		fw, jw, err := b.weighBuild(args, 2, 2)
		if err != nil {
			return nil, err
		}
		l, err := amList(args...)
		if err == nil {
			b.remember(l, fw, jw)
		}
		return l, err
	}
	fm["append"] = func(slice []any, args ...any) ([]any, error) {
		b, err := with()
		if err != nil {
			return nil, err
		}
		sv := reflect.ValueOf(slice)
		limit := b.valueLimit()
		fw, jw, err := b.weighBuild(args, b.weigh(sv, modeFmt, limit), b.weigh(sv, modeJSON, limit))
		if err != nil {
			return nil, err
		}
		l := amAppend(slice, args...)
		b.remember(l, fw, jw)
		return l, nil
	}
	fm["dict"] = func(values ...any) (map[string]any, error) {
		b, err := with()
		if err != nil {
			return nil, err
		}
		fw, jw, err := b.weighBuild(values, 5, 2)
		if err != nil {
			return nil, err
		}
		m, err := amDict(values...)
		if err == nil {
			b.remember(m, fw, jw)
		}
		return m, err
	}
}

func addPrometheus(fm template.FuncMap, with func() (*Budget, error)) {
	fm["reReplaceAll"] = boundedReplace(with, func(pattern string) func(text, repl string) string {
		return grafanaregexp.MustCompile(pattern).ReplaceAllString
	})
	// args as Prometheus' template package defines it.
	fm["args"] = func(args ...any) (map[string]any, error) {
		b, err := with()
		if err != nil {
			return nil, err
		}
		fw, jw, err := b.weighBuild(args, 5+10*len(args), 2+10*len(args)) // keys arg0, arg1...
		if err != nil {
			return nil, err
		}
		result := make(map[string]any)
		for i, a := range args {
			result[fmt.Sprintf("arg%d", i)] = a
		}
		b.remember(result, fw, jw)
		return result, nil
	}
}

// valueLimit is the limit weighing stops just above.
func (b *Budget) valueLimit() int {
	if b.lim.MaxValueBytes > 0 {
		return b.lim.MaxValueBytes
	}
	return maxInt
}

// weighBuild weighs a structure about to be built from elems, on top of
// the given base weights, and refuses it over the value cap.
func (b *Budget) weighBuild(elems []any, baseFmt, baseJSON int) (fmtW, jsonW int, err error) {
	limit := b.valueLimit()
	fw, jw := b.weighAll(elems, limit)
	fmtW, jsonW = baseFmt+fw, baseJSON+jw
	if err := b.Value(max(fmtW, jsonW)); err != nil {
		return 0, 0, err
	}
	return fmtW, jsonW, nil
}

// replaceBound bounds the length of ReplaceAllString(text, repl): at most
// len(text)+1 matches, each replaced by repl's literal text plus, per $
// reference, one submatch; submatches lie within their match and matches
// do not overlap, so the references of all matches together insert at most
// refs*len(text) bytes; the text between matches is copied.
func replaceBound(repl, text string) int {
	refs := strings.Count(repl, "$")
	return (len(text)+1)*len(repl) + refs*len(text) + len(text)
}
