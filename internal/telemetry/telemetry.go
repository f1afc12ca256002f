// Package telemetry keeps one Prometheus registry per workspace for the
// components that run per workspace (TSDB, ruler, Alertmanager), and
// exposes them all on the server's /metrics with a "workspace" label, the
// way Cortex aggregates its per-tenant registries.
package telemetry

import (
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// WorkspaceLabel is the label added to every per-workspace series.
const WorkspaceLabel = "workspace"

// Registries holds a registry per workspace. The zero value is not usable;
// use NewRegistries.
type Registries struct {
	mu   sync.RWMutex
	regs map[string]*prometheus.Registry
}

// NewRegistries returns an empty set.
func NewRegistries() *Registries {
	return &Registries{regs: map[string]*prometheus.Registry{}}
}

// Replace installs a fresh registry for ws (dropping the previous one and
// its series) and returns it. Components call it when they (re)build their
// per-workspace state, so that re-registering the same metrics never
// collides.
func (r *Registries) Replace(ws string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	r.mu.Lock()
	r.regs[ws] = reg
	r.mu.Unlock()
	return reg
}

// Remove drops ws's registry.
func (r *Registries) Remove(ws string) {
	r.mu.Lock()
	delete(r.regs, ws)
	r.mu.Unlock()
}

// Get returns ws's registry, if any.
func (r *Registries) Get(ws string) (*prometheus.Registry, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	reg, ok := r.regs[ws]
	return reg, ok
}

// Gather implements prometheus.Gatherer over every workspace.
func (r *Registries) Gather() ([]*dto.MetricFamily, error) {
	r.mu.RLock()
	gs := make(map[string]prometheus.Gatherer, len(r.regs))
	for ws, reg := range r.regs {
		gs[ws] = reg
	}
	r.mu.RUnlock()
	return MergeByWorkspace(gs)
}

// MergeByWorkspace gathers each workspace's metrics and merges them into
// one set of families, adding the workspace label to every series.
func MergeByWorkspace(gs map[string]prometheus.Gatherer) ([]*dto.MetricFamily, error) {
	byName := map[string]*dto.MetricFamily{}
	var firstErr error
	for ws, g := range gs {
		mfs, err := g.Gather()
		if err != nil && firstErr == nil {
			firstErr = err
		}
		for _, mf := range mfs {
			merged, ok := byName[mf.GetName()]
			if !ok {
				merged = &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Unit: mf.Unit}
				byName[mf.GetName()] = merged
			}
			for _, m := range mf.Metric {
				m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(WorkspaceLabel), Value: proto.String(ws)})
				sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
				merged.Metric = append(merged.Metric, m)
			}
		}
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, mf := range byName {
		out = append(out, mf)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out, firstErr
}

// Families is the result of one Gather, indexed by family name, so that
// several figures (a usage report) read one scrape instead of one each.
type Families map[string]*dto.MetricFamily

// GatherFamilies gathers g once. A partial gather (some collectors failed)
// still yields what it returned.
func GatherFamilies(g prometheus.Gatherer) Families {
	mfs, _ := g.Gather()
	out := make(Families, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// Sum returns the sum of all series of the named counter or gauge family,
// optionally only those whose label `label` equals `value` (label "" for
// all).
func (f Families) Sum(family, label, value string) float64 {
	mf, ok := f[family]
	if !ok {
		return 0
	}
	total := 0.0
	for _, m := range mf.Metric {
		if label != "" && !hasLabel(m, label, value) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	return total
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue() == value
		}
	}
	return false
}
