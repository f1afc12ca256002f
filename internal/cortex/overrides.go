package cortex

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
)

// TenantLimits are the Cortex per-tenant limits Kansoku sets for a
// workspace, named as Cortex's runtime configuration names them (Cortex's
// docs, "Configuration file reference", limits_config). Zero values are
// left out, so Cortex's defaults apply.
type TenantLimits struct {
	IngestionRate               float64        `yaml:"ingestion_rate,omitempty"`
	IngestionBurstSize          int            `yaml:"ingestion_burst_size,omitempty"`
	MaxLabelNamesPerSeries      int            `yaml:"max_label_names_per_series,omitempty"`
	MaxLabelNameLength          int            `yaml:"max_label_name_length,omitempty"`
	MaxLabelValueLength         int            `yaml:"max_label_value_length,omitempty"`
	MaxLabelsSizeBytes          int            `yaml:"max_labels_size_bytes,omitempty"`
	MaxMetadataLength           int            `yaml:"max_metadata_length,omitempty"`
	RejectOldSamples            bool           `yaml:"reject_old_samples,omitempty"`
	RejectOldSamplesMaxAge      model.Duration `yaml:"reject_old_samples_max_age,omitempty"`
	CreationGracePeriod         model.Duration `yaml:"creation_grace_period,omitempty"`
	MaxGlobalSeriesPerUser      int            `yaml:"max_global_series_per_user,omitempty"`
	MaxGlobalSeriesPerMetric    int            `yaml:"max_global_series_per_metric,omitempty"`
	MaxFetchedSeriesPerQuery    int            `yaml:"max_fetched_series_per_query,omitempty"`
	MaxFetchedChunksPerQuery    int            `yaml:"max_fetched_chunks_per_query,omitempty"`
	MaxFetchedChunkBytesPerQry  int64          `yaml:"max_fetched_chunk_bytes_per_query,omitempty"`
	MaxQueryLength              model.Duration `yaml:"max_query_length,omitempty"`
	CompactorBlocksRetentionPer model.Duration `yaml:"compactor_blocks_retention_period,omitempty"`
	EnableNativeHistograms      bool           `yaml:"enable_native_histograms,omitempty"`
	// LimitsPerLabelSet is the workspace's limitsPerLabelSet
	// (UpdateWorkspaceConfiguration) as Cortex's limits_per_label_set.
	LimitsPerLabelSet []LabelSetLimit `yaml:"limits_per_label_set,omitempty"`
}

// LabelSetLimit is one entry of Cortex's limits_per_label_set: the
// active series carrying every label of LabelSet are at most
// Limits.MaxSeries (0: counted, not limited).
type LabelSetLimit struct {
	Limits   LabelSetLimitEntry `yaml:"limits"`
	LabelSet map[string]string  `yaml:"label_set"`
}

// LabelSetLimitEntry is the limits of one label set.
type LabelSetLimitEntry struct {
	MaxSeries int64 `yaml:"max_series"`
}

// LabelSetLimitsFor translates a workspace's label-set limits into
// Cortex's (never nil: an empty list says the workspace has none).
func LabelSetLimitsFor(sets []metastore.LabelSetLimit) []LabelSetLimit {
	out := make([]LabelSetLimit, 0, len(sets))
	for _, s := range sets {
		out = append(out, LabelSetLimit{Limits: LabelSetLimitEntry{MaxSeries: s.MaxSeries}, LabelSet: s.LabelSet})
	}
	return out
}

// LimitsFor translates a workspace's limits into Cortex's. activeSeries is
// the workspace's current active-series limit (AMP's adaptive one), 0 for
// the configured maximum.
func LimitsFor(l *limits.Limits, activeSeries int) TenantLimits {
	t := TenantLimits{
		IngestionRate:              l.IngestionRate,
		IngestionBurstSize:         l.IngestionBurstSize,
		MaxLabelNamesPerSeries:     l.MaxLabelNamesPerSeries,
		MaxLabelNameLength:         l.MaxLabelNameLength,
		MaxLabelValueLength:        l.MaxLabelValueLength,
		MaxLabelsSizeBytes:         l.MaxLabelsSizeBytes,
		MaxMetadataLength:          l.MaxMetadataLength,
		CreationGracePeriod:        l.CreationGracePeriod,
		MaxGlobalSeriesPerUser:     l.MaxActiveSeries,
		MaxGlobalSeriesPerMetric:   l.MaxSeriesPerMetric,
		MaxFetchedSeriesPerQuery:   l.MaxSeriesPerQuery,
		MaxFetchedChunksPerQuery:   l.MaxChunksPerQuery,
		MaxFetchedChunkBytesPerQry: l.MaxBytesPerQuery,
		MaxQueryLength:             l.MaxQueryLength,
		EnableNativeHistograms:     true,
	}
	if activeSeries > 0 {
		t.MaxGlobalSeriesPerUser = activeSeries
	}
	if l.MaxSampleAge > 0 {
		t.RejectOldSamples, t.RejectOldSamplesMaxAge = true, l.MaxSampleAge
	}
	if l.RetentionDays > 0 {
		t.CompactorBlocksRetentionPer = model.Duration(time.Duration(l.RetentionDays) * 24 * time.Hour)
	}
	return t
}

// Days renders a retention in days as Cortex's duration (0: keep forever).
func Days(n int) model.Duration { return model.Duration(time.Duration(n) * 24 * time.Hour) }

