// Package tagging validates AWS-style resource tags with AWS's rules: at most
// 50 per resource, keys of 1-128 and values of 0-256 Unicode characters from
// letters, digits, spaces and _ . : / = + - @, case-sensitive, and the aws:
// prefix reserved.
package tagging

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/kansoku/kansoku/internal/apierr"
)

// MaxTags is the limit of tags on one resource.
const MaxTags = 50

var tagRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// ValidateKey checks one tag key.
func ValidateKey(field, k string) error {
	n := utf8.RuneCountInString(k)
	if n < 1 || n > 128 {
		return apierr.InvalidField(field, "tag keys must be 1 to 128 characters long, %q is %d", truncate(k), n)
	}
	if !tagRE.MatchString(k) {
		return apierr.InvalidField(field, "tag key %q must match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", truncate(k))
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return apierr.InvalidField(field, "tag key %q uses the reserved prefix aws:", truncate(k))
	}
	return nil
}

// Validate checks a tag map to be set on a resource that already has
// existing tags (nil for a new resource).
func Validate(tags, existing map[string]string) error {
	for k, v := range tags {
		if err := ValidateKey("tags", k); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(v); n > 256 {
			return apierr.InvalidField("tags", "tag values must be at most 256 characters long, the value of %q is %d", truncate(k), n)
		}
		if !tagRE.MatchString(v) {
			return apierr.InvalidField("tags", "the value of tag %q must match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", truncate(k))
		}
		// AWS reserves the prefix for keys and values alike ("aws:" in any
		// case; AMP's tagging rules).
		if strings.HasPrefix(strings.ToLower(v), "aws:") {
			return apierr.InvalidField("tags", "the value of tag %q uses the reserved prefix aws:", truncate(k))
		}
	}
	total := len(existing)
	for k := range tags {
		if _, ok := existing[k]; !ok {
			total++
		}
	}
	if total > MaxTags {
		return apierr.Validation(apierr.ReasonFieldValidation, "a resource can have at most %d tags; this request would leave %d", MaxTags, total)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Resource kinds that carry tags.
const (
	KindWorkspace           = "workspace"
	KindRuleGroupsNamespace = "rulegroupsnamespace"
	KindScraper             = "scraper"
	KindAnomalyDetector     = "anomalydetector"
)

// ARN is a parsed aps resource ARN.
type ARN struct {
	Region, Account, Kind, WorkspaceID, Name string
}

// String is the canonical form of the ARN: the one policies name and tags
// are stored under.
func (a ARN) String() string {
	if a.Kind == KindScraper {
		return "arn:aws:aps:" + a.Region + ":" + a.Account + ":scraper/" + a.Name
	}
	s := "arn:aws:aps:" + a.Region + ":" + a.Account + ":" + a.Kind + "/" + a.WorkspaceID
	if a.Kind == KindRuleGroupsNamespace || a.Kind == KindAnomalyDetector {
		s += "/" + a.Name
	}
	return s
}

// ParseARN parses arn:aws:aps:<region>:<account>:workspace/<id> and
// arn:aws:aps:<region>:<account>:rulegroupsnamespace/<id>/<name> and
// arn:aws:aps:<region>:<account>:scraper/<scraper-id>.
// arn:aws:aps:<region>:<account>:anomalydetector/<id>/ad-<id>.
func ParseARN(arn string) (ARN, error) {
	parts := strings.SplitN(arn, ":", 6)
	// The partition is exactly "aws": a look-alike (aws-cn, awsx) is
	// another string for the same resource, which a policy's Deny on the
	// real ARN would not match.
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "aps" {
		return ARN{}, apierr.InvalidField("resourceArn", "%q is not an Amazon Managed Service for Prometheus resource ARN", truncate(arn))
	}
	a := ARN{Region: parts[3], Account: parts[4]}
	kind, rest, _ := strings.Cut(parts[5], "/")
	switch kind {
	case KindWorkspace:
		if rest == "" || strings.Contains(rest, "/") {
			return ARN{}, apierr.InvalidField("resourceArn", "a workspace ARN ends in workspace/<workspace-id>")
		}
		a.Kind, a.WorkspaceID = kind, rest
	case KindRuleGroupsNamespace:
		ws, name, ok := strings.Cut(rest, "/")
		if !ok || ws == "" || name == "" {
			return ARN{}, apierr.InvalidField("resourceArn", "a rule groups namespace ARN ends in rulegroupsnamespace/<workspace-id>/<name>")
		}
		a.Kind, a.WorkspaceID, a.Name = kind, ws, name
	case KindScraper:
		if rest == "" || strings.Contains(rest, "/") {
			return ARN{}, apierr.InvalidField("resourceArn", "a scraper ARN ends in scraper/<scraper-id>")
		}
		a.Kind, a.Name = kind, rest
	case KindAnomalyDetector:
		ws, id, ok := strings.Cut(rest, "/")
		if !ok || ws == "" || !strings.HasPrefix(id, "ad-") || strings.Contains(id, "/") {
			return ARN{}, apierr.InvalidField("resourceArn", "an anomaly detector ARN ends in anomalydetector/<workspace-id>/ad-<id>")
		}
		a.Kind, a.WorkspaceID, a.Name = kind, ws, id
	default:
		return ARN{}, apierr.InvalidField("resourceArn", "resources of type %q cannot be tagged; tag workspaces, rule groups namespaces, scrapers and anomaly detectors", truncate(kind))
	}
	return a, nil
}
