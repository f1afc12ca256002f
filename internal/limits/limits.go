// Package limits holds the per-workspace limits (AMP's service quotas and
// ingestion rules) with their defaults, and answers "what is the limit of
// workspace X" for every consumer. Defaults come from the configuration; a
// workspace may override any of them at runtime.
package limits

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kansoku/kansoku/internal/cliflag"
)

// Limits is one complete set of limits. Zero means "no limit" where noted.
type Limits struct {
	// Ingestion (remote_write and the AWS integration).
	IngestionRate           float64        `yaml:"ingestion_rate" json:"ingestion_rate"`                         // samples/s; token bucket refill
	IngestionBurstSize      int            `yaml:"ingestion_burst_size" json:"ingestion_burst_size"`             // token bucket size
	MaxActiveSeries         int            `yaml:"max_active_series" json:"max_active_series"`                   // per workspace
	MinActiveSeriesCapacity int            `yaml:"min_active_series_capacity" json:"min_active_series_capacity"` // adaptive floor
	MaxSeriesPerMetric      int            `yaml:"max_series_per_metric" json:"max_series_per_metric"`           // 0: off
	MaxLabelNamesPerSeries  int            `yaml:"max_label_names_per_series" json:"max_label_names_per_series"`
	MaxLabelNameLength      int            `yaml:"max_label_name_length" json:"max_label_name_length"`
	MaxLabelValueLength     int            `yaml:"max_label_value_length" json:"max_label_value_length"`
	MaxLabelsSizeBytes      int            `yaml:"max_labels_size_bytes" json:"max_labels_size_bytes"` // all names+values of a series
	MaxMetadataLength       int            `yaml:"max_metadata_length" json:"max_metadata_length"`
	MaxMetadataPerMetric    int            `yaml:"max_metadata_per_metric" json:"max_metadata_per_metric"`
	MaxMetricsWithMetadata  int            `yaml:"max_metrics_with_metadata" json:"max_metrics_with_metadata"`
	MaxSampleAge            model.Duration `yaml:"max_sample_age" json:"max_sample_age"`
	CreationGracePeriod     model.Duration `yaml:"creation_grace_period" json:"creation_grace_period"` // how far in the future
	MaxRequestBytes         int            `yaml:"max_request_bytes" json:"max_request_bytes"`
	AcceptHASamples         bool           `yaml:"accept_ha_samples" json:"accept_ha_samples"`
	HAClusterLabel          string         `yaml:"ha_cluster_label" json:"ha_cluster_label"`
	HAReplicaLabel          string         `yaml:"ha_replica_label" json:"ha_replica_label"`
	HAMaxClusters           int            `yaml:"ha_max_clusters" json:"ha_max_clusters"`
	HAFailoverTimeout       model.Duration `yaml:"ha_failover_timeout" json:"ha_failover_timeout"`
	AllowUTF8Names          bool           `yaml:"allow_utf8_names" json:"allow_utf8_names"`

	// Query.
	MaxQueryLength     model.Duration `yaml:"max_query_length" json:"max_query_length"`
	MaxSamplesPerQuery int            `yaml:"max_samples_per_query" json:"max_samples_per_query"`
	MaxSeriesPerQuery  int            `yaml:"max_fetched_series_per_query" json:"max_fetched_series_per_query"`
	MaxChunksPerQuery  int            `yaml:"max_fetched_chunks_per_query" json:"max_fetched_chunks_per_query"`
	MaxBytesPerQuery   int64          `yaml:"max_fetched_chunk_bytes_per_query" json:"max_fetched_chunk_bytes_per_query"`
	QueryTimeout       model.Duration `yaml:"query_timeout" json:"query_timeout"`
	// Query cost, checked before a query runs (see package query).
	MaxQueryExpressionBytes int   `yaml:"max_query_expression_bytes" json:"max_query_expression_bytes"` // PromQL text
	MaxQueryExpressionSize  int   `yaml:"max_query_expression_size" json:"max_query_expression_size"`   // lexer tokens
	MaxQueryExpressionDepth int   `yaml:"max_query_expression_depth" json:"max_query_expression_depth"` // nesting
	MaxSubquerySteps        int64 `yaml:"max_subquery_steps" json:"max_subquery_steps"`                 // summed over a query's subqueries
	MaxConcurrentQueries    int   `yaml:"max_concurrent_queries" json:"max_concurrent_queries"`         // query API requests running at once
	MaxQueuedQueries        int   `yaml:"max_queued_queries" json:"max_queued_queries"`                 // waiting for a slot; more get 429

	// Storage, rules and alerting.
	RetentionDays          int            `yaml:"retention_days" json:"retention_days"`
	MaxRulesPerWorkspace   int            `yaml:"max_rules_per_workspace" json:"max_rules_per_workspace"`
	MinEvaluationInterval  model.Duration `yaml:"min_evaluation_interval" json:"min_evaluation_interval"`
	MaxAlerts              int            `yaml:"max_alerts" json:"max_alerts"`
	MaxAlertsSizeBytes     int            `yaml:"max_alerts_size_bytes" json:"max_alerts_size_bytes"`
	MaxAggregationGroups   int            `yaml:"max_aggregation_groups" json:"max_aggregation_groups"`
	MaxTemplates           int            `yaml:"max_templates" json:"max_templates"`
	MaxInhibitRules        int            `yaml:"max_inhibit_rules" json:"max_inhibit_rules"`
	MaxRouteNodes          int            `yaml:"max_route_nodes" json:"max_route_nodes"`
	MaxDefinitionSizeBytes int            `yaml:"max_definition_size_bytes" json:"max_definition_size_bytes"`
	MaxSilences            int            `yaml:"max_silences" json:"max_silences"`                       // including expired ones kept for retention; 0: no limit
	MaxSilenceSizeBytes    int            `yaml:"max_silence_size_bytes" json:"max_silence_size_bytes"`   // 0: no limit
	NotificationRate       float64        `yaml:"notification_rate" json:"notification_rate"`             // notifications/s across receivers; 0: no limit
	NotificationBurstSize  int            `yaml:"notification_burst_size" json:"notification_burst_size"` // token bucket size
	// Templates a tenant wrote (notification templates, alerting rules'
	// labels and annotations): what one notification, or one evaluation of
	// an alerting rule, may produce and spend.
	MaxTemplateOutputBytes int `yaml:"max_template_output_bytes" json:"max_template_output_bytes"`
	MaxTemplateSteps       int `yaml:"max_template_steps" json:"max_template_steps"`
	MaxTemplateBytes       int `yaml:"max_template_bytes" json:"max_template_bytes"` // one rule label or annotation's template text
}

