package iam

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/iam/policy"
	"github.com/kansoku/kansoku/internal/metastore"
)

// policyCache holds each principal's (user's or role's) parsed identity
// policies and tags for a short time.
type policyCache struct {
	mu sync.Mutex
	m  map[string]cachedPolicies
}

type cachedPolicies struct {
	policies []policy.NamedPolicy
	tags     map[string]string
	at       time.Time
}

func (s *Service) forgetPolicies(principalID string) {
	s.policies.mu.Lock()
	delete(s.policies.m, principalID)
	s.policies.mu.Unlock()
}

func (s *Service) flushPolicies() {
	s.policies.mu.Lock()
	s.policies.m = map[string]cachedPolicies{}
	s.policies.mu.Unlock()
	s.mu.Lock()
	s.docCache.flush()
	s.mu.Unlock()
}

func (s *Service) flushTags() {
	s.mu.Lock()
	s.tagCache.flush()
	s.mu.Unlock()
}

// identityPolicies returns the managed and inline policies and the tags of
// a user (AIDA id) or role (AROA id).
func (s *Service) identityPolicies(ctx context.Context, principalID, arn string, role bool) ([]policy.NamedPolicy, map[string]string, error) {
	now := s.now()
	s.policies.mu.Lock()
	c, ok := s.policies.m[principalID]
	s.policies.mu.Unlock()
	if ok && now.Sub(c.at) <= s.cacheTTL {
		return c.policies, c.tags, nil
	}
	var arns []string
	var err error
	if role {
		arns, err = s.store.RoleAttachedPolicies(ctx, principalID)
	} else {
		arns, err = s.store.AttachedPolicies(ctx, principalID)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read attached policies: %w", err)
	}
	var out []policy.NamedPolicy
	for _, a := range arns {
		p, err := s.managedPolicy(ctx, a)
		if err != nil {
			return nil, nil, err
		}
		if p != nil {
			out = append(out, policy.NamedPolicy{Name: a, Policy: p})
		}
	}
	inline, err := s.store.ListInlinePolicies(ctx, principalID)
	if err != nil {
		return nil, nil, fmt.Errorf("read inline policies: %w", err)
	}
	for _, ip := range inline {
		parsed, err := policy.Parse([]byte(ip.Document))
		if err != nil {
			s.logger.Error("stored inline policy does not parse; ignoring it", "principal", arn, "policy", ip.Name, "err", err)
			continue
		}
		out = append(out, policy.NamedPolicy{Name: arn + " inline " + ip.Name, Policy: parsed})
	}
	tags, err := s.store.Tags(ctx, arn)
	if err != nil {
		return nil, nil, fmt.Errorf("read tags of %s: %w", arn, err)
	}
	s.policies.mu.Lock()
	if len(s.policies.m) > 100000 {
		s.policies.m = map[string]cachedPolicies{}
	}
	s.policies.m[principalID] = cachedPolicies{policies: out, tags: tags, at: now}
	s.policies.mu.Unlock()
	return out, tags, nil
}

// managedPolicy returns a built-in or customer policy by ARN, nil when it
// does not exist (or does not parse any more).
func (s *Service) managedPolicy(ctx context.Context, arn string) (*policy.Policy, error) {
	if m, ok := policy.Managed()[arn]; ok {
		return m.Policy, nil
	}
	now := s.now()
	s.mu.Lock()
	p, ok := s.docCache.get(arn, now, s.cacheTTL)
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	stored, err := s.store.GetPolicy(ctx, arn)
	switch {
	case errors.Is(err, metastore.ErrNotFound):
		p = nil
	case err != nil:
		return nil, fmt.Errorf("read policy %s: %w", arn, err)
	default:
		p, err = policy.Parse([]byte(stored.Document))
		if err != nil {
			s.logger.Error("stored policy does not parse; ignoring it", "policy", arn, "err", err)
			p = nil
		}
	}
	s.mu.Lock()
	s.docCache.put(arn, p, now)
	s.mu.Unlock()
	return p, nil
}

// principalOf returns the identity's policies and tags: a user's, or a
// role session's role's with the session's tags over the role's.
func (s *Service) principalOf(ctx context.Context, id *auth.Identity) ([]policy.NamedPolicy, map[string]string, error) {
	if id.IsRoleSession() {
		sess := id.Session
		pols, roleTags, err := s.identityPolicies(ctx, sess.RoleID, sess.RoleARN, true)
		if err != nil {
			return nil, nil, err
		}
		tags := make(map[string]string, len(roleTags)+len(sess.Tags))
		for k, v := range roleTags {
			tags[k] = v
		}
		for k, v := range sess.Tags {
			tags[k] = v
		}
		return pols, tags, nil
	}
	return s.identityPolicies(ctx, id.PrincipalID, id.PrincipalARN, false)
}

