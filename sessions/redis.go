package sessions

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed update.lua
var updateLua string

//go:embed add.lua
var addLua string

// addScript is the counter behind Redis.Add.
var addScript = redis.NewScript(addLua)

// updateScript is the compare-and-set behind Redis.Update, sent with EVALSHA
// (go-redis falls back to EVAL once if Redis does not know it yet).
var updateScript = redis.NewScript(updateLua)

// Redis is a Store on Redis or Redis Cluster. Each session is one string key,
// prefix+key, with a PX expiry and nothing else beside it; every command and
// script touches a single key, so keys may live on any cluster slot.
type Redis struct {
	client redis.UniversalClient
	prefix string
	// written remembers what this process last wrote under each key, so
	// that Update can skip its GET: a caller's next hop usually comes back
	// to the same gateway. When another process wrote since, the
	// compare-and-set fails and answers the current value: a stale entry
	// costs one retry, never a lost update.
	written *recent
}

// NewRedis returns a store keeping its keys in client under prefix (for
// example "guichet:session:"). The caller owns client and closes it.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix, written: newRecent()}
}

// Get returns key's value, or ErrNotFound when absent or expired.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	val, found, err := r.get(ctx, r.prefix+key)
	if err != nil {
		return nil, fmt.Errorf("sessions: redis get: %w", err)
	}
	if !found {
		return nil, ErrNotFound
	}
	return val, nil
}

// Set stores val under key for ttl (SET PX).
func (r *Redis) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	if err := r.client.Set(ctx, r.prefix+key, val, pxTTL(ttl)).Err(); err != nil {
		r.written.forget(r.prefix + key)
		return fmt.Errorf("sessions: redis set: %w", err)
	}
	r.written.remember(r.prefix+key, clone(val), time.Now().Add(ttl))
	return nil
}

// Delete removes key; an absent key is not an error.
func (r *Redis) Delete(ctx context.Context, key string) error {
	r.written.forget(r.prefix + key)
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("sessions: redis delete: %w", err)
	}
	return nil
}

// Update costs two round trips when uncontended: a GET, then the
// compare-and-set script, which writes only if the key still holds what the
// GET returned (or is still absent). On a mismatch the script answers the
// current value, so the first retry costs one round trip; later retries wait
// (see backoff) and GET again. See Store.Update.
func (r *Redis) Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) ([]byte, error) {
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	k := r.prefix + key
	ms := pxTTL(ttl).Milliseconds()
	var (
		old   []byte
		found bool
		fresh bool // old and found come from the script's reply to the last attempt
	)
	if v, ok := r.written.lookup(k, time.Now()); ok {
		old, found, fresh = v, true, true
	}
	for attempt := range maxAttempts {
		if err := backoff(ctx, attempt); err != nil {
			return nil, fmt.Errorf("sessions: redis update: %w", err)
		}
		if !fresh || sleeps(attempt) {
			// A value read before sleeping would be stale: read again.
			var err error
			if old, found, err = r.get(ctx, k); err != nil {
				return nil, fmt.Errorf("sessions: redis update: get: %w", err)
			}
		}
		val, err := fn(clone(old)) // old itself goes to the script: fn may scribble on its copy
		if err != nil {
			return nil, err
		}
		expect, set := "0", "0"
		if found {
			expect = "1"
		}
		if val != nil {
			set = "1"
		}
		res, err := updateScript.Run(ctx, r.client, []string{k}, expect, old, set, val, ms).Result()
		if err != nil {
			r.written.forget(k)
			return nil, fmt.Errorf("sessions: redis update: compare-and-set: %w", err)
		}
		written, cur, exists, err := casResult(res)
		if err != nil {
			r.written.forget(k)
			return nil, fmt.Errorf("sessions: redis update: compare-and-set: %w", err)
		}
		if written {
			if val == nil {
				r.written.forget(k)
			} else {
				r.written.remember(k, clone(val), time.Now().Add(ttl))
			}
			return val, nil
		}
		old, found, fresh = cur, exists, true
	}
	return nil, ErrConflict
}

// Add adds n to the integer under key (absent: 0) and returns its new
// value, in one round trip whoever else adds at once (INCRBY): the
// counters many requests bump together (a key's requests of the second,
// its messages of the day), where Update's compare-and-set would retry. A
// key made by Add lives ttl from then; adding does not prolong it.
func (r *Redis) Add(ctx context.Context, key string, n int64, ttl time.Duration) (int64, error) {
	if err := checkTTL(ttl); err != nil {
		return 0, err
	}
	k := r.prefix + key
	r.written.forget(k)
	v, err := addScript.Run(ctx, r.client, []string{k}, n, pxTTL(ttl).Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("sessions: redis add: %w", err)
	}
	return v, nil
}

// casResult decodes the reply of updateScript: whether it wrote and, when it
// did not, the key's current value and whether the key exists.
func casResult(res any) (written bool, cur []byte, exists bool, err error) {
	switch v := res.(type) {
	case int64:
		if v == 1 {
			return true, nil, false, nil
		}
	case []any:
		if len(v) == 0 {
			return false, nil, false, nil
		}
		if s, ok := v[0].(string); ok && len(v) == 1 {
			return false, []byte(s), true, nil
		}
	}
	return false, nil, false, fmt.Errorf("unexpected reply %#v", res)
}

// Ping sends PING.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("sessions: redis ping: %w", err)
	}
	return nil
}

// get returns a copy of k's value (a non-nil slice, even when empty) and
// whether k exists. The copy is the caller's: go-redis's Bytes would alias
// the reply's string.
func (r *Redis) get(ctx context.Context, k string) ([]byte, bool, error) {
	cmd := r.client.Get(ctx, k)
	if err := cmd.Err(); errors.Is(err, redis.Nil) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	return []byte(cmd.Val()), true, nil
}

// pxTTL rounds ttl up to Redis's resolution of one millisecond.
func pxTTL(ttl time.Duration) time.Duration {
	return (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
}
