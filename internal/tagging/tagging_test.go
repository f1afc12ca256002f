package tagging

import (
	"fmt"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	fifty := map[string]string{}
	for i := 0; i < 50; i++ {
		fifty[fmt.Sprintf("k%d", i)] = "v"
	}
	cases := []struct {
		name     string
		tags     map[string]string
		existing map[string]string
		ok       bool
	}{
		{"empty", nil, nil, true},
		{"unicode letters and symbols", map[string]string{"チーム": "観測", "a_b.c:d/e=f+g-h@i": "x y"}, nil, true},
		{"empty value", map[string]string{"k": ""}, nil, true},
		{"key of 128", map[string]string{strings.Repeat("k", 128): ""}, nil, true},
		{"key of 129", map[string]string{strings.Repeat("k", 129): ""}, nil, false},
		{"value of 256 (multi-byte)", map[string]string{"k": strings.Repeat("観", 256)}, nil, true},
		{"value of 257", map[string]string{"k": strings.Repeat("v", 257)}, nil, false},
		{"empty key", map[string]string{"": "v"}, nil, false},
		{"aws: prefix", map[string]string{"aws:cloudformation": "v"}, nil, false},
		{"AWS: prefix", map[string]string{"AWS:x": "v"}, nil, false},
		{"aws: value", map[string]string{"owner": "aws:reserved"}, nil, false},
		{"Aws: value", map[string]string{"owner": "Aws:x"}, nil, false},
		{"aws: inside a value", map[string]string{"owner": "team-aws:x"}, nil, true},
		{"invalid character", map[string]string{"k!": "v"}, nil, false},
		{"invalid value character", map[string]string{"k": "v#"}, nil, false},
		{"50 tags", fifty, nil, true},
		{"51st tag", map[string]string{"new": "v"}, fifty, false},
		{"overwrite at 50", map[string]string{"k3": "changed"}, fifty, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.tags, tc.existing)
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestParseARN(t *testing.T) {
	a, err := ParseARN("arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1/team-a")
	if err != nil || a.Kind != KindRuleGroupsNamespace || a.WorkspaceID != "ws-1" || a.Name != "team-a" || a.Account != "123456789012" {
		t.Fatalf("%+v %v", a, err)
	}
	a, err = ParseARN("arn:aws:aps:eu-west-1:123456789012:workspace/ws-2")
	if err != nil || a.Kind != KindWorkspace || a.WorkspaceID != "ws-2" || a.Region != "eu-west-1" {
		t.Fatalf("%+v %v", a, err)
	}
	// Scrapers are tagged by their ARN (CreateScraper's tags, TagResource).
	a, err = ParseARN("arn:aws:aps:us-east-1:123456789012:scraper/s-1234")
	if err != nil || a.Kind != KindScraper || a.Name != "s-1234" || a.String() != "arn:aws:aps:us-east-1:123456789012:scraper/s-1234" {
		t.Fatalf("%+v %v", a, err)
	}
	// Anomaly detectors too (CreateAnomalyDetector's tags, TagResource).
	a, err = ParseARN("arn:aws:aps:us-east-1:123456789012:anomalydetector/ws-1/ad-1")
	if err != nil || a.Kind != KindAnomalyDetector || a.WorkspaceID != "ws-1" || a.Name != "ad-1" || a.String() != "arn:aws:aps:us-east-1:123456789012:anomalydetector/ws-1/ad-1" {
		t.Fatalf("%+v %v", a, err)
	}
	for _, bad := range []string{"", "ws-1", "arn:aws:s3:::bucket", "arn:aws:aps:us-east-1:1:workspace/", "arn:aws:aps:us-east-1:1:workspace/a/b",
		"arn:aws:aps:us-east-1:1:rulegroupsnamespace/ws-1", "arn:aws:aps:us-east-1:1:scraper/", "arn:aws:aps:us-east-1:1:scraper/s-1/x",
		"arn:aws:aps:us-east-1:1:anomalydetector/ws-1", "arn:aws:aps:us-east-1:1:anomalydetector/ws-1/x-1", "arn:aws:aps:us-east-1:1:anomalydetector/ws-1/ad-1/x",
		"arn:aws:aps:us-east-1:1:collector/x"} {
		if _, err := ParseARN(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
