package throttle

import (
	"context"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{DefaultConfig(), {Rate: 0}, {Rate: 0.5, Burst: 1}} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	for _, c := range []Config{{Rate: -1, Burst: 1}, {Rate: 10, Burst: 0}, {Rate: 2e6, Burst: 1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// The in-memory bucket: the burst at once, then the rate; keys apart.
func TestLocal(t *testing.T) {
	l := NewLocal(Config{Rate: 10, Burst: 20})
	ctx := context.Background()
	n := 0
	for i := 0; i < 30; i++ {
		if ok, _, _ := l.Take(ctx, "acct"); ok {
			n++
		}
	}
	if n != 20 {
		t.Fatalf("burst: %d", n)
	}
	ok, wait, _ := l.Take(ctx, "acct")
	if ok || wait <= 0 || wait > 150*time.Millisecond {
		t.Fatalf("empty bucket: %v %s", ok, wait)
	}
	if ok, _, _ := l.Take(ctx, "other"); !ok {
		t.Fatal("another account's bucket")
	}
	time.Sleep(220 * time.Millisecond)
	if ok, _, _ := l.Take(ctx, "acct"); !ok {
		t.Fatal("refilled after 0.2 s")
	}
}

type fakeStore struct{ name string }

func (f *fakeStore) TakeRateToken(_ context.Context, name string, rate float64, burst int, _ time.Time) (bool, time.Duration, error) {
	f.name = name
	return rate == 10 && burst == 20, 0, nil
}

func TestShared(t *testing.T) {
	st := &fakeStore{}
	if ok, _, _ := NewShared(DefaultConfig(), st).Take(context.Background(), "123456789012"); !ok || st.name != "control-plane/123456789012" {
		t.Fatalf("shared: %v %q", ok, st.name)
	}
}
