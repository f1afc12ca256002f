// Package querycost bounds what a PromQL query may cost before it runs.
// PromQL's parser is super-linear in some shapes (a chain of binary
// operators, deep parentheses: each node's Type() walks its subtree), so
// the size and nesting of an expression are checked on the lexer's tokens,
// in linear time, before the parser sees it; after parsing, the AST's
// depth and the steps of its subqueries (16 bytes each are allocated up
// front by the engine's statistics) are checked before evaluation. The
// query engines, the query API's own parsing and the rule loader (upload
// and evaluation) all parse through Parser.
package querycost

import (
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/features"

	"github.com/kansoku/kansoku/internal/limits"
)

// Limits are the parts of a workspace's limits about expressions.
type Limits struct {
	maxBytes, maxTokens, maxDepth int
	maxSubquerySteps              int64
}

// Of returns the expression limits of a workspace's limits.
func Of(l *limits.Limits) Limits {
	return Limits{maxBytes: l.MaxQueryExpressionBytes, maxTokens: l.MaxQueryExpressionSize, maxDepth: l.MaxQueryExpressionDepth,
		maxSubquerySteps: l.MaxSubquerySteps}
}

// Error is a query refused for its cost.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func errExpr(format string, args ...any) error {
	return &Error{fmt.Sprintf(format, args...)}
}

// checkLexical refuses an expression over the byte, token or nesting
// limits without parsing it.
func (el Limits) checkLexical(input string) error {
	if el.maxBytes > 0 && len(input) > el.maxBytes {
		return errExpr("the query expression is too long (expression size: %d bytes, limit: %d bytes)", len(input), el.maxBytes)
	}
	if el.maxTokens <= 0 && el.maxDepth <= 0 {
		return nil
	}
	lx := parser.Lex(input)
	var it parser.Item
	tokens, depth := 0, 0
	for {
		lx.NextItem(&it)
		switch it.Typ {
		case parser.EOF, parser.ERROR:
			return nil // the parser reports lexical errors
		case parser.LEFT_PAREN, parser.LEFT_BRACE, parser.LEFT_BRACKET:
			depth++
			if el.maxDepth > 0 && depth > el.maxDepth {
				return errExpr("the query expression is nested too deeply (more than %d levels of parentheses, braces or brackets; limit: %d)", el.maxDepth, el.maxDepth)
			}
		case parser.RIGHT_PAREN, parser.RIGHT_BRACE, parser.RIGHT_BRACKET:
			depth--
		}
		tokens++
		if el.maxTokens > 0 && tokens > el.maxTokens {
			return errExpr("the query expression is too large (more than %d tokens; limit: %d)", el.maxTokens, el.maxTokens)
		}
	}
}

// checkAST refuses a parsed expression deeper than the depth limit.
func (el Limits) checkAST(e parser.Expr) error {
	if el.maxDepth <= 0 {
		return nil
	}
	if d := astDepth(e, el.maxDepth+1); d > el.maxDepth {
		return errExpr("the query expression is nested too deeply (depth more than %d; limit: %d)", el.maxDepth, el.maxDepth)
	}
	return nil
}

// astDepth returns the depth of e, stopping at stop.
func astDepth(e parser.Node, stop int) int {
	type frame struct {
		n parser.Node
		d int
	}
	max := 0
	stack := []frame{{e, 1}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if f.n == nil {
			continue
		}
		if f.d > max {
			max = f.d
			if max >= stop {
				return max
			}
		}
		for _, c := range parser.Children(f.n) {
			stack = append(stack, frame{c, f.d + 1})
		}
	}
	return max
}

// SubquerySteps is the number of steps the engine evaluates for e's
// subqueries when e itself is evaluated over span: each subquery's inner
// expression is evaluated once, over span plus its range, at its step
// (defaultStep when it names none).
func SubquerySteps(e parser.Node, span, defaultStep time.Duration) int64 {
	var total int64
	add := func(n int64) {
		if total > math.MaxInt64-n {
			total = math.MaxInt64
			return
		}
		total += n
	}
	var walk func(n parser.Node, span time.Duration)
	walk = func(n parser.Node, span time.Duration) {
		if n == nil {
			return
		}
		if sq, ok := n.(*parser.SubqueryExpr); ok {
			step := sq.Step
			if step <= 0 {
				step = defaultStep
			}
			inner := span + sq.Range
			if step > 0 {
				add(int64(inner/step) + 1)
			}
			walk(sq.Expr, inner)
			return
		}
		for _, c := range parser.Children(n) {
			walk(c, span)
		}
	}
	walk(e, span)
	return total
}

// CheckSubquerySteps refuses e when its subqueries would evaluate more
// steps than the limit, e evaluated over span (0 for an instant query).
func (el Limits) CheckSubquerySteps(e parser.Expr, span, defaultStep time.Duration) error {
	if el.maxSubquerySteps <= 0 {
		return nil
	}
	if n := SubquerySteps(e, span, defaultStep); n > el.maxSubquerySteps {
		return errExpr("the query's subqueries would evaluate %d steps; the limit is %d (use a coarser subquery resolution, e.g. [1h:1m], or a shorter range)", n, el.maxSubquerySteps)
	}
	return nil
}

// Parser is a PromQL parser that refuses expressions over the limits
// before parsing them.
type Parser struct {
	parser.Parser
	limits Limits
}

// NewParser returns a parser bounded by el.
func NewParser(el Limits) *Parser {
	return &Parser{Parser: parser.NewParser(parser.Options{}), limits: el}
}

// Limits are the limits the parser applies.
func (p *Parser) Limits() Limits { return p.limits }

// ParseExpr parses input once it passed the lexical limits, and checks the
// AST's depth.
func (p *Parser) ParseExpr(input string) (parser.Expr, error) {
	if err := p.limits.checkLexical(input); err != nil {
		return nil, err
	}
	e, err := p.Parser.ParseExpr(input)
	if err != nil {
		return nil, err
	}
	if err := p.limits.checkAST(e); err != nil {
		return nil, err
	}
	return e, nil
}

// ParseMetricSelector parses a selector within the lexical limits.
func (p *Parser) ParseMetricSelector(input string) ([]*labels.Matcher, error) {
	if err := p.limits.checkLexical(input); err != nil {
		return nil, err
	}
	return p.Parser.ParseMetricSelector(input)
}

// ParseMetricSelectors parses selectors within the lexical limits.
func (p *Parser) ParseMetricSelectors(matchers []string) ([][]*labels.Matcher, error) {
	for _, m := range matchers {
		if err := p.limits.checkLexical(m); err != nil {
			return nil, err
		}
	}
	return p.Parser.ParseMetricSelectors(matchers)
}

// RegisterFeatures implements parser.Parser.
func (p *Parser) RegisterFeatures(r features.Collector) { p.Parser.RegisterFeatures(r) }
