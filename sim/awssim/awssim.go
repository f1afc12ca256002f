package awssim

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// DefaultRegion is the region of a Server whose Options name none.
const DefaultRegion = "us-east-1"

// maxRequestBody bounds what a request may carry. SNS accepts 256 KiB of
// message plus 256 KiB of attributes, which form encoding can triple.
const maxRequestBody = 8 << 20

// Options configure a Server.
type Options struct {
	// Region is the only region the simulator answers for (credential scopes
	// must name it). Empty: DefaultRegion.
	Region string
	// Credentials maps access key ids to their secret access keys. Requests
	// signed with any other key get InvalidClientTokenId.
	Credentials map[string]string
	// Now is the simulator's clock, used for the signature time check.
	// Nil: time.Now.
	Now func() time.Time
}

// Server simulates AWS service endpoints. It is safe for concurrent use.
type Server struct {
	region string
	// now is the simulated world's clock (SetNow moves it): which
	// CloudWatch datapoints exist. authNow is the wall clock that SigV4
	// signatures, session expiry and Date headers use, as the SDK signs
	// with the wall clock (Options.Now sets both).
	now      func() time.Time
	authNow  func() time.Time
	services map[string]service // by SigV4 signing name

	mu       sync.Mutex // failures
	failures []injectedFailure

	ids      identities
	world    sync.RWMutex // scenario
	scenario *Scenario
	series   seriesCache // CloudWatch's metrics of the scenario
	calls    callLog

	sns *snsService
}

// errorWriter writes errors in a protocol's wire format.
type errorWriter interface {
	writeError(w http.ResponseWriter, e *apiError, requestID string)
}

// service is one simulated AWS service.
type service interface {
	errorWriter
	// serve handles a request whose signature has been verified.
	serve(w http.ResponseWriter, r *http.Request, req *request)
}

// request is what ServeHTTP learnt about an authenticated request.
type request struct {
	id          string // request id returned to the client
	accessKeyID string
	service     string
	// region is the region of the request's credential scope.
	region    string
	principal *principal
	body      []byte
	time      time.Time
}

// apiError is an AWS error as a service reports it.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// injectedFailure makes the next calls of an action fail.
type injectedFailure struct {
	service, action string
	remaining       int
	err             apiError
}

// New returns a Server with the given options.
func New(opts Options) *Server {
	s := &Server{
		region: opts.Region,
		now:    opts.Now,
		ids:    identities{static: map[string]string{}, keys: map[string]keyOwner{}, sessions: map[string]*session{}},
	}
	if s.region == "" {
		s.region = DefaultRegion
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.authNow = s.now
	for k, v := range opts.Credentials {
		s.ids.static[k] = v
	}
	s.services = s.newServices()
	return s
}

// newServices builds every simulated service, keyed by the SigV4 signing
// name that requests name in their credential scope. This is the one list
// of services: adding one is its file plus a line here.
func (s *Server) newServices() map[string]service {
	s.sns = newSNSService(s)
	return map[string]service{
		stsSigningName:        newSTSService(s),
		cloudWatchSigningName: newCloudWatchService(s),
		ec2SigningName:        newEC2Service(s),
		elbService:            newELBService(s), // Classic and ELBv2
		rdsService:            newRDSService(s),
		lambdaService:         newLambdaService(s),
		dynamoDBService:       newDynamoDBService(s),
		sqsService:            newSQSService(s),
		snsSigningName:        s.sns,
		taggingSigningName:    newTaggingService(s),
		eksSigningName:        newEKSService(s),
		// The other products of the AWS integration (services_*.go).
		"elasticache":       newElastiCacheService(s),
		"redshift":          newRedshiftService(s),
		"ses":               newSESService(s),
		"cloudfront":        &cloudFrontSim{s: s},
		"route53":           &route53Sim{s: s},
		"s3":                &s3Sim{s: s},
		"apigateway":        newAPIGatewayService(s), // REST, HTTP and WebSocket APIs
		"es":                newOpenSearchService(s),
		"elasticfilesystem": newEFSService(s),
		"batch":             newBatchService(s),
		"connect":           newConnectService(s),
		"kinesis":           newKinesisService(s),
		"ecs":               newECSService(s),
		"states":            newStatesService(s),
		"firehose":          newFirehoseService(s),
		"wafv2":             newWAFv2Service(s),
		"waf":               newWAFClassicService(s, "waf:webacl", "AWSWAF_20150824", "waf"),
		"waf-regional":      newWAFClassicService(s, "waf-regional:webacl", "AWSWAF_Regional_20161128", "waf-regional"),
		"budgets":           newBudgetsService(s),
		"codebuild":         newCodeBuildService(s),
		"athena":            newAthenaService(s),
	}
}

// Region returns the region the simulator answers for.
func (s *Server) Region() string { return s.region }

// AddCredentials adds (or replaces) an access key the simulator accepts.
func (s *Server) AddCredentials(accessKeyID, secretAccessKey string) {
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	s.ids.static[accessKeyID] = secretAccessKey
}

// FailNextAction makes the next n authenticated calls of service's action
// (service as in the SigV4 scope, e.g. "sns"; action e.g. "Publish") fail
// with the given HTTP status and AWS error code, before any other
// validation. The failed calls have no effect.
func (s *Server) FailNextAction(service, action string, n, status int, code string) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, injectedFailure{
		service:   service,
		action:    action,
		remaining: n,
		err: apiError{
			status:  status,
			code:    code,
			message: fmt.Sprintf("awssim: injected failure of %s:%s", service, action),
		},
	})
}

