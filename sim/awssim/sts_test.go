package awssim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func demoSTS(url, key, secret string) *sts.Client {
	return sts.New(sts.Options{
		Region: demoRegion, BaseEndpoint: aws.String(url),
		Credentials: staticCreds(key, secret), Retryer: aws.NopRetryer{},
	})
}

func assumeInput(role, externalID string) *sts.AssumeRoleInput {
	in := &sts.AssumeRoleInput{RoleArn: aws.String(demoRoleARN(role)), RoleSessionName: aws.String("kansoku")}
	if externalID != "" {
		in.ExternalId = aws.String(externalID)
	}
	return in
}

func TestAssumeRole(t *testing.T) {
	_, ts := newDemoSim(t)
	ctx := context.Background()
	c := demoSTS(ts.URL, demoCallerKey, demoCallerSecret)

	out, err := c.AssumeRole(ctx, assumeInput("KansokuIntegration", demoExternalID))
	if err != nil {
		t.Fatal(err)
	}
	wantARN := "arn:aws:sts::123456789012:assumed-role/KansokuIntegration/kansoku"
	if aws.ToString(out.AssumedRoleUser.Arn) != wantARN {
		t.Errorf("Arn = %s", aws.ToString(out.AssumedRoleUser.Arn))
	}
	roleID := aws.ToString(out.AssumedRoleUser.AssumedRoleId)
	if !strings.HasPrefix(roleID, "AROA") || !strings.HasSuffix(roleID, ":kansoku") {
		t.Errorf("AssumedRoleId = %s", roleID)
	}
	cr := out.Credentials
	if !strings.HasPrefix(aws.ToString(cr.AccessKeyId), "ASIA") || aws.ToString(cr.SecretAccessKey) == "" || aws.ToString(cr.SessionToken) == "" {
		t.Errorf("credentials %+v", cr)
	}
	if d := time.Until(aws.ToTime(cr.Expiration)); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("expiration in %v, want 1h (the default)", d)
	}

	// The session's identity.
	sc := sts.New(sts.Options{Region: demoRegion, BaseEndpoint: aws.String(ts.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))})
	id, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != wantARN || aws.ToString(id.Account) != demoAccount || aws.ToString(id.UserId) != roleID {
		t.Errorf("GetCallerIdentity = %s %s %s", aws.ToString(id.Arn), aws.ToString(id.Account), aws.ToString(id.UserId))
	}

	// DurationSeconds is honoured and bounded.
	in := assumeInput("KansokuIntegration", demoExternalID)
	in.DurationSeconds = aws.Int32(900)
	out, err = c.AssumeRole(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("expiration in %v, want 15m", d)
	}
	for _, bad := range []int32{899, 43201} {
		in.DurationSeconds = aws.Int32(bad)
		_, err = c.AssumeRole(ctx, in)
		apiErr(t, err, 400, "ValidationError")
	}
	in = assumeInput("KansokuIntegration", demoExternalID)
	in.RoleSessionName = aws.String("bad name!")
	_, err = c.AssumeRole(ctx, in)
	apiErr(t, err, 400, "ValidationError")

	// A role without an External ID ignores one (as AWS does).
	if _, err := c.AssumeRole(ctx, assumeInput("KansokuMetricsOnly", "whatever-id")); err != nil {
		t.Errorf("role without External ID, request with one: %v", err)
	}
	if _, err := c.AssumeRole(ctx, assumeInput("KansokuMetricsOnly", "")); err != nil {
		t.Errorf("role without External ID: %v", err)
	}
}

func TestAssumeRoleDenied(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	c := demoSTS(ts.URL, demoCallerKey, demoCallerSecret)
	stranger := demoSTS(ts.URL, demoStrangerKey, demoStrangerSec)
	role := demoRoleARN("KansokuIntegration")
	for name, tc := range map[string]struct {
		c      *sts.Client
		caller string
		in     *sts.AssumeRoleInput
		role   string
	}{
		"wrong external id":         {c, demoCallerARN, assumeInput("KansokuIntegration", "kansoku-demo-other"), role},
		"missing external id":       {c, demoCallerARN, assumeInput("KansokuIntegration", ""), role},
		"untrusted caller":          {stranger, "arn:aws:iam::999999999999:user/stranger", assumeInput("KansokuIntegration", demoExternalID), role},
		"no such role":              {c, demoCallerARN, assumeInput("NoSuchRole", demoExternalID), demoRoleARN("NoSuchRole")},
		"role trusting only a role": {c, demoCallerARN, assumeInput("KansokuChained", ""), demoRoleARN("KansokuChained")},
	} {
		sim.ResetCalls()
		_, err := tc.c.AssumeRole(ctx, tc.in)
		apiErr(t, err, 403, "AccessDenied")
		var ae smithy.APIError
		errors.As(err, &ae)
		want := "User: " + tc.caller + " is not authorized to perform: sts:AssumeRole on resource: " + tc.role
		if ae.ErrorMessage() != want {
			t.Errorf("%s: message %q, want %q", name, ae.ErrorMessage(), want)
		}
		calls := sim.Calls()
		if len(calls) != 1 || calls[0].Action != "AssumeRole" || calls[0].ErrorCode != "AccessDenied" || calls[0].Principal != tc.caller {
			t.Errorf("%s: calls %+v", name, calls)
		}
	}

	// Injected failures come first.
	sim.FailNextAction("sts", "AssumeRole", 1, 400, "Throttling")
	_, err := c.AssumeRole(ctx, assumeInput("KansokuIntegration", demoExternalID))
	apiErr(t, err, 400, "Throttling")
	if _, err := c.AssumeRole(ctx, assumeInput("KansokuIntegration", demoExternalID)); err != nil {
		t.Fatal(err)
	}
}

