package rest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/adapters/backend"
	"github.com/guichet/guichet/adapters/backend/backendtest"
	"github.com/guichet/guichet/menus"
)

var update = flag.Bool("update", false, "rewrite the golden requests in testdata/requests with what the connector sends")

const jsonType = "application/json; charset=utf-8"

// The calls of the tests, as the engine makes them.
var (
	openCall = menus.Call{
		Op: "cases.open", Service: "birth-certificate", Phone: "+237677123456", Lang: "fr", Channel: "ussd",
		Args: map[string]string{"office": "yde-1", "born": "01022003", "name": `Ngo Bassa & fils <"Épée">`},
		Key:  "3f2a9c-0001",
	}
	trackCall = menus.Call{
		Op: "cases.track", Service: "track", Phone: "+237677123456", Lang: "en", Channel: "hotline",
		Args: map[string]string{"ref": "EC/2026 0421"},
	}
	officesCall = menus.Call{Op: "offices.list", Service: "birth-certificate", Phone: "+237677123456", Lang: "en", Channel: "ussd"}
	cancelCall  = menus.Call{
		Op: "slots.cancel", Service: "visit", Phone: "+237677123456", Lang: "fr", Channel: "sms",
		Args: map[string]string{"ref": "B123"}, Key: "3f2a9c-0002",
	}
)

// config returns the configuration of testdata/backend.yaml pointed at
// endpoint, changed by change if it is not nil.
func config(t *testing.T, endpoint string, change func(c *backend.Config)) backend.Config {
	t.Helper()
	raw, err := os.ReadFile("testdata/backend.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg backend.Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("decoding testdata/backend.yaml: %v", err)
	}
	cfg.Endpoint = endpoint + "/v1"
	if change != nil {
		change(&cfg)
	}
	return cfg
}

