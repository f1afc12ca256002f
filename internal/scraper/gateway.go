package scraper

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kansoku/kansoku/internal/egress"
)

// The gateway is how a scraper's kubernetes_sd_configs reach an EKS
// cluster. Prometheus' discovery/kubernetes builds its client from the
// configuration alone (a fixed bearer token, no dialer of ours), so each
// EKS scraper gets an HTTP listener on loopback, private to the process:
// discovery talks to it with a random secret, and it forwards GET requests
// to the cluster's API server with
//
//   - the endpoint and CA from EKS DescribeCluster (called again every
//     gatewayRefresh),
//   - a bearer token made the EKS way: "k8s-aws-v1." + the unpadded
//     base64url of an STS GetCallerIdentity URL presigned with the
//     integration's credentials and the signed header x-k8s-aws-id = the
//     cluster's name, renewed before its 15 minutes run out,
//   - connections dialled through the scrapers' firewall (an internal API
//     server address is refused unless the operator opened it).
//
// Only reads of API resources pass (a scraper never changes a cluster). Refusals of the API
// server (401, 403) and of the way there are logged with the reason, to
// Kansoku's log and to the scraper's SERVICE_DISCOVERY log; tokens and
// credentials never are.

const (
	// gatewayRefresh is how often the cluster is described again.
	gatewayRefresh = 10 * time.Minute
	// tokenRenew: a token lives 15 minutes from its signing; a new one is
	// made after 10.
	tokenRenew = 10 * time.Minute
	// tokenUsable: how long a token is handed out while a new one is being
	// made (a minute short of its 15, for the clocks' skew and the request).
	tokenUsable = 14 * time.Minute
	// eksClusterHeader is the header the IAM authenticator's token signs.
	eksClusterHeader = "x-k8s-aws-id"
	// logEvery bounds repeats of one refusal in the logs.
	logEvery = 5 * time.Minute
)

type gateway struct {
	ref    clusterRef
	ws     string
	aws    Integrations
	fw     *egress.Firewall
	logger *slog.Logger
	event  func(level, msg string, fields map[string]string)
	secret string
	srv    *http.Server
	url    string
	now    func() time.Time

	// renewing is held while the cluster is described and the token made.
	renewing sync.Mutex
	// mu guards the fields below; it is never held across a call out.
	mu        sync.Mutex
	cluster   *clusterConn
	token     string
	tokenAt   time.Time
	lastLog   string
	lastLogAt time.Time
}

// clusterConn is a described cluster: where it is and how to trust it.
type clusterConn struct {
	endpoint  *url.URL
	proxy     *httputil.ReverseProxy
	transport *http.Transport
	at        time.Time
}

// startGateway listens on loopback for one scraper's discovery.
func startGateway(ref clusterRef, ws string, aws Integrations, fw *egress.Firewall, logger *slog.Logger, event func(level, msg string, fields map[string]string)) (*gateway, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the cluster gateway: %w", err)
	}
	g := &gateway{ref: ref, ws: ws, aws: aws, fw: fw, logger: logger, event: event, secret: hex.EncodeToString(b), url: "http://" + ln.Addr().String(), now: time.Now}
	g.srv = &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = g.srv.Serve(ln) }()
	return g, nil
}

func (g *gateway) close() {
	_ = g.srv.Close()
	g.mu.Lock()
	if g.cluster != nil {
		g.cluster.transport.CloseIdleConnections()
	}
	g.mu.Unlock()
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+g.secret)) != 1 {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "a managed scraper only reads from the cluster", http.StatusMethodNotAllowed)
		return
	}
	// Discovery lists and watches API resources, nothing else.
	if p := r.URL.Path; !strings.HasPrefix(p, "/api/") && !strings.HasPrefix(p, "/apis/") || strings.Contains(p, "..") {
		http.Error(w, "a managed scraper only lists and watches API resources", http.StatusForbidden)
		return
	}
	// The cluster and the token are shared by the scraper's requests: a
	// request that goes away does not cancel their making.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
	defer cancel()
	c, tok, err := g.prepare(ctx)
	if err != nil {
		g.refused(err.Error())
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok))
	c.proxy.ServeHTTP(w, r)
}

type tokenKey struct{}

