package tenantdb

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// TestRefCacheGenerations: entries are seen only in the generation they
// were put in; other rules start another generation, and the same rules
// coming back do not find the old entries.
func TestRefCacheGenerations(t *testing.T) {
	c := NewRefCache(func() uint64 { return 0 })
	type rules struct{ max int }
	g1 := c.Generation(rules{1})
	if g := c.Generation(rules{1}); g != g1 {
		t.Fatalf("same rules: generation %d, then %d", g1, g)
	}
	c.Put(42, g1, CachedSeries{Ref: 7, Labels: labels.FromStrings("a", "b")})
	if s, ok := c.Get(42, g1); !ok || s.Ref != 7 {
		t.Fatalf("get: %v %v", s, ok)
	}
	g2 := c.Generation(rules{2})
	if _, ok := c.Get(42, g2); ok {
		t.Fatal("an entry of other rules was found")
	}
	if g3 := c.Generation(rules{1}); g3 == g1 {
		t.Fatal("rules coming back reuse an old generation")
	}
}

// TestRefCacheBounded: the cache holds at most twice the head's series
// (and at least minRefCacheLimit entries) before it starts again.
func TestRefCacheBounded(t *testing.T) {
	head := uint64(minRefCacheLimit)
	c := NewRefCache(func() uint64 { return head })
	g := c.Generation(0)
	for k := range uint64(10 * minRefCacheLimit) {
		c.Put(k, g, CachedSeries{Ref: 1})
		if c.Len() > 2*minRefCacheLimit {
			t.Fatalf("%d entries for a head of %d series", c.Len(), head)
		}
	}
	head = 1
	c.Put(1<<40, g, CachedSeries{Ref: 1})
	c.Put(1<<41, g, CachedSeries{Ref: 1})
	if c.Len() > minRefCacheLimit {
		t.Fatalf("%d entries for a head of 1 series", c.Len())
	}
}
