package ingest

import (
	"errors"
	"hash/maphash"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

// validationRules are the limits validateSeries decides by: a series
// found valid under them stays valid while they hold, so its RefCache
// entries are kept under a generation of them.
type validationRules struct {
	utf8Names                                  bool
	maxNames, maxNameLen, maxValueLen, maxSize int
}

func rulesOf(l *limits.Limits) validationRules {
	return validationRules{utf8Names: l.AllowUTF8Names, maxNames: l.MaxLabelNamesPerSeries, maxNameLen: l.MaxLabelNameLength,
		maxValueLen: l.MaxLabelValueLength, maxSize: l.MaxLabelsSizeBytes}
}

// refLookup finds one request's series in its workspace's RefCache. Its
// key of a series is a hash of the labels validateSeries keeps (no empty
// value, no HA replica label), in the order they came; an entry is used
// only when those labels are exactly the cached label set, in its
// (sorted) order, so a hit is a series validated and stored before in the
// same labels.
type refLookup struct {
	cache     *tenantdb.RefCache
	gen       uint32
	h         maphash.Hash
	dropLabel string
	// hosts: series with a custom_identifier get a host_id that may
	// change; they are never cached.
	hosts bool
}

// newRefLookup returns the lookup of app's RefCache, or nil when the
// store has none.
func newRefLookup(app storage.Appender, lim *limits.Limits, dropLabel string, hosts bool) *refLookup {
	c, ok := app.(interface{ RefCache() *tenantdb.RefCache })
	if !ok || c.RefCache() == nil {
		return nil
	}
	r := &refLookup{cache: c.RefCache(), dropLabel: dropLabel, hosts: hosts}
	r.gen = r.cache.Generation(rulesOf(lim))
	r.h.SetSeed(r.cache.Seed())
	return r
}

// kept: validateSeries keeps this label.
func (r *refLookup) kept(l prompb.Label) bool {
	return l.Value != "" && (r.dropLabel == "" || l.Name != r.dropLabel)
}

// key returns the series' key, and whether it may be cached.
func (r *refLookup) key(ls []prompb.Label) (uint64, bool) {
	if r == nil {
		return 0, false
	}
	r.h.Reset()
	for _, l := range ls {
		if !r.kept(l) {
			continue
		}
		if r.hosts && l.Name == CustomIdentifierLabel {
			return 0, false
		}
		r.h.WriteString(l.Name)
		r.h.WriteByte(0xff) // not in a valid UTF-8 string
		r.h.WriteString(l.Value)
		r.h.WriteByte(0xff)
	}
	return r.h.Sum64(), true
}

var errDiffer = errors.New("differ")

// get returns the cached series of key when its label set is exactly ls'
// kept labels.
func (r *refLookup) get(key uint64, ls []prompb.Label) (tenantdb.CachedSeries, bool) {
	s, ok := r.cache.Get(key, r.gen)
	if !ok {
		return s, false
	}
	i := 0
	err := s.Labels.Validate(func(l labels.Label) error {
		for i < len(ls) && !r.kept(ls[i]) {
			i++
		}
		if i == len(ls) || ls[i].Name != l.Name || ls[i].Value != l.Value {
			return errDiffer
		}
		i++
		return nil
	})
	if err != nil {
		return s, false
	}
	for ; i < len(ls); i++ {
		if r.kept(ls[i]) {
			return s, false
		}
	}
	return s, true
}

func (r *refLookup) put(key uint64, s tenantdb.CachedSeries) {
	if r != nil {
		r.cache.Put(key, r.gen, s)
	}
}
