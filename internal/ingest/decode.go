package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/util/zeropool"
)

// decoded is a pooled remote_write request: the decompressed body and the
// request decoded from it. Label strings alias buf (no copy per label, as
// Cortex and Mimir do), so the request is valid only until release; the
// distributor copies what it keeps (label sets into the TSDB, metadata).
type decoded struct {
	buf []byte
	req prompb.WriteRequest
	// Backing arrays reused across requests.
	labels  []prompb.Label
	samples []prompb.Sample
	spans   []span
	// from is the pool release returns it to.
	from *zeropool.Pool[*decoded]
}

// span locates one series' labels and samples in the shared arrays.
type span struct{ lo, hi, slo, shi int }

// Sizes in a remote_write body, to size the arrays before decoding until a
// Handler has seen what its senders' requests look like: a label takes
// ~20–30 encoded bytes in real series (name, value, tags; the benchmark's
// series average 23.5 bytes a label, sample included), a one-sample
// series ~250. The label estimate is on the low side, so that the array
// is not doubled (and copied) once more near its end. Growing the arrays
// by doubling while decoding was ~20 % of the ingest path's CPU in a
// profile (a pooled value is often new: the pool is emptied at each GC).
const (
	bytesPerLabel  = 16
	bytesPerSeries = 256
)

// shape is what the requests a Handler decoded looked like: decoded bytes
// per label and per series, as last seen, in 1/256 bytes. Arrays are sized
// from it with an eighth to spare: the fixed estimates above are low by
// half for typical series, and a pooled request's arrays stay as large as
// they were first made, so eight senders held ~4 MB more than they used.
type shape struct{ perLabel, perSeries atomic.Int64 }

const shapeScale = 256

// sizes returns the label and series counts to size arrays for a decoded
// body of n bytes.
func (s *shape) sizes(n int) (labels, series int) {
	perLabel, perSeries := int64(bytesPerLabel*shapeScale), int64(bytesPerSeries*shapeScale)
	if s != nil {
		if v := s.perLabel.Load(); v > 0 {
			perLabel = v
		}
		if v := s.perSeries.Load(); v > 0 {
			perSeries = v
		}
	}
	labels, series = int(int64(n)*shapeScale/perLabel), int(int64(n)*shapeScale/perSeries)
	return labels + labels/8, series + series/8
}

// Floors of what shape learns. One Handler serves every workspace: a
// tenant sending series of empty labels must not make the arrays of the
// next tenant's requests larger than the fixed estimate would (labels), or
// than a one-sample series of a few short labels takes (series).
const (
	minPerLabel  = bytesPerLabel * shapeScale
	minPerSeries = 64 * shapeScale
)

// observe records what a decoded body of n bytes held.
func (s *shape) observe(n, labels, series int) {
	if s == nil || labels == 0 || series == 0 {
		return
	}
	s.perLabel.Store(max(int64(n)*shapeScale/int64(labels), minPerLabel))
	s.perSeries.Store(max(int64(n)*shapeScale/int64(series), minPerSeries))
}

// decoder decodes a Handler's requests: it learns their shape, and keeps
// the arrays of decoded requests for the next ones.
type decoder struct {
	shape shape
	pool  zeropool.Pool[*decoded]
}

func (d *decoded) release() {
	// Keep big buffers from pinning memory after a burst.
	if cap(d.buf) > 8<<20 || cap(d.labels) > 1<<20 || cap(d.samples) > 1<<20 {
		return
	}
	for i := range d.req.Timeseries {
		d.req.Timeseries[i] = prompb.TimeSeries{}
	}
	d.req.Timeseries = d.req.Timeseries[:0]
	d.req.Metadata = d.req.Metadata[:0]
	clear(d.labels)
	d.labels = d.labels[:0]
	d.samples = d.samples[:0]
	d.from.Put(d)
}

// maxSnappyRatio bounds how much snappy can expand: its densest element,
// a 3-byte copy, writes 64 bytes.
const maxSnappyRatio = 22

// decodedLen is the decoded size body declares, refused when it is more
// than its compressed size can decode to, or than MaxDecodedBytes: the
// buffer is allocated before decoding, so a declared size is never taken
// on trust.
func decodedLen(body []byte) (int, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return 0, fmt.Errorf("body is not snappy-compressed: %w", err)
	}
	if n > MaxDecodedBytes {
		return 0, errTooLarge{n}
	}
	if n > len(body)*maxSnappyRatio {
		return 0, fmt.Errorf("invalid snappy data: the header declares %d decoded bytes, more than %d compressed bytes can hold", n, len(body))
	}
	return n, nil
}

