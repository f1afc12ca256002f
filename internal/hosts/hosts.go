// Package hosts is the inventory of monitored resources, as Mackerel keeps
// it: every resource an AWS integration discovers is a host (EC2 instances
// standard hosts, everything else micro hosts) with a name, identifiers,
// service:roles, a status, metadata, first/last seen and retirement. Series
// remote-written with a custom_identifier label equal to one of a host's
// identifiers attach to that host (they get its host_id label).
package hosts

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/metastore"
)

// Store is the metadata the inventory needs.
type Store interface {
	CreateHost(ctx context.Context, h metastore.Host) error
	UpdateHost(ctx context.Context, h metastore.Host) error
	GetHost(ctx context.Context, id string) (metastore.Host, error)
	GetLiveHostByARN(ctx context.Context, ws, arn string) (metastore.Host, error)
	ListHosts(ctx context.Context, ws string, withRetired bool) ([]metastore.Host, error)
	EnsureHostRole(ctx context.Context, r metastore.HostRole) (bool, error)
	ListHostRoles(ctx context.Context, ws string) ([]metastore.HostRole, error)
}

// ErrNotFound is returned for an unknown host.
var ErrNotFound = errors.New("host not found")

// Host is one host as the API shows it.
type Host struct {
	ID           string            `json:"id"`
	WorkspaceID  string            `json:"workspaceId"`
	Name         string            `json:"name"`
	Kind         string            `json:"kind"`    // standard or micro
	Product      string            `json:"product"` // ec2, rds ...
	ARN          string            `json:"arn"`
	AWSAccountID string            `json:"awsAccountId"`
	Region       string            `json:"region"`
	Status       string            `json:"status"` // working, standby, poweroff, retired
	Identifiers  []string          `json:"identifiers"`
	Roles        []string          `json:"roles"` // Service:Role
	Tags         map[string]string `json:"tags"`
	Metadata     map[string]string `json:"metadata"`
	// Integrations are the integrations that see the host.
	Integrations       []Link     `json:"integrations"`
	FirstSeenAt        time.Time  `json:"firstSeenAt"`
	LastSeenAt         time.Time  `json:"lastSeenAt"`
	DeletionDetectedAt *time.Time `json:"deletionDetectedAt,omitempty"`
	RetiredAt          *time.Time `json:"retiredAt,omitempty"`
}

// Link is an integration's view of a host.
type Link struct {
	Integration string `json:"integration"`
	// Excluded is true while the integration's tag filters exclude the
	// resource of a host it had already linked (its metrics are not
	// collected and its deletion does not retire the host). Resources a
	// filter excludes from the start are no hosts at all, as in Mackerel.
	Excluded bool `json:"excluded,omitempty"`
	// DeletionDetectedAt is when this integration found the resource gone
	// (the auto-retirement judgement is made then, once).
	DeletionDetectedAt *time.Time `json:"deletionDetectedAt,omitempty"`
}

// Observation is what an integration saw of a resource in one poll.
type Observation struct {
	Integration  string
	ARN          string
	Name         string
	Kind         string
	Product      string
	AWSAccountID string
	Region       string
	Status       string
	Identifiers  []string
	Roles        []string
	Tags         map[string]string
	Metadata     map[string]string
}

// Service is the host inventory.
type Service struct {
	store  Store
	logger *slog.Logger
	now    func() time.Time

	mu    sync.RWMutex
	index map[string]map[string]string // workspace -> identifier -> host id (live hosts)
}

// New returns the inventory; Load fills its identifier index.
func New(store Store, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, logger: logger, now: time.Now, index: map[string]map[string]string{}}
}

// Load builds the identifier index from the store.
func (s *Service) Load(ctx context.Context) error {
	hs, err := s.store.ListHosts(ctx, "", false)
	if err != nil {
		return err
	}
	idx := map[string]map[string]string{}
	for _, mh := range hs {
		h, err := fromStore(mh)
		if err != nil {
			return err
		}
		addToIndex(idx, h)
	}
	s.mu.Lock()
	s.index = idx
	s.mu.Unlock()
	return nil
}

