package ingest

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

// TestCachedSeriesAreValidatedAgainWhenLimitsChange: a series stored
// (and cached) under one workspace's limits is refused once its limits
// refuse it: the cache never stands in for validation under other rules.
func TestCachedSeriesAreValidatedAgainWhenLimitsChange(t *testing.T) {
	f := newFixture(t)
	long := series("__name__", "up", "path", strings.Repeat("p", 50), "service.name", "api") // sorted, as Prometheus sends them
	push := func(at time.Time) error {
		return f.dist.Push(context.Background(), "ws-a", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(long, at, 1)}})
	}
	l := limits.Defaults()
	l.AllowUTF8Names = true
	f.limits.Set("ws-a", &l)
	for i := range 3 { // stored, then found in the cache
		if err := push(f.now.Add(time.Duration(i-10) * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		set    func(l *limits.Limits)
		reason string
	}{
		{func(l *limits.Limits) { l.MaxLabelValueLength = 20 }, ReasonLabelValueTooLong},
		{func(l *limits.Limits) { l.AllowUTF8Names = false }, ReasonLabelInvalid},
		{func(l *limits.Limits) { l.MaxLabelNamesPerSeries = 2 }, ReasonMaxLabelNames},
		{func(l *limits.Limits) { l.MaxLabelsSizeBytes = 40 }, ReasonLabelsTooLarge},
	} {
		tight := l
		tc.set(&tight)
		f.limits.Set("ws-a", &tight)
		var e *Error
		if err := push(f.now.Add(-5 * time.Second)); !errors.As(err, &e) || e.Reason != tc.reason {
			t.Fatalf("under tighter limits: %v, want %s", err, tc.reason)
		}
	}
	f.limits.Set("ws-a", &l)
	if err := push(f.now.Add(-4 * time.Second)); err != nil {
		t.Fatalf("the limits back: %v", err)
	}
	if got := len(f.read(t, "ws-a")); got != 4 {
		t.Fatalf("%d samples stored, want 4", got)
	}
}

// TestCachedSeriesMatchExactly: a cached series is used only for exactly
// its labels, as validation keeps them (without empty values and the HA
// replica label), in order.
func TestCachedSeriesMatchExactly(t *testing.T) {
	cache := tenantdb.NewRefCache(func() uint64 { return 0 })
	r := &refLookup{cache: cache, dropLabel: "__replica__"}
	def := limits.Defaults()
	r.gen = cache.Generation(rulesOf(&def))
	r.h.SetSeed(cache.Seed())
	lset := labels.FromStrings("__name__", "up", "instance", "a", "job", "node")
	key, ok := r.key(series("__name__", "up", "instance", "a", "job", "node"))
	if !ok {
		t.Fatal("not cacheable")
	}
	r.put(key, tenantdb.CachedSeries{Ref: 7, Labels: lset})
	for _, tc := range []struct {
		wire []prompb.Label
		hit  bool
	}{
		{series("__name__", "up", "instance", "a", "job", "node"), true},
		{series("__name__", "up", "empty", "", "instance", "a", "job", "node", "zz", ""), true},
		{series("__name__", "up", "__replica__", "r1", "instance", "a", "job", "node"), true},
		{series("__name__", "up", "instance", "b", "job", "node"), false},
		{series("__name__", "up", "instance", "a"), false},
		{series("__name__", "up", "instance", "a", "job", "node", "x", "1"), false},
		{series("__name__", "up", "job", "node", "instance", "a"), false},
		{series("__name__", "up", "instance", "a", "job", "nod"), false},
		{series("__name__", "up", "instance", "a", "jo", "bnode"), false},
	} {
		// The same key for every wire form: what is compared is the labels.
		if s, hit := r.get(key, tc.wire); hit != tc.hit || (hit && s.Ref != 7) {
			t.Errorf("%v: hit %v (ref %d), want %v", tc.wire, hit, s.Ref, tc.hit)
		}
	}
	if k, _ := r.key(series("__name__", "up", "instance", "a", "jo", "bnode")); k == key {
		t.Error("the key does not separate names from values")
	}
	if s, hit := r.get(key+1, series("__name__", "up", "instance", "a", "job", "node")); hit {
		t.Errorf("hit %v under another key", s)
	}
	hosts := &refLookup{cache: cache, hosts: true}
	if _, ok := hosts.key(series("__name__", "up", CustomIdentifierLabel, "db-1")); ok {
		t.Error("a series naming a host is cacheable")
	}
}

// TestCachedSeriesDroppedByTheHead: a series the head dropped (its
// reference in the cache stale) is created again when it comes back.
func TestCachedSeriesDroppedByTheHead(t *testing.T) {
	f := newFixture(t)
	s := series("__name__", "up", "job", "node")
	push := func(at time.Time) {
		t.Helper()
		if err := f.dist.Push(context.Background(), "ws-a", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(s, at, 1)}}); err != nil {
			t.Fatal(err)
		}
	}
	first := f.now.Add(-30 * time.Minute)
	push(first)
	push(first.Add(time.Second))
	db, err := f.db.DB("ws-a")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CompactHead(tsdb.NewRangeHead(db.Head(), math.MinInt64, first.Add(time.Minute).UnixMilli())); err != nil {
		t.Fatal(err)
	}
	if n := db.Head().NumSeries(); n != 0 {
		t.Fatalf("the head still has %d series", n)
	}
	push(first.Add(2 * time.Minute))
	push(first.Add(3 * time.Minute))
	if n := db.Head().NumSeries(); n != 1 {
		t.Fatalf("the head has %d series, want 1", n)
	}
	got := f.read(t, "ws-a")
	if len(got) != 4 {
		t.Fatalf("stored %v, want 4 samples", got)
	}
}

