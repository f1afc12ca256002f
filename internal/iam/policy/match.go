package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// A glob is a compiled wildcard pattern: a sequence of literal runs, "*"
// (any run of characters, including none) and "?" (exactly one character).
// Literal "*" and "?" (from the escapes ${*} and ${?}, or from a variable's
// value) are literal runs, so they match only themselves.
type glob []gtok

type gtokKind uint8

const (
	tokLit  gtokKind = iota // literal text
	tokStar                 // *
	tokOne                  // ?
	tokVar                  // policy variable (templates only, never in a glob)
)

type gtok struct {
	kind gtokKind
	text string // literal text, or the variable's key
	def  string // a variable's default value, if hasDef
	// hasDef tells whether the variable has a default: ${key, 'default'}.
	hasDef bool
}

// match reports whether s matches the whole pattern. It is the classic
// greedy algorithm with one backtrack point (the last star), so it runs in
// O(len(g)*len(s)) time whatever the input.
func (g glob) match(s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for {
		if pi < len(g) {
			t := g[pi]
			switch t.kind {
			case tokStar:
				starP, starS = pi, si
				pi++
				continue
			case tokOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			case tokLit:
				if strings.HasPrefix(s[si:], t.text) {
					si += len(t.text)
					pi++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		// Mismatch: let the last star swallow one more character.
		if starP < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starP+1, starS
	}
}

// split cuts the pattern at the first n-1 literal occurrences of sep, as
// strings.SplitN does for strings. ArnLike uses it to match the six
// colon-separated parts of an ARN separately.
func (g glob) split(sep byte, n int) []glob {
	out := []glob{nil}
	for _, t := range g {
		if t.kind != tokLit {
			out[len(out)-1] = append(out[len(out)-1], t)
			continue
		}
		text := t.text
		for len(out) < n {
			i := strings.IndexByte(text, sep)
			if i < 0 {
				break
			}
			if i > 0 {
				out[len(out)-1] = append(out[len(out)-1], gtok{kind: tokLit, text: text[:i]})
			}
			out = append(out, nil)
			text = text[i+1:]
		}
		if text != "" {
			out[len(out)-1] = append(out[len(out)-1], gtok{kind: tokLit, text: text})
		}
	}
	return out
}

// compileGlob compiles a pattern with wildcards and no variables.
func compileGlob(s string) glob {
	t, _ := parseTemplate(s, false, true) // cannot fail without variables
	return t.static
}

// A template is a pattern or a string that may contain policy variables,
// resolved against the request context at evaluation time.
type template struct {
	toks []gtok
	vars bool // toks has a tokVar
	// static is toks as a glob, when there are no variables.
	static glob
}

// parseTemplate compiles s. With vars, ${key}, ${key, 'default'} and the
// escapes ${*} ${?} ${$} are recognized (policy version 2012-10-17);
// otherwise "${" is literal text (version 2008-10-17). With wild, "*" and
// "?" are wildcards; otherwise they are literal.
func parseTemplate(s string, vars, wild bool) (template, error) {
	var t template
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.toks = append(t.toks, gtok{kind: tokLit, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case vars && strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return template{}, fmt.Errorf("unterminated policy variable in %q", s)
			}
			inner := s[i+2 : i+2+end]
			i += 2 + end + 1
			switch inner {
			case "*", "?", "$":
				lit.WriteString(inner) // escapes are always literal
				continue
			}
			v, err := parseVariable(inner)
			if err != nil {
				return template{}, fmt.Errorf("%w in %q", err, s)
			}
			flush()
			t.toks = append(t.toks, v)
			t.vars = true
		case wild && c == '*':
			flush()
			if n := len(t.toks); n == 0 || t.toks[n-1].kind != tokStar {
				t.toks = append(t.toks, gtok{kind: tokStar})
			}
			i++
		case wild && c == '?':
			flush()
			t.toks = append(t.toks, gtok{kind: tokOne})
			i++
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	if !t.vars {
		t.static = glob(t.toks)
	}
	return t, nil
}

// parseVariable parses the inside of ${...}: "key" or "key, 'default'".
func parseVariable(inner string) (gtok, error) {
	v := gtok{kind: tokVar, text: strings.TrimSpace(inner)}
	if i := strings.IndexByte(inner, ','); i >= 0 {
		v.text = strings.TrimSpace(inner[:i])
		d := strings.TrimSpace(inner[i+1:])
		if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
			return gtok{}, fmt.Errorf("policy variable ${%s}: default value must be quoted, as in ${%s, 'default'}", inner, v.text)
		}
		v.def, v.hasDef = d[1:len(d)-1], true
	}
	if v.text == "" || strings.ContainsAny(v.text, "${ \t\n") {
		return gtok{}, fmt.Errorf("invalid policy variable ${%s}", inner)
	}
	return v, nil
}

// expand resolves the template's variables. Variable values are literal
// text, never wildcards. It reports false when a variable has no value in
// ctx and no default: the pattern then matches nothing.
func (t *template) expand(ctx map[string][]string) (glob, bool) {
	if !t.vars {
		return t.static, true
	}
	out := make(glob, 0, len(t.toks))
	for _, tok := range t.toks {
		if tok.kind != tokVar {
			out = append(out, tok)
			continue
		}
		vals := lookup(ctx, tok.text)
		switch {
		case len(vals) > 0:
			out = append(out, gtok{kind: tokLit, text: vals[0]})
		case tok.hasDef:
			out = append(out, gtok{kind: tokLit, text: tok.def})
		default:
			return nil, false
		}
	}
	return out, true
}

// literal returns the text of a glob that has no wildcards (a template
// parsed without wild).
func (g glob) literal() string {
	if len(g) == 1 {
		return g[0].text
	}
	var b strings.Builder
	for _, t := range g {
		b.WriteString(t.text)
	}
	return b.String()
}

// stripVars replaces each ${...} of s by "x", so that the shape of an ARN
// can be checked without the colons inside variable names (${aws:username}).
func stripVars(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteByte('x')
		s = s[i+end+1:]
	}
}

// lookup returns the values of a condition key. Keys are case-insensitive,
// as in IAM; an exact match is preferred, then the smallest of the keys
// that differ only in case (so that the result is deterministic).
func lookup(ctx map[string][]string, key string) []string {
	if v, ok := ctx[key]; ok {
		return v
	}
	var best string
	var out []string
	found := false
	for k, v := range ctx {
		if strings.EqualFold(k, key) && (!found || k < best) {
			best, out, found = k, v, true
		}
	}
	return out
}
