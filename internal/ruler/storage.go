package ruler

import (
	"context"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"

	"github.com/kansoku/kansoku/internal/limits"
)

type modelValidationScheme = model.ValidationScheme

func modelValidation(lim *limits.Limits) model.ValidationScheme {
	if lim.AllowUTF8Names {
		return model.UTF8Validation
	}
	return model.LegacyValidation
}

func modelDuration(d time.Duration) model.Duration { return model.Duration(d) }

// appendable writes rule output into one workspace's TSDB, through the
// workspace's active-series limit (the TSDB's series hooks).
type appendable struct {
	st Storage
	ws string
}

func (a appendable) Appender(ctx context.Context) storage.Appender {
	app, err := a.st.Appender(ctx, a.ws)
	if err != nil {
		return errAppender{err: err}
	}
	return app
}

// workspaceQueryable reads one workspace's TSDB (alert state restore).
type workspaceQueryable struct {
	st Storage
	ws string
}

func (q workspaceQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return q.st.Querier(q.ws, mint, maxt)
}

// errAppender fails every call: the workspace's storage is not open.
type errAppender struct{ err error }

func (e errAppender) Append(storage.SeriesRef, labels.Labels, int64, float64) (storage.SeriesRef, error) {
	return 0, e.err
}
func (e errAppender) AppendExemplar(storage.SeriesRef, labels.Labels, exemplar.Exemplar) (storage.SeriesRef, error) {
	return 0, e.err
}
func (e errAppender) AppendHistogram(storage.SeriesRef, labels.Labels, int64, *histogram.Histogram, *histogram.FloatHistogram) (storage.SeriesRef, error) {
	return 0, e.err
}
func (e errAppender) AppendHistogramSTZeroSample(storage.SeriesRef, labels.Labels, int64, int64, *histogram.Histogram, *histogram.FloatHistogram) (storage.SeriesRef, error) {
	return 0, e.err
}
func (e errAppender) UpdateMetadata(storage.SeriesRef, labels.Labels, metadata.Metadata) (storage.SeriesRef, error) {
	return 0, e.err
}
func (e errAppender) AppendSTZeroSample(storage.SeriesRef, labels.Labels, int64, int64) (storage.SeriesRef, error) {
	return 0, e.err
}
func (e errAppender) SetOptions(*storage.AppendOptions) {}
func (e errAppender) Commit() error                     { return e.err }
func (e errAppender) Rollback() error                   { return nil }
