package hotline_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every page says its policy: scripts from the console only, none inline;
// no frames, no sniffing. The console's one script is served as
// JavaScript, to anyone (it holds nothing).
func TestSecurityHeaders(t *testing.T) {
	r := newRig(t)
	for _, path := range []string{"/hotline/signin", "/hotline/console.js", "/hotline/nowhere"} {
		resp, err := http.Get(r.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		script := regexp.MustCompile(`script-src [^;]*`).FindString(csp)
		if script != "script-src 'self'" || !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q, want script-src 'self' alone", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: X-Content-Type-Options %q, X-Frame-Options %q", path, h.Get("X-Content-Type-Options"), h.Get("X-Frame-Options"))
		}
		if path == "/hotline/console.js" && (resp.StatusCode != 200 || h.Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(string(body), "data-fill")) {
			t.Errorf("the console's script: %d %q", resp.StatusCode, h.Get("Content-Type"))
		}
		if path == "/hotline/signin" && !strings.Contains(string(body), `<script src="/hotline/console.js" defer></script>`) {
			t.Errorf("the pages do not load the console's script")
		}
	}
}

// No template holds what that policy refuses: an inline script, an event
// handler attribute, a javascript: URL.
func TestTemplatesHoldNoInlineScript(t *testing.T) {
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	inline := regexp.MustCompile(`(?i)<script(\s[^>]*)?>|\son[a-z]+\s*=|javascript:`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range inline.FindAllString(string(b), -1) {
			if !strings.Contains(m, " src=") {
				t.Errorf("%s holds %q, which the content security policy refuses", f, m)
			}
		}
	}
}
