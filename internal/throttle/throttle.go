// Package throttle is AMP's control-plane request quota: "API operations
// per second" (10 per account and region, adjustable) over the workspace,
// tagging, rule-groups namespace and Alertmanager definition operations,
// as a token bucket per account. A request beyond it is answered
// ThrottlingException (429), which the AWS CLI and SDKs retry with
// backoff. One node keeps its bucket in memory; the nodes of a cluster
// share theirs in the metadata database, so N nodes do not give N times
// the rate.
package throttle

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kansoku/kansoku/internal/cliflag"
)

// Config is the control-plane quota.
type Config struct {
	// Rate is the operations per second an account may make (AMP: 10);
	// 0 turns throttling off.
	Rate float64 `yaml:"rate"`
	// Burst is how many operations may come at once after a quiet spell.
	Burst int `yaml:"burst"`
}

// DefaultConfig is AMP's quota: 10 a second, bursts of 20.
func DefaultConfig() Config { return Config{Rate: 10, Burst: 20} }

// RegisterFlags binds the component's flags.
func (c *Config) RegisterFlags(f *cliflag.Flags) {
	f.Float64("control-plane.rate", "AMP control-plane operations per second per account (AMP: 10); 0 turns throttling off.", &c.Rate)
	f.Int("control-plane.burst", "Control-plane operations an account may make at once (the token bucket's size).", &c.Burst)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Rate < 0 || math.IsNaN(c.Rate) || c.Rate > 1e6 {
		return errors.New("rate must be between 0 (off) and 1000000")
	}
	if c.Rate > 0 && (c.Burst < 1 || c.Burst > 1000000) {
		return errors.New("burst must be between 1 and 1000000")
	}
	return nil
}

// Enabled reports whether requests are throttled.
func (c Config) Enabled() bool { return c.Rate > 0 }

// Limiter takes one token per request from a key's bucket.
type Limiter interface {
	// Take reports whether the request may go on and, if not, how long
	// until it could.
	Take(ctx context.Context, key string) (ok bool, wait time.Duration, err error)
}

// Local keeps the buckets in memory: one node.
type Local struct {
	cfg     Config
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// NewLocal returns in-memory buckets.
func NewLocal(cfg Config) *Local { return &Local{cfg: cfg, buckets: map[string]*rate.Limiter{}} }

// Take implements Limiter.
func (l *Local) Take(_ context.Context, key string) (bool, time.Duration, error) {
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(rate.Limit(l.cfg.Rate), l.cfg.Burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	now := time.Now()
	r := b.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second, nil
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d, nil
	}
	return true, 0, nil
}

// Store takes tokens from buckets every node shares (metastore.DB).
type Store interface {
	TakeRateToken(ctx context.Context, name string, rate float64, burst int, now time.Time) (bool, time.Duration, error)
}

// Shared keeps the buckets in the metadata database: a cluster's nodes.
type Shared struct {
	cfg   Config
	store Store
	now   func() time.Time
}

// NewShared returns buckets in store.
func NewShared(cfg Config, store Store) *Shared {
	return &Shared{cfg: cfg, store: store, now: time.Now}
}

// Take implements Limiter.
func (s *Shared) Take(ctx context.Context, key string) (bool, time.Duration, error) {
	return s.store.TakeRateToken(ctx, "control-plane/"+key, s.cfg.Rate, s.cfg.Burst, s.now())
}
