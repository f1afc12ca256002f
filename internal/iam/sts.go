package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/iam/policy"
	"github.com/kansoku/kansoku/internal/metastore"
)

// STS: AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken. Who may
// assume a role follows IAM within one account: the role's trust policy
// must allow the caller, and when it names the caller only through the
// account (its root), the caller's own identity policies must also allow
// sts:AssumeRole on the role; an explicit Deny in either refuses.

var (
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // and 2-1224 characters
)

// packedLimit bounds a session's policy and tags together, as AWS packs
// them into the token (PackedPolicyTooLarge beyond).
const packedLimit = 4096

// AssumeRoleInput is what AssumeRole and AssumeRoleWithWebIdentity take.
type AssumeRoleInput struct {
	RoleARN, SessionName string
	// Duration 0 is an hour.
	Duration       time.Duration
	ExternalID     string
	Policy         string
	PolicyARNs     []string
	Tags           map[string]string
	TransitiveKeys []string
	SourceIdentity string
}

// AssumedRole is what STS answers.
type AssumedRole struct {
	Credentials Credentials
	// AssumedRoleID is "<role id>:<session name>"; ARN the session's.
	AssumedRoleID, ARN string
	PackedPolicySize   int
	SourceIdentity     string
}

func stsValidation(format string, args ...any) error {
	return &apierr.Error{Type: "ValidationError", Status: 400, Message: fmt.Sprintf(format, args...)}
}

func stsAccessDenied(format string, args ...any) error {
	return &apierr.Error{Type: "AccessDenied", Status: 403, Message: fmt.Sprintf(format, args...)}
}

// checkSessionRequest validates what a caller asks of a session.
func (s *Service) checkSessionRequest(ctx context.Context, in *AssumeRoleInput) (int, error) {
	if !sessionNameRE.MatchString(in.SessionName) {
		return 0, stsValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length 2-64 and satisfy regular expression pattern: [\\w+=,.@-]*", in.SessionName)
	}
	if in.Duration != 0 && (in.Duration < 15*time.Minute || in.Duration > MaxMaxSessionSecs*time.Second) {
		return 0, stsValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", int(in.Duration.Seconds()))
	}
	if in.ExternalID != "" && (len(in.ExternalID) < 2 || len(in.ExternalID) > 1224 || !externalIDRE.MatchString(in.ExternalID)) {
		return 0, stsValidation("1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must have length 2-1224 and satisfy regular expression pattern: [\\w+=,.@:/-]*")
	}
	if in.Policy != "" {
		if n := policyChars(in.Policy); n > MaxSessionPolicyChars {
			return 0, stsValidation("1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to %d", MaxSessionPolicyChars)
		}
		if _, err := policy.Parse([]byte(in.Policy)); err != nil {
			return 0, &apierr.Error{Type: "MalformedPolicyDocumentException", Status: 400, Message: err.Error()}
		}
	}
	if len(in.PolicyARNs) > MaxSessionPolicyARNs {
		return 0, stsValidation("1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to %d", MaxSessionPolicyARNs)
	}
	for _, a := range in.PolicyARNs {
		if p, err := s.managedPolicy(ctx, a); err != nil {
			return 0, err
		} else if p == nil {
			return 0, stsValidation("Policy %s does not exist or is not attachable", a)
		}
	}
	if len(in.Tags) > MaxSessionTags {
		return 0, stsValidation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", MaxSessionTags)
	}
	if err := validateTags(in.Tags, nil, MaxSessionTags); err != nil {
		return 0, err
	}
	for _, k := range in.TransitiveKeys {
		if _, ok := in.Tags[k]; !ok {
			return 0, &apierr.Error{Type: "InvalidParameterValue", Status: 400, Message: fmt.Sprintf("transitive tag key %q is not a session tag of this request", k)}
		}
	}
	if in.SourceIdentity != "" && !sessionNameRE.MatchString(in.SourceIdentity) {
		return 0, stsValidation("1 validation error detected: Value at 'sourceIdentity' failed to satisfy constraint: Member must have length 2-64 and satisfy regular expression pattern: [\\w+=,.@-]*")
	}
	packed, _ := json.Marshal(struct {
		P string            `json:"p"`
		A []string          `json:"a"`
		T map[string]string `json:"t"`
	}{in.Policy, in.PolicyARNs, in.Tags})
	size := len(packed) * 100 / packedLimit
	if size > 100 {
		return size, &apierr.Error{Type: "PackedPolicyTooLarge", Status: 400, Message: fmt.Sprintf("Packed size of the session policy and tags is %d%% of the allowed size", size)}
	}
	return size, nil
}

// roleFor finds the role an ARN names; a role that does not exist is
// refused as AWS does, like one the caller may not assume.
func (s *Service) roleFor(ctx context.Context, arn, denied string) (metastore.Role, error) {
	name, ok := s.roleNameFromARN(arn)
	if !ok {
		if strings.HasPrefix(arn, "arn:") {
			return metastore.Role{}, stsAccessDenied("%s", denied)
		}
		return metastore.Role{}, stsValidation("%s is not a valid role ARN", arn)
	}
	r, err := s.store.GetRoleByName(ctx, name)
	if errors.Is(err, metastore.ErrNotFound) || (err == nil && r.ARN != arn) {
		return metastore.Role{}, stsAccessDenied("%s", denied)
	}
	return r, err
}

