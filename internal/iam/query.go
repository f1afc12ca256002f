package iam

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/apierr"
	"github.com/kansoku/kansoku/internal/auth"
	"github.com/kansoku/kansoku/internal/httpapi"
)

// The IAM and STS query APIs at POST / of the one endpoint, as AWS's
// services speak them: a form with Action and Version, XML answers. One
// route carries them; its Dispatch reads the form after authentication
// and names each operation's own action and resources, so every call is
// authorized (on the narrowest ARN) and audited as itself.

// Query-protocol limits: the form, and an unsigned request (only
// AssumeRoleWithWebIdentity, whose JWT is at most 20,000 characters).
const (
	queryMaxBody    = 128 * httpapi.KiB
	unsignedMaxBody = 32 * httpapi.KiB
	maxMembers      = 1000
)

// queryOp is one operation of the query API.
type queryOp struct {
	service string // "iam" or "sts"
	// authOnly: the operation needs no permission or authorizes itself.
	authOnly bool
	// unsigned: may be called without credentials.
	unsigned bool
	// resources names what the action is authorized on.
	resources func(s *Service, r *http.Request, f url.Values) ([]string, error)
	// tags are the tags the operation sets or names.
	tags func(f url.Values) *auth.RequestTags
	// handle runs the operation; its result is written as <ActionResult>.
	handle func(s *Service, r *http.Request, f url.Values) (any, error)
}

// queryForm parses a query-protocol body once per request.
func queryForm(r *http.Request) (url.Values, error) {
	f, err := url.ParseQuery(string(httpapi.Body(r)))
	if err != nil {
		return nil, &apierr.Error{Type: "MalformedQueryString", Status: 400, Message: "The request body is not a valid form: " + err.Error()}
	}
	for k, vs := range f {
		if len(vs) > 1 {
			return nil, &apierr.Error{Type: "MalformedQueryString", Status: 400, Message: fmt.Sprintf("The parameter %s is given more than once", k)}
		}
	}
	return f, nil
}

func (s *Service) queryRoute() httpapi.Route {
	return httpapi.Route{
		Name: "Query", Method: "POST", Pattern: "/{$}", Plane: httpapi.Query, Action: "iam:*",
		MaxBody: queryMaxBody, SigV4Services: []string{"sts", "iam"},
		Dispatch: s.dispatch, Unsigned: s.unsigned, UnsignedMaxBody: unsignedMaxBody,
		Handler: http.HandlerFunc(s.serveQuery),
	}
}

// unsigned admits a request without credentials when it calls an
// operation that AWS also serves unsigned.
func (s *Service) unsigned(r *http.Request) bool {
	f, err := queryForm(r)
	if err != nil {
		return false
	}
	op, ok := s.ops[f.Get("Action")]
	return ok && op.unsigned
}

func (s *Service) dispatch(r *http.Request) (httpapi.Dispatched, error) {
	f, err := queryForm(r)
	if err != nil {
		return httpapi.Dispatched{}, err
	}
	action := f.Get("Action")
	op, ok := s.ops[action]
	if !ok {
		return httpapi.Dispatched{}, &apierr.Error{Type: "InvalidAction", Status: 400, Message: fmt.Sprintf("Could not find operation %q for the IAM or STS API", action)}
	}
	if id := httpapi.Identity(r); id != nil && id.Service != "" && id.Service != op.service {
		return httpapi.Dispatched{}, auth.AuthErr(auth.CodeInvalidSignature, "Credential should be scoped to correct service: '%s', not '%s'.", op.service, id.Service)
	}
	d := httpapi.Dispatched{Action: op.service + ":" + action, AuthOnly: op.authOnly}
	if op.resources != nil {
		if d.Resources, err = op.resources(s, r, f); err != nil {
			return httpapi.Dispatched{}, err
		}
	}
	if op.tags != nil {
		d.RequestTags = op.tags(f)
	}
	return d, nil
}

