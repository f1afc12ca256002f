package awssim

import (
	"sync"
	"time"
)

// Call is one simulated API call as the simulator saw it, for tests that
// assert what a client called (and did not call).
type Call struct {
	Time      time.Time
	Service   string // SigV4 signing name: sts, ec2, monitoring, tagging ...
	Action    string // API operation: AssumeRole, GetMetricData ...
	Region    string
	Principal string // ARN of the caller
	Account   string // account the principal acts in
	// ErrorCode is the AWS error code returned, "" on success.
	ErrorCode string
	// MetricQueries are the metrics a GetMetricData call asked for.
	MetricQueries []MetricQuery
}

// MetricQuery is one MetricStat query of a GetMetricData call.
type MetricQuery struct {
	ID         string
	Namespace  string
	MetricName string
	Dimensions map[string]string
	Period     int32
	Stat       string
}

type callLog struct {
	mu    sync.Mutex
	calls []Call
}

// record appends a call to the log. detail may add MetricQueries.
func (s *Server) record(req *request, action string, err *apiError, queries []MetricQuery) {
	c := Call{Time: req.time, Service: req.service, Action: action, Region: req.region, MetricQueries: queries}
	if req.principal != nil {
		c.Principal, c.Account = req.principal.ARN, req.principal.AccountID
	}
	if err != nil {
		c.ErrorCode = err.code
	}
	s.calls.mu.Lock()
	s.calls.calls = append(s.calls.calls, c)
	s.calls.mu.Unlock()
}

// Calls returns the calls recorded since the last ResetCalls, oldest first.
func (s *Server) Calls() []Call {
	s.calls.mu.Lock()
	defer s.calls.mu.Unlock()
	return append([]Call(nil), s.calls.calls...)
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.calls.mu.Lock()
	s.calls.calls = nil
	s.calls.mu.Unlock()
}
