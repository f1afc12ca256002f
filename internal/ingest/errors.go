package ingest

import (
	"fmt"
	"net/http"
)

// Discard reasons, named as AMP's DiscardedSamples metric names them (seed
// 001, "CloudWatch メトリクス"), plus the ones Mimir adds.
const (
	ReasonMaxSampleAge      = "greater_than_max_sample_age"
	ReasonNewValueForTS     = "new-value-for-timestamp"
	ReasonPerMetricSeries   = "per_metric_series_limit"
	ReasonPerUserSeries     = "per_user_series_limit"
	ReasonRateLimited       = "rate_limited"
	ReasonOutOfOrder        = "sample-out-of-order"
	ReasonLabelValueTooLong = "label_value_too_long"
	ReasonMaxLabelNames     = "max_label_names_per_series"
	ReasonMissingMetricName = "missing_metric_name"
	ReasonMetricNameInvalid = "metric_name_invalid"
	ReasonLabelInvalid      = "label_invalid"
	ReasonDuplicateLabels   = "duplicate_label_names"
	ReasonLabelNameTooLong  = "label_name_too_long"
	ReasonLabelsTooLarge    = "labels_size_too_large"
	ReasonTooFarInFuture    = "too_far_in_future"
	ReasonTooManyHAClusters = "too_many_ha_clusters"
	ReasonMetadataInvalid   = "metadata_invalid"
)

// Error is a push failure with the HTTP status a remote_write client must
// see: 4xx (but 429) are not retried by Prometheus, 429 and 5xx are.
type Error struct {
	Status int
	Reason string // discard reason, when samples were dropped
	Msg    string
	// RetryAfter, in seconds, is sent as Retry-After when set.
	RetryAfter int
}

func (e *Error) Error() string { return e.Msg }

func badData(reason, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Reason: reason, Msg: fmt.Sprintf(format, args...)}
}
