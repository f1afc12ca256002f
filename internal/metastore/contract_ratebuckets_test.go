package metastore_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// contractRateBuckets: a shared token bucket gives burst tokens at once,
// then rate a second, to takers racing as nodes do.
func contractRateBuckets(t *testing.T, open opener) {
	ctx, now := t.Context(), contractNow()
	db := open(t)
	var taken atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				ok, _, err := db.TakeRateToken(ctx, "cp", 10, 20, now)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					taken.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if taken.Load() != 20 {
		t.Fatalf("40 takes at one instant from a burst of 20 took %d", taken.Load())
	}
	ok, wait, err := db.TakeRateToken(ctx, "cp", 10, 20, now)
	if err != nil || ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("empty: %v %s %v", ok, wait, err)
	}
	// 10 a second: after 0.5 s, five more and no sixth.
	n := 0
	for i := 0; i < 10; i++ {
		if ok, _, _ := db.TakeRateToken(ctx, "cp", 10, 20, now.Add(500*time.Millisecond)); ok {
			n++
		}
	}
	if n != 5 {
		t.Fatalf("refill of half a second: %d", n)
	}
	// A clock behind the last take refills nothing; another bucket is apart.
	if ok, _, _ := db.TakeRateToken(ctx, "cp", 10, 20, now); ok {
		t.Fatal("an earlier clock must not refill")
	}
	if ok, _, _ := db.TakeRateToken(ctx, "other", 10, 20, now); !ok {
		t.Fatal("another bucket")
	}
	// A long pause refills to the burst, not beyond.
	n = 0
	for i := 0; i < 30; i++ {
		if ok, _, _ := db.TakeRateToken(ctx, "cp", 10, 20, now.Add(time.Hour)); ok {
			n++
		}
	}
	if n != 20 {
		t.Fatalf("after an hour: %d", n)
	}
}