// prepare returns the described cluster and a valid token. The AWS calls
// that renew them (the integration's role, DescribeCluster, the token's
// presign; up to a minute) run under renewing, not mu: while one request
// renews, the others go on with the cluster and token they have, as long
// as the token is still good (tokenUsable), and only wait when there is
// none yet.
func (g *gateway) prepare(ctx context.Context) (*clusterConn, string, error) {
	h := g.current()
	if h.fresh(g.now()) {
		return h.cluster, h.token, nil
	}
	if !g.renewing.TryLock() {
		if h.usable(g.now()) {
			return h.cluster, h.token, nil
		}
		g.renewing.Lock()
	}
	defer g.renewing.Unlock()
	// Another request may have renewed them while this one waited.
	if h = g.current(); h.fresh(g.now()) {
		return h.cluster, h.token, nil
	}
	err := g.renew(ctx, &h)
	g.mu.Lock()
	old := g.cluster
	g.cluster, g.token, g.tokenAt = h.cluster, h.token, h.tokenAt
	g.mu.Unlock()
	if old != nil && old != h.cluster {
		old.transport.CloseIdleConnections()
	}
	if err != nil {
		return nil, "", err
	}
	return h.cluster, h.token, nil
}

// renew describes the cluster and makes a token, each if h's is stale;
// h keeps what was renewed before an error.
func (g *gateway) renew(ctx context.Context, h *held) error {
	id, err := g.aws.AccountIntegration(ctx, g.ws, g.ref.Account)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", g.ref.ARN, err)
	}
	cfg, err := g.aws.RoleConfig(ctx, id, g.ref.Region)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", g.ref.ARN, err)
	}
	now := g.now()
	if h.cluster == nil || now.Sub(h.cluster.at) > gatewayRefresh {
		c, err := g.describe(ctx, cfg)
		if err != nil {
			return err
		}
		h.cluster = c
	}
	if h.token == "" || now.Sub(h.tokenAt) > tokenRenew {
		t, err := eksToken(ctx, cfg, g.ref.Name)
		if err != nil {
			return fmt.Errorf("cluster %s: sign the authentication token (STS GetCallerIdentity presign): %w", g.ref.ARN, err)
		}
		h.token, h.tokenAt = t, now
	}
	return nil
}

// held is what the gateway holds: the described cluster and the token.
type held struct {
	cluster *clusterConn
	token   string
	tokenAt time.Time
}

// usable: the token may still be handed out while a new one is made.
func (h held) usable(now time.Time) bool {
	return h.cluster != nil && h.token != "" && now.Sub(h.tokenAt) < tokenUsable
}

// fresh: nothing is due for renewal.
func (h held) fresh(now time.Time) bool {
	return h.usable(now) && now.Sub(h.cluster.at) <= gatewayRefresh && now.Sub(h.tokenAt) <= tokenRenew
}

func (g *gateway) current() held {
	g.mu.Lock()
	defer g.mu.Unlock()
	return held{g.cluster, g.token, g.tokenAt}
}

// describe calls EKS DescribeCluster and builds the way to its API server.
func (g *gateway) describe(ctx context.Context, cfg aws.Config) (*clusterConn, error) {
	out, err := eks.NewFromConfig(cfg).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(g.ref.Name)})
	if err != nil {
		return nil, fmt.Errorf("cluster %s: EKS DescribeCluster: %w", g.ref.ARN, err)
	}
	cl := out.Cluster
	if cl == nil || aws.ToString(cl.Endpoint) == "" || cl.CertificateAuthority == nil {
		return nil, fmt.Errorf("cluster %s is %s and has no API server endpoint yet", g.ref.ARN, statusOf(cl))
	}
	ep, err := url.Parse(aws.ToString(cl.Endpoint))
	if err != nil || ep.Scheme != "https" || ep.Host == "" {
		return nil, fmt.Errorf("cluster %s: its endpoint %q is not an https URL", g.ref.ARN, truncate(aws.ToString(cl.Endpoint)))
	}
	pem, err := base64.StdEncoding.DecodeString(aws.ToString(cl.CertificateAuthority.Data))
	pool := x509.NewCertPool()
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cluster %s: its certificateAuthority.data holds no PEM certificate", g.ref.ARN)
	}
	tr := &http.Transport{
		DialContext:           g.fw.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: pool, ServerName: ep.Hostname(), MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		// A fresh connection per request: the firewall's byte cap then
		// bounds each list and each watch.
		DisableKeepAlives: true,
	}
	c := &clusterConn{endpoint: ep, transport: tr, at: g.now()}
	c.proxy = &httputil.ReverseProxy{
		Transport:     tr,
		FlushInterval: -1, // watches stream
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(ep)
			pr.Out.Host = ep.Host
			pr.Out.Header.Set("Authorization", "Bearer "+pr.In.Context().Value(tokenKey{}).(string))
			// JSON answers: a refusal's Status message can be read and
			// logged.
			pr.Out.Header.Set("Accept", "application/json")
			pr.Out.Header.Del("Cookie")
		},
		ModifyResponse: g.inspect,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // discovery went away (a watch ended, the scraper stops)
			}
			msg := fmt.Sprintf("cluster %s: the API server at %s cannot be reached: %v", g.ref.ARN, ep.Host, err)
			if egress.IsRefused(err) {
				msg = fmt.Sprintf("cluster %s: the API server address is refused by the scrapers' firewall: %v", g.ref.ARN, err)
			}
			g.refused(msg)
			http.Error(w, msg, http.StatusBadGateway)
		},
	}
	return c, nil
}

