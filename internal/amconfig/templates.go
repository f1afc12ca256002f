package amconfig

import (
	"fmt"
	tmplhtml "html/template"
	"strings"
	tmpltext "text/template"
	"text/template/parse"

	"github.com/prometheus/alertmanager/template"
)

// BaseTemplates is Alertmanager's default templates (default.tmpl and
// email.tmpl) parsed once, for the template sets of every workspace's
// definition to share.
//
// Sharing the parse trees is safe because nothing executes a set built on
// them in place: Alertmanager's ExecuteTextString and ExecuteHTMLString
// clone the set, and html/template's Clone copies the trees before it
// escapes them. A definition's own templates are parsed into its own set
// and replace a default template there, never in the trees shared.
type BaseTemplates struct {
	text map[string]*parse.Tree
	html map[string]*parse.Tree // nil: a set of text templates only
}

// NewBaseTemplates parses Alertmanager's default templates.
func NewBaseTemplates() (*BaseTemplates, error) {
	var text *tmpltext.Template
	var html *tmplhtml.Template
	if _, err := template.FromGlobs(nil, func(t *tmpltext.Template, h *tmplhtml.Template) { text, html = t, h }); err != nil {
		return nil, fmt.Errorf("parse Alertmanager's default templates: %w", err)
	}
	b := &BaseTemplates{text: map[string]*parse.Tree{}, html: map[string]*parse.Tree{}}
	for _, t := range text.Templates() {
		if t.Tree != nil {
			b.text[t.Name()] = t.Tree
		}
	}
	for _, t := range html.Templates() {
		if t.Tree != nil {
			b.html[t.Name()] = t.Tree
		}
	}
	return b, nil
}

// TextCopy returns a set of text templates only, whose trees are copies of
// b's passed through rewrite (which may change them in place): a base for
// sets that rewrite their trees, such as instrumented ones.
func (b *BaseTemplates) TextCopy(rewrite func(*parse.Tree)) *BaseTemplates {
	c := &BaseTemplates{text: make(map[string]*parse.Tree, len(b.text))}
	for name, t := range b.text {
		t = t.Copy()
		rewrite(t)
		c.text[name] = t
	}
	return c
}

// Shared reports whether t is one of b's text trees, as a set built on b
// holds it under name (not replaced by a definition's template).
func (b *BaseTemplates) Shared(name string, t *parse.Tree) bool {
	return b.text[name] == t
}

// add puts b's trees into a new set's text and HTML templates.
func (b *BaseTemplates) add(text *tmpltext.Template, html *tmplhtml.Template) error {
	for name, t := range b.text {
		if _, err := text.AddParseTree(name, t); err != nil {
			return err
		}
	}
	for name, t := range b.html {
		if _, err := html.AddParseTree(name, t); err != nil {
			return err
		}
	}
	return nil
}

// Templates returns the definition's templates: base (Alertmanager's
// defaults) plus every template_files entry named by alertmanager_config's
// templates list (names or glob patterns), in name order, as Alertmanager's
// template.FromGlobs would build them. The options are applied to the text
// and HTML template sets before anything is added to them. With a base of
// text templates only, the definition's files are parsed as text only.
func (p *Parsed) Templates(base *BaseTemplates, opts ...template.Option) (*template.Template, error) {
	var text *tmpltext.Template
	var addErr error
	opts = append(opts, func(t *tmpltext.Template, h *tmplhtml.Template) {
		text = t
		addErr = base.add(t, h)
	})
	t, err := template.New(opts...)
	if err == nil {
		err = addErr
	}
	if err != nil {
		return nil, fmt.Errorf("add Alertmanager's default templates: %w", err)
	}
	for _, n := range p.templateNames() {
		src := p.TemplateFiles[n]
		if base.html != nil {
			err = t.Parse(strings.NewReader(src))
		} else {
			_, err = text.Parse(src)
		}
		if err != nil {
			return nil, fmt.Errorf("template_files[%q]: %w", n, err)
		}
	}
	return t, nil
}
