package tenantdb

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// RefCache remembers the head's reference and label set of a workspace's
// series by a 64-bit key its writer derives from the series as it arrives
// (ingest: a hash of the remote_write labels), as Prometheus' scrape cache
// does by the scraped series' text: a series seen before is appended by
// reference, without building, sorting and hashing its label set and
// without the head's lookup by labels.
//
// The cache is the workspace TSDB's own: it is dropped with it, so a
// reference never outlives the head it came from. A reference may still
// be stale (the head's garbage collection dropped the series); appending
// by it then creates the series again from the label set, through the
// series limits, and the writer stores the new reference.
//
// Entries carry a generation: a writer whose validation rules change
// gets a new one, and never sees what was put under the old rules.
// Keys may collide: the writer compares the label set before using it.
type RefCache struct {
	seed    maphash.Seed
	stripes [refCacheStripes]refStripe
	size    atomic.Int64
	// limit bounds the entries: twice the head's series, and at least
	// minRefCacheLimit; over it the cache starts again empty.
	limit func() int64

	mu    sync.Mutex
	rules any
	gen   uint32
}

// CachedSeries is what a RefCache holds of one series (32 bytes: the
// cache costs ~50 B per series of the head).
type CachedSeries struct {
	Ref    storage.SeriesRef
	Labels labels.Labels // the head's own label set
	gen    uint32
}

const (
	refCacheStripes  = 256
	minRefCacheLimit = 1 << 14
)

type refStripe struct {
	mu sync.RWMutex
	m  map[uint64]CachedSeries
	_  [32]byte // one stripe per 64-byte cache line
}

// NewRefCache returns an empty cache for a head of headSeries series.
func NewRefCache(headSeries func() uint64) *RefCache {
	c := &RefCache{seed: maphash.MakeSeed()}
	c.limit = func() int64 { return max(2*int64(headSeries()), minRefCacheLimit) }
	for i := range c.stripes {
		c.stripes[i].m = map[uint64]CachedSeries{}
	}
	return c
}

// Seed is the seed keys should be hashed with: a workspace cannot choose
// series that collide in another's cache (or in a later process').
func (c *RefCache) Seed() maphash.Seed { return c.seed }

// Generation returns the generation of entries put and got under rules
// (a comparable value: what decided that a series is valid).
func (c *RefCache) Generation(rules any) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == 0 || c.rules != rules {
		c.rules = rules
		c.gen++
	}
	return c.gen
}

// Get returns the series cached under key in generation gen.
func (c *RefCache) Get(key uint64, gen uint32) (CachedSeries, bool) {
	st := &c.stripes[key%refCacheStripes]
	st.mu.RLock()
	s, ok := st.m[key]
	st.mu.RUnlock()
	return s, ok && s.gen == gen
}

// Put caches s under key in generation gen.
func (c *RefCache) Put(key uint64, gen uint32, s CachedSeries) {
	if c.size.Load() >= c.limit() {
		c.clear()
	}
	s.gen = gen
	st := &c.stripes[key%refCacheStripes]
	st.mu.Lock()
	if _, ok := st.m[key]; !ok {
		c.size.Add(1)
	}
	st.m[key] = s
	st.mu.Unlock()
}

// clear drops every entry: the references of series the head no longer
// has are not kept forever.
func (c *RefCache) clear() {
	for i := range c.stripes {
		st := &c.stripes[i]
		st.mu.Lock()
		c.size.Add(-int64(len(st.m)))
		st.m = map[uint64]CachedSeries{}
		st.mu.Unlock()
	}
}

// Len is the number of entries.
func (c *RefCache) Len() int { return int(c.size.Load()) }
