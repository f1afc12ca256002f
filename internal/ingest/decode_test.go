package ingest

import (
	"math"
	"reflect"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

func sampleRequest() *prompb.WriteRequest {
	return &prompb.WriteRequest{
		Timeseries: []prompb.TimeSeries{
			{Labels: series("__name__", "up", "job", "a"), Samples: []prompb.Sample{{Timestamp: 1, Value: 1}, {Timestamp: 2, Value: -2.5}}},
			{Labels: series("__name__", "empty_samples")},
			{Labels: series("__name__", "h"), Histograms: []prompb.Histogram{{Count: &prompb.Histogram_CountInt{CountInt: 2}, Sum: 3, Timestamp: 9,
				PositiveSpans: []prompb.BucketSpan{{Offset: 0, Length: 1}}, PositiveDeltas: []int64{2}}}},
			{Labels: series("__name__", "with_exemplar"), Samples: []prompb.Sample{{Timestamp: 5, Value: 5}},
				Exemplars: []prompb.Exemplar{{Labels: series("trace_id", "abc"), Value: 1, Timestamp: 5}}},
		},
		Metadata: []prompb.MetricMetadata{{Type: prompb.MetricMetadata_COUNTER, MetricFamilyName: "x_total", Help: "h", Unit: "u"}},
	}
}

// normalise drops what the fast decoder deliberately leaves out (exemplars,
// unknown fields) and nil-vs-empty differences, so both decoders can be compared.
func normalise(req *prompb.WriteRequest) *prompb.WriteRequest {
	out := &prompb.WriteRequest{}
	for _, ts := range req.Timeseries {
		n := prompb.TimeSeries{Labels: []prompb.Label{}, Samples: []prompb.Sample{}}
		// Only the modelled fields: prompb also keeps unknown fields' bytes.
		for _, l := range ts.Labels {
			n.Labels = append(n.Labels, prompb.Label{Name: l.Name, Value: l.Value})
		}
		for _, s := range ts.Samples {
			v := s.Value
			if math.IsNaN(v) {
				v = -0.123 // NaN != NaN for reflect.DeepEqual
			}
			n.Samples = append(n.Samples, prompb.Sample{Value: v, Timestamp: s.Timestamp})
		}
		n.Histograms = append(n.Histograms, ts.Histograms...)
		out.Timeseries = append(out.Timeseries, n)
	}
	out.Metadata = append(out.Metadata, req.Metadata...)
	return out
}

func TestDecodeMatchesPrompb(t *testing.T) {
	raw, err := sampleRequest().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var want prompb.WriteRequest
	if err := want.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ { // pooled values must decode cleanly again
		d, err := new(decoder).decode(snappy.Encode(nil, raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := normalise(&d.req); !reflect.DeepEqual(got, normalise(&want)) {
			t.Fatalf("decoded\n%+v\nwant\n%+v", got, normalise(&want))
		}
		d.release()
	}
}

// FuzzDecodeWriteRequest: the fast decoder agrees with prompb's on every
// input prompb accepts, and never panics.
func FuzzDecodeWriteRequest(f *testing.F) {
	raw, _ := sampleRequest().Marshal()
	f.Add(raw)
	f.Add([]byte{0x0a, 0x00})
	var dc decoder // learns across inputs, as a Handler's does across requests
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := dc.decode(snappy.Encode(nil, raw))
		var want prompb.WriteRequest
		werr := want.Unmarshal(raw)
		if err != nil {
			return // stricter than prompb is fine; a crash is not
		}
		defer d.release()
		if werr == nil && !reflect.DeepEqual(normalise(&d.req), normalise(&want)) {
			t.Fatalf("mismatch for %x", raw)
		}
	})
}

// After one request, the arrays for the next of its kind are sized to what
// it held, with an eighth to spare, not from the fixed estimates (which
// left half again as many labels unused for typical series).
func TestShapeSizesArraysFromTheRequestsSeen(t *testing.T) {
	req := &prompb.WriteRequest{}
	for i := range 2000 {
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
			Labels: series("__name__", "http_requests_total", "job", "api", "instance", "10.0.0.1:9090",
				"method", "GET", "code", "200", "handler", "/api/v1/query", "pod", "api-7d9f8b6c5-"+string(rune('a'+i%26))),
			Samples: []prompb.Sample{{Timestamp: int64(i), Value: float64(i)}}})
	}
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var dc decoder
	sh := &dc.shape
	if l, s := sh.sizes(len(raw)); l < 14000*3/2 || s >= 2000 {
		t.Fatalf("before any request: sized for %d labels and %d series; the fixed estimates give about %d and %d", l, s, len(raw)/bytesPerLabel, len(raw)/bytesPerSeries)
	}
	d, err := dc.decode(snappy.Encode(nil, raw))
	if err != nil {
		t.Fatal(err)
	}
	labels, n := len(d.labels), len(d.req.Timeseries)
	d.release()
	if labels != 14000 || n != 2000 {
		t.Fatalf("decoded %d labels of %d series", labels, n)
	}
	l, s := sh.sizes(len(raw))
	if l < labels || l > labels+labels/8+labels/100 {
		t.Errorf("sized for %d labels after a request of %d", l, labels)
	}
	if s < n || s > n+n/8+n/100 {
		t.Errorf("sized for %d series after a request of %d", s, n)
	}
}

// What one tenant sends cannot make the arrays of another's requests
// larger than the fixed estimates: series of empty labels teach the shape
// no more than 16 bytes a label.
func TestShapeIsBoundedBySmallLabels(t *testing.T) {
	req := &prompb.WriteRequest{}
	for range 2000 {
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{Labels: make([]prompb.Label, 20)})
	}
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var dc decoder
	d, err := dc.decode(snappy.Encode(nil, raw))
	if err != nil {
		t.Fatal(err)
	}
	d.release()
	sh := &dc.shape
	const n = 500_000 // the next request's decoded size
	l, s := sh.sizes(n)
	if max := n / bytesPerLabel; l > max+max/8 {
		t.Errorf("after empty labels: sized for %d labels in %d bytes, more than the fixed estimate's %d", l, n, max+max/8)
	}
	if max := n / 64; s > max+max/8 {
		t.Errorf("after empty series: sized for %d series in %d bytes, more than %d", s, n, max+max/8)
	}
}
