// Package apikey provides the administrations' API keys: making one,
// hashing it (only its SHA-256 is ever stored) and a store in memory for
// the embedded default; package postgres keeps them in PostgreSQL. Both
// pass the contract suite of apikeytest.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"

	"github.com/guichet/guichet"
)

// New returns a fresh API key: 32 random bytes, URL-safe, prefixed gk_.
func New() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "gk_" + base64.RawURLEncoding.EncodeToString(b)
}

// Hash is how API keys are stored: their SHA-256, never the key.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// Check checks what AddAPIKey is given: an owner, and a SHA-256 hash.
func Check(owner string, hash []byte) error {
	if owner == "" {
		return guichet.Errorf(guichet.EINVALID, "api key without an owner")
	}
	if len(hash) != sha256.Size {
		return guichet.Errorf(guichet.EINVALID, "api key hash is not SHA-256")
	}
	return nil
}

// Memory keeps API keys in memory; it is safe for concurrent use.
type Memory struct {
	mu   sync.Mutex
	keys map[string]string // hash → owner
}

// AddAPIKey records an API key of owner, the administration it acts for,
// by its SHA-256 hash. ECONFLICT if the hash is already recorded.
func (m *Memory) AddAPIKey(ctx context.Context, owner, _ string, hash []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := Check(owner, hash); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[string(hash)]; ok {
		return guichet.Errorf(guichet.ECONFLICT, "api key exists")
	}
	if m.keys == nil {
		m.keys = map[string]string{}
	}
	m.keys[string(hash)] = owner
	return nil
}

// APIKeyOwner returns the owner of the API key whose SHA-256 hash is hash:
// ENOTFOUND if there is none.
func (m *Memory) APIKeyOwner(ctx context.Context, hash []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	owner, ok := m.keys[string(hash)]
	if !ok {
		return "", guichet.Errorf(guichet.ENOTFOUND, "api key not found")
	}
	return owner, nil
}
