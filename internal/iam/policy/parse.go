package policy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Policy language versions.
const (
	// Version2012 is the current policy language: policy variables work.
	Version2012 = "2012-10-17"
	// Version2008 is the original language, assumed when "Version" is
	// absent: "${...}" is literal text.
	Version2008 = "2008-10-17"
)

const (
	effectAllow = "Allow"
	effectDeny  = "Deny"
)

// Policy is a parsed, validated identity-based policy document. Its exported
// fields show the normalized document; they are read-only: evaluation uses
// state compiled by Parse, so a Policy must come from Parse or MustParse.
type Policy struct {
	// Version is Version2012 or Version2008 (also when absent from the
	// document).
	Version string
	// ID is the optional top-level "Id".
	ID string
	// Statements holds the statements in document order (a single
	// statement object counts as a list of one).
	Statements []Statement
}

// Statement is one statement of a Policy.
type Statement struct {
	// Sid is the optional statement id.
	Sid string
	// Effect is "Allow" or "Deny".
	Effect string
	// Action and NotAction: exactly one is non-empty. Normalized (see
	// normalizeAction), case as written.
	Action, NotAction []string
	// Resource and NotResource: exactly one is non-empty. Normalized (see
	// normalizeResource).
	Resource, NotResource []string
	// Conditions are the entries of the Condition block, one per operator
	// and key, in document order. All must hold.
	Conditions []Condition

	// principal and notPrincipal are the Principal and NotPrincipal
	// elements of resource and trust policies.
	principal, notPrincipal *principals

	label     string // Sid, or Statement[i]
	actions   []actionPattern
	resources []template
}

