package egress

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func mustNew(t *testing.T, c Config) *Firewall {
	t.Helper()
	f, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCheckRefusesInternalAddressesByDefault(t *testing.T) {
	f := mustNew(t, DefaultConfig())
	f.ownAddrs = func() []netip.Addr { return []netip.Addr{netip.MustParseAddr("203.0.113.7")} }
	refused := map[string]string{
		"127.0.0.1":           "loopback",
		"127.3.4.5":           "loopback",
		"::1":                 "loopback",
		"::ffff:127.0.0.1":    "loopback",
		"0.0.0.0":             "unspecified",
		"::":                  "unspecified",
		"169.254.169.254":     "link-local",
		"fe80::1":             "link-local",
		"10.0.0.1":            "private",
		"172.16.0.1":          "private",
		"172.31.255.255":      "private",
		"192.168.1.1":         "private",
		"fd00::1":             "private",
		"100.64.0.1":          "shared",
		"224.0.0.1":           "link-local",
		"239.1.2.3":           "multicast",
		"255.255.255.255":     "broadcast",
		"240.0.0.1":           "reserved",
		"0.1.2.3":             "this network",
		"64:ff9b::7f00:1":     "NAT64",
		"2002:7f00:1::1":      "6to4",
		"203.0.113.7":         "own addresses",
		"::ffff:169.254.1.1":  "link-local",
		"198.18.0.1":          "benchmarking",
		"192.0.0.8":           "IETF",
		"ff02::1":             "link-local",
		"100::1":              "discard",
		"::ffff:10.1.2.3":     "private",
		"::ffff:192.168.0.10": "private",
	}
	for addr, why := range refused {
		err := f.Check(netip.MustParseAddr(addr))
		if err == nil || !IsRefused(err) || !strings.Contains(err.Error(), why) {
			t.Errorf("Check(%s) = %v; want a refusal naming %q", addr, err, why)
		}
	}
	for _, addr := range []string{"8.8.8.8", "203.0.113.8", "2001:4860:4860::8888", "172.32.0.1", "100.128.0.1"} {
		if err := f.Check(netip.MustParseAddr(addr)); err != nil {
			t.Errorf("Check(%s) = %v; want allowed", addr, err)
		}
	}
}

func TestAllowAndDenyNetworks(t *testing.T) {
	f := mustNew(t, Config{AllowNetworks: []string{"10.20.0.0/16", "127.0.0.2/32"}, DenyNetworks: []string{"10.20.5.0/24", "8.8.8.0/24"},
		MaxRequestBytes: 1 << 20, MaxResponseBytes: 1 << 20})
	for addr, ok := range map[string]bool{
		"10.20.1.1": true, "10.20.5.1": false, "10.21.0.1": false, "127.0.0.2": true, "127.0.0.1": false, "8.8.8.8": false, "8.8.4.4": true,
	} {
		if err := f.Check(netip.MustParseAddr(addr)); (err == nil) != ok {
			t.Errorf("Check(%s) = %v; want allowed=%v", addr, err, ok)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{AllowNetworks: []string{"10.0.0.1"}, MaxRequestBytes: 1 << 20, MaxResponseBytes: 1 << 20},
		{DenyNetworks: []string{"nonsense"}, MaxRequestBytes: 1 << 20, MaxResponseBytes: 1 << 20},
		{SMTPPorts: []int{0}, MaxRequestBytes: 1 << 20, MaxResponseBytes: 1 << 20},
		{MaxRequestBytes: 10, MaxResponseBytes: 1 << 20},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil; want an error", c)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckSMTP(t *testing.T) {
	f := mustNew(t, DefaultConfig())
	for _, p := range []string{"25", "465", "587", "2525"} {
		if err := f.CheckSMTP(p); err != nil {
			t.Errorf("port %s: %v", p, err)
		}
	}
	for _, p := range []string{"22", "6379", "x", ""} {
		if err := f.CheckSMTP(p); err == nil {
			t.Errorf("port %q allowed", p)
		}
	}
}

// A name that resolves to loopback is refused at connect time, like the
// address itself; an allowed network is reached.
func TestDialChecksTheResolvedAddress(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	closed := mustNew(t, DefaultConfig())
	for _, host := range []string{"127.0.0.1", "localhost"} {
		_, err := closed.DialContext(context.Background(), "tcp", net.JoinHostPort(host, port))
		if !IsRefused(err) {
			t.Fatalf("dial %s: %v; want a firewall refusal", host, err)
		}
		if !strings.Contains(err.Error(), host) {
			t.Errorf("the refusal should name what was dialled (%s): %v", host, err)
		}
	}

	cfg := DefaultConfig()
	cfg.AllowNetworks = []string{"127.0.0.0/8", "::1/128"}
	open := mustNew(t, cfg)
	hc := &http.Client{Transport: &http.Transport{DialContext: open.DialContext}}
	resp, err := hc.Get("http://localhost:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("body %q", b)
	}

	if _, err := open.DialContext(context.Background(), "udp", "127.0.0.1:53"); !IsRefused(err) {
		t.Errorf("udp dial: %v; want refused", err)
	}
}

// A redirect to an internal address is refused too: every connection of
// the client goes through the check.
func TestRedirectToInternalAddressIsRefused(t *testing.T) {
	// The target listens on 127.0.0.2 (Linux routes all of 127/8 to lo),
	// the redirector on 127.0.0.1, and only 127.0.0.1 is opened.
	target, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go http.Serve(target, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret") }))
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+target.Addr().String()+"/", http.StatusFound)
	}))
	defer redirector.Close()
	cfg := DefaultConfig()
	cfg.AllowNetworks = []string{"127.0.0.1/32"}
	f := mustNew(t, cfg)
	hc := &http.Client{Transport: &http.Transport{DialContext: f.DialContext}}
	if _, err := hc.Get(redirector.URL); !IsRefused(err) {
		t.Fatalf("redirect to 127.0.0.2: %v; want a firewall refusal", err)
	}
}

