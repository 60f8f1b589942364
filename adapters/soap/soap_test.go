package soap

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/adapters/backend"
	"github.com/guichet/guichet/adapters/backend/backendtest"
	"github.com/guichet/guichet/menus"
)

var update = flag.Bool("update", false, "rewrite the golden requests in testdata/requests with what the connector sends")

const (
	xml11 = "text/xml; charset=utf-8"
	xml12 = "application/soap+xml; charset=utf-8"
)

// The calls of the tests, as the engine makes them.
var (
	openCall = menus.Call{
		Op: "cases.open", Service: "courrier", Phone: "+237677123456", Lang: "fr", Channel: "ussd",
		Args: map[string]string{"subject": `Demande <urgente> & "prioritaire" ]]> d'Étienne`},
		Key:  "3f2a9c-0001",
	}
	trackCall = menus.Call{
		Op: "cases.track", Service: "courrier", Phone: "+237677123456", Lang: "en", Channel: "hotline",
		Args: map[string]string{"ref": "GED-2026-0042"},
	}
	officesCall = menus.Call{Op: "offices.list", Service: "courrier", Phone: "+237677123456", Lang: "fr", Channel: "ussd"}
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
	cfg.Endpoint = endpoint + "/ws/CourrierService"
	if change != nil {
		change(&cfg)
	}
	return cfg
}

// v12 switches a configuration to SOAP 1.2.
func v12(c *backend.Config) {
	c.Version = backend.SOAP12
	c.ErrorCode = "Detail/CodeErreur"
}