// decode decompresses body and decodes a remote write 1.0 request into a
// pooled value, sizing its arrays from the shape of the requests before;
// call release when done with it.
func (dc *decoder) decode(body []byte) (*decoded, error) {
	n, err := decodedLen(body)
	if err != nil {
		return nil, err
	}
	sh := &dc.shape
	d := dc.pool.Get()
	if d == nil {
		d = &decoded{from: &dc.pool}
	}
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	raw, err := snappy.Decode(d.buf[:cap(d.buf)], body)
	if err != nil {
		d.release()
		return nil, fmt.Errorf("invalid snappy data: %w", err)
	}
	if err := d.unmarshal(raw, sh); err != nil {
		d.release()
		return nil, fmt.Errorf("invalid protobuf: %w", err)
	}
	sh.observe(len(raw), len(d.labels), len(d.req.Timeseries))
	return d, nil
}

type errTooLarge struct{ n int }

func (e errTooLarge) Error() string {
	return fmt.Sprintf("decompressed request too large: %d bytes, limit %d", e.n, MaxDecodedBytes)
}

var errTruncated = errors.New("unexpected end of message")

// yolo returns b as a string without copying.
func yolo(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// wire reads protobuf wire format.
type wire struct {
	b []byte
	i int
}

func (w *wire) done() bool { return w.i >= len(w.b) }

func (w *wire) varint() (uint64, error) {
	v, n := binary.Uvarint(w.b[w.i:])
	if n <= 0 {
		return 0, errTruncated
	}
	w.i += n
	return v, nil
}

func (w *wire) key() (field int, typ int, err error) {
	k, err := w.varint()
	if err != nil {
		return 0, 0, err
	}
	if k>>3 == 0 || k>>3 > math.MaxInt32 {
		return 0, 0, fmt.Errorf("illegal field number %d", k>>3)
	}
	return int(k >> 3), int(k & 7), nil
}

// lengthDelimited reads field's value, which must have wire type 2 (an
// embedded message, string or bytes).
func (w *wire) lengthDelimited(field, typ int) ([]byte, error) {
	if typ != 2 {
		return nil, wantType(field, typ, 2)
	}
	l, err := w.varint()
	if err != nil {
		return nil, err
	}
	if l > uint64(len(w.b)-w.i) {
		return nil, errTruncated
	}
	b := w.b[w.i : w.i+int(l)]
	w.i += int(l)
	return b, nil
}

func (w *wire) fixed64() (uint64, error) {
	if len(w.b)-w.i < 8 {
		return 0, errTruncated
	}
	v := binary.LittleEndian.Uint64(w.b[w.i:])
	w.i += 8
	return v, nil
}

// skip skips a field of wire type typ.
func (w *wire) skip(typ int) error {
	switch typ {
	case 0:
		_, err := w.varint()
		return err
	case 1:
		_, err := w.fixed64()
		return err
	case 2:
		_, err := w.lengthDelimited(0, typ)
		return err
	case 5:
		if len(w.b)-w.i < 4 {
			return errTruncated
		}
		w.i += 4
		return nil
	}
	return fmt.Errorf("unsupported wire type %d", typ)
}

func wantType(field, got, want int) error {
	if got != want {
		return fmt.Errorf("field %d: wire type %d, want %d", field, got, want)
	}
	return nil
}

// unmarshal decodes a prometheus.WriteRequest (remote.proto):
// timeseries = 1, metadata = 3.
func (d *decoded) unmarshal(raw []byte, sh *shape) error {
	w := wire{b: raw}
	// Label and sample slices are carved from shared backing arrays; a first
	// pass would size them exactly, but appending and re-slicing at the end
	// is simpler (and a counting pass costs a third of decoding): record
	// offsets, fix up slices once all is decoded. The arrays are sized from
	// the body first.
	// (At most what Prometheus' biggest default batches need: a huge body
	// grows them as it is decoded, never by more than it holds.)
	nl, ns := sh.sizes(len(raw))
	if n := min(nl, 1<<16); cap(d.labels) < n {
		d.labels = make([]prompb.Label, 0, n)
	}
	if n := min(ns, 1<<13); cap(d.samples) < n || cap(d.spans) < n || cap(d.req.Timeseries) < n {
		d.samples = make([]prompb.Sample, 0, max(n, cap(d.samples)))
		d.spans = make([]span, 0, max(n, cap(d.spans)))
		d.req.Timeseries = make([]prompb.TimeSeries, 0, max(n, cap(d.req.Timeseries)))
	}
	spans := d.spans[:0]
	for !w.done() {
		field, typ, err := w.key()
		if err != nil {
			return err
		}
		switch field {
		case 1:
			b, err := w.lengthDelimited(1, typ)
			if err != nil {
				return err
			}
			sp := span{lo: len(d.labels), slo: len(d.samples)}
			var ts prompb.TimeSeries
			if err := d.unmarshalSeries(b, &ts); err != nil {
				return fmt.Errorf("timeseries %d: %w", len(d.req.Timeseries), err)
			}
			sp.hi, sp.shi = len(d.labels), len(d.samples)
			spans = append(spans, sp)
			d.req.Timeseries = append(d.req.Timeseries, ts)
		case 3:
			b, err := w.lengthDelimited(3, typ)
			if err != nil {
				return err
			}
			var md prompb.MetricMetadata
			if err := md.Unmarshal(b); err != nil {
				return fmt.Errorf("metadata: %w", err)
			}
			d.req.Metadata = append(d.req.Metadata, md)
		default:
			if err := w.skip(typ); err != nil {
				return err
			}
		}
	}
	for i, sp := range spans {
		d.req.Timeseries[i].Labels = d.labels[sp.lo:sp.hi:sp.hi]
		d.req.Timeseries[i].Samples = d.samples[sp.slo:sp.shi:sp.shi]
	}
	d.spans = spans
	return nil
}

// unmarshalSeries decodes a prometheus.TimeSeries (types.proto): labels = 1,
// samples = 2, exemplars = 3 (skipped: no exemplar storage), histograms = 4.
// Labels and samples are appended to the shared arrays.
func (d *decoded) unmarshalSeries(b []byte, ts *prompb.TimeSeries) error {
	w := wire{b: b}
	for !w.done() {
		field, typ, err := w.key()
		if err != nil {
			return err
		}
		switch field {
		case 1:
			lb, err := w.lengthDelimited(1, typ)
			if err != nil {
				return err
			}
			l, err := unmarshalLabel(lb)
			if err != nil {
				return err
			}
			d.labels = append(d.labels, l)
		case 2:
			sb, err := w.lengthDelimited(2, typ)
			if err != nil {
				return err
			}
			s, err := unmarshalSample(sb)
			if err != nil {
				return err
			}
			d.samples = append(d.samples, s)
		case 4:
			hb, err := w.lengthDelimited(4, typ)
			if err != nil {
				return err
			}
			var h prompb.Histogram
			if err := h.Unmarshal(hb); err != nil {
				return fmt.Errorf("histogram: %w", err)
			}
			ts.Histograms = append(ts.Histograms, h)
		default:
			if err := w.skip(typ); err != nil {
				return err
			}
		}
	}
	return nil
}

func unmarshalLabel(b []byte) (prompb.Label, error) {
	var l prompb.Label
	w := wire{b: b}
	for !w.done() {
		field, typ, err := w.key()
		if err != nil {
			return l, err
		}
		switch field {
		case 1, 2:
			s, err := w.lengthDelimited(field, typ)
			if err != nil {
				return l, err
			}
			if field == 1 {
				l.Name = yolo(s)
			} else {
				l.Value = yolo(s)
			}
		default:
			if err := w.skip(typ); err != nil {
				return l, err
			}
		}
	}
	return l, nil
}

func unmarshalSample(b []byte) (prompb.Sample, error) {
	var s prompb.Sample
	w := wire{b: b}
	for !w.done() {
		field, typ, err := w.key()
		if err != nil {
			return s, err
		}
		switch field {
		case 1:
			if err := wantType(1, typ, 1); err != nil {
				return s, err
			}
			v, err := w.fixed64()
			if err != nil {
				return s, err
			}
			s.Value = math.Float64frombits(v)
		case 2:
			if err := wantType(2, typ, 0); err != nil {
				return s, err
			}
			v, err := w.varint()
			if err != nil {
				return s, err
			}
			s.Timestamp = int64(v)
		default:
			if err := w.skip(typ); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}
