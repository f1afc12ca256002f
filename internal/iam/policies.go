package iam

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
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
	if _, err := parseDoc(document, policy.Identity, MaxManagedPolicyChars, "PolicySize"); err != nil {
		return PolicyInfo{}, err
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

// UpdatePolicy replaces a customer policy's document: a new default
// version (the oldest other version makes room when there are five); it
// takes effect at once for every principal it is attached to.
func (s *Service) UpdatePolicy(ctx context.Context, arn, document string) error {
	if _, ok := policy.Managed()[arn]; ok {
		return apierr.Validation(apierr.ReasonFieldValidation, "built-in policy %s cannot be changed", arn)
	}
	if _, err := parseDoc(document, policy.Identity, MaxManagedPolicyChars, "PolicySize"); err != nil {
		return err
	}
	if _, err := s.store.GetPolicy(ctx, arn); errors.Is(err, metastore.ErrNotFound) {
		return fmt.Errorf("policy %s: %w", arn, ErrNotFound)
	}
	if s.versions == nil {
		return s.store.UpdatePolicyDocument(ctx, arn, document, s.now().UTC())
	}
	vs, err := s.store.ListPolicyVersions(ctx, arn)
	if err != nil {
		return err
	}
	if len(vs) >= MaxPolicyVersions {
		for i := len(vs) - 1; i >= 0; i-- { // oldest first
			if !vs[i].IsDefault {
				if err := s.versions.DeletePolicyVersion(ctx, arn, vs[i].VersionID); err != nil {
					return err
				}
				break
			}
		}
	}
	_, err = s.CreatePolicyVersion(ctx, arn, document, true)
	return err
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
		return fmt.Errorf("policy %s is attached to %d users or roles; detach it first: %w", arn, n, ErrInUse)
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
