package catalog

import (
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
)

// MetricSet is the metrics of one kind of resource or sub-resource
// (Mackerel's "per target group", "per operation", "per alias" ...).
type MetricSet struct {
	// Name tells the set apart within its product ("" for the resource's
	// own metrics; "target_group", "operation" ...).
	Name string
	// Kind is the Resource.Kind the set applies to ("" for every
	// resource of the product).
	Kind      string
	Namespace string
	// Period is the collection period (CloudWatch's resolution of the
	// set's metrics: 300 s for EC2's basic monitoring, 60 s for most);
	// a metric may have its own.
	Period time.Duration
	// Dimensions are the exact dimension names of the set's series. Those
	// the resource does not have and Fixed does not give are sub-resource
	// dimensions: their values come from the resource's Families, or else
	// from ListMetrics, and each becomes a label of the series
	// (dimension_TargetGroup, dimension_Operation ...).
	Dimensions []string
	// Fixed dimensions have one value (CloudFront's Region=Global).
	Fixed map[string]string
	// Listed: query only the series ListMetrics lists, for metrics that
	// exist only with a feature discovery cannot see (CloudFront's
	// additional metrics, S3 request metrics ...).
	Listed bool
	// Latest > 0 marks a slow metric (a day's storage, billing): each poll
	// reads the newest datapoint within Latest and writes it stamped at
	// the poll, so that ingest's one-hour sample age does not drop it.
	Latest time.Duration
	// Requires are traits the resource must have.
	Requires []string
	Metrics  []Metric
}

// Metric is one CloudWatch metric and the statistics collected for it.
type Metric struct {
	Name  string
	Stats []string
	// Group is Mackerel's graph the metric belongs to (cpu, network ...);
	// the console groups the metric selection by it.
	Group string
	// Requires are traits the resource must have.
	Requires []string
	// Period overrides the set's (metrics CloudWatch records less often).
	Period time.Duration
}

// PeriodOf is the metric's collection period within the set.
func (s *MetricSet) PeriodOf(m Metric) time.Duration {
	if m.Period > 0 {
		return m.Period
	}
	return s.Period
}

// Free returns the set's dimensions that a resource with the given
// dimensions and families does not supply and that are not fixed: those
// ListMetrics must name.
func (s *MetricSet) Free(dims map[string]string, families map[string][]string) []string {
	var out []string
	for _, d := range s.Dimensions {
		if _, ok := dims[d]; ok {
			continue
		}
		if _, ok := s.Fixed[d]; ok {
			continue
		}
		if len(families[d]) > 0 {
			continue
		}
		out = append(out, d)
	}
	return out
}

// HasSubResources reports whether the set's series carry a dimension the
// resource itself does not have (a family: target group, operation ...).
func (s *MetricSet) HasSubResources(resourceDims []string) bool {
	for _, d := range s.Dimensions {
		if _, ok := s.Fixed[d]; ok {
			continue
		}
		found := false
		for _, r := range resourceDims {
			found = found || r == d
		}
		if !found {
			return true
		}
	}
	return false
}

// Statistics.
const (
	Avg = "Average"
	Sum = "Sum"
	Max = "Maximum"
	Min = "Minimum"
	SC  = "SampleCount"
)

var (
	avg       = []string{Avg}
	sum       = []string{Sum}
	maximum   = []string{Max}
	minimum   = []string{Min}
	minAvgMax = []string{Min, Avg, Max}
)

// ms makes metrics of one group with the same statistics.
func ms(group string, stats []string, names ...string) []Metric {
	out := make([]Metric, 0, len(names))
	for _, n := range names {
		out = append(out, Metric{Name: n, Stats: stats, Group: group})
	}
	return out
}

// needs marks metrics as existing only for resources with the traits.
func needs(traits []string, metrics ...[]Metric) []Metric {
	var out []Metric
	for _, part := range metrics {
		for _, m := range part {
			m.Requires = append(append([]string(nil), m.Requires...), traits...)
			out = append(out, m)
		}
	}
	return out
}

// every gives metrics their own period.
func every(d time.Duration, metrics ...[]Metric) []Metric {
	var out []Metric
	for _, part := range metrics {
		for _, m := range part {
			m.Period = d
			out = append(out, m)
		}
	}
	return out
}

