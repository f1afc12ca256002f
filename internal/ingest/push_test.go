package ingest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

type fixture struct {
	series  *SeriesLimiters
	ha      *HATracker
	db      *tenantdb.Manager
	meta    *metastore.DB
	dist    *Distributor
	metrics *Metrics
	limits  *limits.Overrides
	now     time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	lim := limits.NewOverrides(limits.Defaults())
	series := NewSeriesLimiters(lim, false)
	mgr := tenantdb.New(tenantdb.Options{Dir: dir + "/workspaces", Series: series.Hooks()})
	t.Cleanup(func() { mgr.CloseAll() })
	meta, err := metastore.OpenSQLite(context.Background(), dir+"/kansoku.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	for _, ws := range []string{"ws-a", "ws-b"} {
		// Workspace rows: the HA tracker's table references them.
		if err := meta.CreateWorkspace(context.Background(), metastore.Workspace{ID: ws, ARN: ws, Status: "ACTIVE", RetentionDays: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := mgr.Open(ws, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	m := NewMetrics(prometheus.NewRegistry())
	ha := NewHATracker(meta, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	f := &fixture{series: series, ha: ha, db: mgr, meta: meta, metrics: m, limits: lim, now: time.Now()}
	f.dist = NewDistributor(DistributorOptions{Storage: mgr, Limits: lim, Metadata: meta, Metrics: m, HA: ha, Guardrails: true, Logger: slog.New(slog.DiscardHandler)})
	f.dist.now = func() time.Time { return f.now }
	return f
}

func series(kv ...string) []prompb.Label {
	var ls []prompb.Label
	for i := 0; i < len(kv); i += 2 {
		ls = append(ls, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	return ls
}

func ts(ls []prompb.Label, t time.Time, v float64) prompb.TimeSeries {
	return prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Timestamp: t.UnixMilli(), Value: v}}}
}

// read returns every sample of ws as "labels@ms=value" strings.
func (f *fixture) read(t *testing.T, ws string) []string {
	t.Helper()
	q, err := f.db.Querier(ws, math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	var out []string
	for ss.Next() {
		s := ss.At()
		it := s.Iterator(nil)
		for it.Next() != 0 {
			tm, v := it.At()
			out = append(out, s.Labels().String()+"@"+time.UnixMilli(tm).UTC().Format("15:04:05.000")+"="+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestValidationReasons(t *testing.T) {
	long := strings.Repeat("x", 2049)
	var tooMany []string
	tooMany = append(tooMany, "__name__", "m")
	for i := 0; i < 70; i++ {
		tooMany = append(tooMany, "l"+strings.Repeat("a", i%10)+string(rune('a'+i%26))+string(rune('a'+i/26)), "v")
	}
	cases := []struct {
		name   string
		labels []prompb.Label
		reason string
	}{
		{"missing metric name", series("job", "x"), ReasonMissingMetricName},
		{"invalid metric name", series("__name__", "1bad"), ReasonMetricNameInvalid},
		{"metric name with dash", series("__name__", "http-requests"), ReasonMetricNameInvalid},
		{"invalid label name", series("__name__", "up", "bad-label", "x"), ReasonLabelInvalid},
		{"label name starting with digit", series("__name__", "up", "0label", "x"), ReasonLabelInvalid},
		{"invalid utf-8 value", series("__name__", "up", "job", "\xff\xfe"), ReasonLabelInvalid},
		{"duplicate label names", series("__name__", "up", "job", "a", "job", "b"), ReasonDuplicateLabels},
		{"too many labels", series(tooMany...), ReasonMaxLabelNames},
		{"label value too long", series("__name__", "up", "job", long), ReasonLabelValueTooLong},
		{"labels too large", series("__name__", "up", "a", strings.Repeat("x", 2000), "b", strings.Repeat("x", 2000), "c", strings.Repeat("x", 2000), "d", strings.Repeat("x", 2000)), ReasonLabelsTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			good := series("__name__", "good_total", "job", "ok")
			req := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(tc.labels, f.now, 1), ts(good, f.now, 2)}}
			err := f.dist.Push(context.Background(), "ws-a", req)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error, got %v", err)
			}
			if e.Status != http.StatusBadRequest || e.Reason != tc.reason {
				t.Fatalf("got status %d reason %q (%s), want 400 %q", e.Status, e.Reason, e.Msg, tc.reason)
			}
			if got := testutil.ToFloat64(f.metrics.SamplesDiscarded.WithLabelValues("ws-a", tc.reason)); got != 1 {
				t.Fatalf("discarded{%s} = %v, want 1", tc.reason, got)
			}
			// The valid series of the same request is stored (partial acceptance).
			if got := f.read(t, "ws-a"); len(got) != 1 || !strings.Contains(got[0], "good_total") {
				t.Fatalf("stored %v, want only the valid series", got)
			}
		})
	}
}

func TestSampleTimeRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := series("__name__", "temp_celsius", "room", "a")
	if err := f.dist.Push(ctx, "ws-a", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(s, f.now, 20)}}); err != nil {
		t.Fatal(err)
	}
	check := func(name string, req *prompb.WriteRequest, reason string) {
		t.Helper()
		err := f.dist.Push(ctx, "ws-a", req)
		var e *Error
		if reason == "" {
			if err != nil {
				t.Fatalf("%s: unexpected error %v", name, err)
			}
			return
		}
		if !errors.As(err, &e) || e.Reason != reason || e.Status != 400 {
			t.Fatalf("%s: got %v, want reason %s", name, err, reason)
		}
	}
	check("older than 1h", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(series("__name__", "x"), f.now.Add(-61*time.Minute), 1)}}, ReasonMaxSampleAge)
	check("too far in the future", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(series("__name__", "x"), f.now.Add(11*time.Minute), 1)}}, ReasonTooFarInFuture)
	check("out of order", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(s, f.now.Add(-time.Second), 19)}}, ReasonOutOfOrder)
	check("same timestamp, other value", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(s, f.now, 21)}}, ReasonNewValueForTS)
	check("same timestamp, same value (a resend)", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(s, f.now, 20)}}, "")
	check("newer sample", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(s, f.now.Add(time.Second), 22)}}, "")
	got := f.read(t, "ws-a")
	if len(got) != 2 || !strings.HasSuffix(got[0], "=20") || !strings.HasSuffix(got[1], "=22") {
		t.Fatalf("stored %v", got)
	}
}