func TestRoleChaining(t *testing.T) {
	_, ts := newDemoSim(t)
	ctx := context.Background()
	integ := demoRoleCreds(t, ts, demoRegion, "KansokuIntegration", demoExternalID)
	c := sts.NewFromConfig(demoConfig(ts, demoRegion, integ))
	out, err := c.AssumeRole(ctx, assumeInput("KansokuChained", ""))
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::123456789012:assumed-role/KansokuChained/kansoku" {
		t.Errorf("chained Arn %s", got)
	}
	in := assumeInput("KansokuChained", "")
	in.DurationSeconds = aws.Int32(7200)
	_, err = c.AssumeRole(ctx, in)
	apiErr(t, err, 400, "ValidationError")

	// Sessions of other roles are not trusted by KansokuChained.
	other := sts.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuMetricsOnly", "")))
	_, err = other.AssumeRole(ctx, assumeInput("KansokuChained", ""))
	apiErr(t, err, 403, "AccessDenied")

	// A session trusted through its account (not its exact ARN) also needs
	// its own policy to allow sts:AssumeRole: KansokuIntegration's does not.
	_, err = c.AssumeRole(ctx, assumeInput("KansokuMetricsOnly", ""))
	apiErr(t, err, 403, "AccessDenied")
}

func TestSessionCredentialChecks(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	c := demoSTS(ts.URL, demoCallerKey, demoCallerSecret)
	// Assume at "now - 10m" for 15 minutes: the session expires 5 minutes
	// from the wall clock, within the 15-minute signature window.
	sim.authNow = func() time.Time { return time.Now().Add(-10 * time.Minute) }
	in := assumeInput("KansokuIntegration", demoExternalID)
	in.DurationSeconds = aws.Int32(900)
	out, err := c.AssumeRole(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	session := func(token string) *sts.Client {
		return sts.New(sts.Options{Region: demoRegion, BaseEndpoint: aws.String(ts.URL), Retryer: aws.NopRetryer{},
			Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), token)})
	}
	if _, err := session(aws.ToString(cr.SessionToken)).GetCallerIdentity(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// Temporary credentials without their session token.
	_, err = session("").GetCallerIdentity(ctx, nil)
	apiErr(t, err, 403, "InvalidClientTokenId")
	_, err = session("awssim-session-forged").GetCallerIdentity(ctx, nil)
	apiErr(t, err, 403, "InvalidClientTokenId")

	sim.authNow = func() time.Time { return time.Now().Add(6 * time.Minute) }
	_, err = session(aws.ToString(cr.SessionToken)).GetCallerIdentity(ctx, nil)
	apiErr(t, err, 403, "ExpiredToken")
	// EC2 reports an expired token in its own words.
	e := ec2.NewFromConfig(demoConfig(ts, demoRegion, credentials.NewStaticCredentialsProvider(
		aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))))
	_, err = e.DescribeInstances(ctx, nil)
	apiErr(t, err, 400, "RequestExpired")
}

func TestGetCallerIdentity(t *testing.T) {
	_, ts := newDemoSim(t)
	ctx := context.Background()
	for _, tc := range []struct {
		key, secret, arn, account, idPrefix string
	}{
		{demoCallerKey, demoCallerSecret, demoCallerARN, "111111111111", "AIDA"},
		{demoUserKey, demoUserSecret, "arn:aws:iam::123456789012:user/kansoku-legacy", demoAccount, "AIDA"},
	} {
		c := demoSTS(ts.URL, tc.key, tc.secret)
		id, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(id.Arn) != tc.arn || aws.ToString(id.Account) != tc.account || !strings.HasPrefix(aws.ToString(id.UserId), tc.idPrefix) {
			t.Errorf("%s: %s %s %s", tc.key, aws.ToString(id.Arn), aws.ToString(id.Account), aws.ToString(id.UserId))
		}
		again, _ := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if aws.ToString(again.UserId) != aws.ToString(id.UserId) {
			t.Errorf("UserId not stable: %s, %s", aws.ToString(id.UserId), aws.ToString(again.UserId))
		}
	}
	_, err := demoSTS(ts.URL, "AKIAUNKNOWNKEY000001", "nope").GetCallerIdentity(ctx, nil)
	apiErr(t, err, 403, "InvalidClientTokenId")
}

func TestRolePolicyChangeAppliesToLiveSession(t *testing.T) {
	sim, ts := newDemoSim(t)
	ctx := context.Background()
	e := ec2.NewFromConfig(demoConfig(ts, demoRegion, demoRoleCreds(t, ts, demoRegion, "KansokuIntegration", demoExternalID)))
	if _, err := e.DescribeInstances(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := sim.Update(func(sc *Scenario) {
		r := sc.account(demoAccount).role("KansokuIntegration")
		r.Policies = []string{"CloudWatchReadOnlyAccess"}
	}); err != nil {
		t.Fatal(err)
	}
	_, err := e.DescribeInstances(ctx, nil)
	apiErr(t, err, 403, "UnauthorizedOperation")
	if err := sim.Update(func(sc *Scenario) {
		r := sc.account(demoAccount).role("KansokuIntegration")
		r.Policies = append(r.Policies, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}]}`)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DescribeInstances(ctx, nil); err != nil {
		t.Fatal(err)
	}
}
