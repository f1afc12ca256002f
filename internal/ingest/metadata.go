package ingest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
)

// MetadataStore persists metric metadata.
type MetadataStore interface {
	UpsertMetricMetadata(ctx context.Context, workspaceID string, entries []metastore.MetricMetadata, at time.Time) error
	ListMetricMetadata(ctx context.Context, workspaceID, metric string) ([]metastore.MetricMetadata, error)
}

// metadataWriter stores remote_write metadata, skipping entries it stored
// recently: Prometheus resends all metadata every minute.
type metadataWriter struct {
	store MetadataStore

	mu   sync.Mutex
	seen map[string]map[metastore.MetricMetadata]time.Time // workspace -> entry -> last stored
}

const metadataRefresh = time.Hour

func newMetadataWriter(s MetadataStore) *metadataWriter {
	return &metadataWriter{store: s, seen: map[string]map[metastore.MetricMetadata]time.Time{}}
}

func metricTypeName(t prompb.MetricMetadata_MetricType) string {
	return strings.ToLower(prompb.MetricMetadata_MetricType_name[int32(t)])
}

// load reads what a workspace already stored, so that the metadata quotas
// (metrics with metadata, metadata per metric) count it after a restart
// instead of starting again from zero.
func (w *metadataWriter) load(ctx context.Context, ws string) error {
	w.mu.Lock()
	_, ok := w.seen[ws]
	w.mu.Unlock()
	if ok {
		return nil
	}
	stored, err := w.store.ListMetricMetadata(ctx, ws, "")
	if err != nil {
		return fmt.Errorf("read stored metadata: %w", err)
	}
	seen := make(map[metastore.MetricMetadata]time.Time, len(stored))
	for _, e := range stored {
		seen[e] = time.Time{} // stored, but refreshed when seen again
	}
	w.mu.Lock()
	if _, ok := w.seen[ws]; !ok {
		w.seen[ws] = seen
	}
	w.mu.Unlock()
	return nil
}

func (w *metadataWriter) write(ctx context.Context, ws string, md []prompb.MetricMetadata, lim *limits.Limits, now time.Time) error {
	if err := w.load(ctx, ws); err != nil {
		return err
	}
	w.mu.Lock()
	seen := w.seen[ws]
	if seen == nil { // forgotten meanwhile (the workspace was deleted)
		seen = map[metastore.MetricMetadata]time.Time{}
		w.seen[ws] = seen
	}
	perMetric := map[string]int{}
	for e := range seen {
		perMetric[e.Metric]++
	}
	var fresh []metastore.MetricMetadata
	var firstErr *Error
	for _, m := range md {
		e := metastore.MetricMetadata{Metric: m.MetricFamilyName, Type: metricTypeName(m.Type), Help: m.Help, Unit: m.Unit}
		switch {
		case e.Metric == "":
			if firstErr == nil {
				firstErr = badData(ReasonMissingMetricName, "received metadata has no metric name")
			}
			continue
		case lim.MaxMetadataLength > 0 && (len(e.Metric) > lim.MaxMetadataLength || len(e.Help) > lim.MaxMetadataLength || len(e.Unit) > lim.MaxMetadataLength):
			if firstErr == nil {
				firstErr = badData(ReasonMetadataInvalid, "received metadata for %s longer than the limit of %d bytes", trunc(e.Metric, 200), lim.MaxMetadataLength)
			}
			continue
		}
		last, known := seen[e]
		if known && now.Sub(last) < metadataRefresh {
			continue
		}
		if !known {
			if lim.MaxMetadataPerMetric > 0 && perMetric[e.Metric] >= lim.MaxMetadataPerMetric {
				continue // AMP drops over-limit metadata and keeps the samples
			}
			if lim.MaxMetricsWithMetadata > 0 && perMetric[e.Metric] == 0 && len(perMetric) >= lim.MaxMetricsWithMetadata {
				continue
			}
			perMetric[e.Metric]++
		}
		seen[e] = now
		fresh = append(fresh, e)
	}
	w.mu.Unlock()
	if len(fresh) > 0 {
		if err := w.store.UpsertMetricMetadata(ctx, ws, fresh, now); err != nil {
			w.mu.Lock()
			for _, e := range fresh {
				delete(w.seen[ws], e)
			}
			w.mu.Unlock()
			return fmt.Errorf("store metadata: %w", err)
		}
	}
	if firstErr != nil {
		return firstErr
	}
	return nil
}

func (w *metadataWriter) forget(ws string) {
	w.mu.Lock()
	delete(w.seen, ws)
	w.mu.Unlock()
}

// ForgetWorkspace drops a deleted workspace's in-memory state.
func (d *Distributor) ForgetWorkspace(ws string) {
	d.metadata.forget(ws)
	d.metrics.Forget(ws)
	d.rate.forget(ws)
	if d.ha != nil {
		d.ha.forget(ws)
	}
}
