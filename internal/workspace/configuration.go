package workspace

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/metastore"
)

// LabelSetLimiter enforces a workspace's label-set limits in its sample
// storage: ingest.SeriesLimiters (embedded TSDB: counted and refused in the
// head) or the Cortex store (Cortex's limits_per_label_set override).
type LabelSetLimiter interface {
	SetLabelSetLimits(ws string, sets []metastore.LabelSetLimit) error
}

// Bounds of limitsPerLabelSet. AMP's model bounds neither the list nor a
// set; these keep one request's work small (Kansoku's choice, documented
// in docs/configuration.md's workspace section).
const (
	MaxLabelSets         = 100
	MaxLabelsPerSet      = 70   // AMP's labels per series
	MaxLabelSetNameBytes = 1024 // the label-name length limit
	MaxLabelSetValueLen  = 2048 // the label-value length limit
)

var (
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
)

// ValidateLabelSetLimits checks limitsPerLabelSet as AMP's model and
// documentation define it: every entry has a label set and limits; label
// names match [a-zA-Z_][a-zA-Z0-9_]*; values are ASCII with at least one
// character that is not whitespace and no control characters; a __name__
// value is a metric name; maxSeries is at least 0; no label set twice.
func ValidateLabelSetLimits(sets []metastore.LabelSetLimit) error {
	if len(sets) > MaxLabelSets {
		return apierr.InvalidField("limitsPerLabelSet", "Member must have length less than or equal to %d", MaxLabelSets)
	}
	seen := map[string]int{}
	for i, s := range sets {
		field := fmt.Sprintf("limitsPerLabelSet.%d.labelSet", i+1)
		if s.LabelSet == nil {
			return apierr.InvalidField(field, "Member must not be null")
		}
		if len(s.LabelSet) == 0 {
			return apierr.InvalidField(field, "Member must contain at least one label")
		}
		if len(s.LabelSet) > MaxLabelsPerSet {
			return apierr.InvalidField(field, "Member must have at most %d labels", MaxLabelsPerSet)
		}
		for name, value := range s.LabelSet {
			if len(name) > MaxLabelSetNameBytes || !labelNameRE.MatchString(name) {
				return apierr.InvalidField(field, "label name %q must satisfy regular expression pattern: [a-zA-Z_][a-zA-Z0-9_]*", truncate(name))
			}
			if err := checkLabelValue(name, value); err != nil {
				return apierr.InvalidField(field, "label %s: %s", name, err)
			}
		}
		if s.MaxSeries < 0 {
			return apierr.InvalidField(fmt.Sprintf("limitsPerLabelSet.%d.limits.maxSeries", i+1), "Member must have value greater than or equal to 0")
		}
		key := LabelSetString(s.LabelSet)
		if j, dup := seen[key]; dup {
			return apierr.InvalidField("limitsPerLabelSet", "label set %s is given twice (entries %d and %d)", key, j, i+1)
		}
		seen[key] = i + 1
	}
	return nil
}

func checkLabelValue(name, v string) error {
	if v == "" {
		return errors.New("value must have length greater than or equal to 1")
	}
	if len(v) > MaxLabelSetValueLen {
		return fmt.Errorf("value must have length less than or equal to %d", MaxLabelSetValueLen)
	}
	blank := true
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x80 {
			return errors.New("value must contain ASCII characters only")
		}
		if c < 0x20 || c == 0x7f {
			return errors.New("value must not contain ASCII control characters")
		}
		if c != ' ' {
			blank = false
		}
	}
	if blank {
		return errors.New("value must contain at least one character that is not whitespace")
	}
	if name == "__name__" && !metricNameRE.MatchString(v) {
		return fmt.Errorf("metric name %q must satisfy regular expression pattern: [a-zA-Z_:][a-zA-Z0-9_:]*", truncate(v))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// LabelSetString renders a label set as Prometheus does ({a="1", b="2"},
// names sorted): the key of a set in usage reports and messages.
func LabelSetString(set map[string]string) string {
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", n, set[n])
	}
	b.WriteByte('}')
	return b.String()
}