// Defaults returns AMP's default quotas
// (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP_quotas.html).
func Defaults() Limits {
	return Limits{
		IngestionRate:           170000,
		IngestionBurstSize:      1000000,
		MaxActiveSeries:         10000000,
		MinActiveSeriesCapacity: 2000000,
		MaxSeriesPerMetric:      0,
		MaxLabelNamesPerSeries:  70,
		MaxLabelNameLength:      1024,
		MaxLabelValueLength:     2048,
		MaxLabelsSizeBytes:      7 * 1024,
		MaxMetadataLength:       1024,
		MaxMetadataPerMetric:    10,
		MaxMetricsWithMetadata:  20000,
		MaxSampleAge:            model.Duration(time.Hour),
		CreationGracePeriod:     model.Duration(10 * time.Minute),
		MaxRequestBytes:         1 << 20,
		AcceptHASamples:         true,
		HAClusterLabel:          "cluster",
		HAReplicaLabel:          "__replica__",
		HAMaxClusters:           500,
		HAFailoverTimeout:       model.Duration(30 * time.Second),

		MaxQueryLength:     model.Duration(32 * 24 * time.Hour),
		MaxSamplesPerQuery: 50000000,
		MaxSeriesPerQuery:  12000000,
		MaxChunksPerQuery:  20000000,
		MaxBytesPerQuery:   5 << 30,
		QueryTimeout:       model.Duration(2 * time.Minute),

		MaxQueryExpressionBytes: 128 << 10,
		MaxQueryExpressionSize:  10000,
		MaxQueryExpressionDepth: 1000,
		MaxSubquerySteps:        1000000,
		MaxConcurrentQueries:    10,
		MaxQueuedQueries:        100,

		RetentionDays:          150,
		MaxRulesPerWorkspace:   2000,
		MinEvaluationInterval:  model.Duration(30 * time.Second),
		MaxAlerts:              1000,
		MaxAlertsSizeBytes:     20 << 20,
		MaxAggregationGroups:   1000,
		MaxTemplates:           100,
		MaxInhibitRules:        100,
		MaxRouteNodes:          100,
		MaxDefinitionSizeBytes: 1 << 20,
		MaxSilences:            10000,
		MaxSilenceSizeBytes:    64 << 10,
		NotificationRate:       0,
		NotificationBurstSize:  10,
		MaxTemplateOutputBytes: 4 << 20,
		MaxTemplateSteps:       1000000,
		MaxTemplateBytes:       64 << 10,
	}
}

