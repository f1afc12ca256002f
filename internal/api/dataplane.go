package api

import (
	"context"
	"fmt"
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
		Body: func(r *http.Request) ([]byte, error) {
			body, _ := requestBody(r)
			ws, _ := tenant.Workspace(r.Context())
			if lim := s.Limits.For(ws).MaxRequestBytes; len(body) > lim {
				return nil, &ingest.Error{Status: http.StatusRequestEntityTooLarge,
					Msg: fmt.Sprintf("request body too large: %d bytes, the workspace's limit is %d bytes; send smaller batches (queue_config.max_samples_per_send)", len(body), lim)}
			}
			return body, nil
		},
		Logger: s.logger,
	}
}
