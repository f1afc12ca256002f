package ingest

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/kansoku/kansoku/internal/metastore"
)

// ReasonPerLabelSetSeries is the discard reason of a series refused by a
// label-set limit (Cortex's and Mimir's name).
const ReasonPerLabelSetSeries = "per_labelset_series_limit"

// labelSetState is one of a workspace's label sets with its count of
// active series (series in the head carrying every label of the set).
type labelSetState struct {
	labels    labels.Labels
	key       string
	maxSeries int64
	active    int64
	refused   uint64 // new series refused
}

func (ls *labelSetState) matches(lset labels.Labels) bool {
	ok := true
	ls.labels.Range(func(l labels.Label) {
		if ok && lset.Get(l.Name) != l.Value {
			ok = false
		}
	})
	return ok
}

// LabelSetUsage is one label set's usage: its limit, active series and
// the new series it refused since the server started.
type LabelSetUsage struct {
	LabelSet      map[string]string `json:"labelSet"`
	MaxSeries     int64             `json:"maxSeries"`
	ActiveSeries  int64             `json:"activeSeries"`
	RefusedSeries uint64            `json:"refusedSeries"`
}

// SetLabelSetLimits replaces a workspace's label sets (workspace
// .LabelSetLimiter) and counts each set's series in the head.
func (r *SeriesLimiters) SetLabelSetLimits(ws string, sets []metastore.LabelSetLimit) error {
	return r.For(ws).SetLabelSets(sets)
}

// SetLabelSets replaces the label sets and counts their active series
// from the TSDB head (a pass over each set's postings). Counts carry over
// for sets that stay.
func (s *SeriesLimiter) SetLabelSets(sets []metastore.LabelSetLimit) error {
	next := make([]*labelSetState, 0, len(sets))
	for _, set := range sets {
		ls := labels.FromMap(set.LabelSet)
		next = append(next, &labelSetState{labels: ls, key: ls.String(), maxSeries: set.MaxSeries})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := map[string]*labelSetState{}
	for _, o := range s.sets {
		old[o.key] = o
	}
	// Holding mu keeps PostCreation from counting a series twice (once
	// here, once when its creation completes).
	db := s.head.Load()
	for _, ls := range next {
		if o, ok := old[ls.key]; ok {
			ls.refused = o.refused
		}
		if db == nil {
			continue
		}
		n, err := countMatching(db, ls.labels)
		if err != nil {
			return fmt.Errorf("count the series of label set %s in %s: %w", ls.key, s.ws, err)
		}
		ls.active = n
	}
	s.sets = next
	s.hasSets.Store(len(next) > 0)
	return nil
}

func countMatching(db *tsdb.DB, set labels.Labels) (int64, error) {
	ir, err := db.Head().Index()
	if err != nil {
		return 0, err
	}
	defer ir.Close()
	ms := make([]*labels.Matcher, 0, set.Len())
	set.Range(func(l labels.Label) {
		ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
	})
	p, err := tsdb.PostingsForMatchers(context.Background(), ir, ms...)
	if err != nil {
		return 0, err
	}
	var n int64
	for p.Next() {
		n++
	}
	return n, p.Err()
}

// checkLabelSets refuses a new series that would take one of its label
// sets over its limit. Call with mu held.
func (s *SeriesLimiter) checkLabelSets(lset labels.Labels) error {
	for _, ls := range s.sets {
		if ls.maxSeries > 0 && ls.active >= ls.maxSeries && ls.matches(lset) {
			ls.refused++
			return &seriesLimitError{reason: ReasonPerLabelSetSeries, msg: fmt.Sprintf(
				"%sper-labelset series limit of %s exceeded, labelSet: %s, please contact administrator to raise it. (local limit: 0 global limit: %d)",
				s.userPrefix(), thousands(ls.maxSeries), ls.key, ls.maxSeries)}
		}
	}
	return nil
}

// countLabelSets adds delta to the sets lset belongs to. Call with mu held.
func (s *SeriesLimiter) countLabelSets(lset labels.Labels, delta int64) {
	for _, ls := range s.sets {
		if ls.matches(lset) {
			ls.active += delta
			if ls.active < 0 {
				ls.active = 0
			}
		}
	}
}

// LabelSetUsage reports the workspace's label sets, in the order given.
func (s *SeriesLimiter) LabelSetUsage() []LabelSetUsage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LabelSetUsage, 0, len(s.sets))
	for _, ls := range s.sets {
		out = append(out, LabelSetUsage{LabelSet: ls.labels.Map(), MaxSeries: ls.maxSeries, ActiveSeries: ls.active, RefusedSeries: ls.refused})
	}
	return out
}

// LabelSetUsage reports a workspace's label sets (none when it has no
// limiter).
func (r *SeriesLimiters) LabelSetUsage(ws string) []LabelSetUsage {
	s, ok := r.Get(ws)
	if !ok {
		return nil
	}
	return s.LabelSetUsage()
}

// thousands writes n with commas between groups of three digits, as AMP's
// messages write limits (10,000,000).
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var parts []string
	for len(s) > 3 {
		parts = append([]string{s[len(s)-3:]}, parts...)
		s = s[:len(s)-3]
	}
	parts = append([]string{s}, parts...)
	out := strings.Join(parts, ",")
	if neg {
		out = "-" + out
	}
	return out
}
