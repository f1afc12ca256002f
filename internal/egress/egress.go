// Package egress guards the connections Kansoku opens on a tenant's behalf:
// Alertmanager receivers (webhooks, Slack, email ...) and SNS endpoints a
// workspace definition names. A Firewall checks every address at connect
// time, after DNS resolution, so a name that resolves to an internal
// address is refused as the address itself would be; by default it refuses
// loopback, private, link-local, shared (CGNAT), reserved and multicast
// addresses and the server's own, and the operator opens specific networks
// with an allow-list. Connections it opens carry byte caps, so one
// notification can neither send nor read more than the configured bounds.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Config is the operator's view of the firewall.
type Config struct {
	// AllowNetworks are CIDRs receivers may reach although they are internal
	// by default (e.g. 10.20.0.0/16 for an on-premises chat server).
	AllowNetworks []string `yaml:"allow_networks"`
	// DenyNetworks are further CIDRs refused (they win over AllowNetworks).
	DenyNetworks []string `yaml:"deny_networks"`
	// SMTPPorts are the smarthost ports email receivers may use.
	SMTPPorts []int `yaml:"smtp_ports"`
	// MaxRequestBytes caps what one connection may send (a notification
	// request: headers and body); MaxResponseBytes what it may read.
	MaxRequestBytes  int64 `yaml:"max_request_bytes"`
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
	// DialTimeout bounds one TCP connect.
	DialTimeout time.Duration `yaml:"-"`
	// Setting names the allow-list an operator edits, for refusals
	// (default alertmanager.receiver_firewall.allow_networks).
	Setting string `yaml:"-"`
}

// DefaultConfig is the firewall with nothing opened.
func DefaultConfig() Config {
	return Config{
		SMTPPorts:        []int{25, 465, 587, 2525},
		MaxRequestBytes:  8 << 20,
		MaxResponseBytes: 1 << 20,
	}
}

// Validate checks the CIDRs, ports and sizes.
func (c Config) Validate() error {
	for _, n := range append(append([]string{}, c.AllowNetworks...), c.DenyNetworks...) {
		if _, err := netip.ParsePrefix(n); err != nil {
			return fmt.Errorf("receiver firewall: %q is not a CIDR (e.g. 10.20.0.0/16): %w", n, err)
		}
	}
	for _, p := range c.SMTPPorts {
		if p < 1 || p > 65535 {
			return fmt.Errorf("receiver firewall: smtp_ports: %d is not a TCP port", p)
		}
	}
	if c.MaxRequestBytes < 1<<10 || c.MaxResponseBytes < 1<<10 {
		return fmt.Errorf("receiver firewall: max_request_bytes and max_response_bytes must be at least 1024")
	}
	return nil
}

// RefusedError is a connection the firewall did not open.
type RefusedError struct {
	Addr   string // what was dialled (host:port) or the address checked
	Reason string
	// Setting is the allow-list that would open it.
	Setting string
}

func (e *RefusedError) Error() string {
	setting := e.Setting
	if setting == "" {
		setting = "alertmanager.receiver_firewall.allow_networks"
	}
	return fmt.Sprintf("the receiver firewall refuses %s: %s; an operator can open it with %s", e.Addr, e.Reason, setting)
}

// IsRefused reports whether err (or an error it wraps) is a firewall refusal.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// ErrTooLarge is returned by connections over their byte caps.
var ErrTooLarge = errors.New("notification exceeds the receiver size limit")

// Firewall decides which addresses tenant traffic may reach and dials them.
type Firewall struct {
	allow, deny []netip.Prefix
	smtpPorts   map[int]bool
	maxSend     int64
	maxRecv     int64
	dialTimeout time.Duration
	// ownAddrs returns the server's own addresses (refused unless allowed).
	ownAddrs func() []netip.Addr
	setting  string
}

// New builds a firewall from a validated config.
func New(c Config) (*Firewall, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	f := &Firewall{smtpPorts: map[int]bool{}, maxSend: c.MaxRequestBytes, maxRecv: c.MaxResponseBytes, dialTimeout: c.DialTimeout, ownAddrs: interfaceAddrs, setting: c.Setting}
	if f.dialTimeout == 0 {
		f.dialTimeout = 30 * time.Second
	}
	for _, n := range c.AllowNetworks {
		f.allow = append(f.allow, netip.MustParsePrefix(n).Masked())
	}
	for _, n := range c.DenyNetworks {
		f.deny = append(f.deny, netip.MustParsePrefix(n).Masked())
	}
	for _, p := range c.SMTPPorts {
		f.smtpPorts[p] = true
	}
	return f, nil
}

