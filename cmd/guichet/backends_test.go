package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const soapTrack = `<?xml version="1.0"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body><SuivreCourrierResponse xmlns="urn:ged:courrier:v2">
    <Numero>10000036</Numero><Etat>Transmis au cabinet</Etat><DateMaj>30/11/2026</DateMaj>
  </SuivreCourrierResponse></soap:Body>
</soap:Envelope>`

const soapUnknown = `<?xml version="1.0"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>Courrier inconnu</faultstring>
    <detail><e:CodeErreur xmlns:e="urn:ged:erreurs">CourrierInconnu</e:CodeErreur></detail>
  </soap:Fault></soap:Body>
</soap:Envelope>`

// menusWithBackend copies the built-in catalogue into a folder, with the
// official mail service backed by a SOAP system at endpoint.
func menusWithBackend(t *testing.T, endpoint string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../../menus/catalogue/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("built-in catalogue not found: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "courrier.yaml" {
			b = append(b, []byte(`backend:
  type: soap
  name: courrier tracking
  endpoint: `+endpoint+`
  timeout: 300ms
  retries: 0
  breaker: {failures: 2, open: 1m}
  error_code: detail/CodeErreur
  operations:
    cases.track:
      action: "urn:ged:courrier#Suivre"
      element: SuivreCourrier
      namespace: "urn:ged:courrier:v2"
      idempotent: true
      request: {Numero: "{{ref}}"}
      response: {ref: Body/SuivreCourrierResponse/Numero, status: Body/SuivreCourrierResponse/Etat, updated: Body/SuivreCourrierResponse/DateMaj}
      errors: {CourrierInconnu: not_found}
`)...)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A service backed by its ministry's SOAP system: the caller walks the same
// menu; a slow or failing system gets the polite "try again" screen and the
// session goes on.
func TestSOAPBackedService(t *testing.T) {
	var mode atomic.Value
	var calls atomic.Int64
	mode.Store("ok")
	soap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(body), "<Numero>10000036</Numero>") {
			t.Errorf("SOAP request lacks the reference: %s", body)
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		switch mode.Load() {
		case "slow":
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		case "unknown":
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, soapUnknown)
		default:
			io.WriteString(w, soapTrack)
		}
	}))
	defer soap.Close()
	g := newTestGateway(t, func(c *Config) { c.Menus = menusWithBackend(t, soap.URL) })

	hop := func(session, text string) string {
		resp, err := http.PostForm(g.url+"/ussd/demo", url.Values{"sessionId": {session}, "phoneNumber": {"+237677300001"},
			"serviceCode": {"*123#"}, "text": {text}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	tests := []struct {
		mode, want string
	}{
		{"ok", "END Courrier 10000036: Transmis au cabinet le 30/11/2026."},
		{"unknown", "END Aucun courrier 10000036."},
		{"slow", "CON Le service met du temps a repondre.\n1 Reessayer"},
	}
	for i, tt := range tests {
		mode.Store(tt.mode)
		session := "soap-" + tt.mode
		hop(session, "")
		if i == 0 {
			hop(session, "1") // French, once for this phone
		}
		text := "5*10000036"
		if i == 0 {
			text = "1*5*10000036"
		}
		hop(session, strings.SplitN(text, "*10000036", 2)[0])
		start := time.Now()
		got := hop(session, text)
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s backend: got %q, want %q", tt.mode, got, tt.want)
		}
		if tt.mode == "slow" {
			if d := time.Since(start); d > 2500*time.Millisecond {
				t.Errorf("a slow backend held the hop %v", d)
			}
			// The system recovers: the caller tries again from the same screen.
			mode.Store("ok")
			if got := hop(session, text+"*1"); !strings.HasPrefix(got, tests[0].want) {
				t.Errorf("after recovery: %q", got)
			}
		}
	}
	if calls.Load() != 4 {
		t.Errorf("the SOAP system was called %d times, want 4", calls.Load())
	}
}

func TestMenusCheckReadsBackends(t *testing.T) {
	dir := menusWithBackend(t, "http://127.0.0.1:1/ws")
	var out strings.Builder
	if err := run(t.Context(), []string{"menus", "check", dir}, nil, &out, io.Discard, nil); err != nil {
		t.Fatalf("a valid backend was refused: %v\n%s", err, out.String())
	}
	b, _ := os.ReadFile(filepath.Join(dir, "courrier.yaml"))
	b = []byte(strings.Replace(string(b), "cases.track:", "cases.archive:", 1))
	os.WriteFile(filepath.Join(dir, "courrier.yaml"), b, 0o644)
	out.Reset()
	err := run(t.Context(), []string{"menus", "check", dir}, nil, &out, io.Discard, nil)
	if err == nil || !strings.Contains(out.String(), `courrier.yaml:`) || !strings.Contains(out.String(), `unknown operation "cases.archive"`) {
		t.Errorf("an unknown backend operation passed: %v\n%s", err, out.String())
	}
}