// takeFailure consumes one injected failure for service's action, if any.
func (s *Server) takeFailure(service, action string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.failures {
		f := &s.failures[i]
		if f.service != service || f.action != action {
			continue
		}
		e := f.err
		f.remaining--
		if f.remaining == 0 {
			s.failures = append(s.failures[:i], s.failures[i+1:]...)
		}
		return &e
	}
	return nil
}

// ServeHTTP authenticates r and dispatches it to the service named in its
// SigV4 credential scope.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := uuid.NewString()

	// Requests that name no known service get their errors in the Query
	// protocol's envelope, the most common one.
	var fallback errorWriter = queryErrors{}
	svcName, hasScope := scopeService(r)
	svc, known := s.services[svcName]
	if known {
		fallback = svc
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			fallback.writeError(w, errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				"Request body exceeds %d bytes", maxRequestBody), requestID)
			return
		}
		fallback.writeError(w, errorf(http.StatusBadRequest, "MalformedInput", "cannot read the request body"), requestID)
		return
	}

	if !hasScope {
		// Let the verifier say precisely what is missing or malformed.
		v := sigV4Verifier{region: s.region, service: "", now: s.authNow, lookup: s.credential}
		_, err := v.verify(r, body)
		if err == nil {
			err = incompleteSignature("Credential must have the form <AccessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request")
		}
		fallback.writeError(w, err, requestID)
		return
	}
	if !known {
		fallback.writeError(w, errorf(http.StatusBadRequest, "UnknownService",
			"awssim does not simulate the service %q named in the credential scope", svcName), requestID)
		return
	}

	region := s.region
	s.world.RLock()
	multiRegion := s.scenario != nil
	s.world.RUnlock()
	if multiRegion { // a scenario spans regions: the scope names the request's
		region = scopeRegion(r)
	}
	v := sigV4Verifier{region: region, service: svcName, now: s.authNow, lookup: s.credential}
	keyID, verr := v.verify(r, body)
	if verr != nil {
		svc.writeError(w, verr, requestID)
		return
	}
	p, perr := s.principalOf(r, keyID)
	if perr != nil {
		svc.writeError(w, perr, requestID)
		return
	}
	svc.serve(w, r, &request{
		id:          requestID,
		accessKeyID: keyID,
		service:     svcName,
		region:      region,
		principal:   p,
		body:        body,
		time:        s.now(),
	})
}

// scopeRegion returns the region named in r's SigV4 credential scope.
func scopeRegion(r *http.Request) string {
	parts := strings.Split(scopeCredential(r), "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[2]
}

// scopeService returns the service named in r's SigV4 credential scope,
// from the Authorization header or a presigned URL's X-Amz-Credential.
func scopeService(r *http.Request) (string, bool) {
	parts := strings.Split(scopeCredential(r), "/")
	if len(parts) != 5 || parts[3] == "" || parts[4] != "aws4_request" {
		return "", false
	}
	return parts[3], true
}

// scopeCredential returns the Credential element of r's SigV4 auth.
func scopeCredential(r *http.Request) string {
	var credential string
	if h := r.Header.Get("Authorization"); h != "" {
		rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
		if !ok {
			return ""
		}
		for _, part := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Credential="); ok {
				credential = v
				break
			}
		}
	} else if q, err := url.ParseQuery(r.URL.RawQuery); err == nil {
		credential = q.Get("X-Amz-Credential")
	}
	return credential
}
