// Package workspace runs the lifecycle of workspaces, AMP's tenants:
// create (CREATING -> ACTIVE once its storage is open), describe, list,
// rename, delete (DELETING -> gone, with its data). It is the control-plane
// service behind the AMP workspace API and the console, and the source of
// truth the data plane asks "is this workspace active?".
package workspace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/tagging"
)

// Defaults from AMP's quotas.
const (
	DefaultRetentionDays = 150
	DefaultMaxWorkspaces = 25
	ResourceType         = "Workspace"
)

var idRE = regexp.MustCompile(`^[0-9A-Za-z][-.0-9A-Z_a-z]*$`)

// Store is the metadata this service uses.
type Store interface {
	CreateWorkspace(ctx context.Context, w metastore.Workspace) error
	GetWorkspace(ctx context.Context, id string) (metastore.Workspace, error)
	GetWorkspaceByClientToken(ctx context.Context, token string) (metastore.Workspace, error)
	CountWorkspaces(ctx context.Context) (int, error)
	ListWorkspaces(ctx context.Context, f metastore.WorkspaceFilter) ([]metastore.Workspace, string, error)
	UpdateWorkspaceAlias(ctx context.Context, id, alias string, at time.Time) error
	SetWorkspaceStatus(ctx context.Context, id, status string, at time.Time, from ...string) error
	SetWorkspaceRetention(ctx context.Context, id string, days int, at time.Time) error
	FinishWorkspaceConfiguration(ctx context.Context, id string, version int64, status, reason string) error
	DeleteWorkspace(ctx context.Context, id, arn, childARNPrefix string) error
	Tags(ctx context.Context, arn string) (map[string]string, error)
	SetTags(ctx context.Context, arn string, tags map[string]string) error
}

// TxStore runs a function in one metadata transaction.
type TxStore interface {
	Store
	InTx(ctx context.Context, fn func(q *metastore.Queries) error) error
}

// Storage is the sample storage a workspace needs; tenantdb.Manager in the
// embedded mode.
type Storage interface {
	Open(ws string, retention time.Duration) error
	Drop(ws string) error
	SetRetention(ws string, retention time.Duration) error
}

// Listener is told about workspaces coming and going (ruler, Alertmanager,
// usage tracking...). Calls happen on the reconciler goroutine.
type Listener interface {
	WorkspaceActivated(ctx context.Context, ws metastore.Workspace)
	WorkspaceDeleted(ctx context.Context, wsID string)
}

// Options configure the service.
type Options struct {
	AccountID     string
	Region        string
	ExternalURL   string // base for prometheusEndpoint, no trailing slash
	MaxWorkspaces int
	RetentionDays int
	// ResyncInterval re-reads all workspaces from the store, to pick up
	// changes made by other nodes.
	ResyncInterval time.Duration
	// Shared: other nodes create and delete workspaces too. A workspace
	// the data plane does not know yet is looked up in the store (at most
	// once a second per id) instead of being answered 404 until the next
	// resync.
	Shared bool
	// LabelSets enforces the workspaces' label-set limits (nil: stored
	// and described only).
	LabelSets LabelSetLimiter
	Logger    *slog.Logger
}

// Service is the workspace lifecycle.
type Service struct {
	opts    Options
	store   TxStore
	storage Storage
	now     func() time.Time

	mu        sync.RWMutex
	active    map[string]metastore.Workspace
	listeners []Listener
	// looked is when an unknown id was last looked up, fetched what the
	// lookups found ACTIVE until the reconciler activates it here (Shared).
	looked  map[string]time.Time
	fetched map[string]metastore.Workspace
	// applied is the configuration version this node applied to each
	// workspace's storage.
	applied map[string]int64

	kick  chan struct{}
	ready chan struct{}
}

