// Package apikeytest holds the contract that every store of API keys
// keeps: run it from each implementation's tests with Run.
package apikeytest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/apikey"
)

// Store is what the gateway does with API keys.
type Store interface {
	AddAPIKey(ctx context.Context, k apikey.Key, hash []byte) error
	APIKey(ctx context.Context, hash []byte) (apikey.Key, error)
	APIKeyByID(ctx context.Context, id string) (apikey.Key, error)
	APIKeys(ctx context.Context) ([]apikey.Key, error)
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// Run runs the contract on a fresh store.
func Run(t *testing.T, keys Store) {
	ctx := t.Context()
	day := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	civil := sha256.Sum256([]byte("civil-status key"))
	wouri := sha256.Sum256([]byte("wouri key"))
	noErr(t, keys.AddAPIKey(ctx, apikey.Key{Owner: "civil-status", Label: "registry desk", Created: day, Expires: day.AddDate(0, 6, 0)}, civil[:]))
	noErr(t, keys.AddAPIKey(ctx, apikey.Key{Owner: "wouri", Created: day.Add(time.Hour)}, wouri[:]))
	k, err := keys.APIKey(ctx, civil[:])
	want := apikey.Key{ID: apikey.ID(civil[:]), Owner: "civil-status", Label: "registry desk", Created: day, Expires: day.AddDate(0, 6, 0)}
	if err != nil || !same(k, want) {
		t.Errorf("key %+v, %v; want %+v", k, err, want)
	}
	if k, err := keys.APIKey(ctx, wouri[:]); err != nil || k.Owner != "wouri" || !k.Expires.IsZero() {
		t.Errorf("key %+v, %v; want wouri's, never expiring", k, err)
	}
	if k, err := keys.APIKeyByID(ctx, want.ID); err != nil || !same(k, want) {
		t.Errorf("key %s by its id: %+v, %v; want %+v", want.ID, k, err, want)
	}
	_, err = keys.APIKeyByID(ctx, "key_000000000000")
	wantCode(t, err, guichet.ENOTFOUND)
	wantCode(t, keys.AddAPIKey(ctx, apikey.Key{Owner: "wouri", Created: day}, civil[:]), guichet.ECONFLICT)
	unknown := sha256.Sum256([]byte("guessed"))
	_, err = keys.APIKey(ctx, unknown[:])
	wantCode(t, err, guichet.ENOTFOUND)
	wantCode(t, keys.AddAPIKey(ctx, apikey.Key{Owner: "wouri", Created: day}, []byte("raw key")), guichet.EINVALID)
	wantCode(t, keys.AddAPIKey(ctx, apikey.Key{Created: day}, unknown[:]), guichet.EINVALID)
	wantCode(t, keys.AddAPIKey(ctx, apikey.Key{Owner: "wouri", Created: day, Expires: day}, unknown[:]), guichet.EINVALID)

	// Used: recorded, then not again within TouchEvery.
	noErr(t, keys.TouchAPIKey(ctx, want.ID, day.Add(time.Minute)))
	noErr(t, keys.TouchAPIKey(ctx, want.ID, day.Add(time.Minute+apikey.TouchEvery/2)))
	if k, _ := keys.APIKey(ctx, civil[:]); !k.LastUsed.Equal(day.Add(time.Minute)) {
		t.Errorf("last used %v, want %v", k.LastUsed, day.Add(time.Minute))
	}
	noErr(t, keys.TouchAPIKey(ctx, want.ID, day.Add(time.Minute+apikey.TouchEvery)))
	if k, _ := keys.APIKey(ctx, civil[:]); !k.LastUsed.Equal(day.Add(time.Minute + apikey.TouchEvery)) {
		t.Errorf("last used %v after a minute more", k.LastUsed)
	}

	// Revoked for good, the first date kept; still listed.
	noErr(t, keys.RevokeAPIKey(ctx, want.ID, day.Add(2*time.Hour)))
	noErr(t, keys.RevokeAPIKey(ctx, want.ID, day.Add(3*time.Hour)))
	wantCode(t, keys.RevokeAPIKey(ctx, "key_000000000000", day), guichet.ENOTFOUND)
	k, _ = keys.APIKey(ctx, civil[:])
	if !k.Revoked.Equal(day.Add(2 * time.Hour)) {
		t.Errorf("revoked %v, want %v", k.Revoked, day.Add(2*time.Hour))
	}
	wantCode(t, k.Usable(day.Add(4*time.Hour)), guichet.EUNAUTHORIZED)
	all, err := keys.APIKeys(ctx)
	if err != nil || len(all) != 2 || all[0].Owner != "wouri" || all[1].ID != want.ID || all[1].Revoked.IsZero() {
		t.Errorf("keys %+v, %v; want wouri's then the revoked civil-status's", all, err)
	}
}

// same compares keys, times by instant (a store may keep another zone).
func same(a, b apikey.Key) bool {
	return a.ID == b.ID && a.Owner == b.Owner && a.Label == b.Label && a.Created.Equal(b.Created) &&
		a.Expires.Equal(b.Expires) && a.LastUsed.Equal(b.LastUsed) && a.Revoked.Equal(b.Revoked)
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := guichet.ErrorCode(err); got != code {
		t.Errorf("error %v: code %q, want %q", err, got, code)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