// TestSeriesNamingAHostFollowTheInventory: a series with a
// custom_identifier gets the host_id the inventory gives now, not the one
// it had when first stored.
func TestSeriesNamingAHostFollowTheInventory(t *testing.T) {
	f := newFixture(t)
	host := "h-1"
	f.dist.SetHostResolver(func(_, ident string) (string, bool) { return host, ident == "db-1" })
	s := series("__name__", "up", CustomIdentifierLabel, "db-1")
	for i, h := range []string{"h-1", "h-1", "h-2", "h-2"} {
		host = h
		if err := f.dist.Push(context.Background(), "ws-a", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(s, f.now.Add(time.Duration(i-10)*time.Second), 1)}}); err != nil {
			t.Fatal(err)
		}
	}
	byHost := map[string]int{}
	for _, got := range f.read(t, "ws-a") {
		byHost[got[strings.Index(got, "host_id=")+len("host_id="):][:5]]++
	}
	if byHost[`"h-1"`] != 2 || byHost[`"h-2"`] != 2 {
		t.Fatalf("samples by host %v", byHost)
	}
}

// TestNewSeriesNamingHostsKeepTheirLabels: new series given a host_id in
// one request each keep their own label set (the one attachHost builds is
// kept as is, the others are copied out of the reused buffer).
func TestNewSeriesNamingHostsKeepTheirLabels(t *testing.T) {
	f := newFixture(t)
	f.dist.SetHostResolver(func(_, ident string) (string, bool) { return "h-" + ident, ident != "none" })
	req := &prompb.WriteRequest{}
	for _, ident := range []string{"none", "db-1", "db-22", "db-333"} { // "none" and "db-1" are as long
		req.Timeseries = append(req.Timeseries, ts(series("__name__", "up", CustomIdentifierLabel, ident, "pad", strings.Repeat(ident, 3)), f.now, 1))
	}
	if err := f.dist.Push(context.Background(), "ws-a", req); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range f.read(t, "ws-a") {
		got = append(got, s[:strings.Index(s, "@")])
	}
	want := []string{
		`{__name__="up", custom_identifier="db-1", host_id="h-db-1", pad="db-1db-1db-1"}`,
		`{__name__="up", custom_identifier="db-22", host_id="h-db-22", pad="db-22db-22db-22"}`,
		`{__name__="up", custom_identifier="db-333", host_id="h-db-333", pad="db-333db-333db-333"}`,
		`{__name__="up", custom_identifier="none", pad="nonenonenone"}`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("stored\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