func TestLabelNormalisation(t *testing.T) {
	f := newFixture(t)
	// Unsorted labels and empty values: stored sorted, empty ones dropped.
	unsorted := series("zone", "b", "__name__", "up", "empty", "", "job", "x")
	if err := f.dist.Push(context.Background(), "ws-a", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(unsorted, f.now, 1)}}); err != nil {
		t.Fatal(err)
	}
	got := f.read(t, "ws-a")
	if len(got) != 1 || !strings.HasPrefix(got[0], `{__name__="up", job="x", zone="b"}`) {
		t.Fatalf("got %v", got)
	}
}

func TestUTF8NamesPerWorkspace(t *testing.T) {
	f := newFixture(t)
	dottedMetric := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(series("__name__", "http.requests.total"), f.now, 1)}}
	dottedLabel := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(series("__name__", "up", "service.name", "api"), f.now, 1)}}
	var e *Error
	if err := f.dist.Push(context.Background(), "ws-a", dottedMetric); !errors.As(err, &e) || e.Reason != ReasonMetricNameInvalid {
		t.Fatalf("classic rules must refuse dotted metric names by default: %v", err)
	}
	if err := f.dist.Push(context.Background(), "ws-a", dottedLabel); !errors.As(err, &e) || e.Reason != ReasonLabelInvalid {
		t.Fatalf("classic rules must refuse dotted label names by default: %v", err)
	}
	s := series("__name__", "http.requests.total", "service.name", "api")
	req := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(s, f.now, 1)}}
	l := limits.Defaults()
	l.AllowUTF8Names = true
	f.limits.Set("ws-b", &l)
	if err := f.dist.Push(context.Background(), "ws-b", req); err != nil {
		t.Fatalf("UTF-8 names allowed for ws-b: %v", err)
	}
}

