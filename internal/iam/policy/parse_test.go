package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error message
		path string   // ParseError.Path
	}{
		{
			name: "bad JSON",
			doc:  "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [,]\n}",
			want: []string{"invalid JSON at line 3, column 17:"},
		},
		{name: "truncated JSON", doc: `{"Statement": [`, want: []string{"invalid JSON"}},
		{name: "empty document", doc: ``, want: []string{"empty policy document"}},
		{name: "trailing data", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*"}} {}`, want: []string{"unexpected data after"}},
		{name: "not an object", doc: `["Statement"]`, want: []string{"must be a JSON object, got array"}},
		{name: "missing Statement", doc: `{"Version": "2012-10-17"}`, want: []string{`missing "Statement"`}},
		{name: "empty Statement", doc: `{"Version": "2012-10-17", "Statement": []}`, want: []string{`"Statement" must not be empty`}},
		{name: "Statement of wrong type", doc: `{"Statement": "Allow"}`, want: []string{`"Statement" must be an object or an array of objects, got string`}},
		{name: "statement not an object", doc: `{"Statement": [{"Effect":"Allow","Action":"*","Resource":"*"}, 3]}`, path: "Statement[1]", want: []string{"must be a JSON object, got number"}},
		{name: "bad Version", doc: `{"Version": "2012-10-18", "Statement": {"Effect":"Allow","Action":"*","Resource":"*"}}`, want: []string{`"Version" must be "2012-10-17" or "2008-10-17", got "2012-10-18"`}},
		{name: "Version not a string", doc: `{"Version": 2012, "Statement": {"Effect":"Allow","Action":"*","Resource":"*"}}`, want: []string{`"Version" must be a string, got number`}},
		{name: "unknown top-level key", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*"}, "Foo": 1}`, want: []string{`unknown key "Foo"`}},
		{name: "top-level key in wrong case", doc: `{"statement": {"Effect":"Allow","Action":"*","Resource":"*"}}`, want: []string{`unknown key "statement" (did you mean "Statement"?`}},
		{name: "duplicate key", doc: `{"Statement": {"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}`, path: "Statement[0]", want: []string{`duplicate key "Effect"`}},
		{name: "missing Effect", doc: `{"Statement": [{"Action":"*","Resource":"*"}]}`, path: "Statement[0]", want: []string{`missing "Effect"`}},
		{
			name: "lowercase allow",
			doc:  `{"Statement": [{"Effect":"Allow","Action":"*","Resource":"*"}, {"Effect":"allow","Action":"*","Resource":"*"}]}`,
			path: "Statement[1]",
			want: []string{`Statement[1]: "Effect" must be "Allow" or "Deny", got "allow"`},
		},
		{name: "Effect not a string", doc: `{"Statement": {"Effect":true,"Action":"*","Resource":"*"}}`, path: "Statement[0]", want: []string{`"Effect" must be a string, got boolean`}},
		{name: "Action and NotAction", doc: `{"Statement": {"Effect":"Allow","Action":"*","NotAction":"aps:RemoteWrite","Resource":"*"}}`, path: "Statement[0]", want: []string{`"Action" and "NotAction" are mutually exclusive`}},
		{name: "Resource and NotResource", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}`, path: "Statement[0]", want: []string{`"Resource" and "NotResource" are mutually exclusive`}},
		{name: "missing Action", doc: `{"Statement": {"Effect":"Allow","Resource":"*"}}`, path: "Statement[0]", want: []string{`missing "Action" (or "NotAction")`}},
		{name: "missing Resource", doc: `{"Statement": {"Effect":"Allow","Action":"*"}}`, path: "Statement[0]", want: []string{`missing "Resource" (or "NotResource")`}},
		{name: "empty Action", doc: `{"Statement": {"Effect":"Allow","Action":[],"Resource":"*"}}`, path: "Statement[0]", want: []string{`"Action" must not be empty`}},
		{name: "Action of wrong type", doc: `{"Statement": {"Effect":"Allow","Action":{"a":1},"Resource":"*"}}`, path: "Statement[0]", want: []string{`"Action" must be a string or an array of strings, got object`}},
		{name: "Action element not a string", doc: `{"Statement": {"Effect":"Allow","Action":["aps:GetSeries", 7],"Resource":"*"}}`, path: "Statement[0].Action[1]", want: []string{"must be a string, got number"}},
		{name: "Principal", doc: `{"Statement": {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":"*"}}`, path: "Statement[0]", want: []string{`"Principal" is not allowed`, "identity-based policies cannot name a Principal"}},
		{name: "NotPrincipal", doc: `{"Statement": {"Effect":"Deny","NotPrincipal":"*","Action":"*","Resource":"*"}}`, path: "Statement[0]", want: []string{`"NotPrincipal" is not allowed`}},
		{name: "unknown statement key", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Conditions":{}}}`, path: "Statement[0]", want: []string{`unknown key "Conditions"`}},
		{name: "statement key in wrong case", doc: `{"Statement": {"effect":"Allow","Action":"*","Resource":"*"}}`, path: "Statement[0]", want: []string{`did you mean "Effect"`}},
		{name: "action without service", doc: `{"Statement": {"Effect":"Allow","Action":"RemoteWrite","Resource":"*"}}`, path: "Statement[0].Action", want: []string{`invalid action "RemoteWrite"`}},
		{name: "action with bad characters", doc: `{"Statement": {"Effect":"Allow","Action":["aps:*","aps:Remote_Write"],"Resource":"*"}}`, path: "Statement[0].Action[1]", want: []string{`invalid action "aps:Remote_Write"`}},
		{name: "action with empty name", doc: `{"Statement": {"Effect":"Allow","Action":"aps:","Resource":"*"}}`, path: "Statement[0].Action", want: []string{`invalid action "aps:"`}},
		{name: "action with two colons", doc: `{"Statement": {"Effect":"Allow","Action":"aps:a:b","Resource":"*"}}`, path: "Statement[0].Action", want: []string{`invalid action`}},
		{name: "bad NotAction", doc: `{"Statement": {"Effect":"Allow","NotAction":"a b","Resource":"*"}}`, path: "Statement[0].NotAction", want: []string{`invalid action "a b"`}},
		{name: "resource not an ARN", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"workspace/ws-1"}}`, path: "Statement[0].Resource", want: []string{`invalid resource "workspace/ws-1"`}},
		{name: "resource with too few parts", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"arn:aws:aps:us-east-1"}}`, path: "Statement[0].Resource", want: []string{"invalid resource"}},
		{name: "resource with empty resource part", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":["*","arn:aws:aps:us-east-1:1:"]}}`, path: "Statement[0].Resource[1]", want: []string{"invalid resource"}},
		{name: "unterminated variable", doc: `{"Version":"2012-10-17","Statement": {"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::1:user/${aws:username"}}`, path: "Statement[0].Resource", want: []string{"unterminated policy variable"}},
		{name: "empty variable", doc: `{"Version":"2012-10-17","Statement": {"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::1:user/${}"}}`, path: "Statement[0].Resource", want: []string{"invalid policy variable"}},
		{name: "unquoted variable default", doc: `{"Version":"2012-10-17","Statement": {"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::1:user/${aws:username, bob}"}}`, path: "Statement[0].Resource", want: []string{"must be quoted"}},
		{name: "Sid not a string", doc: `{"Statement": {"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}}`, path: "Statement[0]", want: []string{`"Sid" must be a string`}},
		{name: "duplicate Sid", doc: `{"Statement": [{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}`, path: "Statement[1]", want: []string{`duplicate Sid "A" (also used by Statement[0])`}},
		{name: "unknown condition operator", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqual":{"aws:username":"a"}}}}`, path: `Statement[0].Condition["StringEqual"]`, want: []string{`unknown condition operator "StringEqual"`}},
		{name: "condition operator in wrong case", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"foranyvalue:stringequalsifexists":{"k":"a"}}}}`, path: `Statement[0].Condition["foranyvalue:stringequalsifexists"]`, want: []string{`did you mean "ForAnyValue:StringEqualsIfExists"`}},
		{name: "NullIfExists", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"k":"true"}}}}`, path: `Statement[0].Condition["NullIfExists"]`, want: []string{"Null takes neither"}},
		{name: "Condition not an object", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":["StringEquals"]}}`, path: "Statement[0].Condition", want: []string{"must be an object"}},
		{name: "operator without keys", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{}}}}`, path: `Statement[0].Condition["StringEquals"]`, want: []string{"at least one condition key"}},
		{name: "operator mapping to a string", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":"a"}}}`, path: `Statement[0].Condition["StringEquals"]`, want: []string{"must be an object"}},
		{name: "condition values empty", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":[]}}}}`, path: `Statement[0].Condition["StringEquals"]["k"]`, want: []string{"at least one value"}},
		{name: "condition value null", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":null}}}}`, path: `Statement[0].Condition["StringEquals"]["k"]`, want: []string{"got null"}},
		{name: "condition value object", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":["a",{}]}}}}`, path: `Statement[0].Condition["StringEquals"]["k"][1]`, want: []string{"got object"}},
		{name: "bad number", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"k":"ten"}}}}`, path: `Statement[0].Condition["NumericLessThan"]["k"]`, want: []string{`"ten" is not a number`}},
		{name: "NaN is not a number", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"k":"NaN"}}}}`, want: []string{`"NaN" is not a number`}},
		{name: "bad date", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}`, want: []string{`"tomorrow" is not a date`}},
		{name: "bad bool", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}`, want: []string{`"yes" is not a boolean`}},
		{name: "bad IP", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}`, want: []string{`"10.0.0.0/33" is not an IP address or CIDR block`}},
		{name: "bad base64", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"BinaryEquals":{"k":"***"}}}}`, want: []string{`BinaryEquals`}},
		{name: "bad Null value", doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"k":"maybe"}}}}`, want: []string{`"maybe" is not a boolean`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q; got policy %s", tc.want, p)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is a %T, want *ParseError", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.path != "" && pe.Path != tc.path {
				t.Errorf("error path = %q, want %q (error: %v)", pe.Path, tc.path, err)
			}
		})
	}
}

func TestParseNormalizes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want Statement // exported fields only
		ver  string
	}{
		{
			name: "single statement object, no Version",
			doc:  `{"Statement": {"Effect":"Allow","Action":"aps:RemoteWrite","Resource":"*"}}`,
			ver:  Version2008,
			want: Statement{Effect: "Allow", Action: []string{"aps:RemoteWrite"}, Resource: []string{"*"}},
		},
		{
			name: "space after the colon",
			doc:  `{"Version":"2012-10-17","Statement": [{"Effect":"Allow","Action":["aps: ListRules","aps:   GetSeries"],"Resource":"*"}]}`,
			ver:  Version2012,
			want: Statement{Effect: "Allow", Action: []string{"aps:ListRules", "aps:GetSeries"}, Resource: []string{"*"}},
		},
		{
			name: "greater-than for colon",
			doc:  `{"Statement": {"Sid":"x","Effect":"Deny","NotAction":"aps>DeleteRuleGroupsNamespace","NotResource":"arn:aws:aps:*:1:workspace/*"}}`,
			ver:  Version2008,
			want: Statement{Sid: "x", Effect: "Deny", NotAction: []string{"aps:DeleteRuleGroupsNamespace"}, NotResource: []string{"arn:aws:aps:*:1:workspace/*"}},
		},
		{
			name: "rulegroupnamespace in aps ARNs only",
			doc: `{"Statement": {"Effect":"Allow","Action":"*","Resource":[
				"arn:aws:aps:us-east-1:1:rulegroupnamespace/ws-1/ns",
				"arn:aws:other:us-east-1:1:rulegroupnamespace/ws-1/ns",
				"arn:aws:aps:us-east-1:1:rulegroupsnamespace/ws-1/ns"]}}`,
			ver: Version2008,
			want: Statement{Effect: "Allow", Action: []string{"*"}, Resource: []string{
				"arn:aws:aps:us-east-1:1:rulegroupsnamespace/ws-1/ns",
				"arn:aws:other:us-east-1:1:rulegroupnamespace/ws-1/ns",
				"arn:aws:aps:us-east-1:1:rulegroupsnamespace/ws-1/ns"}},
		},
		{
			name: "condition values of every JSON type",
			doc:  `{"Statement": {"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":["x",1.5,true]},"Bool":{"aws:SecureTransport":false}}}}`,
			ver:  Version2008,
			want: Statement{Effect: "Allow", Action: []string{"*"}, Resource: []string{"*"}, Conditions: []Condition{
				{Operator: "StringEquals", Key: "a", Values: []string{"x", "1.5", "true"}},
				{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"false"}},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if p.Version != tc.ver {
				t.Errorf("Version = %q, want %q", p.Version, tc.ver)
			}
			if len(p.Statements) != 1 {
				t.Fatalf("got %d statements, want 1", len(p.Statements))
			}
			if got := exported(p.Statements[0]); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("statement =\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}
}

// exported keeps the exported fields of a statement, for comparisons.
func exported(s Statement) Statement {
	out := Statement{Sid: s.Sid, Effect: s.Effect, Action: s.Action, NotAction: s.NotAction, Resource: s.Resource, NotResource: s.NotResource}
	for _, c := range s.Conditions {
		out.Conditions = append(out.Conditions, Condition{Operator: c.Operator, Key: c.Key, Values: c.Values})
	}
	return out
}

func TestStringRoundTrip(t *testing.T) {
	docs := []string{
		docOneNamespace,
		docRulesSpaces,
		`{"Id":"x","Statement":[{"Sid":"a<b>","Effect":"Deny","NotAction":["aps:*"],"NotResource":"arn:aws:aps:*:*:workspace/${x}"}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"k":["a*","b"],"j":"c"},"NumericLessThan":{"n":10}}}}`,
	}
	for _, m := range Managed() {
		docs = append(docs, m.Document)
	}
	for _, doc := range docs {
		p, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("Parse(%s): %v", doc, err)
		}
		s := p.String()
		q, err := Parse([]byte(s))
		if err != nil {
			t.Fatalf("Parse(String()) = %v\n%s", err, s)
		}
		if q.String() != s {
			t.Errorf("round trip changed the policy:\n%s\n---\n%s", s, q.String())
		}
		if strings.Contains(s, `\u003c`) {
			t.Errorf("String escapes HTML characters: %s", s)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("MustParse of an invalid document did not panic")
		}
	}()
	MustParse(`{"Statement": []}`)
}
