package policy

import (
	"fmt"
	"testing"
)

type ctx = map[string][]string

func TestConditions(t *testing.T) {
	tests := []struct {
		name string
		cond string // the Condition block
		ver  string // default 2012-10-17
		ctx  ctx
		want bool // whether the Allow statement applies
	}{
		// IpAddress / NotIpAddress.
		{"ip in CIDR", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "", ctx{"aws:SourceIp": {"10.1.2.3"}}, true},
		{"ip outside CIDR", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "", ctx{"aws:SourceIp": {"192.168.0.1"}}, false},
		{"ip one of several", `{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","127.0.0.1"]}}`, "", ctx{"aws:SourceIp": {"127.0.0.1"}}, true},
		{"plain ip is /32", `{"IpAddress":{"aws:SourceIp":"127.0.0.1"}}`, "", ctx{"aws:SourceIp": {"127.0.0.2"}}, false},
		{"non-canonical CIDR", `{"IpAddress":{"aws:SourceIp":"10.9.9.9/8"}}`, "", ctx{"aws:SourceIp": {"10.1.2.3"}}, true},
		{"ipv6", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, "", ctx{"aws:SourceIp": {"2001:db8::1"}}, true},
		{"ipv6 outside", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, "", ctx{"aws:SourceIp": {"2001:db9::1"}}, false},
		{"ipv4-mapped request", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "", ctx{"aws:SourceIp": {"::ffff:10.0.0.1"}}, true},
		{"ip:port request", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "", ctx{"aws:SourceIp": {"10.0.0.1:5555"}}, true},
		{"ip key missing", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "", nil, false},
		{"garbage ip", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "", ctx{"aws:SourceIp": {"nope"}}, false},
		{"NotIpAddress outside", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`, "", ctx{"aws:SourceIp": {"8.8.8.8"}}, true},
		{"NotIpAddress inside", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`, "", ctx{"aws:SourceIp": {"192.168.1.1"}}, false},
		{"NotIpAddress garbage ip", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "", ctx{"aws:SourceIp": {"nope"}}, false},

		// Bool.
		{"secure transport", `{"Bool":{"aws:SecureTransport":"true"}}`, "", ctx{"aws:SecureTransport": {"true"}}, true},
		{"insecure transport", `{"Bool":{"aws:SecureTransport":true}}`, "", ctx{"aws:SecureTransport": {"false"}}, false},
		{"bool case-insensitive", `{"Bool":{"aws:SecureTransport":"false"}}`, "", ctx{"aws:SecureTransport": {"FALSE"}}, true},
		{"bool missing key", `{"Bool":{"aws:SecureTransport":"false"}}`, "", nil, false},
		{"bool garbage", `{"Bool":{"aws:SecureTransport":"false"}}`, "", ctx{"aws:SecureTransport": {"no"}}, false},
		{"BoolIfExists missing", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`, "", nil, true},
		{"BoolIfExists present false", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`, "", ctx{"aws:MultiFactorAuthPresent": {"false"}}, false},

		// String operators.
		{"StringEquals", `{"StringEquals":{"aws:username":["alice","bob"]}}`, "", ctx{"aws:username": {"bob"}}, true},
		{"StringEquals is case-sensitive", `{"StringEquals":{"aws:username":"alice"}}`, "", ctx{"aws:username": {"Alice"}}, false},
		{"StringEquals * is literal", `{"StringEquals":{"aws:username":"a*"}}`, "", ctx{"aws:username": {"alice"}}, false},
		{"StringEquals missing key", `{"StringEquals":{"aws:username":"alice"}}`, "", nil, false},
		{"StringEquals empty values = missing", `{"StringEquals":{"aws:username":"alice"}}`, "", ctx{"aws:username": {}}, false},
		{"condition key is case-insensitive", `{"StringEquals":{"AWS:USERNAME":"alice"}}`, "", ctx{"aws:username": {"alice"}}, true},
		{"StringNotEquals other", `{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}`, "", ctx{"aws:RequestedRegion": {"ap-south-1"}}, true},
		{"StringNotEquals listed", `{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}`, "", ctx{"aws:RequestedRegion": {"eu-west-1"}}, false},
		{"StringNotEquals missing key (AWS: true)", `{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}`, "", nil, true},
		{"StringNotEqualsIfExists missing key", `{"StringNotEqualsIfExists":{"aws:RequestedRegion":"us-east-1"}}`, "", nil, true},
		{"StringNotEquals multi-valued key: none may match", `{"StringNotEquals":{"k":"a"}}`, "", ctx{"k": {"b", "a"}}, false},
		{"StringEquals multi-valued key: any may match", `{"StringEquals":{"k":"a"}}`, "", ctx{"k": {"b", "a"}}, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}`, "", ctx{"aws:username": {"alice"}}, true},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}`, "", ctx{"aws:username": {"alice"}}, false},
		{"StringLike", `{"StringLike":{"aws:userid":"AID*:session-?"}}`, "", ctx{"aws:userid": {"AIDXYZ:session-1"}}, true},
		{"StringLike no match", `{"StringLike":{"aws:userid":"AID*:session-?"}}`, "", ctx{"aws:userid": {"AIDXYZ:session-12"}}, false},
		{"StringLike is case-sensitive", `{"StringLike":{"aws:userid":"aid*"}}`, "", ctx{"aws:userid": {"AIDXYZ"}}, false},
		{"StringNotLike", `{"StringNotLike":{"aws:username":"svc-*"}}`, "", ctx{"aws:username": {"alice"}}, true},
		{"StringNotLike matching", `{"StringNotLike":{"aws:username":"svc-*"}}`, "", ctx{"aws:username": {"svc-ci"}}, false},
		{"StringLikeIfExists missing", `{"StringLikeIfExists":{"aws:username":"svc-*"}}`, "", nil, true},
		{"StringLikeIfExists present", `{"StringLikeIfExists":{"aws:username":"svc-*"}}`, "", ctx{"aws:username": {"alice"}}, false},

		// Variables in condition values.
		{"variable in value", `{"StringEquals":{"kansoku:Owner":"${aws:username}"}}`, "", ctx{"kansoku:Owner": {"alice"}, "aws:username": {"alice"}}, true},
		{"variable in value, other", `{"StringEquals":{"kansoku:Owner":"${aws:username}"}}`, "", ctx{"kansoku:Owner": {"bob"}, "aws:username": {"alice"}}, false},
		{"variable missing: value matches nothing", `{"StringEquals":{"kansoku:Owner":"${aws:username}"}}`, "", ctx{"kansoku:Owner": {""}}, false},
		{"variable literal in 2008", `{"StringEquals":{"kansoku:Owner":"${aws:username}"}}`, Version2008, ctx{"kansoku:Owner": {"${aws:username}"}, "aws:username": {"alice"}}, true},
		{"variable in StringLike is literal", `{"StringLike":{"k":"${v}-*"}}`, "", ctx{"k": {"a*-x"}, "v": {"a*"}}, true},
		{"variable in StringLike is literal, no match", `{"StringLike":{"k":"${v}-*"}}`, "", ctx{"k": {"ab-x"}, "v": {"a*"}}, false},
		{"escaped * in StringLike is literal", `{"StringLike":{"k":"a${*}"}}`, "", ctx{"k": {"ab"}}, false},
		{"escaped * in StringLike matches *", `{"StringLike":{"k":"a${*}"}}`, "", ctx{"k": {"a*"}}, true},

		// ARN operators.
		{"ArnLike", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci-*"}}`, "", ctx{"aws:PrincipalArn": {"arn:aws:iam::123456789012:role/ci-deploy"}}, true},
		{"ArnLike no match", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci-*"}}`, "", ctx{"aws:PrincipalArn": {"arn:aws:iam::123456789012:user/ci-deploy"}}, false},
		{"ArnEquals is ArnLike", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}`, "", ctx{"aws:PrincipalArn": {"arn:aws:iam::1:user/x"}}, true},
		{"ArnLike * does not cross a colon", `{"ArnLike":{"aws:SourceArn":"arn:*:iam::1:user/x"}}`, "", ctx{"aws:SourceArn": {"arn:aws:x:iam::1:user/x"}}, false},
		{"ArnLike * in the resource part crosses colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:iam::1:*"}}`, "", ctx{"aws:SourceArn": {"arn:aws:iam::1:a:b/c"}}, true},
		{"ArnLike pattern *", `{"ArnLike":{"aws:SourceArn":"*"}}`, "", ctx{"aws:SourceArn": {"arn:aws:iam::1:a"}}, true},
		{"ArnLike not an ARN", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}`, "", ctx{"aws:PrincipalArn": {"alice"}}, false},
		{"ArnNotLike", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci-*"}}`, "", ctx{"aws:PrincipalArn": {"arn:aws:iam::1:user/x"}}, true},
		{"ArnNotEquals matching", `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::1:user/x"}}`, "", ctx{"aws:PrincipalArn": {"arn:aws:iam::1:user/x"}}, false},
		{"ArnLike with variable", `{"ArnLike":{"aws:SourceArn":"${aws:PrincipalArn}"}}`, "", ctx{"aws:SourceArn": {"arn:aws:iam::1:user/x"}, "aws:PrincipalArn": {"arn:aws:iam::1:user/x"}}, true},

		// Numeric and Date.
		{"NumericLessThan", `{"NumericLessThan":{"kansoku:Count":10}}`, "", ctx{"kansoku:Count": {"9"}}, true},
		{"NumericLessThan equal", `{"NumericLessThan":{"kansoku:Count":"10"}}`, "", ctx{"kansoku:Count": {"10"}}, false},
		{"NumericLessThanEquals equal", `{"NumericLessThanEquals":{"kansoku:Count":"10"}}`, "", ctx{"kansoku:Count": {"10.0"}}, true},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"kansoku:Count":1.5}}`, "", ctx{"kansoku:Count": {"2"}}, true},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"kansoku:Count":3}}`, "", ctx{"kansoku:Count": {"2"}}, false},
		{"NumericEquals one of", `{"NumericEquals":{"kansoku:Count":[1,2,3]}}`, "", ctx{"kansoku:Count": {"2"}}, true},
		{"NumericNotEquals", `{"NumericNotEquals":{"kansoku:Count":[1,2,3]}}`, "", ctx{"kansoku:Count": {"2"}}, false},
		{"NumericNotEquals other", `{"NumericNotEquals":{"kansoku:Count":[1,2,3]}}`, "", ctx{"kansoku:Count": {"4"}}, true},
		{"numeric garbage never satisfies", `{"NumericNotEquals":{"kansoku:Count":1}}`, "", ctx{"kansoku:Count": {"many"}}, false},
		{"DateLessThan RFC3339", `{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, "", ctx{"aws:CurrentTime": {"2026-05-01T12:00:00Z"}}, true},
		{"DateLessThan after", `{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, "", ctx{"aws:CurrentTime": {"2031-05-01T12:00:00+02:00"}}, false},
		{"DateGreaterThanEquals epoch", `{"DateGreaterThanEquals":{"aws:EpochTime":1700000000}}`, "", ctx{"aws:EpochTime": {"1700000000"}}, true},
		{"DateEquals across zones", `{"DateEquals":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, "", ctx{"aws:CurrentTime": {"2026-01-01T01:00:00+01:00"}}, true},
		{"DateNotEquals", `{"DateNotEquals":{"aws:CurrentTime":"2026-01-01"}}`, "", ctx{"aws:CurrentTime": {"2026-01-01T00:00:00Z"}}, false},
		{"DateGreaterThan epoch vs RFC3339", `{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, "", ctx{"aws:CurrentTime": {"1700000000"}}, true},
		{"date garbage", `{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, "", ctx{"aws:CurrentTime": {"soon"}}, false},

		// BinaryEquals.
		{"BinaryEquals", `{"BinaryEquals":{"k":"QmluYXJ5VmFsdWU="}}`, "", ctx{"k": {"QmluYXJ5VmFsdWU="}}, true},

		// Null.
		{"Null true, key absent", `{"Null":{"aws:TokenIssueTime":"true"}}`, "", nil, true},
		{"Null true, key present", `{"Null":{"aws:TokenIssueTime":true}}`, "", ctx{"aws:TokenIssueTime": {"x"}}, false},
		{"Null false, key present", `{"Null":{"aws:TokenIssueTime":"false"}}`, "", ctx{"aws:TokenIssueTime": {"x"}}, true},
		{"Null false, key absent", `{"Null":{"aws:TokenIssueTime":"false"}}`, "", nil, false},

		// Set qualifiers.
		{"ForAnyValue one matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, "", ctx{"aws:TagKeys": {"owner", "team"}}, true},
		{"ForAnyValue none matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, "", ctx{"aws:TagKeys": {"owner"}}, false},
		{"ForAnyValue missing key", `{"ForAnyValue:StringEquals":{"aws:TagKeys":"env"}}`, "", nil, false},
		{"ForAnyValue:StringNotEquals one differs", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"env"}}`, "", ctx{"aws:TagKeys": {"env", "x"}}, true},
		{"ForAnyValue:StringNotEquals missing key", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"env"}}`, "", nil, false},
		{"ForAllValues all match", `{"ForAllValues:StringLike":{"aws:TagKeys":["env","team-*"]}}`, "", ctx{"aws:TagKeys": {"env", "team-a"}}, true},
		{"ForAllValues one does not", `{"ForAllValues:StringLike":{"aws:TagKeys":["env","team-*"]}}`, "", ctx{"aws:TagKeys": {"env", "owner"}}, false},
		{"ForAllValues missing key is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":"env"}}`, "", nil, true},
		{"ForAllValues:StringNotLike", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, "", ctx{"aws:TagKeys": {"key2:audit"}}, true},
		{"ForAllValues:StringNotLike one matches", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, "", ctx{"aws:TagKeys": {"key1:legal", "key2"}}, false},
		{"ForAnyValue IfExists missing", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"env"}}`, "", nil, true},
		{"ForAnyValue AWS managed (CalledVia)", `{"ForAnyValue:StringEquals":{"aws:CalledVia":["aps.amazonaws.com"]}}`, "", ctx{"aws:CalledVia": {"aps.amazonaws.com"}}, true},

		// Combination: every operator and every key must hold.
		{"AND across operators", `{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "", ctx{"aws:SecureTransport": {"true"}, "aws:SourceIp": {"11.0.0.1"}}, false},
		{"AND across operators, all hold", `{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "", ctx{"aws:SecureTransport": {"true"}, "aws:SourceIp": {"10.0.0.1"}}, true},
		{"AND across keys", `{"StringEquals":{"aws:username":"alice","aws:RequestedRegion":"us-east-1"}}`, "", ctx{"aws:username": {"alice"}, "aws:RequestedRegion": {"eu-west-1"}}, false},
		{"empty Condition block", `{}`, "", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ver := tc.ver
			if ver == "" {
				ver = Version2012
			}
			doc := fmt.Sprintf(`{"Version":%q,"Statement":{"Effect":"Allow","Action":"aps:*","Resource":"*","Condition":%s}}`, ver, tc.cond)
			p, err := Parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			d := Evaluate([]NamedPolicy{{Name: "c", Policy: p}}, Request{Action: "aps:RemoteWrite", Resource: ws, Context: tc.ctx})
			if got := d.Effect == Allow; got != tc.want {
				t.Errorf("condition %s with context %v: applies = %v, want %v", tc.cond, tc.ctx, got, tc.want)
			}
		})
	}
}

// TestConditionInDenyStatement checks the common guard: deny unless over
// TLS and from the private network.
func TestConditionInDenyStatement(t *testing.T) {
	pols := parseNamed(t, "guard", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"aps:*","Resource":"*"},
		{"Sid":"TLSOnly","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
		{"Sid":"PrivateOnly","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]}}}]}`)
	tests := []struct {
		name string
		ctx  ctx
		want Effect
		sid  string
	}{
		{"tls, private", ctx{"aws:SecureTransport": {"true"}, "aws:SourceIp": {"10.0.0.7"}}, Allow, "Statement[0]"},
		{"tls, ipv6 loopback", ctx{"aws:SecureTransport": {"true"}, "aws:SourceIp": {"::1"}}, Allow, "Statement[0]"},
		{"plain http", ctx{"aws:SecureTransport": {"false"}, "aws:SourceIp": {"10.0.0.7"}}, ExplicitDeny, "TLSOnly"},
		{"public address", ctx{"aws:SecureTransport": {"true"}, "aws:SourceIp": {"203.0.113.9"}}, ExplicitDeny, "PrivateOnly"},
		{"no source ip: negated operator holds, denied", ctx{"aws:SecureTransport": {"true"}}, ExplicitDeny, "PrivateOnly"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(pols, Request{Action: "aps:RemoteWrite", Resource: ws, Context: tc.ctx})
			if d.Effect != tc.want || d.StatementID != tc.sid {
				t.Errorf("got %+v, want %v by %s", d, tc.want, tc.sid)
			}
		})
	}
}
