// Package limits holds the per-workspace limits (AMP's service quotas and
// ingestion rules) with their defaults, and answers "what is the limit of
// workspace X" for every consumer. Defaults come from the configuration; a
// workspace may override any of them at runtime.
package limits

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/common/model"
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
}

// Defaults returns AMP's default quotas (seed 001, "Service Quotas").
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
	}
}

// Validate rejects impossible values.
func (l Limits) Validate() error {
	switch {
	case l.IngestionRate <= 0:
		return fmt.Errorf("ingestion_rate must be positive")
	case l.IngestionBurstSize <= 0:
		return fmt.Errorf("ingestion_burst_size must be positive")
	case l.MaxLabelNamesPerSeries <= 0:
		return fmt.Errorf("max_label_names_per_series must be positive")
	case l.MaxRequestBytes <= 0:
		return fmt.Errorf("max_request_bytes must be positive")
	case l.MaxSampleAge < 0:
		return fmt.Errorf("max_sample_age must not be negative")
	case l.NotificationRate < 0:
		return fmt.Errorf("notification_rate must not be negative")
	case l.RetentionDays < 1:
		return fmt.Errorf("retention_days must be at least 1")
	case l.AcceptHASamples && (l.HAClusterLabel == "" || l.HAReplicaLabel == ""):
		return fmt.Errorf("ha_cluster_label and ha_replica_label must be set when accept_ha_samples is on")
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
