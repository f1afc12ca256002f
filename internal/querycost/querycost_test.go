package querycost

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/kansoku/kansoku/internal/limits"
)

func defaultLimits() Limits { d := limits.Defaults(); return Of(&d) }

// F6: the shapes that make PromQL's parser super-linear are refused on
// their tokens, in linear time, before the parser sees them.
func TestExpressionLimitsRefuseBeforeParsing(t *testing.T) {
	p := NewParser(defaultLimits())
	cases := []struct{ name, query, want string }{
		{"100k parentheses", strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000), "too long"},
		{"60k parentheses within the byte limit", strings.Repeat("(", 60000) + "1" + strings.Repeat(")", 60000), "nested too deeply"},
		{"50k binary operators", strings.Repeat("1+", 50000) + "1", "too large"},
		{"5k binary operators", strings.Repeat("1+", 5500) + "1", "too large"},
		{"1001 nested functions", strings.Repeat("abs(", 1001) + "vector(1)" + strings.Repeat(")", 1001), "nested too deeply"},
		{"long or-chain: AST depth", strings.Repeat("a or ", 2000) + "a", "depth more than 1000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := p.ParseExpr(tc.query)
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want %q", err, tc.want)
			}
			if took > 2*time.Second { // the unguarded parser takes 10s to minutes on these
				t.Errorf("refusing took %s", took)
			}
		})
	}
	for _, ok := range []string{
		"sum by (job) (rate(http_requests_total{job=~\"api|web\"}[5m])) / ignoring(code) group_left sum(rate(http_requests_total[5m]))",
		strings.Repeat(`up{instance="a"} or `, 300) + "up",
		"histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))",
	} {
		if _, err := p.ParseExpr(ok); err != nil {
			t.Errorf("refused a reasonable query: %v", err)
		}
	}
	// match[] selectors and the API's own parsing are bounded too.
	if _, err := p.ParseMetricSelector("{a=\"" + strings.Repeat("x", 200<<10) + "\"}"); err == nil {
		t.Error("a 200 KiB selector was parsed")
	}
}

func TestSubquerySteps(t *testing.T) {
	cases := []struct {
		query string
		span  time.Duration
		want  int64
	}{
		{"x", 0, 0},
		{"max_over_time(x[1h:1m])", 0, 61},
		{"max_over_time(x[1h:])", 0, 61}, // default step 1m
		{"max_over_time(x[1h:1m])", 24 * time.Hour, 25*60 + 1},
		{"max_over_time(max_over_time(x[1h:1m])[1d:1h])", 0, 25 + 25*60 + 1},
		{"max_over_time(x[32d:1ms])", 0, 32*24*3600*1000 + 1},
		{"max_over_time(x[1h:1m]) + min_over_time(x[1h:1m])", 0, 122},
	}
	for _, tc := range cases {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		if got := SubquerySteps(e, tc.span, time.Minute); got != tc.want {
			t.Errorf("%s over %s: %d steps, want %d", tc.query, tc.span, got, tc.want)
		}
	}
}