// internal are the networks refused by default besides what netip
// classifies (loopback, private, link-local, multicast, unspecified).
var internal = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "a 'this network' address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a NAT64 address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
}

// Check returns nil if tenant traffic may go to ip.
func (f *Firewall) Check(ip netip.Addr) error {
	ip = ip.Unmap()
	refuse := func(why string) error { return &RefusedError{Addr: ip.String(), Reason: why, Setting: f.setting} }
	for _, p := range f.deny {
		if p.Contains(ip) {
			return refuse("it is in a denied network (" + p.String() + ")")
		}
	}
	for _, p := range f.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	switch {
	case !ip.IsValid():
		return refuse("not an IP address")
	case ip.IsLoopback():
		return refuse("it is a loopback address")
	case ip.IsUnspecified():
		return refuse("it is an unspecified address")
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return refuse("it is a link-local address (cloud metadata services live there)")
	case ip.IsPrivate():
		return refuse("it is a private address")
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return refuse("it is a multicast address")
	case ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return refuse("it is the broadcast address")
	}
	for _, n := range internal {
		if n.prefix.Contains(ip) {
			return refuse("it is " + n.what)
		}
	}
	for _, own := range f.ownAddrs() {
		if own.Unmap() == ip {
			return refuse("it is one of this server's own addresses")
		}
	}
	return nil
}

// CheckSMTP refuses smarthost ports outside the operator's list.
func (f *Firewall) CheckSMTP(port string) error {
	p, err := strconv.Atoi(port)
	if err != nil || !f.smtpPorts[p] {
		return &RefusedError{Addr: "port " + port, Reason: fmt.Sprintf("email receivers may use the SMTP ports %v only", f.smtpPortList())}
	}
	return nil
}

func (f *Firewall) smtpPortList() []int {
	var out []int
	for p := range f.smtpPorts {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// DialContext connects to addr (host:port) if the address it resolves to
// is allowed. The check runs in the dialer's Control hook, on the address
// actually being connected, so DNS answers cannot dodge it. The connection
// is capped at the firewall's request and response sizes.
func (f *Firewall) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: f.dialTimeout, ControlContext: f.control}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		// Name the dialled host, not only the address it resolved to.
		var r *RefusedError
		if errors.As(err, &r) {
			return nil, &RefusedError{Addr: addr + " (" + r.Addr + ")", Reason: r.Reason, Setting: r.Setting}
		}
		return nil, err
	}
	return &cappedConn{Conn: c, sendLeft: f.maxSend, recvLeft: f.maxRecv}, nil
}

func (f *Firewall) control(_ context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Addr: address, Reason: "not an IP address and port"}
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return &RefusedError{Addr: address, Reason: "only TCP is allowed"}
	}
	return f.Check(ap.Addr())
}

// Resolve returns the first address of host that the firewall allows, so
// that a caller which cannot use DialContext (an SMTP client) can pin it;
// the error names why every address was refused.
func (f *Firewall) Resolve(ctx context.Context, host string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, f.Check(ip)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, err
	}
	var first error
	for _, ip := range ips {
		err := f.Check(ip)
		if err == nil {
			return ip.Unmap(), nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = &RefusedError{Addr: host, Reason: "it has no address"}
	}
	var r *RefusedError
	if errors.As(first, &r) {
		return netip.Addr{}, &RefusedError{Addr: host + " (" + r.Addr + ")", Reason: r.Reason}
	}
	return netip.Addr{}, first
}

// cappedConn fails writes and reads past their budgets.
type cappedConn struct {
	net.Conn
	mu                 sync.Mutex
	sendLeft, recvLeft int64
}

func (c *cappedConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if int64(len(b)) > c.sendLeft {
		c.mu.Unlock()
		return 0, fmt.Errorf("send to %s: %w (the limit is alertmanager.receiver_firewall.max_request_bytes)", c.RemoteAddr(), ErrTooLarge)
	}
	c.sendLeft -= int64(len(b))
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *cappedConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	left := c.recvLeft
	c.mu.Unlock()
	if left <= 0 {
		return 0, fmt.Errorf("read from %s: %w (the limit is alertmanager.receiver_firewall.max_response_bytes)", c.RemoteAddr(), ErrTooLarge)
	}
	if int64(len(b)) > left {
		b = b[:left]
	}
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.recvLeft -= int64(n)
	c.mu.Unlock()
	return n, err
}

func interfaceAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}
