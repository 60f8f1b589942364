package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// On the embedded default (memory, no PostgreSQL) there is no queue to
// send delivery callbacks from: registering or removing a callback URL is
// refused with 501, as an RFC 9457 problem that says why, and reading the
// key's callback shows none.
func TestCallbacksNeedPostgres(t *testing.T) {
	base, logs := bootServer(t)
	key := demoKey(t, logs, "civil-status")
	for _, tt := range []struct{ method, body string }{
		{"PUT", `{"url": "https://receiver.example.cm/receipts"}`},
		{"DELETE", ""},
	} {
		req, _ := http.NewRequest(tt.method, base+"/api/v1/callback", strings.NewReader(tt.body))
		req.Header.Set("Authorization", "Bearer "+key)
		if tt.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Type, Title, Detail, Instance string
			Status                        int
		}
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotImplemented || resp.Header.Get("Content-Type") != "application/problem+json" || err != nil {
			t.Errorf("%s /api/v1/callback: %d %s (%v), want a 501 problem", tt.method, resp.StatusCode, resp.Header.Get("Content-Type"), err)
			continue
		}
		if p.Status != 501 || p.Type != "https://guichet.cm/problems/not-implemented" || p.Title != "Not Implemented" ||
			!strings.Contains(p.Detail, "PostgreSQL") || p.Instance != "/api/v1/callback" {
			t.Errorf("%s /api/v1/callback: problem %+v", tt.method, p)
		}
	}
	code, body := apiCall(t, "GET", base+"/api/v1/callback", key, "")
	if code != http.StatusOK || strings.TrimSpace(body) != `{"url":""}` {
		t.Errorf("GET /api/v1/callback after the refusals: %d %s, want no URL", code, body)
	}
	if n := strings.Count(logs.String(), key); n != 1 {
		t.Errorf("the key is in the output %d times, want once (its printing at start)", n)
	}
}

// demoKey is the API key of owner the embedded default printed at start.
func demoKey(t *testing.T, logs *syncBuffer, owner string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(owner) + `\s+(gk_\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no demo key for %s printed:\n%s", owner, tail(logs.String(), 2000))
	}
	return m[1]
}
