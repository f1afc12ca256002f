package cortex

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
)

// PushError is Cortex refusing a push: its HTTP status and message (the
// messages AMP documents are Cortex's). 4xx refusals are final; a 5xx one
// remained after every retry.
type PushError struct {
	Status  int
	Message string
}

// Error is Cortex's message, which is what the client gets.
func (e *PushError) Error() string { return e.Message }

// HTTPStatus is Cortex's answer.
func (e *PushError) HTTPStatus() int { return e.Status }

// Reason returns AMP's discard reason for the refusal, read from Cortex's
// message (its wording is stable: the same strings AMP documents).
func (e *PushError) Reason() string {
	m := e.Message
	switch {
	case e.Status == http.StatusTooManyRequests && strings.Contains(m, "series limit"):
		return "per_user_series_limit"
	case e.Status == http.StatusTooManyRequests:
		return "rate_limited"
	case strings.Contains(m, "per-user series limit"):
		return "per_user_series_limit"
	case strings.Contains(m, "per-metric series limit"):
		return "per_metric_series_limit"
	case strings.Contains(m, "out of order") || strings.Contains(m, "out-of-order"):
		return "sample-out-of-order"
	case strings.Contains(m, "duplicate sample") || strings.Contains(m, "new value") || strings.Contains(m, "same timestamp"):
		return "new-value-for-timestamp"
	case strings.Contains(m, "out of bounds") || strings.Contains(m, "too old"):
		return "greater_than_max_sample_age"
	case strings.Contains(m, "too far in the future"):
		return "too_far_in_future"
	}
	return ""
}

// Is lets errors.Is see Cortex's refusals as the storage errors the
// embedded TSDB returns for the same samples (samplestore.Store's
// contract).
func (e *PushError) Is(target error) bool {
	switch e.Reason() {
	case "sample-out-of-order":
		return target == storage.ErrOutOfOrderSample
	case "new-value-for-timestamp":
		return target == storage.ErrDuplicateSampleForTimestamp
	case "greater_than_max_sample_age":
		return target == storage.ErrOutOfBounds
	}
	return false
}

// pusher sends remote-write requests to the distributors.
type pusher struct {
	urls    []string
	client  *http.Client
	next    atomic.Uint64
	retries int
	backoff time.Duration
}

// push sends req for tenant ws. A 5xx or a connection failure is retried
// on the next distributor (a push is idempotent: Cortex accepts a sample
// it already has); a 4xx is Cortex's final answer.
func (p *pusher) push(ctx context.Context, ws string, req *prompb.WriteRequest) error {
	raw, err := req.Marshal()
	if err != nil {
		return fmt.Errorf("encode remote write request: %w", err)
	}
	body := snappy.Encode(nil, raw)
	var last error
	for attempt := 0; attempt <= p.retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("push to cortex: %w (last error: %w)", ctx.Err(), last)
			case <-time.After(p.backoff << (attempt - 1)):
			}
		}
		base := p.urls[int(p.next.Add(1)-1)%len(p.urls)]
		err := p.pushOnce(ctx, base, ws, body)
		if err == nil {
			return nil
		}
		var pe *PushError
		if errors.As(err, &pe) && pe.Status < 500 {
			return err
		}
		last = err
	}
	return last
}

