package flood_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/flood"
	"github.com/guichet/guichet/sessions"
)

// Counts go up within a window, per key, and start again in the next one;
// concurrent adds are all counted (the store's Update is atomic).
func TestCounter(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := &flood.Counter{Store: sessions.NewMemory(clock), Now: clock}
	ctx := context.Background()
	for want := 1; want <= 3; want++ {
		if n, err := c.Add(ctx, "cases:+237677000001", time.Hour); err != nil || n != want {
			t.Fatalf("add %d: %d, %v", want, n, err)
		}
	}
	if n, _ := c.Add(ctx, "cases:+237677000002", time.Hour); n != 1 {
		t.Errorf("another number: %d, want 1", n)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Add(ctx, "bookings:+237677000001", time.Hour); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, _ := c.Add(ctx, "bookings:+237677000001", time.Hour); n != 21 {
		t.Errorf("after 20 at once: %d, want 21", n)
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if n, _ := c.Add(ctx, "cases:+237677000001", time.Hour); n != 1 {
		t.Errorf("the next hour: %d, want 1", n)
	}
	if _, err := c.Add(ctx, "x", 0); err == nil {
		t.Error("a window of 0 was accepted")
	}
}