func TestWorkspacesAreIsolated(t *testing.T) {
	f := newFixture(t)
	if err := f.dist.Push(context.Background(), "ws-a", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(series("__name__", "secret_a"), f.now, 1)}}); err != nil {
		t.Fatal(err)
	}
	if got := f.read(t, "ws-b"); len(got) != 0 {
		t.Fatalf("ws-b sees %v", got)
	}
	if got := f.read(t, "ws-a"); len(got) != 1 {
		t.Fatalf("ws-a sees %v", got)
	}
}

func TestUnknownWorkspaceIsUnavailable(t *testing.T) {
	f := newFixture(t)
	err := f.dist.Push(context.Background(), "ws-gone", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(series("__name__", "x"), f.now, 1)}})
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusServiceUnavailable {
		t.Fatalf("got %v", err)
	}
}

func TestNativeHistograms(t *testing.T) {
	f := newFixture(t)
	h := prompb.Histogram{
		Count: &prompb.Histogram_CountInt{CountInt: 3}, Sum: 6, Schema: 0, ZeroThreshold: 1e-128,
		ZeroCount:      &prompb.Histogram_ZeroCountInt{ZeroCountInt: 0},
		PositiveSpans:  []prompb.BucketSpan{{Offset: 0, Length: 2}},
		PositiveDeltas: []int64{1, 1},
		Timestamp:      f.now.UnixMilli(),
	}
	req := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: series("__name__", "latency_seconds"), Histograms: []prompb.Histogram{h}}}}
	if err := f.dist.Push(context.Background(), "ws-a", req); err != nil {
		t.Fatal(err)
	}
	q, _ := f.db.Querier("ws-a", 0, math.MaxInt64)
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "latency_seconds"))
	if !ss.Next() {
		t.Fatal("histogram series not stored")
	}
	it := ss.At().Iterator(nil)
	if vt := it.Next(); vt.String() != "histogram" {
		t.Fatalf("stored as %v", vt)
	}
	_, got := it.AtHistogram(nil)
	if got.Count != 3 || got.Sum != 6 {
		t.Fatalf("histogram %v", got)
	}
	// A malformed histogram (count does not match the buckets) is refused.
	bad := h
	bad.Count = &prompb.Histogram_CountInt{CountInt: 1}
	bad.Timestamp++
	err := f.dist.Push(context.Background(), "ws-a", &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: series("__name__", "latency_seconds"), Histograms: []prompb.Histogram{bad}}}})
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("malformed histogram: %v", err)
	}
}

func TestMetadataStored(t *testing.T) {
	f := newFixture(t)
	req := &prompb.WriteRequest{Metadata: []prompb.MetricMetadata{
		{MetricFamilyName: "http_requests_total", Type: prompb.MetricMetadata_COUNTER, Help: "Requests.", Unit: ""},
		{MetricFamilyName: "", Type: prompb.MetricMetadata_GAUGE, Help: "nameless"},
	}}
	err := f.dist.Push(context.Background(), "ws-a", req)
	var e *Error
	if !errors.As(err, &e) || e.Reason != ReasonMissingMetricName {
		t.Fatalf("nameless metadata must be reported: %v", err)
	}
	md, _ := f.meta.ListMetricMetadata(context.Background(), "ws-a", "")
	if len(md) != 1 || md[0].Type != "counter" || md[0].Help != "Requests." {
		t.Fatalf("stored %v", md)
	}
	// At most 10 metadata entries per metric (AMP); the 11th is dropped.
	var many []prompb.MetricMetadata
	for i := 0; i < 12; i++ {
		many = append(many, prompb.MetricMetadata{MetricFamilyName: "m", Type: prompb.MetricMetadata_GAUGE, Help: strings.Repeat("h", i+1)})
	}
	if err := f.dist.Push(context.Background(), "ws-a", &prompb.WriteRequest{Metadata: many}); err != nil {
		t.Fatal(err)
	}
	md, _ = f.meta.ListMetricMetadata(context.Background(), "ws-a", "m")
	if len(md) != 10 {
		t.Fatalf("metric m has %d metadata entries, want 10", len(md))
	}
}

