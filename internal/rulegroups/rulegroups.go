// Package rulegroups is the control plane of rule-groups namespaces: AMP's
// Create/Describe/List/Put/DeleteRuleGroupsNamespace. A namespace holds one
// Prometheus rule file, validated on upload with Prometheus' own rule
// loader. A valid upload is CREATING/UPDATING until the activation pass
// makes it the namespace's active rules (ACTIVE); an invalid one is
// CREATION_FAILED/UPDATE_FAILED with a statusReason naming the bad line, and
// the rules in force stay what they were.
package rulegroups

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/limits"
	"github.com/kansoku/kansoku/internal/metastore"
	"github.com/kansoku/kansoku/internal/reconcile"
	"github.com/kansoku/kansoku/internal/tagging"
	"github.com/kansoku/kansoku/internal/workspace"
)

// ResourceType names namespaces in errors.
const ResourceType = "RuleGroupsNamespace"

var nameRE = regexp.MustCompile(`^[0-9A-Za-z][-.0-9A-Z_a-z]*$`)

// Store is the metadata the service uses.
type Store interface {
	GetRuleNamespace(ctx context.Context, ws, name string) (metastore.RuleNamespace, error)
	CreateRuleNamespace(ctx context.Context, n metastore.RuleNamespace) error
	ListRuleNamespaces(ctx context.Context, ws, prefix string, limit int, after string) ([]metastore.RuleNamespace, string, error)
	ListRuleNamespacesByStatus(ctx context.Context, statuses ...string) ([]metastore.RuleNamespace, error)
	UpdateRuleNamespace(ctx context.Context, n metastore.RuleNamespace, expectVersion int) error
	DeleteRuleNamespace(ctx context.Context, ws, name string) error
	CountRules(ctx context.Context, ws, except string) (int, error)
	Tags(ctx context.Context, arn string) (map[string]string, error)
	SetTags(ctx context.Context, arn string, tags map[string]string) error
	DeleteTags(ctx context.Context, arn string) error
	InTx(ctx context.Context, fn func(q *metastore.Queries) error) error
}

// Workspaces resolves the workspace a namespace belongs to.
type Workspaces interface {
	Get(ctx context.Context, id string) (metastore.Workspace, error)
}

// LogSink receives the workspace log entries this service writes (the
// ruler's part of AMP's vended logs).
type LogSink interface {
	Log(ctx context.Context, ws, component, level, msg string, fields map[string]string)
}

// Listener is told when a workspace's active rules changed.
type Listener func(ctx context.Context, ws string)

// Service manages rule-groups namespaces.
type Service struct {
	store      Store
	workspaces Workspaces
	limits     *limits.Overrides
	logs       LogSink
	region     string
	account    string
	now        func() time.Time
	loop       *reconcile.Loop
	listeners  []Listener
	logger     *slog.Logger
}

// New returns the service; Run activates uploads.
func New(store Store, ws Workspaces, lim *limits.Overrides, logs LogSink, region, account string, logger *slog.Logger) *Service {
	s := &Service{store: store, workspaces: ws, limits: lim, logs: logs, region: region, account: account, now: time.Now, logger: logger}
	s.loop = reconcile.New("rulegroups", 10*time.Second, logger, s.activate)
	return s
}

// OnChange registers a listener for active-rule changes (the ruler).
func (s *Service) OnChange(l Listener) { s.listeners = append(s.listeners, l) }

// Run activates valid uploads until ctx ends.
func (s *Service) Run(ctx context.Context) error { return s.loop.Run(ctx) }

// ARN returns a namespace's ARN.
func (s *Service) ARN(ws, name string) string {
	return fmt.Sprintf("arn:aws:aps:%s:%s:rulegroupsnamespace/%s/%s", s.region, s.account, ws, name)
}

// Namespace is a namespace as the API describes it.
type Namespace struct {
	metastore.RuleNamespace
	Tags map[string]string
}

// ValidateName checks a namespace name.
func ValidateName(name string) error {
	if len(name) < 1 || len(name) > 128 || !nameRE.MatchString(name) {
		return apierr.InvalidField("name", "Member must have length between 1 and 128 and satisfy regular expression pattern: [0-9A-Za-z][-.0-9A-Z_a-z]*")
	}
	return nil
}

