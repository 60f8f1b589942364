// Package apikey provides the administrations' API keys: making one,
// hashing it (only its SHA-256 is ever stored), what the gateway keeps of
// it (Key: its owner, when it expires, when it was last used, whether it
// was revoked) and a store in memory for the embedded default; package
// postgres keeps them in PostgreSQL. Both pass the contract suite of
// apikeytest.
package apikey

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"sync"
	"time"

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

// ID names a key by its hash, for people (lists, revoking, logs): it tells
// nothing of the key itself.
func ID(hash []byte) string {
	return "key_" + hex.EncodeToString(hash[:min(len(hash), 6)])
}

// Key is what the gateway keeps of an API key.
type Key struct {
	ID       string    `json:"id"`    // ID of its hash
	Owner    string    `json:"owner"` // the administration it acts for
	Label    string    `json:"label,omitempty"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`   // zero: never
	LastUsed time.Time `json:"last_used,omitzero"` // zero: never used; kept to the minute
	Revoked  time.Time `json:"revoked,omitzero"`   // zero: in force
	// CallbackURL, if set, is where the final state of each message the
	// key sends is POSTed (package webhook).
	CallbackURL string `json:"callback_url,omitempty"`
	// PerDay bounds the messages it may send a day (in Cameroon's time),
	// PerSecond its requests a second; 0: DefaultPerDay, DefaultPerSecond.
	PerDay    int     `json:"per_day,omitempty"`
	PerSecond float64 `json:"per_second,omitempty"`
}

// Defaults of a key's limits.
const (
	DefaultPerDay    = 100_000
	DefaultPerSecond = 20
)

// Limits returns the key's limits, defaults filled in.
func (k Key) Limits() (perDay int, perSecond float64) {
	perDay, perSecond = k.PerDay, k.PerSecond
	if perDay <= 0 {
		perDay = DefaultPerDay
	}
	if perSecond <= 0 {
		perSecond = DefaultPerSecond
	}
	return perDay, perSecond
}

// Usable says why a key may not be used at now: revoked or expired, an
// EUNAUTHORIZED *guichet.Error; nil if it may.
func (k Key) Usable(now time.Time) error {
	switch {
	case !k.Revoked.IsZero():
		return guichet.Errorf(guichet.EUNAUTHORIZED, "this API key was revoked on %s", k.Revoked.UTC().Format(time.DateOnly))
	case !k.Expires.IsZero() && !now.Before(k.Expires):
		return guichet.Errorf(guichet.EUNAUTHORIZED, "this API key expired on %s", k.Expires.UTC().Format(time.DateOnly))
	}
	return nil
}

// TouchEvery is how stale LastUsed may get: a key used all day is written
// once a minute, not at every request.
const TouchEvery = time.Minute

// Check checks a key about to be added and its hash: an owner, a SHA-256
// hash, an expiry after its creation.
func Check(k Key, hash []byte) error {
	switch {
	case k.Owner == "":
		return guichet.Errorf(guichet.EINVALID, "api key without an owner")
	case len(hash) != sha256.Size:
		return guichet.Errorf(guichet.EINVALID, "api key hash is not SHA-256")
	case !k.Expires.IsZero() && !k.Expires.After(k.Created):
		return guichet.Errorf(guichet.EINVALID, "api key expiring before it is made")
	case k.PerDay < 0 || k.PerSecond < 0:
		return guichet.Errorf(guichet.EINVALID, "api key limits must not be negative")
	}
	return nil
}

// Memory keeps API keys in memory; it is safe for concurrent use.
type Memory struct {
	mu   sync.Mutex
	keys map[string]*Key // by hash
}

// AddAPIKey records k by its key's SHA-256 hash; its ID comes from the hash.
// ECONFLICT if the hash is already recorded.
func (m *Memory) AddAPIKey(ctx context.Context, k Key, hash []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := Check(k, hash); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[string(hash)]; ok {
		return guichet.Errorf(guichet.ECONFLICT, "api key exists")
	}
	if m.keys == nil {
		m.keys = map[string]*Key{}
	}
	k.ID, k.LastUsed, k.Revoked = ID(hash), time.Time{}, time.Time{}
	m.keys[string(hash)] = &k
	return nil
}

// APIKey returns the key whose SHA-256 hash is hash, usable or not:
// ENOTFOUND if there is none.
func (m *Memory) APIKey(ctx context.Context, hash []byte) (Key, error) {
	if err := ctx.Err(); err != nil {
		return Key{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[string(hash)]
	if !ok {
		return Key{}, guichet.Errorf(guichet.ENOTFOUND, "api key not found")
	}
	return *k, nil
}

// APIKeyByID returns the key named id (ID of its hash), usable or not:
// ENOTFOUND if there is none. What the gateway charges to a key outside
// a request (its campaigns) asks it by id, not on the requests' path.
func (m *Memory) APIKeyByID(ctx context.Context, id string) (Key, error) {
	if err := ctx.Err(); err != nil {
		return Key{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.ID == id {
			return *k, nil
		}
	}
	return Key{}, guichet.Errorf(guichet.ENOTFOUND, "no api key %s", id)
}

// APIKeys returns every key, the newest first.
func (m *Memory) APIKeys(ctx context.Context) ([]Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Key, 0, len(m.keys))
	for _, k := range m.keys {
		out = append(out, *k)
	}
	slices.SortFunc(out, func(a, b Key) int { return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// RevokeAPIKey revokes the key named id at at, for good: ENOTFOUND if there
// is none; revoking it again keeps the first date.
func (m *Memory) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.ID == id {
			if k.Revoked.IsZero() {
				k.Revoked = at
			}
			return nil
		}
	}
	return guichet.Errorf(guichet.ENOTFOUND, "no api key %s", id)
}

// SetCallback gives the key named id a callback URL and its secret; an
// empty url removes it. ENOTFOUND if there is no such key.
func (m *Memory) SetCallback(ctx context.Context, id, url, secret string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.ID == id {
			k.CallbackURL = url
			return nil
		}
	}
	return guichet.Errorf(guichet.ENOTFOUND, "no api key %s", id)
}

// TouchAPIKey records that the key named id was used at at, if its last
// use is older than TouchEvery.
func (m *Memory) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.ID == id && at.Sub(k.LastUsed) >= TouchEvery {
			k.LastUsed = at
		}
	}
	return nil
}
