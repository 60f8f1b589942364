package api

import (
	"sync"
	"time"

	"github.com/guichet/guichet/apikey"
)

// keyCache keeps the keys POST /api/v1/messages came with, by hash, each
// for a minute (apikey.TouchEvery): a key's owner and limits do not
// change, and whether it is still in force is asked of the statement that
// writes the messages (Server.CacheKeys).
type keyCache struct {
	mu   sync.Mutex
	keys map[string]cachedKey
}

type cachedKey struct {
	key apikey.Key
	at  time.Time // when it was looked up
}

// maxCachedKeys bounds the cache: emptied whole when full (a key more is a
// lookup more, never a wrong answer).
const maxCachedKeys = 10_000

func (c *keyCache) get(hash []byte, now time.Time) (apikey.Key, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.keys[string(hash)]
	if !ok || now.Sub(e.at) >= apikey.TouchEvery || now.Before(e.at) {
		return apikey.Key{}, false
	}
	return e.key, true
}

func (c *keyCache) put(hash []byte, k apikey.Key, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil || len(c.keys) >= maxCachedKeys {
		c.keys = map[string]cachedKey{}
	}
	c.keys[string(hash)] = cachedKey{k, now}
}

// touched records that the key's use at now was recorded.
func (c *keyCache) touched(hash []byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.keys[string(hash)]; ok {
		e.key.LastUsed = now
		c.keys[string(hash)] = e
	}
}

func (c *keyCache) forget(hash []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.keys, string(hash))
}
