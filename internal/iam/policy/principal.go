package policy

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Kind is the kind of policy document, which decides the elements it may
// have.
type Kind int

const (
	// Identity policies are attached to users and roles: no Principal.
	Identity Kind = iota
	// Resource policies are attached to a resource (a workspace): every
	// statement names a Principal (or NotPrincipal); Resource is optional
	// and defaults to the resource the policy is attached to.
	Resource
	// Trust policies are a role's: every statement names a Principal, and
	// there is no Resource (the role itself is the resource).
	Trust
)

// Principal types of the Principal element.
const (
	PrincipalAWS       = "AWS"
	PrincipalFederated = "Federated"
	PrincipalService   = "Service"
)

// Caller is who makes a request, in the terms a Principal element names:
// the account, the ARNs that identify the caller (a user's ARN; for a role
// session the role's ARN and the session's), or the identity provider of
// a web identity.
type Caller struct {
	// Account is the caller's account id ("" for web identities).
	Account string
	// ARNs name the caller: arn:aws:iam::<acct>:user/<name>, or
	// arn:aws:iam::<acct>:role/<name> and
	// arn:aws:sts::<acct>:assumed-role/<role>/<session>.
	ARNs []string
	// Federated is the OIDC provider ARN of a web identity.
	Federated string
}

// principals is a compiled Principal or NotPrincipal element.
type principals struct {
	any bool                // "*"
	m   map[string][]string // type -> values
}

var (
	accountIDRE    = regexp.MustCompile(`^\d{12}$`)
	principalARNRE = regexp.MustCompile(`^arn:aws:(iam::\d{12}:(root|user/.+|role/.+)|sts::\d{12}:assumed-role/[^/]+/.+)$`)
)

func parsePrincipals(raw []byte, path, name string) (*principals, error) {
	switch kindOf(raw) {
	case "string":
		s, err := stringValue(raw, path, fmt.Sprintf("%q", name))
		if err != nil {
			return nil, err
		}
		if s != "*" {
			return nil, errorf(path, `%q must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}`, name)
		}
		return &principals{any: true}, nil
	case "object":
	default:
		return nil, errorf(path, `%q must be "*" or an object mapping principal types to values, got %s`, name, kindOf(raw))
	}
	members, err := decodeObject(raw, path+"."+name)
	if err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, errorf(path, "%q must name at least one principal", name)
	}
	p := &principals{m: map[string][]string{}}
	for _, m := range members {
		vals, err := stringList(m.val, path+"."+name, m.key)
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			vpath := elemPath(path+"."+name, m.key, i, len(vals))
			switch m.key {
			case PrincipalAWS:
				if v != "*" && !accountIDRE.MatchString(v) && !principalARNRE.MatchString(v) {
					return nil, errorf(vpath, "Invalid principal in policy: %q (want an account id, \"*\", or the ARN of an account root, user, role or assumed-role session)", v)
				}
				if accountIDRE.MatchString(v) {
					vals[i] = "arn:aws:iam::" + v + ":root"
				}
			case PrincipalFederated:
				if v == "" || strings.ContainsAny(v, "*?") {
					return nil, errorf(vpath, "Invalid principal in policy: %q (a federated principal is an identity provider's ARN)", v)
				}
			case PrincipalService:
				if v == "" {
					return nil, errorf(vpath, "Invalid principal in policy: an empty service principal")
				}
			default:
				return nil, errorf(path+"."+name, "%s", unknownKey(m.key, PrincipalAWS, PrincipalFederated, PrincipalService))
			}
		}
		p.m[m.key] = append(p.m[m.key], vals...)
	}
	return p, nil
}

// match reports whether the caller is among the principals, and whether
// only as a member of a named account (the account's root, which in IAM
// delegates the decision to the caller's own policies).
func (p *principals) match(c *Caller) (matched, viaAccount bool) {
	if p.any {
		return true, false
	}
	if c == nil {
		return false, false
	}
	if c.Federated != "" {
		for _, v := range p.m[PrincipalFederated] {
			if v == c.Federated {
				return true, false
			}
		}
		return false, false
	}
	for _, v := range p.m[PrincipalAWS] {
		if v == "*" {
			return true, false
		}
		for _, a := range c.ARNs {
			if v == a {
				return true, false
			}
		}
	}
	if c.Account != "" {
		root := "arn:aws:iam::" + c.Account + ":root"
		for _, v := range p.m[PrincipalAWS] {
			if v == root {
				return true, true
			}
		}
	}
	return false, false
}

// marshal writes the element in a stable order.
func (p *principals) marshal() any {
	if p.any {
		return "*"
	}
	out := map[string]any{}
	keys := make([]string, 0, len(p.m))
	for k := range p.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(p.m[k]) == 1 {
			out[k] = p.m[k][0]
		} else {
			out[k] = p.m[k]
		}
	}
	return out
}

// Principals returns the values a statement's Principal element names
// for a principal type ("AWS", "Federated", "Service"); "*" for any.
func (s *Statement) Principals(typ string) []string {
	if s.principal == nil {
		return nil
	}
	if s.principal.any {
		return []string{"*"}
	}
	return s.principal.m[typ]
}