func connect(t *testing.T, srv *backendtest.Server, change func(c *backend.Config)) *Connector {
	t.Helper()
	c, err := New(config(t, srv.URL, change), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

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
		change   func(c *backend.Config)
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
		{name: "open 1.1", call: openCall, status: 200, ctype: xml11, file: "open_case_response.xml", golden: "open_case_11.txt",
			want: menus.Result{Vars: map[string]string{"ref": "GED-2026-0042"}}},
		{name: "open 1.2", call: openCall, change: v12, status: 200, ctype: xml12, file: "open_case_response_12.xml", golden: "open_case_12.txt",
			want: menus.Result{Vars: map[string]string{"ref": "GED-2026-0043"}}},
		{name: "track", call: trackCall, status: 200, ctype: xml11, file: "track_response.xml", golden: "track_11.txt",
			want: menus.Result{Vars: map[string]string{"ref": "GED-2026-0042", "status": "En cours & transmis", "updated": "2026-11-30"}}},
		{name: "track in ISO-8859-1", call: trackCall, status: 200, ctype: "text/xml", file: "track_response_latin1.xml",
			want: menus.Result{Vars: map[string]string{"ref": "GED-2026-0042", "status": "Traité", "updated": "2026-11-30"}}},
		{name: "track as application/xml", call: trackCall, status: 200, ctype: "application/xml", file: "track_response.xml",
			want: menus.Result{Vars: map[string]string{"ref": "GED-2026-0042", "status": "En cours & transmis", "updated": "2026-11-30"}}},
		{name: "offices", call: officesCall, status: 200, ctype: xml11, file: "offices_response.xml", golden: "offices_11.txt",
			want: menus.Result{Options: []menus.Choice{{ID: "MINFOPRA-YDE", Label: "Yaoundé, bureau courrier"}, {ID: "MINFOPRA-DLA", Label: "Douala"}}}},
		{name: "no offices", call: officesCall, status: 200, ctype: xml11, file: "offices_empty.xml",
			want: menus.Result{Options: []menus.Choice{}}},

		// Faults.
		{name: "1.1 fault mapped by its detail", call: trackCall, status: 500, ctype: xml11, file: "fault_not_found_11.xml",
			wantCode: guichet.ENOTFOUND, wantMsg: "not found by courrier tracking (CourrierInconnu)"},
		{name: "1.1 Client fault", call: openCall, status: 500, ctype: xml11, file: "fault_client_11.xml",
			wantCode: guichet.EINVALID, wantMsg: "refused by courrier tracking as invalid (fault Client.Validation)"},
		{name: "1.1 Server fault, retried", call: trackCall, status: 500, ctype: xml11, file: "fault_server_11.xml", wantHits: 2,
			wantCode: guichet.EUNAVAILABLE, wantMsg: "courrier tracking is unavailable: SOAP fault Server (2 attempts)"},
		{name: "1.1 Server fault on an unsafe call, not retried", call: openCall, status: 500, ctype: xml11, file: "fault_server_11.xml",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "courrier tracking is unavailable: SOAP fault Server"},
		{name: "1.1 VersionMismatch, not retried", call: trackCall, status: 500, ctype: xml11, file: "fault_version_mismatch_11.xml",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "courrier tracking is unavailable: SOAP fault VersionMismatch"},
		{name: "1.2 fault mapped by its subcode", call: trackCall, change: v12, status: 400, ctype: xml12, file: "fault_not_found_12.xml",
			wantCode: guichet.ENOTFOUND, wantMsg: "not found by courrier tracking (CourrierInconnu)"},
		{name: "1.2 fault mapped by its detail", call: openCall, change: v12, status: 400, ctype: xml12, file: "fault_detail_12.xml",
			wantCode: guichet.ECONFLICT, wantMsg: "refused by courrier tracking: conflict (CourrierEnDouble)"},
		{name: "1.2 Sender fault", call: trackCall, change: v12, status: 400, ctype: xml12, file: "fault_sender_12.xml",
			wantCode: guichet.EINVALID, wantMsg: "as invalid (fault Sender)"},
		{name: "1.2 Receiver fault, retried", call: trackCall, change: v12, status: 500, ctype: xml12, file: "fault_server_12.xml", wantHits: 2,
			wantCode: guichet.EUNAVAILABLE, wantMsg: "courrier tracking is unavailable: SOAP fault Receiver (2 attempts)"},
		{name: "fault with HTTP 200", call: trackCall, status: 200, ctype: xml11, file: "fault_not_found_11.xml",
			wantCode: guichet.ENOTFOUND, wantMsg: "(CourrierInconnu)"},

		// Broken answers and HTTP failures.
		{name: "malformed", call: trackCall, status: 200, ctype: xml11, file: "malformed.xml",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "courrier tracking is unavailable: answer is not a SOAP envelope"},
		{name: "not an envelope", call: trackCall, status: 200, ctype: xml11, file: "not_envelope.xml",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "answer is not a SOAP envelope"},
		{name: "no body", call: trackCall, status: 200, ctype: xml11, file: "no_body.xml",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "answer is not a SOAP envelope"},
		{name: "DTD", call: trackCall, status: 200, ctype: xml11, file: "dtd.xml",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "answer is not a SOAP envelope"},
		{name: "two envelopes", call: trackCall, status: 200, ctype: xml11, file: "two_roots.xml",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "answer is not a SOAP envelope"},
		{name: "HTML", call: trackCall, status: 200, ctype: "text/html", file: "proxy_error.html",
			wantCode: guichet.EUNAVAILABLE, wantMsg: `courrier tracking is unavailable: answer is "text/html", not XML`},
		{name: "missing value", call: openCall, status: 200, ctype: xml11, file: "track_response.xml",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "answer has no value at Body/DeposerCourrierResponse/Numero (for ref)"},
		{name: "503 from a proxy, retried", call: trackCall, status: 503, ctype: "text/html", file: "proxy_error.html", wantHits: 2,
			wantCode: guichet.EUNAVAILABLE, wantMsg: "courrier tracking is unavailable: HTTP 503 Service Unavailable (2 attempts)"},
		{name: "500 without a fault", call: trackCall, status: 500, ctype: "text/plain",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "courrier tracking is unavailable: HTTP 500 Internal Server Error"},
		{name: "502 with broken XML, retried", call: trackCall, status: 502, ctype: xml11, file: "malformed.xml", wantHits: 2,
			wantCode: guichet.EUNAVAILABLE, wantMsg: "HTTP 502 Bad Gateway (2 attempts)"},
		{name: "404", call: trackCall, status: 404, ctype: "text/html", file: "proxy_error.html",
			wantCode: guichet.EUNAVAILABLE, wantMsg: "HTTP 404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.file != "" {
				body = file(t, tt.file)
			}
			srv := backendtest.NewServer(t, backendtest.Reply(tt.status, tt.ctype, body))
			c := connect(t, srv, tt.change)
			res, err := c.Do(t.Context(), tt.call)
			if wantHits := max(tt.wantHits, 1); srv.Hits() != wantHits {
				t.Errorf("the backend was called %d times, want %d", srv.Hits(), wantHits)
			}
			if tt.wantCode != "" {
				wantError(t, err, tt.wantCode, tt.wantMsg)
				if !strings.HasPrefix(err.Error(), tt.call.Op+" on courrier tracking: ") {
					t.Errorf("error %q does not say what was being done", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if !reflect.DeepEqual(res, tt.want) {
				t.Errorf("result %#v, want %#v", res, tt.want)
			}
			if tt.golden != "" {
				got := backendtest.Dump(srv.Requests()[0], "Accept", "Content-Type", "SOAPAction", "X-Request-Id")
				backendtest.Golden(t, filepath.Join("testdata", "requests", tt.golden), got, *update)
			}
		})
	}
}

// TestRetry holds that a Server fault is retried only when repeating the
// call is harmless, with the same idempotency key wherever it goes.
func TestRetry(t *testing.T) {
	header := func(c *backend.Config) { c.Idempotency = backend.Idempotency{Header: "X-Request-Id", Honoured: true} }
	element := func(c *backend.Config) { c.Idempotency.Honoured = true }
	tests := []struct {
		name     string
		call     menus.Call
		change   func(c *backend.Config)
		answer   string
		wantHits int
		wantKey  func(r backendtest.Request) string
	}{
		{"idempotent", trackCall, nil, "track_response.xml", 2, nil},
		{"key honoured in an element", openCall, element, "open_case_response.xml", 2, func(r backendtest.Request) string {
			env, err := parse(r.Body)
			if err != nil {
				return err.Error()
			}
			key, _ := env.Value("Header/IdentifiantRequete")
			return key
		}},
		{"key honoured in a header", openCall, header, "open_case_response.xml", 2, func(r backendtest.Request) string {
			return r.Header.Get("X-Request-Id")
		}},
		{"key not honoured", openCall, nil, "open_case_response.xml", 1, nil},
		{"no key", func() menus.Call { c := openCall; c.Key = ""; return c }(), element, "open_case_response.xml", 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := backendtest.NewServer(t,
				backendtest.Reply(http.StatusInternalServerError, xml11, file(t, "fault_server_11.xml")),
				backendtest.Reply(http.StatusOK, xml11, file(t, tt.answer)))
			_, err := connect(t, srv, tt.change).Do(t.Context(), tt.call)
			if srv.Hits() != tt.wantHits {
				t.Fatalf("the backend was called %d times, want %d (%v)", srv.Hits(), tt.wantHits, err)
			}
			if tt.wantHits == 1 {
				wantError(t, err, guichet.EUNAVAILABLE, "SOAP fault Server")
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			reqs := srv.Requests()
			if !bytes.Equal(reqs[0].Body, reqs[1].Body) {
				t.Errorf("the retry's envelope differs:\n%s\n%s", reqs[0].Body, reqs[1].Body)
			}
			if tt.wantKey != nil {
				for i, r := range reqs {
					if got := tt.wantKey(r); got != tt.call.Key {
						t.Errorf("attempt %d: key %q, want %q", i+1, got, tt.call.Key)
					}
				}
			}
		})
	}
}

func TestBreaker(t *testing.T) {
	srv := backendtest.NewServer(t, backendtest.Reply(http.StatusInternalServerError, xml12, file(t, "fault_server_12.xml")))
	c := connect(t, srv, func(c *backend.Config) {
		v12(c)
		c.Retries = new(0)
	})
	for range 3 {
		_, err := c.Do(t.Context(), trackCall)
		wantError(t, err, guichet.EUNAVAILABLE, "SOAP fault Receiver")
	}
	start := time.Now()
	_, err := c.Do(t.Context(), trackCall)
	wantError(t, err, guichet.EUNAVAILABLE, "courrier tracking is unavailable: not called after repeated failures")
	if srv.Hits() != 3 || time.Since(start) > 50*time.Millisecond {
		t.Errorf("with the breaker open: %d calls, answered in %v; want 3 calls and at once", srv.Hits(), time.Since(start))
	}
}

func TestDeadline(t *testing.T) {
	cancelled := make(chan error, 4)
	srv := backendtest.NewServer(t, backendtest.Hang(cancelled))
	c := connect(t, srv, nil)
	const deadline = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, trackCall)
	elapsed := time.Since(start)
	wantError(t, err, guichet.EUNAVAILABLE, "courrier tracking is unavailable: no answer in time")
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
}

