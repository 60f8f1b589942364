package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/flood"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/web"
	"github.com/guichet/guichet/web/webtest"
)

// rig is the web channel on the built-in catalogue, the native cases in
// memory, a memory session store and outbox, on a loopback server.
type rig struct {
	t      testing.TB
	mu     sync.Mutex
	now    time.Time
	eng    *ussd.Engine
	store  *sessions.Memory
	outbox *outbox.Memory
	cases  *cases.Memory
	srv    *httptest.Server
}

func (r *rig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = r.now.Add(d)
}

func newRig(t testing.TB) *rig { return newRigWith(t, nil) }

// newRigWith builds a rig whose site edit changes first.
func newRigWith(t testing.TB, edit func(*web.Site)) *rig {
	t.Helper()
	r := &rig{t: t, now: time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)}
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	log := phonetest.NewLog(t).Logger()
	r.outbox = outbox.NewMemory()
	r.cases = cases.NewMemory(r.outbox)
	if err := r.cases.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.store = sessions.NewMemory(r.clock)
	native := &cases.Service{DB: r.cases, Catalogue: cat, Now: r.clock}
	r.eng = ussd.NewEngine(cat, r.store, native, nil, ussd.Config{Now: r.clock}, log)
	site := &web.Site{Engine: r.eng, Store: r.store, Outbox: r.outbox, Counter: &flood.Counter{Store: r.store, Now: r.clock},
		Prefix: "/m/", Region: "CM", Now: r.clock, Log: log, FrameAncestors: []string{"https://portail.example.cm"}}
	if edit != nil {
		edit(site)
	}
	r.srv = httptest.NewServer(site.Handler())
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rig) client() *webtest.Client { return webtest.New(r.t, r.srv.URL+"/m/") }

// code is the last sign-in code the outbox holds for ph.
func (r *rig) code(ph string) func() string {
	return func() string {
		msgs, err := r.outbox.Messages(context.Background(), ph, 10)
		if err != nil || len(msgs) == 0 {
			r.t.Fatalf("no SMS to %s: %v", ph, err)
		}
		m := regexp.MustCompile(`[0-9]{6}`).FindString(msgs[0].Body)
		if msgs[0].Kind != web.KindCode || m == "" {
			r.t.Fatalf("the last SMS is no code: %+v", msgs[0])
		}
		return m
	}
}

const awa = "+237677000001"

func contains(t *testing.T, p webtest.Page, want ...string) {
	t.Helper()
	text := webtest.Text(p.HTML)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the page (%d) does not show %q:\n%s", p.Status, w, text)
		}
	}
}

// The sign-in: the form, the code by SMS in the citizen's language (kept
// hashed, never in clear), wrong codes, the session's cookie.
func TestSignIn(t *testing.T) {
	r := newRig(t)
	c := r.client()
	p := c.Get("")
	if p.Status != http.StatusOK {
		t.Fatalf("sign-in page: %d", p.Status)
	}
	contains(t, p, "Connexion", "Votre numéro de téléphone", "[tel]", "Recevoir un code", "English")
	h := p.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'self'") ||
		strings.Contains(csp, "script-src") || !strings.Contains(csp, "frame-ancestors 'self' https://portail.example.cm") {
		t.Errorf("CSP: %q", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "" {
		t.Errorf("headers: %v", h)
	}
	if strings.Contains(p.HTML, "<script") || strings.Contains(p.HTML, "style=") {
		t.Error("a script or an inline style on the page")
	}
	en := r.client().Get("?lang=en")
	contains(t, en, "Sign in", "Your phone number", "Get a code", "Français")

	for _, tc := range []struct {
		label  string
		form   url.Values
		status int
		shows  string
	}{
		{"no csrf", url.Values{"phone": {"677000001"}, "csrf": {"x"}}, http.StatusForbidden, "Formulaire expiré"},
		{"bad number", url.Values{"phone": {"12"}}, http.StatusUnprocessableEntity, "Ce numéro n'est pas valide."},
		{"national number", url.Values{"phone": {"6 77 00 00 01"}}, http.StatusOK, "Un code a été envoyé au " + awa},
	} {
		c.Get("")
		if p := c.Post("code", tc.form); p.Status != tc.status {
			t.Errorf("%s: %d, want %d", tc.label, p.Status, tc.status)
		} else {
			contains(t, p, tc.shows)
		}
	}
	code := r.code(awa)()
	msgs, _ := r.outbox.Messages(context.Background(), awa, 10)
	if len(msgs) != 1 || msgs[0].Lang != "fr" || !strings.Contains(msgs[0].Body, "votre code est "+code) {
		t.Fatalf("the code's SMS: %+v", msgs)
	}
	stored, err := r.store.Get(context.Background(), "web:code:"+awa)
	if err != nil || strings.Contains(string(stored), code) {
		t.Errorf("the code as stored: %s, %v", stored, err)
	}

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	codePage := c.Last
	p = c.Post("signin", url.Values{"phone": {awa}, "code": {wrong}})
	if p.Status != http.StatusUnauthorized {
		t.Fatalf("a wrong code: %d", p.Status)
	}
	contains(t, p, "Code incorrect.", "[numeric]")
	c.Last = codePage
	p = c.Post("signin", url.Values{"phone": {awa}, "code": {code}})
	if p.Status != http.StatusOK || !strings.Contains(webtest.Text(p.HTML), "Guichet: services publics") {
		t.Fatalf("signed in: %d\n%s", p.Status, webtest.Text(p.HTML))
	}
	var session *http.Cookie
	for _, ck := range c.HTTP.Jar.Cookies(mustURL(t, r.srv.URL+"/m/")) {
		if ck.Name == "guichet_web" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	// The code is used: the same again signs in no one.
	other := r.client()
	other.Get("")
	if p := other.Post("signin", url.Values{"phone": {awa}, "code": {code}}); p.Status != http.StatusUnauthorized {
		t.Errorf("a used code: %d", p.Status)
	}
}

// The cookie's attributes, read from the answer itself.
func TestSessionCookie(t *testing.T) {
	r := newRig(t)
	c := r.client()
	c.Get("")
	c.Post("code", url.Values{"phone": {awa}})
	form := url.Values{"phone": {awa}, "code": {r.code(awa)()}, "csrf": {webtest.Hidden(c.Last.HTML, "csrf")}}
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/m/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range c.HTTP.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	var set string
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "guichet_web=") {
			set = v
		}
	}
	for _, want := range []string{"Path=/m/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(set, want) {
			t.Errorf("session cookie %q lacks %s", set, want)
		}
	}
}

