package wslog

import (
	"strings"
	"testing"
)

// TestLogGroupARNPattern: AMP's pattern, a log group name of 1 to 512
// characters included.
func TestLogGroupARNPattern(t *testing.T) {
	const prefix = "arn:aws:logs:us-east-1:123456789012:log-group:"
	for _, tc := range []struct {
		arn  string
		want bool
	}{
		{prefix + "/aws/prometheus/ws-1:*", true},
		{prefix + strings.Repeat("a", 512) + ":*", true},
		{prefix + strings.Repeat("a", 513) + ":*", false},
		{prefix + ":*", false},
		{prefix + "/aws/prometheus/ws-1", false}, // no trailing :*
		{prefix + "/aws/prom etheus:*", false},   // a space
		{"arn:aws-cn:logs:cn-north-1:123456789012:log-group:a.b_c#d-e/f:*", true},
		{"arn:aws:logs:us-east-1:12345678901:log-group:a:*", false}, // 11-digit account
	} {
		if got := validLogGroupARN(tc.arn); got != tc.want {
			t.Errorf("validLogGroupARN(%.80q) = %v, want %v", tc.arn, got, tc.want)
		}
	}
}
