package iam

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/iam/policy"
	"github.com/kansoku/kansoku/internal/metastore"
)

// AdministratorAccess is the built-in policy the first admin gets.
const AdministratorAccess = "arn:aws:iam::aws:policy/AdministratorAccess"

// ErrInUse is returned when deleting a policy that is still attached.
var ErrInUse = errors.New("in use")

var policyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

// PolicyStore is the part of the metadata store that holds policies.
type PolicyStore interface {
	CreatePolicy(ctx context.Context, p metastore.Policy) error
	GetPolicy(ctx context.Context, arn string) (metastore.Policy, error)
	ListPolicies(ctx context.Context) ([]metastore.Policy, error)
	UpdatePolicyDocument(ctx context.Context, arn, doc string, at time.Time) error
	DeletePolicy(ctx context.Context, arn string) error
	AttachPolicy(ctx context.Context, principalID, policyARN string, at time.Time) error
	DetachPolicy(ctx context.Context, principalID, policyARN string) error
	AttachedPolicies(ctx context.Context, principalID string) ([]string, error)
	CountPolicyAttachments(ctx context.Context, policyARN string) (int, error)
}

// PolicyInfo describes a policy, built-in or customer-managed.
type PolicyInfo struct {
	ARN             string
	Name            string
	Description     string
	Document        string
	AWSManaged      bool
	AttachmentCount int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// PolicyARN returns the ARN of a customer policy of this account.
func (s *Service) PolicyARN(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:policy/%s", s.accountID, name)
}

// ResolvePolicyARN accepts a policy ARN, or the name of a built-in or
// customer policy, and returns its ARN.
func (s *Service) ResolvePolicyARN(ctx context.Context, nameOrARN string) (string, error) {
	if strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN, nil
	}
	if _, ok := policy.Managed()["arn:aws:iam::aws:policy/"+nameOrARN]; ok {
		return "arn:aws:iam::aws:policy/" + nameOrARN, nil
	}
	return s.PolicyARN(nameOrARN), nil
}

