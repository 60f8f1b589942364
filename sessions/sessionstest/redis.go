package sessionstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/guichet/guichet/citest"
)

// DefaultRedisURL is the Redis used by tests when REDIS_URL is unset; start it
// with scripts/test-services.sh.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// Redis connects to the test Redis (REDIS_URL, or DefaultRedisURL) and returns
// a client with a key prefix unique to this test, "test:<random hex>:". At
// cleanup it deletes every key under the prefix and closes the client.
//
// When Redis cannot be reached the test is skipped, unless the environment
// says CI=true: then it fails, so that a CI run never passes by skipping.
func Redis(tb testing.TB) (redis.UniversalClient, string) {
	tb.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = DefaultRedisURL
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatalf("sessionstest: parse REDIS_URL: %v", err)
	}
	if err := probe(url, opts); err != nil {
		msg := fmt.Sprintf("sessionstest: no Redis at %s: %v (start it with scripts/test-services.sh, or set REDIS_URL)", opts.Addr, err)
		citest.Missing(tb, msg)
	}
	client := redis.NewClient(opts)

	var b [8]byte
	rand.Read(b[:])
	prefix := "test:" + hex.EncodeToString(b[:]) + ":"
	tb.Cleanup(func() {
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, client, prefix); err != nil {
			tb.Errorf("sessionstest: delete test keys %s*: %v", prefix, err)
		}
	})
	return client, prefix
}

// probes remembers, per URL, whether Redis answered: a test binary dials an
// absent Redis once, not once per test (each try costs go-redis's dial retries).
var probes sync.Map // url -> *probeResult

type probeResult struct {
	once sync.Once
	err  error
}

func probe(url string, opts *redis.Options) error {
	v, _ := probes.LoadOrStore(url, new(probeResult))
	p := v.(*probeResult)
	p.once.Do(func() {
		client := redis.NewClient(opts)
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		p.err = client.Ping(ctx).Err()
	})
	return p.err
}

// deletePrefix deletes every key starting with prefix (which must hold no glob
// characters), a SCAN page at a time.
func deletePrefix(ctx context.Context, client *redis.Client, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := client.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		if len(keys) > 0 {
			if err := client.Unlink(ctx, keys...).Err(); err != nil {
				return fmt.Errorf("unlink: %w", err)
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