// all concatenates metric lists.
func all(parts ...[]Metric) []Metric {
	var out []Metric
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func traits(ts ...string) []string { return ts }

// Selectable is one collectable series family of a product: a metric and
// statistic of one of its sets, named as Prometheus sees it.
type Selectable struct {
	Set    string `json:"set"`
	Metric string `json:"metric"`
	Stat   string `json:"stat"`
	Group  string `json:"group"`
	// Name is the Prometheus metric name, e.g. aws_ec2_cpuutilization_average.
	Name string `json:"name"`
	// Key is what metric selections name: Name for a resource's own
	// metrics, Name:set for a sub-resource set's (one name, two series
	// families: per load balancer and per target group).
	Key string `json:"key"`
	// API values come from the product's API, not CloudWatch.
	API bool `json:"api,omitempty"`
}

// SelectionKey is the key of a series family of a set.
func SelectionKey(name string, set *MetricSet, ownDims []string) string {
	if set == nil || !set.HasSubResources(ownDims) {
		return name
	}
	return name + ":" + set.Name
}

// OwnDimensions are the dimension names a product's resources of a kind
// carry themselves: those of the kind's set named "".
func (p *Product) OwnDimensions(kind string) []string {
	for i := range p.MetricSets {
		s := &p.MetricSets[i]
		if s.Kind == kind && s.Name == "" {
			var out []string
			for _, d := range s.Dimensions {
				if _, ok := s.Fixed[d]; !ok {
					out = append(out, d)
				}
			}
			return out
		}
	}
	return nil
}

// Set returns the product's set of a kind by name.
func (p *Product) Set(kind, name string) *MetricSet {
	for i := range p.MetricSets {
		if s := &p.MetricSets[i]; s.Kind == kind && s.Name == name {
			return s
		}
	}
	return nil
}

// Selectables returns every series family the product collects by default.
func (p *Product) Selectables() []Selectable {
	var out []Selectable
	seen := map[string]bool{}
	for i := range p.MetricSets {
		s := &p.MetricSets[i]
		own := p.OwnDimensions(s.Kind)
		for _, m := range s.Metrics {
			for _, st := range m.Stats {
				name := MetricName(s.Namespace, m.Name, st)
				key := SelectionKey(name, s, own)
				if seen[key] {
					continue // the same series family in two kinds' sets (RDS instance and cluster)
				}
				seen[key] = true
				out = append(out, Selectable{Set: s.Name, Metric: m.Name, Stat: st, Group: m.Group, Name: name, Key: key})
			}
		}
	}
	for _, a := range p.APIMetrics {
		out = append(out, Selectable{Set: "api", Metric: a.Name, Group: a.Group, Name: a.Name, Key: a.Name, API: true})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out
}

// MetricName builds the Prometheus name of a CloudWatch metric and
// statistic as YACE (the most used CloudWatch exporter) does:
// aws_<namespace>_<metric in snake case>_<statistic>, e.g.
// AWS/EC2 CPUUtilization Average -> aws_ec2_cpuutilization_average.
func MetricName(namespace, metric, stat string) string {
	ns := strings.TrimPrefix(namespace, "/")
	ns = strings.TrimPrefix(ns, "AWS/")
	ns = strings.TrimPrefix(ns, "aws/")
	return "aws_" + sanitize(strings.ToLower(ns)) + "_" + snake(metric) + "_" + sanitize(strings.ToLower(stat))
}

// snake converts a CloudWatch metric name: an upper-case letter after a
// lower-case letter or digit starts a new word; "%" becomes "_percent";
// anything outside [a-z0-9_] becomes "_"; runs of "_" collapse.
func snake(s string) string {
	s = strings.ReplaceAll(s, "%", "_percent")
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return sanitize(b.String())
}

func sanitize(s string) string {
	var b strings.Builder
	lastUnderscore := false
	for _, r := range s {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		if !ok {
			if !lastUnderscore {
				b.WriteByte('_')
			}
			lastUnderscore = true
			continue
		}
		b.WriteRune(r)
		lastUnderscore = false
	}
	return strings.Trim(b.String(), "_")
}

// DimensionLabel is the Prometheus label of a CloudWatch dimension (YACE's
// dimension_<Name>).
func DimensionLabel(dim string) string { return "dimension_" + sanitizeLabel(dim) }

func sanitizeLabel(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// counterName matches CloudWatch metric names that count events, which
// are meaningful summed over a period (RequestCount, Errors, Invocations,
// ThrottledRequests ...).
var counterName = regexp.MustCompile(`(?i)(count|counts|errors?|requests|invocations|throttles|throttled|failures|failed|bytes|packets|records|calls|hits|misses|drops|dropped|received|sent|deleted|retries|events)$`)

// NewMetricStat is the statistic "add new metrics automatically" asks a
// metric the catalog does not know with: Sum for what its name says is a
// count, Average for everything else (gauges, percentages, latencies).
func NewMetricStat(metric string) string {
	if counterName.MatchString(metric) {
		return Sum
	}
	return Avg
}