func trustPolicy(r metastore.Role) ([]policy.NamedPolicy, error) {
	p, err := policy.ParseKind([]byte(r.TrustPolicy), policy.Trust)
	if err != nil {
		return nil, fmt.Errorf("trust policy of %s: %w", r.ARN, err)
	}
	return []policy.NamedPolicy{{Name: "trust policy of " + r.ARN, Policy: p}}, nil
}

// AssumeRole issues a role session to an authenticated caller of this account.
func (s *Service) AssumeRole(ctx context.Context, caller *auth.Identity, in AssumeRoleInput) (AssumedRole, error) {
	if caller == nil || caller.AccountID != s.accountID {
		return AssumedRole{}, stsAccessDenied("the caller is not a principal of this account")
	}
	denied := fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.PrincipalARN, in.RoleARN)
	chained := caller.IsRoleSession()
	if chained {
		// Transitive session tags follow into the chained session and
		// cannot be set again.
		for _, k := range caller.Session.TransitiveKeys {
			if _, dup := in.Tags[k]; dup {
				return AssumedRole{}, &apierr.Error{Type: "InvalidParameterValue", Status: 400, Message: fmt.Sprintf("the session tag %q is transitive in the calling session and cannot be set again", k)}
			}
		}
	}
	packed, err := s.checkSessionRequest(ctx, &in)
	if err != nil {
		return AssumedRole{}, err
	}
	r, err := s.roleFor(ctx, in.RoleARN, denied)
	if err != nil {
		return AssumedRole{}, err
	}
	d := in.Duration
	if d == 0 {
		d = time.Hour
	}
	if chained && d > RoleChainingMaxDuration {
		return AssumedRole{}, stsValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if d > time.Duration(r.MaxSessionSeconds)*time.Second {
		return AssumedRole{}, stsValidation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}

	// The trust policy's condition context: the caller's keys, and what
	// it asks for.
	_, ptags, err := s.principalOf(ctx, caller)
	if err != nil {
		return AssumedRole{}, err
	}
	c := s.requestContext(ctx, caller, ptags)
	c["sts:RoleSessionName"] = []string{in.SessionName}
	if in.ExternalID != "" {
		c["sts:ExternalId"] = []string{in.ExternalID}
	}
	if in.SourceIdentity != "" {
		c["sts:SourceIdentity"] = []string{in.SourceIdentity}
	}
	var keys []string
	for _, k := range sortedKeys(in.Tags) {
		c["aws:RequestTag/"+k] = []string{in.Tags[k]}
		keys = append(keys, k)
	}
	if len(keys) > 0 {
		c["aws:TagKeys"] = keys
	}
	if len(in.TransitiveKeys) > 0 {
		c["sts:TransitiveTagKeys"] = in.TransitiveKeys
	}
	trust, err := trustPolicy(r)
	if err != nil {
		return AssumedRole{}, err
	}
	actions := []string{"sts:AssumeRole"}
	if len(in.Tags) > 0 {
		actions = append(actions, "sts:TagSession")
	}
	if in.SourceIdentity != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	for _, action := range actions {
		req := policy.Request{Action: action, Resource: r.ARN, Context: c, Caller: s.callerOf(caller)}
		td := policy.Evaluate(trust, req)
		if td.Effect != policy.Allow {
			return AssumedRole{}, stsAccessDenied("User: %s is not authorized to perform: %s on resource: %s", caller.PrincipalARN, action, r.ARN)
		}
		// The caller's own policies: a Deny always counts; an Allow is
		// needed when the trust policy trusts only the account.
		v, err := s.decide(ctx, caller, action, r.ARN, map[string][]string{"sts:ExternalId": c["sts:ExternalId"], "sts:RoleSessionName": c["sts:RoleSessionName"]})
		if err != nil {
			return AssumedRole{}, err
		}
		if v.Effect == policy.ExplicitDeny || (td.ViaAccount && v.Effect != policy.Allow) {
			return AssumedRole{}, stsAccessDenied("User: %s is not authorized to perform: %s on resource: %s", caller.PrincipalARN, action, r.ARN)
		}
	}

	now := s.now().UTC()
	sess := auth.Session{IssuedAt: now, Expires: now.Add(d), RoleID: r.ID, RoleName: r.Name, RoleARN: r.ARN, SessionName: in.SessionName,
		Policy: in.Policy, PolicyARNs: in.PolicyARNs, Tags: in.Tags, TransitiveKeys: in.TransitiveKeys, SourceIdentity: in.SourceIdentity,
		Chained: chained}
	if caller.Session != nil {
		sess.UserID = caller.Session.UserID
		if chained {
			// Transitive tags and the source identity carry over.
			for _, k := range caller.Session.TransitiveKeys {
				if sess.Tags == nil {
					sess.Tags = map[string]string{}
				}
				sess.Tags[k] = caller.Session.Tags[k]
				sess.TransitiveKeys = append(sess.TransitiveKeys, k)
			}
			if caller.Session.SourceIdentity != "" {
				sess.SourceIdentity = caller.Session.SourceIdentity
			}
		}
	} else if !caller.IsRoleSession() {
		sess.UserID = caller.PrincipalID
	}
	creds, err := s.mint(sess)
	if err != nil {
		return AssumedRole{}, err
	}
	s.logger.Info("role assumed", "role", r.ARN, "session", in.SessionName, "caller", caller.PrincipalARN, "expires", sess.Expires)
	return AssumedRole{Credentials: creds, AssumedRoleID: r.ID + ":" + in.SessionName, ARN: s.assumedRoleARN(r.Name, in.SessionName),
		PackedPolicySize: packed, SourceIdentity: sess.SourceIdentity}, nil
}