func encode(t *testing.T, req *prompb.WriteRequest) []byte {
	t.Helper()
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, raw)
}

func TestHandlerDecoding(t *testing.T) {
	f := newFixture(t)
	valid := encode(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts(series("__name__", "up"), f.now, 1)}})
	cases := []struct {
		name        string
		body        []byte
		encoding    string
		contentType string
		status      int
		msg         string
	}{
		{"valid", valid, "snappy", "application/x-protobuf", 200, ""},
		{"no content-type", valid, "snappy", "", 200, ""},
		{"gzip", valid, "gzip", "application/x-protobuf", 415, "Content-Encoding"},
		{"json", valid, "snappy", "application/json", 415, "Content-Type"},
		{"remote write 2.0", valid, "snappy", "application/x-protobuf;proto=io.prometheus.write.v2.Request", 415, "remote write 1.0"},
		{"not snappy", []byte("hello world, definitely not snappy \xff\xff\xff\xff\xff"), "snappy", "application/x-protobuf", 400, "snappy"},
		{"snappy but not protobuf", snappy.Encode(nil, []byte("\xff\xff\xff\xff garbage")), "snappy", "application/x-protobuf", 400, "protobuf"},
		{"empty body", nil, "snappy", "application/x-protobuf", 400, "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{Pusher: f.dist, Workspace: func(*http.Request) string { return "ws-a" },
				Body: func(r *http.Request) ([]byte, error) { return tc.body, nil }, Logger: slog.New(slog.DiscardHandler)}
			r := httptest.NewRequest("POST", "/api/v1/remote_write", bytes.NewReader(tc.body))
			if tc.encoding != "" {
				r.Header.Set("Content-Encoding", tc.encoding)
			}
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.msg) {
				t.Fatalf("got %d %q, want %d containing %q", w.Code, w.Body.String(), tc.status, tc.msg)
			}
		})
	}
}

// FuzzDecode feeds arbitrary bodies to the remote_write decoder: it must
// answer 4xx, never panic.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add(snappy.Encode(nil, []byte{0x0a, 0x02, 0x0a, 0x00}))
	h := &Handler{Pusher: nopPusher{}, Workspace: func(*http.Request) string { return "ws" }, Logger: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, body []byte) {
		h.Body = func(*http.Request) ([]byte, error) { return body, nil }
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %x", w.Code, body)
		}
	})
}

type nopPusher struct{}

func (nopPusher) Push(context.Context, string, *prompb.WriteRequest) error { return nil }

