package awssim

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// STS (signing name sts) speaks the Query protocol: AssumeRole, with the
// trust policy and External ID checks of the scenario's roles, and
// GetCallerIdentity.

const (
	stsSigningName = "sts"
	stsXMLNS       = "https://sts.amazonaws.com/doc/2011-06-15/"
	// stsChainedMaxDuration bounds sessions of roles assumed by a role
	// session (role chaining).
	stsChainedMaxDuration = time.Hour
)

func newSTSService(s *Server) *stsService { return &stsService{s: s} }

type stsService struct{ s *Server }

func (sv *stsService) writeError(w http.ResponseWriter, e *apiError, requestID string) {
	setDate(w, sv.s.authNow())
	writeQueryError(w, stsXMLNS, e, requestID)
}

func (sv *stsService) serve(w http.ResponseWriter, r *http.Request, req *request) {
	params, aerr := queryParams(r, req.body)
	action := ""
	if aerr == nil {
		action, _, aerr = singleParam(params, "Action")
	}
	if aerr == nil && action == "" {
		aerr = errorf(http.StatusBadRequest, "MissingAction", "Request is missing Action parameter")
	}
	if aerr != nil {
		sv.s.record(req, action, aerr, nil)
		sv.writeError(w, aerr, req.id)
		return
	}
	if f := sv.s.takeFailure(stsSigningName, action); f != nil {
		sv.s.record(req, action, f, nil)
		sv.writeError(w, f, req.id)
		return
	}
	var result any
	switch action {
	case "AssumeRole":
		result, aerr = sv.assumeRole(params, req)
	case "GetCallerIdentity":
		result = sv.getCallerIdentity(req)
	default:
		aerr = errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version 2011-06-15", action)
	}
	sv.s.record(req, action, aerr, nil)
	if aerr != nil {
		sv.writeError(w, aerr, req.id)
		return
	}
	setDate(w, sv.s.authNow())
	writeQueryResult(w, stsXMLNS, action, result, req.id)
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type stsAssumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type stsAssumeRoleResult struct {
	AssumedRoleUser stsAssumedRoleUser `xml:"AssumedRoleUser"`
	Credentials     stsCredentials     `xml:"Credentials"`
}

type stsGetCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

var (
	stsSessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	stsExternalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	stsRoleARNRE     = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,64})$`)
	stsSessionARNRE  = regexp.MustCompile(`^arn:aws:sts::(\d{12}):assumed-role/([\w+=,.@-]+)/([\w+=,.@-]+)$`)
)

func stsValidation(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

func (sv *stsService) assumeRole(params url.Values, req *request) (any, *apiError) {
	get := func(name string) (string, bool, *apiError) { return singleParam(params, name) }
	roleARN, _, err := get("RoleArn")
	if err != nil {
		return nil, err
	}
	sessionName, _, err := get("RoleSessionName")
	if err != nil {
		return nil, err
	}
	externalID, hasExternalID, err := get("ExternalId")
	if err != nil {
		return nil, err
	}
	durationParam, hasDuration, err := get("DurationSeconds")
	if err != nil {
		return nil, err
	}
	switch {
	case roleARN == "":
		return nil, stsValidation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	case len(roleARN) < 20:
		return nil, stsValidation("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", roleARN)
	case sessionName == "":
		return nil, stsValidation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	case !stsSessionNameRE.MatchString(sessionName):
		return nil, stsValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64", sessionName)
	case hasExternalID && (len(externalID) < 2 || len(externalID) > 1224 || !stsExternalIDRE.MatchString(externalID)):
		return nil, stsValidation("1 validation error detected: Value '%s' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224", externalID)
	}
	duration := time.Hour
	if hasDuration {
		n, perr := strconv.Atoi(durationParam)
		switch {
		case perr != nil:
			return nil, stsValidation("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be an integer", durationParam)
		case n < 900:
			return nil, stsValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", n)
		case n > 43200:
			return nil, stsValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", n)
		}
		duration = time.Duration(n) * time.Second
	}
	m := stsRoleARNRE.FindStringSubmatch(roleARN)
	if m == nil {
		return nil, stsValidation("%s is invalid", roleARN)
	}
	roleAccount, roleName := m[1], m[2]
	caller := req.principal
	denied := errorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, roleARN)

	chained := stsSessionARNRE.MatchString(caller.ARN)
	if chained && duration > stsChainedMaxDuration {
		return nil, stsValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}

	var allowed bool
	sv.s.read(func(sc *Scenario) {
		a := sc.account(roleAccount)
		if a == nil {
			return
		}
		role := a.role(roleName)
		if role == nil || !role.trusts(caller) {
			return
		}
		// A role that wants an External ID gets exactly it; a role without
		// one ignores the parameter (as on AWS).
		if role.ExternalID != "" && externalID != role.ExternalID {
			return
		}
		// Principals inside an account also need their own policies to
		// allow sts:AssumeRole, unless the trust policy names them
		// exactly in their own account (resource-based grant).
		if caller.inAccount && !(caller.AccountID == roleAccount && role.trustsExactly(caller)) {
			if sv.s.authorize(req, "sts:AssumeRole", roleARN) != nil {
				return
			}
		}
		roleName = role.Name
		allowed = true
	})
	if !allowed {
		return nil, denied
	}
	keyID, ss := sv.s.newSession(roleAccount, roleName, sessionName, duration)
	return &stsAssumeRoleResult{
		AssumedRoleUser: stsAssumedRoleUser{
			AssumedRoleID: roleUniqueID(roleAccount, roleName) + ":" + sessionName,
			Arn:           fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", roleAccount, roleName, sessionName),
		},
		Credentials: stsCredentials{
			AccessKeyID: keyID, SecretAccessKey: ss.secret, SessionToken: ss.token,
			Expiration: ss.expires.UTC().Format("2006-01-02T15:04:05Z"),
		},
	}, nil
}

// trusts reports whether the role's trust policy lets p call AssumeRole:
// TrustedPrincipals names p's account (as an id or its root ARN), p's ARN,
// for a role session the ARN of its role, or "*".
func (r *Role) trusts(p *principal) bool {
	for _, t := range r.TrustedPrincipals {
		if t == "*" || t == p.AccountID || t == "arn:aws:iam::"+p.AccountID+":root" {
			return true
		}
	}
	return r.trustsExactly(p)
}

// trustsExactly reports whether TrustedPrincipals names p itself (its ARN,
// or for a role session its role's ARN).
func (r *Role) trustsExactly(p *principal) bool {
	roleARN := ""
	if m := stsSessionARNRE.FindStringSubmatch(p.ARN); m != nil {
		roleARN = "arn:aws:iam::" + m[1] + ":role/" + m[2]
	}
	for _, t := range r.TrustedPrincipals {
		if t == p.ARN || (roleARN != "" && t == roleARN) {
			return true
		}
	}
	return false
}

// roleUniqueID is a role's stable unique id (AROA...).
func roleUniqueID(account, role string) string {
	return "AROA" + uniqueIDSuffix("role/"+account+"/"+role)
}

// uniqueIDSuffix is 17 upper-case base-32-like characters derived from
// seed, the shape of IAM unique ids.
func uniqueIDSuffix(seed string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(seed))
	v := h.Sum64()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b strings.Builder
	for i := 0; i < 17; i++ {
		b.WriteByte(alphabet[v%32])
		v /= 32
		if v == 0 {
			h.Write([]byte{byte(i)})
			v = h.Sum64()
		}
	}
	return b.String()
}

func (sv *stsService) getCallerIdentity(req *request) any {
	p := req.principal
	userID := p.UserID
	if m := stsSessionARNRE.FindStringSubmatch(p.ARN); m != nil {
		userID = roleUniqueID(m[1], m[2]) + ":" + m[3]
	} else if strings.HasPrefix(p.ARN, "arn:aws:iam::") {
		userID = "AIDA" + uniqueIDSuffix(p.ARN)
	}
	return &stsGetCallerIdentityResult{Arn: p.ARN, UserID: userID, Account: p.AccountID}
}