func (s *Service) checkSize(data []byte, lim *limits.Limits) error {
	if len(data) == 0 {
		return apierr.InvalidField("data", "the rule file is empty")
	}
	if len(data) > lim.MaxDefinitionSizeBytes {
		return apierr.InvalidField("data", "the rule file is %d bytes; the limit is %d bytes", len(data), lim.MaxDefinitionSizeBytes)
	}
	return nil
}

// validate checks content and the workspace's rule quota. A content problem
// is returned as a status reason (the upload is recorded as failed); a
// quota problem as an API error.
func (s *Service) validate(ctx context.Context, ws, name string, data []byte) (ruleCount int, reason string, err error) {
	_, n, verr := Validate(name, data, s.limits.For(ws))
	if verr != nil {
		return 0, statusReason(verr), nil
	}
	if err := s.checkQuota(ctx, s.store, ws, name, n); err != nil {
		return 0, "", err
	}
	return n, "", nil
}

// checkQuota refuses n rules in namespace name if, with the workspace's
// other namespaces, they exceed the rule quota. The writes check it again
// in their transaction, so that two uploads on two nodes cannot both fit
// in what is left.
func (s *Service) checkQuota(ctx context.Context, q interface {
	CountRules(ctx context.Context, ws, except string) (int, error)
}, ws, name string, n int) error {
	lim := s.limits.For(ws)
	if lim.MaxRulesPerWorkspace <= 0 || n == 0 {
		return nil
	}
	others, err := q.CountRules(ctx, ws, name)
	if err != nil {
		return err
	}
	if others+n > lim.MaxRulesPerWorkspace {
		return apierr.QuotaExceeded(ResourceType, name, "L-rules-per-workspace",
			"this rule file has %d rules and the workspace already has %d: over the limit of %d rules per workspace", n, others, lim.MaxRulesPerWorkspace)
	}
	return nil
}

// CreateInput is CreateRuleGroupsNamespace's input.
type CreateInput struct {
	WorkspaceID string
	Name        string
	Data        []byte
	ClientToken string
	Tags        map[string]string
}

// Create makes a namespace.
func (s *Service) Create(ctx context.Context, in CreateInput) (Namespace, error) {
	if err := ValidateName(in.Name); err != nil {
		return Namespace{}, err
	}
	if err := workspace.ValidateClientToken(in.ClientToken); err != nil {
		return Namespace{}, err
	}
	if err := tagging.Validate(in.Tags, nil); err != nil {
		return Namespace{}, err
	}
	if err := workspace.RequireActive(ctx, s.workspaces, in.WorkspaceID); err != nil {
		return Namespace{}, err
	}
	lim, err := s.limits.Current(ctx, in.WorkspaceID)
	if err != nil {
		return Namespace{}, err
	}
	if err := s.checkSize(in.Data, lim); err != nil {
		return Namespace{}, err
	}
	if existing, err := s.store.GetRuleNamespace(ctx, in.WorkspaceID, in.Name); err == nil {
		if in.ClientToken != "" && existing.ClientToken == in.ClientToken && string(existing.Data) == string(in.Data) {
			return s.withTags(ctx, existing) // an idempotent retry
		}
		return Namespace{}, apierr.Conflict(ResourceType, in.Name, "A rule groups namespace named %s already exists in workspace %s; use PutRuleGroupsNamespace to change it", in.Name, in.WorkspaceID)
	} else if !errors.Is(err, metastore.ErrNotFound) {
		return Namespace{}, err
	}
	count, reason, err := s.validate(ctx, in.WorkspaceID, in.Name, in.Data)
	if err != nil {
		return Namespace{}, err
	}
	now := s.now().UTC()
	n := metastore.RuleNamespace{WorkspaceID: in.WorkspaceID, Name: in.Name, ARN: s.ARN(in.WorkspaceID, in.Name), Data: in.Data,
		Status: metastore.StatusCreating, ClientToken: in.ClientToken, Version: 1, CreatedAt: now, ModifiedAt: now}
	if reason != "" {
		n.Status, n.StatusReason = metastore.StatusCreationFailed, reason
	} else {
		n.RuleCount = count
	}
	err = s.store.InTx(ctx, func(q *metastore.Queries) error {
		if err := s.checkQuota(ctx, q, n.WorkspaceID, n.Name, n.RuleCount); err != nil {
			return err
		}
		if err := q.CreateRuleNamespace(ctx, n); err != nil {
			return err
		}
		return q.SetTags(ctx, n.ARN, in.Tags)
	})
	if errors.Is(err, metastore.ErrConflict) {
		// Created concurrently (on another node, perhaps): the same
		// request retried with its client token is answered as its first.
		if existing, gerr := s.store.GetRuleNamespace(ctx, in.WorkspaceID, in.Name); gerr == nil &&
			in.ClientToken != "" && existing.ClientToken == in.ClientToken && string(existing.Data) == string(in.Data) {
			return s.withTags(ctx, existing)
		}
		return Namespace{}, apierr.Conflict(ResourceType, in.Name, "A rule groups namespace named %s already exists in workspace %s", in.Name, in.WorkspaceID)
	}
	if err != nil {
		return Namespace{}, fmt.Errorf("create rule groups namespace: %w", err)
	}
	s.afterWrite(ctx, n)
	return Namespace{RuleNamespace: n, Tags: nonNil(in.Tags)}, nil
}

