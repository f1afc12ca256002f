package awsint

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
)

// TestSettingsBounds: an integration's settings are tenant input, refused
// with the field and the reason.
func TestSettingsBounds(t *testing.T) {
	ok := func() Settings {
		return Settings{Regions: []string{"us-east-1"}, PollInterval: Duration(5 * time.Minute),
			Services: map[string]ServiceSettings{"ec2": DefaultServiceSettings("ec2"), "ses": DefaultServiceSettings("ses")}}
	}
	st := ok()
	if err := validateSettings(&st); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 300)
	many := make([]string, 41)
	for i := range many {
		many[i] = "us-east-1"
	}
	for name, c := range map[string]struct {
		edit  func(*Settings)
		field string
	}{
		"too many regions":       {func(s *Settings) { s.Regions = many }, "regions"},
		"two partitions":         {func(s *Settings) { s.Regions = []string{"us-east-1", "cn-north-1"} }, "regions"},
		"long tag filter":        {func(s *Settings) { s.TagFilter = strings.Repeat("k:v,", 300) }, "tagFilter"},
		"too many pairs":         {func(s *Settings) { s.TagFilter = strings.Repeat("k:v,", 51) + "k:v" }, "tagFilter"},
		"product tag filter":     {func(s *Settings) { ec2 := s.Services["ec2"]; ec2.TagFilter = `"x`; s.Services["ec2"] = ec2 }, "services.ec2.tagFilter"},
		"filter an untagged one": {func(s *Settings) { x := s.Services["ses"]; x.TagFilter = "a:b"; s.Services["ses"] = x }, "services.ses.tagFilter"},
		"reserved extra tag":     {func(s *Settings) { s.ExtraTags = map[string]string{"host_id": "x"} }, "extraTags"},
		"dimension extra tag":    {func(s *Settings) { s.ExtraTags = map[string]string{"dimension_X": "x"} }, "extraTags"},
		"bad extra tag key":      {func(s *Settings) { s.ExtraTags = map[string]string{"team-name": "x"} }, "extraTags"},
		"long extra tag value":   {func(s *Settings) { s.ExtraTags = map[string]string{"team": long} }, "extraTags"},
		"long metric name": {func(s *Settings) {
			ec2 := s.Services["ec2"]
			ec2.ExcludedMetrics = []string{long}
			s.Services["ec2"] = ec2
		}, "services.ec2.excludedMetrics"},
		"unknown included metric": {func(s *Settings) {
			ec2 := s.Services["ec2"]
			ec2.AutoAddNewMetrics = false
			ec2.IncludedMetrics = []string{"x"}
			s.Services["ec2"] = ec2
		}, "services.ec2.includedMetrics"},
		"poll too often": {func(s *Settings) { s.PollInterval = Duration(time.Second) }, "pollInterval"},
	} {
		st := ok()
		c.edit(&st)
		err := validateSettings(&st)
		var ae *apierr.Error
		if !errors.As(err, &ae) || !strings.Contains(ae.Error(), c.field) {
			t.Errorf("%s: %v, want an error on %s", name, err, c.field)
		}
	}
	many21 := map[string]string{}
	for i := 0; i < 21; i++ {
		many21[string(rune('a'+i))] = "x"
	}
	st = ok()
	st.ExtraTags = many21
	if err := validateSettings(&st); err == nil {
		t.Error("21 extra tags accepted")
	}
	// The role must be in the integration's account and partition.
	if err := checkRoleARN("arn:aws-cn:iam::123456789012:role/K", "123456789012", []string{"us-east-1"}); err == nil {
		t.Error("a China role for a commercial integration")
	}
	if err := checkRoleARN("arn:aws-cn:iam::123456789012:role/K", "123456789012", []string{"cn-north-1"}); err != nil {
		t.Errorf("a China role: %v", err)
	}
	// A role's path and name are 1 to 512 characters.
	if err := checkRoleARN("arn:aws:iam::123456789012:role/ops/"+strings.Repeat("k", 508), "123456789012", []string{"us-east-1"}); err != nil {
		t.Errorf("a role of 512 characters: %v", err)
	}
	for _, arn := range []string{"arn:aws:iam::123456789012:role/ops/" + strings.Repeat("k", 509), "arn:aws:iam::123456789012:role/", "arn:aws:iam::123456789012:role/a b"} {
		if err := checkRoleARN(arn, "123456789012", []string{"us-east-1"}); err == nil {
			t.Errorf("%.60q (%d characters after role/) accepted", arn, len(arn)-len("arn:aws:iam::123456789012:role/"))
		}
	}
}

func TestDefaultServiceSettings(t *testing.T) {
	for k, retire := range map[string]bool{"ec2": true, "rds": true, "elasticache": true, "s3": false, "lambda": false} {
		if ss := DefaultServiceSettings(k); !ss.Enabled || !ss.AutoAddNewMetrics || ss.AutoRetire != retire {
			t.Errorf("%s: %+v", k, ss)
		}
	}
}

func TestFilters(t *testing.T) {
	f, err := parseFilters(Settings{TagFilter: "env:prod", Services: map[string]ServiceSettings{"ec2": {TagFilter: "team:shop, team:core"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		product string
		tags    map[string]string
		want    bool
	}{
		{"ec2", map[string]string{"env": "prod", "team": "shop"}, true},
		{"ec2", map[string]string{"env": "prod"}, false},
		{"ec2", map[string]string{"team": "core"}, false},
		{"lambda", map[string]string{"env": "prod"}, true},
		{"lambda", map[string]string{"env": "dev"}, false},
	} {
		if got := f.match(c.product, c.tags); got != c.want {
			t.Errorf("%s %v: %v", c.product, c.tags, got)
		}
	}
}

// TestPeriodWindow: a group's window never reaches back past what ingest
// takes (samples at most maxWindow old at the poll), whatever the period:
// a 15-minute period's end lies up to 18 minutes before now.
func TestPeriodWindow(t *testing.T) {
	base := time.Date(2026, 12, 6, 5, 0, 6, 0, time.UTC)
	for _, period := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute} {
		for off := time.Duration(0); off < 30*time.Minute; off += 37 * time.Second {
			now := base.Add(off)
			start, end, lost := periodWindow(now, period, 3*time.Minute, 45*time.Minute, 50*time.Minute, time.Time{}, false)
			if now.Sub(start) > 50*time.Minute || !lost.IsZero() || end.After(now.Add(-3*time.Minute)) || start.UnixNano()%int64(period) != 0 {
				t.Fatalf("period %s at %s: [%s, %s) lost %s", period, now.Format(time.TimeOnly), start.Format(time.TimeOnly), end.Format(time.TimeOnly), lost)
			}
		}
	}
	// A cursor two hours behind: the first reachable period, and what was lost.
	now := base
	start, _, lost := periodWindow(now, time.Minute, 3*time.Minute, 10*time.Minute, 50*time.Minute, now.Add(-2*time.Hour).Truncate(time.Minute), true)
	if now.Sub(start) > 50*time.Minute || lost.IsZero() {
		t.Fatalf("behind: start %s lost %s", start, lost)
	}
}
