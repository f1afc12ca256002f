package awssim

import (
	"sort"
	"strings"
	"time"
)

// This file is the simulated CloudWatch's idea of what AWS publishes: for
// each namespace, the metrics AWS's documentation lists, the dimension
// sets each is published with, the statistics that make sense for it, how
// often a datapoint is recorded and how late it is published. The table
// (published_data.go) is written from the documentation page cited for
// each namespace, independently of Kansoku's catalog: a metric name, a
// dimension set or a statistic the catalog gets wrong finds no data here,
// as it would find none on AWS.

// Statistic families, as the documentation's "Statistics" columns give
// them: counters are meaningful summed (and averaged per datapoint),
// gauges and latencies are not summed, and percentiles are offered where
// the documentation says so.
var (
	statsCounter  = []string{"Sum", "Average", "Minimum", "Maximum", "SampleCount"}
	statsGauge    = []string{"Average", "Minimum", "Maximum", "SampleCount"}
	statsGaugeSum = []string{"Average", "Minimum", "Maximum", "Sum", "SampleCount"} // gauges whose sum over nodes means something
	statsLatency  = []string{"Average", "Minimum", "Maximum", "SampleCount", "p"}   // "p": percentiles pNN
)

// Namespace is what one CloudWatch namespace publishes.
type Namespace struct {
	Name string
	// Doc is the AWS documentation page the metrics were written from.
	Doc string
	// Resolution is how often most of its metrics are recorded.
	Resolution time.Duration
	Metrics    []PublishedMetric
}

// PublishedMetric is one metric of a namespace.
type PublishedMetric struct {
	Name string
	// Forms are the dimension sets it is published with.
	Forms []Form
	// Stats are the statistics that make sense for it; "p" allows
	// percentiles.
	Stats []string
	// Resolution is how often a datapoint is recorded (the namespace's
	// when zero).
	Resolution time.Duration
	// Delay is how much later than the scenario's MetricDelay its
	// datapoints are published (slow metrics: daily storage, billing).
	Delay time.Duration
}

// Form is one dimension set a metric is published with.
type Form struct {
	// Dimensions are the exact dimension names of the form.
	Dimensions []string
	// Fixed dimensions have one value whatever the resource (CloudFront's
	// Region=Global, S3's StorageType=AllStorageTypes for NumberOfObjects).
	Fixed map[string]string
	// Allowed restricts the values a dimension takes in this form
	// (ReturnedItemCount only for the operations that return items).
	Allowed map[string][]string
	// Requires are traits a resource must have for AWS to publish the
	// form for it (an engine, a burstable instance type, a feature that
	// must be turned on ...).
	Requires []string
}

// StatMakesSense reports whether stat is among the metric's statistics.
func (m PublishedMetric) StatMakesSense(stat string) bool {
	for _, s := range m.Stats {
		if s == stat || s == "p" && percentileStat.MatchString(stat) {
			return true
		}
	}
	return false
}

// HasDimensions reports whether the metric is published with exactly the
// dimension names given (in any order).
func (m PublishedMetric) HasDimensions(names []string) bool {
	want := dimNamesKey(names)
	for _, f := range m.Forms {
		if dimNamesKey(f.Dimensions) == want {
			return true
		}
	}
	return false
}

func dimNamesKey(names []string) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	return strings.Join(s, "\x00")
}

// group is how the table is written: metrics sharing dimension sets,
// statistics and conditions.
type group struct {
	forms []Form
	stats []string
	names []string
	res   time.Duration
	delay time.Duration
}

// g makes a group of metrics published with the dimension sets of forms.
func g(forms []Form, stats []string, names ...string) group {
	return group{forms: forms, stats: stats, names: names}
}

// needs restricts every form of the group to resources with the traits.
func (gr group) needs(traits ...string) group {
	out := gr
	out.forms = make([]Form, len(gr.forms))
	for i, f := range gr.forms {
		f.Requires = append(append([]string(nil), f.Requires...), traits...)
		out.forms[i] = f
	}
	return out
}

// every sets the group's resolution.
func (gr group) every(d time.Duration) group { gr.res = d; return gr }

// late publishes the group's datapoints d later than usual.
func (gr group) late(d time.Duration) group { gr.delay = d; return gr }

// dims is a list of forms.
func dims(forms ...Form) []Form { return forms }

// d is a form of the given dimension names.
func d(names ...string) Form { return Form{Dimensions: names} }

// fixed gives the form's dimension name the one value v.
func (f Form) fixed(name, v string) Form {
	m := map[string]string{name: v}
	for k, x := range f.Fixed {
		m[k] = x
	}
	f.Fixed = m
	return f
}

// only restricts the form's dimension name to the values vs.
func (f Form) only(name string, vs ...string) Form {
	m := map[string][]string{name: vs}
	for k, x := range f.Allowed {
		m[k] = x
	}
	f.Allowed = m
	return f
}

// when restricts the form to resources with the traits.
func (f Form) when(traits ...string) Form {
	f.Requires = append(append([]string(nil), f.Requires...), traits...)
	return f
}

// ns builds a namespace from its groups; a metric in several groups is
// published with the forms of all of them.
func ns(name, doc string, res time.Duration, groups ...group) Namespace {
	n := Namespace{Name: name, Doc: doc, Resolution: res}
	index := map[string]int{}
	for _, gr := range groups {
		for _, m := range gr.names {
			i, ok := index[m]
			if !ok {
				i = len(n.Metrics)
				index[m] = i
				n.Metrics = append(n.Metrics, PublishedMetric{Name: m, Stats: gr.stats, Resolution: gr.res, Delay: gr.delay})
			}
			n.Metrics[i].Forms = append(n.Metrics[i].Forms, gr.forms...)
		}
	}
	return n
}

// Published returns what CloudWatch publishes, by namespace.
func Published() []Namespace { return publishedNamespaces() }

// newPublishedIndex returns the table by namespace, with every metric's
// resolution filled in.
func newPublishedIndex() map[string]Namespace {
	byName := map[string]Namespace{}
	for _, n := range publishedNamespaces() {
		for i := range n.Metrics {
			if n.Metrics[i].Resolution == 0 {
				n.Metrics[i].Resolution = n.Resolution
			}
		}
		byName[n.Name] = n
	}
	return byName
}

// LookupPublished returns what the table says of a namespace's metric.
func LookupPublished(namespace, metric string) (PublishedMetric, bool) {
	for _, pm := range publishedIndexOnce().byName[namespace].Metrics {
		if pm.Name == metric {
			return pm, true
		}
	}
	return PublishedMetric{}, false
}
