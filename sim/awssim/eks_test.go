package awssim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const eksTestCA = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

func eksScenario() *Scenario {
	return &Scenario{
		Callers: []Caller{{AccountID: "111111111111", Name: "kansoku", AccessKeyID: demoCallerKey, SecretAccessKey: demoCallerSecret}},
		Accounts: []Account{{ID: demoAccount, Roles: []Role{
			{Name: "Scraper", TrustedPrincipals: []string{"111111111111"}, ExternalID: "ext-1",
				Policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:DescribeCluster","Resource":"*"}]}`}},
			{Name: "Nothing", TrustedPrincipals: []string{"111111111111"}, ExternalID: "ext-1",
				Policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`}},
		}, Regions: map[string]*Region{demoRegion: {EKSClusters: []EKSCluster{
			{Name: "prod", Endpoint: "https://127.0.0.1:6443", CertificateAuthority: eksTestCA, SubnetIDs: []string{"subnet-1"}, SecurityGroupIDs: []string{"sg-1"},
				AccessEntries: []EKSAccessEntry{{PrincipalARN: "arn:aws:iam::" + demoAccount + ":role/Scraper", Username: "aps-collector-user", Groups: []string{"g1"}}}},
			{Name: "other", Endpoint: "https://127.0.0.1:6444"},
		}}}}},
	}
}

func eksRoleConfig(ts *httptest.Server, role string) aws.Config {
	base := demoConfig(ts, demoRegion, staticCreds(demoCallerKey, demoCallerSecret))
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), "arn:aws:iam::"+demoAccount+":role/"+role,
		func(o *stscreds.AssumeRoleOptions) { o.ExternalID = aws.String("ext-1") }))
	return cfg
}

// eksToken makes an IAM authenticator token the way its documentation
// says: a presigned GetCallerIdentity with x-k8s-aws-id signed.
func eksToken(t *testing.T, cfg aws.Config, cluster string) string {
	t.Helper()
	p := sts.NewPresignClient(sts.NewFromConfig(cfg))
	req, err := p.PresignGetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}, func(o *sts.PresignOptions) {
		o.ClientOptions = append(o.ClientOptions, func(o *sts.Options) {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(eksClusterIDHeader, cluster))
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return eksTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(req.URL))
}

func review(t *testing.T, h http.Handler, token string) (int, tokenReview) {
	t.Helper()
	body, _ := json.Marshal(tokenReview{APIVersion: "authentication.k8s.io/v1", Kind: "TokenReview", Spec: tokenReviewSpec{Token: token}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/authenticate", bytes.NewReader(body)))
	var out tokenReview
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	return rec.Code, out
}

// TestEKSDescribeCluster: DescribeCluster through the real SDK answers a
// cluster's endpoint and CA, refuses an unknown cluster and a role without
// eks:DescribeCluster.
func TestEKSDescribeCluster(t *testing.T) {
	sim := New(Options{Region: demoRegion})
	if err := sim.SetScenario(eksScenario()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sim)
	defer ts.Close()
	ctx := context.Background()
	c := eks.NewFromConfig(eksRoleConfig(ts, "Scraper"))
	out, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	cl := out.Cluster
	ca, _ := base64.StdEncoding.DecodeString(aws.ToString(cl.CertificateAuthority.Data))
	if aws.ToString(cl.Endpoint) != "https://127.0.0.1:6443" || string(ca) != eksTestCA || aws.ToString(cl.Arn) != "arn:aws:eks:us-east-1:"+demoAccount+":cluster/prod" ||
		cl.Status != "ACTIVE" || cl.ResourcesVpcConfig.SubnetIds[0] != "subnet-1" || cl.ResourcesVpcConfig.SecurityGroupIds[0] != "sg-1" {
		t.Fatalf("cluster: %+v", cl)
	}
	_, err = c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("missing")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" || !strings.Contains(ae.ErrorMessage(), "No cluster found for name: missing.") {
		t.Fatalf("unknown cluster: %v", err)
	}
	_, err = eks.NewFromConfig(eksRoleConfig(ts, "Nothing")).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("prod")})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("without eks:DescribeCluster: %v", err)
	}
}

// TestEKSAuthenticator: the webhook authenticates a token made for its
// cluster by a mapped role, and refuses a token made for another cluster,
// an unmapped principal, a forged or altered token.
func TestEKSAuthenticator(t *testing.T) {
	sim := New(Options{Region: demoRegion})
	if err := sim.SetScenario(eksScenario()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sim)
	defer ts.Close()
	h := sim.EKSAuthenticator(demoAccount, demoRegion, "prod", ts.URL)
	scraper := eksRoleConfig(ts, "Scraper")

	code, rev := review(t, h, eksToken(t, scraper, "prod"))
	if code != 200 || !rev.Status.Authenticated || rev.Status.User.Username != "aps-collector-user" || rev.Status.User.Groups[0] != "g1" ||
		rev.Status.User.Extra["canonicalArn"][0] != "arn:aws:iam::"+demoAccount+":role/Scraper" {
		t.Fatalf("mapped role: %d %+v", code, rev)
	}
	for name, tc := range map[string]struct{ token, want string }{
		"other cluster": {eksToken(t, scraper, "other"), "SignatureDoesNotMatch"},
		"unmapped":      {eksToken(t, eksRoleConfig(ts, "Nothing"), "prod"), "ARN is not mapped: arn:aws:iam::" + demoAccount + ":role/Nothing"},
		"prefix":        {"k8s-aws-v2.abc", "missing expected"},
		"other host":    {eksTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte("https://sts.example.com/?Action=GetCallerIdentity")), "unexpected STS endpoint"},
		"unsigned header": {eksTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(ts.URL+"/?Action=GetCallerIdentity&X-Amz-SignedHeaders=host&X-Amz-Date=20260101T000000Z")),
			"did not sign the x-k8s-aws-id header"},
	} {
		code, rev := review(t, h, tc.token)
		if code != 403 || rev.Status.Authenticated || !strings.Contains(rev.Status.Error, tc.want) {
			t.Errorf("%s: %d %+v, want %q", name, code, rev.Status, tc.want)
		}
	}
	// A changed parameter breaks the signature.
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(eksToken(t, scraper, "prod"), eksTokenPrefix))
	forged := strings.Replace(string(raw), "Version=2011-06-15", "Version=2011-06-16", 1)
	if code, rev := review(t, h, eksTokenPrefix+base64.RawURLEncoding.EncodeToString([]byte(forged))); code != 403 || !strings.Contains(rev.Status.Error, "SignatureDoesNotMatch") {
		t.Errorf("forged: %d %+v", code, rev.Status)
	}
}
