package iam

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/iam/policy"
	"github.com/kansoku/kansoku/internal/metastore"
)

// Quotas, as the IAM and AWS STS quotas page states them
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):
// "Role trust policy length: 2,048 characters"; "Managed policy size:
// 6,144 characters"; inline policies: "User policy size cannot exceed
// 2,048 characters", "Role policy size cannot exceed 10,240 characters";
// "Versions of a managed policy that can be stored: 5"; "Managed policies
// attached to an IAM role / user: 10"; "Tags per IAM resource: 50";
// "Session policies: 2,048 characters" and "10 managed policy ARNs";
// "Session tags: 50", "Session tag key length 128, value length 256";
// "IAM doesn't count white space when calculating the size of a policy".
const (
	MaxTrustPolicyChars     = 2048
	MaxManagedPolicyChars   = 6144
	MaxUserInlineChars      = 2048
	MaxRoleInlineChars      = 10240
	MaxPolicyVersions       = 5
	MaxAttachedPolicies     = 10
	MaxTags                 = 50
	MaxSessionPolicyChars   = 2048
	MaxSessionPolicyARNs    = 10
	MaxSessionTags          = 50
	MaxOIDCClientIDs        = 100
	MaxOIDCThumbprints      = 5
	DefaultMaxSessionSecs   = 3600
	MaxMaxSessionSecs       = 43200
	RoleChainingMaxDuration = time.Hour
)

var (
	roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	// pathRE is IAM's path pattern; its length (at most 512) is checked
	// apart: a counted repetition of 510 compiles into a program of a
	// thousand instructions.
	pathRE = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
)

