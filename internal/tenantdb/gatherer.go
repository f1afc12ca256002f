package tenantdb

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/kansoku/kansoku/internal/telemetry"
)

// gatherer merges the per-workspace TSDB registries into one set of metric
// families, adding a "workspace" label to every series.
type gatherer struct{ m *Manager }

func (g gatherer) Gather() ([]*dto.MetricFamily, error) {
	g.m.mu.RLock()
	gs := make(map[string]prometheus.Gatherer, len(g.m.dbs))
	for ws, t := range g.m.dbs {
		gs[ws] = t.reg
	}
	g.m.mu.RUnlock()
	return telemetry.MergeByWorkspace(gs)
}
