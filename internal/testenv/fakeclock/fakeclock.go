// Package fakeclock is a clock that tests move by hand, for components that
// take a Now function instead of reading the wall clock, so tests of
// expiry, retirement and leases advance time instead of sleeping.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is safe for concurrent use: the component under test reads it
// from its own goroutines while the test advances it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock that stands at t until advanced.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
