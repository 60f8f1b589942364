package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/postgres/pgtest"
	"github.com/guichet/guichet/web"
	"github.com/guichet/guichet/web/webtest"
)

// TestWebDialogues plays every transcript in testdata/web through the
// whole gateway, over HTTP on the web channel's pages, and compares each
// page's visible text with the one written after it. A transcript is made
// of:
//
//	phone +237677100001   the citizen from now on
//	lang en               the sign-in page's language (French unless said)
//	signin                ask a code, read it from the outbox, type it
//	> 1                   an option's button, or a typed answer
//	new                   the end page's button: a new dialogue
//	< …                   the page's text expected after the line above
//
// go test ./cmd/guichet -run TestWebDialogues -update rewrites the pages.
func TestWebDialogues(t *testing.T) { playWebAll(t, nil) }

// TestWebDialoguesOnPostgres plays the same pages with cases, bookings and
// the outbox in PostgreSQL.
func TestWebDialoguesOnPostgres(t *testing.T) {
	if *update {
		return // the transcripts are rewritten from the memory run
	}
	playWebAll(t, func(t *testing.T, c *Config) {
		c.DatabaseURL, c.Migrate, c.Seed = pgtest.DB(t), true, true
		forceDemo(c)
	})
}

func playWebAll(t *testing.T, edit func(*testing.T, *Config)) {
	services := map[string]bool{}
	for _, name := range playGolden(t, "../../testdata/web/*.txt", "pages", edit, playWeb) {
		services[strings.TrimSuffix(strings.TrimSuffix(name, "-fr"), "-en")] = true
	}
	// Every built-in service has its web dialogue.
	for _, svc := range []string{"covid", "birth-certificate", "visit", "track", "courrier-business"} {
		if !services[svc] {
			t.Errorf("no web dialogue of %s in testdata/web", svc)
		}
	}
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// webCode is the last sign-in code the gateway's outbox holds for ph.
func webCode(t *testing.T, g *testGateway, ph string) func() string {
	return func() string {
		t.Helper()
		msgs, err := g.stores.outbox.Messages(context.Background(), ph, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs { // newest first
			if m.Kind == web.KindCode {
				return sixDigits.FindString(m.Body)
			}
		}
		t.Fatalf("no sign-in code in the outbox (%d messages)", len(msgs))
		return ""
	}
}

func playWeb(t *testing.T, script string, g *testGateway) string {
	t.Helper()
	var out strings.Builder
	c := webtest.New(t, g.url+"/m/")
	ph := "+237677100001"
	heaviest := 0
	defer func() { t.Logf("the heaviest page: %d bytes", heaviest) }()
	show := func(p webtest.Page) {
		heaviest = max(heaviest, len(p.HTML))
		if p.Status != http.StatusOK {
			fmt.Fprintf(&out, "< HTTP %d\n", p.Status)
		}
		if len(p.HTML) > 4096 {
			t.Errorf("a page of %d bytes, over 4 KB", len(p.HTML))
		}
		for _, l := range strings.Split(webtest.Text(p.HTML), "\n") {
			out.WriteString("< " + l + "\n")
		}
	}
	for _, line := range strings.Split(strings.TrimRight(script, "\n"), "\n") {
		if strings.HasPrefix(line, "<") {
			continue // expected output: rewritten below
		}
		out.WriteString(line + "\n")
		cmd, arg, _ := strings.Cut(line, " ")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case cmd == "phone":
			ph = arg
		case cmd == "lang":
			show(c.Get("?lang=" + arg))
		case cmd == "signin":
			show(c.SignIn(ph, webCode(t, g, ph)))
		case cmd == ">":
			show(c.Send(arg))
		case cmd == "new":
			show(c.Post("new", nil))
		default:
			t.Fatalf("unknown web dialogue line %q", line)
		}
	}
	return out.String()
}

// web: in the configuration: a path of its own, origins that may frame
// the pages, an idle timeout within bounds; disabled, nothing checks it.
func TestWebConfig(t *testing.T) {
	for _, tc := range []struct {
		label string
		edit  func(*WebConfig)
		want  string // "" : valid
	}{
		{"the default", func(*WebConfig) {}, ""},
		{"another path", func(w *WebConfig) { w.Path = "/services/" }, ""},
		{"a portal", func(w *WebConfig) { w.FrameAncestors = []string{"https://portail.example.cm"} }, ""},
		{"no trailing slash", func(w *WebConfig) { w.Path = "/m" }, `web.path "/m"`},
		{"the root", func(w *WebConfig) { w.Path = "/" }, `web.path "/"`},
		{"the console's", func(w *WebConfig) { w.Path = "/hotline/m/" }, `web.path "/hotline/m/"`},
		{"a pattern", func(w *WebConfig) { w.Path = "/{x}/" }, `web.path "/{x}/"`},
		{"disabled, any path", func(w *WebConfig) { w.Disabled, w.Path = true, "" }, ""},
		{"not an origin", func(w *WebConfig) { w.FrameAncestors = []string{"https://portail.example.cm/page"} }, "web.frame_ancestors"},
		{"a policy injected", func(w *WebConfig) { w.FrameAncestors = []string{"https://a.example; script-src *"} }, "web.frame_ancestors"},
		{"idle too long", func(w *WebConfig) { w.IdleTimeout = 13 * time.Hour }, "web.idle_timeout"},
		{"no limit by address", func(w *WebConfig) { w.CodesPerAddress = -1 }, ""},
		{"a negative limit", func(w *WebConfig) { w.CodesPerAddress = -2 }, "web.codes_per_address"},
	} {
		cfg := defaultConfig()
		tc.edit(&cfg.Web)
		err := cfg.validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.label, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error about %s", tc.label, err, tc.want)
		}
	}
}

// The gateway mounts the pages at web.path, sends /m to /m/, and mounts
// nothing when disabled.
func TestWebMounted(t *testing.T) {
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	g := newTestGateway(t, func(c *Config) { c.Web.Path = "/services/" })
	for path, want := range map[string]int{"/services/": http.StatusOK, "/services": http.StatusMovedPermanently,
		"/services/web.css": http.StatusOK, "/m/": http.StatusNotFound} {
		resp, err := noRedirect.Get(g.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
		if want == http.StatusOK && (resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN") {
			t.Errorf("GET %s: no content security policy, or frames from anywhere: %v", path, resp.Header)
		}
	}
	off := newTestGateway(t, func(c *Config) { c.Web.Disabled = true })
	resp, err := http.Get(off.url + "/m/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("disabled, GET /m/: %d", resp.StatusCode)
	}
}
