package webhook_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/webhook"
)

// The signature is HMAC-SHA256 of "timestamp.body" under the secret, in
// hex: what a receiver in any language computes.
func TestSign(t *testing.T) {
	// printf '1764579600.{"id":"1"}' | openssl dgst -sha256 -hmac whsec_test
	const want = "sha256=700d3db9fcfbc33aead7839a8193bc5979d36a5478b08f0aa558b2d804321470"
	got := webhook.Sign("whsec_test", 1764579600, []byte(`{"id":"1"}`))
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	if got != webhook.Sign("whsec_test", 1764579600, []byte(`{"id":"1"}`)) || got == webhook.Sign("whsec_other", 1764579600, []byte(`{"id":"1"}`)) ||
		got == webhook.Sign("whsec_test", 1764579601, []byte(`{"id":"1"}`)) || got == webhook.Sign("whsec_test", 1764579600, []byte(`{"id":"2"}`)) {
		t.Error("the signature does not depend on the secret, the time and the body alone")
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		attempts int
		want     time.Duration
	}{{1, 5 * time.Second}, {2, 10 * time.Second}, {4, 40 * time.Second}, {10, 2560 * time.Second}, {11, time.Hour}, {100, time.Hour}} {
		if got := webhook.Backoff(tt.attempts); got != tt.want {
			t.Errorf("Backoff(%d) = %v, want %v", tt.attempts, got, tt.want)
		}
	}
}

type resolver map[string][]netip.Addr

func (r resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := r[host]; ok {
		return ips, nil
	}
	return nil, errors.New("no such host")
}

// A callback URL must be HTTPS on public addresses: loopback, private and
// link-local ones (the gateway's own network: SSRF) are refused, unless
// the configuration allows them.
func TestCheckURL(t *testing.T) {
	r := resolver{
		"receiver.example.cm": {netip.MustParseAddr("196.202.10.7")},
		"inside.example.cm":   {netip.MustParseAddr("10.0.0.8")},
		"mixed.example.cm":    {netip.MustParseAddr("196.202.10.7"), netip.MustParseAddr("127.0.0.1")},
	}
	allow := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}
	for _, tt := range []struct {
		url   string
		allow []netip.Prefix
		want  string // "" ok
	}{
		{"https://receiver.example.cm/cb", nil, ""},
		{"http://receiver.example.cm/cb", nil, "must be https"},
		{"https://user:pw@receiver.example.cm/cb", nil, "credentials"},
		{"https://127.0.0.1/cb", nil, "not a public address"},
		{"https://[::1]/cb", nil, "not a public address"},
		{"https://169.254.169.254/latest/meta-data", nil, "not a public address"},
		{"https://192.168.1.1/", nil, "not a public address"},
		{"https://100.100.100.200/latest/meta-data", nil, "not a public address"},
		{"https://[64:ff9b::a9fe:a9fe]/", nil, "not a public address"},
		{"https://[2002:c0a8:101::1]/", nil, "not a public address"},
		{"https://inside.example.cm/cb", nil, "not a public address"},
		{"https://inside.example.cm/cb", allow, ""},
		{"https://mixed.example.cm/cb", nil, "not a public address"},
		{"https://nowhere.example.cm/cb", nil, "does not resolve"},
		{"https:///cb", nil, "no host"},
		{"::not a url", nil, "not a URL"},
	} {
		err := webhook.CheckURL(t.Context(), tt.url, tt.allow, r)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s refused: %v", tt.url, err)
		case tt.want != "" && (guichet.ErrorCode(err) != guichet.EINVALID || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want invalid: %q", tt.url, err, tt.want)
		}
	}
}

// store is a queue in memory.
type store struct {
	mu      sync.Mutex
	calls   []webhook.Call
	done    []int64
	retries map[int64]time.Time
	reasons map[int64]string
}

func (s *store) ClaimWebhooks(_ context.Context, limit int, now time.Time, _ time.Duration) ([]webhook.Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.calls[:min(limit, len(s.calls))]
	s.calls = s.calls[len(out):]
	return out, nil
}

