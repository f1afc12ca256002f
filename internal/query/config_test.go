package query

import (
	"runtime"
	"strings"
	"testing"
)

// TestShardsConfig: query.shards defaults to the CPUs (at most 16) and
// is validated.
func TestShardsConfig(t *testing.T) {
	c := DefaultConfig()
	if want := min(runtime.NumCPU(), 16); c.Shards != want {
		t.Fatalf("default shards %d, want %d", c.Shards, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		shards, min int
		want        string
	}{
		{-1, 1000, "query.shards must be between 0 and 64"},
		{65, 1000, "query.shards must be between 0 and 64"},
		{4, -1, "shard_min_series must not be negative"},
		{0, 0, ""}, {1, 0, ""}, {64, 1, ""},
	} {
		c := DefaultConfig()
		c.Shards, c.ShardMinSeries = tc.shards, tc.min
		err := c.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("shards %d, min %d: %v, want %q", tc.shards, tc.min, err, tc.want)
		}
	}
}
