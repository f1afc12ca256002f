package policy

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Condition is one entry of a statement's Condition block: one operator
// applied to one condition key.
type Condition struct {
	// Operator is the operator as written, e.g. "StringEquals" or
	// "ForAnyValue:StringLikeIfExists".
	Operator string
	// Key is the condition key as written, e.g. "aws:SourceIp". Keys are
	// looked up in Request.Context case-insensitively.
	Key string
	// Values are the policy's values (numbers and booleans as their JSON
	// text); the condition holds if the key matches any of them (none of
	// them, for negated operators).
	Values []string

	op       operator
	set      setQualifier
	ifExists bool
	vals     []condValue
}

type family uint8

const (
	famString     family = iota // StringEquals
	famStringFold               // StringEqualsIgnoreCase
	famStringLike               // StringLike
	famArn                      // ArnEquals, ArnLike
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famNull
)

type cmpKind uint8

const (
	cmpEq cmpKind = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// operator is a base condition operator (without qualifier or IfExists).
// A negated operator holds when the key's value matches none of the policy
// values.
type operator struct {
	fam    family
	cmp    cmpKind
	negate bool
}

var operators = map[string]operator{
	"StringEquals":              {fam: famString},
	"StringNotEquals":           {fam: famString, negate: true},
	"StringEqualsIgnoreCase":    {fam: famStringFold},
	"StringNotEqualsIgnoreCase": {fam: famStringFold, negate: true},
	"StringLike":                {fam: famStringLike},
	"StringNotLike":             {fam: famStringLike, negate: true},
	"ArnEquals":                 {fam: famArn}, // ArnEquals and ArnLike are
	"ArnLike":                   {fam: famArn}, // the same operator in IAM
	"ArnNotEquals":              {fam: famArn, negate: true},
	"ArnNotLike":                {fam: famArn, negate: true},
	"NumericEquals":             {fam: famNumeric},
	"NumericNotEquals":          {fam: famNumeric, negate: true},
	"NumericLessThan":           {fam: famNumeric, cmp: cmpLt},
	"NumericLessThanEquals":     {fam: famNumeric, cmp: cmpLe},
	"NumericGreaterThan":        {fam: famNumeric, cmp: cmpGt},
	"NumericGreaterThanEquals":  {fam: famNumeric, cmp: cmpGe},
	"DateEquals":                {fam: famDate},
	"DateNotEquals":             {fam: famDate, negate: true},
	"DateLessThan":              {fam: famDate, cmp: cmpLt},
	"DateLessThanEquals":        {fam: famDate, cmp: cmpLe},
	"DateGreaterThan":           {fam: famDate, cmp: cmpGt},
	"DateGreaterThanEquals":     {fam: famDate, cmp: cmpGe},
	"Bool":                      {fam: famBool},
	"BinaryEquals":              {fam: famBinary},
	"IpAddress":                 {fam: famIP},
	"NotIpAddress":              {fam: famIP, negate: true},
	"Null":                      {fam: famNull},
}

type setQualifier uint8

const (
	setNone setQualifier = iota
	setAnyValue
	setAllValues
)

// condValue is a compiled policy value.
type condValue struct {
	tmpl   template // String*, Arn*, Bool, BinaryEquals
	num    float64
	time   time.Time
	prefix netip.Prefix
	b      bool // Null
}

// parseConditionBlock parses {"Operator": {"key": values, ...}, ...}.
func parseConditionBlock(raw []byte, path string, vars bool) ([]Condition, error) {
	if k := kindOf(raw); k != "object" {
		return nil, errorf(path, `"Condition" must be an object mapping operators to {"key": values}, got %s`, k)
	}
	ops, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	var out []Condition
	for _, o := range ops {
		opPath := fmt.Sprintf("%s[%q]", path, o.key)
		op, set, ifExists, err := parseOperator(o.key)
		if err != nil {
			return nil, errorf(opPath, "%v", err)
		}
		if k := kindOf(o.val); k != "object" {
			return nil, errorf(opPath, `must be an object mapping condition keys to values, got %s`, k)
		}
		keys, err := decodeObject(o.val, opPath)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, errorf(opPath, "must name at least one condition key")
		}
		for _, k := range keys {
			keyPath := fmt.Sprintf("%s[%q]", opPath, k.key)
			if strings.TrimSpace(k.key) == "" {
				return nil, errorf(keyPath, "condition key must not be empty")
			}
			values, err := conditionValues(k.val, keyPath)
			if err != nil {
				return nil, err
			}
			c := Condition{Operator: o.key, Key: k.key, Values: values, op: op, set: set, ifExists: ifExists}
			for _, v := range values {
				cv, err := compileValue(op.fam, v, vars)
				if err != nil {
					return nil, errorf(keyPath, "%s: %v", o.key, err)
				}
				c.vals = append(c.vals, cv)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
func parseOperator(name string) (operator, setQualifier, bool, error) {
	base, set := name, setNone
	if rest, ok := strings.CutPrefix(base, "ForAnyValue:"); ok {
		base, set = rest, setAnyValue
	} else if rest, ok := strings.CutPrefix(base, "ForAllValues:"); ok {
		base, set = rest, setAllValues
	}
	ifExists := false
	if rest, ok := strings.CutSuffix(base, "IfExists"); ok && rest != "" {
		base, ifExists = rest, true
	}
	op, ok := operators[base]
	if !ok {
		return op, 0, false, fmt.Errorf("unknown condition operator %q%s", name, operatorHint(name))
	}
	if op.fam == famNull && (ifExists || set != setNone) {
		return op, 0, false, fmt.Errorf("condition operator %q: Null takes neither IfExists nor a ForAnyValue or ForAllValues qualifier", name)
	}
	return op, set, ifExists, nil
}

// operatorHint suggests the right spelling when only the case is wrong.
func operatorHint(name string) string {
	prefix, base, suffix := "", name, ""
	lower := strings.ToLower(name)
	for _, p := range []string{"ForAnyValue:", "ForAllValues:"} {
		if strings.HasPrefix(lower, strings.ToLower(p)) {
			prefix, base = p, name[len(p):]
		}
	}
	if strings.HasSuffix(strings.ToLower(base), "ifexists") && len(base) > len("IfExists") {
		base, suffix = base[:len(base)-len("IfExists")], "IfExists"
	}
	for k := range operators {
		if strings.EqualFold(k, base) {
			return fmt.Sprintf(" (did you mean %q? operators are case-sensitive)", prefix+k+suffix)
		}
	}
	return ""
}

// conditionValues decodes a string, number, boolean or a non-empty array
// of them.
func conditionValues(raw []byte, path string) ([]string, error) {
	if kindOf(raw) != "array" {
		v, err := conditionScalar(raw, path)
		return []string{v}, err
	}
	elems, err := decodeArray(raw, path)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, errorf(path, "must have at least one value")
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		if out[i], err = conditionScalar(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func conditionScalar(raw []byte, path string) (string, error) {
	switch k := kindOf(raw); k {
	case "string":
		return stringValue(raw, path, "a condition value")
	case "number", "boolean":
		return strings.TrimSpace(string(raw)), nil // the decoder validated it
	default:
		return "", errorf(path, "condition values must be strings, numbers or booleans (or an array of them), got %s", k)
	}
}

// compileValue validates and compiles one policy value. Policy variables
// are recognized (with vars) where IAM supports them: String, Arn and Bool
// operators.
func compileValue(fam family, s string, vars bool) (condValue, error) {
	var cv condValue
	var err error
	switch fam {
	case famString, famStringFold, famBinary:
		cv.tmpl, err = parseTemplate(s, vars && fam != famBinary, false)
		if err == nil && fam == famBinary {
			_, err = base64.StdEncoding.DecodeString(s)
		}
	case famStringLike, famArn:
		cv.tmpl, err = parseTemplate(s, vars, true)
	case famBool:
		if cv.tmpl, err = parseTemplate(s, vars, false); err == nil && !cv.tmpl.vars {
			_, err = parseBool(s)
		}
	case famNull:
		cv.b, err = parseBool(s)
	case famNumeric:
		cv.num, err = parseNumber(s)
	case famDate:
		cv.time, err = parseDate(s)
	case famIP:
		cv.prefix, err = parsePrefix(s)
	}
	return cv, err
}

// holds evaluates the condition against the request context.
func (c *Condition) holds(ctx map[string][]string) bool {
	vals := lookup(ctx, c.Key)
	present := len(vals) > 0
	if c.op.fam == famNull {
		for _, v := range c.vals {
			if v.b != present { // "true" asks for an absent key
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.ifExists:
			return true
		case c.set == setAllValues: // vacuously true, as in IAM
			return true
		case c.set == setAnyValue:
			return false
		default:
			// IAM: "If the policy condition requires that the key is not
			// matched, such as StringNotLike or ArnNotLike, and the right
			// key is not present, the condition is true."
			return c.op.negate
		}
	}
	// sat tells whether one value of the key satisfies the operator; a
	// value of the wrong type (a number operator given "abc") never does.
	sat := func(v string) bool {
		matched, ok := c.matchAny(v, ctx)
		return ok && matched != c.op.negate
	}
	// Without a qualifier, several values of the key behave as
	// ForAnyValue for positive operators and ForAllValues for negated
	// ones: a negated operator holds only if no value matches.
	all := c.set == setAllValues || (c.set == setNone && c.op.negate)
	for _, v := range vals {
		if s := sat(v); s != all {
			return s
		}
	}
	return all
}

// matchAny reports whether the context value v matches at least one of the
// policy values, and false for ok when v cannot be compared (wrong type).
func (c *Condition) matchAny(v string, ctx map[string][]string) (matched, ok bool) {
	var num float64
	var t time.Time
	var addr netip.Addr
	var b bool
	var err error
	switch c.op.fam {
	case famNumeric:
		num, err = parseNumber(v)
	case famDate:
		t, err = parseDate(v)
	case famIP:
		addr, err = parseAddr(v)
	case famBool:
		b, err = parseBool(v)
	}
	if err != nil {
		return false, false
	}
	for i := range c.vals {
		pv := &c.vals[i]
		var m bool
		switch c.op.fam {
		case famString, famStringFold, famBinary, famBool:
			g, ok := pv.tmpl.expand(ctx)
			if !ok {
				continue // unresolvable variable: matches nothing
			}
			s := g.literal()
			switch c.op.fam {
			case famString, famBinary:
				m = s == v
			case famStringFold:
				m = strings.EqualFold(s, v)
			case famBool:
				pb, err := parseBool(s)
				m = err == nil && pb == b
			}
		case famStringLike, famArn:
			g, ok := pv.tmpl.expand(ctx)
			if !ok {
				continue
			}
			if c.op.fam == famArn {
				m = arnMatch(g, v)
			} else {
				m = g.match(v)
			}
		case famNumeric:
			m = compare(cmp.Compare(num, pv.num), c.op.cmp)
		case famDate:
			m = compare(t.Compare(pv.time), c.op.cmp)
		case famIP:
			m = pv.prefix.Contains(addr)
		}
		if m {
			return true, true
		}
	}
	return false, true
}

// compare interprets r = compare(context value, policy value).
func compare(r int, k cmpKind) bool {
	switch k {
	case cmpLt:
		return r < 0
	case cmpLe:
		return r <= 0
	case cmpGt:
		return r > 0
	case cmpGe:
		return r >= 0
	default:
		return r == 0
	}
}

// arnMatch matches an ARN the way ArnLike does: each of the six
// colon-separated parts separately, so that a wildcard does not cross a
// colon before the resource part. A pattern that is not ARN-shaped (such as
// "*") is matched as a whole.
func arnMatch(pattern glob, v string) bool {
	ps := pattern.split(':', 6)
	if len(ps) < 6 {
		return pattern.match(v)
	}
	vs := strings.SplitN(v, ":", 6)
	if len(vs) < 6 {
		return false
	}
	for i := range ps {
		if !ps[i].match(vs[i]) {
			return false
		}
	}
	return true
}

func parseBool(s string) (bool, error) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, nil
	case strings.EqualFold(s, "false"):
		return false, nil
	}
	return false, fmt.Errorf(`%q is not a boolean ("true" or "false")`, s)
}

var numberRE = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

func parseNumber(s string) (float64, error) {
	if numberRE.MatchString(s) {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%q is not a number", s)
}

// dateLayouts are the ISO 8601 forms accepted besides epoch seconds;
// without a zone, UTC is assumed.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02",
}

func parseDate(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (want RFC 3339, such as 2026-01-02T15:04:05Z, or epoch seconds)", s)
}

// parsePrefix parses a policy's IP value: a CIDR block or a single address.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("%q is not an IP address or CIDR block", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseAddr parses a request's IP value; IPv4-mapped IPv6 addresses count
// as IPv4, zones are ignored, and "ip:port" is tolerated.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(s)
		if err2 != nil {
			return a, err
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap(), nil
}