// Bounds no override may leave: beyond them a value is a mistake or an
// attempt to take the server's memory or CPU.
const (
	maxCount    = 1_000_000_000 // series, samples, chunks, rules ...
	maxBytes    = 1 << 40       // bytes fetched per query
	maxBodySize = 16 << 20      // the server's hard cap on a remote_write body
	maxDefSize  = 3 << 20       // an Alertmanager definition, inside the 4 MiB control-plane body
	maxExprSize = 1 << 20       // the query API's request size
)

// Validate rejects impossible or unbounded values, naming the key, the
// value and the range.
func (l Limits) Validate() error {
	var errs []string
	intIn := func(key string, v, lo, hi int64) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Sprintf("%s must be between %d and %d, not %d", key, lo, hi, v))
		}
	}
	floatIn := func(key string, v, lo, hi float64) {
		if !(v >= lo && v <= hi) { // also refuses NaN
			errs = append(errs, fmt.Sprintf("%s must be between %g and %g, not %g", key, lo, hi, v))
		}
	}
	durIn := func(key string, v model.Duration, lo, hi time.Duration) {
		if time.Duration(v) < lo || time.Duration(v) > hi {
			errs = append(errs, fmt.Sprintf("%s must be between %s and %s, not %s", key, model.Duration(lo), model.Duration(hi), v))
		}
	}
	const day = 24 * time.Hour
	floatIn("ingestion_rate", l.IngestionRate, 1, maxCount)
	intIn("ingestion_burst_size", int64(l.IngestionBurstSize), 1, maxCount)
	intIn("max_active_series", int64(l.MaxActiveSeries), 1, maxCount)
	intIn("min_active_series_capacity", int64(l.MinActiveSeriesCapacity), 0, maxCount)
	intIn("max_series_per_metric", int64(l.MaxSeriesPerMetric), 0, maxCount)
	intIn("max_label_names_per_series", int64(l.MaxLabelNamesPerSeries), 1, 1000)
	intIn("max_label_name_length", int64(l.MaxLabelNameLength), 1, 64<<10)
	intIn("max_label_value_length", int64(l.MaxLabelValueLength), 1, 1<<20)
	intIn("max_labels_size_bytes", int64(l.MaxLabelsSizeBytes), 1, 1<<20)
	intIn("max_metadata_length", int64(l.MaxMetadataLength), 1, 64<<10)
	intIn("max_metadata_per_metric", int64(l.MaxMetadataPerMetric), 0, 1000)
	intIn("max_metrics_with_metadata", int64(l.MaxMetricsWithMetadata), 0, maxCount)
	durIn("max_sample_age", l.MaxSampleAge, 0, 3650*day)
	durIn("creation_grace_period", l.CreationGracePeriod, 0, 365*day)
	intIn("max_request_bytes", int64(l.MaxRequestBytes), 1<<10, maxBodySize)
	intIn("ha_max_clusters", int64(l.HAMaxClusters), 0, 1_000_000)
	durIn("ha_failover_timeout", l.HAFailoverTimeout, time.Second, day)

	durIn("max_query_length", l.MaxQueryLength, time.Minute, 3650*day)
	intIn("max_samples_per_query", int64(l.MaxSamplesPerQuery), 1, maxCount)
	intIn("max_fetched_series_per_query", int64(l.MaxSeriesPerQuery), 0, maxCount)
	intIn("max_fetched_chunks_per_query", int64(l.MaxChunksPerQuery), 0, maxCount)
	intIn("max_fetched_chunk_bytes_per_query", l.MaxBytesPerQuery, 0, maxBytes)
	durIn("query_timeout", l.QueryTimeout, time.Second, 30*time.Minute)
	intIn("max_query_expression_bytes", int64(l.MaxQueryExpressionBytes), 1, maxExprSize)
	intIn("max_query_expression_size", int64(l.MaxQueryExpressionSize), 1, 1_000_000)
	intIn("max_query_expression_depth", int64(l.MaxQueryExpressionDepth), 1, 100_000)
	intIn("max_subquery_steps", l.MaxSubquerySteps, 1, 100_000_000)
	intIn("max_concurrent_queries", int64(l.MaxConcurrentQueries), 1, 10_000)
	intIn("max_queued_queries", int64(l.MaxQueuedQueries), 0, 100_000)

	intIn("retention_days", int64(l.RetentionDays), 1, 36500)
	intIn("max_rules_per_workspace", int64(l.MaxRulesPerWorkspace), 0, 1_000_000)
	durIn("min_evaluation_interval", l.MinEvaluationInterval, time.Second, day)
	intIn("max_alerts", int64(l.MaxAlerts), 0, 10_000_000)
	intIn("max_alerts_size_bytes", int64(l.MaxAlertsSizeBytes), 0, 1<<30)
	intIn("max_aggregation_groups", int64(l.MaxAggregationGroups), 0, 10_000_000)
	intIn("max_templates", int64(l.MaxTemplates), 0, 10_000)
	intIn("max_inhibit_rules", int64(l.MaxInhibitRules), 0, 100_000)
	intIn("max_route_nodes", int64(l.MaxRouteNodes), 0, 100_000)
	intIn("max_definition_size_bytes", int64(l.MaxDefinitionSizeBytes), 1, maxDefSize)
	intIn("max_silences", int64(l.MaxSilences), 0, 10_000_000)
	intIn("max_silence_size_bytes", int64(l.MaxSilenceSizeBytes), 0, 1<<20)
	floatIn("notification_rate", l.NotificationRate, 0, 1_000_000)
	intIn("notification_burst_size", int64(l.NotificationBurstSize), 1, 1_000_000)
	intIn("max_template_output_bytes", int64(l.MaxTemplateOutputBytes), 1<<10, 64<<20)
	intIn("max_template_steps", int64(l.MaxTemplateSteps), 1000, 100_000_000)
	intIn("max_template_bytes", int64(l.MaxTemplateBytes), 1<<10, 1<<20)
	if l.AcceptHASamples && (l.HAClusterLabel == "" || l.HAReplicaLabel == "") {
		errs = append(errs, "ha_cluster_label and ha_replica_label must be set when accept_ha_samples is on")
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// Overrides answers the limits of each workspace: its own set if it has one,
// the defaults otherwise. It is safe for concurrent use; Set takes effect
// for the next request.
type Overrides struct {
	mu        sync.RWMutex
	defaults  Limits
	workspace map[string]*Limits
	// reload, set by the Service persisting them, reads one workspace's
	// limits from the store into these (Current).
	reload func(ctx context.Context, ws string) error
}

// NewOverrides returns overrides with the given defaults.
func NewOverrides(defaults Limits) *Overrides {
	return &Overrides{defaults: defaults, workspace: map[string]*Limits{}}
}

// For returns the limits of a workspace. The result must not be modified.
func (o *Overrides) For(ws string) *Limits {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if l, ok := o.workspace[ws]; ok {
		return l
	}
	return &o.defaults
}

// Current returns the limits of a workspace as stored, re-reading them
// first when a Service persists these overrides: for validating a
// control-plane upload, which must not be judged by a limit another node
// has already changed (For may be a reload period behind). The result must
// not be modified.
func (o *Overrides) Current(ctx context.Context, ws string) (*Limits, error) {
	o.mu.RLock()
	reload := o.reload
	o.mu.RUnlock()
	if reload != nil {
		if err := reload(ctx, ws); err != nil {
			return nil, err
		}
	}
	return o.For(ws), nil
}

// Defaults returns the default limits.
func (o *Overrides) Defaults() Limits {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.defaults
}

// Set replaces a workspace's limits (nil: back to the defaults).
func (o *Overrides) Set(ws string, l *Limits) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if l == nil {
		delete(o.workspace, ws)
		return
	}
	cp := *l
	o.workspace[ws] = &cp
}

// HasOverride reports whether a workspace has its own limits.
func (o *Overrides) HasOverride(ws string) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	_, ok := o.workspace[ws]
	return ok
}

// RegisterFlags binds the flags of the default limits.
func (l *Limits) RegisterFlags(f *cliflag.Flags) {
	f.Int("workspace.retention-days", "Default retention of a workspace's samples (AMP: 150).", &l.RetentionDays)
}