// New returns the service; Run must be running for workspaces to become
// ACTIVE or be deleted.
func New(opts Options, store TxStore, storage Storage) *Service {
	if opts.MaxWorkspaces == 0 {
		opts.MaxWorkspaces = DefaultMaxWorkspaces
	}
	if opts.RetentionDays == 0 {
		opts.RetentionDays = DefaultRetentionDays
	}
	if opts.ResyncInterval == 0 {
		opts.ResyncInterval = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{opts: opts, store: store, storage: storage, now: time.Now,
		active: map[string]metastore.Workspace{}, looked: map[string]time.Time{}, fetched: map[string]metastore.Workspace{}, applied: map[string]int64{}, kick: make(chan struct{}, 1), ready: make(chan struct{})}
}

// AddListener registers a lifecycle listener; call before Run.
func (s *Service) AddListener(l Listener) { s.listeners = append(s.listeners, l) }

// ARN returns the ARN of workspace id.
func (s *Service) ARN(id string) string {
	return httpapi.ARNs{Region: s.opts.Region, AccountID: s.opts.AccountID}.Workspace(id)
}

// ChildARNPrefix is the ARN prefix of a workspace's rule-groups namespaces.
func (s *Service) ChildARNPrefix(id string) string {
	return fmt.Sprintf("arn:aws:aps:%s:%s:rulegroupsnamespace/%s/", s.opts.Region, s.opts.AccountID, id)
}

// Endpoint returns the prometheusEndpoint of workspace id.
func (s *Service) Endpoint(id string) string {
	return s.opts.ExternalURL + "/workspaces/" + id + "/"
}

// Description is a workspace as the API describes it.
type Description struct {
	metastore.Workspace
	Tags               map[string]string
	PrometheusEndpoint string
}

// CreateInput is CreateWorkspace's input.
type CreateInput struct {
	Alias       *string
	ClientToken string
	Tags        map[string]string
}

// ValidateID checks a workspace id from a URI.
func ValidateID(id string) error {
	if id == "" || len(id) > 64 || !idRE.MatchString(id) {
		return apierr.InvalidField("workspaceId", "Member must have length between 1 and 64 and satisfy regular expression pattern: [0-9A-Za-z][-.0-9A-Z_a-z]*")
	}
	return nil
}

func normalizeAlias(a *string) (string, error) {
	if a == nil {
		return "", nil
	}
	if !utf8.ValidString(*a) {
		return "", apierr.InvalidField("alias", "Member must be valid UTF-8")
	}
	alias := strings.TrimSpace(*a)
	if n := utf8.RuneCountInString(alias); n < 1 || n > 100 {
		return "", apierr.InvalidField("alias", "Member must have length between 1 and 100 (after trimming blanks)")
	}
	// Control and bidirectional-override characters would let an alias
	// pass for another in a listing (U+202E reverses what follows).
	for _, r := range alias {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return "", apierr.InvalidField("alias", "Member must not contain control or bidirectional-override characters (found %U)", r)
		}
	}
	return alias, nil
}

// ValidateClientToken checks an idempotency token.
func ValidateClientToken(t string) error {
	if t == "" {
		return nil
	}
	if len(t) > 64 {
		return apierr.InvalidField("clientToken", "Member must have length between 1 and 64")
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '!' || t[i] > '~' {
			return apierr.InvalidField("clientToken", "Member must satisfy regular expression pattern: [!-~]+")
		}
	}
	return nil
}

// Create makes a workspace in CREATING; the reconciler activates it.
func (s *Service) Create(ctx context.Context, in CreateInput) (Description, error) {
	alias, err := normalizeAlias(in.Alias)
	if err != nil {
		return Description{}, err
	}
	if err := ValidateClientToken(in.ClientToken); err != nil {
		return Description{}, err
	}
	if err := tagging.Validate(in.Tags, nil); err != nil {
		return Description{}, err
	}
	if in.ClientToken != "" {
		if d, ok, err := s.replay(ctx, in, alias); ok || err != nil {
			return d, err
		}
	}
	now := s.now().UTC()
	id := "ws-" + uuid.NewString()
	w := metastore.Workspace{ID: id, Alias: alias, ARN: s.ARN(id), Status: metastore.WorkspaceCreating,
		ClientToken: in.ClientToken, RetentionDays: s.opts.RetentionDays, CreatedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(q *metastore.Queries) error {
		n, err := q.CountWorkspaces(ctx)
		if err != nil {
			return err
		}
		if n >= s.opts.MaxWorkspaces {
			return apierr.QuotaExceeded(ResourceType, id, "L-BFD4EA5B",
				"Limit exceeded. Maximum workspaces per account (%d) reached; delete a workspace or raise --workspace.max-per-account", s.opts.MaxWorkspaces)
		}
		if err := q.CreateWorkspace(ctx, w); err != nil {
			return err
		}
		return q.SetTags(ctx, w.ARN, in.Tags)
	})
	if errors.Is(err, metastore.ErrConflict) && in.ClientToken != "" {
		// A concurrent request with the same token won the race.
		if d, ok, err := s.replay(ctx, in, alias); ok || err != nil {
			return d, err
		}
	}
	if err != nil {
		if _, ok := apierr.As(err); ok {
			return Description{}, err
		}
		return Description{}, fmt.Errorf("create workspace: %w", err)
	}
	s.opts.Logger.Info("workspace created", "workspace", id, "alias", alias)
	s.Kick()
	return s.describe(w, in.Tags), nil
}

