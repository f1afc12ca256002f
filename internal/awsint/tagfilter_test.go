package awsint

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseTagFilter(t *testing.T) {
	cases := []struct {
		in   string
		want TagFilter
		err  string
	}{
		{"", nil, ""},
		{"   ", nil, ""},
		{"service:foo, service:bar", TagFilter{{"service", "foo"}, {"service", "bar"}}, ""},
		{"service:foo,service:bar", TagFilter{{"service", "foo"}, {"service", "bar"}}, ""},
		// Mackerel's quoting example: key service:role, value foo,bar.
		{`"service:role": "foo,bar"`, TagFilter{{"service:role", "foo,bar"}}, ""},
		{`'env': 'prod', "a,b":'c:d'`, TagFilter{{"env", "prod"}, {"a,b", "c:d"}}, ""},
		{`team: "data platform" , tier : web`, TagFilter{{"team", "data platform"}, {"tier", "web"}}, ""},
		{`k:""`, TagFilter{{"k", ""}}, ""},
		{"service", nil, `"service" needs a value`},
		{"service:foo,", nil, "missing a tag key"},
		{":foo", nil, "empty tag key"},
		{`"service:foo`, nil, "never closed"},
		{`a:b c:d`, nil, "expected ','"},
	}
	for _, c := range cases {
		got, err := ParseTagFilter(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %v %v, want %v", c.in, got, err, c.want)
		}
	}
	f, _ := ParseTagFilter(`service:foo, "service:role": "foo,bar"`)
	for tags, want := range map[string]bool{"service=foo": true, "service=bar": false, "service:role=foo,bar": true, "other=foo": false} {
		k, v, _ := strings.Cut(tags, "=")
		if got := f.Match(map[string]string{k: v}); got != want {
			t.Errorf("match %s: %v", tags, got)
		}
	}
	if !TagFilter(nil).Match(nil) {
		t.Error("the empty filter must match everything")
	}
}

func TestRolesFromTags(t *testing.T) {
	roles, bad, ok := RolesFromTags(map[string]string{"kansoku-integration": "shop:web / shop:db/ bad name:x /billing:batch"})
	if !ok || !reflect.DeepEqual(roles, []ServiceRole{{"shop", "web"}, {"shop", "db"}, {"billing", "batch"}}) || !reflect.DeepEqual(bad, []string{"bad name:x"}) {
		t.Fatalf("roles %v bad %v ok %v", roles, bad, ok)
	}
	roles, _, ok = RolesFromTags(map[string]string{"mackerel-integration": "blog:app"})
	if !ok || len(roles) != 1 || roles[0].String() != "blog:app" {
		t.Fatalf("mackerel-integration: %v %v", roles, ok)
	}
	if _, _, ok := RolesFromTags(map[string]string{"Name": "x"}); ok {
		t.Fatal("no role tag")
	}
	for _, bad := range []string{"a:b", "-x:web", "svc", "svc:", "s v:web", "svc:" + strings.Repeat("r", 64)} {
		if _, err := ParseServiceRole(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