// policyChars counts a document's characters as IAM does for its quotas:
// white space does not count.
func policyChars(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// IAM's query-protocol errors, with the statuses of its service model.
func noSuchEntity(format string, args ...any) error {
	return &apierr.Error{Type: "NoSuchEntityException", Status: 404, Message: fmt.Sprintf(format, args...)}
}

func entityExists(format string, args ...any) error {
	return &apierr.Error{Type: "EntityAlreadyExistsException", Status: 409, Message: fmt.Sprintf(format, args...)}
}

func limitExceeded(format string, args ...any) error {
	return &apierr.Error{Type: "LimitExceededException", Status: 409, Message: fmt.Sprintf(format, args...)}
}

func deleteConflict(format string, args ...any) error {
	return &apierr.Error{Type: "DeleteConflictException", Status: 409, Message: fmt.Sprintf(format, args...)}
}

func invalidInput(format string, args ...any) error {
	return &apierr.Error{Type: "InvalidInputException", Status: 400, Message: fmt.Sprintf(format, args...)}
}

func malformedDoc(format string, args ...any) error {
	return &apierr.Error{Type: "MalformedPolicyDocumentException", Status: 400, Message: fmt.Sprintf(format, args...)}
}

// parseDoc checks a policy document's size and syntax.
func parseDoc(doc string, kind policy.Kind, maxChars int, what string) (*policy.Policy, error) {
	if n := policyChars(doc); n > maxChars {
		return nil, limitExceeded("Cannot exceed quota for %sSize: %d (the document has %d characters without white space)", what, maxChars, n)
	}
	p, err := policy.ParseKind([]byte(doc), kind)
	if err != nil {
		return nil, malformedDoc("%v", err)
	}
	return p, nil
}

// RoleARN returns the ARN of a role of this account.
func (s *Service) RoleARN(path, name string) string {
	if path == "" {
		path = "/"
	}
	return fmt.Sprintf("arn:aws:iam::%s:role%s%s", s.accountID, path, name)
}

// roleNameFromARN returns the role name an ARN of this account names.
func (s *Service) roleNameFromARN(arn string) (string, bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::"+s.accountID+":role/")
	if !ok || rest == "" {
		return "", false
	}
	return rest[strings.LastIndexByte(rest, '/')+1:], true
}

// CreateRoleInput is what CreateRole takes.
type CreateRoleInput struct {
	Name, Path, Description, TrustPolicy string
	MaxSessionSeconds                    int64
	Tags                                 map[string]string
}

// CreateRole validates and stores a role.
func (s *Service) CreateRole(ctx context.Context, in CreateRoleInput) (metastore.Role, error) {
	if !roleNameRE.MatchString(in.Name) {
		return metastore.Role{}, apierr.Validation(apierr.ReasonFieldValidation, "1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length 1-64", in.Name)
	}
	if in.Path == "" {
		in.Path = "/"
	}
	if len(in.Path) > 512 || !pathRE.MatchString(in.Path) {
		return metastore.Role{}, apierr.Validation(apierr.ReasonFieldValidation, "The specified value for path is invalid: it must begin and end with / and contain only printable ASCII characters")
	}
	if utf8.RuneCountInString(in.Description) > 1000 {
		return metastore.Role{}, apierr.Validation(apierr.ReasonFieldValidation, "description is longer than 1000 characters")
	}
	if in.MaxSessionSeconds == 0 {
		in.MaxSessionSeconds = DefaultMaxSessionSecs
	}
	if in.MaxSessionSeconds < DefaultMaxSessionSecs || in.MaxSessionSeconds > MaxMaxSessionSecs {
		return metastore.Role{}, apierr.Validation(apierr.ReasonFieldValidation, "The specified value for maxSessionDuration is invalid: it must be between 3600 and 43200 seconds")
	}
	if _, err := parseDoc(in.TrustPolicy, policy.Trust, MaxTrustPolicyChars, "ACLSize"); err != nil {
		return metastore.Role{}, err
	}
	if err := validateTags(in.Tags, nil, MaxTags); err != nil {
		return metastore.Role{}, err
	}
	r := metastore.Role{ID: "AROA" + auth.NewPrincipalID()[4:], Name: in.Name, ARN: s.RoleARN(in.Path, in.Name), Path: in.Path,
		Description: in.Description, TrustPolicy: in.TrustPolicy, MaxSessionSeconds: in.MaxSessionSeconds, CreatedAt: s.now().UTC()}
	if err := s.store.CreateRole(ctx, r); err != nil {
		if errors.Is(err, metastore.ErrConflict) {
			return metastore.Role{}, entityExists("Role with name %s already exists.", in.Name)
		}
		return metastore.Role{}, fmt.Errorf("create role %q: %w", in.Name, err)
	}
	if len(in.Tags) > 0 {
		if err := s.store.SetTags(ctx, r.ARN, in.Tags); err != nil {
			return metastore.Role{}, fmt.Errorf("tag role %q: %w", in.Name, err)
		}
	}
	s.forgetRole(r.ID)
	return r, nil
}

// Role returns a role by name.
func (s *Service) Role(ctx context.Context, name string) (metastore.Role, error) {
	r, err := s.store.GetRoleByName(ctx, name)
	if errors.Is(err, metastore.ErrNotFound) {
		return r, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return r, err
}

// Roles lists the roles.
func (s *Service) Roles(ctx context.Context) ([]metastore.Role, error) {
	return s.store.ListRoles(ctx)
}

// UpdateRole changes a role's description and maximum session duration
// (nil: unchanged).
func (s *Service) UpdateRole(ctx context.Context, name string, description *string, maxSession *int64) error {
	r, err := s.Role(ctx, name)
	if err != nil {
		return err
	}
	if description != nil {
		r.Description = *description
	}
	if maxSession != nil {
		if *maxSession < DefaultMaxSessionSecs || *maxSession > MaxMaxSessionSecs {
			return apierr.Validation(apierr.ReasonFieldValidation, "The specified value for maxSessionDuration is invalid: it must be between 3600 and 43200 seconds")
		}
		r.MaxSessionSeconds = *maxSession
	}
	if err := s.store.UpdateRole(ctx, r.ID, r.Description, r.MaxSessionSeconds); err != nil {
		return fmt.Errorf("update role %q: %w", name, err)
	}
	s.forgetRole(r.ID)
	return nil
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, name, doc string) error {
	r, err := s.Role(ctx, name)
	if err != nil {
		return err
	}
	if _, err := parseDoc(doc, policy.Trust, MaxTrustPolicyChars, "ACLSize"); err != nil {
		return err
	}
	if err := s.store.UpdateRoleTrustPolicy(ctx, r.ID, doc); err != nil {
		return fmt.Errorf("update trust policy of %q: %w", name, err)
	}
	s.forgetRole(r.ID)
	return nil
}

// DeleteRole deletes a role that has no policies left (as IAM requires);
// its sessions stop working at once on this node, and within the IAM
// cache's TTL on the others.
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	r, err := s.Role(ctx, name)
	if err != nil {
		return err
	}
	attached, err := s.store.RoleAttachedPolicies(ctx, r.ID)
	if err != nil {
		return err
	}
	inline, err := s.store.ListInlinePolicies(ctx, r.ID)
	if err != nil {
		return err
	}
	if len(attached) > 0 || len(inline) > 0 {
		return deleteConflict("Cannot delete entity, must detach all policies first.")
	}
	if err := s.store.DeleteRole(ctx, r.ID); err != nil {
		return fmt.Errorf("delete role %q: %w", name, err)
	}
	s.forgetRole(r.ID)
	return nil
}

func (s *Service) forgetRole(id string) {
	s.mu.Lock()
	s.roleCache.forget(id)
	s.mu.Unlock()
	s.forgetPolicies(id)
	s.flushTags()
}

// AttachRolePolicy attaches a managed policy to a role.
func (s *Service) AttachRolePolicy(ctx context.Context, roleName, arn string) error {
	r, err := s.Role(ctx, roleName)
	if err != nil {
		return err
	}
	if _, err := s.Policy(ctx, arn); errors.Is(err, ErrNotFound) {
		return noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	} else if err != nil {
		return err
	}
	attached, err := s.store.RoleAttachedPolicies(ctx, r.ID)
	if err != nil {
		return err
	}
	if len(attached) >= MaxAttachedPolicies && !contains(attached, arn) {
		return limitExceeded("Cannot exceed quota for PoliciesPerRole: %d", MaxAttachedPolicies)
	}
	if err := s.store.AttachRolePolicy(ctx, r.ID, arn, s.now().UTC()); err != nil {
		return err
	}
	s.forgetPolicies(r.ID)
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Service) DetachRolePolicy(ctx context.Context, roleName, arn string) error {
	r, err := s.Role(ctx, roleName)
	if err != nil {
		return err
	}
	err = s.store.DetachRolePolicy(ctx, r.ID, arn)
	s.forgetPolicies(r.ID)
	if errors.Is(err, metastore.ErrNotFound) {
		return noSuchEntity("Policy %s was not found.", arn)
	}
	return err
}

// AttachedRolePolicies lists the managed policies attached to a role.
func (s *Service) AttachedRolePolicies(ctx context.Context, roleName string) ([]PolicyInfo, error) {
	r, err := s.Role(ctx, roleName)
	if err != nil {
		return nil, err
	}
	arns, err := s.store.RoleAttachedPolicies(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	return s.policyInfos(ctx, arns)
}

func (s *Service) policyInfos(ctx context.Context, arns []string) ([]PolicyInfo, error) {
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

// Owner kinds of inline policies and tags.
const (
	OwnerUser = "user"
	OwnerRole = "role"
)

// owner resolves a user or role by name to its id and ARN.
func (s *Service) owner(ctx context.Context, kind, name string) (id, arn string, err error) {
	switch kind {
	case OwnerUser:
		p, err := s.User(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return "", "", noSuchEntity("The user with name %s cannot be found.", name)
		}
		return p.ID, p.ARN, err
	case OwnerRole:
		r, err := s.Role(ctx, name)
		return r.ID, r.ARN, err
	}
	return "", "", fmt.Errorf("owner kind %q", kind)
}

var inlineNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

// PutInlinePolicy adds or replaces an inline policy of a user or role.
func (s *Service) PutInlinePolicy(ctx context.Context, kind, ownerName, name, doc string) error {
	id, _, err := s.owner(ctx, kind, ownerName)
	if err != nil {
		return err
	}
	if !inlineNameRE.MatchString(name) {
		return apierr.Validation(apierr.ReasonFieldValidation, "policy names are 1-128 characters of letters, digits and +=,.@_-")
	}
	limit, what := MaxUserInlineChars, "UserPolicySize"
	if kind == OwnerRole {
		limit, what = MaxRoleInlineChars, "RolePolicySize"
	}
	if _, err := parseDoc(doc, policy.Identity, limit, ""); err != nil {
		return err
	}
	// The quota is on the owner's inline policies together.
	existing, err := s.store.ListInlinePolicies(ctx, id)
	if err != nil {
		return err
	}
	total := policyChars(doc)
	for _, p := range existing {
		if p.Name != name {
			total += policyChars(p.Document)
		}
	}
	if total > limit {
		return limitExceeded("Maximum policy size of %d bytes exceeded for %s %s (%s)", limit, kind, ownerName, what)
	}
	if err := s.store.PutInlinePolicy(ctx, id, name, doc, s.now().UTC()); err != nil {
		return err
	}
	s.forgetPolicies(id)
	return nil
}

// InlinePolicy returns one inline policy of a user or role.
func (s *Service) InlinePolicy(ctx context.Context, kind, ownerName, name string) (metastore.InlinePolicy, error) {
	id, _, err := s.owner(ctx, kind, ownerName)
	if err != nil {
		return metastore.InlinePolicy{}, err
	}
	p, err := s.store.GetInlinePolicy(ctx, id, name)
	if errors.Is(err, metastore.ErrNotFound) {
		return p, noSuchEntity("The %s policy with name %s cannot be found.", kind, name)
	}
	return p, err
}

// InlinePolicies lists the inline policies of a user or role.
func (s *Service) InlinePolicies(ctx context.Context, kind, ownerName string) ([]metastore.InlinePolicy, error) {
	id, _, err := s.owner(ctx, kind, ownerName)
	if err != nil {
		return nil, err
	}
	return s.store.ListInlinePolicies(ctx, id)
}

// DeleteInlinePolicy removes an inline policy of a user or role.
func (s *Service) DeleteInlinePolicy(ctx context.Context, kind, ownerName, name string) error {
	id, _, err := s.owner(ctx, kind, ownerName)
	if err != nil {
		return err
	}
	err = s.store.DeleteInlinePolicy(ctx, id, name)
	s.forgetPolicies(id)
	if errors.Is(err, metastore.ErrNotFound) {
		return noSuchEntity("The %s policy with name %s cannot be found.", kind, name)
	}
	return err
}

// RevokeSessionsPolicy is the inline policy AWS's console adds to a role
// to revoke its sessions issued before now.
const RevokeSessionsPolicy = "AWSRevokeOlderSessions"

// RevokeRoleSessions denies everything to the role's sessions issued
// before now (aws:TokenIssueTime), as "Revoke active sessions" does on AWS.
func (s *Service) RevokeRoleSessions(ctx context.Context, roleName string) (time.Time, error) {
	at := s.now().UTC().Truncate(time.Second).Add(time.Second)
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"%s"}}}]}`,
		at.Format(time.RFC3339))
	return at, s.PutInlinePolicy(ctx, OwnerRole, roleName, RevokeSessionsPolicy, doc)
}

// Tags of users and roles (the tags table, keyed by their ARNs).

// PrincipalTags returns the tags of a user or role.
func (s *Service) PrincipalTags(ctx context.Context, kind, name string) (map[string]string, error) {
	_, arn, err := s.owner(ctx, kind, name)
	if err != nil {
		return nil, err
	}
	return s.store.Tags(ctx, arn)
}

// TagPrincipal adds or replaces tags of a user or role.
func (s *Service) TagPrincipal(ctx context.Context, kind, name string, tags map[string]string) error {
	id, arn, err := s.owner(ctx, kind, name)
	if err != nil {
		return err
	}
	existing, err := s.store.Tags(ctx, arn)
	if err != nil {
		return err
	}
	if err := validateTags(tags, existing, MaxTags); err != nil {
		return err
	}
	if err := s.store.SetTags(ctx, arn, tags); err != nil {
		return err
	}
	s.forgetPolicies(id)
	s.flushTags()
	return nil
}

// UntagPrincipal removes tags of a user or role.
func (s *Service) UntagPrincipal(ctx context.Context, kind, name string, keys []string) error {
	id, arn, err := s.owner(ctx, kind, name)
	if err != nil {
		return err
	}
	if err := s.store.RemoveTags(ctx, arn, keys); err != nil {
		return err
	}
	s.forgetPolicies(id)
	s.flushTags()
	return nil
}

var tagRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// validateTags checks tags as IAM does: keys 1-128 and values 0-256
// characters of letters, digits, spaces and _.:/=+-@, no "aws:" keys, at
// most max together with those a resource already has.
func validateTags(tags, existing map[string]string, max int) error {
	n := len(existing)
	for k, v := range tags {
		if _, ok := existing[k]; !ok {
			n++
		}
		if l := utf8.RuneCountInString(k); l < 1 || l > 128 || !tagRE.MatchString(k) {
			return apierr.Validation(apierr.ReasonFieldValidation, "1 validation error detected: Value '%s' at 'tags.key' failed to satisfy constraint: Member must have length between 1 and 128 and be letters, digits, spaces or _.:/=+-@", k)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalidInput("User-defined tag keys can't start with 'aws:': %s", k)
		}
		if utf8.RuneCountInString(v) > 256 || !tagRE.MatchString(v) {
			return apierr.Validation(apierr.ReasonFieldValidation, "1 validation error detected: Value at 'tags.value' (key %s) failed to satisfy constraint: Member must have length at most 256 and be letters, digits, spaces or _.:/=+-@", k)
		}
	}
	if n > max {
		return limitExceeded("The number of tags has reached the maximum limit (%d).", max)
	}
	return nil
}

// Versions of customer-managed policies.

// versionStore is the part of the metadata store that changes policy
// versions in transactions (metastore.DB).
type versionStore interface {
	CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool, maxVersions int, at time.Time) (string, error)
	SetDefaultPolicyVersion(ctx context.Context, arn, versionID string, at time.Time) error
	DeletePolicyVersion(ctx context.Context, arn, versionID string) error
}

func (s *Service) customerPolicy(ctx context.Context, arn string) error {
	if _, ok := policy.Managed()[arn]; ok {
		return invalidInput("AWS managed policy %s cannot be changed", arn)
	}
	if _, err := s.store.GetPolicy(ctx, arn); errors.Is(err, metastore.ErrNotFound) {
		return noSuchEntity("Policy %s was not found.", arn)
	} else if err != nil {
		return err
	}
	if s.versions == nil {
		return fmt.Errorf("policy versions need a metadata store with transactions")
	}
	return nil
}

// CreatePolicyVersion adds a version to a customer policy.
func (s *Service) CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool) (string, error) {
	if err := s.customerPolicy(ctx, arn); err != nil {
		return "", err
	}
	if _, err := parseDoc(doc, policy.Identity, MaxManagedPolicyChars, "PolicySize"); err != nil {
		return "", err
	}
	id, err := s.versions.CreatePolicyVersion(ctx, arn, doc, setDefault, MaxPolicyVersions, s.now().UTC())
	if errors.Is(err, metastore.ErrLimitExceeded) {
		return "", limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", MaxPolicyVersions)
	}
	if err != nil {
		return "", err
	}
	s.flushPolicies()
	return id, nil
}

// PolicyVersions lists a customer policy's versions (a built-in policy has v1).
func (s *Service) PolicyVersions(ctx context.Context, arn string) ([]metastore.PolicyVersion, error) {
	if m, ok := policy.Managed()[arn]; ok {
		return []metastore.PolicyVersion{{VersionID: "v1", Document: m.Document, IsDefault: true}}, nil
	}
	vs, err := s.store.ListPolicyVersions(ctx, arn)
	if errors.Is(err, metastore.ErrNotFound) {
		return nil, noSuchEntity("Policy %s was not found.", arn)
	}
	return vs, err
}

// PolicyVersion returns one version of a policy.
func (s *Service) PolicyVersion(ctx context.Context, arn, versionID string) (metastore.PolicyVersion, error) {
	vs, err := s.PolicyVersions(ctx, arn)
	if err != nil {
		return metastore.PolicyVersion{}, err
	}
	for _, v := range vs {
		if v.VersionID == versionID {
			return v, nil
		}
	}
	return metastore.PolicyVersion{}, noSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, versionID)
}

// DeletePolicyVersion removes a version that is not the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, arn, versionID string) error {
	if err := s.customerPolicy(ctx, arn); err != nil {
		return err
	}
	err := s.versions.DeletePolicyVersion(ctx, arn, versionID)
	switch {
	case errors.Is(err, metastore.ErrConflict):
		return deleteConflict("Cannot delete the default version of a policy.")
	case errors.Is(err, metastore.ErrNotFound):
		return noSuchEntity("Policy %s version %s does not exist.", arn, versionID)
	}
	return err
}

// SetDefaultPolicyVersion makes a version the one in force.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, arn, versionID string) error {
	if err := s.customerPolicy(ctx, arn); err != nil {
		return err
	}
	err := s.versions.SetDefaultPolicyVersion(ctx, arn, versionID, s.now().UTC())
	if errors.Is(err, metastore.ErrNotFound) {
		return noSuchEntity("Policy %s version %s does not exist.", arn, versionID)
	}
	if err == nil {
		s.flushPolicies()
	}
	return err
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
