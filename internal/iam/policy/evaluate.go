package policy

import (
	"fmt"
	"strings"
)

// Effect is the outcome of an evaluation.
type Effect int

const (
	// ImplicitDeny is the decision when no statement allows the request
	// (deny by default).
	ImplicitDeny Effect = iota
	// Allow is the decision when a statement allows the request and none
	// denies it.
	Allow
	// ExplicitDeny is the decision when a Deny statement applies; it
	// overrides any Allow.
	ExplicitDeny
)

// String returns "ImplicitDeny", "Allow" or "ExplicitDeny".
func (e Effect) String() string {
	switch e {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return fmt.Sprintf("Effect(%d)", int(e))
}

// Request is one authorization question.
type Request struct {
	// Action is "service:Action", e.g. "aps:RemoteWrite"; matched
	// case-insensitively.
	Action string
	// Resource is an ARN, e.g.
	// "arn:aws:aps:us-east-1:123456789012:workspace/ws-1", or "*" for
	// actions without a resource (matched only by Resource "*"); matched
	// case-sensitively.
	Resource string
	// Context holds the condition keys, e.g. "aws:SourceIp": {"127.0.0.1"},
	// "aws:username", "aws:userid", "aws:PrincipalArn",
	// "aws:SecureTransport": {"false"}, "aws:RequestedRegion". Key names
	// are case-insensitive. Policy variables (${aws:username}) take the
	// first value of their key.
	Context map[string][]string
	// Caller is who asks, for the Principal elements of resource and trust
	// policies (identity policies have none). A statement with a Principal
	// never applies to a nil Caller.
	Caller *Caller
}

// Decision is the result of Evaluate.
type Decision struct {
	// Effect is the outcome.
	Effect Effect
	// PolicyName is the NamedPolicy.Name of the deciding policy; empty for
	// ImplicitDeny.
	PolicyName string
	// StatementID is the deciding statement's Sid, or "Statement[i]" (its
	// index) when it has none; empty for ImplicitDeny.
	StatementID string
	// ViaAccount: the allowing statement names the caller only through
	// its account (the account's root), which in IAM leaves the decision
	// to the caller's own identity policies.
	ViaAccount bool
}

// Allowed reports whether the request is allowed.
func (d Decision) Allowed() bool { return d.Effect == Allow }

// String describes the decision for logs and error messages.
func (d Decision) String() string {
	switch d.Effect {
	case Allow:
		return fmt.Sprintf("allowed by statement %q of policy %q", d.StatementID, d.PolicyName)
	case ExplicitDeny:
		return fmt.Sprintf("explicitly denied by statement %q of policy %q", d.StatementID, d.PolicyName)
	default:
		return "implicitly denied: no identity-based policy allows the action"
	}
}

// NamedPolicy attaches a name (such as the policy's ARN) to a policy, for
// diagnostics.
type NamedPolicy struct {
	Name   string
	Policy *Policy
}

// Evaluate applies AWS's identity-policy logic to the policies attached to
// one principal: an explicit Deny in any applicable statement wins;
// otherwise any applicable Allow allows; otherwise the request is
// implicitly denied. A statement applies when the action matches (Action,
// or none of NotAction), the resource matches (Resource, or none of
// NotResource) and all its conditions hold. Among several deciding
// statements, the first in order is reported. Nil policies are skipped.
func Evaluate(policies []NamedPolicy, req Request) Decision {
	r := prepare(req)
	var allow *Decision
	for _, np := range policies {
		if np.Policy == nil {
			continue
		}
		for i := range np.Policy.Statements {
			st := &np.Policy.Statements[i]
			deny := st.Effect == effectDeny
			if !deny && ((allow != nil && !allow.ViaAccount) || st.Effect != effectAllow) {
				continue // already allowed: only a Deny can change the outcome
			}
			if !st.applies(&r) {
				continue
			}
			viaAccount := false
			if st.principal != nil {
				_, viaAccount = st.principal.match(req.Caller)
			}
			if !deny && allow != nil && viaAccount {
				continue // a named allow was being looked for
			}
			d := Decision{Effect: Allow, PolicyName: np.Name, StatementID: st.id(i), ViaAccount: viaAccount && !deny}
			if deny {
				d.Effect = ExplicitDeny
				return d
			}
			allow = &d
		}
	}
	if allow != nil {
		return *allow
	}
	return Decision{Effect: ImplicitDeny}
}

// prepared is a Request with its action split and lower-cased once.
type prepared struct {
	svc, act string
	hasColon bool
	resource string
	ctx      map[string][]string
	caller   *Caller
}

func prepare(req Request) prepared {
	svc, act, ok := strings.Cut(strings.ToLower(req.Action), ":")
	return prepared{svc: svc, act: act, hasColon: ok, resource: req.Resource, ctx: req.Context, caller: req.Caller}
}

func (s *Statement) id(i int) string {
	if s.label != "" {
		return s.label
	}
	return fmt.Sprintf("Statement[%d]", i)
}

// applies reports whether the statement covers the request.
func (s *Statement) applies(r *prepared) bool {
	if len(s.actions) == 0 || len(s.resources) == 0 {
		return false // not from Parse: never applies
	}
	if s.principal != nil {
		if m, _ := s.principal.match(r.caller); !m {
			return false
		}
	}
	if s.notPrincipal != nil {
		if m, _ := s.notPrincipal.match(r.caller); m || r.caller == nil {
			return false
		}
	}
	if s.matchAction(r) != (len(s.NotAction) == 0) {
		return false
	}
	if s.matchResource(r) != (len(s.NotResource) == 0) {
		return false
	}
	for i := range s.Conditions {
		if !s.Conditions[i].holds(r.ctx) {
			return false
		}
	}
	return true
}

// matchAction reports whether any of the statement's action patterns
// (Action or NotAction) matches.
func (s *Statement) matchAction(r *prepared) bool {
	for _, a := range s.actions {
		if a.all || (r.hasColon && a.svc.match(r.svc) && a.act.match(r.act)) {
			return true
		}
	}
	return false
}

// matchResource reports whether any of the statement's resource patterns
// (Resource or NotResource) matches. A pattern whose policy variable has no
// value matches nothing.
func (s *Statement) matchResource(r *prepared) bool {
	for i := range s.resources {
		g, ok := s.resources[i].expand(r.ctx)
		if ok && g.match(r.resource) {
			return true
		}
	}
	return false
}