// F14: samples of one request that are out of order, or repeat a
// timestamp, within a series (also across the request's entries for it)
// are answered 400 and counted, not dropped silently by the head.
func TestInRequestOrderIsChecked(t *testing.T) {
	cases := []struct {
		name    string
		req     func(now time.Time) *prompb.WriteRequest
		reason  string
		refused int
		stored  int
	}{
		{"50,000 samples at one timestamp", func(now time.Time) *prompb.WriteRequest {
			s := prompb.TimeSeries{Labels: series("__name__", "samets")}
			for i := 0; i < 50000; i++ {
				s.Samples = append(s.Samples, prompb.Sample{Timestamp: now.UnixMilli(), Value: 1})
			}
			return &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{s}}
		}, ReasonNewValueForTS, 49999, 1},
		{"out of order", func(now time.Time) *prompb.WriteRequest {
			return &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: series("__name__", "ooo"),
				Samples: []prompb.Sample{{Timestamp: now.UnixMilli(), Value: 1}, {Timestamp: now.Add(-time.Second).UnixMilli(), Value: 2}}}}}
		}, ReasonOutOfOrder, 1, 1},
		{"same series in two entries, the second older", func(now time.Time) *prompb.WriteRequest {
			return &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
				ts(series("__name__", "twice", "job", "a"), now, 1),
				ts(series("__name__", "other"), now, 5),
				ts(series("__name__", "twice", "job", "a"), now.Add(-time.Second), 2),
			}}
		}, ReasonOutOfOrder, 1, 2},
		{"same series in two entries, in order", func(now time.Time) *prompb.WriteRequest {
			return &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
				ts(series("__name__", "twice", "job", "a"), now.Add(-time.Second), 1),
				ts(series("__name__", "twice", "job", "a"), now, 2),
			}}
		}, "", 0, 2},
		{"three series, each once", func(now time.Time) *prompb.WriteRequest {
			return &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
				ts(series("__name__", "once", "job", "a"), now, 1),
				ts(series("__name__", "once", "job", "b"), now, 2),
				{Labels: series("__name__", "once", "job", "c"), Samples: []prompb.Sample{{Timestamp: now.Add(-time.Second).UnixMilli(), Value: 3}, {Timestamp: now.UnixMilli(), Value: 4}, {Timestamp: now.UnixMilli(), Value: 5}}},
			}}
		}, ReasonNewValueForTS, 1, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			// Twice: new series (known by their labels' hash), then the same
			// series known to the head and its RefCache (by reference).
			for round := 1; round <= 2; round++ {
				err := f.dist.Push(context.Background(), "ws-a", tc.req(f.now.Add(time.Duration(round-2)*time.Minute)))
				if tc.reason == "" {
					if err != nil {
						t.Fatal(err)
					}
				} else {
					var e *Error
					if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Reason != tc.reason {
						t.Fatalf("round %d: got %v; want 400 %s", round, err, tc.reason)
					}
					if got := testutil.ToFloat64(f.metrics.SamplesDiscarded.WithLabelValues("ws-a", tc.reason)); got != float64(round*tc.refused) {
						t.Fatalf("round %d: discarded{%s} = %v, want %d", round, tc.reason, got, round*tc.refused)
					}
				}
				if got := len(f.read(t, "ws-a")); got != round*tc.stored {
					t.Fatalf("round %d: %d samples stored, want %d: %v", round, got, round*tc.stored, f.read(t, "ws-a"))
				}
			}
		})
	}
}

// A request mixing series the head has and new ones stores each with its
// own labels: label sets are built in one reused buffer, and only the
// head's own (known series) or a copy (new series) may be kept.
func TestKnownAndNewSeriesKeepTheirLabels(t *testing.T) {
	f := newFixture(t)
	push := func(at time.Time, names ...string) {
		t.Helper()
		req := &prompb.WriteRequest{}
		for _, n := range names {
			req.Timeseries = append(req.Timeseries, ts(series("__name__", "m", "series", n, "pad", strings.Repeat(n, len(n)*3)), at, 1))
		}
		if err := f.dist.Push(context.Background(), "ws-a", req); err != nil {
			t.Fatal(err)
		}
	}
	push(f.now.Add(-2*time.Second), "b", "dd")
	push(f.now.Add(-time.Second), "a", "b", "ccc", "dd", "e")
	got := map[string]int{}
	for _, s := range f.read(t, "ws-a") {
		got[s[:strings.Index(s, "@")]]++
	}
	want := map[string]int{}
	for n, c := range map[string]int{"a": 1, "b": 2, "ccc": 1, "dd": 2, "e": 1} {
		want[labels.FromStrings("__name__", "m", "series", n, "pad", strings.Repeat(n, len(n)*3)).String()] = c
	}
	if !maps.Equal(got, want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
}

// A request whose series all have references, each its own, needs no map
// of what it has seen; any new series or repeated reference takes the map.
func TestDistinctRefs(t *testing.T) {
	refs := func(rs ...storage.SeriesRef) []acceptedSeries {
		var out []acceptedSeries
		for _, r := range rs {
			out = append(out, acceptedSeries{ref: r})
		}
		return out
	}
	for _, tc := range []struct {
		series []acceptedSeries
		want   bool
	}{
		{refs(3, 1, 2), true},
		{refs(1, 2, 3, 2), false},
		{refs(7, 7), false},
		{refs(1, 0, 2), false},
		{refs(9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 11, 12), true},
		{refs(9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 11, 1), false},
	} {
		if got := new(Distributor).distinctRefs(tc.series); got != tc.want {
			t.Errorf("distinctRefs(%v) = %v, want %v", tc.series, got, tc.want)
		}
	}
}
