package awssim

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The demo scenario (testdata/demo.yaml) and SDK clients on it.

const (
	demoAccount      = "123456789012"
	demoCallerKey    = "AKIAKANSOKUCALLER001"
	demoCallerSecret = "kansoku/caller/secret/000000000000000000001"
	demoCallerARN    = "arn:aws:iam::111111111111:user/kansoku"
	demoStrangerKey  = "AKIASTRANGERCALLER01"
	demoStrangerSec  = "stranger/caller/secret/00000000000000000001"
	demoUserKey      = "AKIADEMOLEGACYUSER01"
	demoUserSecret   = "demo/legacy/user/secret/00000000000000000001"
	demoExternalID   = "kansoku-demo-7f3a9c2e"
	demoRegion       = "us-east-1"
	demoRegion2      = "ap-northeast-1"
)

func demoRoleARN(name string) string { return "arn:aws:iam::" + demoAccount + ":role/" + name }

// loadDemoScenario parses testdata/demo.yaml afresh.
func loadDemoScenario(t *testing.T) *Scenario {
	t.Helper()
	sc, err := LoadScenario("testdata/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// newDemoSim serves the demo scenario.
func newDemoSim(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	sim := New(Options{Region: demoRegion})
	if err := sim.SetScenario(loadDemoScenario(t)); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	return sim, ts
}

// demoConfig is an SDK config for the simulator without retries.
func demoConfig(ts *httptest.Server, region string, creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		HTTPClient:   bufferedBodies{},
		Region:       region,
		BaseEndpoint: aws.String(ts.URL),
		Credentials:  creds,
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func staticCreds(key, secret string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, secret, "")
}

// demoRoleCreds assumes role (with externalID, "" for none) as the demo
// caller through the SDK's own AssumeRole credential provider, as the
// integration does.
func demoRoleCreds(t *testing.T, ts *httptest.Server, region, role, externalID string) aws.CredentialsProvider {
	t.Helper()
	stsc := sts.NewFromConfig(demoConfig(ts, region, staticCreds(demoCallerKey, demoCallerSecret)))
	p := stscreds.NewAssumeRoleProvider(stsc, demoRoleARN(role), func(o *stscreds.AssumeRoleOptions) {
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
		o.RoleSessionName = "kansoku-test"
	})
	c := aws.NewCredentialsCache(p)
	if _, err := c.Retrieve(context.Background()); err != nil {
		t.Fatalf("assume %s: %v", role, err)
	}
	return c
}

func TestDemoScenario(t *testing.T) {
	sc := loadDemoScenario(t)
	if err := validateScenario(sc); err != nil {
		t.Fatal(err)
	}
	if sc.MetricDelay.Minutes() != 2 {
		t.Errorf("metric_delay = %v", sc.MetricDelay)
	}
	a := sc.account(demoAccount)
	if a == nil || a.role("KansokuIntegration") == nil || a.role("KansokuIntegration").ExternalID != demoExternalID {
		t.Fatalf("demo account or role missing: %+v", a)
	}
	for name := range a.Regions {
		if !validRegion(name) {
			t.Errorf("region %q is not an AWS region", name)
		}
		kinds := map[string]int{}
		for _, r := range ResourcesOf(sc, a.ID, name) {
			kinds[r.Namespace]++
		}
		for _, ns := range []string{"AWS/EC2", "AWS/ELB", "AWS/ApplicationELB", "AWS/NetworkELB", "AWS/RDS", "AWS/Lambda", "AWS/SQS", "AWS/DynamoDB"} {
			if kinds[ns] == 0 {
				t.Errorf("%s has no resource of %s", name, ns)
			}
		}
	}
	if in := a.Regions[demoRegion].Instances[0]; in.LaunchTime.IsZero() || in.LaunchTime.Year() != 2026 {
		t.Errorf("launch_time not parsed: %v", in.LaunchTime)
	}
	if validRegion("us-east-9") {
		t.Error("us-east-9 is valid")
	}
}