// sessionPolicies returns the session policies of temporary credentials
// (nil when it has none: then they do not limit).
func (s *Service) sessionPolicies(ctx context.Context, sess *auth.Session) ([]policy.NamedPolicy, bool, error) {
	if sess == nil || (sess.Policy == "" && len(sess.PolicyARNs) == 0) {
		return nil, false, nil
	}
	var out []policy.NamedPolicy
	if sess.Policy != "" {
		sum := sha256.Sum256([]byte(sess.Policy))
		key := "session:" + hex.EncodeToString(sum[:])
		now := s.now()
		s.mu.Lock()
		p, ok := s.docCache.get(key, now, s.cacheTTL)
		s.mu.Unlock()
		if !ok {
			parsed, err := policy.Parse([]byte(sess.Policy))
			if err != nil {
				return nil, true, fmt.Errorf("session policy: %w", err) // validated when issued
			}
			p = parsed
			s.mu.Lock()
			s.docCache.put(key, p, now)
			s.mu.Unlock()
		}
		out = append(out, policy.NamedPolicy{Name: "session policy", Policy: p})
	}
	for _, a := range sess.PolicyARNs {
		p, err := s.managedPolicy(ctx, a)
		if err != nil {
			return nil, true, err
		}
		if p != nil {
			out = append(out, policy.NamedPolicy{Name: "session policy " + a, Policy: p})
		}
	}
	return out, true, nil
}

// callerOf names an identity as Principal elements match it.
func (s *Service) callerOf(id *auth.Identity) *policy.Caller {
	if id.IsRoleSession() {
		return &policy.Caller{Account: s.accountID, ARNs: []string{id.Session.RoleARN, id.PrincipalARN}}
	}
	return &policy.Caller{Account: s.accountID, ARNs: []string{id.PrincipalARN}}
}

// requestContext builds the condition keys of a request. Where each comes
// from is in docs/iam.md ("Condition keys").
func (s *Service) requestContext(ctx context.Context, id *auth.Identity, principalTags map[string]string) map[string][]string {
	now := s.now().UTC()
	c := map[string][]string{
		"aws:userid":           {id.PrincipalID},
		"aws:PrincipalArn":     {id.PrincipalARN},
		"aws:PrincipalAccount": {s.accountID},
		"aws:PrincipalType":    {"User"},
		"aws:CurrentTime":      {now.Format(time.RFC3339)},
		"aws:EpochTime":        {strconv.FormatInt(now.Unix(), 10)},
	}
	if !id.IsRoleSession() {
		c["aws:username"] = []string{id.PrincipalName}
	}
	if sess := id.Session; sess != nil {
		c["aws:TokenIssueTime"] = []string{sess.IssuedAt.UTC().Format(time.RFC3339)}
		c["aws:MultiFactorAuthPresent"] = []string{strconv.FormatBool(sess.MFA)}
		if id.IsRoleSession() {
			c["aws:PrincipalType"] = []string{"AssumedRole"}
			c["aws:PrincipalArn"] = []string{sess.RoleARN}
		}
		if sess.Provider != "" {
			c["aws:FederatedProvider"] = []string{sess.Provider}
		}
		if sess.SourceIdentity != "" {
			c["aws:SourceIdentity"] = []string{sess.SourceIdentity}
		}
	}
	for k, v := range principalTags {
		c["aws:PrincipalTag/"+k] = []string{v}
	}
	if info, ok := auth.RequestInfoFrom(ctx); ok {
		if info.SourceIP != "" {
			c["aws:SourceIp"] = []string{info.SourceIP}
		}
		c["aws:SecureTransport"] = []string{strconv.FormatBool(info.Secure)}
		if info.Region != "" {
			c["aws:RequestedRegion"] = []string{info.Region}
		}
	}
	if rt, ok := auth.RequestTagsFrom(ctx); ok {
		for k, v := range rt.Tags {
			c["aws:RequestTag/"+k] = []string{v}
		}
		if len(rt.Keys) > 0 {
			c["aws:TagKeys"] = rt.Keys
		}
	}
	return c
}

// taggedResource reports whether an ARN is one whose tags conditions can
// test: workspaces and rule groups namespaces, this account's users and
// roles.
func (s *Service) taggedResource(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[4] != s.accountID {
		return false
	}
	switch parts[2] {
	case "aps":
		return strings.HasPrefix(parts[5], "workspace/") || strings.HasPrefix(parts[5], "rulegroupsnamespace/")
	case "iam":
		return strings.HasPrefix(parts[5], "user/") || strings.HasPrefix(parts[5], "role/")
	}
	return false
}

// resourceTags returns a resource's tags (cached for the IAM cache's TTL:
// a tag change made elsewhere is seen within it).
func (s *Service) resourceTags(ctx context.Context, arn string) (map[string]string, error) {
	if !s.taggedResource(arn) {
		return nil, nil
	}
	now := s.now()
	s.mu.Lock()
	t, ok := s.tagCache.get(arn, now, s.cacheTTL)
	s.mu.Unlock()
	if ok {
		return *t, nil
	}
	tags, err := s.store.Tags(ctx, arn)
	if err != nil {
		return nil, fmt.Errorf("read tags of %s: %w", arn, err)
	}
	s.mu.Lock()
	s.tagCache.put(arn, &tags, now)
	s.mu.Unlock()
	return tags, nil
}

