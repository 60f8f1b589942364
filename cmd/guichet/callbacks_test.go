package main

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/smpp/smsctest"
	"github.com/guichet/guichet/webhook"
)

// An administration's callback receiver, over HTTPS, sees the final state
// of every message it sent, signed, although the gateway was killed with
// SIGKILL in the middle and started again: at least once, each message's
// id telling the copies apart.
func TestDeliveryCallbacksSurviveACrash(t *testing.T) {
	const total = 200
	ctx := t.Context()
	url, pool := migrated(t)
	secretKey := apikey.New()
	if err := postgres.New(pool).Keys().AddAPIKey(ctx, apikey.Key{Owner: "civil-status", Created: time.Now()}, apikey.Hash(secretKey)); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		secret  string
		states  = map[string]string{} // message id → state
		copies  int
		badSigs int
	)
	recv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64)
		mu.Lock()
		defer mu.Unlock()
		if secret == "" || r.Header.Get(webhook.HeaderSignature) != webhook.Sign(secret, ts, body) || time.Since(time.Unix(ts, 0)) > time.Minute {
			badSigs++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m struct{ ID, State string }
		if err := json.Unmarshal(body, &m); err != nil || m.ID != r.Header.Get("X-Guichet-Message") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		copies++
		states[m.ID] = m.State
		w.WriteHeader(http.StatusNoContent)
	}))
	recv.Config.ErrorLog = log.New(io.Discard, "", 0)
	recv.StartTLS()
	t.Cleanup(recv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: recv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := smsctest.NewServer(smsctest.Options{Receipts: true, ReceiptDelay: 20 * time.Millisecond})
	t.Cleanup(srv.Close)
	addr := freeAddr(t)
	base := "http://" + addr
	config := fmt.Sprintf(`http: %q
database_url: %q
smpp:
  lease: 3s
  operators:
    - {name: mtn, addr: %q, system_id: guichet, source: "8080", rate: 100}
api:
  callback_allow: [127.0.0.0/8]
  callback_ca: %q
`, addr, url, srv.Addr(), ca)
	first, logs := gatewayProcess(t, config)
	waitUntil(t, 30*time.Second, "the gateway serving", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}, logs)
	call := func(method, path, body string) (int, string) {
		t.Helper()
		return apiCall(t, method, base+path, secretKey, body)
	}
	for _, bad := range []string{`{"url": "http://127.0.0.1/x"}`, `{"url": "https://169.254.169.254/latest"}`} {
		if code, b := call("PUT", "/api/v1/callback", bad); code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %s, want 400", bad, code, b)
		}
	}
	code, b := call("PUT", "/api/v1/callback", fmt.Sprintf(`{"url": %q}`, recv.URL+"/receipts"))
	var cb struct{ URL, Secret string }
	if code != http.StatusOK || json.Unmarshal([]byte(b), &cb) != nil || cb.Secret == "" {
		t.Fatalf("PUT /api/v1/callback: %d %s", code, b)
	}
	mu.Lock()
	secret = cb.Secret
	mu.Unlock()
	numbers := make([]string, total)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+2376772%05d", i)
	}
	to, _ := json.Marshal(numbers)
	if code, b := call("POST", "/api/v1/messages", `{"to": `+string(to)+`, "text": {"fr": "Campagne de vaccination samedi."}}`); code != http.StatusAccepted {
		t.Fatalf("POST /api/v1/messages: %d %s", code, b)
	}
	seen := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(states)
	}
	// At 100 a second, the gateway is killed with about a third done.
	waitUntil(t, 30*time.Second, "callbacks coming", func() bool { return seen() >= total/3 }, logs)
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	t.Logf("killed after %d callbacks", seen())
	_, logs = gatewayProcess(t, config)
	waitUntil(t, 90*time.Second, "every final state called back", func() bool { return seen() == total }, logs)
	mu.Lock()
	defer mu.Unlock()
	for id, st := range states {
		if st != "delivered" {
			t.Errorf("message %s called back as %q, want delivered", id, st)
		}
	}
	if badSigs > 0 {
		t.Errorf("%d callbacks badly signed", badSigs)
	}
	t.Logf("%d callbacks for %d messages", copies, total)
}

// The delivery callbacks' sender is watched on /metrics: a callback its
// receiver took counts as sent, one it refused as retried and stays in the
// queue, whose depth is a gauge.
func TestCallbackMetrics(t *testing.T) {
	ctx := t.Context()
	url, pool := migrated(t)
	keys := postgres.New(pool).Keys()
	key := apikey.New()
	if err := keys.AddAPIKey(ctx, apikey.Key{Owner: "civil-status", Created: time.Now(), PerSecond: 1000}, apikey.Hash(key)); err != nil {
		t.Fatal(err)
	}
	recv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To string }
		json.NewDecoder(r.Body).Decode(&m)
		if m.To == "+237677500002" {
			w.WriteHeader(http.StatusInternalServerError) // this one is refused, again and again
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	recv.Config.ErrorLog = log.New(io.Discard, "", 0)
	recv.StartTLS()
	t.Cleanup(recv.Close)
	if err := keys.SetCallback(ctx, apikey.ID(apikey.Hash(key)), recv.URL+"/receipts", webhook.NewSecret()); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: recv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := smsctest.NewServer(smsctest.Options{Receipts: true})
	t.Cleanup(srv.Close)
	cfg := defaultConfig()
	cfg.HTTP, cfg.DatabaseURL = "127.0.0.1:0", url
	cfg.SMPP = SMPPConfig{Operators: []SMSCConfig{{Name: "mtn", Addr: srv.Addr(), SystemID: "guichet", Source: "8080"}}}
	cfg.API = APIConfig{CallbackAllow: []string{"127.0.0.0/8"}, CallbackCA: ca}
	base, logs, _ := serveTest(t, cfg)
	if code, b := apiCall(t, "POST", base+"/api/v1/messages", key, `{"to": ["+237677500001", "+237677500002"], "text": {"fr": "Vos documents sont prêts."}}`); code != http.StatusAccepted {
		t.Fatalf("POST /api/v1/messages: %d %s", code, b)
	}
	var page string
	want := map[string]float64{"guichet_callbacks_sent_total": 1, "guichet_callbacks_given_up_total": 0, "guichet_callbacks_queued": 1}
	waitUntil(t, 20*time.Second, "the callbacks' metrics", func() bool {
		_, page = get(t, base+"/metrics")
		got := scrape(page, "guichet_callbacks_")
		for name, v := range want {
			if got[name] != v {
				return false
			}
		}
		return got["guichet_callbacks_retried_total"] >= 1
	}, stringer(func() string {
		return fmt.Sprint(scrape(page, "guichet_callbacks_")) + "\n" + tail(logs.String(), 2000)
	}))
}

// scrape reads the samples of a metrics page whose names start with
// prefix, by name.
func scrape(page, prefix string) map[string]float64 {
	out := map[string]float64{}
	for line := range strings.Lines(page) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || !strings.HasPrefix(name, prefix) {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out
}
