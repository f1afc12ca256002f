package ingest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"
)

type blockingPusher struct{ entered, release chan struct{} }

func (b blockingPusher) Push(context.Context, string, *prompb.WriteRequest) error {
	b.entered <- struct{}{}
	<-b.release
	return nil
}

// A request that does not fit the in-flight bound while another is being
// stored is refused with 503 (Prometheus retries), then fits once it is
// done.
func TestInflightBytesBound(t *testing.T) {
	raw, _ := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: []prompb.Label{{Name: "__name__", Value: "m"}},
		Samples: []prompb.Sample{{Timestamp: 1, Value: 1}}}}}).Marshal()
	body := snappy.Encode(nil, raw)
	p := blockingPusher{entered: make(chan struct{}), release: make(chan struct{})}
	h := &Handler{Pusher: p, Workspace: func(*http.Request) string { return "ws" },
		Body: func(*http.Request) ([]byte, error) { return body, nil }, Logger: nil,
		Inflight: NewInflight(int64(len(raw)+len(body)), prometheus.NewRegistry())}
	post := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader("")))
		return rec
	}
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- post() }()
	<-p.entered
	if rec := post(); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("second request while the first holds the bound: %d %s", rec.Code, rec.Body)
	}
	close(p.release)
	if rec := <-done; rec.Code != http.StatusOK {
		t.Fatalf("first request: %d", rec.Code)
	}
	go func() { <-p.entered }()
	if rec := post(); rec.Code != http.StatusOK {
		t.Fatalf("after the first: %d %s", rec.Code, rec.Body)
	}
}

func TestDeclaredSnappySizeIsBounded(t *testing.T) {
	for _, n := range []uint64{1 << 20, 64<<20 - 1} {
		b := append(snappyHeader(n), 0, 0, 0, 0, 0)
		if _, err := decodedLen(b); err == nil || !strings.Contains(err.Error(), "compressed bytes can hold") {
			t.Errorf("declared %d in %d bytes: %v", n, len(b), err)
		}
	}
	real := snappy.Encode(nil, make([]byte, 1<<20)) // zeros: snappy's best case
	if n, err := decodedLen(real); err != nil || n != 1<<20 {
		t.Fatalf("a real 1 MiB of zeros (%d bytes compressed): %d %v", len(real), n, err)
	}
}

func snappyHeader(n uint64) []byte {
	var b []byte
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}
