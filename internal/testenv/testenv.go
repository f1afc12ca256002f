// Package testenv starts a complete Kansoku server in-process for tests,
// on a loopback port, with its own data directory, and gives clients for it.
package testenv

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/client"
	"github.com/kansoku/kansoku/internal/config"
)

// Server is a running in-process Kansoku.
type Server struct {
	App     *app.App
	URL     string
	DataDir string
	Admin   *client.Client // SigV4-signed with the admin key
	cancel  context.CancelFunc
	done    chan error
	http    *http.Client
}

// Options tweak the configuration before start.
type Options struct {
	DataDir string
	Config  func(*config.Config)
	// HTTPClient is used to reach the server (for TLS tests); default http.DefaultClient.
	HTTPClient *http.Client
	// AdminCredentialsFile holds the admin key the Admin client signs
	// with; default <data dir>/admin-credentials, which the node that
	// initialised the installation wrote (another node of a shared
	// metadata database has none of its own).
	AdminCredentialsFile string
}

// Start runs a server until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.Storage.DataDir = o.DataDir
	if cfg.Storage.DataDir == "" {
		cfg.Storage.DataDir = t.TempDir()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Web.ListenAddress = ln.Addr().String()
	cfg.Web.Listener = ln
	// Tests expect exact label sets: no self-monitoring series unless asked.
	cfg.Usage.SelfMetrics = false
	// Tests' receivers (webhooks, the SNS simulator's api_url) listen on
	// loopback, which the receiver firewall refuses by default; tests of
	// the firewall itself set it back.
	cfg.Alertmanager.ReceiverFirewall.AllowNetworks = []string{"127.0.0.0/8", "::1/128"}
	// Tests make control-plane calls back to back: no throttling unless a
	// test of it sets control_plane.rate.
	cfg.ControlPlane.Rate = 0
	if o.Config != nil {
		o.Config(&cfg)
	}
	level := slog.LevelWarn
	if os.Getenv("KANSOKU_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	a, err := app.New(context.Background(), cfg, logger)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	scheme := "http://"
	if a.Info().TLS {
		scheme = "https://"
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	s := &Server{App: a, URL: scheme + ln.Addr().String(), DataDir: cfg.Storage.DataDir, cancel: cancel, done: make(chan error, 1), http: hc}
	go func() { s.done <- a.Run(ctx) }()
	t.Cleanup(s.Stop)
	credsFile := o.AdminCredentialsFile
	if credsFile == "" {
		credsFile = cfg.Storage.DataDir + "/" + app.AdminCredentialsFile
	}
	creds, err := client.LoadCredentialsFile(credsFile)
	if err != nil {
		t.Fatal(err)
	}
	s.Admin = client.New(s.URL, a.Info().Account.Region, aws.Credentials{AccessKeyID: creds["AWS_ACCESS_KEY_ID"], SecretAccessKey: creds["AWS_SECRET_ACCESS_KEY"]})
	s.Admin.HTTP = hc
	s.waitReady(t)
	return s
}

func (s *Server) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := s.http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("server did not become ready")
}

// Stop shuts the server down and closes its storage (idempotent).
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done //nolint:errcheck // the test already saw whether Run failed
	s.App.Close()
	s.cancel = nil
}

// CreateWorkspace creates a workspace and waits until it is ACTIVE.
func (s *Server) CreateWorkspace(t testing.TB, alias string) string {
	t.Helper()
	var out struct {
		WorkspaceID string `json:"workspaceId"`
	}
	if err := s.Admin.JSON(context.Background(), "POST", "/workspaces", nil, map[string]any{"alias": alias}, &out); err != nil {
		t.Fatal(err)
	}
	s.WaitStatus(t, out.WorkspaceID, "ACTIVE")
	return out.WorkspaceID
}

// WaitStatus polls DescribeWorkspace until the workspace has status.
func (s *Server) WaitStatus(t testing.TB, ws, status string) {
	t.Helper()
	for i := 0; i < 500; i++ {
		var d struct {
			Workspace struct {
				Status struct{ StatusCode string } `json:"status"`
			} `json:"workspace"`
		}
		err := s.Admin.JSON(context.Background(), "GET", "/workspaces/"+ws, nil, nil, &d)
		if err == nil && d.Workspace.Status.StatusCode == status {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("workspace %s never reached %s", ws, status)
}

// Token creates a bearer token for the admin user and returns a client using it.
func (s *Server) Token(t testing.TB) *client.Client {
	t.Helper()
	var out struct {
		APIToken struct{ Token string } `json:"apiToken"`
	}
	if err := s.Admin.JSON(context.Background(), "POST", "/admin/v1/tokens", nil, map[string]any{"name": "test"}, &out); err != nil {
		t.Fatal(err)
	}
	c := client.New(s.URL, s.App.Info().Account.Region, aws.Credentials{})
	c.Token = out.APIToken.Token
	return c
}

// RemoteWrite sends a write request to a workspace and returns the HTTP
// status and body.
func RemoteWrite(ctx context.Context, c *client.Client, ws string, req *prompb.WriteRequest) (int, string, error) {
	raw, err := req.Marshal()
	if err != nil {
		return 0, "", err
	}
	return RemoteWriteRaw(ctx, c, ws, snappy.Encode(nil, raw))
}

// RemoteWriteRaw sends an already encoded body.
func RemoteWriteRaw(ctx context.Context, c *client.Client, ws string, body []byte) (int, string, error) {
	h := http.Header{"Content-Encoding": {"snappy"}, "X-Prometheus-Remote-Write-Version": {"0.1.0"}}
	resp, b, err := c.Raw(ctx, "POST", "/workspaces/"+ws+"/api/v1/remote_write", nil, "application/x-protobuf", body, h)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, string(b), nil
}

// Series builds a prompb series from name/value pairs.
func Series(kv ...string) []prompb.Label {
	var ls []prompb.Label
	for i := 0; i < len(kv); i += 2 {
		ls = append(ls, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	return ls
}

// User creates a user with the given policies (ARNs or names) and an
// access key, and returns a client signing with that key.
func (s *Server) User(t testing.TB, name string, policies ...string) *client.Client {
	t.Helper()
	var out struct {
		AccessKey struct{ AccessKeyID, SecretAccessKey string } `json:"accessKey"`
	}
	if err := s.Admin.JSON(context.Background(), "POST", "/admin/v1/keys", nil, map[string]any{"userName": name, "policyArns": policies}, &out); err != nil {
		t.Fatal(err)
	}
	c := client.New(s.URL, s.App.Info().Account.Region, aws.Credentials{AccessKeyID: out.AccessKey.AccessKeyID, SecretAccessKey: out.AccessKey.SecretAccessKey})
	c.HTTP = s.http
	return c
}

// WorkspaceARN returns the ARN of a workspace of this server.
func (s *Server) WorkspaceARN(ws string) string {
	return "arn:aws:aps:" + s.App.Info().Account.Region + ":" + s.App.Info().Account.ID + ":workspace/" + ws
}