func statusOf(cl *ekstypes.Cluster) string {
	if cl == nil || cl.Status == "" {
		return "not ready"
	}
	return string(cl.Status)
}

// inspect logs why the API server refused a request (401: the token does
// not authenticate; 403: the user may not list or watch what the role
// discovers).
func (g *gateway) inspect(resp *http.Response) error {
	if resp.StatusCode < 400 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var st struct {
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
	_ = json.Unmarshal(body, &st)
	why := st.Message
	if why == "" {
		why = strings.TrimSpace(string(body))
	}
	if len(why) > 300 {
		why = why[:300] + "..."
	}
	var msg string
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		msg = fmt.Sprintf("cluster %s: the API server did not accept the scraper's IAM authenticator token (401 %s): the cluster must map the AWS integration's role to a Kubernetes user (an EKS access entry or aws-auth), and the token must be for this cluster", g.ref.ARN, why)
	case http.StatusForbidden:
		msg = fmt.Sprintf("cluster %s: the API server denied discovery (403): %s; bind the mapped user to a ClusterRole that may get, list and watch what the job discovers (AMP's aps-collector-role)", g.ref.ARN, why)
	default:
		msg = fmt.Sprintf("cluster %s: the API server answered %s: %s", g.ref.ARN, resp.Status, why)
	}
	g.refused(msg)
	return nil
}

// refused logs a refusal, once per message per logEvery.
func (g *gateway) refused(msg string) {
	g.mu.Lock()
	now := g.now()
	if msg == g.lastLog && now.Sub(g.lastLogAt) < logEvery {
		g.mu.Unlock()
		return
	}
	g.lastLog, g.lastLogAt = msg, now
	g.mu.Unlock()
	g.logger.Warn("kubernetes discovery refused", "cluster", g.ref.ARN, "reason", msg)
	g.event("WARN", "kubernetes discovery refused", map[string]string{"cluster": g.ref.ARN, "reason": msg})
}

// eksToken makes the IAM authenticator's bearer token for cluster: a
// GetCallerIdentity URL presigned with cfg's credentials and the signed
// header x-k8s-aws-id, X-Amz-Expires 60 as the authenticator sets it (STS
// honours the token for 15 minutes from its X-Amz-Date).
func eksToken(ctx context.Context, cfg aws.Config, cluster string) (string, error) {
	p := sts.NewPresignClient(sts.NewFromConfig(cfg))
	req, err := p.PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.PresignOptions) {
		o.ClientOptions = append(o.ClientOptions, func(o *sts.Options) {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(eksClusterHeader, cluster), addExpires)
		})
	})
	if err != nil {
		return "", err
	}
	return "k8s-aws-v1." + base64.RawURLEncoding.EncodeToString([]byte(req.URL)), nil
}

// addExpires adds X-Amz-Expires=60 to the presigned query.
func addExpires(stack *middleware.Stack) error {
	return stack.Build.Add(middleware.BuildMiddlewareFunc("KansokuEKSTokenExpires", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			q := req.URL.Query()
			q.Set("X-Amz-Expires", "60")
			req.URL.RawQuery = q.Encode()
		}
		return next.HandleBuild(ctx, in)
	}), middleware.After)
}
