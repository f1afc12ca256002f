package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/zeropool"

	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/tenantdb"
)

// Storage is where accepted samples go.
type Storage interface {
	Appender(ctx context.Context, ws string) (storage.Appender, error)
}

// refusal is the sample store refusing a commit with an answer meant for
// the client (cortex.PushError): an HTTP status and a discard reason.
type refusal interface {
	error
	HTTPStatus() int
	Reason() string
}

// Metrics are the ingest counters, per workspace. They back AMP's usage
// metrics IngestionRate and DiscardedSamples.
type Metrics struct {
	SamplesReceived  *prometheus.CounterVec
	SamplesIngested  *prometheus.CounterVec
	SamplesDiscarded *prometheus.CounterVec
	MetadataReceived *prometheus.CounterVec
}

// NewMetrics registers the ingest metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		SamplesReceived: f.NewCounterVec(prometheus.CounterOpts{
			Name: "kansoku_ingest_samples_received_total",
			Help: "Samples (floats and histograms) received by remote_write and the AWS integration, before validation.",
		}, []string{"workspace"}),
		SamplesIngested: f.NewCounterVec(prometheus.CounterOpts{
			Name: "kansoku_ingest_samples_ingested_total",
			Help: "Samples committed to a workspace's storage (AMP's IngestionRate is the rate of this).",
		}, []string{"workspace"}),
		SamplesDiscarded: f.NewCounterVec(prometheus.CounterOpts{
			Name: "kansoku_discarded_samples_total",
			Help: "Samples rejected, by reason (AMP's DiscardedSamples).",
		}, []string{"workspace", "reason"}),
		MetadataReceived: f.NewCounterVec(prometheus.CounterOpts{
			Name: "kansoku_ingest_metadata_received_total",
			Help: "Metric metadata entries received by remote_write.",
		}, []string{"workspace"}),
	}
}

// Forget drops a deleted workspace's series from the metrics.
func (m *Metrics) Forget(ws string) {
	for _, v := range []*prometheus.CounterVec{m.SamplesReceived, m.SamplesIngested, m.SamplesDiscarded, m.MetadataReceived} {
		v.DeletePartialMatch(prometheus.Labels{"workspace": ws})
	}
}

// Distributor validates pushes, applies the workspace's guardrails and
// appends them to the workspace's storage. It never sees HTTP: the handler
// decodes and calls Push.
type Distributor struct {
	storage    Storage
	limits     *limits.Overrides
	metadata   *metadataWriter
	metrics    *Metrics
	ha         *HATracker
	rate       *rateLimiters
	guardrails bool
	storeRate  bool
	logger     *slog.Logger
	now        func() time.Time
	hostIDs    func(ws, identifier string) (string, bool)

	// Arrays and maps of past requests, for the next ones: the accepted
	// series (bounded by the decoder's series per request), the series
	// seen in a request, and its sorted references.
	accepted zeropool.Pool[[]acceptedSeries]
	seen     zeropool.Pool[map[seenKey]lastSample]
	refs     zeropool.Pool[[]storage.SeriesRef]
}

// CustomIdentifierLabel names, on a remote-written series, a host of the
// inventory by one of its identifiers (endpoint, DNS name, ARN): the series
// then gets that host's HostIDLabel (Mackerel's custom_identifier, its FAQ
// on aggregating plugin metrics into integration hosts: https://mackerel.io/docs/entry/integrations/aws).
const (
	CustomIdentifierLabel = "custom_identifier"
	HostIDLabel           = "host_id"
)

// SetHostResolver makes series with a custom_identifier label attach to the
// host it names. Call before serving.
func (d *Distributor) SetHostResolver(f func(ws, identifier string) (string, bool)) { d.hostIDs = f }

// DistributorOptions are a distributor's parts.
type DistributorOptions struct {
	Storage  Storage
	Limits   *limits.Overrides
	Metadata MetadataStore
	Metrics  *Metrics
	// HA deduplicates HA pairs; nil turns deduplication off.
	HA *HATracker
	// Guardrails enables rate limiting and HA deduplication (series
	// limits are armed by SeriesLimiters). Off only for benchmarks.
	Guardrails bool
	// StoreRateLimits: the sample store enforces each workspace's ingestion
	// rate itself, across every node that writes to it (Cortex with its
	// global rate strategy), so this node's token bucket is not used: with
	// several nodes it would let through a multiple of the rate.
	StoreRateLimits bool
	Logger          *slog.Logger
}