// workspaceOf returns the workspace a resource ARN belongs to.
func (s *Service) workspaceOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "aps" || parts[4] != s.accountID {
		return ""
	}
	for _, prefix := range []string{"workspace/", "rulegroupsnamespace/"} {
		if rest, ok := strings.CutPrefix(parts[5], prefix); ok {
			ws, _, _ := strings.Cut(rest, "/")
			return ws
		}
	}
	return ""
}

// verdict is the combined outcome of identity, session and resource
// policies.
type verdict struct {
	policy.Decision
	// Source says which kind of policy decided: "identity-based",
	// "session", "resource-based"; for an implicit deny, which kind failed
	// to allow.
	Source string
}

// decide evaluates a request as IAM does within one account: an explicit
// Deny in any policy (identity, session, the resource's) wins; otherwise
// the identity's policies or the resource's policy must allow, and when
// the credentials carry session policies those must allow too (they only
// ever narrow). A resource policy that names the caller only through the
// account root grants nothing by itself: it leaves the decision to the
// identity's policies.
func (s *Service) decide(ctx context.Context, id *auth.Identity, action, resource string, extra map[string][]string) (verdict, error) {
	pols, tags, err := s.principalOf(ctx, id)
	if err != nil {
		return verdict{}, err
	}
	c := s.requestContext(ctx, id, tags)
	for k, v := range extra {
		c[k] = v
	}
	rtags, err := s.resourceTags(ctx, resource)
	if err != nil {
		return verdict{}, err
	}
	for k, v := range rtags {
		c["aws:ResourceTag/"+k] = []string{v}
	}
	req := policy.Request{Action: action, Resource: resource, Context: c, Caller: s.callerOf(id)}
	idD := policy.Evaluate(pols, req)
	if idD.Effect == policy.ExplicitDeny {
		return verdict{idD, "identity-based"}, nil
	}
	sessPols, limited, err := s.sessionPolicies(ctx, id.Session)
	if err != nil {
		return verdict{}, err
	}
	sessOK := true
	if limited {
		sd := policy.Evaluate(sessPols, req)
		if sd.Effect == policy.ExplicitDeny {
			return verdict{sd, "session"}, nil
		}
		sessOK = sd.Allowed()
	}
	var rpD policy.Decision
	if ws := s.workspaceOf(resource); ws != "" {
		rp, err := s.resourcePolicy(ctx, ws)
		if err != nil {
			return verdict{}, err
		}
		if rp != nil {
			rpD = policy.Evaluate([]policy.NamedPolicy{{Name: "resource policy of " + ws, Policy: rp}}, req)
			if rpD.Effect == policy.ExplicitDeny {
				return verdict{rpD, "resource-based"}, nil
			}
		}
	}
	rpGrants := rpD.Allowed() && !rpD.ViaAccount && sharableActions[strings.ToLower(action)]
	switch {
	case idD.Allowed() && sessOK:
		return verdict{idD, "identity-based"}, nil
	case rpGrants && sessOK:
		return verdict{rpD, "resource-based"}, nil
	case (idD.Allowed() || rpGrants) && !sessOK:
		return verdict{policy.Decision{Effect: policy.ImplicitDeny}, "session"}, nil
	}
	return verdict{policy.Decision{Effect: policy.ImplicitDeny}, "identity-based"}, nil
}

// Authorize implements the API's authorizer (see decide).
func (s *Service) Authorize(ctx context.Context, id *auth.Identity, action, resource string) error {
	if id == nil || id.AccountID != s.accountID {
		return apierr.AccessDenied("User is not authorized to perform: %s on resource: %s", action, resource)
	}
	v, err := s.decide(ctx, id, action, resource, nil)
	if err != nil {
		return err
	}
	return s.refusal(id, action, resource, v)
}

func (s *Service) refusal(id *auth.Identity, action, resource string, v verdict) error {
	switch v.Effect {
	case policy.Allow:
		return nil
	case policy.ExplicitDeny:
		return apierr.AccessDenied("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in a %s policy (%s)",
			id.PrincipalARN, action, resource, v.Source, v.PolicyName)
	}
	return apierr.AccessDenied("User: %s is not authorized to perform: %s on resource: %s because no %s policy allows the %s action",
		id.PrincipalARN, action, resource, v.Source, action)
}

// Simulate answers "may user do action on resource?" without doing it.
func (s *Service) Simulate(ctx context.Context, userName, action, resource string) (policy.Decision, error) {
	id, err := s.userIdentity(ctx, userName)
	if err != nil {
		return policy.Decision{}, err
	}
	v, err := s.decide(ctx, id, action, resource, nil)
	return v.Decision, err
}

// userIdentity is a user as an authenticated caller with long-term keys.
func (s *Service) userIdentity(ctx context.Context, userName string) (*auth.Identity, error) {
	p, err := s.User(ctx, userName)
	if err != nil {
		return nil, err
	}
	return &auth.Identity{AccountID: s.accountID, PrincipalID: p.ID, PrincipalName: p.Name, PrincipalARN: p.ARN, Type: auth.TypeUser}, nil
}
