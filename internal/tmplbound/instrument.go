// Package tmplbound executes Go text/templates a tenant wrote within
// bounds: how much output they produce, how many steps they take, how large
// a value they build, and for how long they run.
//
// A text/template has no such bounds of its own: a handful of nested
// {{template}} calls, a variable doubled in a loop or a regular expression
// replacement can produce gigabytes and run for minutes. Alertmanager's
// notification templates and Prometheus' alerting-rule labels and
// annotations are such templates, and both are executed by upstream code
// that cannot be given a limit. So the server first runs an instrumented
// copy of the same templates on the same data (a dry run), and lets the real
// execution happen only if the dry run stayed within bounds: the execution
// is deterministic, so the real one produces what the dry run did.
//
// Instrumenting rewrites a parsed template (Instrument) so that executing it
// reports to a Budget through a few functions: one step per list executed
// (so every loop iteration and template call counts), the size of every text
// and every printed value, and the size of every value a pipeline command
// returns. The Budget's functions (Budget.Funcs) also replace the functions
// whose output can grow faster than their input (printf, reReplaceAll,
// join, toJson, and the structure builders list, append, dict and args)
// with copies that refuse, before allocating, a result over the value cap,
// and that keep the weight of what they build so that nesting cannot grow
// exponentially. The instrumented trees are turned back into template text
// (Source) for the code that parses templates from text itself.
package tmplbound

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/template/parse"
)

// Names of the functions instrumented templates call.
const (
	stepFunc = "__kansoku_step" // one step: at the start of every list
	textFunc = "__kansoku_text" // N bytes of text output
	outFunc  = "__kansoku_out"  // a printed value: counts its size, returns it
	valFunc  = "__kansoku_val"  // a command's value: checks its size, returns it
	joinFunc = "__kansoku_join" // a Join method's separator: checks the result's size, returns it
)

// Parse parses a template's text as text/template would, into the tree of
// the main template (named name) and those of the templates it defines.
// Unknown function names are accepted: the functions of Alertmanager and
// Prometheus are not known here.
func Parse(name, text string) (map[string]*parse.Tree, error) {
	t := parse.New(name)
	t.Mode = parse.SkipFuncCheck
	trees := map[string]*parse.Tree{}
	if _, err := t.Parse(text, "", "", trees); err != nil {
		return nil, err
	}
	return trees, nil
}

// Instrument rewrites t in place so that executing it reports to a Budget
// (see the package comment). The rewritten tree executes to the same
// output as the original as long as no bound is reached; it needs the
// functions of Budget.Funcs (or FuncMap) to execute.
func Instrument(t *parse.Tree) {
	if t == nil || t.Root == nil {
		return
	}
	newInstrumenter().list(t.Root)
}

// instrumenter builds the nodes it inserts by copying nodes parsed from
// small snippets: the node constructors of text/template/parse are
// unexported.
type instrumenter struct {
	step *parse.ActionNode  // {{__kansoku_step}}
	out  *parse.CommandNode // __kansoku_out
	val  *parse.CommandNode // __kansoku_val
	join *parse.CommandNode // __kansoku_join . (the receiver replaced)
	wrap *parse.PipeNode    // (__kansoku_join . .) (receiver and separator replaced)
	dot  *parse.DotNode     // .
}

func newInstrumenter() *instrumenter {
	return &instrumenter{
		step: snippet("{{" + stepFunc + "}}").(*parse.ActionNode),
		out:  snippet("{{. | " + outFunc + "}}").(*parse.ActionNode).Pipe.Cmds[1],
		val:  snippet("{{. | " + valFunc + "}}").(*parse.ActionNode).Pipe.Cmds[1],
		join: snippet("{{. | " + joinFunc + " .}}").(*parse.ActionNode).Pipe.Cmds[1],
		wrap: snippet("{{" + joinFunc + " . .}}").(*parse.ActionNode).Pipe,
		dot:  snippet("{{.}}").(*parse.ActionNode).Pipe.Cmds[0].Args[0].(*parse.DotNode),
	}
}

// snippet parses a one-node template of this package; its text is a
// constant, so failing is a bug.
func snippet(text string) parse.Node {
	t := parse.New("tmplbound")
	t.Mode = parse.SkipFuncCheck
	if _, err := t.Parse(text, "", "", map[string]*parse.Tree{}); err != nil {
		panic(fmt.Sprintf("tmplbound: snippet %q: %v", text, err))
	}
	return t.Root.Nodes[0]
}

func (in *instrumenter) text(n int) *parse.ActionNode {
	return snippet("{{" + textFunc + " " + strconv.Itoa(n) + "}}").(*parse.ActionNode)
}

// list instruments a list: a step first, text counted, printed values
// counted, every pipeline checked, nested lists likewise.
func (in *instrumenter) list(l *parse.ListNode) {
	if l == nil {
		return
	}
	nodes := make([]parse.Node, 0, 1+2*len(l.Nodes))
	nodes = append(nodes, in.step.Copy())
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			nodes = append(nodes, in.text(len(n.Text)))
		case *parse.ActionNode:
			in.pipe(n.Pipe)
			if len(n.Pipe.Decl) == 0 {
				n.Pipe.Cmds = append(n.Pipe.Cmds, in.out.Copy().(*parse.CommandNode))
			}
		case *parse.IfNode:
			in.branch(&n.BranchNode)
		case *parse.RangeNode:
			in.branch(&n.BranchNode)
		case *parse.WithNode:
			in.branch(&n.BranchNode)
		case *parse.TemplateNode:
			in.pipe(n.Pipe)
		case *parse.ListNode:
			in.list(n)
		}
		nodes = append(nodes, n)
	}
	l.Nodes = nodes
}