func (p *pusher) pushOnce(ctx context.Context, base, ws string, body []byte) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/push", bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/x-protobuf")
	r.Header.Set("Content-Encoding", "snappy")
	r.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	r.Header.Set(OrgIDHeader, ws)
	resp, err := p.client.Do(r)
	if err != nil {
		return fmt.Errorf("push to %s: %w", base, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return &PushError{Status: resp.StatusCode, Message: clientMessage(string(msg))}
}

// clientMessage keeps what Cortex tells the client about its samples and
// drops how it found out: an ingester's refusal comes wrapped in the
// distributor's quorum report, which names internal addresses
// ("maxFailure (quorum) ... addr=10.0.0.7:9095 ... desc = user=ws-...:
// err: out of order sample. timestamp=..., series=...").
func clientMessage(msg string) string {
	msg = strings.TrimSpace(msg)
	if i := strings.LastIndex(msg, "desc = "); i >= 0 {
		msg = msg[i+len("desc = "):]
	}
	if strings.HasPrefix(msg, "user=") {
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
	}
	return strings.TrimPrefix(msg, "err: ")
}

// appender buffers one transaction of a workspace and pushes it on Commit.
type appender struct {
	ctx    context.Context
	ws     string
	p      *pusher
	series []prompb.TimeSeries
	// byRef finds the series of a reference handed out by this appender.
	byHash map[uint64][]int
}

func newAppender(ctx context.Context, p *pusher, ws string) *appender {
	return &appender{ctx: ctx, ws: ws, p: p}
}

// seriesFor returns the index of l's series in the request, adding it.
// References are index+1 and valid within this appender only.
func (a *appender) seriesFor(ref storage.SeriesRef, l labels.Labels) int {
	if ref > 0 && int(ref) <= len(a.series) {
		return int(ref) - 1
	}
	if a.byHash == nil {
		a.byHash = map[uint64][]int{}
	}
	h := l.Hash()
	for _, i := range a.byHash[h] {
		if labels.Equal(labelsOf(a.series[i].Labels), l) {
			return i
		}
	}
	a.series = append(a.series, prompb.TimeSeries{Labels: prompb.FromLabels(l, nil)})
	i := len(a.series) - 1
	a.byHash[h] = append(a.byHash[h], i)
	return i
}

func labelsOf(ls []prompb.Label) labels.Labels {
	b := labels.NewScratchBuilder(len(ls))
	for _, l := range ls {
		b.Add(l.Name, l.Value)
	}
	return b.Labels()
}

func (a *appender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	i := a.seriesFor(ref, l)
	a.series[i].Samples = append(a.series[i].Samples, prompb.Sample{Timestamp: t, Value: v})
	return storage.SeriesRef(i + 1), nil
}

func (a *appender) AppendHistogram(ref storage.SeriesRef, l labels.Labels, t int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	i := a.seriesFor(ref, l)
	if fh != nil {
		a.series[i].Histograms = append(a.series[i].Histograms, prompb.FromFloatHistogram(t, fh))
	} else {
		a.series[i].Histograms = append(a.series[i].Histograms, prompb.FromIntHistogram(t, h))
	}
	return storage.SeriesRef(i + 1), nil
}

func (a *appender) AppendExemplar(ref storage.SeriesRef, l labels.Labels, e exemplar.Exemplar) (storage.SeriesRef, error) {
	i := a.seriesFor(ref, l)
	a.series[i].Exemplars = append(a.series[i].Exemplars, prompb.Exemplar{
		Labels: prompb.FromLabels(e.Labels, nil), Value: e.Value, Timestamp: e.Ts})
	return storage.SeriesRef(i + 1), nil
}

// Metadata goes to the metastore through the ingest path, not to Cortex.
func (a *appender) UpdateMetadata(ref storage.SeriesRef, _ labels.Labels, _ metadata.Metadata) (storage.SeriesRef, error) {
	return ref, nil
}

// Created-timestamp zero samples are not sent (Kansoku's ingest path does
// not produce them).
func (a *appender) AppendSTZeroSample(ref storage.SeriesRef, _ labels.Labels, _, _ int64) (storage.SeriesRef, error) {
	return ref, nil
}

func (a *appender) AppendHistogramSTZeroSample(ref storage.SeriesRef, _ labels.Labels, _, _ int64, _ *histogram.Histogram, _ *histogram.FloatHistogram) (storage.SeriesRef, error) {
	return ref, nil
}

func (a *appender) SetOptions(*storage.AppendOptions) {}

// Commit pushes the buffered samples; the transaction is durable when it
// returns nil.
func (a *appender) Commit() error {
	if len(a.series) == 0 {
		return nil
	}
	err := a.p.push(a.ctx, a.ws, &prompb.WriteRequest{Timeseries: a.series})
	a.series, a.byHash = nil, nil
	return err
}

// Rollback drops the buffered samples.
func (a *appender) Rollback() error {
	a.series, a.byHash = nil, nil
	return nil
}
