package policy

import (
	"strings"
	"testing"
)

func TestTrustPolicyPrincipals(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"},
	  {"Sid":"Acct","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"xyz"}}},
	  {"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/idp.example"},"Action":"sts:AssumeRoleWithWebIdentity",
	   "Condition":{"StringEquals":{"idp.example:sub":"system:serviceaccount:ns:sa"}}}]}`
	p, err := ParseKind([]byte(doc), Trust)
	if err != nil {
		t.Fatal(err)
	}
	pols := []NamedPolicy{{Name: "trust", Policy: p}}
	user := func(name string) *Caller {
		return &Caller{Account: "111122223333", ARNs: []string{"arn:aws:iam::111122223333:user/" + name}}
	}
	tests := []struct {
		name       string
		action     string
		caller     *Caller
		ctx        map[string][]string
		allow, via bool
	}{
		{"named user", "sts:AssumeRole", user("alice"), nil, true, false},
		{"account member without external id", "sts:AssumeRole", user("bob"), nil, false, false},
		{"account member with external id", "sts:AssumeRole", user("bob"), map[string][]string{"sts:ExternalId": {"xyz"}}, true, true},
		{"named user with external id stays named", "sts:AssumeRole", user("alice"), map[string][]string{"sts:ExternalId": {"xyz"}}, true, false},
		{"other account", "sts:AssumeRole", &Caller{Account: "999988887777", ARNs: []string{"arn:aws:iam::999988887777:user/alice"}}, nil, false, false},
		{"no caller", "sts:AssumeRole", nil, nil, false, false},
		{"web identity, right subject", "sts:AssumeRoleWithWebIdentity", &Caller{Federated: "arn:aws:iam::111122223333:oidc-provider/idp.example"},
			map[string][]string{"idp.example:sub": {"system:serviceaccount:ns:sa"}}, true, false},
		{"web identity, wrong subject", "sts:AssumeRoleWithWebIdentity", &Caller{Federated: "arn:aws:iam::111122223333:oidc-provider/idp.example"},
			map[string][]string{"idp.example:sub": {"system:serviceaccount:ns:other"}}, false, false},
		{"web identity of another provider", "sts:AssumeRoleWithWebIdentity", &Caller{Federated: "arn:aws:iam::111122223333:oidc-provider/evil.example"},
			map[string][]string{"idp.example:sub": {"system:serviceaccount:ns:sa"}}, false, false},
	}
	for _, tc := range tests {
		d := Evaluate(pols, Request{Action: tc.action, Resource: "arn:aws:iam::111122223333:role/R", Caller: tc.caller, Context: tc.ctx})
		if d.Allowed() != tc.allow || d.ViaAccount != tc.via {
			t.Errorf("%s: %+v, want allowed=%v viaAccount=%v", tc.name, d, tc.allow, tc.via)
		}
	}
}

func TestPolicyKinds(t *testing.T) {
	bad := []struct {
		kind Kind
		doc  string
		want string
	}{
		{Trust, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}}`, "prohibited field Resource"},
		{Trust, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`, `missing "Principal"`},
		{Resource, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:user/x"},"Action":"aps:*"}}`, "Invalid principal"},
		{Resource, `{"Statement":{"Effect":"Allow","Principal":{"Bogus":"x"},"Action":"aps:*"}}`, "unknown key"},
		{Identity, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"aps:*","Resource":"*"}}`, "not allowed"},
	}
	for _, tc := range bad {
		if _, err := ParseKind([]byte(tc.doc), tc.kind); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
	// NotPrincipal: everyone but the named principal.
	p, err := ParseKind([]byte(`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/Admin"},"Action":"aps:*"}}`), Resource)
	if err != nil {
		t.Fatal(err)
	}
	admin := &Caller{Account: "111122223333", ARNs: []string{"arn:aws:iam::111122223333:role/Admin", "arn:aws:sts::111122223333:assumed-role/Admin/s"}}
	other := &Caller{Account: "111122223333", ARNs: []string{"arn:aws:iam::111122223333:user/x"}}
	pols := []NamedPolicy{{Name: "rp", Policy: p}}
	if d := Evaluate(pols, Request{Action: "aps:QueryMetrics", Resource: "arn:ws", Caller: admin}); d.Effect != ImplicitDeny {
		t.Errorf("admin: %v", d)
	}
	if d := Evaluate(pols, Request{Action: "aps:QueryMetrics", Resource: "arn:ws", Caller: other}); d.Effect != ExplicitDeny {
		t.Errorf("other: %v", d)
	}
	// The document round-trips with its Principal element.
	again, err := ParseKind([]byte(p.String()), Resource)
	if err != nil || again.String() != p.String() {
		t.Fatalf("round trip: %v\n%s", err, p.String())
	}
}
