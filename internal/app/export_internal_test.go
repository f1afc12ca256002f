package app

import (
	"context"

	"github.com/kansoku/kansoku/internal/alertmanager"
	"github.com/kansoku/kansoku/internal/api"
	"github.com/kansoku/kansoku/internal/audit"
	"github.com/kansoku/kansoku/internal/hosts"
	"github.com/kansoku/kansoku/internal/ingest"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/ruler"
	"github.com/kansoku/kansoku/internal/telemetry"
	"github.com/kansoku/kansoku/internal/usage"
	"github.com/kansoku/kansoku/internal/wslog"
)

// AddTestLoop adds a background loop, for tests of the run group.
func (a *App) AddTestLoop(name string, run func(context.Context) error) {
	a.extraLoops = append(a.extraLoops, loop{name, run})
}

// What tests reach into: the route table, and components whose state a
// test checks or whose work it triggers now instead of waiting for a loop.

func (a *App) API() *api.Server                    { return a.api }
func (a *App) Meta() *metastore.DB                 { return a.meta }
func (a *App) Ruler() *ruler.Ruler                 { return a.ruler }
func (a *App) Alertmanager() *alertmanager.Manager { return a.alertmanager }
func (a *App) Usage() *usage.Tracker               { return a.usage }
func (a *App) Logging() *wslog.Service             { return a.logging }
func (a *App) Audit() *audit.Recorder              { return a.audit }
func (a *App) Hosts() *hosts.Service               { return a.hosts }
func (a *App) Distributor() *ingest.Distributor    { return a.distributor }

// AlertmanagerMetric sums a metric of workspace ws's Alertmanager over its
// series whose label has value (label "": all of them). Tests wait on
// these counters, the Alertmanager's own account of what its timers did,
// instead of sleeping through group_wait and group_interval.
func (a *App) AlertmanagerMetric(ws, name, label, value string) float64 {
	mfs, err := a.alertmanager.Gatherer().Gather()
	if err != nil {
		return 0
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			inWorkspace := false
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case telemetry.WorkspaceLabel:
					inWorkspace = l.GetValue() == ws
				case label:
					match = l.GetValue() == value
				}
			}
			if !inWorkspace || !match {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}