func (in *instrumenter) branch(b *parse.BranchNode) {
	in.pipe(b.Pipe)
	in.list(b.List)
	in.list(b.ElseList)
}

// pipe checks the value of every command of p (and of the pipelines in
// their arguments), and the result of Join method calls before they run.
func (in *instrumenter) pipe(p *parse.PipeNode) {
	if p == nil {
		return
	}
	cmds := make([]*parse.CommandNode, 0, 3*len(p.Cmds))
	for i, c := range p.Cmds {
		for _, a := range c.Args {
			in.arg(a)
		}
		if recv := joinReceiver(c, i, in.dot); recv != nil {
			if i > 0 {
				// The separator is the piped value: check it on its way in.
				chk := in.join.Copy().(*parse.CommandNode)
				chk.Args[1] = recv
				cmds = append(cmds, chk)
			} else {
				for j := 1; j < len(c.Args); j++ {
					w := in.wrap.CopyPipe()
					w.Cmds[0].Args[1] = recv.Copy()
					w.Cmds[0].Args[2] = c.Args[j]
					c.Args[j] = w
				}
			}
		}
		cmds = append(cmds, c)
		if !constantSize(c) {
			cmds = append(cmds, in.val.Copy().(*parse.CommandNode))
		}
	}
	p.Cmds = cmds
}

// constantSize reports whether c is dot, a variable or a constant, whose
// value was checked where it was made or is part of the template's text.
func constantSize(c *parse.CommandNode) bool {
	if len(c.Args) != 1 {
		return false
	}
	switch a := c.Args[0].(type) {
	case *parse.DotNode, *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		return true
	case *parse.VariableNode:
		return len(a.Ident) == 1
	}
	return false
}

func (in *instrumenter) arg(a parse.Node) {
	switch a := a.(type) {
	case *parse.PipeNode:
		in.pipe(a)
	case *parse.ChainNode:
		in.arg(a.Node)
	}
}

// joinReceiver returns, for a command that calls a method named Join with
// an argument (Alertmanager's Strings.Join(sep): its result is the
// separator times the number of strings), a node evaluating the method's
// receiver; nil for any other command.
func joinReceiver(c *parse.CommandNode, pos int, dot *parse.DotNode) parse.Node {
	if len(c.Args) < 2 && pos == 0 {
		return nil // no argument
	}
	switch n := c.Args[0].(type) {
	case *parse.FieldNode:
		if n.Ident[len(n.Ident)-1] != "Join" {
			return nil
		}
		if len(n.Ident) == 1 {
			return dot.Copy()
		}
		r := n.Copy().(*parse.FieldNode)
		r.Ident = r.Ident[:len(r.Ident)-1]
		return r
	case *parse.VariableNode:
		if len(n.Ident) < 2 || n.Ident[len(n.Ident)-1] != "Join" {
			return nil
		}
		r := n.Copy().(*parse.VariableNode)
		r.Ident = r.Ident[:len(r.Ident)-1]
		return r
	case *parse.ChainNode:
		if n.Field[len(n.Field)-1] != "Join" {
			return nil
		}
		if len(n.Field) == 1 {
			return n.Node.Copy()
		}
		r := n.Copy().(*parse.ChainNode)
		r.Field = r.Field[:len(r.Field)-1]
		return r
	}
	return nil
}

// Source renders trees, as Parse returns them, back into template text
// that parses into the same trees: a {{define}} for every template but
// main, in name order, then main's body.
func Source(main string, trees map[string]*parse.Tree) string {
	names := make([]string, 0, len(trees))
	for n := range trees {
		if n != main {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var w writer
	for _, n := range names {
		w.action(`{{define ` + strconv.Quote(n) + `}}`)
		w.node(trees[n].Root)
		w.action("{{end}}")
	}
	if t := trees[main]; t != nil {
		w.node(t.Root)
	}
	w.flush(false)
	return w.sb.String()
}

// writer renders nodes as text/template source. Text is written as is,
// except that a '{' which would form a left delimiter with the next
// character written (text after trimmed spaces or a dropped comment, or an
// action) is written as the action {{"{"}}.
type writer struct {
	sb    strings.Builder
	brace bool // a '{' is held back
}

func (w *writer) flush(beforeBrace bool) {
	if !w.brace {
		return
	}
	w.brace = false
	if beforeBrace {
		w.sb.WriteString(`{{"{"}}`)
	} else {
		w.sb.WriteByte('{')
	}
}

func (w *writer) text(s string) {
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			w.flush(false)
			w.sb.WriteString(s)
			return
		}
		if i > 0 {
			w.flush(false)
			w.sb.WriteString(s[:i])
		}
		w.flush(true)
		w.brace = true
		s = s[i+1:]
	}
}

// action writes s, which starts with a left delimiter.
func (w *writer) action(s string) {
	w.flush(true)
	w.sb.WriteString(s)
}

func (w *writer) node(n parse.Node) {
	switch n := n.(type) {
	case nil:
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			w.node(c)
		}
	case *parse.TextNode:
		w.text(string(n.Text))
	case *parse.CommentNode:
		// Comments execute to nothing.
	case *parse.ActionNode:
		w.action("{{" + n.Pipe.String() + "}}")
	case *parse.IfNode:
		w.branch("if", &n.BranchNode)
	case *parse.RangeNode:
		w.branch("range", &n.BranchNode)
	case *parse.WithNode:
		w.branch("with", &n.BranchNode)
	default: // template, break, continue
		w.action(n.String())
	}
}

func (w *writer) branch(keyword string, b *parse.BranchNode) {
	w.action("{{" + keyword + " " + b.Pipe.String() + "}}")
	w.node(b.List)
	if b.ElseList != nil {
		w.action("{{else}}")
		w.node(b.ElseList)
	}
	w.action("{{end}}")
}
