package awssim

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The simulator's own reading of IAM identity-based policies, written from
// the IAM User Guide ("IAM JSON policy elements reference" and "Policy
// evaluation logic") and deliberately sharing no code with Kansoku's
// evaluator (internal/iam/policy): the simulator stands in for AWS, so a
// bug in Kansoku's evaluator must not be mirrored here.
//
// What it evaluates, as IAM does for identity-based policies within one
// account: statements with Effect Allow or Deny; Action or NotAction
// (service:Name, case-insensitive, with * and ? wildcards); Resource or
// NotResource (ARNs, case-sensitive, with * and ? wildcards). A request is
// allowed when some statement allows it and none denies it (an explicit
// deny wins; no allow is an implicit deny). Conditions are not
// simulated: a statement with a Condition makes the policy refused when a
// scenario is loaded, rather than silently read without it.

// simPolicy is one parsed policy document.
type simPolicy struct {
	name       string
	statements []simStatement
}

type simStatement struct {
	deny        bool
	actions     []string // lower-cased patterns
	notAction   bool
	resources   []string
	notResource bool
}

// stringOrList is IAM's "a string or an array of strings".
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("must be a string or an array of strings")
	}
	*s = many
	return nil
}

// parseSimPolicy parses an identity-based policy document.
func parseSimPolicy(name, doc string) (simPolicy, error) {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return simPolicy{}, fmt.Errorf("policy %s: %w", name, err)
	}
	if raw.Version != "2012-10-17" && raw.Version != "2008-10-17" {
		return simPolicy{}, fmt.Errorf("policy %s: Version must be 2012-10-17 or 2008-10-17", name)
	}
	type statement struct {
		Sid         string          `json:"Sid"`
		Effect      string          `json:"Effect"`
		Action      stringOrList    `json:"Action"`
		NotAction   stringOrList    `json:"NotAction"`
		Resource    stringOrList    `json:"Resource"`
		NotResource stringOrList    `json:"NotResource"`
		Condition   json.RawMessage `json:"Condition"`
	}
	var stmts []statement
	if len(raw.Statement) > 0 && raw.Statement[0] == '{' {
		var one statement
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return simPolicy{}, fmt.Errorf("policy %s: %w", name, err)
		}
		stmts = []statement{one}
	} else if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
		return simPolicy{}, fmt.Errorf("policy %s: Statement: %w", name, err)
	}
	p := simPolicy{name: name}
	for i, st := range stmts {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return simPolicy{}, fmt.Errorf("policy %s statement %d: Effect must be Allow or Deny", name, i)
		}
		if (len(st.Action) == 0) == (len(st.NotAction) == 0) {
			return simPolicy{}, fmt.Errorf("policy %s statement %d: exactly one of Action and NotAction", name, i)
		}
		if (len(st.Resource) == 0) == (len(st.NotResource) == 0) {
			return simPolicy{}, fmt.Errorf("policy %s statement %d: exactly one of Resource and NotResource", name, i)
		}
		if len(st.Condition) > 0 && string(st.Condition) != "null" {
			return simPolicy{}, fmt.Errorf("policy %s statement %d: the simulator does not evaluate Condition", name, i)
		}
		s := simStatement{deny: st.Effect == "Deny", notAction: len(st.NotAction) > 0, notResource: len(st.NotResource) > 0}
		for _, a := range append(st.Action, st.NotAction...) {
			s.actions = append(s.actions, strings.ToLower(a))
		}
		s.resources = append(st.Resource, st.NotResource...)
		p.statements = append(p.statements, s)
	}
	return p, nil
}

// simDecision is the outcome of evaluating policies for a request.
type simDecision int

const (
	implicitDeny simDecision = iota
	allowed
	explicitDeny
)

// evaluatePolicies decides action on resource under policies.
func evaluatePolicies(policies []simPolicy, action, resource string) simDecision {
	action = strings.ToLower(action)
	d := implicitDeny
	for _, p := range policies {
		for _, st := range p.statements {
			if !st.matches(action, resource) {
				continue
			}
			if st.deny {
				return explicitDeny
			}
			d = allowed
		}
	}
	return d
}

func (st simStatement) matches(action, resource string) bool {
	a := false
	for _, pat := range st.actions {
		if wildcardMatch(pat, action) {
			a = true
			break
		}
	}
	if a == st.notAction {
		return false
	}
	r := false
	for _, pat := range st.resources {
		if wildcardMatch(pat, resource) {
			r = true
			break
		}
	}
	return r != st.notResource
}

// wildcardMatch matches s against pattern, where * is any run of
// characters and ? any one character (IAM's wildcards).
func wildcardMatch(pattern, s string) bool {
	// Iterative matcher with backtracking to the last *: linear in
	// len(pattern)*len(s) at worst.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
