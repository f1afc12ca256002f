package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/tenant"
	"github.com/kansoku/kansoku/internal/workspace"
)

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// errBodyTooLarge is returned when a body is over the route's limit.
type errBodyTooLarge struct{ limit int64 }

func (e errBodyTooLarge) Error() string {
	return fmt.Sprintf("request body too large: the limit is %d bytes (for remote_write, the workspace's max_request_bytes; send smaller batches with queue_config.max_samples_per_send)", e.limit)
}

// readBody reads a request's body, up to the route's limit (for
// remote_write, the workspace's max_request_bytes) and within the server's
// body read timeout, so a slow client cannot hold the connection.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, rt route) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	limit := rt.MaxBody
	if rt.Plane == httpapi.Write && s.opts.Limits != nil {
		if ws := r.PathValue("workspaceId"); workspace.ValidateID(ws) == nil {
			if l := int64(s.opts.Limits.For(ws).MaxRequestBytes); l < limit {
				limit = l
			}
		}
	}
	if r.ContentLength > limit {
		return nil, errBodyTooLarge{limit}
	}
	rc := http.NewResponseController(w)
	if s.opts.BodyReadTimeout > 0 {
		_ = rc.SetReadDeadline(time.Now().Add(s.opts.BodyReadTimeout)) // unsupported: no deadline
	}
	b, err := s.bodies.readAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		// Closing the unread body makes the server close the connection
		// after the answer instead of reading on from a slow client.
		r.Body.Close()
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if s.opts.BodyReadTimeout > 0 {
		// Later reads (the server's check for a client that went away)
		// must not hit the deadline.
		_ = rc.SetReadDeadline(time.Time{})
	}
	if int64(len(b)) > limit {
		r.Body.Close()
		return nil, errBodyTooLarge{limit}
	}
	return b, nil
}

// forwardedHeader marks a request another node forwarded (cluster).
const forwardedHeader = "X-Kansoku-Forwarded"

