package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet/api"
	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/notify"
	"github.com/guichet/guichet/phone/phonetest"
)

// notifier answers every request as sending one message a number.
type notifier struct{ sends atomic.Int64 }

func (n *notifier) Send(_ context.Context, _, _, _ string, r notify.Request) (notify.Answer, []byte, error) {
	n.sends.Add(1)
	a := notify.Answer{}
	for i, to := range r.To {
		a.Messages = append(a.Messages, notify.Sent{Index: i, To: to, ID: "1", Lang: "fr", Parts: 1, Alphabet: "GSM-7"})
	}
	return a, []byte(`{"messages":[],"opted_out":[],"refused":[]}`), nil
}

// A key's requests a second and messages a day are bounded: past them, 429
// with Retry-After (a second; until midnight in Douala), and nothing sent.
func TestKeyLimits(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 22, 30, 0, 0, cases.Cameroon)
	keys := &apikey.Memory{}
	for secret, k := range map[string]apikey.Key{
		"slow":  {Owner: "civil-status", Created: opened, PerSecond: 2},
		"small": {Owner: "civil-status", Created: opened, PerDay: 3},
	} {
		if err := keys.AddAPIKey(t.Context(), k, apikey.Hash(secret)); err != nil {
			t.Fatal(err)
		}
	}
	n := &notifier{}
	mock := &caseMock{t: t, caseFn: func(ref, _ string) (cases.Case, error) { return sample(ref, "received"), nil }}
	srv := &api.Server{Catalogue: cat, Cases: mock, Keys: keys, Notify: n, Now: func() time.Time { return now },
		Log: phonetest.NewLog(t).Logger()}
	r := chi.NewRouter()
	srv.Routes(r)
	do := func(key, method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec
	}
	for i, want := range []int{200, 200, 429} {
		rec := do("slow", "GET", "/api/v1/cases/20000011", "")
		if rec.Code != want {
			t.Fatalf("request %d of the second: %d, want %d", i+1, rec.Code, want)
		}
		if want == 429 && (rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), "requests a second")) {
			t.Errorf("429 without its reason or Retry-After: %v %s", rec.Header(), rec.Body)
		}
	}
	now = now.Add(time.Second)
	if rec := do("slow", "GET", "/api/v1/cases/20000011", ""); rec.Code != 200 {
		t.Errorf("the next second: %d", rec.Code)
	}

	two := `{"to": ["677000001", "677000002"], "text": {"fr": "x"}}`
	if rec := do("small", "POST", "/api/v1/messages", two); rec.Code != http.StatusAccepted {
		t.Fatalf("two of three a day: %d %s", rec.Code, rec.Body)
	}
	rec := do("small", "POST", "/api/v1/messages", two)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "5400" || !strings.Contains(rec.Body.String(), "2 sent today") {
		t.Errorf("two more: %d, Retry-After %q, %s; want 429 until midnight in Douala (5400 s)", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if n.sends.Load() != 1 {
		t.Errorf("%d requests sent, want 1", n.sends.Load())
	}
	if rec := do("small", "POST", "/api/v1/messages", `{"to": "677000003", "text": {"fr": "x"}}`); rec.Code != http.StatusAccepted {
		t.Errorf("the third of the day: %d", rec.Code)
	}
	now = now.Add(90 * time.Minute) // past midnight in Douala
	if rec := do("small", "POST", "/api/v1/messages", two); rec.Code != http.StatusAccepted {
		t.Errorf("the next day: %d %s", rec.Code, rec.Body)
	}
}

// Requests at once cannot together go over a key's day: each reserves its
// numbers before it sends.
func TestKeyDayAtOnce(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	keys := &apikey.Memory{}
	if err := keys.AddAPIKey(t.Context(), apikey.Key{Owner: "civil-status", Created: opened, PerDay: 5, PerSecond: 1000}, apikey.Hash("k")); err != nil {
		t.Fatal(err)
	}
	n := &notifier{}
	srv := &api.Server{Catalogue: cat, Keys: keys, Notify: n, Log: phonetest.NewLog(t).Logger()}
	r := chi.NewRouter()
	srv.Routes(r)
	var wg sync.WaitGroup
	var accepted atomic.Int64
	for range 20 {
		wg.Go(func() {
			req := httptest.NewRequest("POST", "/api/v1/messages", strings.NewReader(`{"to": ["677000001", "677000002"], "text": {"fr": "x"}}`))
			req.Header.Set("Authorization", "Bearer k")
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code == http.StatusAccepted {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	if accepted.Load() != 2 || n.sends.Load() != 2 {
		t.Errorf("%d requests of two numbers accepted (%d sent) with five a day, want 2", accepted.Load(), n.sends.Load())
	}
}
