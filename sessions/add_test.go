package sessions_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/sessions/sessionstest"
)

type adder interface {
	Add(ctx context.Context, key string, n int64, ttl time.Duration) (int64, error)
	Get(ctx context.Context, key string) ([]byte, error)
}

// Add counts what many add at once, none lost and none retried; a
// counter lives its ttl from its first add, not prolonged by the next.
func testAdd(t *testing.T, s adder, wait func(time.Duration)) {
	ctx := t.Context()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := s.Add(ctx, "count", 2, time.Minute); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if v, err := s.Add(ctx, "count", -1, time.Minute); err != nil || v != 99 {
		t.Errorf("after 50 adds of 2 and one of -1: %d, %v; want 99", v, err)
	}
	if _, err := s.Add(ctx, "short", 1, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	wait(200 * time.Millisecond)
	if v, err := s.Add(ctx, "short", 1, 300*time.Millisecond); err != nil || v != 2 {
		t.Errorf("second add: %d, %v; want 2", v, err)
	}
	wait(150 * time.Millisecond)
	if _, err := s.Get(ctx, "short"); err != sessions.ErrNotFound {
		t.Errorf("350 ms after its first add, the 300 ms counter: %v; want it gone", err)
	}
	if v, err := s.Add(ctx, "short", 1, time.Minute); err != nil || v != 1 {
		t.Errorf("a counter again: %d, %v; want 1", v, err)
	}
}

func TestMemoryAdd(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	m := sessions.NewMemory(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	testAdd(t, m, func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() })
}

func TestRedisAdd(t *testing.T) {
	client, prefix := sessionstest.Redis(t)
	testAdd(t, sessions.NewRedis(client, prefix), time.Sleep)
}