// connect returns a connector to srv.
func connect(t *testing.T, srv *backendtest.Server, change func(c *backend.Config)) *Connector {
	t.Helper()
	c, err := New(config(t, srv.URL, change), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantError fails t unless err carries code and, if msg is not empty, a
// message that contains it.
func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	if got := guichet.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if msg != "" && !strings.Contains(guichet.ErrorMessage(err), msg) {
		t.Fatalf("error %v: message %q, want it to contain %q", err, guichet.ErrorMessage(err), msg)
	}
}

func file(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDo(t *testing.T) {
	tests := []struct {
		name     string
		call     menus.Call
		status   int
		ctype    string
		file     string // the answer's body, in testdata
		golden   string // the request sent, in testdata/requests; "" not to check
		want     menus.Result
		wantCode string // "" for success
		wantMsg  string
		wantHits int // 1 if 0
	}{
		// Successes, and the requests that led to them.
		{name: "open", call: openCall, status: 201, ctype: jsonType, file: "open_case_response.json", golden: "open_case.txt",
			want: menus.Result{Vars: map[string]string{"ref": "EC2026000421"}}},
		{name: "track", call: trackCall, status: 200, ctype: jsonType, file: "track_response.json", golden: "track.txt",
			want: menus.Result{Vars: map[string]string{"ref": "EC2026000421", "status": "processing", "updated": "2026-11-30", "step": "received"}}},
		{name: "offices in English", call: officesCall, status: 200, ctype: "application/json", file: "offices_response.json", golden: "offices.txt",
			want: menus.Result{Options: []menus.Choice{{ID: "yde-1", Label: "Yaounde 1st"}, {ID: "42", Label: "Douala Bonanjo"}, {ID: "bfs", Label: ""}}}},
		{name: "offices in French", call: with(officesCall, func(c *menus.Call) { c.Lang = "fr" }), status: 200, ctype: jsonType, file: "offices_response.json",
			want: menus.Result{Options: []menus.Choice{{ID: "yde-1", Label: "Yaoundé 1er"}, {ID: "42", Label: `Douala "Bonanjo"`}, {ID: "bfs", Label: "Bafoussam"}}}},
		{name: "cancel, no content", call: cancelCall, status: 204, golden: "cancel.txt"},
		{name: "problem+json", call: openCall, status: 200, ctype: "application/problem+json", file: "open_case_response.json",
			want: menus.Result{Vars: map[string]string{"ref": "EC2026000421"}}},

		// The backend's refusals.
		{name: "409 with a mapped code", call: openCall, status: 409, ctype: jsonType, file: "error_duplicate.json",
			wantCode: guichet.ECONFLICT, wantMsg: "refused by civil-status registry: conflict (DUPLICATE_APPLICATION)"},
		{name: "422 with a code mapped to conflict", call: openCall, status: 422, ctype: jsonType, file: "error_duplicate.json",
			wantCode: guichet.ECONFLICT, wantMsg: "(DUPLICATE_APPLICATION)"},
		{name: "400 with a mapped code", call: openCall, status: 400, ctype: jsonType, file: "error_bad_date.json",
			wantCode: guichet.EINVALID, wantMsg: "refused by civil-status registry as invalid (BAD_BIRTH_DATE)"},
		{name: "400 with an unmapped code", call: openCall, status: 400, ctype: jsonType, file: "error_unmapped.json",
			wantCode: guichet.EINVALID, wantMsg: "as invalid (FIELD_MISSING)"},
		{name: "422 without a body", call: openCall, status: 422,
			wantCode: guichet.EINVALID, wantMsg: "as invalid (HTTP 422)"},
		{name: "200 carrying a mapped code", call: openCall, status: 200, ctype: jsonType, file: "error_bad_date.json",
			wantCode: guichet.EINVALID, wantMsg: "(BAD_BIRTH_DATE)"},
		{name: "404 with a mapped code", call: trackCall, status: 404, ctype: jsonType, file: "error_unknown_ref.json",
			wantCode: guichet.ENOTFOUND, wantMsg: "not found by civil-status registry (APPLICATION_UNKNOWN)"},
		{name: "404 from a proxy", call: trackCall, status: 404, ctype: "text/html", file: "proxy_error.html",
			wantCode: guichet.ENOTFOUND, wantMsg: "not found by civil-status registry (HTTP 404)"},
		{name: "410", call: trackCall, status: 410, wantCode: guichet.ENOTFOUND, wantMsg: "(HTTP 410)"},
		{name: "410 mapped by status", call: cancelCall, status: 410, wantCode: guichet.ECONFLICT, wantMsg: "conflict (HTTP 410)"},
		{name: "409", call: cancelCall, status: 409, wantCode: guichet.ECONFLICT, wantMsg: "conflict (HTTP 409)"},

		// The backend's failures: EUNAVAILABLE, naming it.
		{name: "code mapped to unavailable", call: trackCall, status: 503, ctype: jsonType, file: "error_maintenance.json",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "civil-status registry says it is unavailable (MAINTENANCE)"},
		{name: "500, not retried", call: trackCall, status: 500, wantCode: guichet.EUNAVAILABLE,
			wantMsg: "civil-status registry is unavailable: HTTP 500 Internal Server Error"},
		{name: "502, retried", call: trackCall, status: 502, ctype: "text/html", file: "proxy_error.html", wantHits: 2,
			wantCode: guichet.EUNAVAILABLE, wantMsg: "civil-status registry is unavailable: HTTP 502 Bad Gateway (2 attempts)"},
		{name: "504, retried", call: trackCall, status: 504, wantHits: 2, wantCode: guichet.EUNAVAILABLE, wantMsg: "HTTP 504 Gateway Timeout"},
		{name: "503 on a POST without an honoured key, not retried", call: openCall, status: 503, wantCode: guichet.EUNAVAILABLE,
			wantMsg: "civil-status registry is unavailable: HTTP 503 Service Unavailable"},
		{name: "401, not retried", call: trackCall, status: 401, wantCode: guichet.EUNAVAILABLE, wantMsg: "HTTP 401 Unauthorized"},
		{name: "429, not retried", call: trackCall, status: 429, wantCode: guichet.EUNAVAILABLE, wantMsg: "HTTP 429 Too Many Requests"},
		{name: "redirect, not followed", call: trackCall, status: 302, wantCode: guichet.EUNAVAILABLE, wantMsg: "HTTP 302 Found"},
		{name: "HTML", call: openCall, status: 200, ctype: "text/html", file: "proxy_error.html",
			wantCode: guichet.EUNAVAILABLE, wantMsg: `civil-status registry is unavailable: answer is "text/html", not JSON`},
		{name: "malformed", call: openCall, status: 200, ctype: jsonType, file: "malformed.json",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "civil-status registry is unavailable: answer is not valid JSON"},
		{name: "two values", call: openCall, status: 200, ctype: jsonType, file: "trailing.json",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "answer is not valid JSON"},
		{name: "empty", call: openCall, status: 200, ctype: jsonType,
			wantCode: guichet.EUNAVAILABLE, wantMsg: "empty answer (HTTP 200 OK)"},
		{name: "missing value", call: openCall, status: 200, ctype: jsonType, file: "missing_reference.json",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "answer has no value at data.reference (for ref)"},
		{name: "object instead of a value", call: openCall, status: 200, ctype: jsonType, file: "object_reference.json",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "answer has no value at data.reference (for ref)"},
		{name: "missing list", call: officesCall, status: 200, ctype: jsonType, file: "track_response.json",
			wantCode: guichet.EUNAVAILABLE, wantMsg: `answer has no list at "data.offices"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.file != "" {
				body = file(t, tt.file)
			}
			srv := backendtest.NewServer(t, backendtest.Reply(tt.status, tt.ctype, body))
			c := connect(t, srv, nil)
			res, err := c.Do(t.Context(), tt.call)
			if wantHits := max(tt.wantHits, 1); srv.Hits() != wantHits {
				t.Errorf("the backend was called %d times, want %d", srv.Hits(), wantHits)
			}
			if tt.wantCode != "" {
				wantError(t, err, tt.wantCode, tt.wantMsg)
				if !strings.HasPrefix(err.Error(), tt.call.Op+" on civil-status registry: ") {
					t.Errorf("error %q does not say what was being done", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if !reflect.DeepEqual(res, tt.want) {
				t.Errorf("result %+v, want %+v", res, tt.want)
			}
			if tt.golden != "" {
				got := backendtest.Dump(srv.Requests()[0], "Accept", "Content-Type", "Idempotency-Key")
				backendtest.Golden(t, filepath.Join("testdata", "requests", tt.golden), got, *update)
			}
		})
	}
}

func with(c menus.Call, change func(c *menus.Call)) menus.Call {
	change(&c)
	return c
}

// TestRetry holds that a transient failure is retried only when repeating
// the call is harmless, and with the same idempotency key.
func TestRetry(t *testing.T) {
	honoured := func(c *backend.Config) { c.Idempotency.Honoured = true }
	tests := []struct {
		name     string
		call     menus.Call
		change   func(c *backend.Config)
		answer   string
		wantHits int
		wantErr  bool
	}{
		{"GET", trackCall, nil, "track_response.json", 2, false},
		{"POST with an honoured key", openCall, honoured, "open_case_response.json", 2, false},
		{"POST whose key is not honoured", openCall, nil, "open_case_response.json", 1, true},
		{"POST without a key", with(openCall, func(c *menus.Call) { c.Key = "" }), honoured, "open_case_response.json", 1, true},
		{"idempotent POST", cancelCall, func(c *backend.Config) {
			op := c.Operations["slots.cancel"]
			op.Idempotent = true
			c.Operations["slots.cancel"] = op
		}, "", 2, false},
		{"no retries", trackCall, func(c *backend.Config) { c.Retries = new(0) }, "track_response.json", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ok []byte
			if tt.answer != "" {
				ok = file(t, tt.answer)
			}
			srv := backendtest.NewServer(t,
				backendtest.Reply(http.StatusServiceUnavailable, "text/plain", []byte("busy")),
				backendtest.Reply(http.StatusOK, jsonType, ok))
			_, err := connect(t, srv, tt.change).Do(t.Context(), tt.call)
			if srv.Hits() != tt.wantHits {
				t.Errorf("the backend was called %d times, want %d", srv.Hits(), tt.wantHits)
			}
			if tt.wantErr {
				wantError(t, err, guichet.EUNAVAILABLE, "HTTP 503 Service Unavailable")
			} else if err != nil {
				t.Fatalf("Do: %v", err)
			}
			reqs := srv.Requests()
			if len(reqs) == 2 {
				if !bytes.Equal(reqs[0].Body, reqs[1].Body) || reqs[0].Header.Get("Idempotency-Key") != reqs[1].Header.Get("Idempotency-Key") {
					t.Errorf("the retry differs from the first attempt: %q %q, then %q %q",
						reqs[0].Header.Get("Idempotency-Key"), reqs[0].Body, reqs[1].Header.Get("Idempotency-Key"), reqs[1].Body)
				}
			}
		})
	}
}

// failDial is a transport whose first round trip fails to connect, as when
// the backend's address refuses connections, and whose later ones go
// through.
type failDial struct {
	calls atomic.Int32
	next  http.RoundTripper
}

func (f *failDial) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.calls.Add(1) == 1 {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	}
	return f.next.RoundTrip(r)
}

// TestRetryUnsent holds that a request that never left is retried even when
// repeating it would not be harmless.
func TestRetryUnsent(t *testing.T) {
	srv := backendtest.NewServer(t, backendtest.Reply(http.StatusCreated, jsonType, file(t, "open_case_response.json")))
	dial := &failDial{next: http.DefaultTransport}
	c, err := New(config(t, srv.URL, nil), &http.Client{Transport: dial})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Do(t.Context(), openCall)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if res.Vars["ref"] != "EC2026000421" || dial.calls.Load() != 2 || srv.Hits() != 1 {
		t.Errorf("result %v after %d round trips and %d requests; want a reference after 2 and 1", res, dial.calls.Load(), srv.Hits())
	}
}

// TestBreaker holds that after N failures the connector answers at once
// without calling the backend, probes it after the open duration, and
// closes again when the probe succeeds.
func TestBreaker(t *testing.T) {
	var healthy atomic.Bool
	srv := backendtest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		backendtest.Reply(http.StatusOK, jsonType, file(t, "track_response.json"))(w, r)
	})
	const open = 150 * time.Millisecond
	c := connect(t, srv, func(c *backend.Config) {
		c.Retries = new(0)
		c.Breaker = backend.BreakerConfig{Failures: 3, Open: open}
	})
	for i := range 3 {
		_, err := c.Do(t.Context(), trackCall)
		wantError(t, err, guichet.EUNAVAILABLE, "HTTP 503")
		if srv.Hits() != i+1 {
			t.Fatalf("call %d: %d hits", i+1, srv.Hits())
		}
	}
	if c.Breaker().State() != backend.Open {
		t.Fatalf("breaker %v after 3 failures, want open", c.Breaker().State())
	}
	start := time.Now()
	_, err := c.Do(t.Context(), trackCall)
	wantError(t, err, guichet.EUNAVAILABLE, "civil-status registry is unavailable: not called after repeated failures")
	if srv.Hits() != 3 {
		t.Errorf("the open breaker let a call through: %d hits", srv.Hits())
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("the open breaker took %v to answer", d)
	}

	// A failed probe opens it again.
	time.Sleep(open)
	_, err = c.Do(t.Context(), trackCall)
	wantError(t, err, guichet.EUNAVAILABLE, "HTTP 503")
	if srv.Hits() != 4 || c.Breaker().State() != backend.Open {
		t.Fatalf("after a failed probe: %d hits, breaker %v; want 4 and open", srv.Hits(), c.Breaker().State())
	}
	if _, err := c.Do(t.Context(), trackCall); srv.Hits() != 4 {
		t.Fatalf("called while open again: %d hits (%v)", srv.Hits(), err)
	}

	// A successful probe closes it.
	healthy.Store(true)
	time.Sleep(open)
	if _, err := c.Do(t.Context(), trackCall); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if c.Breaker().State() != backend.Closed {
		t.Fatalf("after a successful probe: breaker %v, want closed", c.Breaker().State())
	}
	if _, err := c.Do(t.Context(), trackCall); err != nil || srv.Hits() != 6 {
		t.Fatalf("after closing: %v, %d hits; want success and 6", err, srv.Hits())
	}
}

// TestDeadline holds that a backend slower than the caller's deadline is
// given up at the deadline, and that it sees the call cancelled.
func TestDeadline(t *testing.T) {
	cancelled := make(chan error, 4)
	srv := backendtest.NewServer(t, backendtest.Hang(cancelled))
	c := connect(t, srv, nil) // 3 s per attempt, one retry: the caller's deadline comes first
	const deadline = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, trackCall)
	elapsed := time.Since(start)
	wantError(t, err, guichet.EUNAVAILABLE, "civil-status registry is unavailable: no answer in time")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
	if elapsed < deadline-10*time.Millisecond || elapsed > deadline+500*time.Millisecond { // the clock started after the context; a loaded CI machine is slow to wake
		t.Errorf("gave up after %v, want just after %v", elapsed, deadline)
	}
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the backend saw %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the backend never saw the call cancelled")
	}
	if srv.Hits() != 1 {
		t.Errorf("%d calls, want 1: no time was left to retry", srv.Hits())
	}
}

// TestAttemptTimeout holds that each attempt has its own deadline, and that
// an idempotent call is retried after one runs out.
func TestAttemptTimeout(t *testing.T) {
	cancelled := make(chan error, 4)
	srv := backendtest.NewServer(t, backendtest.Hang(cancelled), backendtest.Reply(http.StatusOK, jsonType, file(t, "track_response.json")))
	c := connect(t, srv, func(c *backend.Config) { c.Timeout = 100 * time.Millisecond })
	start := time.Now()
	res, err := c.Do(t.Context(), trackCall)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 400*time.Millisecond {
		t.Errorf("took %v, want the 100ms timeout, a short wait and an answer", d)
	}
	if res.Vars["status"] != "processing" || srv.Hits() != 2 {
		t.Errorf("result %v after %d calls, want processing after 2", res, srv.Hits())
	}
	select {
	case <-cancelled:
	case <-time.After(2 * time.Second):
		t.Fatal("the backend never saw the first attempt cancelled")
	}
}

func TestCallerCancels(t *testing.T) {
	cancelled := make(chan error, 4)
	srv := backendtest.NewServer(t, backendtest.Hang(cancelled))
	c := connect(t, srv, func(c *backend.Config) { c.Breaker.Failures = 1 })
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.Do(ctx, trackCall)
	wantError(t, err, guichet.EUNAVAILABLE, "call cancelled")
	if !errors.Is(err, context.Canceled) || srv.Hits() != 1 {
		t.Errorf("error %v after %d calls, want context.Canceled after 1", err, srv.Hits())
	}
	if c.Breaker().State() != backend.Closed {
		t.Errorf("a caller's cancellation was held against the backend: breaker %v", c.Breaker().State())
	}
}

func TestMutualTLS(t *testing.T) {
	pki := backendtest.NewPKI(t)
	other := backendtest.NewPKI(t)
	answer := backendtest.Reply(http.StatusOK, jsonType, file(t, "track_response.json"))
	tests := []struct {
		name    string
		tls     backend.TLSConfig
		wantMsg string // "" for success
	}{
		{"client certificate", backend.TLSConfig{CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile, CAFile: pki.CAFile}, ""},
		{"server name", backend.TLSConfig{CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile, CAFile: pki.CAFile, ServerName: "localhost"}, ""},
		{"no client certificate", backend.TLSConfig{CAFile: pki.CAFile}, "civil-status registry is unavailable: refused by the server's TLS"},
		{"certificate of another PKI", backend.TLSConfig{CertFile: other.ClientCertFile, KeyFile: other.ClientKeyFile, CAFile: pki.CAFile},
			"civil-status registry is unavailable: refused by the server's TLS"},
		{"server of another PKI", backend.TLSConfig{CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile, CAFile: other.CAFile},
			"civil-status registry is unavailable: TLS handshake failed"},
		{"wrong server name", backend.TLSConfig{CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile, CAFile: pki.CAFile, ServerName: "elsewhere"},
			"civil-status registry is unavailable: TLS handshake failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := backendtest.NewTLSServer(t, pki.ServerTLS(), answer)
			c, err := New(config(t, srv.URL, func(c *backend.Config) { c.TLS = tt.tls }), nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Do(t.Context(), trackCall)
			if tt.wantMsg == "" {
				if err != nil || res.Vars["status"] != "processing" || srv.Hits() != 1 {
					t.Fatalf("Do: %v, %v after %d calls", res, err, srv.Hits())
				}
				return
			}
			wantError(t, err, guichet.EUNAVAILABLE, tt.wantMsg)
			if srv.Hits() != 0 {
				t.Errorf("the server handled %d requests from a refused client", srv.Hits())
			}
		})
	}
}

func TestAnswerSize(t *testing.T) {
	prefix, suffix := []byte(`{"data": {"reference": "EC2026000421", "pad": "`), []byte(`"}}`)
	sized := func(n int) []byte {
		return append(append(append([]byte(nil), prefix...), bytes.Repeat([]byte("x"), n-len(prefix)-len(suffix))...), suffix...)
	}
	for _, tt := range []struct {
		name string
		size int
		ok   bool
	}{
		{"at the limit", backend.MaxBody, true},
		{"over the limit", backend.MaxBody + 1, false},
		{"far over the limit", 8 * backend.MaxBody, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := backendtest.NewServer(t, backendtest.Reply(http.StatusOK, jsonType, sized(tt.size)))
			res, err := connect(t, srv, nil).Do(t.Context(), openCall)
			if tt.ok {
				if err != nil || res.Vars["ref"] != "EC2026000421" {
					t.Fatalf("Do: %v, %v", res, err)
				}
				return
			}
			wantError(t, err, guichet.EUNAVAILABLE, "civil-status registry is unavailable: answer over 1048576 bytes")
		})
	}
}

func TestNew(t *testing.T) {
	endpoint := "http://127.0.0.1:1"
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name   string
		change func(c *backend.Config)
		client *http.Client
		want   string
	}{
		{"soap type", func(c *backend.Config) { c.Type = "soap" }, nil, `rest: backend type "soap", want "rest"`},
		{"invalid", func(c *backend.Config) { c.Endpoint = "http://etatcivil.example" }, nil,
			"rest backend civil-status registry: endpoint \"http://etatcivil.example\": http is only allowed on the loopback interface"},
		{"missing certificate", func(c *backend.Config) { c.TLS = backend.TLSConfig{CertFile: missing, KeyFile: missing} }, nil,
			"rest backend civil-status registry: tls: reading cert_file: open " + missing + ": no such file or directory"},
		{"client and TLS", func(c *backend.Config) { c.TLS.CAFile = missing }, &http.Client{},
			"tls is set, but an HTTP client was given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(t, endpoint, tt.change)
			if _, err := New(cfg, tt.client); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want %q", err, tt.want)
			}
		})
	}
}

// TestOwnMistakes holds that what is wrong on our side is not blamed on the
// backend, which is not called.
func TestOwnMistakes(t *testing.T) {
	srv := backendtest.NewServer(t, backendtest.Reply(http.StatusOK, jsonType, []byte(`{}`)))
	c := connect(t, srv, nil)
	for _, tt := range []struct {
		call menus.Call
		want string
	}{
		{menus.Call{Op: "callback.request"}, `rest backend civil-status registry: no operation "callback.request"`},
		{with(openCall, func(c *menus.Call) { c.Args = map[string]string{"office": "x", "name": "y"} }),
			"preparing cases.open: request field birth_date: {{born}}: no such variable"},
		{with(trackCall, func(c *menus.Call) { c.Args = nil }), "preparing cases.track: path: {{ref}}: no such variable"},
	} {
		_, err := c.Do(t.Context(), tt.call)
		wantError(t, err, guichet.EINTERNAL, "")
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %q, want %q", err, tt.want)
		}
	}
	if srv.Hits() != 0 || c.Breaker().State() != backend.Closed {
		t.Errorf("%d calls, breaker %v; want none and closed", srv.Hits(), c.Breaker().State())
	}
}