func TestConnectionsAreCapped(t *testing.T) {
	got := make(chan int64, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		if n < 100 {
			got <- n
		}
		w.Write([]byte(strings.Repeat("r", 4096)))
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.AllowNetworks = []string{"127.0.0.0/8"}
	cfg.MaxRequestBytes = 64 << 10
	cfg.MaxResponseBytes = 2 << 10
	f := mustNew(t, cfg)
	hc := &http.Client{Transport: &http.Transport{DialContext: f.DialContext, DisableKeepAlives: true}, Timeout: 10 * time.Second}

	_, err := hc.Post(srv.URL, "text/plain", strings.NewReader(strings.Repeat("x", 1<<20)))
	if err == nil || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("1 MiB body over a 64 KiB cap: %v; want ErrTooLarge", err)
	}

	resp, err := hc.Post(srv.URL, "text/plain", strings.NewReader("small"))
	if err != nil {
		t.Fatal(err)
	}
	if n := <-got; n != 5 {
		t.Fatalf("server read %d bytes", n)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("4 KiB response over a 2 KiB cap: %v; want ErrTooLarge", err)
	}
}

func TestResolvePinsAnAllowedAddress(t *testing.T) {
	f := mustNew(t, DefaultConfig())
	if _, err := f.Resolve(context.Background(), "localhost"); !IsRefused(err) {
		t.Fatalf("Resolve(localhost) = %v; want refused", err)
	}
	if ip, err := f.Resolve(context.Background(), "8.8.8.8"); err != nil || ip.String() != "8.8.8.8" {
		t.Fatalf("Resolve(8.8.8.8) = %v, %v", ip, err)
	}
	cfg := DefaultConfig()
	cfg.AllowNetworks = []string{"127.0.0.0/8"}
	open := mustNew(t, cfg)
	ip, err := open.Resolve(context.Background(), "localhost")
	if err != nil || !ip.IsLoopback() {
		t.Fatalf("Resolve(localhost) with loopback allowed = %v, %v", ip, err)
	}
}