// ParseError is the error Parse returns for an invalid document (what AWS
// IAM calls a MalformedPolicyDocument).
type ParseError struct {
	// Path locates the problem, e.g. `Statement[1].Action[0]`; empty for
	// problems with the document as a whole.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *ParseError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func errorf(path, format string, args ...any) *ParseError {
	return &ParseError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Parse parses and validates a policy document. The error, if any, is a
// *ParseError that names the offending element.
func Parse(doc []byte) (*Policy, error) {
	return ParseKind(doc, Identity)
}

// ParseKind parses and validates a policy document of the given kind
// (identity, resource or trust policy).
func ParseKind(doc []byte, kind Kind) (*Policy, error) {
	top, err := decodeDocument(doc)
	if err != nil {
		return nil, err
	}
	p := &Policy{Version: Version2008}
	var stmts *member
	for i := range top {
		m := &top[i]
		switch m.key {
		case "Version":
			v, err := stringValue(m.val, "", `"Version"`)
			if err != nil {
				return nil, err
			}
			if v != Version2012 && v != Version2008 {
				return nil, errorf("", `"Version" must be %q or %q, got %q`, Version2012, Version2008, v)
			}
			p.Version = v
		case "Id":
			if p.ID, err = stringValue(m.val, "", `"Id"`); err != nil {
				return nil, err
			}
		case "Statement":
			stmts = m
		default:
			return nil, errorf("", "%s", unknownKey(m.key, "Version", "Id", "Statement"))
		}
	}
	if stmts == nil {
		return nil, errorf("", `missing "Statement"`)
	}
	raws, err := statementList(stmts.val)
	if err != nil {
		return nil, err
	}
	sids := map[string]int{}
	for i, raw := range raws {
		path := fmt.Sprintf("Statement[%d]", i)
		st, err := parseStatement(raw, path, p.Version == Version2012, kind)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if j, dup := sids[st.Sid]; dup {
				return nil, errorf(path, "duplicate Sid %q (also used by Statement[%d])", st.Sid, j)
			}
			sids[st.Sid] = i
			st.label = st.Sid
		} else {
			st.label = path
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// MustParse is Parse for documents known to be valid, such as built-in
// policies; it panics on error.
func MustParse(doc string) *Policy {
	p, err := Parse([]byte(doc))
	if err != nil {
		panic("policy: MustParse: " + err.Error())
	}
	return p
}

// statementList accepts a single statement object or a non-empty array.
func statementList(raw []byte) ([][]byte, error) {
	switch kindOf(raw) {
	case "object":
		return [][]byte{raw}, nil
	case "array":
		elems, err := decodeArray(raw, "Statement")
		if err != nil {
			return nil, err
		}
		if len(elems) == 0 {
			return nil, errorf("", `"Statement" must not be empty`)
		}
		return elems, nil
	default:
		return nil, errorf("", `"Statement" must be an object or an array of objects, got %s`, kindOf(raw))
	}
}

var statementKeys = []string{"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}

func parseStatement(raw []byte, path string, vars bool, kind Kind) (Statement, error) {
	var st Statement
	if kindOf(raw) != "object" {
		return st, errorf(path, "a statement must be a JSON object, got %s", kindOf(raw))
	}
	members, err := decodeObject(raw, path)
	if err != nil {
		return st, err
	}
	fields := map[string][]byte{}
	for _, m := range members {
		switch m.key {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition":
			fields[m.key] = m.val
		case "Principal", "NotPrincipal":
			if kind == Identity {
				return st, errorf(path, "%q is not allowed: identity-based policies cannot name a Principal (the policy applies to the identity it is attached to)", m.key)
			}
			fields[m.key] = m.val
		default:
			return st, errorf(path, "%s", unknownKey(m.key, statementKeys...))
		}
	}

	if raw, ok := fields["Sid"]; ok {
		if st.Sid, err = stringValue(raw, path, `"Sid"`); err != nil {
			return st, err
		}
	}

	raw, ok := fields["Effect"]
	if !ok {
		return st, errorf(path, `missing "Effect"`)
	}
	if st.Effect, err = stringValue(raw, path, `"Effect"`); err != nil {
		return st, err
	}
	if st.Effect != effectAllow && st.Effect != effectDeny {
		return st, errorf(path, `"Effect" must be "Allow" or "Deny", got %q`, st.Effect)
	}

	name, list, err := exactlyOne(fields, path, "Action", "NotAction")
	if err != nil {
		return st, err
	}
	for i, a := range list {
		norm, pat, err := parseAction(a)
		if err != nil {
			return st, errorf(elemPath(path, name, i, len(list)), "%v", err)
		}
		list[i] = norm
		st.actions = append(st.actions, pat)
	}
	if name == "Action" {
		st.Action = list
	} else {
		st.NotAction = list
	}

	if kind != Identity {
		if err := st.parsePrincipal(fields, path); err != nil {
			return st, err
		}
	}
	_, hasRes := fields["Resource"]
	_, hasNotRes := fields["NotResource"]
	if kind == Trust && (hasRes || hasNotRes) {
		return st, errorf(path, "Has prohibited field Resource: a trust policy's resource is its role")
	}
	if kind != Identity && !hasRes && !hasNotRes {
		// The resource the policy is attached to.
		st.resources = append(st.resources, template{static: glob{{kind: tokStar}}})
		if raw, ok := fields["Condition"]; ok {
			if st.Conditions, err = parseConditionBlock(raw, path+".Condition", vars); err != nil {
				return st, err
			}
		}
		return st, nil
	}
	name, list, err = exactlyOne(fields, path, "Resource", "NotResource")
	if err != nil {
		return st, err
	}
	for i, r := range list {
		norm, tmpl, err := parseResource(r, vars)
		if err != nil {
			return st, errorf(elemPath(path, name, i, len(list)), "%v", err)
		}
		list[i] = norm
		st.resources = append(st.resources, tmpl)
	}
	if name == "Resource" {
		st.Resource = list
	} else {
		st.NotResource = list
	}

	if raw, ok := fields["Condition"]; ok {
		if st.Conditions, err = parseConditionBlock(raw, path+".Condition", vars); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (s *Statement) parsePrincipal(fields map[string][]byte, path string) error {
	rp, hasP := fields["Principal"]
	rn, hasN := fields["NotPrincipal"]
	var err error
	switch {
	case hasP && hasN:
		return errorf(path, `"Principal" and "NotPrincipal" are mutually exclusive; use one of them`)
	case hasP:
		s.principal, err = parsePrincipals(rp, path, "Principal")
	case hasN:
		s.notPrincipal, err = parsePrincipals(rn, path, "NotPrincipal")
	default:
		return errorf(path, `missing "Principal": a resource or trust policy says whom each statement applies to`)
	}
	return err
}

// exactlyOne returns the name and values of whichever of a and b (such as
// Action and NotAction) the statement has, requiring exactly one.
func exactlyOne(fields map[string][]byte, path, a, b string) (string, []string, error) {
	ra, hasA := fields[a]
	rb, hasB := fields[b]
	switch {
	case hasA && hasB:
		return "", nil, errorf(path, "%q and %q are mutually exclusive; use one of them", a, b)
	case !hasA && !hasB:
		return "", nil, errorf(path, "missing %q (or %q)", a, b)
	case hasB:
		a, ra = b, rb
	}
	list, err := stringList(ra, path, a)
	return a, list, err
}

func elemPath(path, name string, i, n int) string {
	if n == 1 {
		return path + "." + name
	}
	return path + "." + name + "[" + strconv.Itoa(i) + "]"
}

// actionRE is the syntax of an action after normalization. The service
// prefix is matched case-insensitively like the rest of the action, so
// upper case is accepted there too.
var actionRE = regexp.MustCompile(`^[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+$`)

// actionPattern is a compiled action: "*", or globs over the lower-cased
// service prefix and action name.
type actionPattern struct {
	all      bool
	svc, act glob
}

// normalizeAction repairs two artifacts of AMP's documentation so that its
// example policies work as written:
//   - "aps: CreateRuleGroupsNamespace": spaces after the colon are dropped;
//   - "aps>DeleteRuleGroupsNamespace": a text-conversion artifact of
//     "aps:DeleteRuleGroupsNamespace"; a lone ">" in an action without ":"
//     is read as ":".
//
// AWS IAM itself would reject both spellings.
func normalizeAction(a string) string {
	if !strings.Contains(a, ":") && strings.Count(a, ">") == 1 {
		a = strings.Replace(a, ">", ":", 1)
	}
	if i := strings.IndexByte(a, ':'); i >= 0 {
		a = a[:i+1] + strings.TrimLeft(a[i+1:], " ")
	}
	return a
}

func parseAction(a string) (string, actionPattern, error) {
	a = normalizeAction(a)
	if a == "*" {
		return a, actionPattern{all: true}, nil
	}
	if !actionRE.MatchString(a) {
		return a, actionPattern{}, fmt.Errorf(`invalid action %q: want "*" or "service:action" (letters, digits, "-" in the service; letters, digits in the action; "*" and "?" as wildcards)`, a)
	}
	svc, act, _ := strings.Cut(strings.ToLower(a), ":")
	return a, actionPattern{svc: compileGlob(svc), act: compileGlob(act)}, nil
}

// normalizeResource repairs the ARN spelling of AMP's documentation: its
// example policy names rule groups namespaces
// "arn:aws:aps:<region>:<account>:rulegroupnamespace/<workspace-id>/<name>",
// while the real resource type is "rulegroupsnamespace", so the example
// would otherwise never match. Only "aps" ARNs are affected.
func normalizeResource(r string) string {
	parts := strings.SplitN(r, ":", 6)
	if len(parts) == 6 && parts[2] == "aps" && strings.HasPrefix(parts[5], "rulegroupnamespace/") {
		parts[5] = "rulegroupsnamespace/" + strings.TrimPrefix(parts[5], "rulegroupnamespace/")
		return strings.Join(parts, ":")
	}
	return r
}

func parseResource(r string, vars bool) (string, template, error) {
	if r == "*" {
		return r, template{static: glob{{kind: tokStar}}}, nil
	}
	r = normalizeResource(r)
	shape := r
	if vars {
		shape = stripVars(r)
	}
	parts := strings.SplitN(shape, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return r, template{}, fmt.Errorf(`invalid resource %q: want "*" or an ARN "arn:partition:service:region:account:resource"`, r)
	}
	t, err := parseTemplate(r, vars, true)
	if err != nil {
		return r, template{}, fmt.Errorf("invalid resource: %w", err)
	}
	return r, t, nil
}

// unknownKey words the error for an unexpected key, with a hint when only
// the case is wrong (IAM element names are case-sensitive).
func unknownKey(key string, known ...string) string {
	for _, k := range known {
		if strings.EqualFold(key, k) {
			return fmt.Sprintf("unknown key %q (did you mean %q? names are case-sensitive)", key, k)
		}
	}
	return fmt.Sprintf("unknown key %q (allowed: %s)", key, strings.Join(known, ", "))
}
