// Package sessions keeps USSD session state: opaque bytes (the engine's JSON
// session) under a key, with a time to live. It knows nothing of what a session
// holds; the engine serialises it and decides when to store it.
//
// Two stores implement [Store] and pass the same contract suite
// (package sessionstest):
//
//   - [Memory], for the embedded default and tests: sharded maps, expiry
//     checked on read, expired entries swept as writes go by.
//   - [Redis], for production and for several gateway instances sharing state:
//     one string key per session (prefix + key) with a PX expiry, single-key
//     commands only so it works on Redis Cluster.
//
// Update is an optimistic read-modify-write: the store reads the value, calls
// fn without holding any lock, and commits only if nobody wrote the key in the
// meantime; otherwise fn is called again with the new value. fn may therefore
// run more than once and must not have side effects that cannot be repeated.
package sessions

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrNotFound is returned by Get when the key is absent or has expired.
var ErrNotFound = errors.New("sessions: not found")

// ErrConflict is returned by Update when other writers kept changing the key
// and the update could not commit within its bounded number of attempts.
var ErrConflict = errors.New("sessions: too many concurrent updates")

// Store keeps opaque bytes (a JSON session) under a key with a TTL.
//
// Values are copied in and out: a caller may reuse or modify a slice it passed
// to Set or received from Get or Update. A ttl must be positive.
type Store interface {
	// Get returns the value of key, or ErrNotFound when it is absent or expired.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores val under key for ttl.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// Delete removes key; an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// Update reads key (nil when absent), calls fn, and stores fn's result with ttl, atomically:
	// if another writer changed the key between the read and the write, fn is called again with
	// the new value (bounded retries, then ErrConflict). If fn returns an error, nothing is written
	// and Update returns that error (wrapped or as is, errors.Is must work). If fn returns nil bytes
	// and nil error, the key is deleted. Returns the bytes written.
	Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) ([]byte, error)
	// Ping checks that the store can be reached.
	Ping(ctx context.Context) error
}

var (
	_ Store = (*Memory)(nil)
	_ Store = (*Redis)(nil)
)

// Retry policy shared by both stores' Update. A session key has one user
// behind it, so real contention is a couple of writers and the first retry
// (immediate) nearly always commits. The jittered backoff after that is for
// pile-ups: with 20 writers hammering one Redis key (the contract's race
// test, under -race on 2 CPUs) no Update needed more than ~40 attempts. A
// key that never stops changing gives ErrConflict after about half a second.
const (
	maxAttempts = 100
	minBackoff  = 50 * time.Microsecond
	maxBackoff  = 10 * time.Millisecond
)

// checkTTL rejects a ttl a session store cannot honour: sessions always expire.
func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("sessions: ttl must be positive, got %v", ttl)
	}
	return nil
}

// backoff waits before attempt (counted from 0) of an Update retry loop: not
// at all before the first two attempts, then a random delay whose bound
// doubles up to maxBackoff. It returns ctx's error if ctx ends first.
func backoff(ctx context.Context, attempt int) error {
	if !sleeps(attempt) {
		return ctx.Err()
	}
	bound := min(minBackoff<<min(attempt-2, 16), maxBackoff)
	t := time.NewTimer(rand.N(bound) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sleeps reports whether backoff waits before attempt.
func sleeps(attempt int) bool { return attempt >= 2 }

// clone returns a copy of b that shares no memory with it, preserving nil.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
