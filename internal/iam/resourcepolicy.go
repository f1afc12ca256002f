package iam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/httpapi"
	"github.com/kansoku/kansoku/internal/iam/policy"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Workspace resource policies (AMP's PutResourcePolicy,
// DescribeResourcePolicy, DeleteResourcePolicy). They are evaluated with
// the caller's identity policies (decide): an explicit Deny in either
// wins; otherwise an Allow in either grants, when the resource policy
// names the caller itself (its user, role or role session ARN), not only
// its account. As AMP documents, only the Prometheus-compatible APIs can
// be shared: an Allow of another action in a resource policy grants
// nothing (a Deny still denies).

// MaxResourcePolicyChars bounds a workspace policy (Kansoku's bound; AMP
// documents none).
const MaxResourcePolicyChars = 10240

// sharableActions are the Prometheus-compatible APIs a workspace policy
// can grant.
var sharableActions = map[string]bool{
	"aps:remotewrite": true, "aps:querymetrics": true, "aps:getseries": true, "aps:getlabels": true, "aps:getmetricmetadata": true,
}

// resourcePolicy returns a workspace's parsed policy (nil: none), cached
// for the IAM cache's TTL.
func (s *Service) resourcePolicy(ctx context.Context, ws string) (*policy.Policy, error) {
	now := s.now()
	s.mu.Lock()
	p, ok := s.rpCache.get(ws, now, s.cacheTTL)
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	rp, err := s.store.GetResourcePolicy(ctx, ws)
	switch {
	case errors.Is(err, metastore.ErrNotFound):
		p = nil
	case err != nil:
		return nil, fmt.Errorf("read resource policy of %s: %w", ws, err)
	default:
		if p, err = policy.ParseKind([]byte(rp.Document), policy.Resource); err != nil {
			s.logger.Error("stored resource policy does not parse; ignoring it", "workspace", ws, "err", err)
			p = nil
		}
	}
	s.mu.Lock()
	s.rpCache.put(ws, p, now)
	s.mu.Unlock()
	return p, nil
}

// PutResourcePolicy stores a workspace's policy; revision "" replaces any,
// "NO_POLICY" only creates, another value must be the current revision.
func (s *Service) PutResourcePolicy(ctx context.Context, ws, doc, revision string) (string, error) {
	if n := policyChars(doc); n > MaxResourcePolicyChars {
		return "", apierr.Validation(apierr.ReasonFieldValidation, "policyDocument has %d characters without white space; at most %d", n, MaxResourcePolicyChars)
	}
	if _, err := policy.ParseKind([]byte(doc), policy.Resource); err != nil {
		return "", apierr.Validation(apierr.ReasonFieldValidation, "policyDocument is not a valid resource-based policy: %v", err)
	}
	id := uuid.NewString()
	err := s.store.PutResourcePolicy(ctx, metastore.ResourcePolicy{WorkspaceID: ws, Document: doc, RevisionID: id, UpdatedAt: s.now().UTC()}, revision)
	if errors.Is(err, metastore.ErrConflict) {
		return "", apierr.Conflict("ResourcePolicy", ws, "the workspace's resource policy is not at revision %s", revision)
	}
	if err != nil {
		return "", err
	}
	s.forgetResourcePolicy(ws)
	return id, nil
}

func (s *Service) forgetResourcePolicy(ws string) {
	s.mu.Lock()
	s.rpCache.forget(ws)
	s.mu.Unlock()
}

// Routes of AMP's resource-policy operations, authorized on the workspace.
func (s *Service) resourcePolicyRoutes() []httpapi.Route {
	route := func(name, method, action string, f http.HandlerFunc) httpapi.Route {
		return httpapi.Route{Name: name, Method: method, Pattern: "/workspaces/{workspaceId}/policy", Plane: httpapi.Control,
			Action: action, Workspace: true, MaxBody: 64 * httpapi.KiB, Handler: f}
	}
	return []httpapi.Route{
		route("PutResourcePolicy", "PUT", "aps:PutResourcePolicy", s.putResourcePolicy),
		route("DescribeResourcePolicy", "GET", "aps:DescribeResourcePolicy", s.describeResourcePolicy),
		route("DeleteResourcePolicy", "DELETE", "aps:DeleteResourcePolicy", s.deleteResourcePolicy),
	}
}

func (s *Service) putResourcePolicy(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PolicyDocument string `json:"policyDocument"`
		RevisionID     string `json:"revisionId"`
		ClientToken    string `json:"clientToken"`
	}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	if strings.TrimSpace(in.PolicyDocument) == "" {
		httpapi.WriteError(w, r, httpapi.Control, apierr.InvalidField("policyDocument", "Member must not be null"))
		return
	}
	rev, err := s.PutResourcePolicy(r.Context(), r.PathValue("workspaceId"), in.PolicyDocument, in.RevisionID)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{"policyStatus": "ACTIVE", "revisionId": rev})
}

func (s *Service) describeResourcePolicy(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("workspaceId")
	rp, err := s.store.GetResourcePolicy(r.Context(), ws)
	if errors.Is(err, metastore.ErrNotFound) {
		httpapi.WriteError(w, r, httpapi.Control, apierr.NotFound("ResourcePolicy", ws, "workspace %s has no resource policy", ws))
		return
	}
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Control, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"policyDocument": rp.Document, "policyStatus": "ACTIVE", "revisionId": rp.RevisionID})
}

func (s *Service) deleteResourcePolicy(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("workspaceId")
	err := s.store.DeleteResourcePolicy(r.Context(), ws, r.URL.Query().Get("revisionId"))
	s.forgetResourcePolicy(ws)
	switch {
	case errors.Is(err, metastore.ErrNotFound):
		httpapi.WriteError(w, r, httpapi.Control, apierr.NotFound("ResourcePolicy", ws, "workspace %s has no resource policy", ws))
	case errors.Is(err, metastore.ErrConflict):
		httpapi.WriteError(w, r, httpapi.Control, apierr.Conflict("ResourcePolicy", ws, "the workspace's resource policy is not at revision %s", r.URL.Query().Get("revisionId")))
	case err != nil:
		httpapi.WriteError(w, r, httpapi.Control, err)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}
