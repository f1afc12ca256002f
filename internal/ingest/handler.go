// Package ingest is the write path: the remote_write HTTP handler decodes a
// Prometheus remote write 1.0 request (snappy-compressed protobuf) and hands
// it to the Distributor, which validates it, applies the workspace's limits
// and appends it to the workspace's storage. Samples are acknowledged only
// after the storage commit (the WAL write).
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/prompb"
)

// MaxDecodedBytes bounds the decompressed size of one request.
const MaxDecodedBytes = 64 << 20

// Pusher ingests one decoded request into a workspace.
type Pusher interface {
	Push(ctx context.Context, ws string, req *prompb.WriteRequest) error
}

// Handler serves POST /workspaces/{id}/api/v1/remote_write. The body has
// already been read (it was needed to check the SigV4 payload hash);
// BodyFunc returns it.
type Handler struct {
	Pusher    Pusher
	Workspace func(r *http.Request) string
	Body      func(r *http.Request) ([]byte, error)
	Logger    *slog.Logger
	// Inflight bounds the bytes being decoded at once (nil: no bound).
	Inflight *Inflight

	decoder decoder // learns what its requests look like, to size decoding arrays
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws := h.Workspace(r)
	d, release, herr := h.decode(r)
	if herr != nil {
		writeError(w, herr)
		return
	}
	defer release()
	// The decoded request aliases a pooled buffer: the pusher copies what it keeps.
	err := h.Pusher.Push(r.Context(), ws, &d.req)
	d.release()
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			h.Logger.Error("remote_write push failed", "workspace", ws, "err", err)
			e = &Error{Status: http.StatusInternalServerError, Msg: "internal error while storing samples; retry"}
		}
		writeError(w, e)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (h *Handler) decode(r *http.Request) (*decoded, func(), *Error) {
	body, herr := h.body(r)
	if herr != nil {
		return nil, nil, herr
	}
	n, err := decodedLen(body)
	if err != nil {
		return nil, nil, decodeError(err)
	}
	release := func() {}
	if h.Inflight != nil {
		var ok bool
		if release, ok = h.Inflight.take(int64(n) + int64(len(body))); !ok {
			return nil, nil, &Error{Status: http.StatusServiceUnavailable, RetryAfter: 1,
				Msg: "the server is decoding too many remote_write bytes at once (ingest.max_inflight_bytes); retry"}
		}
	}
	d, err := h.decoder.decode(body)
	if err != nil {
		release()
		return nil, nil, decodeError(err)
	}
	return d, release, nil
}

func decodeError(err error) *Error {
	var tl errTooLarge
	if errors.As(err, &tl) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Msg: err.Error()}
	}
	return &Error{Status: http.StatusBadRequest, Msg: "decode remote write request: " + err.Error()}
}

// body checks the request's headers and returns its body.
func (h *Handler) body(r *http.Request) ([]byte, *Error) {
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "snappy") {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Msg: fmt.Sprintf("unsupported Content-Encoding %q: remote write bodies are snappy-compressed", enc)}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-protobuf" {
			return nil, &Error{Status: http.StatusUnsupportedMediaType, Msg: fmt.Sprintf("unsupported Content-Type %q: expected application/x-protobuf", ct)}
		}
		if p := params["proto"]; p != "" && p != "prometheus.WriteRequest" {
			return nil, &Error{Status: http.StatusUnsupportedMediaType, Msg: fmt.Sprintf("unsupported remote write protobuf message %q: this endpoint speaks remote write 1.0 (prometheus.WriteRequest)", p)}
		}
	}
	body, err := h.Body(r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, &Error{Status: http.StatusBadRequest, Msg: "read request body: " + err.Error()}
	}
	if len(body) == 0 {
		return nil, &Error{Status: http.StatusBadRequest, Msg: "empty request body: expected a snappy-compressed prometheus.WriteRequest"}
	}
	return body, nil
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	_, _ = io.WriteString(w, e.Msg+"\n") // the client may be gone
}