func addToIndex(idx map[string]map[string]string, h Host) {
	if h.RetiredAt != nil {
		return
	}
	m := idx[h.WorkspaceID]
	if m == nil {
		m = map[string]string{}
		idx[h.WorkspaceID] = m
	}
	for _, id := range h.Identifiers {
		m[id] = h.ID
	}
}

func (s *Service) reindex(old *Host, h Host) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old != nil {
		if m := s.index[old.WorkspaceID]; m != nil {
			for _, id := range old.Identifiers {
				if m[id] == old.ID {
					delete(m, id)
				}
			}
		}
	}
	addToIndex(s.index, h)
}

// HostIDFor returns the live host of a workspace one of whose identifiers
// is ident (a custom_identifier).
func (s *Service) HostIDFor(ws, ident string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.index[ws][ident]
	return id, ok
}

// Observe records that an integration saw a resource: the live host of the
// resource's ARN is created or updated (service:roles are created in the
// workspace when missing). A resource seen again clears the integration's
// deletion detection.
func (s *Service) Observe(ctx context.Context, ws string, o Observation) (Host, error) {
	now := s.now().UTC()
	for _, r := range o.Roles {
		svc, role, _ := strings.Cut(r, ":")
		if _, err := s.store.EnsureHostRole(ctx, metastore.HostRole{WorkspaceID: ws, Service: svc, Role: role, CreatedAt: now}); err != nil {
			return Host{}, err
		}
	}
	mh, err := s.store.GetLiveHostByARN(ctx, ws, o.ARN)
	switch {
	case errors.Is(err, metastore.ErrNotFound):
		h := Host{
			ID: newID(), WorkspaceID: ws, ARN: o.ARN, Name: o.Name, Kind: o.Kind, Product: o.Product, AWSAccountID: o.AWSAccountID,
			Region: o.Region, Status: o.Status, Identifiers: o.Identifiers, Roles: o.Roles, Tags: o.Tags, Metadata: o.Metadata,
			Integrations: []Link{{Integration: o.Integration}}, FirstSeenAt: now, LastSeenAt: now,
		}
		if err := s.store.CreateHost(ctx, toStore(h)); err != nil {
			return Host{}, err
		}
		s.reindex(nil, h)
		return h, nil
	case err != nil:
		return Host{}, err
	}
	old, err := fromStore(mh)
	if err != nil {
		return Host{}, err
	}
	h := old
	h.Name, h.Status, h.Identifiers, h.Roles, h.Tags, h.Metadata = o.Name, o.Status, o.Identifiers, o.Roles, o.Tags, o.Metadata
	h.Kind, h.LastSeenAt = o.Kind, now
	h.Integrations = setLink(h.Integrations, Link{Integration: o.Integration})
	h.DeletionDetectedAt = nil
	for _, l := range h.Integrations {
		if l.DeletionDetectedAt != nil && (h.DeletionDetectedAt == nil || l.DeletionDetectedAt.Before(*h.DeletionDetectedAt)) {
			h.DeletionDetectedAt = l.DeletionDetectedAt
		}
	}
	if err := s.store.UpdateHost(ctx, toStore(h)); err != nil {
		return Host{}, err
	}
	s.reindex(&old, h)
	return h, nil
}