// replay answers a CreateWorkspace retried with the same client token.
func (s *Service) replay(ctx context.Context, in CreateInput, alias string) (Description, bool, error) {
	w, err := s.store.GetWorkspaceByClientToken(ctx, in.ClientToken)
	if errors.Is(err, metastore.ErrNotFound) {
		return Description{}, false, nil
	}
	if err != nil {
		return Description{}, false, err
	}
	tags, err := s.store.Tags(ctx, w.ARN)
	if err != nil {
		return Description{}, false, err
	}
	if w.Alias != alias || !sameTags(tags, in.Tags) {
		return Description{}, false, apierr.Conflict(ResourceType, w.ID,
			"clientToken %q was already used to create workspace %s with different parameters", in.ClientToken, w.ID)
	}
	return s.describe(w, tags), true, nil
}

func sameTags(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func (s *Service) describe(w metastore.Workspace, tags map[string]string) Description {
	if tags == nil {
		tags = map[string]string{}
	}
	return Description{Workspace: w, Tags: tags, PrometheusEndpoint: s.Endpoint(w.ID)}
}

// Get returns a workspace, or ResourceNotFoundException.
func (s *Service) Get(ctx context.Context, id string) (metastore.Workspace, error) {
	if err := ValidateID(id); err != nil {
		return metastore.Workspace{}, err
	}
	w, err := s.store.GetWorkspace(ctx, id)
	if errors.Is(err, metastore.ErrNotFound) {
		return w, apierr.NotFound(ResourceType, id, "Workspace %s not found", id)
	}
	if err != nil {
		return w, fmt.Errorf("read workspace %s: %w", id, err)
	}
	return w, nil
}

// Exists returns the error Get would: nil when workspace id exists.
func (s *Service) Exists(ctx context.Context, id string) error {
	_, err := s.Get(ctx, id)
	return err
}

// Describe returns a workspace with its tags and endpoint.
func (s *Service) Describe(ctx context.Context, id string) (Description, error) {
	w, err := s.Get(ctx, id)
	if err != nil {
		return Description{}, err
	}
	tags, err := s.store.Tags(ctx, w.ARN)
	if err != nil {
		return Description{}, fmt.Errorf("read tags of %s: %w", id, err)
	}
	return s.describe(w, tags), nil
}

// ListInput is ListWorkspaces' input.
type ListInput struct {
	AliasPrefix string
	MaxResults  int // 0: default 100
	NextToken   string
}

// List returns one page of workspaces.
func (s *Service) List(ctx context.Context, in ListInput) ([]Description, string, error) {
	limit := in.MaxResults
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 1000 {
		return nil, "", apierr.InvalidField("maxResults", "Member must have value between 1 and 1000")
	}
	if n := utf8.RuneCountInString(in.AliasPrefix); n > 100 {
		return nil, "", apierr.InvalidField("alias", "Member must have length between 1 and 100")
	}
	ws, next, err := s.store.ListWorkspaces(ctx, metastore.WorkspaceFilter{AliasPrefix: in.AliasPrefix, Limit: limit, After: in.NextToken})
	if errors.Is(err, metastore.ErrBadPageToken) {
		return nil, "", apierr.Validation(apierr.ReasonFieldValidation, "Invalid nextToken: pass the nextToken of the previous response unchanged")
	}
	if err != nil {
		return nil, "", fmt.Errorf("list workspaces: %w", err)
	}
	out := make([]Description, 0, len(ws))
	for _, w := range ws {
		tags, err := s.store.Tags(ctx, w.ARN)
		if err != nil {
			return nil, "", err
		}
		out = append(out, s.describe(w, tags))
	}
	return out, next, nil
}

// UpdateAlias renames a workspace. A nil alias removes it.
func (s *Service) UpdateAlias(ctx context.Context, id string, alias *string, clientToken string) error {
	if err := ValidateClientToken(clientToken); err != nil {
		return err
	}
	a, err := normalizeAlias(alias)
	if err != nil {
		return err
	}
	w, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if w.Status != metastore.WorkspaceActive {
		return apierr.Conflict(ResourceType, id, "Workspace %s is %s; its alias can be changed only when ACTIVE", id, w.Status)
	}
	if err := s.store.UpdateWorkspaceAlias(ctx, id, a, s.now().UTC()); err != nil {
		return fmt.Errorf("update alias of %s: %w", id, err)
	}
	s.refresh(ctx, id)
	return nil
}

// SetRetention changes how long a workspace keeps samples.
func (s *Service) SetRetention(ctx context.Context, id string, days int) error {
	if days < 1 || days > 1095 {
		return apierr.InvalidField("retentionPeriodInDays", "Member must have value between 1 and 1095")
	}
	w, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if w.Status != metastore.WorkspaceActive {
		return apierr.Conflict(ResourceType, id, "Workspace %s is %s", id, w.Status)
	}
	if err := s.store.SetWorkspaceRetention(ctx, id, days, s.now().UTC()); err != nil {
		return err
	}
	if err := s.storage.SetRetention(id, time.Duration(days)*24*time.Hour); err != nil {
		return fmt.Errorf("apply retention to %s: %w", id, err)
	}
	s.refresh(ctx, id)
	return nil
}

// Delete marks a workspace DELETING; the reconciler removes its data.
func (s *Service) Delete(ctx context.Context, id, clientToken string) error {
	if err := ValidateClientToken(clientToken); err != nil {
		return err
	}
	w, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if w.Status == metastore.WorkspaceDeleting {
		return nil // idempotent
	}
	if w.Status == metastore.WorkspaceCreating {
		return apierr.Conflict(ResourceType, id, "Workspace %s is still CREATING; delete it once ACTIVE", id)
	}
	err = s.store.SetWorkspaceStatus(ctx, id, metastore.WorkspaceDeleting, s.now().UTC(),
		metastore.WorkspaceActive, metastore.WorkspaceCreationFailed, metastore.WorkspaceUpdating)
	if errors.Is(err, metastore.ErrNotFound) {
		return apierr.Conflict(ResourceType, id, "Workspace %s changed state concurrently; retry", id)
	}
	if err != nil {
		return fmt.Errorf("delete workspace %s: %w", id, err)
	}
	s.mu.Lock()
	delete(s.active, id)
	s.mu.Unlock()
	s.opts.Logger.Info("workspace deleting", "workspace", id)
	s.Kick()
	return nil
}

// Active returns an ACTIVE workspace from memory, for the data plane.
// Shared: one it does not know is looked up in the store, so a workspace
// another node just activated is served at once.
func (s *Service) Active(id string) (metastore.Workspace, bool) {
	s.mu.RLock()
	w, ok := s.active[id]
	if !ok && s.opts.Shared {
		w, ok = s.fetched[id]
	}
	s.mu.RUnlock()
	if ok || !s.opts.Shared {
		return w, ok
	}
	now := s.now()
	s.mu.Lock()
	if last, seen := s.looked[id]; seen && now.Sub(last) < time.Second {
		s.mu.Unlock()
		return metastore.Workspace{}, false
	}
	if len(s.looked) > 10000 { // ids that do not exist, from authenticated callers: bounded
		clear(s.looked)
	}
	s.looked[id] = now
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w, err := s.store.GetWorkspace(ctx, id)
	if err != nil || w.Status != metastore.WorkspaceActive {
		return metastore.Workspace{}, false
	}
	// Its storage is shared (Cortex) and opened by whichever node saw it
	// first; this node's reconciler activates it here at its next pass.
	s.mu.Lock()
	s.fetched[id] = w
	s.mu.Unlock()
	s.Kick()
	return w, true
}

// ActiveIDs lists the ACTIVE workspaces known in memory.
func (s *Service) ActiveIDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.active))
	for id := range s.active {
		out = append(out, id)
	}
	return out
}