// NewDistributor returns a distributor.
func NewDistributor(o DistributorOptions) *Distributor {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Distributor{storage: o.Storage, limits: o.Limits, metadata: newMetadataWriter(o.Metadata), metrics: o.Metrics,
		ha: o.HA, rate: newRateLimiters(), guardrails: o.Guardrails, storeRate: o.StoreRateLimits, logger: o.Logger, now: time.Now}
}

// acceptedSeries is one validated series of a request.
type acceptedSeries struct {
	lset labels.Labels
	// ref is the store's reference of a series it already has (0: new,
	// or a store that does not tell).
	ref storage.SeriesRef
	// hash is lset.Hash() when it was computed (0: not yet).
	hash uint64
	// key is the series' key in the workspace's RefCache (cached: it may
	// be put there).
	key        uint64
	cached     bool
	samples    []prompb.Sample
	histograms []prompb.Histogram
}

// Push ingests a write request into workspace ws. Strings in req may
// alias a buffer reused after Push returns: anything kept must be copied. Invalid series are
// dropped and the valid ones stored; the first problem is returned (as
// Mimir and AMP do, so Prometheus logs it and does not resend the batch).
func (d *Distributor) Push(ctx context.Context, ws string, req *prompb.WriteRequest) error {
	lim := d.limits.For(ws)
	now := d.now()
	var firstErr *Error
	keep := func(e *Error, n int) {
		if n > 0 && e.Reason != "" {
			d.metrics.SamplesDiscarded.WithLabelValues(ws, e.Reason).Add(float64(n))
		}
		if firstErr == nil {
			firstErr = e
		}
	}

	total := 0
	for i := range req.Timeseries {
		total += len(req.Timeseries[i].Samples) + len(req.Timeseries[i].Histograms)
	}
	d.metrics.SamplesReceived.WithLabelValues(ws).Add(float64(total))

	// HA pairs: only the elected replica's samples are stored, without the
	// replica label. The others are acknowledged (202) and dropped.
	dropLabel := ""
	if d.guardrails && d.ha != nil && lim.AcceptHASamples {
		if cluster, replica := haLabels(req, lim); cluster != "" && replica != "" {
			if e := d.ha.check(ctx, ws, cluster, replica, total, lim, now); e != nil {
				if e.Reason != "" {
					d.metrics.SamplesDiscarded.WithLabelValues(ws, e.Reason).Add(float64(total))
				}
				return e
			}
			dropLabel = lim.HAReplicaLabel
		}
	}

	// Throttling: a request that does not fit the token bucket is refused
	// whole (429, so the sender backs off and retries), before any work.
	if d.guardrails && !d.storeRate {
		if e := d.rate.take(ws, lim, total, len(req.Metadata), now); e != nil {
			d.metrics.SamplesDiscarded.WithLabelValues(ws, e.Reason).Add(float64(total))
			return e
		}
	}

	app, err := d.storage.Appender(ctx, ws)
	if errors.Is(err, tenantdb.ErrNotOpen) {
		return &Error{Status: http.StatusServiceUnavailable, Msg: fmt.Sprintf("workspace %s storage is not available; retry", ws)}
	}
	if err != nil {
		return fmt.Errorf("appender for %s: %w", ws, err)
	}
	refs, _ := app.(storage.GetRef)
	rc := newRefLookup(app, lim, dropLabel, d.hostIDs != nil)

	// Validate every series first: what gets stored is decided before
	// anything is. A series the store already has is kept with the
	// store's own label set and reference, so the steady state (every
	// series known) builds no label set per series; one this workspace
	// sent before in the same labels is found by them in its RefCache,
	// without validating, building or looking its label set up again.
	var b labels.ScratchBuilder
	var scratch labels.Labels
	accepted := slices.Grow(d.accepted.Get()[:0], len(req.Timeseries))
	defer func() {
		clear(accepted) // the label sets and samples are not kept alive
		d.accepted.Put(accepted[:0])
	}()
	for i := range req.Timeseries {
		ts := &req.Timeseries[i]
		n := len(ts.Samples) + len(ts.Histograms)
		if n == 0 {
			continue
		}
		key, cacheable := rc.key(ts.Labels)
		if cacheable {
			if s, ok := rc.get(key, ts.Labels); ok {
				accepted = append(accepted, acceptedSeries{lset: s.Labels, ref: s.Ref, key: key, cached: true, samples: ts.Samples, histograms: ts.Histograms})
				continue
			}
		}
		if verr := validateSeries(&b, &scratch, ts.Labels, lim, dropLabel); verr != nil {
			keep(verr, n)
			continue
		}
		lset, ref, hash := scratch, storage.SeriesRef(0), uint64(0)
		owned := false // lset is scratch's buffer, reused by the next series
		if d.hostIDs != nil {
			lset, owned = d.attachHost(ws, lset)
		}
		if refs != nil {
			var known labels.Labels
			hash = lset.Hash()
			if ref, known = refs.GetRef(lset, hash); ref != 0 {
				lset = known
				if cacheable {
					rc.put(key, tenantdb.CachedSeries{Ref: ref, Labels: lset})
				}
			}
		}
		if ref == 0 && !owned {
			lset = lset.Copy()
		}
		accepted = append(accepted, acceptedSeries{lset: lset, ref: ref, hash: hash, key: key, cached: cacheable && refs != nil, samples: ts.Samples, histograms: ts.Histograms})
	}

	if len(accepted) == 0 {
		_ = app.Rollback()
	} else if err := d.appendSeries(ws, app, lim, now, accepted, rc, keep); err != nil {
		return err
	}
	if len(req.Metadata) > 0 {
		d.metrics.MetadataReceived.WithLabelValues(ws).Add(float64(len(req.Metadata)))
		if err := d.metadata.write(ctx, ws, req.Metadata, lim, now); err != nil {
			var e *Error
			if errors.As(err, &e) {
				keep(e, 0)
			} else {
				d.logger.Warn("store metric metadata", "workspace", ws, "err", err)
			}
		}
	}
	if firstErr != nil {
		return firstErr
	}
	return nil
}