func (s *Service) serveQuery(w http.ResponseWriter, r *http.Request) {
	f, err := queryForm(r)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Query, err)
		return
	}
	action := f.Get("Action")
	op := s.ops[action] // dispatch found it
	res, err := op.handle(s, r, f)
	if err != nil {
		httpapi.WriteError(w, r, httpapi.Query, queryError(err))
		return
	}
	ns := httpapi.IAMNamespace
	if op.service == "sts" {
		ns = httpapi.STSNamespace
	}
	httpapi.WriteQueryResult(w, r, ns, action, res)
}

// queryError maps the package's errors to IAM's.
func queryError(err error) error {
	var iit *invalidIdentityTokenError
	var exp *expiredWebTokenError
	var idp *idpError
	switch {
	case errors.As(err, &iit):
		return &apierr.Error{Type: "InvalidIdentityToken", Status: 400, Message: iit.msg}
	case errors.As(err, &exp):
		return &apierr.Error{Type: "ExpiredTokenException", Status: 400, Message: exp.msg}
	case errors.As(err, &idp):
		return &apierr.Error{Type: "IDPCommunicationError", Status: 400, Message: idp.msg}
	case errors.Is(err, ErrNotFound):
		return noSuchEntity("%v", err)
	case errors.Is(err, ErrExists):
		return entityExists("%v", err)
	case errors.Is(err, ErrInUse):
		return deleteConflict("%v", err)
	case errors.Is(err, ErrInvalidName):
		return stsValidation("%v", err)
	}
	return err
}

// Form helpers.

// members returns Name.member.1, Name.member.2 ... (with suffix
// ".field" when given).
func members(f url.Values, name, field string) []string {
	var out []string
	for i := 1; i <= maxMembers; i++ {
		key := name + ".member." + strconv.Itoa(i)
		if field != "" {
			key += "." + field
		}
		v, ok := f[key]
		if !ok {
			break
		}
		out = append(out, v[0])
	}
	return out
}

// tagsOf returns Name.member.N.Key/Value as a map.
func tagsOf(f url.Values, name string) map[string]string {
	keys, values := members(f, name, "Key"), members(f, name, "Value")
	if len(keys) == 0 {
		return nil
	}
	out := make(map[string]string, len(keys))
	for i, k := range keys {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		out[k] = v
	}
	return out
}

func requestTags(name string) func(f url.Values) *auth.RequestTags {
	return func(f url.Values) *auth.RequestTags {
		t := tagsOf(f, name)
		if len(t) == 0 {
			return nil
		}
		return &auth.RequestTags{Tags: t, Keys: sortedKeys(t)}
	}
}

func tagKeys(f url.Values) *auth.RequestTags {
	k := members(f, "TagKeys", "")
	if len(k) == 0 {
		return nil
	}
	return &auth.RequestTags{Keys: k}
}

func durationParam(f url.Values, name string) (time.Duration, error) {
	v := f.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, stsValidation("%s must be a positive number of seconds", name)
	}
	return time.Duration(n) * time.Second, nil
}

func required(f url.Values, names ...string) error {
	for _, n := range names {
		if f.Get(n) == "" {
			return stsValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(n))
		}
	}
	return nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// isoTime renders a timestamp as the query protocol does.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// policyID is a customer policy's stable unique id (ANPA...).