// CreatePolicy validates and stores a customer-managed policy.
func (s *Service) CreatePolicy(ctx context.Context, name, description, document string) (PolicyInfo, error) {
	if !policyNameRE.MatchString(name) {
		return PolicyInfo{}, fmt.Errorf("%w: policy names are 1-128 characters of letters, digits and +=,.@_-", ErrInvalidName)
	}
	if _, err := policy.Parse([]byte(document)); err != nil {
		return PolicyInfo{}, malformed(err)
	}
	now := s.now().UTC()
	p := metastore.Policy{ARN: s.PolicyARN(name), Name: name, Description: description, Document: document, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreatePolicy(ctx, p); err != nil {
		if errors.Is(err, metastore.ErrConflict) {
			return PolicyInfo{}, fmt.Errorf("policy %q: %w", name, ErrExists)
		}
		return PolicyInfo{}, err
	}
	return PolicyInfo{ARN: p.ARN, Name: name, Description: description, Document: document, CreatedAt: now, UpdatedAt: now}, nil
}

func malformed(err error) error {
	return &apierr.Error{Type: "MalformedPolicyDocumentException", Status: 400, Message: err.Error()}
}

// Policy returns a policy by ARN.
func (s *Service) Policy(ctx context.Context, arn string) (PolicyInfo, error) {
	if m, ok := policy.Managed()[arn]; ok {
		n, err := s.store.CountPolicyAttachments(ctx, arn)
		if err != nil {
			return PolicyInfo{}, err
		}
		return PolicyInfo{ARN: arn, Name: m.Name, Description: m.Description, Document: m.Document, AWSManaged: true, AttachmentCount: n}, nil
	}
	p, err := s.store.GetPolicy(ctx, arn)
	if errors.Is(err, metastore.ErrNotFound) {
		return PolicyInfo{}, fmt.Errorf("policy %s: %w", arn, ErrNotFound)
	}
	if err != nil {
		return PolicyInfo{}, err
	}
	n, err := s.store.CountPolicyAttachments(ctx, arn)
	if err != nil {
		return PolicyInfo{}, err
	}
	return PolicyInfo{ARN: p.ARN, Name: p.Name, Description: p.Description, Document: p.Document, AttachmentCount: n, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}, nil
}

// Policies lists the built-in policies, then the customer ones.
func (s *Service) Policies(ctx context.Context) ([]PolicyInfo, error) {
	var out []PolicyInfo
	managed := policy.Managed()
	arns := make([]string, 0, len(managed))
	for a := range managed {
		arns = append(arns, a)
	}
	sort.Strings(arns)
	for _, a := range arns {
		p, err := s.Policy(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	customer, err := s.store.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range customer {
		p, err := s.Policy(ctx, c.ARN)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// UpdatePolicy replaces a customer policy's document; it takes effect at
// once for every principal it is attached to.
func (s *Service) UpdatePolicy(ctx context.Context, arn, document string) error {
	if _, ok := policy.Managed()[arn]; ok {
		return apierr.Validation(apierr.ReasonFieldValidation, "built-in policy %s cannot be changed", arn)
	}
	if _, err := policy.Parse([]byte(document)); err != nil {
		return malformed(err)
	}
	if err := s.store.UpdatePolicyDocument(ctx, arn, document, s.now().UTC()); err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return fmt.Errorf("policy %s: %w", arn, ErrNotFound)
		}
		return err
	}
	s.flushPolicies()
	return nil
}

// DeletePolicy removes a customer policy that is attached to nobody.
func (s *Service) DeletePolicy(ctx context.Context, arn string) error {
	if _, ok := policy.Managed()[arn]; ok {
		return apierr.Validation(apierr.ReasonFieldValidation, "built-in policy %s cannot be deleted", arn)
	}
	n, err := s.store.CountPolicyAttachments(ctx, arn)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("policy %s is attached to %d users; detach it first: %w", arn, n, ErrInUse)
	}
	if err := s.store.DeletePolicy(ctx, arn); err != nil {
		if errors.Is(err, metastore.ErrNotFound) {
			return fmt.Errorf("policy %s: %w", arn, ErrNotFound)
		}
		return err
	}
	return nil
}

// AttachUserPolicy attaches a policy to a user.
func (s *Service) AttachUserPolicy(ctx context.Context, userName, arn string) error {
	p, err := s.User(ctx, userName)
	if err != nil {
		return err
	}
	if _, err := s.Policy(ctx, arn); err != nil {
		return err
	}
	if err := s.store.AttachPolicy(ctx, p.ID, arn, s.now().UTC()); err != nil {
		return err
	}
	s.forgetPolicies(p.ID)
	return nil
}

// DetachUserPolicy detaches a policy from a user.
func (s *Service) DetachUserPolicy(ctx context.Context, userName, arn string) error {
	p, err := s.User(ctx, userName)
	if err != nil {
		return err
	}
	err = s.store.DetachPolicy(ctx, p.ID, arn)
	s.forgetPolicies(p.ID)
	if errors.Is(err, metastore.ErrNotFound) {
		return fmt.Errorf("policy %s is not attached to %s: %w", arn, userName, ErrNotFound)
	}
	return err
}

// AttachedUserPolicies lists the policies attached to a user.
func (s *Service) AttachedUserPolicies(ctx context.Context, userName string) ([]PolicyInfo, error) {
	p, err := s.User(ctx, userName)
	if err != nil {
		return nil, err
	}
	arns, err := s.store.AttachedPolicies(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	var out []PolicyInfo
	for _, a := range arns {
		info, err := s.Policy(ctx, a)
		if errors.Is(err, ErrNotFound) {
			continue // a customer policy deleted underneath
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// policyCache holds each principal's parsed policies for a short time.
type policyCache struct {
	mu sync.Mutex
	m  map[string]cachedPolicies
}

type cachedPolicies struct {
	policies []policy.NamedPolicy
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
}

func (s *Service) principalPolicies(ctx context.Context, principalID string) ([]policy.NamedPolicy, error) {
	now := s.now()
	s.policies.mu.Lock()
	c, ok := s.policies.m[principalID]
	s.policies.mu.Unlock()
	if ok && now.Sub(c.at) <= s.cacheTTL {
		return c.policies, nil
	}
	arns, err := s.store.AttachedPolicies(ctx, principalID)
	if err != nil {
		return nil, fmt.Errorf("read attached policies: %w", err)
	}
	var out []policy.NamedPolicy
	for _, a := range arns {
		if m, ok := policy.Managed()[a]; ok {
			out = append(out, policy.NamedPolicy{Name: a, Policy: m.Policy})
			continue
		}
		p, err := s.store.GetPolicy(ctx, a)
		if errors.Is(err, metastore.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		parsed, err := policy.Parse([]byte(p.Document))
		if err != nil {
			s.logger.Error("stored policy does not parse; ignoring it", "policy", a, "err", err)
			continue
		}
		out = append(out, policy.NamedPolicy{Name: a, Policy: parsed})
	}
	s.policies.mu.Lock()
	if len(s.policies.m) > 100000 {
		s.policies.m = map[string]cachedPolicies{}
	}
	s.policies.m[principalID] = cachedPolicies{policies: out, at: now}
	s.policies.mu.Unlock()
	return out, nil
}

// requestContext builds the condition keys of a request.
func requestContext(ctx context.Context, id *auth.Identity) map[string][]string {
	c := map[string][]string{
		"aws:username":         {id.PrincipalName},
		"aws:userid":           {id.PrincipalID},
		"aws:PrincipalArn":     {id.PrincipalARN},
		"aws:PrincipalAccount": {id.AccountID},
		"aws:PrincipalType":    {"User"},
	}
	if info, ok := auth.RequestInfoFrom(ctx); ok {
		if info.SourceIP != "" {
			c["aws:SourceIp"] = []string{info.SourceIP}
		}
		c["aws:SecureTransport"] = []string{fmt.Sprint(info.Secure)}
		if info.Region != "" {
			c["aws:RequestedRegion"] = []string{info.Region}
		}
	}
	return c
}

// Authorize implements the API's authorizer: the caller's attached policies
// decide, deny by default, explicit Deny wins.
func (s *Service) Authorize(ctx context.Context, id *auth.Identity, action, resource string) error {
	if id == nil || id.AccountID != s.accountID {
		return apierr.AccessDenied("User is not authorized to perform: %s on resource: %s", action, resource)
	}
	d, err := s.decide(ctx, id, action, resource)
	if err != nil {
		return err
	}
	switch d.Effect {
	case policy.Allow:
		return nil
	case policy.ExplicitDeny:
		return apierr.AccessDenied("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in an identity-based policy (%s)",
			id.PrincipalARN, action, resource, d.PolicyName)
	}
	return apierr.AccessDenied("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
		id.PrincipalARN, action, resource, action)
}

func (s *Service) decide(ctx context.Context, id *auth.Identity, action, resource string) (policy.Decision, error) {
	pols, err := s.principalPolicies(ctx, id.PrincipalID)
	if err != nil {
		return policy.Decision{}, err
	}
	return policy.Evaluate(pols, policy.Request{Action: action, Resource: resource, Context: requestContext(ctx, id)}), nil
}

// Simulate answers "may user do action on resource?" without doing it.
func (s *Service) Simulate(ctx context.Context, userName, action, resource string) (policy.Decision, error) {
	p, err := s.User(ctx, userName)
	if err != nil {
		return policy.Decision{}, err
	}
	id := &auth.Identity{AccountID: s.accountID, PrincipalID: p.ID, PrincipalName: p.Name, PrincipalARN: p.ARN}
	return s.decide(ctx, id, action, resource)
}
