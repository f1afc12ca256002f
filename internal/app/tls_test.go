package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/testenv"
)

// TestTLS serves HTTPS from a Prometheus-style web config file.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kansoku-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	webCfg := filepath.Join(dir, "web.yml")
	os.WriteFile(webCfg, []byte("tls_server_config:\n  cert_file: "+certFile+"\n  key_file: "+keyFile+"\n"), 0o600)

	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	s := testenv.Start(t, testenv.Options{HTTPClient: hc, Config: func(c *config.Config) { c.Web.ConfigFile = webCfg }})
	if !strings.HasPrefix(s.URL, "https://") || !s.App.Info().TLS || !strings.HasPrefix(s.App.Info().ExternalURL, "https://") {
		t.Fatalf("TLS not on: %s %s", s.URL, s.App.Info().ExternalURL)
	}
	ws := s.CreateWorkspace(t, "tls")
	var d struct {
		Workspace struct{ PrometheusEndpoint string } `json:"workspace"`
	}
	if err := s.Admin.JSON(ctx, "GET", "/workspaces/"+ws, nil, nil, &d); err != nil || !strings.HasPrefix(d.Workspace.PrometheusEndpoint, "https://") {
		t.Fatalf("describe over TLS: %v %v", d, err)
	}
	// Plain HTTP to the TLS port does not get through.
	resp, err := http.Get(strings.Replace(s.URL, "https://", "http://", 1) + "/workspaces")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS listener")
		}
	}
}

func TestWebConfigRefusesBasicAuth(t *testing.T) {
	dir := t.TempDir()
	webCfg := filepath.Join(dir, "web.yml")
	os.WriteFile(webCfg, []byte("basic_auth_users:\n  admin: $2y$10$abcdefghijklmnopqrstuu5sGGm1f0J8LaVb4lXZzq5cSlQ0iZ/Wq\n"), 0o600)
	_, err := testStartWith(dir, func(c *config.Config) { c.Web.ConfigFile = webCfg })
	if err == nil || !strings.Contains(err.Error(), "basic_auth_users") {
		t.Fatalf("basic auth in the web config must be refused: %v", err)
	}
}
