package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkWebSideBySide is a hop of the web page, an answer posted and
// the next screen shown (303, then GET), beside a bare net/http handler
// that answers the same two requests with a constant page the size of a
// screen: what the engine, the session store and the templates cost on
// top of serving HTML at all.
func BenchmarkWebSideBySide(b *testing.B) {
	b.Run("bare-handler", func(b *testing.B) {
		page := "<!doctype html><html lang=fr><title>Guichet</title><main><h1>Guichet: services publics</h1>" +
			strings.Repeat("<button name=in value=1>1 Service public</button>", 18) + "</main>"
		mux := http.NewServeMux()
		mux.HandleFunc("POST /m/", func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			http.Redirect(w, r, "/m/", http.StatusSeeOther)
		})
		mux.HandleFunc("GET /m/", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, page)
		})
		srv := httptest.NewServer(mux)
		b.Cleanup(srv.Close)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		for b.Loop() {
			resp, err := c.PostForm(srv.URL+"/m/", url.Values{"in": {"1"}, "csrf": {"x"}, "hop": {"1"}})
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("web", func(b *testing.B) {
		r := newRig(b)
		c := r.client()
		const ph = "+237677000901"
		if p := c.SignIn(ph, r.code(ph)); strings.Contains(p.HTML, "Choose language") {
			c.Send("1") // French: the home menu
		}
		in := "1"
		for b.Loop() {
			// Into COVID-19's menu, and back home, in turn.
			if p := c.Send(in); p.Status != http.StatusOK {
				b.Fatalf("hop %q: %d", in, p.Status)
			}
			if in == "1" {
				in = "0"
			} else {
				in = "1"
			}
		}
		if !strings.Contains(c.Last.HTML, "COVID-19") {
			b.Fatalf("the last page: %s", c.Last.HTML)
		}
	})
}
