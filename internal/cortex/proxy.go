package cortex

import (
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/kansoku/kansoku/internal/tenant"
)

// QueryHandler proxies Prometheus query API requests (paths starting
// /api/v1/) to the query-frontend as the tenant of the workspace in the
// request context. Kansoku's admission, cost checks and authorization run
// before; Cortex's query limits (the workspace's overrides) run there.
func (s *Store) QueryHandler() http.Handler {
	target, _ := url.Parse(trimURL(s.cfg.QueryFrontendURL))
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.Path = "/prometheus" + pr.In.URL.Path
			pr.Out.URL.RawPath = ""
			pr.Out.Host = target.Host
			// Only what the query API reads is forwarded: no client
			// credentials, cookies or forwarding headers reach Cortex.
			h := http.Header{}
			for _, k := range []string{"Accept", "Accept-Encoding", "Content-Type", "Content-Length"} {
				if v := pr.In.Header.Values(k); len(v) > 0 {
					h[k] = v
				}
			}
			ws, _ := tenant.Workspace(pr.In.Context())
			h.Set(OrgIDHeader, ws)
			pr.Out.Header = h
		},
		Transport: s.client.Transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.logger.Warn("query-frontend unreachable", "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"unavailable","error":"the query path is unavailable; retry"}` + "\n"))
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := tenant.Workspace(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		rp.ServeHTTP(w, r)
	})
}
