package tenantdb

import (
	"sort"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// gatherer merges the per-workspace registries into one set of metric
// families, adding a "workspace" label to every series.
type gatherer struct{ m *Manager }

func (g gatherer) Gather() ([]*dto.MetricFamily, error) {
	g.m.mu.RLock()
	regs := make(map[string]*tenant, len(g.m.dbs))
	for ws, t := range g.m.dbs {
		regs[ws] = t
	}
	g.m.mu.RUnlock()

	byName := map[string]*dto.MetricFamily{}
	var errs []error
	for ws, t := range regs {
		mfs, err := t.reg.Gather()
		if err != nil {
			errs = append(errs, err)
		}
		for _, mf := range mfs {
			merged, ok := byName[mf.GetName()]
			if !ok {
				merged = &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Unit: mf.Unit}
				byName[mf.GetName()] = merged
			}
			for _, m := range mf.Metric {
				m.Label = append(m.Label, &dto.LabelPair{Name: proto.String("workspace"), Value: proto.String(ws)})
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
	if len(errs) > 0 {
		return out, errs[0]
	}
	return out, nil
}
