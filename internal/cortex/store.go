package cortex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"

	"github.com/kansoku/kansoku/internal/metastore"
)

// Store is the sample store of a Cortex cluster. It implements what the
// embedded tenantdb.Manager does for the rest of Kansoku: Open, Drop and
// SetRetention of a workspace, Appender, Querier, ChunkQuerier and
// HeadSeries.
type Store struct {
	cfg       Config
	logger    *slog.Logger
	client    *http.Client
	pusher    *pusher
	overrides *Overrides

	mu      sync.Mutex
	readers map[string]storage.SampleAndChunkQueryable
}

// Options are a Store's parts.
type Options struct {
	Config Config
	Logger *slog.Logger
	// Overrides keeps the runtime configuration file; nil: a new one on
	// Config.RuntimeConfigFile.
	Overrides *Overrides
}

// New returns a Store of the configured cluster.
func New(o Options) (*Store, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	if !o.Config.Enabled() {
		return nil, errors.New("cortex: no cluster configured")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	client := &http.Client{Timeout: time.Duration(o.Config.Timeout)}
	urls := make([]string, len(o.Config.DistributorURLs))
	for i, u := range o.Config.DistributorURLs {
		urls[i] = trimURL(u)
	}
	ov := o.Overrides
	if ov == nil {
		ov = NewOverrides(o.Config.RuntimeConfigFile)
	}
	return &Store{
		cfg: o.Config, logger: o.Logger, client: client, overrides: ov,
		pusher:  &pusher{urls: urls, client: client, retries: 3, backoff: 100 * time.Millisecond},
		readers: map[string]storage.SampleAndChunkQueryable{},
	}, nil
}

// Overrides returns the runtime configuration the store writes.
func (s *Store) Overrides() *Overrides { return s.overrides }

// Open makes a workspace a tenant. Cortex creates a tenant's storage on its
// first sample; what Kansoku sets is the tenant's retention (its other
// limits are written by SetLimits).
func (s *Store) Open(ws string, retention time.Duration) error {
	return s.overrides.SetRetention(ws, retention)
}

// SetRetention changes how long Cortex keeps the tenant's blocks.
func (s *Store) SetRetention(ws string, retention time.Duration) error {
	return s.overrides.SetRetention(ws, retention)
}

// SetLabelSetLimits writes a workspace's label-set limits as Cortex's
// limits_per_label_set override (workspace.LabelSetLimiter); Cortex's
// ingesters count and enforce them once they reload the file.
func (s *Store) SetLabelSetLimits(ws string, sets []metastore.LabelSetLimit) error {
	return s.overrides.SetLabelSets(ws, LabelSetLimitsFor(sets))
}

// Drop deletes a tenant's data: Cortex's purger marks the tenant deleted,
// the compactor then removes its blocks and ingesters close its TSDB. The
// overrides of the workspace are removed.
func (s *Store) Drop(ws string) error {
	base := s.cfg.PurgerURL
	if base == "" {
		base = s.cfg.QueryFrontendURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, trimURL(base)+"/purger/delete_tenant", nil)
	if err != nil {
		return err
	}
	req.Header.Set(OrgIDHeader, ws)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("delete cortex tenant %s: %w", ws, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return fmt.Errorf("delete cortex tenant %s: HTTP %d: %s", ws, resp.StatusCode, msg)
	}
	s.mu.Lock()
	delete(s.readers, ws)
	s.mu.Unlock()
	return s.overrides.Remove(ws)
}

// TenantDeleted reports whether Cortex has finished deleting a dropped
// tenant's blocks.
func (s *Store) TenantDeleted(ctx context.Context, ws string) (bool, error) {
	base := s.cfg.PurgerURL
	if base == "" {
		base = s.cfg.QueryFrontendURL
	}
	var out struct {
		BlocksDeleted bool `json:"blocks_deleted"`
	}
	if err := s.getJSON(ctx, trimURL(base)+"/purger/delete_tenant_status", ws, &out); err != nil {
		return false, err
	}
	return out.BlocksDeleted, nil
}

// Appender returns an appender that pushes its transaction on Commit.
func (s *Store) Appender(ctx context.Context, ws string) (storage.Appender, error) {
	return newAppender(ctx, s.pusher, ws), nil
}

func (s *Store) reader(ws string) (storage.SampleAndChunkQueryable, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.readers[ws]; ok {
		return q, nil
	}
	u, err := url.Parse(trimURL(s.cfg.QueryFrontendURL) + "/prometheus/api/v1/read")
	if err != nil {
		return nil, err
	}
	c, err := remote.NewReadClient("cortex-"+ws, &remote.ClientConfig{
		URL:              &config_util.URL{URL: u},
		Timeout:          s.cfg.Timeout,
		HTTPClientConfig: config_util.DefaultHTTPClientConfig,
		Headers:          map[string]string{OrgIDHeader: ws},
	})
	if err != nil {
		return nil, fmt.Errorf("remote-read client for %s: %w", ws, err)
	}
	q := remote.NewSampleAndChunkQueryableClient(c, labels.EmptyLabels(), nil, true, func() (int64, error) { return 0, nil })
	s.readers[ws] = q
	return q, nil
}

// Querier reads a tenant's samples in [mint, maxt] through remote read.
func (s *Store) Querier(ws string, mint, maxt int64) (storage.Querier, error) {
	r, err := s.reader(ws)
	if err != nil {
		return nil, err
	}
	return r.Querier(mint, maxt)
}

// ChunkQuerier reads a tenant's chunks in [mint, maxt] through remote read.
func (s *Store) ChunkQuerier(ws string, mint, maxt int64) (storage.ChunkQuerier, error) {
	r, err := s.reader(ws)
	if err != nil {
		return nil, err
	}
	return r.ChunkQuerier(mint, maxt)
}

// HeadSeries returns the tenant's in-memory series, as the distributors
// count them across ingesters (/api/v1/user_stats).
func (s *Store) HeadSeries(ws string) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.Timeout))
	defer cancel()
	var st struct {
		NumSeries uint64 `json:"numSeries"`
	}
	if err := s.getJSON(ctx, s.pusher.urls[0]+"/api/v1/user_stats", ws, &st); err != nil {
		return 0, err
	}
	return st.NumSeries, nil
}

func (s *Store) getJSON(ctx context.Context, u, ws string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set(OrgIDHeader, ws)
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: HTTP %d: %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// CountChunks counts nothing: Cortex enforces the workspace's chunk and
// byte limits itself (max_fetched_chunks_per_query and
// max_fetched_chunk_bytes_per_query in its overrides), so the query path
// does not read a selection twice to count it.
func (s *Store) CountChunks(context.Context, string, int64, int64, ...*labels.Matcher) (int64, int64, error) {
	return 0, 0, nil
}
