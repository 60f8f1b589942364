package sessions

import (
	"hash/maphash"
	"sync"
	"time"
)

// recent is a bounded, sharded map of the values a process last wrote, with
// their expiry. When a shard fills up it is emptied whole: an entry lost is
// one GET more, so crude eviction is good enough and costs nothing per hit.
type recent struct {
	seed   maphash.Seed
	shards [64]recentShard
}

type recentShard struct {
	mu sync.Mutex
	m  map[string]recentEntry
}

type recentEntry struct {
	val     []byte
	expires time.Time
}

// recentPerShard bounds the entries of one shard (64 × 4096 keys in all).
const recentPerShard = 4096

func newRecent() *recent {
	r := &recent{seed: maphash.MakeSeed()}
	for i := range r.shards {
		r.shards[i].m = map[string]recentEntry{}
	}
	return r
}

func (r *recent) shard(k string) *recentShard {
	return &r.shards[maphash.String(r.seed, k)%uint64(len(r.shards))]
}

// lookup returns what was last written under k, if it has not expired; the
// caller must not change it.
func (r *recent) lookup(k string, now time.Time) ([]byte, bool) {
	s := r.shard(k)
	s.mu.Lock()
	e, ok := s.m[k]
	s.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.val, true
}

// remember keeps val, which the caller must not change afterwards.
func (r *recent) remember(k string, val []byte, expires time.Time) {
	s := r.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= recentPerShard {
		s.m = make(map[string]recentEntry, recentPerShard)
	}
	s.m[k] = recentEntry{val: val, expires: expires}
}

func (r *recent) forget(k string) {
	s := r.shard(k)
	s.mu.Lock()
	delete(s.m, k)
	s.mu.Unlock()
}
