// Package apikeytest holds the contract that every store of API keys
// keeps: run it from each implementation's tests with Run.
package apikeytest

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/guichet/guichet"
)

// Store is what the gateway does with API keys.
type Store interface {
	AddAPIKey(ctx context.Context, owner, label string, hash []byte) error
	APIKeyOwner(ctx context.Context, hash []byte) (string, error)
}

// Run runs the contract on a fresh store.
func Run(t *testing.T, keys Store) {
	ctx := t.Context()
	civil := sha256.Sum256([]byte("civil-status key"))
	wouri := sha256.Sum256([]byte("wouri key"))
	noErr(t, keys.AddAPIKey(ctx, "civil-status", "registry desk", civil[:]))
	noErr(t, keys.AddAPIKey(ctx, "wouri", "", wouri[:]))
	if owner, err := keys.APIKeyOwner(ctx, civil[:]); err != nil || owner != "civil-status" {
		t.Errorf("owner %q, %v; want civil-status", owner, err)
	}
	if owner, err := keys.APIKeyOwner(ctx, wouri[:]); err != nil || owner != "wouri" {
		t.Errorf("owner %q, %v; want wouri", owner, err)
	}
	wantCode(t, keys.AddAPIKey(ctx, "wouri", "again", civil[:]), guichet.ECONFLICT)
	unknown := sha256.Sum256([]byte("guessed"))
	_, err := keys.APIKeyOwner(ctx, unknown[:])
	wantCode(t, err, guichet.ENOTFOUND)
	wantCode(t, keys.AddAPIKey(ctx, "wouri", "", []byte("raw key")), guichet.EINVALID)
	wantCode(t, keys.AddAPIKey(ctx, "", "", unknown[:]), guichet.EINVALID)
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
