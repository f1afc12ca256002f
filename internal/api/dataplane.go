package api

import (
	"context"
	"net/http"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/ingest"
	"github.com/kansoku/kansoku/internal/tenant"
)

type ingestPusher interface {
	Push(ctx context.Context, ws string, req *prompb.WriteRequest) error
}

func (s *Server) remoteWriteHandler() http.Handler {
	return &ingest.Handler{
		Pusher: s.Pusher,
		Workspace: func(r *http.Request) string {
			ws, _ := tenant.Workspace(r.Context())
			return ws
		},
		// The middleware read the body, within the workspace's
		// max_request_bytes, after authenticating the request.
		Body:     requestBody,
		Logger:   s.logger,
		Inflight: s.IngestInflight,
	}
}
