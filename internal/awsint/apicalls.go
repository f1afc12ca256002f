package awsint

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the integration's own metrics: every AWS API call (each HTTP
// attempt) per integration, service and action, and what polls did.
type metrics struct {
	calls             *prometheus.CounterVec
	metricsRequested  *prometheus.CounterVec
	samplesWritten    *prometheus.CounterVec
	pollDuration      *prometheus.HistogramVec
	pollFailures      *prometheus.CounterVec
	hostsRetired      *prometheus.CounterVec
	lastPollTimestamp *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kansoku_aws_api_calls_total",
			Help: "AWS API calls made by AWS integrations (each HTTP attempt), by integration, AWS service, action and result (ok or the AWS error code).",
		}, []string{"integration", "service", "action", "result"}),
		metricsRequested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kansoku_aws_cloudwatch_metrics_requested_total",
			Help: "Metrics requested with GetMetricData, CloudWatch's billing unit ($0.01 per 1,000), by integration.",
		}, []string{"integration"}),
		samplesWritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kansoku_aws_samples_written_total",
			Help: "Samples written into workspaces from CloudWatch datapoints, by integration.",
		}, []string{"integration"}),
		pollDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kansoku_aws_poll_duration_seconds", Help: "Duration of AWS integration polls.",
			Buckets: []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300},
		}, []string{"integration"}),
		pollFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kansoku_aws_poll_failures_total", Help: "AWS integration polls that failed or were stopped (over-privileged), by integration.",
		}, []string{"integration"}),
		hostsRetired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kansoku_aws_hosts_retired_total", Help: "Hosts retired automatically because their resource was deleted, by integration.",
		}, []string{"integration"}),
		lastPollTimestamp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kansoku_aws_last_poll_timestamp_seconds", Help: "When each integration's last poll finished.",
		}, []string{"integration"}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.metricsRequested, m.samplesWritten, m.pollDuration, m.pollFailures, m.hostsRetired, m.lastPollTimestamp)
	}
	return m
}

func (m *metrics) forget(id string) {
	l := prometheus.Labels{"integration": id}
	m.calls.DeletePartialMatch(l)
	for _, v := range []*prometheus.CounterVec{m.metricsRequested, m.samplesWritten, m.pollFailures, m.hostsRetired} {
		v.DeletePartialMatch(l)
	}
	m.pollDuration.DeletePartialMatch(l)
	m.lastPollTimestamp.DeletePartialMatch(l)
}

// tally counts the calls of one poll (carried in the context).
type tally struct {
	mu    sync.Mutex
	calls map[string]int
}

type tallyKey struct{}

func withTally(ctx context.Context, t *tally) context.Context {
	return context.WithValue(ctx, tallyKey{}, t)
}

func (t *tally) add(key string) {
	t.mu.Lock()
	t.calls[key]++
	t.mu.Unlock()
}

func (t *tally) snapshot() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.calls))
	for k, v := range t.calls {
		out[k] = v
	}
	return out
}

// instrument makes every call made with cfg counted: in the service's
// metrics and in the poll's tally, if the context has one.
func (m *metrics) instrument(cfg *aws.Config, integration string) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("KansokuCountAPICalls",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				svc, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
				result := "ok"
				if err != nil {
					var ae smithy.APIError
					if errors.As(err, &ae) {
						result = ae.ErrorCode()
					} else {
						result = "error"
					}
				}
				m.calls.WithLabelValues(integration, svc, op, result).Inc()
				if t, ok := ctx.Value(tallyKey{}).(*tally); ok {
					t.add(svc + ":" + op)
				}
				return out, md, err
			}), middleware.After)
	})
}
