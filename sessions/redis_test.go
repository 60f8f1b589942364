package sessions_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/sessions/sessionstest"
)

func TestRedis(t *testing.T) {
	client, prefix := sessionstest.Redis(t) // skips or fails here when Redis is absent
	n := 0
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		n++ // a prefix per subtest; the cleanup of TestRedis deletes them all
		return sessions.NewRedis(client, prefix+strconv.Itoa(n)+":")
	})
}

// TestRedisKeys checks the layout in Redis: one string key, prefix+key, with
// an expiry, and nothing else per session; stores with other prefixes do not
// see each other's keys.
func TestRedisKeys(t *testing.T) {
	ctx := t.Context()
	client, prefix := sessionstest.Redis(t)
	a := sessions.NewRedis(client, prefix+"a:")
	b := sessions.NewRedis(client, prefix+"b:")

	if err := a.Set(ctx, "s1", []byte("from a"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Update(ctx, "s2", 90*time.Second, func([]byte) ([]byte, error) { return []byte("from a"), nil }); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, "s1", []byte("from b"), time.Minute); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		key     string
		val     string
		ttlOver time.Duration
	}{
		{prefix + "a:s1", "from a", 50 * time.Second},
		{prefix + "a:s2", "from a", 80 * time.Second},
		{prefix + "b:s1", "from b", 50 * time.Second},
	}
	for _, tt := range tests {
		if got, err := client.Get(ctx, tt.key).Result(); err != nil || got != tt.val {
			t.Errorf("GET %s = %q, %v; want %q", tt.key, got, err, tt.val)
		}
		if typ := client.Type(ctx, tt.key).Val(); typ != "string" {
			t.Errorf("TYPE %s = %q, want string", tt.key, typ)
		}
		if ttl := client.PTTL(ctx, tt.key).Val(); ttl < tt.ttlOver {
			t.Errorf("PTTL %s = %v, want over %v", tt.key, ttl, tt.ttlOver)
		}
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(tests) {
		t.Errorf("keys under the test prefix: %q, want exactly %d", keys, len(tests))
	}
}

// TestRedisMemory writes 1,000 realistic sessions and checks that each costs
// Redis less than 1 KB.
func TestRedisMemory(t *testing.T) {
	const sessionsN, limit = 1000, 1024
	ctx := t.Context()
	client, prefix := sessionstest.Redis(t)
	s := sessions.NewRedis(client, prefix)

	key := func(i int) string { return "+23767" + fmt.Sprintf("%07d", i) }
	for i := range sessionsN {
		val := sessionstest.Session(i)
		if len(val) < 280 || len(val) > 360 {
			t.Fatalf("sample session is %d bytes, want about 300", len(val))
		}
		if _, err := s.Update(ctx, key(i), 3*time.Minute, func([]byte) ([]byte, error) { return val, nil }); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{0, 1, 499, 998, 999} {
		used, err := client.MemoryUsage(ctx, prefix+key(i)).Result()
		if err != nil {
			t.Fatalf("MEMORY USAGE: %v", err)
		}
		if used >= limit {
			t.Errorf("session %d: MEMORY USAGE %d bytes, want under %d", i, used, limit)
		}
		t.Logf("session %d: %d bytes of value, MEMORY USAGE %d bytes", i, len(sessionstest.Session(i)), used)
	}
}

func BenchmarkRedisUpdate(b *testing.B) {
	ctx := context.Background()
	client, prefix := sessionstest.Redis(b)
	s := sessions.NewRedis(client, prefix)
	val := sessionstest.Session(1)
	fn := func([]byte) ([]byte, error) { return val, nil }

	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Update(ctx, "serial", time.Minute, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel/distinct-keys", func(b *testing.B) {
		var id atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			key := "k" + strconv.FormatInt(id.Add(1), 10)
			for pb.Next() {
				if _, err := s.Update(ctx, key, time.Minute, fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("serial/get+set", func(b *testing.B) { // the floor: two plain round trips
		for b.Loop() {
			if _, err := s.Get(ctx, "serial"); err != nil {
				b.Fatal(err)
			}
			if err := s.Set(ctx, "serial", val, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Two gateways share one Redis: each remembers what it wrote last and skips
// its GET, so each one's memory goes stale whenever the other writes. No
// update may be lost for it.
func TestRedisTwoProcesses(t *testing.T) {
	ctx := t.Context()
	client, prefix := sessionstest.Redis(t)
	a, b := sessions.NewRedis(client, prefix), sessions.NewRedis(client, prefix)
	inc := func(old []byte) ([]byte, error) {
		n, _ := strconv.Atoi(string(old))
		return []byte(strconv.Itoa(n + 1)), nil
	}
	var done atomic.Int64
	errs := make(chan error, 2)
	for _, s := range []*sessions.Redis{a, b} {
		go func() {
			for range 200 {
				if _, err := s.Update(ctx, "counter", time.Minute, inc); err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []*sessions.Redis{a, b} {
		got, err := s.Get(ctx, "counter")
		if err != nil || string(got) != fmt.Sprint(done.Load()) {
			t.Fatalf("counter = %s, %v after %d increments", got, err, done.Load())
		}
	}
	// a deletes behind b's back; b's memory of the key must not resurrect it.
	if err := a.Delete(ctx, "counter"); err != nil {
		t.Fatal(err)
	}
	got, err := b.Update(ctx, "counter", time.Minute, inc)
	if err != nil || string(got) != "1" {
		t.Fatalf("after a delete elsewhere, Update gave %s, %v; want 1", got, err)
	}
}
