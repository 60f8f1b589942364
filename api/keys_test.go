package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/api"
	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/notify"
)

// countedKeys counts the lookups of its keys.
type countedKeys struct {
	*apikey.Memory
	lookups atomic.Int64
}

func (k *countedKeys) APIKey(ctx context.Context, hash []byte) (apikey.Key, error) {
	k.lookups.Add(1)
	return k.Memory.APIKey(ctx, hash)
}

// checkingNotifier refuses, as PostgreSQL's store does, the sends of a
// key no longer in force.
type checkingNotifier struct {
	notifier
	keys *apikey.Memory
	hash []byte
}

func (n *checkingNotifier) Send(ctx context.Context, owner, keyID, idem string, r notify.Request) (notify.Answer, []byte, error) {
	if k, err := n.keys.APIKey(ctx, n.hash); err != nil || k.Usable(time.Now()) != nil {
		return notify.Answer{}, nil, guichet.Errorf(guichet.EUNAUTHORIZED, "this API key is no longer in force")
	}
	return n.notifier.Send(ctx, owner, keyID, idem, r)
}

// With CacheKeys, POST /api/v1/messages looks its key up once a minute,
// other routes at every request; a key revoked meanwhile is refused by
// the send itself, answered 401 as revoked, and forgotten.
func TestKeyCache(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	keys := &countedKeys{Memory: &apikey.Memory{}}
	if err := keys.AddAPIKey(t.Context(), apikey.Key{Owner: "civil-status", Created: now.Add(-time.Hour), PerSecond: 100}, apikey.Hash("k")); err != nil {
		t.Fatal(err)
	}
	n := &checkingNotifier{keys: keys.Memory, hash: apikey.Hash("k")}
	srv := &api.Server{Catalogue: cat, Keys: keys, Notify: n, CacheKeys: true, Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r := chi.NewRouter()
	srv.Routes(r)
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	send := func() *httptest.ResponseRecorder {
		return do("POST", "/api/v1/messages", `{"to": "677100001", "text": {"fr": "Bonjour"}}`)
	}
	for range 3 {
		if w := send(); w.Code != http.StatusAccepted {
			t.Fatalf("send: %d %s", w.Code, w.Body)
		}
	}
	if got := keys.lookups.Load(); got != 1 {
		t.Errorf("3 sends looked the key up %d times, want 1", got)
	}
	for range 2 {
		if w := do("GET", "/api/v1/callback", ""); w.Code != http.StatusOK {
			t.Fatalf("GET /api/v1/callback: %d %s", w.Code, w.Body)
		}
	}
	if got := keys.lookups.Load(); got != 3 {
		t.Errorf("after 2 GETs, %d lookups, want 3", got)
	}
	now = now.Add(apikey.TouchEvery)
	send()
	if got := keys.lookups.Load(); got != 4 {
		t.Errorf("a minute later, %d lookups, want 4: looked up again", got)
	}
	if err := keys.RevokeAPIKey(t.Context(), apikey.ID(apikey.Hash("k")), now); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if w := send(); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "revoked") {
			t.Errorf("a revoked key's send: %d %s; want 401, revoked", w.Code, w.Body)
		}
	}
	if got := n.sends.Load(); got != 4 {
		t.Errorf("%d sends went through, want 4", got)
	}
	// Cached again, then revoked: a bad request hears 401 too, not 400.
	if err := keys.AddAPIKey(t.Context(), apikey.Key{Owner: "civil-status", Created: now.Add(-time.Hour), PerSecond: 100}, apikey.Hash("k2")); err != nil {
		t.Fatal(err)
	}
	n.hash = apikey.Hash("k2")
	do2 := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/v1/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer k2")
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	if w := do2(`{"to": "677100001", "text": {"fr": "Bonjour"}}`); w.Code != http.StatusAccepted {
		t.Fatalf("k2: %d %s", w.Code, w.Body)
	}
	if w := do2(`{"to": "677100001", "nope": 1}`); w.Code != http.StatusBadRequest {
		t.Errorf("k2 in force, an unknown field: %d %s; want 400", w.Code, w.Body)
	}
	if err := keys.RevokeAPIKey(t.Context(), apikey.ID(apikey.Hash("k2")), now); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{`{"to": `, `{"to": "677100001", "nope": 1}`} {
		if w := do2(body); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "revoked") {
			t.Errorf("revoked k2, a bad request %s: %d %s; want 401, revoked", body, w.Code, w.Body)
		}
	}
}