// Put replaces a namespace's rule file.
func (s *Service) Put(ctx context.Context, ws, name string, data []byte, clientToken string) (Namespace, error) {
	if err := ValidateName(name); err != nil {
		return Namespace{}, err
	}
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return Namespace{}, err
	}
	if err := workspace.RequireActive(ctx, s.workspaces, ws); err != nil {
		return Namespace{}, err
	}
	lim, err := s.limits.Current(ctx, ws)
	if err != nil {
		return Namespace{}, err
	}
	if err := s.checkSize(data, lim); err != nil {
		return Namespace{}, err
	}
	cur, err := s.get(ctx, ws, name)
	if err != nil {
		return Namespace{}, err
	}
	if cur.Status == metastore.StatusCreating || cur.Status == metastore.StatusUpdating || cur.Status == metastore.StatusDeleting {
		return Namespace{}, apierr.Conflict(ResourceType, name, "Rule groups namespace %s is %s; retry when the change in progress is done", name, cur.Status)
	}
	count, reason, err := s.validate(ctx, ws, name, data)
	if err != nil {
		return Namespace{}, err
	}
	n := cur
	n.Data, n.Version, n.ModifiedAt = data, cur.Version+1, s.now().UTC()
	if reason != "" {
		n.Status, n.StatusReason = metastore.StatusUpdateFailed, reason
		if cur.ActiveData == nil {
			n.Status = metastore.StatusCreationFailed
		}
	} else {
		n.Status, n.StatusReason = metastore.StatusUpdating, ""
		n.RuleCount = count
	}
	err = s.store.InTx(ctx, func(q *metastore.Queries) error {
		if reason == "" {
			if err := s.checkQuota(ctx, q, ws, name, n.RuleCount); err != nil {
				return err
			}
		}
		return q.UpdateRuleNamespace(ctx, n, cur.Version)
	})
	if err != nil {
		if errors.Is(err, metastore.ErrConflict) {
			return Namespace{}, apierr.Conflict(ResourceType, name, "Rule groups namespace %s was changed concurrently; retry", name)
		}
		if errors.Is(err, metastore.ErrNotFound) {
			return Namespace{}, s.notFound(ws, name)
		}
		return Namespace{}, err
	}
	s.afterWrite(ctx, n)
	return s.withTags(ctx, n)
}

func (s *Service) afterWrite(ctx context.Context, n metastore.RuleNamespace) {
	switch n.Status {
	case metastore.StatusCreationFailed, metastore.StatusUpdateFailed:
		s.logs.Log(ctx, n.WorkspaceID, "ruler", "ERROR", fmt.Sprintf("rule groups namespace %s was not loaded: %s", n.Name, n.StatusReason),
			map[string]string{"namespace": n.Name})
	default:
		s.loop.Kick()
	}
}

func (s *Service) notFound(ws, name string) error {
	return apierr.NotFound(ResourceType, name, "Rule groups namespace %s not found in workspace %s", name, ws)
}

func (s *Service) get(ctx context.Context, ws, name string) (metastore.RuleNamespace, error) {
	n, err := s.store.GetRuleNamespace(ctx, ws, name)
	if errors.Is(err, metastore.ErrNotFound) {
		return n, s.notFound(ws, name)
	}
	return n, err
}

