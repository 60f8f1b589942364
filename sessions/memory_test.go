package sessions_test

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/sessions/sessionstest"
)

func TestMemory(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store { return sessions.NewMemory(nil) })
}

// clock is a settable clock for NewMemory.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 11, 28, 14, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryExpiry(t *testing.T) {
	tests := []struct {
		after   time.Duration
		present bool
	}{
		{0, true},
		{9*time.Second + 999*time.Millisecond, true},
		{10 * time.Second, false},
		{time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.after.String(), func(t *testing.T) {
			c := newClock()
			m := sessions.NewMemory(c.Now)
			if err := m.Set(t.Context(), "k", []byte("v"), 10*time.Second); err != nil {
				t.Fatal(err)
			}
			c.Advance(tt.after)
			_, err := m.Get(t.Context(), "k")
			if present := err == nil; present != tt.present || (err != nil && !errors.Is(err, sessions.ErrNotFound)) {
				t.Errorf("Get after %v: %v, want present=%v", tt.after, err, tt.present)
			}
		})
	}
}

// TestMemoryExpiresDuringUpdate checks that an entry expiring while fn runs
// counts as a change, as in Redis: fn is called again with nil.
func TestMemoryExpiresDuringUpdate(t *testing.T) {
	c := newClock()
	m := sessions.NewMemory(c.Now)
	if err := m.Set(t.Context(), "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	var olds []string
	got, err := m.Update(t.Context(), "k", time.Minute, func(old []byte) ([]byte, error) {
		if old == nil {
			olds = append(olds, "<nil>")
		} else {
			olds = append(olds, string(old))
		}
		c.Advance(time.Second)
		return []byte("new"), nil
	})
	if err != nil || string(got) != "new" {
		t.Fatalf("Update = %q, %v; want new", got, err)
	}
	if len(olds) != 2 || olds[0] != "v" || olds[1] != "<nil>" {
		t.Errorf("fn got %q, want [v <nil>]", olds)
	}
	// The ttl runs from the commit: the key lives a minute after it.
	c.Advance(time.Minute - time.Millisecond)
	if v, err := m.Get(t.Context(), "k"); err != nil || string(v) != "new" {
		t.Errorf("Get = %q, %v; want new", v, err)
	}
}

// TestMemorySweep checks that expired entries nobody reads again do not pile
// up: with a new batch of sessions every round and the old ones expired, the
// store stays bounded instead of holding every key ever written.
func TestMemorySweep(t *testing.T) {
	const rounds, batch = 100, 1000
	c := newClock()
	m := sessions.NewMemory(c.Now)
	for r := range rounds {
		for i := range batch {
			key := strconv.Itoa(r) + ":" + strconv.Itoa(i)
			if err := m.Set(t.Context(), key, []byte("v"), time.Second); err != nil {
				t.Fatal(err)
			}
		}
		c.Advance(2 * time.Second)
	}
	// Each shard holds at most its live entries plus max(SweepMin, the live
	// entries it had after its last sweep); only the last batch is live.
	bound := sessions.ShardCount*sessions.SweepMin + 2*batch
	if n := sessions.MemorySize(m); n > bound {
		t.Errorf("%d entries held after writing %d, want at most %d", n, rounds*batch, bound)
	} else {
		t.Logf("%d entries held after writing %d (bound %d)", n, rounds*batch, bound)
	}
}

func BenchmarkMemoryUpdate(b *testing.B) {
	ctx := b.Context()
	fn := func(old []byte) ([]byte, error) {
		if old == nil {
			return sessionstest.Session(1), nil
		}
		return old, nil
	}
	b.Run("serial", func(b *testing.B) {
		m := sessions.NewMemory(nil)
		for b.Loop() {
			if _, err := m.Update(ctx, "k", time.Minute, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel/distinct-keys", func(b *testing.B) {
		m := sessions.NewMemory(nil)
		var id atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			key := "k" + strconv.FormatInt(id.Add(1), 10)
			for pb.Next() {
				if _, err := m.Update(ctx, key, time.Minute, fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("parallel/one-key", func(b *testing.B) {
		m := sessions.NewMemory(nil)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := m.Update(ctx, "k", time.Minute, fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