func TestMutualTLS(t *testing.T) {
	pki := backendtest.NewPKI(t)
	for _, tt := range []struct {
		name string
		tls  backend.TLSConfig
		ok   bool
	}{
		{"client certificate", backend.TLSConfig{CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile, CAFile: pki.CAFile}, true},
		{"no client certificate", backend.TLSConfig{CAFile: pki.CAFile}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := backendtest.NewTLSServer(t, pki.ServerTLS(), backendtest.Reply(http.StatusOK, xml11, file(t, "track_response.xml")))
			c, err := New(config(t, srv.URL, func(c *backend.Config) { c.TLS = tt.tls }), nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Do(t.Context(), trackCall)
			if tt.ok {
				if err != nil || res.Vars["ref"] != "GED-2026-0042" {
					t.Fatalf("Do: %v, %v", res, err)
				}
				return
			}
			wantError(t, err, guichet.EUNAVAILABLE, "courrier tracking is unavailable: refused by the server's TLS")
			if srv.Hits() != 0 {
				t.Errorf("the server handled %d requests from a client without a certificate", srv.Hits())
			}
		})
	}
}

func TestAnswerSize(t *testing.T) {
	head := []byte(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><SuivreCourrierResponse><Numero>GED-2026-0042</Numero><Etat>ok</Etat><DateMaj>2026-11-30</DateMaj><!--`)
	tail := []byte(`--></SuivreCourrierResponse></soap:Body></soap:Envelope>`)
	sized := func(n int) []byte {
		return append(append(append([]byte(nil), head...), bytes.Repeat([]byte("x"), n-len(head)-len(tail))...), tail...)
	}
	for _, tt := range []struct {
		size int
		ok   bool
	}{{backend.MaxBody, true}, {backend.MaxBody + 1, false}} {
		srv := backendtest.NewServer(t, backendtest.Reply(http.StatusOK, xml11, sized(tt.size)))
		res, err := connect(t, srv, nil).Do(t.Context(), trackCall)
		if tt.ok {
			if err != nil || res.Vars["status"] != "ok" {
				t.Errorf("%d bytes: %v, %v", tt.size, res, err)
			}
			continue
		}
		wantError(t, err, guichet.EUNAVAILABLE, "courrier tracking is unavailable: answer over 1048576 bytes")
	}
}

func TestNew(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "ca.pem")
	for _, tt := range []struct {
		change func(c *backend.Config)
		want   string
	}{
		{func(c *backend.Config) { c.Type = "rest" }, `soap: backend type "rest", want "soap"`},
		{func(c *backend.Config) { c.Version = "2" }, `soap backend courrier tracking: version "2": want "1.1" or "1.2"`},
		{func(c *backend.Config) { c.TLS.CAFile = missing }, "soap backend courrier tracking: tls: reading ca_file: open " + missing},
	} {
		if _, err := New(config(t, "http://127.0.0.1:1", tt.change), nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New: %v, want %q", err, tt.want)
		}
	}
}

func TestUnknownOperation(t *testing.T) {
	srv := backendtest.NewServer(t, backendtest.Reply(http.StatusOK, xml11, nil))
	_, err := connect(t, srv, nil).Do(t.Context(), menus.Call{Op: "slots.book"})
	wantError(t, err, guichet.EINTERNAL, "")
	if !strings.Contains(err.Error(), `soap backend courrier tracking: no operation "slots.book"`) || srv.Hits() != 0 {
		t.Errorf("error %v after %d calls", err, srv.Hits())
	}
}