// Three wrong codes void the code; a code is good five minutes; a number
// gets three codes an hour, an address ten.
func TestCodeLimits(t *testing.T) {
	r := newRig(t)
	c := r.client()
	c.SignIn(awa, func() string { return "999999x" })
	for i := range 2 {
		c.Post("signin", url.Values{"phone": {awa}, "code": {"99999" + string(rune('0'+i))}})
	}
	if p := c.Post("signin", url.Values{"phone": {awa}, "code": {r.code(awa)()}}); p.Status != http.StatusUnauthorized {
		t.Errorf("the right code after three wrong ones: %d", p.Status)
	} else {
		contains(t, p, "Code expiré ou épuisé")
	}

	c.Get("")
	c.Post("code", url.Values{"phone": {awa}})
	r.advance(web.CodeFor + time.Second)
	if p := c.Post("signin", url.Values{"phone": {awa}, "code": {r.code(awa)()}}); p.Status != http.StatusUnauthorized {
		t.Errorf("a code after five minutes: %d", p.Status)
	}
	c.Get("")
	c.Post("code", url.Values{"phone": {awa}}) // the third this hour
	c.Get("")
	if p := c.Post("code", url.Values{"phone": {awa}}); p.Status != http.StatusTooManyRequests {
		t.Errorf("a fourth code in an hour: %d", p.Status)
	} else {
		contains(t, p, "Trop de codes demandés")
	}
	// Other numbers, from the same address: ten codes in all.
	for i := range 7 {
		c.Get("")
		ph := "+23767700010" + string(rune('0'+i))
		if p := c.Post("code", url.Values{"phone": {ph}}); p.Status != http.StatusOK && i < 6 {
			t.Errorf("code %d from the address: %d", i+5, p.Status)
		} else if i == 6 && p.Status != http.StatusTooManyRequests {
			t.Errorf("the eleventh code from one address: %d", p.Status)
		}
	}
	r.advance(time.Hour)
	c.Get("")
	if p := c.Post("code", url.Values{"phone": {awa}}); p.Status != http.StatusOK {
		t.Errorf("a code the next hour: %d", p.Status)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Without a limit by address, only each number's holds.
func TestNoLimitByAddress(t *testing.T) {
	r := newRigWith(t, func(s *web.Site) { s.PerAddr = -1 })
	c := r.client()
	for i := range 12 {
		c.Get("")
		if p := c.Post("code", url.Values{"phone": {fmt.Sprintf("+2376770002%02d", i)}}); p.Status != http.StatusOK {
			t.Fatalf("code %d from one address: %d", i+1, p.Status)
		}
	}
}
