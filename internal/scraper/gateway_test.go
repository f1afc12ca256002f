package scraper

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kansoku/kansoku/internal/egress"
	"github.com/kansoku/kansoku/sim/awssim"
)

// simAccounts is the AWS side of one workspace: a role of the cluster's
// account in the AWS simulator, assumed with Kansoku's credentials.
type simAccounts struct{ url string }

func (a simAccounts) config() aws.Config {
	base := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(a.url), Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		Credentials: credentials.NewStaticCredentialsProvider("AKIAKANSOKUGATEWAY01", "secret", "")}
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), "arn:aws:iam::123456789012:role/Scraper",
		func(o *stscreds.AssumeRoleOptions) { o.ExternalID = aws.String("ext") }))
	return cfg
}

func (a simAccounts) RoleConfig(context.Context, string, string) (aws.Config, error) {
	return a.config(), nil
}

func (a simAccounts) RoleIntegration(context.Context, string, string) (string, error) {
	return "integration", nil
}

func (a simAccounts) AccountIntegration(context.Context, string, string) (string, error) {
	return "integration", nil
}

// TestGatewayRenewsTokens: the gateway describes the cluster and makes an
// IAM authenticator token once, keeps both for 10 minutes, then makes a
// new token (a token lives 15 minutes) and describes the cluster again;
// the token authenticates with the cluster's authenticator, and a token 16
// minutes old does not.
func TestGatewayRenewsTokens(t *testing.T) {
	var offset atomic.Int64 // the simulator's clock ahead of the wall clock
	g, sim, simURL := startSimGateway(t, &offset, func(a simAccounts) Integrations { return a })
	// Only discovery's reads with the gateway's secret pass.
	for _, tc := range []struct {
		method, path, auth string
		want               int
	}{
		{"GET", "/api/v1/pods", "", 401},
		{"GET", "/api/v1/pods", "Bearer wrong", 401},
		{"POST", "/api/v1/namespaces/default/pods", "Bearer " + g.secret, 405},
		{"GET", "/metrics", "Bearer " + g.secret, 403},
		{"GET", "/api/../metrics", "Bearer " + g.secret, 403},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s %s (%q): %d, want %d", tc.method, tc.path, tc.auth, rec.Code, tc.want)
		}
	}
	if n := len(sim.Calls()); n != 0 {
		t.Fatalf("refused requests reached AWS: %d calls", n)
	}

	t0 := time.Now()
	clock := t0
	g.now = func() time.Time { return clock }
	describes := func() int {
		n := 0
		for _, c := range sim.Calls() {
			if c.Action == "DescribeCluster" && c.ErrorCode == "" {
				n++
			}
		}
		return n
	}
	ctx := t.Context()
	c1, tok1, err := g.prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c1.endpoint.Host != "127.0.0.1:6443" || describes() != 1 {
		t.Fatalf("described %d times, endpoint %s", describes(), c1.endpoint)
	}
	clock = t0.Add(9 * time.Minute)
	if c2, tok2, _ := g.prepare(ctx); tok2 != tok1 || c2 != c1 || describes() != 1 {
		t.Fatal("the token or the cluster was made again within 10 minutes")
	}
	time.Sleep(1100 * time.Millisecond) // a new X-Amz-Date
	clock = t0.Add(11 * time.Minute)
	c3, tok3, err := g.prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok3 == tok1 || c3 == c1 || describes() != 2 {
		t.Fatalf("after 11 minutes: new token %v, described %d times", tok3 != tok1, describes())
	}

	// The cluster's authenticator takes the token now, not 16 minutes on.
	h := sim.EKSAuthenticator("123456789012", "us-east-1", "prod", simURL)
	if ok, why := reviewToken(t, h, tok3); !ok {
		t.Fatalf("a fresh token is refused: %s", why)
	}
	offset.Store(int64(16 * time.Minute))
	if ok, why := reviewToken(t, h, tok3); ok || !strings.Contains(why, "expired") {
		t.Fatalf("a token 16 minutes old: %v %s", ok, why)
	}
}

