package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/smpp/smsctest"
)

// apiCall makes an API request with key, a JSON body if any, and the
// headers given in pairs, and returns the status and the body.
func apiCall(t *testing.T, method, target, key, body string, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// An administration sends SMS through the API, on PostgreSQL, to a real
// SMPP peer: a list is answered 202 with an id per message, bad numbers
// refused by index; a retried request sends nothing twice; each message is
// read back, its state following the receipts to delivered; another
// administration sees none of them; bad requests are problems that queue
// nothing.
func TestMessagesAPI(t *testing.T) {
	ctx := t.Context()
	url, pool := migrated(t)
	srv := smsctest.NewServer(smsctest.Options{Receipts: true})
	t.Cleanup(srv.Close)
	cfg := defaultConfig()
	cfg.HTTP, cfg.DatabaseURL = "127.0.0.1:0", url
	cfg.SMPP = SMPPConfig{Operators: []SMSCConfig{{Name: "mtn", Addr: srv.Addr(), SystemID: "guichet", Source: "8080"}}}
	keys := postgres.New(pool).Keys()
	secret := map[string]string{}
	for _, owner := range []string{"civil-status", "commerce"} {
		secret[owner] = apikey.New()
		if err := keys.AddAPIKey(ctx, apikey.Key{Owner: owner, Created: time.Now(), PerSecond: 1000}, apikey.Hash(secret[owner])); err != nil {
			t.Fatal(err)
		}
	}
	sctx, cancel := context.WithCancel(context.Background())
	ln := freePort(t)
	base := "http://" + ln.Addr().String()
	done := make(chan error, 1)
	logs := phonetest.NewLog(t)
	go func() { done <- serve(sctx, cfg, ln, logs) }()
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(tail(logs.String(), 3000))
		}
	})
	t.Cleanup(func() { cancel(); <-done })
	waitServing(t, base, done)

	call := func(method, path, owner, body string, header ...string) (int, string) {
		t.Helper()
		return apiCall(t, method, base+path, secret[owner], body, header...)
	}
	const list = `{"to": ["677 10 00 01", "not a phone", "+237677100002"], "text": {"fr": "Vos documents sont prêts.", "en": "Your documents are ready."}}`
	code, body := call("POST", "/api/v1/messages", "civil-status", list, "Idempotency-Key", "batch-7")
	if code != http.StatusAccepted {
		t.Fatalf("POST /api/v1/messages: %d %s", code, body)
	}
	var a struct {
		Messages []struct {
			Index        int
			To, ID, Lang string
			Parts        int
			Alphabet     string
		}
		Refused []struct {
			Index  int
			Reason string
		}
	}
	if err := json.Unmarshal([]byte(body), &a); err != nil || len(a.Messages) != 2 || len(a.Refused) != 1 || a.Refused[0].Index != 1 {
		t.Fatalf("answer %s (%v): want two messages and the number at index 1 refused", body, err)
	}
	if m := a.Messages[0]; m.To != "+237677100001" || m.Parts != 1 || m.Alphabet != "UCS-2" || m.Lang != "fr" {
		t.Errorf("first message %+v", m)
	}
	if code, again := call("POST", "/api/v1/messages", "civil-status", list, "Idempotency-Key", "batch-7"); code != http.StatusAccepted || again != body {
		t.Errorf("the retried request answered %d %s, want the first answer", code, again)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE owner = 'civil-status'`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d messages in the outbox after a request and its retry, want 2 (%v)", n, err)
	}

	// Each is read back; the receipts take it to delivered.
	for _, m := range a.Messages {
		var got struct{ ID, To, State, Operator string }
		for deadline := time.Now().Add(15 * time.Second); got.State != "delivered"; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("message %s is %q after 15 s, want delivered", m.ID, got.State)
			}
			code, b := call("GET", "/api/v1/messages/"+m.ID, "civil-status", "")
			if code != http.StatusOK || json.Unmarshal([]byte(b), &got) != nil {
				t.Fatalf("GET message %s: %d %s", m.ID, code, b)
			}
		}
		if got.To != m.To || got.Operator != "mtn" {
			t.Errorf("message %+v, want to %s through mtn", got, m.To)
		}
		if code, _ := call("GET", "/api/v1/messages/"+m.ID, "commerce", ""); code != http.StatusNotFound {
			t.Errorf("another administration read message %s: %d", m.ID, code)
		}
	}
	var queued int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM webhooks`).Scan(&queued); err != nil || queued != 0 {
		t.Errorf("%d callbacks queued for a key without a callback URL (%v)", queued, err)
	}
	code, page := call("GET", "/api/v1/messages?state=delivered&limit=10", "civil-status", "")
	if code != http.StatusOK || strings.Count(page, `"state":"delivered"`) != 2 {
		t.Errorf("the delivered page: %d %s", code, page)
	}
	if code, page := call("GET", "/api/v1/messages", "civil-status", ""); code != http.StatusOK || strings.Count(page, `"id":`) != 2 {
		t.Errorf("civil-status's page, every state: %d %s", code, page)
	}
	if code, page := call("GET", "/api/v1/messages", "commerce", ""); code != http.StatusOK || page != "{\"messages\":[]}\n" {
		t.Errorf("commerce's page: %d %s", code, page)
	}

	// Bad requests: problems, nothing queued.
	for _, bad := range []struct{ body, want string }{
		{`{"to": "677100003"`, "malformed JSON"},
		{`{"to": "677100003", "text": {"fr": "x"}, "colour": "red"}`, "unknown field"},
		{`{"to": 677100003, "text": {"fr": "x"}}`, "a number, or a list"},
		{`{"to": "677100003", "text": {"fr": ""}}`, "text.fr is empty"},
		{`{"to": "677100003", "template": {"service": "company", "name": "opened", "vars": {"ref": "1"}}}`, "of yours"},
		{fmt.Sprintf(`{"to": "677100003", "text": {"fr": %q}}`, strings.Repeat("Rendez-vous au centre de santé. ", 40)), "text.fr"},
	} {
		code, b := call("POST", "/api/v1/messages", "civil-status", bad.body)
		if code != http.StatusBadRequest || !strings.Contains(b, bad.want) || !strings.Contains(b, `"status":400`) {
			t.Errorf("POST %s: %d %s, want a 400 problem saying %q", bad.body, code, b, bad.want)
		}
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE owner = 'civil-status'`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d messages after the bad requests, want still 2", n)
	}
}