// wrap builds the pipeline of one route: request id, metrics, recovery,
// body, authentication, workspace, authorization, handler, audit.
func (s *Server) wrap(declared route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := declared // a Dispatch route names each request's own action
		start := time.Now()
		reqID := newRequestID()
		w.Header().Set("x-amzn-RequestId", reqID)
		ctx := httpapi.WithRequest(r.Context(), reqID, s.logger, s.opts.Authz)
		ctx = auth.WithRequestInfo(ctx, auth.RequestInfo{SourceIP: httpapi.SourceIP(r), Secure: r.TLS != nil, Region: s.opts.ARNs.Region})
		rec := &statusRecorder{ResponseWriter: w}
		var out http.ResponseWriter = rec
		var capture *captureWriter
		// A forwarded request was audited by the node that took it.
		if rt.Plane == httpapi.Control || rt.Plane == httpapi.Query || (rt.Audited && r.Header.Get(forwardedHeader) == "") {
			capture = &captureWriter{statusRecorder: rec}
			out = capture
		}
		defer func() {
			if p := recover(); p != nil {
				if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(p)
				}
				s.logger.Error("panic serving request", "route", rt.Pattern, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					httpapi.WriteError(rec, r, rt.Plane, apierr.Internal("internal error (request id %s)", reqID))
				}
			}
			code := rec.status
			if code == 0 {
				code = http.StatusOK
			}
			s.metrics.requests.WithLabelValues(rt.Name, r.Method, strconv.Itoa(code)).Inc()
			s.metrics.duration.WithLabelValues(rt.Name).Observe(time.Since(start).Seconds())
			if code >= 500 && rt.Plane != httpapi.Public {
				s.logger.Warn("request failed", "route", rt.Name, "method", r.Method, "status", code, "request_id", reqID)
			} else {
				s.logger.Debug("request", "route", rt.Name, "method", r.Method, "status", code, "duration", time.Since(start), "request_id", reqID)
			}
		}()
		r = r.WithContext(ctx)

		if rt.Plane == httpapi.Public {
			if r.ContentLength != 0 && s.opts.BodyReadTimeout > 0 {
				rc := http.NewResponseController(rec)
				if rc.SetReadDeadline(time.Now().Add(s.opts.BodyReadTimeout)) == nil {
					defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
				}
			}
			rt.Handler.ServeHTTP(rec, r)
			return
		}

		if s.opts.Peers != nil && r.Header.Get(forwardedHeader) != "" {
			// Another node of the cluster authenticated this request and
			// forwarded it to the node that owns its workspace: the node's
			// signature stands for the client's credential; authorization
			// runs here as everywhere.
			body, err := s.readBody(rec, r, rt)
			if err != nil {
				httpapi.WriteError(rec, r, rt.Plane, apierr.Validation(apierr.ReasonCannotParse, "%v", err))
				return
			}
			id, info, err := s.opts.Peers.Verify(r, body)
			if err != nil {
				s.metrics.authFailures.WithLabelValues("ForwardedRequestRefused").Inc()
				s.refuse(rec, r, rt, nil, "", &auth.Error{Code: auth.CodeMissingAuth, Message: err.Error()})
				return
			}
			info.Region = s.opts.ARNs.Region
			r.Body = io.NopCloser(bytes.NewReader(body))
			r = r.WithContext(auth.WithIdentity(auth.WithRequestInfo(httpapi.WithBody(r.Context(), body), info), id))
			s.serveAuthenticated(rec, out, capture, r, rt, id, false)
			return
		}

		// Authenticate from the headers first: a request that fails is
		// refused before its body is read, so an unauthenticated client
		// cannot make the server buffer anything.
		attempt, err := s.opts.Authn.BeginFor(r.Context(), r, rt.SigV4Services)
		anonymous := false
		if err != nil && rt.Unsigned != nil && rt.Dispatch != nil && authFailureCode(err) == auth.CodeMissingAuth && !hasCredentials(r) {
			// No credentials at all: the one operation that is unsigned
			// on AWS too (AssumeRoleWithWebIdentity) may follow, in a
			// small body.
			anonymous = true
			rt.MaxBody = min(rt.MaxBody, rt.UnsignedMaxBody)
		}
		if err != nil && !anonymous {
			if r.Body != nil {
				r.Body.Close() // not read: the connection closes after the answer
			}
			s.metrics.authFailures.WithLabelValues(authFailureCode(err)).Inc()
			s.refuse(rec, r, rt, nil, "", err)
			return
		}
		body, readErr := s.readBody(rec, r, rt)
		if anonymous && readErr == nil {
			r = r.WithContext(httpapi.WithBody(r.Context(), body))
			if !rt.Unsigned(r) {
				s.metrics.authFailures.WithLabelValues(authFailureCode(err)).Inc()
				s.refuse(rec, r, rt, nil, "", err)
				return
			}
		}
		err = readErr
		if err != nil {
			var tooLarge errBodyTooLarge
			if errors.As(err, &tooLarge) {
				httpapi.WriteError(rec, r, rt.Plane, &apierr.Error{Type: "RequestEntityTooLargeException", Status: http.StatusRequestEntityTooLarge, Message: err.Error()})
				return
			}
			httpapi.WriteError(rec, r, rt.Plane, apierr.Validation(apierr.ReasonCannotParse, "%v", err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r = r.WithContext(httpapi.WithBody(r.Context(), body))

		var id *auth.Identity
		if !anonymous {
			id, err = attempt.Finish(r.Context(), body)
			if err != nil {
				s.metrics.authFailures.WithLabelValues(authFailureCode(err)).Inc()
				s.refuse(rec, r, rt, nil, "", err)
				return
			}
			r = r.WithContext(auth.WithIdentity(r.Context(), id))
		}

		s.serveAuthenticated(rec, out, capture, r, rt, id, anonymous)
	})
}