// attachHost adds host_id to a series that names a host by
// custom_identifier (and carries no host_id of its own); owned: the label
// set returned is a new one, not lset.
func (d *Distributor) attachHost(ws string, lset labels.Labels) (_ labels.Labels, owned bool) {
	ident := lset.Get(CustomIdentifierLabel)
	if ident == "" || lset.Has(HostIDLabel) {
		return lset, false
	}
	id, ok := d.hostIDs(ws, ident)
	if !ok {
		return lset, false
	}
	return labels.NewBuilder(lset).Set(HostIDLabel, id).Labels(), true
}

// appendSeries stages the accepted series in app and commits them (or
// rolls everything back on a store error).
func (d *Distributor) appendSeries(ws string, app storage.Appender, lim *limits.Limits, now time.Time, series []acceptedSeries, rc *refLookup, keep func(*Error, int)) error {
	minT := int64(0)
	if lim.MaxSampleAge > 0 {
		minT = now.Add(-time.Duration(lim.MaxSampleAge)).UnixMilli()
	}
	maxT := int64(1<<63 - 1)
	if lim.CreationGracePeriod > 0 {
		maxT = now.Add(time.Duration(lim.CreationGracePeriod)).UnixMilli()
	}
	ingested := 0
	// The TSDB's head checks a sample against what is committed only, and
	// at commit drops out-of-order and duplicate samples of the same batch
	// silently: those are refused here, per series, across the request's
	// entries (a series may come in several). A series the store has is
	// known by its reference, a new one by its label set's hash; a new
	// series is also known by its reference once created (another entry
	// may find it so, in the RefCache, if another request created it).
	var seen map[seenKey]lastSample
	if len(series) > 1 && !d.distinctRefs(series) {
		if seen = d.seen.Get(); seen == nil {
			seen = map[seenKey]lastSample{}
		}
		defer func() { clear(seen); d.seen.Put(seen) }()
	}
	for _, s := range series {
		ref := s.ref
		last := lastSample{ts: math.MinInt64}
		var byHash seenKey
		if seen != nil {
			if ref != 0 {
				if prev, ok := seen[seenKey{ref: ref}]; ok {
					last = prev
				}
			} else {
				byHash.hash = s.hash
				if byHash.hash == 0 {
					byHash.hash = s.lset.Hash()
				}
				if prev, ok := seen[byHash]; ok && labels.Equal(prev.lset, s.lset) {
					last = prev
				}
			}
		}
		for _, smp := range s.samples {
			if e := checkTime(smp.Timestamp, minT, maxT, s.lset); e != nil {
				keep(e, 1)
				continue
			}
			if e := last.follows(smp.Timestamp, s.lset); e != nil {
				keep(e, 1)
				continue
			}
			r, err := app.Append(ref, s.lset, smp.Timestamp, smp.Value)
			if err != nil {
				if e := appendError(err, smp.Timestamp, s.lset); e != nil {
					keep(e, 1)
					continue
				}
				_ = app.Rollback()
				return fmt.Errorf("append to %s: %w", ws, err)
			}
			ref, last.ts = r, smp.Timestamp
			ingested++
		}
		for _, h := range s.histograms {
			if e := checkTime(h.Timestamp, minT, maxT, s.lset); e != nil {
				keep(e, 1)
				continue
			}
			if e := last.follows(h.Timestamp, s.lset); e != nil {
				keep(e, 1)
				continue
			}
			var r storage.SeriesRef
			var err error
			if h.IsFloatHistogram() {
				r, err = app.AppendHistogram(ref, s.lset, h.Timestamp, nil, h.ToFloatHistogram())
			} else {
				r, err = app.AppendHistogram(ref, s.lset, h.Timestamp, h.ToIntHistogram(), nil)
			}
			if err != nil {
				if e := appendError(err, h.Timestamp, s.lset); e != nil {
					keep(e, 1)
					continue
				}
				_ = app.Rollback()
				return fmt.Errorf("append histogram to %s: %w", ws, err)
			}
			ref, last.ts = r, h.Timestamp
			ingested++
		}
		if s.cached && ref != 0 && ref != s.ref {
			// New, or created again after the head dropped it.
			rc.put(s.key, tenantdb.CachedSeries{Ref: ref, Labels: s.lset})
		}
		if seen != nil && last.ts != math.MinInt64 {
			l := lastSample{lset: s.lset, ts: last.ts}
			if s.ref != 0 {
				seen[seenKey{ref: s.ref}] = l
			}
			if ref != 0 && ref != s.ref {
				seen[seenKey{ref: ref}] = l
			}
			if byHash.hash != 0 {
				if prev, ok := seen[byHash]; !ok || labels.Equal(prev.lset, s.lset) {
					seen[byHash] = l
				}
			}
		}
	}
	// Commit writes the WAL record: only now is the push acknowledged.
	if err := app.Commit(); err != nil {
		var ref refusal
		if errors.As(err, &ref) && ref.HTTPStatus()/100 == 4 {
			// The scale-out store (Cortex) refused the batch with an answer
			// for the client: its status and message are AMP's. A 429
			// stored nothing; a 400 stored the valid samples and Cortex
			// counts what it discarded.
			switch {
			case ref.HTTPStatus() == http.StatusTooManyRequests:
				d.metrics.SamplesDiscarded.WithLabelValues(ws, ref.Reason()).Add(float64(ingested))
			case ref.Reason() != "":
				// Cortex names the first refused sample only: counted
				// as one (a lower bound of what it discarded).
				d.metrics.SamplesDiscarded.WithLabelValues(ws, ref.Reason()).Inc()
				d.metrics.SamplesIngested.WithLabelValues(ws).Add(float64(ingested - 1))
			}
			return &Error{Status: ref.HTTPStatus(), Reason: ref.Reason(), Msg: ref.Error()}
		}
		return &Error{Status: http.StatusInternalServerError, Msg: fmt.Sprintf("commit to workspace %s storage failed; retry: %v", ws, err)}
	}
	d.metrics.SamplesIngested.WithLabelValues(ws).Add(float64(ingested))
	return nil
}

