package rulegroups

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/querycost"
)

// maxCombinedNameBytes is AMP's limit on namespace name + rule group name.
const maxCombinedNameBytes = 721

// DefaultEvaluationInterval is a group's interval when it sets none.
const DefaultEvaluationInterval = time.Minute

// Validate checks a rule file as Prometheus would load it (model/rulefmt and
// the PromQL parser) plus the workspace's limits, and returns its rule
// count. The error names the line and column of the first problem.
func Validate(namespace string, data []byte, lim *limits.Limits) (*rulefmt.RuleGroups, int, error) {
	scheme := model.LegacyValidation
	if lim.AllowUTF8Names {
		scheme = model.UTF8Validation
	}
	// Expressions are parsed within the workspace's expression limits, as
	// queries are: a rule file must not make the parser run for minutes.
	groups, errs := rulefmt.Parse(data, false, scheme, querycost.NewParser(querycost.Of(lim)), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		msg := errs[0].Error()
		if len(errs) > 1 {
			msg += fmt.Sprintf(" (and %d more errors)", len(errs)-1)
		}
		return nil, 0, fmt.Errorf("invalid rule file: %s", msg)
	}
	if groups == nil || len(groups.Groups) == 0 {
		return nil, 0, fmt.Errorf("invalid rule file: no rule groups (a rule file starts with \"groups:\")")
	}
	count := 0
	for _, g := range groups.Groups {
		if len(namespace)+len(g.Name) > maxCombinedNameBytes {
			return nil, 0, fmt.Errorf("group %q: namespace and group names together exceed %d bytes", g.Name, maxCombinedNameBytes)
		}
		interval := time.Duration(g.Interval)
		if interval == 0 {
			interval = DefaultEvaluationInterval
		}
		if min := time.Duration(lim.MinEvaluationInterval); interval < min {
			return nil, 0, fmt.Errorf("group %q: evaluation interval %s is below the workspace minimum of %s", g.Name, model.Duration(interval), model.Duration(min))
		}
		if err := checkTemplateSizes(g, lim.MaxTemplateBytes); err != nil {
			return nil, 0, err
		}
		count += len(g.Rules)
	}
	return groups, count, nil
}

// checkTemplateSizes refuses alerting rules whose label or annotation
// values (templates, expanded at every evaluation for every sample; the
// group's labels are the rules' labels too) are longer than max bytes.
func checkTemplateSizes(g rulefmt.RuleGroup, max int) error {
	if max <= 0 {
		return nil
	}
	check := func(rule, what string, values map[string]string) error {
		for _, k := range sortedKeys(values) {
			if n := len(values[k]); n > max {
				return fmt.Errorf("group %q%s: %s %q is a template of %d bytes; the limit is %d bytes (max_template_bytes)", g.Name, rule, what, k, n, max)
			}
		}
		return nil
	}
	alerting := false
	for _, r := range g.Rules {
		if r.Alert == "" {
			continue
		}
		alerting = true
		rule := fmt.Sprintf(", alerting rule %q", r.Alert)
		if err := check(rule, "label", r.Labels); err != nil {
			return err
		}
		if err := check(rule, "annotation", r.Annotations); err != nil {
			return err
		}
	}
	if alerting {
		return check("", "label", g.Labels)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// statusReason shortens an error for the statusReason field (AMP's
// StatusReason members are free text; keep them readable).
func statusReason(err error) string {
	s := strings.TrimSpace(err.Error())
	if len(s) > 1000 {
		s = s[:1000] + "..."
	}
	return s
}
