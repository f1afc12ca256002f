package policy

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(docOneNamespace)
	f.Add(docRulesSpaces)
	for _, m := range Managed() {
		f.Add(m.Document)
	}
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"aps:?et*","NotResource":"arn:aws:aps:*:*:workspace/${aws:username, 'x'}${*}",` +
		`"Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*","${aws:userid}"]},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},` +
		`"NumericLessThanIfExists":{"n":1e3},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"Null":{"x":true},"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:*"}}}}`)
	f.Add(`{"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`)
	f.Add(`{"Statement":[]}`)
	f.Add(`[`)

	requests := []Request{
		{Action: "aps:RemoteWrite", Resource: ws},
		{Action: "aps:GetSeries", Resource: "arn:aws:aps:us-east-1:123456789012:workspace/x*", Context: map[string][]string{
			"aws:username": {"alice"}, "aws:userid": {"a*"}, "aws:SourceIp": {"10.0.0.1"}, "aws:TagKeys": {"ab", "c"},
			"n": {"7"}, "aws:CurrentTime": {"2026-01-01T00:00:00Z"}, "aws:PrincipalArn": {"arn:aws:iam::1:user/x"},
		}},
		{Action: "", Resource: "", Context: map[string][]string{"": {""}, "x": nil}},
		{Action: "é:ü", Resource: "arn:::::", Context: map[string][]string{"aws:SourceIp": {"garbage"}, "n": {"NaN"}}},
	}
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse([]byte(doc))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is a %T, want *ParseError", err, err)
			}
			return
		}
		pols := []NamedPolicy{{Name: "fuzz", Policy: p}}
		var before []Decision
		for _, r := range requests {
			before = append(before, Evaluate(pols, r))
		}
		// The normalized document parses back to an equivalent policy.
		s := p.String()
		q, err := Parse([]byte(s))
		if err != nil {
			t.Fatalf("Parse(String()) failed: %v\n%s", err, s)
		}
		if q.String() != s {
			t.Fatalf("String() not stable:\n%s\n---\n%s", s, q.String())
		}
		for i, r := range requests {
			if d := Evaluate([]NamedPolicy{{Name: "fuzz", Policy: q}}, r); d != before[i] {
				t.Fatalf("request %d: reparsed policy decides %+v, original %+v\n%s", i, d, before[i], s)
			}
		}
	})
}