func (s *store) DoneWebhook(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = append(s.done, id)
	return nil
}

func (s *store) QueuedWebhooks(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls) + len(s.retries), nil
}

func (s *store) RetryWebhook(_ context.Context, id int64, next time.Time, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retries[id], s.reasons[id] = next, reason
	return nil
}

// A receiver that answers 2xx is done with; one that fails, hangs or
// cannot be reached is tried again later; after 24 hours, or for a key
// without callback any more, the callback is given up. Each is signed.
func TestSender(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	recv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64)
		if r.Header.Get(webhook.HeaderSignature) != webhook.Sign("whsec_ok", ts, body) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got[r.Header.Get("X-Guichet-Message")]++
		mu.Unlock()
		switch r.URL.Path {
		case "/fails":
			w.WriteHeader(http.StatusInternalServerError)
		case "/hangs":
			<-r.Context().Done()
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	recv.Config.ErrorLog = log.New(io.Discard, "", 0) // the hanging one's handshake cut short
	recv.StartTLS()
	defer recv.Close()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	msg := func(id int64) outbox.Message {
		return outbox.Message{ID: id, Phone: "+237677000001", Status: outbox.MessageDelivered, Created: now, Done: now}
	}
	s := &store{retries: map[int64]time.Time{}, reasons: map[int64]string{}, calls: []webhook.Call{
		{ID: 1, Attempts: 1, At: now, URL: recv.URL + "/ok", Secret: "whsec_ok", Message: msg(11)},
		{ID: 2, Attempts: 3, At: now, URL: recv.URL + "/fails", Secret: "whsec_ok", Message: msg(12)},
		{ID: 3, Attempts: 1, At: now, URL: recv.URL + "/ok", Secret: "whsec_wrong", Message: msg(13)},
		{ID: 4, Attempts: 40, At: now.Add(-25 * time.Hour), URL: recv.URL + "/fails", Secret: "whsec_ok", Message: msg(14)},
		{ID: 5, Attempts: 1, At: now, URL: "", Message: msg(15)},
		{ID: 6, Attempts: 1, At: now, URL: "https://127.0.0.2:1/unreachable", Secret: "whsec_ok", Message: msg(16)},
	}}
	client := recv.Client()
	client.Timeout = 2 * time.Second
	sender := &webhook.Sender{Store: s, Client: client, Now: func() time.Time { return now }}
	if n, err := sender.Drain(t.Context()); err != nil || n != 6 {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	if want := []int64{1, 4, 5}; !sameSet(s.done, want) {
		t.Errorf("done %v, want %v (delivered, given up after 24 h, no callback)", s.done, want)
	}
	for id, after := range map[int64]time.Duration{2: 20 * time.Second, 3: 5 * time.Second, 6: 5 * time.Second} {
		if next, ok := s.retries[id]; !ok || next.Sub(now) != after {
			t.Errorf("callback %d: retry at %v (%v), want in %v", id, next, ok, after)
		}
	}
	if !strings.Contains(s.reasons[2], "500") || !strings.Contains(s.reasons[3], "401") {
		t.Errorf("reasons %v", s.reasons)
	}
	if got["11"] != 1 || got["12"] != 1 || got["13"] != 0 {
		t.Errorf("the receiver accepted %v", got)
	}
	if st := sender.Stats(); st.Delivered != 1 || st.Retried != 3 || st.GivenUp != 2 {
		t.Errorf("stats %+v", st)
	}
}

// The client of callbacks does not dial the gateway's own network, even
// when a name resolves there after it was checked, and follows no
// redirect.
func TestClientRefusesPrivateAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	if _, err := webhook.Client(nil, nil).Get(srv.URL); err == nil || !strings.Contains(err.Error(), "not a public address") {
		t.Errorf("GET %s: %v, want refused as not public", srv.URL, err)
	}
	allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	resp, err := webhook.Client(allow, nil).Get(srv.URL)
	if err == nil {
		resp.Body.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "no redirect") {
		t.Errorf("a redirect was followed: %v", err)
	}
}

func sameSet(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[int64]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}