// Ready is closed once every ACTIVE workspace's storage was opened at start.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// Kick asks the reconciler to look for work now.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Service) refresh(ctx context.Context, id string) {
	w, err := s.store.GetWorkspace(ctx, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || w.Status != metastore.WorkspaceActive {
		delete(s.active, id)
		return
	}
	s.active[id] = w
}

// Run opens the storage of ACTIVE workspaces, then reconciles until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if err := s.reconcile(ctx, true); err != nil {
		return err
	}
	close(s.ready)
	t := time.NewTicker(s.opts.ResyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		case <-t.C:
		}
		if err := s.reconcile(ctx, false); err != nil && ctx.Err() == nil {
			s.opts.Logger.Error("workspace reconcile", "err", err)
		}
	}
}

func (s *Service) reconcile(ctx context.Context, starting bool) error {
	all, _, err := s.store.ListWorkspaces(ctx, metastore.WorkspaceFilter{})
	if err != nil {
		return fmt.Errorf("list workspaces: %w", err)
	}
	seen := map[string]bool{}
	for _, w := range all {
		seen[w.ID] = true
		switch w.Status {
		case metastore.WorkspaceActive:
			s.mu.RLock()
			_, known := s.active[w.ID]
			s.mu.RUnlock()
			if known {
				s.mu.Lock()
				s.active[w.ID] = w
				s.mu.Unlock()
				s.applyConfiguration(ctx, w)
				continue
			}
			if err := s.activate(ctx, w); err != nil {
				s.opts.Logger.Error("open workspace storage", "workspace", w.ID, "err", err)
				if starting {
					return err
				}
			}
		case metastore.WorkspaceCreating:
			if err := s.activate(ctx, w); err != nil {
				s.opts.Logger.Error("create workspace storage", "workspace", w.ID, "err", err)
				_ = s.store.SetWorkspaceStatus(ctx, w.ID, metastore.WorkspaceCreationFailed, s.now().UTC(), metastore.WorkspaceCreating)
			}
		case metastore.WorkspaceDeleting:
			s.finishDelete(ctx, w)
		}
	}
	// Workspaces deleted by another node.
	s.mu.RLock()
	var gone []string
	for id := range s.active {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	s.mu.RUnlock()
	s.mu.Lock()
	for id := range s.fetched {
		if !seen[id] {
			delete(s.fetched, id)
		}
	}
	s.mu.Unlock()
	for _, id := range gone {
		s.mu.Lock()
		delete(s.active, id)
		delete(s.applied, id)
		s.mu.Unlock()
		for _, l := range s.listeners {
			l.WorkspaceDeleted(ctx, id)
		}
	}
	return nil
}

func (s *Service) activate(ctx context.Context, w metastore.Workspace) error {
	if err := s.storage.Open(w.ID, time.Duration(w.RetentionDays)*24*time.Hour); err != nil {
		return err
	}
	if w.Status != metastore.WorkspaceActive {
		// The data plane accepts the workspace before DescribeWorkspace
		// can answer ACTIVE: a client that saw ACTIVE never gets a 404
		// from remote_write or a query.
		pending := w
		pending.Status = metastore.WorkspaceActive
		s.mu.Lock()
		s.active[w.ID] = pending
		s.mu.Unlock()
		if err := s.store.SetWorkspaceStatus(ctx, w.ID, metastore.WorkspaceActive, s.now().UTC(), metastore.WorkspaceCreating); err != nil {
			// Another node may have activated it first (shared metadata).
			cur, gerr := s.store.GetWorkspace(ctx, w.ID)
			if gerr != nil || cur.Status != metastore.WorkspaceActive {
				s.mu.Lock()
				delete(s.active, w.ID)
				s.mu.Unlock()
				return fmt.Errorf("mark %s ACTIVE: %w", w.ID, err)
			}
			w = cur
		} else {
			w = pending
			s.opts.Logger.Info("workspace active", "workspace", w.ID)
		}
	}
	s.mu.Lock()
	s.active[w.ID] = w
	delete(s.fetched, w.ID)
	s.mu.Unlock()
	s.applyConfiguration(ctx, w)
	for _, l := range s.listeners {
		l.WorkspaceActivated(ctx, w)
	}
	return nil
}

func (s *Service) finishDelete(ctx context.Context, w metastore.Workspace) {
	// Finish a deletion once started, even during shutdown.
	ctx = context.WithoutCancel(ctx)
	s.mu.Lock()
	delete(s.active, w.ID)
	delete(s.fetched, w.ID)
	delete(s.applied, w.ID)
	s.mu.Unlock()
	for _, l := range s.listeners {
		l.WorkspaceDeleted(ctx, w.ID)
	}
	if err := s.storage.Drop(w.ID); err != nil {
		s.opts.Logger.Error("delete workspace data", "workspace", w.ID, "err", err)
		return // retried on the next pass
	}
	if err := s.store.DeleteWorkspace(ctx, w.ID, w.ARN, s.ChildARNPrefix(w.ID)); err != nil && !errors.Is(err, metastore.ErrNotFound) {
		s.opts.Logger.Error("delete workspace metadata", "workspace", w.ID, "err", err)
		return
	}
	s.opts.Logger.Info("workspace deleted", "workspace", w.ID)
}

// Getter reads a workspace (Service, or a consumer's narrower interface).
type Getter interface {
	Get(ctx context.Context, id string) (metastore.Workspace, error)
}

// RequireActive returns nil when workspace id exists and is ACTIVE,
// ResourceNotFoundException when it does not exist, and
// ConflictException naming its status otherwise: the check before
// creating anything inside a workspace.
func RequireActive(ctx context.Context, g Getter, id string) error {
	w, err := g.Get(ctx, id)
	if err != nil {
		return err
	}
	if w.Status != metastore.WorkspaceActive {
		return apierr.Conflict(ResourceType, id, "Workspace %s is %s", id, w.Status)
	}
	return nil
}