// lastSample is the newest sample of a series staged in this request.
type lastSample struct {
	lset labels.Labels
	ts   int64
}

// seenKey is a series of a request: by its reference, or by its label
// set's hash (labels compared) while it has none.
type seenKey struct {
	ref  storage.SeriesRef
	hash uint64
}

// distinctRefs reports whether every series of a request has the store's
// reference and no two share one: then no entry can repeat another's
// series, and appendSeries needs no map of what it has seen. That is a
// steady remote_write stream's every request, and sorting its references
// costs a fifth of the two map operations per series it saves.
func (d *Distributor) distinctRefs(series []acceptedSeries) bool {
	refs := d.refs.Get()[:0]
	defer func() { d.refs.Put(refs[:0]) }()
	for _, s := range series {
		if s.ref == 0 {
			return false // new: known by its hash until it is created
		}
		refs = append(refs, s.ref)
	}
	slices.Sort(refs)
	for i := 1; i < len(refs); i++ {
		if refs[i] == refs[i-1] {
			return false
		}
	}
	return true
}

// follows refuses a sample that is not newer than the series' last one in
// the same request, as AMP and Cortex do (the head would drop it at
// commit and count it nowhere).
func (l *lastSample) follows(ts int64, lset labels.Labels) *Error {
	if l.ts == math.MinInt64 || ts > l.ts {
		return nil
	}
	when := time.UnixMilli(ts).UTC().Format(time.RFC3339Nano)
	series := trunc(lset.String(), 200)
	if ts == l.ts {
		return badData(ReasonNewValueForTS, "duplicate sample for timestamp: the request carries two samples with the same timestamp for one series; send each timestamp once. The affected sample has timestamp %s and is from series %s", when, series)
	}
	return badData(ReasonOutOfOrder, "out of order sample: the request carries samples of one series out of time order; sort them by timestamp. The affected sample has timestamp %s and is from series %s", when, series)
}

