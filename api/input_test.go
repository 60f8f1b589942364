package api_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet/api"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/phone/phonetest"
)

// callbacksMock fails the test when called.
type callbacksMock struct{ t *testing.T }

func (c callbacksMock) SetCallback(context.Context, string, string, string) error {
	c.t.Fatal("SetCallback was not expected")
	return nil
}

// A NUL or bytes that are not UTF-8 in a path, a query parameter or a JSON
// body (a \u0000 escape included) get a 400 problem and reach no store
// (PostgreSQL's text refuses them: they were 500s).
func TestBadBytesAreRefused(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	const key = "cs-key-1"
	tests := []struct {
		name, method, path, body, says string
	}{
		{"status, NUL", "GET", "/api/v1/cases?status=%00", "", `query parameter \"status\"`},
		{"status, not UTF-8", "GET", "/api/v1/cases?status=%ff", "", `query parameter \"status\"`},
		{"after", "GET", "/api/v1/cases?after=2%0000", "", `query parameter \"after\"`},
		{"a parameter's name", "GET", "/api/v1/messages?st%ffate=sent", "", "query parameter \\\"st\ufffdate\\\""},
		{"message state", "GET", "/api/v1/messages?state=%00", "", `query parameter \"state\"`},
		{"services, without a key", "GET", "/api/v1/services?lang=%ff", "", `query parameter \"lang\"`},
		{"reference in the path", "GET", "/api/v1/cases/2000%0011", "", "the path holds a NUL"},
		{"note, escaped NUL", "POST", "/api/v1/cases/20000011/events", `{"status":"processing","note":"a\u0000b"}`, "malformed JSON body: the body holds a NUL"},
		{"status, escaped NUL", "POST", "/api/v1/cases/20000011/events", `{"status":"process\u0000ing"}`, "the body holds a NUL"},
		{"a key, escaped NUL", "POST", "/api/v1/cases/20000011/events", `{"status":"processing","\u0000":1}`, "the body holds a NUL"},
		{"note, not UTF-8", "POST", "/api/v1/cases/20000011/events", "{\"status\":\"processing\",\"note\":\"\xc3(\"}", "the body holds a NUL"},
		{"SMS text", "POST", "/api/v1/messages", `{"to":["+237677123456"],"text":{"fr":"Bonjour\u0000"}}`, "the body holds a NUL"},
		{"number", "POST", "/api/v1/messages", `{"to":["+237677\u0000123456"],"text":{"fr":"Bonjour"}}`, "the body holds a NUL"},
		{"callback URL", "PUT", "/api/v1/callback", `{"url":"https://ministere.cm/\u0000"}`, "the body holds a NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &notifier{}
			srv := &api.Server{Catalogue: cat, Cases: &caseMock{t: t}, Keys: testKeys(t, key), Notify: n, Callbacks: callbacksMock{t},
				Log: phonetest.NewLog(t).Logger()}
			r := chi.NewRouter()
			srv.Routes(r)
			req := httptest.NewRequest(tt.method, "/", strings.NewReader(tt.body))
			req.URL.RawQuery = ""
			if u, err := req.URL.Parse(tt.path); err == nil {
				req.URL = u
			} else {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+key)
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			var p api.Problem
			if rec.Code != 400 || rec.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil {
				t.Fatalf("%s %s: %d %s, want a 400 problem", tt.method, tt.path, rec.Code, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.says) {
				t.Errorf("%s %s: %s, want it to say %s", tt.method, tt.path, rec.Body, tt.says)
			}
			if n.sends.Load() != 0 {
				t.Errorf("the messages were sent")
			}
		})
	}
	// A backslash before u0000 that is itself escaped is no NUL.
	mock := &caseMock{t: t, moveFn: func(ref string, m cases.Move, _ string) (cases.Case, error) { return sample(ref, m.Status), nil }}
	srv := &api.Server{Catalogue: cat, Cases: mock, Keys: testKeys(t, key), Log: phonetest.NewLog(t).Logger()}
	r := chi.NewRouter()
	srv.Routes(r)
	req := httptest.NewRequest("POST", "/api/v1/cases/20000011/events", strings.NewReader(`{"status":"processing","note":"C:\\u0000 é"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != 201 || mock.lastMove.Note != `C:\u0000 é` {
		t.Errorf("an escaped backslash before u0000: %d %s, note %q", rec.Code, rec.Body, mock.lastMove.Note)
	}
}

// Every answer of the API says nosniff, and its JSON is HTML-safe: a
// citizen's <script> typed at a USSD prompt comes back as \u003cscript\u003e.
func TestHeadersAndHTMLSafeJSON(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	const key = "cs-key-1"
	mock := &caseMock{t: t, caseFn: func(ref, _ string) (cases.Case, error) {
		c := sample(ref, "received")
		c.Data = map[string]string{"name": "<script>alert(1)</script> & co"}
		return c, nil
	}}
	srv := &api.Server{Catalogue: cat, Cases: mock, Keys: testKeys(t, key), Log: phonetest.NewLog(t).Logger()}
	r := chi.NewRouter()
	srv.Routes(r)
	for _, tt := range []struct {
		path   string
		key    bool
		status int
	}{
		{"/api/v1/openapi.json", false, 200},
		{"/api/v1/services", false, 200},
		{"/api/v1/cases/20000011", true, 200},
		{"/api/v1/cases/20000011", false, 401},
		{"/api/v1/cases?limit=0", true, 400},
	} {
		req := httptest.NewRequest("GET", tt.path, nil)
		if tt.key {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != tt.status || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: %d, X-Content-Type-Options %q; want %d and nosniff", tt.path, rec.Code, rec.Header().Get("X-Content-Type-Options"), tt.status)
		}
		if body := rec.Body.String(); tt.path == "/api/v1/cases/20000011" && tt.key &&
			(strings.ContainsAny(body, "<>&") || !strings.Contains(body, `\u003cscript\u003ealert(1)\u003c/script\u003e \u0026 co`)) {
			t.Errorf("the case's JSON is not HTML-safe: %s", body)
		}
	}
}