// MarkExcluded records that an integration's tag filters now exclude the
// resource of arn: the live host it had linked (if any) stays a host,
// marked excluded, so that the resource's deletion does not retire it
// (Mackerel's rule). A resource with no host of this integration gets
// none. It reports whether a host was marked.
func (s *Service) MarkExcluded(ctx context.Context, ws, integration, arn string) (bool, error) {
	mh, err := s.store.GetLiveHostByARN(ctx, ws, arn)
	if errors.Is(err, metastore.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	h, err := fromStore(mh)
	if err != nil {
		return false, err
	}
	for idx := range h.Integrations {
		l := &h.Integrations[idx]
		if l.Integration != integration {
			continue
		}
		if l.Excluded && l.DeletionDetectedAt == nil {
			return true, nil
		}
		l.Excluded, l.DeletionDetectedAt = true, nil
		h.LastSeenAt = s.now().UTC()
		if err := s.store.UpdateHost(ctx, toStore(h)); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

func setLink(links []Link, l Link) []Link {
	for i := range links {
		if links[i].Integration == l.Integration {
			links[i] = l
			return links
		}
	}
	return append(links, l)
}

// DeletionDetected records that an integration found a host's resource
// deleted. The auto-retirement judgement is made here, once per
// integration, as Mackerel makes it ("Configure automatic retirement",
// https://mackerel.io/docs/entry/integrations/aws): autoRetire is the integration's setting at this
// moment; turning it on later does not retire the host; any one
// integration that judges so retires it. A host whose link is excluded by
// the integration's tag filter is never retired by it. It reports whether
// the host was retired.
func (s *Service) DeletionDetected(ctx context.Context, hostID, integration string, autoRetire bool) (bool, error) {
	mh, err := s.store.GetHost(ctx, hostID)
	if err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return false, ErrNotFound
		}
		return false, err
	}
	h, err := fromStore(mh)
	if err != nil {
		return false, err
	}
	if h.RetiredAt != nil {
		return false, nil
	}
	now := s.now().UTC()
	var link *Link
	for i := range h.Integrations {
		if h.Integrations[i].Integration == integration {
			link = &h.Integrations[i]
		}
	}
	if link == nil || link.DeletionDetectedAt != nil {
		return false, nil // not this integration's host, or already judged
	}
	link.DeletionDetectedAt = &now
	if h.DeletionDetectedAt == nil {
		h.DeletionDetectedAt = &now
	}
	retire := autoRetire && !link.Excluded
	old := h
	if retire {
		h.RetiredAt, h.Status = &now, "retired"
	}
	if err := s.store.UpdateHost(ctx, toStore(h)); err != nil {
		return false, err
	}
	s.reindexAfterRetire(old, h)
	if retire {
		s.logger.Info("host retired automatically: its resource was deleted", "host", h.ID, "arn", h.ARN, "integration", integration)
	}
	return retire, nil
}

func (s *Service) reindexAfterRetire(old, h Host) {
	if h.RetiredAt == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.index[old.WorkspaceID]; m != nil {
		for _, id := range old.Identifiers {
			if m[id] == old.ID {
				delete(m, id)
			}
		}
	}
}

// Retire retires a host by hand.
func (s *Service) Retire(ctx context.Context, id string) (Host, error) {
	mh, err := s.store.GetHost(ctx, id)
	if err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return Host{}, ErrNotFound
		}
		return Host{}, err
	}
	h, err := fromStore(mh)
	if err != nil {
		return Host{}, err
	}
	if h.RetiredAt != nil {
		return h, nil
	}
	old := h
	now := s.now().UTC()
	h.RetiredAt, h.Status = &now, "retired"
	if err := s.store.UpdateHost(ctx, toStore(h)); err != nil {
		return Host{}, err
	}
	s.reindexAfterRetire(old, h)
	return h, nil
}

// Get returns one host.
func (s *Service) Get(ctx context.Context, id string) (Host, error) {
	mh, err := s.store.GetHost(ctx, id)
	if err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return Host{}, ErrNotFound
		}
		return Host{}, err
	}
	return fromStore(mh)
}

// Filter selects hosts in List. Empty fields match everything.
type Filter struct {
	Workspace   string
	Product     string
	Service     string // hosts with a role in this service
	Role        string // Service:Role
	Status      string
	Kind        string
	Integration string
	Tag         string // key or key=value
	WithRetired bool
}