func checkTime(ts, minT, maxT int64, lset labels.Labels) *Error {
	if ts < minT {
		return badData(ReasonMaxSampleAge, "the sample has been rejected because its timestamp is older than the maximum sample age of the workspace: timestamp %s, series %s",
			time.UnixMilli(ts).UTC().Format(time.RFC3339Nano), trunc(lset.String(), 200))
	}
	if ts > maxT {
		return badData(ReasonTooFarInFuture, "received a sample with a timestamp too far in the future, timestamp: %s series: %s",
			time.UnixMilli(ts).UTC().Format(time.RFC3339Nano), trunc(lset.String(), 200))
	}
	return nil
}

// appendError maps the TSDB's per-sample rejections to discard reasons;
// other errors are failures of the storage (nil is returned for those).
func appendError(err error, ts int64, lset labels.Labels) *Error {
	when := time.UnixMilli(ts).UTC().Format(time.RFC3339Nano)
	series := trunc(lset.String(), 200)
	switch {
	case errors.Is(err, storage.ErrOutOfOrderSample), errors.Is(err, storage.ErrTooOldSample):
		return badData(ReasonOutOfOrder, "out of order sample: the sample has been rejected because another sample with a more recent timestamp has already been ingested and out-of-order samples are not allowed. The affected sample has timestamp %s and is from series %s", when, series)
	case errors.Is(err, storage.ErrOutOfBounds):
		return badData(ReasonMaxSampleAge, "out of bounds: the sample has been rejected because its timestamp is too old. The affected sample has timestamp %s and is from series %s", when, series)
	case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
		return badData(ReasonNewValueForTS, "duplicate sample for timestamp: the sample has been rejected because another sample with the same timestamp, but a different value, has already been ingested. The affected sample has timestamp %s and is from series %s", when, series)
	}
	var sl *seriesLimitError
	if errors.As(err, &sl) {
		// AMP's troubleshooting guide shows these as 400
		// (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-troubleshooting.html):
		// the sender must not resend (and the rest of the request was stored).
		return &Error{Status: http.StatusBadRequest, Reason: sl.reason, Msg: sl.msg + " (series " + series + ")"}
	}
	var he histogram.Error
	if errors.As(err, &he) {
		return badData(ReasonLabelInvalid, "invalid native histogram: %v (timestamp %s, series %s)", err, when, series)
	}
	return nil
}