// WebIdentityRole is what AssumeRoleWithWebIdentity answers besides the
// session.
type WebIdentityRole struct {
	AssumedRole
	Subject, Audience, Provider string
}

// AssumeRoleWithWebIdentity issues a role session to the bearer of a JWT
// from a registered OIDC provider whose trust policy names the provider.
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, token string, in AssumeRoleInput) (WebIdentityRole, error) {
	in.Tags, in.TransitiveKeys, in.ExternalID = nil, nil, ""
	packed, err := s.checkSessionRequest(ctx, &in)
	if err != nil {
		return WebIdentityRole{}, err
	}
	wi, err := s.VerifyWebIdentity(ctx, token)
	if err != nil {
		return WebIdentityRole{}, err
	}
	denied := fmt.Sprintf("Not authorized to perform sts:AssumeRoleWithWebIdentity on %s", in.RoleARN)
	r, err := s.roleFor(ctx, in.RoleARN, denied)
	if err != nil {
		return WebIdentityRole{}, err
	}
	d := in.Duration
	if d == 0 {
		d = time.Hour
	}
	if d > time.Duration(r.MaxSessionSeconds)*time.Second {
		return WebIdentityRole{}, stsValidation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	trust, err := trustPolicy(r)
	if err != nil {
		return WebIdentityRole{}, err
	}
	c := map[string][]string{
		wi.Host + ":sub":             {wi.Subject},
		wi.Host + ":aud":             {wi.Audience},
		"aws:FederatedProvider":      {wi.Provider.ARN},
		"sts:RoleSessionName":        {in.SessionName},
		"aws:CurrentTime":            {s.now().UTC().Format(time.RFC3339)},
		"aws:MultiFactorAuthPresent": {"false"},
	}
	if amr, ok := wi.Claims["amr"].([]any); ok {
		for _, v := range amr {
			if str, ok := v.(string); ok {
				c[wi.Host+":amr"] = append(c[wi.Host+":amr"], str)
			}
		}
	}
	if info, ok := auth.RequestInfoFrom(ctx); ok && info.SourceIP != "" {
		c["aws:SourceIp"] = []string{info.SourceIP}
	}
	td := policy.Evaluate(trust, policy.Request{Action: "sts:AssumeRoleWithWebIdentity", Resource: r.ARN, Context: c,
		Caller: &policy.Caller{Federated: wi.Provider.ARN}})
	if !td.Allowed() {
		return WebIdentityRole{}, stsAccessDenied("%s", denied)
	}
	now := s.now().UTC()
	sess := auth.Session{IssuedAt: now, Expires: now.Add(d), RoleID: r.ID, RoleName: r.Name, RoleARN: r.ARN, SessionName: in.SessionName,
		Policy: in.Policy, PolicyARNs: in.PolicyARNs, Provider: wi.Provider.ARN, Subject: wi.Subject, Audience: wi.Audience}
	creds, err := s.mint(sess)
	if err != nil {
		return WebIdentityRole{}, err
	}
	s.logger.Info("role assumed with web identity", "role", r.ARN, "session", in.SessionName, "provider", wi.Provider.ARN, "subject", wi.Subject)
	return WebIdentityRole{
		AssumedRole: AssumedRole{Credentials: creds, AssumedRoleID: r.ID + ":" + in.SessionName, ARN: s.assumedRoleARN(r.Name, in.SessionName), PackedPolicySize: packed},
		Subject:     wi.Subject, Audience: wi.Audience, Provider: wi.Host,
	}, nil
}

// GetSessionToken issues temporary credentials for an IAM user signing
// with its long-term key (0: 12 hours, at most 36).
func (s *Service) GetSessionToken(ctx context.Context, caller *auth.Identity, d time.Duration) (Credentials, error) {
	if caller == nil || caller.Session != nil || caller.Method != auth.MethodSigV4 {
		return Credentials{}, stsAccessDenied("Cannot call GetSessionToken with session credentials")
	}
	if d == 0 {
		d = 12 * time.Hour
	}
	if d < 15*time.Minute || d > 36*time.Hour {
		return Credentials{}, stsValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 129600", int(d.Seconds()))
	}
	now := s.now().UTC()
	return s.mint(auth.Session{IssuedAt: now, Expires: now.Add(d), UserID: caller.PrincipalID})
}