// startSimGateway starts a gateway to the cluster "prod" of account
// 123456789012 in an AWS simulator whose clock runs offset ahead of the
// wall clock; accounts wraps the workspace's AWS side.
func startSimGateway(t *testing.T, offset *atomic.Int64, accounts func(simAccounts) Integrations) (*gateway, *awssim.Server, string) {
	t.Helper()
	sim := awssim.New(awssim.Options{Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	if err := sim.SetScenario(&awssim.Scenario{
		Callers: []awssim.Caller{{AccountID: "111111111111", Name: "kansoku", AccessKeyID: "AKIAKANSOKUGATEWAY01", SecretAccessKey: "secret"}},
		Accounts: []awssim.Account{{ID: "123456789012",
			Roles: []awssim.Role{{Name: "Scraper", TrustedPrincipals: []string{"111111111111"}, ExternalID: "ext",
				Policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:DescribeCluster","Resource":"*"}]}`}}},
			Regions: map[string]*awssim.Region{"us-east-1": {EKSClusters: []awssim.EKSCluster{{Name: "prod", Endpoint: "https://127.0.0.1:6443",
				CertificateAuthority: testCA(), SubnetIDs: []string{"subnet-1"},
				AccessEntries: []awssim.EKSAccessEntry{{PrincipalARN: "arn:aws:iam::123456789012:role/Scraper", Username: "aps-collector-user"}}}}}}}},
	}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	fw, err := egress.New(egress.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := parseClusterARN("arn:aws:eks:us-east-1:123456789012:cluster/prod")
	g, err := startGateway(ref, "ws-1", accounts(simAccounts{ts.URL}), fw, slog.New(slog.DiscardHandler), func(string, string, map[string]string) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.close)
	return g, sim, ts.URL
}

// blockingAccounts holds RoleConfig, once armed, until released.
type blockingAccounts struct {
	simAccounts
	armed   *atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (a blockingAccounts) RoleConfig(ctx context.Context, id, region string) (aws.Config, error) {
	if a.armed.Load() {
		a.entered <- struct{}{}
		<-a.release
	}
	return a.simAccounts.RoleConfig(ctx, id, region)
}

// TestGatewayServesWhileRenewing: while one request renews the cluster
// and the token (AWS calls that may take a minute), the others go on with
// the token the gateway has, still good for minutes; once it is too old
// to hand out, they wait for the new one.
func TestGatewayServesWhileRenewing(t *testing.T) {
	var offset atomic.Int64
	var armed atomic.Bool
	block := blockingAccounts{armed: &armed, entered: make(chan struct{}, 4), release: make(chan struct{})}
	g, _, _ := startSimGateway(t, &offset, func(a simAccounts) Integrations { block.simAccounts = a; return block })
	var clock atomic.Int64
	t0 := time.Now()
	clock.Store(t0.UnixNano())
	g.now = func() time.Time { return time.Unix(0, clock.Load()) }
	ctx := t.Context()
	c1, tok1, err := g.prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		c   *clusterConn
		tok string
		err error
	}
	prepare := func() chan result {
		ch := make(chan result, 1)
		go func() {
			c, tok, err := g.prepare(ctx)
			ch <- result{c, tok, err}
		}()
		return ch
	}
	armed.Store(true)
	time.Sleep(1100 * time.Millisecond) // a new X-Amz-Date for the new token
	clock.Store(t0.Add(11 * time.Minute).UnixNano())
	renewer := prepare()
	<-block.entered // the renewal is in its AWS calls
	select {
	case r := <-prepare():
		if r.err != nil || r.tok != tok1 || r.c != c1 {
			t.Fatalf("during the renewal: %v, the old token %v", r.err, r.tok == tok1)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a request waited for the renewal though the gateway's token was good for 4 more minutes")
	}
	// The renewal takes long: the token becomes too old to hand out.
	clock.Store(t0.Add(14*time.Minute + 30*time.Second).UnixNano())
	waiter := prepare()
	select {
	case r := <-waiter:
		t.Fatalf("a request did not wait for the renewal with a token 14.5 minutes old: %v", r.tok == tok1)
	case <-time.After(300 * time.Millisecond):
	}
	armed.Store(false)
	close(block.release)
	r1, r2 := <-renewer, <-waiter
	if r1.err != nil || r2.err != nil {
		t.Fatal(r1.err, r2.err)
	}
	if r1.tok == tok1 || r2.tok != r1.tok || r2.c != r1.c {
		t.Fatalf("after the renewal: new token %v, the waiter got it %v", r1.tok != tok1, r2.tok == r1.tok)
	}
}

func reviewToken(t *testing.T, h http.Handler, tok string) (bool, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": map[string]string{"token": tok}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/authenticate", bytes.NewReader(body)))
	var out struct {
		Status struct {
			Authenticated bool   `json:"authenticated"`
			Error         string `json:"error"`
		} `json:"status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	return out.Status.Authenticated, out.Status.Error
}

// testCA is a CA certificate (any PEM certificate does for describe).
func testCA() string {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