// List returns the hosts matching f, by name.
func (s *Service) List(ctx context.Context, f Filter) ([]Host, error) {
	mhs, err := s.store.ListHosts(ctx, f.Workspace, f.WithRetired || f.Status == "retired")
	if err != nil {
		return nil, err
	}
	out := []Host{}
	for _, mh := range mhs {
		h, err := fromStore(mh)
		if err != nil {
			return nil, err
		}
		if f.match(h) {
			out = append(out, h)
		}
	}
	return out, nil
}

func (f Filter) match(h Host) bool {
	if f.Product != "" && h.Product != f.Product || f.Status != "" && h.Status != f.Status || f.Kind != "" && h.Kind != f.Kind {
		return false
	}
	if f.Role != "" && !slices.Contains(h.Roles, f.Role) {
		return false
	}
	if f.Service != "" {
		found := false
		for _, r := range h.Roles {
			if svc, _, _ := strings.Cut(r, ":"); svc == f.Service {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	if f.Integration != "" {
		found := false
		for _, l := range h.Integrations {
			found = found || l.Integration == f.Integration
		}
		if !found {
			return false
		}
	}
	if f.Tag != "" {
		k, v, hasValue := strings.Cut(f.Tag, "=")
		tv, ok := h.Tags[k]
		if !ok || hasValue && tv != v {
			return false
		}
	}
	return true
}

// Roles lists a workspace's service:roles.
func (s *Service) Roles(ctx context.Context, ws string) ([]string, error) {
	rs, err := s.store.ListHostRoles(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Service+":"+r.Role)
	}
	return out, nil
}

func newID() string {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	b := make([]byte, 11)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "h-" + string(b)
}

type storedLinks []Link

func toStore(h Host) metastore.Host {
	js := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	ids := append([]string{}, h.Identifiers...)
	sort.Strings(ids)
	mh := metastore.Host{
		ID: h.ID, WorkspaceID: h.WorkspaceID, ARN: h.ARN, Name: h.Name, Kind: h.Kind, Product: h.Product, AWSAccountID: h.AWSAccountID,
		Region: h.Region, Status: h.Status, Identifiers: js(nonNilSlice(ids)), Roles: js(nonNilSlice(h.Roles)), Tags: js(nonNilMap(h.Tags)),
		Metadata: js(nonNilMap(h.Metadata)), Integrations: js(storedLinks(h.Integrations)), FirstSeenAt: h.FirstSeenAt, LastSeenAt: h.LastSeenAt,
	}
	if h.DeletionDetectedAt != nil {
		mh.DeletionDetectedAt = *h.DeletionDetectedAt
	}
	if h.RetiredAt != nil {
		mh.RetiredAt = *h.RetiredAt
	}
	return mh
}

func fromStore(mh metastore.Host) (Host, error) {
	h := Host{ID: mh.ID, WorkspaceID: mh.WorkspaceID, ARN: mh.ARN, Name: mh.Name, Kind: mh.Kind, Product: mh.Product,
		AWSAccountID: mh.AWSAccountID, Region: mh.Region, Status: mh.Status, FirstSeenAt: mh.FirstSeenAt, LastSeenAt: mh.LastSeenAt}
	for _, f := range []struct {
		raw string
		dst any
	}{{mh.Identifiers, &h.Identifiers}, {mh.Roles, &h.Roles}, {mh.Tags, &h.Tags}, {mh.Metadata, &h.Metadata}, {mh.Integrations, &h.Integrations}} {
		if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
			return Host{}, fmt.Errorf("host %s: corrupt stored field: %w", mh.ID, err)
		}
	}
	if !mh.DeletionDetectedAt.IsZero() {
		t := mh.DeletionDetectedAt
		h.DeletionDetectedAt = &t
	}
	if !mh.RetiredAt.IsZero() {
		t := mh.RetiredAt
		h.RetiredAt = &t
	}
	h.Identifiers, h.Roles = nonNilSlice(h.Identifiers), nonNilSlice(h.Roles)
	h.Tags, h.Metadata = nonNilMap(h.Tags), nonNilMap(h.Metadata)
	if h.Integrations == nil {
		h.Integrations = []Link{}
	}
	return h, nil
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