// serveAuthenticated runs the rest of a route's pipeline for an
// authenticated (or, for the one unsigned operation, anonymous) request:
// dispatch, request tags, workspace, authorization, handler, audit.
func (s *Server) serveAuthenticated(rec *statusRecorder, out http.ResponseWriter, capture *captureWriter, r *http.Request, rt route, id *auth.Identity, anonymous bool) {
	var dispatched *httpapi.Dispatched
	if rt.Dispatch != nil {
		d, err := rt.Dispatch(r)
		if err != nil {
			httpapi.WriteError(rec, r, rt.Plane, err)
			return
		}
		if anonymous && !d.AuthOnly {
			s.metrics.authFailures.WithLabelValues(auth.CodeMissingAuth).Inc()
			s.refuse(rec, r, rt, nil, "", auth.AuthErr(auth.CodeMissingAuth, "Request is missing Authentication Token: %s must be signed", d.Action))
			return
		}
		rt.Action, rt.AuthOnly, dispatched = d.Action, d.AuthOnly, &d
		if d.RequestTags != nil {
			r = r.WithContext(auth.WithRequestTags(r.Context(), *d.RequestTags))
		}
	}
	if s.throttled(rec, r, rt, id) {
		return
	}
	if rt.RequestTags != nil {
		tags, err := rt.RequestTags(r)
		if err != nil {
			httpapi.WriteError(rec, r, rt.Plane, err)
			return
		}
		if tags != nil {
			r = r.WithContext(auth.WithRequestTags(r.Context(), *tags))
		}
	}

	if rt.Workspace {
		wsID := r.PathValue("workspaceId")
		if err := workspace.ValidateID(wsID); err != nil {
			httpapi.WriteError(rec, r, rt.Plane, err)
			return
		}
		if _, ok := s.opts.Workspaces.Active(wsID); !ok {
			if s.opts.Ready != nil && !s.opts.Ready() {
				// At start the workspaces' storage opens after the
				// listener: a known workspace is not gone, it is not
				// open yet, and clients (remote_write) must retry.
				httpapi.WriteError(rec, r, rt.Plane, apierr.Unavailable(1, "the server is starting; retry"))
				return
			}
			httpapi.WriteError(rec, r, rt.Plane, apierr.NotFound(workspace.ResourceType, wsID, "workspace %s does not exist or is not ACTIVE", wsID))
			return
		}
		r = r.WithContext(tenant.WithWorkspace(r.Context(), wsID))
	}

	resource := ""
	if dispatched != nil && len(dispatched.Resources) > 0 {
		resource = dispatched.Resources[0]
	}
	if !rt.AuthOnly {
		resources, err := s.resourcesFor(rt, r)
		if dispatched != nil {
			resources, err = dispatched.Resources, nil
		}
		if err != nil {
			httpapi.WriteError(rec, r, rt.Plane, err)
			return
		}
		if len(resources) == 0 {
			resources = []string{"*"}
		}
		resource = resources[0]
		if denied, err := s.authorizeAll(r.Context(), id, rt.Action, resources); err != nil {
			s.metrics.authzFailures.WithLabelValues(rt.Action).Inc()
			s.refuse(rec, r, rt, id, denied, err)
			return
		}
	}
	rt.Handler.ServeHTTP(out, r)
	if capture != nil && s.opts.Audit != nil && !rt.NoAudit {
		code := rec.status
		if code == 0 {
			code = http.StatusOK
		}
		errCode, errMsg := "", ""
		if code >= 400 {
			errCode = rec.Header().Get("X-Amzn-ErrorType")
			var m struct{ Message string }
			if rt.Plane == httpapi.Query {
				var x struct {
					Error struct{ Message string }
				}
				_ = xml.Unmarshal(capture.buf.Bytes(), &x)
				m.Message = x.Error.Message
			} else {
				_ = json.Unmarshal(capture.buf.Bytes(), &m)
			}
			errMsg = m.Message
		}
		s.opts.Audit.Record(s.auditEvent(r, rt, id, resource, code, errCode, errMsg, capture.buf.Bytes()))
	}
}

// throttled takes a token of the account's control-plane quota for an
// AMP control-plane operation and, when there is none, answers
// ThrottlingException (429, Retry-After), which the AWS CLI and SDKs
// retry, and records it in the audit trail as CloudTrail does.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, rt route, id *auth.Identity) bool {
	if s.opts.Throttle == nil || rt.Plane != httpapi.Control || !strings.HasPrefix(rt.Action, "aps:") {
		return false
	}
	ok, wait, err := s.opts.Throttle.Take(r.Context(), s.opts.ARNs.AccountID)
	if err != nil {
		// The shared bucket is out of reach: serve rather than refuse
		// every control-plane call while the database is down.
		s.logger.Warn("control-plane throttle", "err", err)
		return false
	}
	if ok {
		return false
	}
	s.metrics.throttled.WithLabelValues(rt.Action).Inc()
	e := apierr.Throttling(max(1, int(math.Ceil(wait.Seconds()))),
		"Rate exceeded: control-plane operations are limited per account (%s); retry with backoff", rt.Action)
	if s.opts.Audit != nil {
		s.opts.Audit.Record(s.auditEvent(r, rt, id, "", e.Status, e.Type, e.Message, nil))
	}
	httpapi.WriteError(w, r, rt.Plane, e)
	return true
}

// refuse answers an authentication or authorization failure, logs it and
// puts it in the audit trail.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, rt route, id *auth.Identity, resource string, err error) {
	s.logger.Info("request refused", "route", rt.Name, "method", r.Method, "remote", r.RemoteAddr, "reason", err.Error())
	e := httpapi.ToAWSError(err, r)
	if s.opts.Audit != nil {
		s.opts.Audit.Record(s.auditEvent(r, rt, id, resource, e.Status, e.Type, e.Message, nil))
	}
	httpapi.WriteError(w, r, rt.Plane, e)
}

// authorizeAll checks action on every resource and returns the first one
// refused, with the refusal.
func (s *Server) authorizeAll(ctx context.Context, id *auth.Identity, action string, resources []string) (string, error) {
	for _, res := range resources {
		if err := s.opts.Authz.Authorize(ctx, id, action, res); err != nil {
			return res, err
		}
	}
	return "", nil
}

// hasCredentials reports whether a request offers any credential (a
// signature, a token, a console cookie): only a request with none may be
// an unsigned operation.
func hasCredentials(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" || auth.IsSigV4(r) {
		return true
	}
	_, err := r.Cookie(auth.SessionCookie)
	return err == nil
}

func authFailureCode(err error) string {
	var ae *auth.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return "other"
}