// ConfigurationInput is UpdateWorkspaceConfiguration's input: nil members
// are left as they are.
type ConfigurationInput struct {
	LabelSetLimits *[]metastore.LabelSetLimit
	RetentionDays  *int
	ClientToken    string
}

// UpdateConfiguration stores a configuration change as UPDATING; the
// reconciler applies it (retention to the storage, label-set limits to
// the LabelSetLimiter) and marks it ACTIVE, or UPDATE_FAILED with the
// reason.
func (s *Service) UpdateConfiguration(ctx context.Context, id string, in ConfigurationInput) (string, error) {
	if err := ValidateClientToken(in.ClientToken); err != nil {
		return "", err
	}
	if in.LabelSetLimits == nil && in.RetentionDays == nil {
		return "", apierr.Validation(apierr.ReasonFieldValidation, "give at least one of limitsPerLabelSet and retentionPeriodInDays")
	}
	if in.RetentionDays != nil && (*in.RetentionDays < 1 || *in.RetentionDays > 1095) {
		return "", apierr.InvalidField("retentionPeriodInDays", "Member must have value between 1 and 1095")
	}
	if in.LabelSetLimits != nil {
		if err := ValidateLabelSetLimits(*in.LabelSetLimits); err != nil {
			return "", err
		}
	}
	if _, err := s.Get(ctx, id); err != nil {
		return "", err
	}
	err := s.store.InTx(ctx, func(q *metastore.Queries) error {
		_, err := q.UpdateWorkspaceConfiguration(ctx, id, metastore.ConfigurationUpdate{LabelSetLimits: in.LabelSetLimits, RetentionDays: in.RetentionDays}, s.now().UTC())
		return err
	})
	if errors.Is(err, metastore.ErrNotFound) {
		w, gerr := s.Get(ctx, id)
		if gerr != nil {
			return "", gerr
		}
		if w.Status != metastore.WorkspaceActive {
			return "", apierr.Conflict(ResourceType, id, "Workspace %s is %s; its configuration can be changed only when ACTIVE", id, w.Status)
		}
		return "", apierr.Conflict(ResourceType, id, "The configuration of workspace %s is UPDATING; retry once it is ACTIVE", id)
	}
	if err != nil {
		return "", fmt.Errorf("update configuration of %s: %w", id, err)
	}
	s.opts.Logger.Info("workspace configuration updating", "workspace", id)
	s.Kick()
	return metastore.ConfigUpdating, nil
}

// applyConfiguration brings this node's storage in line with a
// workspace's stored configuration when its version changed, and records
// the outcome of an UPDATING change.
func (s *Service) applyConfiguration(ctx context.Context, w metastore.Workspace) {
	s.mu.RLock()
	applied, ok := s.applied[w.ID]
	s.mu.RUnlock()
	if ok && applied == w.ConfigVersion && w.ConfigStatus != metastore.ConfigUpdating {
		return
	}
	err := s.storage.SetRetention(w.ID, retention(w.RetentionDays))
	if err == nil && s.opts.LabelSets != nil {
		err = s.opts.LabelSets.SetLabelSetLimits(w.ID, w.LabelSetLimits)
	}
	if err != nil {
		s.opts.Logger.Error("apply workspace configuration", "workspace", w.ID, "err", err)
	} else {
		s.mu.Lock()
		s.applied[w.ID] = w.ConfigVersion
		s.mu.Unlock()
	}
	if w.ConfigStatus != metastore.ConfigUpdating {
		return
	}
	status, reason := metastore.ConfigActive, ""
	if err != nil {
		status, reason = metastore.ConfigUpdateFailed, "the configuration could not be applied to the workspace's storage; it is retried"
	}
	if ferr := s.store.FinishWorkspaceConfiguration(ctx, w.ID, w.ConfigVersion, status, reason); ferr != nil && !errors.Is(ferr, metastore.ErrNotFound) {
		s.opts.Logger.Error("record workspace configuration status", "workspace", w.ID, "err", ferr)
		return
	}
	s.opts.Logger.Info("workspace configuration applied", "workspace", w.ID, "status", status, "version", w.ConfigVersion)
}

func retention(days int) time.Duration { return time.Duration(days) * 24 * time.Hour }