// Overrides is Cortex's runtime configuration file as Kansoku keeps it:
// one entry per workspace. Every change rewrites the file atomically
// (temporary file, fsync, rename), so Cortex, which reloads it every
// runtime_config.period, never reads half a file. Every node of a cluster
// writes the same file (the maintenance lease holder's sync, and the node
// that opens a workspace or changes its retention), so each change starts
// from the file as it is now, not from what this process last saw: a node
// that had not seen another's write would otherwise drop it, and the
// holder, comparing with its own memory, would never put it back.
type Overrides struct {
	path string

	mu      sync.Mutex
	tenants map[string]TenantLimits
	// seen identifies the file's version tenants holds (zero: none yet).
	seen fileVersion
}

// fileVersion tells whether the file changed since it was last read.
type fileVersion struct {
	mod   time.Time
	size  int64
	inode uint64
	ok    bool
}

func versionOf(fi os.FileInfo) fileVersion {
	v := fileVersion{mod: fi.ModTime(), size: fi.Size(), ok: true}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		v.inode = st.Ino
	}
	return v
}

// NewOverrides returns the overrides kept in path.
func NewOverrides(path string) *Overrides {
	return &Overrides{path: path, tenants: map[string]TenantLimits{}}
}

type runtimeConfig struct {
	Overrides map[string]TenantLimits `yaml:"overrides"`
}

// load brings tenants up to the file: read again whenever the file is not
// the version last read or written here (every write renames a new file
// over it, so another node's write changes its inode).
func (o *Overrides) load() error {
	fi, err := os.Stat(o.path)
	if errors.Is(err, os.ErrNotExist) {
		if o.seen.ok {
			// Removed under us: start again from nothing.
			o.tenants, o.seen = map[string]TenantLimits{}, fileVersion{}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read cortex runtime config: %w", err)
	}
	if v := versionOf(fi); v == o.seen {
		return nil
	}
	b, err := os.ReadFile(o.path)
	if err != nil {
		return fmt.Errorf("read cortex runtime config: %w", err)
	}
	var rc runtimeConfig
	if err := yaml.UnmarshalStrict(b, &rc); err != nil {
		return fmt.Errorf("parse cortex runtime config %s: %w", o.path, err)
	}
	o.tenants = map[string]TenantLimits{}
	for k, v := range rc.Overrides {
		o.tenants[k] = v
	}
	o.seen = versionOf(fi)
	return nil
}

// Set replaces a workspace's limits, keeping its retention unless t sets
// one and its label-set limits unless t's are not nil.
func (o *Overrides) Set(ws string, t TenantLimits) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.load(); err != nil {
		return err
	}
	if t.CompactorBlocksRetentionPer == 0 {
		t.CompactorBlocksRetentionPer = o.tenants[ws].CompactorBlocksRetentionPer
	}
	if t.LimitsPerLabelSet == nil {
		t.LimitsPerLabelSet = o.tenants[ws].LimitsPerLabelSet
	} else if len(t.LimitsPerLabelSet) == 0 {
		t.LimitsPerLabelSet = nil // none, as the file reads back
	}
	if cur, ok := o.tenants[ws]; ok && reflect.DeepEqual(cur, t) {
		return nil
	}
	o.tenants[ws] = t
	return o.write()
}

// SetRetention sets how long Cortex keeps a workspace's blocks.
func (o *Overrides) SetRetention(ws string, retention time.Duration) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.load(); err != nil {
		return err
	}
	t := o.tenants[ws]
	if t.CompactorBlocksRetentionPer == model.Duration(retention) {
		if _, ok := o.tenants[ws]; ok {
			return nil
		}
	}
	t.CompactorBlocksRetentionPer = model.Duration(retention)
	o.tenants[ws] = t
	return o.write()
}

// SetLabelSets sets a workspace's limits_per_label_set.
func (o *Overrides) SetLabelSets(ws string, sets []LabelSetLimit) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.load(); err != nil {
		return err
	}
	t, ok := o.tenants[ws]
	if len(sets) == 0 {
		sets = nil
	}
	if ok && reflect.DeepEqual(t.LimitsPerLabelSet, sets) {
		return nil
	}
	t.LimitsPerLabelSet = sets
	o.tenants[ws] = t
	return o.write()
}

// Remove drops a workspace's entry.
func (o *Overrides) Remove(ws string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.load(); err != nil {
		return err
	}
	if _, ok := o.tenants[ws]; !ok {
		return nil
	}
	delete(o.tenants, ws)
	return o.write()
}

// Tenants lists the workspaces with an entry.
func (o *Overrides) Tenants() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	_ = o.load()
	out := make([]string, 0, len(o.tenants))
	for ws := range o.tenants {
		out = append(out, ws)
	}
	return out
}

// Get returns a workspace's entry.
func (o *Overrides) Get(ws string) (TenantLimits, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_ = o.load()
	t, ok := o.tenants[ws]
	return t, ok
}

func (o *Overrides) write() error {
	b, err := yaml.Marshal(runtimeConfig{Overrides: o.tenants})
	if err != nil {
		return fmt.Errorf("encode cortex runtime config: %w", err)
	}
	dir := filepath.Dir(o.path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".overrides-*")
	if err != nil {
		return fmt.Errorf("write cortex runtime config: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write cortex runtime config: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write cortex runtime config: %w", err)
	}
	// The version this process holds: the file as written (a rename keeps
	// its inode and modification time; a stat after the rename could see
	// another node's file instead).
	written, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("write cortex runtime config: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write cortex runtime config: %w", err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("write cortex runtime config: %w", err)
	}
	if err := os.Rename(f.Name(), o.path); err != nil {
		return fmt.Errorf("write cortex runtime config: %w", err)
	}
	o.seen = versionOf(written)
	return nil
}
