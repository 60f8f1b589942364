package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/postgres"
)

// The probe's bad bytes, on PostgreSQL, whose text refuses a NUL and
// invalid UTF-8: each was a 500 logged at ERROR (the sign-in's without
// signing in); each is a 400 now, and every answer of the gateway says
// nosniff.
func TestBadBytesOnPostgres(t *testing.T) {
	db, pool := migrated(t)
	cfg := defaultConfig()
	cfg.HTTP, cfg.DatabaseURL, cfg.Hotline.InsecureCookies = "127.0.0.1:0", db, true
	key := apikey.New()
	if err := postgres.New(pool).Keys().AddAPIKey(t.Context(), apikey.Key{Owner: "civil-status", Created: time.Now(), PerSecond: 1000}, apikey.Hash(key)); err != nil {
		t.Fatal(err)
	}
	base, logs, _ := serveTest(t, cfg)

	for _, tt := range []struct{ method, path, body string }{
		{"GET", "/api/v1/cases?status=%00", ""},
		{"GET", "/api/v1/cases?status=%ff", ""},
		{"POST", "/api/v1/cases/20000011/events", `{"status":"processing","note":"a\u0000b"}`},
		{"POST", "/api/v1/messages", `{"to":["+237677123456"],"text":{"fr":"a\u0000b"}}`},
	} {
		code, body := apiCall(t, tt.method, base+tt.path, key, tt.body)
		if code != http.StatusBadRequest || !strings.Contains(body, `"status":400`) {
			t.Errorf("%s %s: %d %s, want a 400 problem", tt.method, tt.path, code, body)
		}
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/hotline/signin")
	if err != nil {
		t.Fatal(err)
	}
	page := new(strings.Builder)
	resp.Write(page)
	resp.Body.Close()
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.String())
	if token == nil {
		t.Fatal("no token on the sign-in page")
	}
	resp, err = c.PostForm(base+"/hotline/signin", url.Values{"csrf": {token[1]}, "name": {"adm\x00in"}, "password": {"xxxxxxxxxxxx"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("signing in with a NUL in the name: %d, want 400", resp.StatusCode)
	}

	for _, path := range []string{"/healthz", "/metrics", "/api/v1/services", "/hotline/signin"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", path, resp.Header.Get("X-Content-Type-Options"))
		}
	}
	if strings.Contains(logs.String(), "request failed") {
		t.Errorf("bad bytes were logged as errors:\n%s", logs)
	}
}
