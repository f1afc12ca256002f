package awsint

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// TagPair is one key:value of a tag filter.
type TagPair struct{ Key, Value string }

// TagFilter is a parsed tag filter in the syntax of Mackerel's "Filter by
// tag" (https://mackerel.io/docs/entry/integrations/aws):
// "service:foo, service:bar" selects resources tagged service=foo OR
// service=bar; keys and values containing ":" or "," are quoted with " or '
// ("service:role": "foo,bar"). The empty filter selects everything.
type TagFilter []TagPair

// ParseTagFilter parses a tag filter.
func ParseTagFilter(s string) (TagFilter, error) {
	var out TagFilter
	rs := []rune(s)
	i := 0
	skip := func() {
		for i < len(rs) && unicode.IsSpace(rs[i]) {
			i++
		}
	}
	token := func(what string) (string, error) {
		skip()
		if i >= len(rs) {
			return "", fmt.Errorf("tag filter %q: missing %s at the end", s, what)
		}
		if q := rs[i]; q == '"' || q == '\'' {
			start := i
			i++
			j := i
			for j < len(rs) && rs[j] != q {
				j++
			}
			if j >= len(rs) {
				return "", fmt.Errorf("tag filter %q: the quote at position %d is never closed", s, start+1)
			}
			v := string(rs[i:j])
			i = j + 1
			return v, nil
		}
		j := i
		for j < len(rs) && rs[j] != ':' && rs[j] != ',' && rs[j] != '"' && rs[j] != '\'' {
			j++
		}
		v := strings.TrimSpace(string(rs[i:j]))
		i = j
		return v, nil
	}
	skip()
	if i >= len(rs) {
		return nil, nil
	}
	for {
		key, err := token("a tag key")
		if err != nil {
			return nil, err
		}
		if key == "" {
			return nil, fmt.Errorf("tag filter %q: empty tag key at position %d (write key:value pairs separated by commas)", s, i+1)
		}
		skip()
		if i >= len(rs) || rs[i] != ':' {
			return nil, fmt.Errorf("tag filter %q: %q needs a value: write %s:<value> (quote keys or values that contain ':' or ',')", s, key, key)
		}
		i++
		value, err := token("a tag value")
		if err != nil {
			return nil, err
		}
		out = append(out, TagPair{Key: key, Value: value})
		skip()
		if i >= len(rs) {
			return out, nil
		}
		if rs[i] != ',' {
			return nil, fmt.Errorf("tag filter %q: expected ',' at position %d", s, i+1)
		}
		i++
	}
}

// Match reports whether tags satisfy the filter (any pair).
func (f TagFilter) Match(tags map[string]string) bool {
	if len(f) == 0 {
		return true
	}
	for _, p := range f {
		if v, ok := tags[p.Key]; ok && v == p.Value {
			return true
		}
	}
	return false
}

// RoleTagKeys are the tag keys whose value assigns service:roles to a
// resource's host, Kansoku's own and Mackerel's.
var RoleTagKeys = []string{"kansoku-integration", "mackerel-integration"}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{1,62}$`)

// ValidName reports whether s is a valid service or role name: 2 to 63
// characters, letters, digits, '-' and '_', starting with a letter or digit.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// ServiceRole is a service and a role in it.
type ServiceRole struct{ Service, Role string }

func (sr ServiceRole) String() string { return sr.Service + ":" + sr.Role }

// ParseServiceRole parses "<Service>:<Role>".
func ParseServiceRole(s string) (ServiceRole, error) {
	svc, role, ok := strings.Cut(strings.TrimSpace(s), ":")
	svc, role = strings.TrimSpace(svc), strings.TrimSpace(role)
	if !ok || !ValidName(svc) || !ValidName(role) {
		return ServiceRole{}, fmt.Errorf("%q is not <Service>:<Role> with names of 2-63 letters, digits, '-' or '_'", s)
	}
	return ServiceRole{Service: svc, Role: role}, nil
}

// RolesFromTags reads the service:roles a resource's role tag assigns
// ("<Service>:<Role> [ / <Service>:<Role> ...]"). ok is false when no role
// tag is present. Invalid entries are returned in bad and skipped.
func RolesFromTags(tags map[string]string) (roles []ServiceRole, bad []string, ok bool) {
	for _, k := range RoleTagKeys {
		v, present := tags[k]
		if !present {
			continue
		}
		ok = true
		for _, part := range strings.Split(v, "/") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			sr, err := ParseServiceRole(part)
			if err != nil {
				bad = append(bad, strings.TrimSpace(part))
				continue
			}
			roles = append(roles, sr)
		}
		return roles, bad, ok
	}
	return nil, nil, false
}

// Bounds of a tag filter, tenant input: its length and its pairs.
const (
	maxTagFilterLength = 1024
	maxTagFilterPairs  = 50
)

// checkTagFilter parses a tag filter within its bounds.
func checkTagFilter(s string) (TagFilter, error) {
	if len(s) > maxTagFilterLength {
		return nil, fmt.Errorf("a tag filter is at most %d characters", maxTagFilterLength)
	}
	f, err := ParseTagFilter(s)
	if err != nil {
		return nil, err
	}
	if len(f) > maxTagFilterPairs {
		return nil, fmt.Errorf("a tag filter has at most %d key:value pairs", maxTagFilterPairs)
	}
	return f, nil
}

// filters are an integration's tag filters: its own, for every product,
// and each product's (Datadog's "to hosts with tag" for EC2, "to Lambdas
// with tag"). A resource must match both.
type filters struct {
	all        TagFilter
	perProduct map[string]TagFilter
}

func parseFilters(st Settings) (filters, error) {
	f := filters{perProduct: map[string]TagFilter{}}
	var err error
	if f.all, err = checkTagFilter(st.TagFilter); err != nil {
		return f, err
	}
	for k, ss := range st.Services {
		if f.perProduct[k], err = checkTagFilter(ss.TagFilter); err != nil {
			return f, fmt.Errorf("%s: %w", k, err)
		}
	}
	return f, nil
}

func (f filters) match(product string, tags map[string]string) bool {
	return f.all.Match(tags) && f.perProduct[product].Match(tags)
}
