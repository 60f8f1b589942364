package sessions

import (
	"context"
	"fmt"
	"hash/maphash"
	"strconv"
	"sync"
	"time"
)

// shardCount splits the memory store so that writers to different sessions
// rarely wait on the same mutex.
const shardCount = 64

// sweepMin is the least number of writes to a shard between two sweeps of its
// expired entries. A shard is swept again after max(sweepMin, the size it had
// after the last sweep) writes, so sweeping costs O(1) per write amortised and
// a shard holds at most its live entries plus that many.
const sweepMin = 256

// Memory is a Store held in process memory, for the embedded default and for
// tests. It is safe for concurrent use. Nothing runs in the background: expiry
// is checked on read and expired entries are swept as writes go by.
//
// Stored slices are never modified in place (every write replaces the slice),
// so a read can take the slice under the lock and copy it outside.
type Memory struct {
	clock  func() time.Time
	seed   maphash.Seed
	shards [shardCount]shard
}

type shard struct {
	mu      sync.Mutex
	entries map[string]entry
	seq     uint64 // last version given out; never reused, so a deleted and re-created key looks changed
	writes  int    // writes since the last sweep
	next    int    // writes that trigger the next sweep; 0 means sweepMin
}

type entry struct {
	val     []byte
	expires time.Time
	version uint64
}

// NewMemory returns an empty memory store reading time from clock (time.Now
// when nil).
func NewMemory(clock func() time.Time) *Memory {
	if clock == nil {
		clock = time.Now
	}
	m := &Memory{clock: clock, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].entries = make(map[string]entry)
	}
	return m
}

// Get returns a copy of key's value, or ErrNotFound when absent or expired.
func (m *Memory) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sessions: memory get: %w", err)
	}
	val, _, ok := m.shard(key).load(key, m.clock())
	if !ok {
		return nil, ErrNotFound
	}
	return clone(val), nil
}

// Set stores a copy of val under key for ttl.
func (m *Memory) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessions: memory set: %w", err)
	}
	stored := clone(val)
	if stored == nil {
		stored = []byte{} // as in Redis, setting nil stores an empty value
	}
	now := m.clock()
	s := m.shard(key)
	s.mu.Lock()
	s.put(key, stored, now.Add(ttl), now)
	s.mu.Unlock()
	return nil
}

// Delete removes key; an absent key is not an error.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessions: memory delete: %w", err)
	}
	s := m.shard(key)
	s.mu.Lock()
	delete(s.entries, key)
	s.mu.Unlock()
	return nil
}

// Update reads key, calls fn with a copy of its value (nil when absent) while
// holding no lock, and commits fn's result only if the key's version has not
// changed since the read; otherwise it calls fn again with the new value.
// See Store.Update.
func (m *Memory) Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) ([]byte, error) {
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	s := m.shard(key)
	for attempt := range maxAttempts {
		if err := backoff(ctx, attempt); err != nil {
			return nil, fmt.Errorf("sessions: memory update: %w", err)
		}
		old, version, _ := s.load(key, m.clock())
		val, err := fn(clone(old))
		if err != nil {
			return nil, err
		}
		if s.commit(key, version, clone(val), ttl, m.clock) {
			return val, nil
		}
	}
	return nil, ErrConflict
}

// Add adds n to the integer under key (absent: 0) and returns its new
// value; a key made by Add lives ttl from then, adding does not prolong
// it (as Redis.Add).
func (m *Memory) Add(ctx context.Context, key string, n int64, ttl time.Duration) (int64, error) {
	if err := checkTTL(ttl); err != nil {
		return 0, err
	}
	s := m.shard(key)
	now := m.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.live(key, now)
	v := n
	expires := now.Add(ttl)
	if ok {
		old, _ := strconv.ParseInt(string(e.val), 10, 64)
		v += old
		expires = e.expires
	}
	s.put(key, []byte(strconv.FormatInt(v, 10)), expires, now)
	return v, nil
}

// Ping always succeeds: the store is in the process.
func (m *Memory) Ping(ctx context.Context) error { return nil }

func (m *Memory) shard(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)%shardCount]
}

// load returns the stored slice (not a copy: callers copy it) and version of
// key; version 0 and ok false when the key is absent or expired.
func (s *shard) load(key string, now time.Time) (val []byte, version uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.live(key, now)
	if !ok {
		return nil, 0, false
	}
	return e.val, e.version, true
}

// commit stores val (nil deletes) under key if key's version is still
// version (0 meaning absent or expired), and reports whether it did. The
// expiry is computed once the lock is held, from the commit time.
func (s *shard) commit(key string, version uint64, val []byte, ttl time.Duration, clock func() time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := clock()
	cur, _ := s.live(key, now)
	if cur.version != version {
		return false
	}
	if val == nil {
		delete(s.entries, key)
		return true
	}
	s.put(key, val, now.Add(ttl), now)
	return true
}

// live returns key's entry if it exists and has not expired, dropping it when
// it has. s.mu must be held.
func (s *shard) live(key string, now time.Time) (entry, bool) {
	e, ok := s.entries[key]
	if !ok {
		return entry{}, false
	}
	if !now.Before(e.expires) {
		delete(s.entries, key)
		return entry{}, false
	}
	return e, true
}

// put stores val under key with a new version and sweeps the shard when
// enough writes have gone by. s.mu must be held.
func (s *shard) put(key string, val []byte, expires, now time.Time) {
	s.seq++
	s.entries[key] = entry{val: val, expires: expires, version: s.seq}
	s.writes++
	if s.writes >= max(sweepMin, s.next) {
		s.sweep(now)
	}
}

// sweep drops the shard's expired entries. s.mu must be held.
func (s *shard) sweep(now time.Time) {
	for k, e := range s.entries {
		if !now.Before(e.expires) {
			delete(s.entries, k)
		}
	}
	s.writes = 0
	s.next = len(s.entries)
}