func policyID(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return "ANPA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// encodeDoc URL-encodes a policy document in an answer, as IAM does (the
// SDKs decode it).
func encodeDoc(doc string) string { return url.PathEscape(doc) }

// STS results.

type credentialsXML struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

func toCredentialsXML(c Credentials) credentialsXML {
	return credentialsXML{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, isoTime(c.Expiration)}
}

type assumedRoleUserXML struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

// assumeRoleInput reads AssumeRole's and AssumeRoleWithWebIdentity's
// common parameters.
func assumeRoleInput(f url.Values) (AssumeRoleInput, error) {
	if err := required(f, "RoleArn", "RoleSessionName"); err != nil {
		return AssumeRoleInput{}, err
	}
	d, err := durationParam(f, "DurationSeconds")
	if err != nil {
		return AssumeRoleInput{}, err
	}
	return AssumeRoleInput{RoleARN: f.Get("RoleArn"), SessionName: f.Get("RoleSessionName"), Duration: d, ExternalID: f.Get("ExternalId"),
		Policy: f.Get("Policy"), PolicyARNs: members(f, "PolicyArns", "arn"), Tags: tagsOf(f, "Tags"),
		TransitiveKeys: members(f, "TransitiveTagKeys", ""), SourceIdentity: f.Get("SourceIdentity")}, nil
}

func roleARNParam(_ *Service, _ *http.Request, f url.Values) ([]string, error) {
	return []string{f.Get("RoleArn")}, nil
}

// queryOperations is every operation of the query API, by Action.
func queryOperations() map[string]queryOp {
	ops := map[string]queryOp{
		"GetCallerIdentity": {service: "sts", authOnly: true, handle: func(s *Service, r *http.Request, _ url.Values) (any, error) {
			id := httpapi.Identity(r)
			return struct {
				UserID  string `xml:"UserId"`
				Account string `xml:"Account"`
				Arn     string `xml:"Arn"`
			}{id.PrincipalID, s.accountID, id.PrincipalARN}, nil
		}},
		"AssumeRole": {service: "sts", authOnly: true, resources: roleARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			in, err := assumeRoleInput(f)
			if err != nil {
				return nil, err
			}
			out, err := s.AssumeRole(r.Context(), httpapi.Identity(r), in)
			if err != nil {
				return nil, err
			}
			return struct {
				Credentials      credentialsXML     `xml:"Credentials"`
				AssumedRoleUser  assumedRoleUserXML `xml:"AssumedRoleUser"`
				PackedPolicySize int                `xml:"PackedPolicySize"`
				SourceIdentity   string             `xml:"SourceIdentity,omitempty"`
			}{toCredentialsXML(out.Credentials), assumedRoleUserXML{out.AssumedRoleID, out.ARN}, out.PackedPolicySize, out.SourceIdentity}, nil
		}},
		"AssumeRoleWithWebIdentity": {service: "sts", authOnly: true, unsigned: true, resources: roleARNParam, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			in, err := assumeRoleInput(f)
			if err != nil {
				return nil, err
			}
			if err := required(f, "WebIdentityToken"); err != nil {
				return nil, err
			}
			out, err := s.AssumeRoleWithWebIdentity(r.Context(), f.Get("WebIdentityToken"), in)
			if err != nil {
				return nil, err
			}
			return struct {
				Credentials                 credentialsXML     `xml:"Credentials"`
				SubjectFromWebIdentityToken string             `xml:"SubjectFromWebIdentityToken"`
				AssumedRoleUser             assumedRoleUserXML `xml:"AssumedRoleUser"`
				PackedPolicySize            int                `xml:"PackedPolicySize"`
				Provider                    string             `xml:"Provider"`
				Audience                    string             `xml:"Audience"`
			}{toCredentialsXML(out.Credentials), out.Subject, assumedRoleUserXML{out.AssumedRoleID, out.ARN}, out.PackedPolicySize, out.Provider, out.Audience}, nil
		}},
		"GetSessionToken": {service: "sts", authOnly: true, handle: func(s *Service, r *http.Request, f url.Values) (any, error) {
			d, err := durationParam(f, "DurationSeconds")
			if err != nil {
				return nil, err
			}
			c, err := s.GetSessionToken(r.Context(), httpapi.Identity(r), d)
			if err != nil {
				return nil, err
			}
			return struct {
				Credentials credentialsXML `xml:"Credentials"`
			}{toCredentialsXML(c)}, nil
		}},
	}
	for name, op := range iamOps() {
		ops[name] = op
	}
	return ops
}
