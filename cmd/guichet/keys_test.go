package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/kanneltest"
	"github.com/guichet/guichet/postgres"
)

// Each gateway keeps the keys it saw for POST /api/v1/messages, and yet a
// key revoked by one process (guichet apikey revoke) is refused at once
// by two gateways that had just used it: each send's statement asks
// whether its key is still in force. Neither writes a message for it, a
// retry of a request it sent before included, nor answers its bad request
// other than 401; a key that expires while
// cached is refused on time; a revoked key over its requests a second is
// told it was revoked, not to wait.
func TestRevokedKeyRefusedAtOnceByTheFleet(t *testing.T) {
	ctx := t.Context()
	url, pool := migrated(t)
	keys := postgres.New(pool).Keys()
	secrets := map[string]string{}
	add := func(name string, k apikey.Key) {
		secrets[name] = apikey.New()
		k.Owner, k.Created = "civil-status", time.Now().Add(-time.Minute)
		if err := keys.AddAPIKey(ctx, k, apikey.Hash(secrets[name])); err != nil {
			t.Fatal(err)
		}
	}
	add("revoked", apikey.Key{PerSecond: 1000})
	add("slow", apikey.Key{PerSecond: 1})
	var bases []string
	for range 2 {
		addr := fmt.Sprintf("127.0.0.1:%d", kanneltest.FreePorts(t, 1)[0])
		_, logs := gatewayProcess(t, fmt.Sprintf("http: %q\ndatabase_url: %q\nlog_level: warn\n", addr, url))
		bases = append(bases, "http://"+addr)
		waitUntil(t, 30*time.Second, "the gateway to serve", func() bool {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200
		}, logs)
	}
	expires := time.Now().Add(2 * time.Second)
	add("expiring", apikey.Key{PerSecond: 1000, Expires: expires})
	send := func(base, key, idem string) (int, string) {
		t.Helper()
		return apiCall(t, "POST", base+"/api/v1/messages", secrets[key], `{"to": "677100001", "text": {"fr": "Bonjour"}}`, "Idempotency-Key", idem)
	}
	written := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i, base := range bases {
		for _, key := range []string{"revoked", "expiring", "slow"} {
			if code, body := send(base, key, fmt.Sprint(key, i)); code != http.StatusAccepted {
				t.Fatalf("gateway %d, key %s: %d %s", i, key, code, body)
			}
		}
	}
	before := written()
	var out strings.Builder
	for _, key := range []string{"revoked", "slow"} {
		if err := run(ctx, []string{"apikey", "revoke", apikey.ID(apikey.Hash(secrets[key]))}, nil, &out, io.Discard,
			func(v string) string { return map[string]string{"DATABASE_URL": url}[v] }); err != nil {
			t.Fatal(err)
		}
	}
	for i, base := range bases {
		for _, idem := range []string{"new", "revoked0", "revoked1"} { // a new request, and the retries of sent ones
			if code, body := send(base, "revoked", idem); code != http.StatusUnauthorized || !strings.Contains(body, "revoked") {
				t.Errorf("gateway %d, the revoked key's request %q: %d %s; want 401, revoked", i, idem, code, body)
			}
		}
		if code, body := apiCall(t, "POST", base+"/api/v1/messages", secrets["revoked"], `{"to": `); code != http.StatusUnauthorized {
			t.Errorf("gateway %d, the revoked key's malformed request: %d %s; want 401", i, code, body)
		}
		if code, body := send(base, "slow", "again"); code != http.StatusUnauthorized || !strings.Contains(body, "revoked") {
			t.Errorf("gateway %d, the revoked key over its rate: %d %s; want 401, revoked", i, code, body)
		}
	}
	if n := written(); n != before {
		t.Errorf("%d messages written for revoked keys", n-before)
	}
	time.Sleep(time.Until(expires))
	for i, base := range bases {
		if code, body := send(base, "expiring", "late"); code != http.StatusUnauthorized || !strings.Contains(body, "expired") {
			t.Errorf("gateway %d, the expired key: %d %s; want 401, expired", i, code, body)
		}
	}
}