func (s *Service) withTags(ctx context.Context, n metastore.RuleNamespace) (Namespace, error) {
	tags, err := s.store.Tags(ctx, n.ARN)
	if err != nil {
		return Namespace{}, err
	}
	return Namespace{RuleNamespace: n, Tags: tags}, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Describe returns a namespace with its data and tags.
func (s *Service) Describe(ctx context.Context, ws, name string) (Namespace, error) {
	if err := workspace.ValidateID(ws); err != nil {
		return Namespace{}, err
	}
	if err := ValidateName(name); err != nil {
		return Namespace{}, err
	}
	if _, err := s.workspaces.Get(ctx, ws); err != nil {
		return Namespace{}, err
	}
	n, err := s.get(ctx, ws, name)
	if err != nil {
		return Namespace{}, err
	}
	return s.withTags(ctx, n)
}

// Exists returns the error Describe would: nil when the namespace exists.
func (s *Service) Exists(ctx context.Context, ws, name string) error {
	_, err := s.Describe(ctx, ws, name)
	return err
}

// List returns one page of a workspace's namespaces.
func (s *Service) List(ctx context.Context, ws, prefix string, maxResults int, next string) ([]Namespace, string, error) {
	if _, err := s.workspaces.Get(ctx, ws); err != nil {
		return nil, "", err
	}
	if maxResults == 0 {
		maxResults = 100
	}
	if maxResults < 1 || maxResults > 1000 {
		return nil, "", apierr.InvalidField("maxResults", "Member must have value between 1 and 1000")
	}
	ns, tok, err := s.store.ListRuleNamespaces(ctx, ws, prefix, maxResults, next)
	if errors.Is(err, metastore.ErrBadPageToken) {
		return nil, "", apierr.Validation(apierr.ReasonFieldValidation, "Invalid nextToken: pass the nextToken of the previous response unchanged")
	}
	if err != nil {
		return nil, "", err
	}
	out := make([]Namespace, 0, len(ns))
	for _, n := range ns {
		d, err := s.withTags(ctx, n)
		if err != nil {
			return nil, "", err
		}
		out = append(out, d)
	}
	return out, tok, nil
}

// Delete removes a namespace; its rules stop being evaluated.
func (s *Service) Delete(ctx context.Context, ws, name, clientToken string) error {
	if err := workspace.ValidateClientToken(clientToken); err != nil {
		return err
	}
	if err := ValidateName(name); err != nil {
		return err
	}
	if _, err := s.workspaces.Get(ctx, ws); err != nil {
		return err
	}
	n, err := s.get(ctx, ws, name)
	if err != nil {
		return err
	}
	err = s.store.InTx(ctx, func(q *metastore.Queries) error {
		if err := q.DeleteRuleNamespace(ctx, ws, name); err != nil {
			return err
		}
		return q.DeleteTags(ctx, n.ARN)
	})
	if errors.Is(err, metastore.ErrNotFound) {
		return s.notFound(ws, name)
	}
	if err != nil {
		return err
	}
	s.notify(ctx, ws)
	return nil
}

func (s *Service) notify(ctx context.Context, ws string) {
	for _, l := range s.listeners {
		l(ctx, ws)
	}
}

// Active returns the rule files in force for a workspace, by namespace.
func (s *Service) Active(ctx context.Context, ws string) (map[string][]byte, error) {
	ns, _, err := s.store.ListRuleNamespaces(ctx, ws, "", 0, "")
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, n := range ns {
		if n.ActiveData != nil {
			out[n.Name] = n.ActiveData
		}
	}
	return out, nil
}

// activate makes pending valid uploads the namespaces' active rules.
func (s *Service) activate(ctx context.Context) error {
	pending, err := s.store.ListRuleNamespacesByStatus(ctx, metastore.StatusCreating, metastore.StatusUpdating)
	if err != nil {
		return err
	}
	changed := map[string]bool{}
	for _, n := range pending {
		next := n
		next.ActiveData, next.Status, next.StatusReason = n.Data, metastore.StatusActive, ""
		next.Version, next.ModifiedAt = n.Version+1, s.now().UTC()
		if err := s.store.UpdateRuleNamespace(ctx, next, n.Version); err != nil {
			if errors.Is(err, metastore.ErrConflict) || errors.Is(err, metastore.ErrNotFound) {
				continue // changed meanwhile: the next pass sees it
			}
			return err
		}
		changed[n.WorkspaceID] = true
	}
	for ws := range changed {
		s.notify(ctx, ws)
	}
	return nil
}

// Kick runs an activation pass soon (tests, and other nodes' changes).
func (s *Service) Kick() { s.loop.Kick() }
