package hotline_test

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/reference"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/staff"
	"github.com/guichet/guichet/ussd"
)

// rig is a console on in-memory stores, served on loopback.
type rig struct {
	srv       *httptest.Server
	store     *staff.Memory
	cases     *cases.Memory
	out       *outbox.Memory
	campaigns *campaigns.Memory
	sessions  *sessions.Memory // the engine's session store
	console   *hotline.Console
	now       time.Time
}

const password = "correct horse battery"

func newRig(t *testing.T) *rig {
	t.Helper()
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{store: staff.NewMemory(), out: outbox.NewMemory(), now: time.Date(2026, 11, 30, 9, 0, 0, 0, cases.Cameroon)}
	r.cases = cases.NewMemory(r.out)
	clock := func() time.Time { return r.now }
	r.cases.Now, r.out.Now = clock, clock
	if err := r.cases.Seed(t.Context()); err != nil {
		t.Fatal(err)
	}
	native := &cases.Service{DB: r.cases, Catalogue: cat, Now: clock}
	log := phonetest.NewLog(t).Logger() // a line that shows a number fails the test
	journal := hotline.NewJournal(r.store, nil, clock, log)
	t.Cleanup(journal.Close)
	r.sessions = sessions.NewMemory(clock)
	eng := ussd.NewEngine(cat, r.sessions, native, journal, ussd.Config{}, log)
	eng.Now = clock
	r.campaigns = &campaigns.Memory{Outbox: r.out, Now: clock}
	r.console = &hotline.Console{Accounts: r.store, Trail: r.store, Cases: native, Records: r.cases, Outbox: r.out, Engine: eng, Catalogue: cat,
		Campaigns: r.campaigns, Prefix: "/hotline", Now: clock, Log: log}
	mux := chi.NewRouter()
	mux.Route("/hotline", func(cr chi.Router) {
		if err := r.console.Routes(cr); err != nil {
			t.Fatal(err)
		}
	})
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	for _, u := range []struct {
		name string
		role staff.Role
		lang string
	}{{"awa", staff.Operator, "fr"}, {"paul", staff.Supervisor, "en"}, {"root", staff.Admin, "fr"}} {
		nu, err := staff.NewUser(u.name, strings.ToUpper(u.name), u.role, u.lang, password, r.now)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.store.AddUser(t.Context(), nu); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// browser is a client with its own cookies that does not follow redirects
// on its own, so that tests see them.
type browser struct {
	t    *testing.T
	r    *rig
	c    *http.Client
	csrf string
	// hidden holds the last page's hidden dialogue and hop fields, which
	// post sends back unless the form sets them.
	hidden map[string]string
	// addr, when set, is the address the browser's requests come from:
	// they are then served in-process, with that remote address, and
	// forwarded, when set, as X-Forwarded-For.
	addr, forwarded string
}

func (r *rig) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, r: r, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// browserAt is a browser whose requests come from the address addr.
func (r *rig) browserAt(t *testing.T, addr string) *browser {
	b := r.browser(t)
	b.addr = addr
	return b
}

// do sends req: over the loopback server, or in-process from b.addr.
func (b *browser) do(req *http.Request) *http.Response {
	b.t.Helper()
	if b.addr == "" {
		resp, err := b.c.Do(req)
		if err != nil {
			b.t.Fatal(err)
		}
		return resp
	}
	req.RemoteAddr = net.JoinHostPort(b.addr, "40000")
	if b.forwarded != "" {
		req.Header.Set("X-Forwarded-For", b.forwarded)
	}
	for _, ck := range b.c.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	b.r.srv.Config.Handler.ServeHTTP(rec, req)
	resp := rec.Result()
	b.c.Jar.SetCookies(req.URL, resp.Cookies())
	return resp
}

var (
	csrfField   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	hiddenField = regexp.MustCompile(`type="hidden" name="(dialogue|hop)" value="([^"]*)"`)
)

// remember keeps a page's form token and hidden fields.
func (b *browser) remember(body []byte) {
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	b.hidden = map[string]string{}
	for _, m := range hiddenField.FindAllSubmatch(body, -1) {
		b.hidden[string(m[1])] = string(m[2])
	}
}

// get fetches a page and remembers its form token.
func (b *browser) get(path string) (int, string, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.r.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	resp := b.do(req)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.remember(body)
	return resp.StatusCode, string(body), resp.Header.Get("Location")
}

// post submits a form with the last page's token (unless the form sets
// its own).
func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.t.Helper()
	if !form.Has("csrf") {
		form.Set("csrf", b.csrf)
	}
	for k, v := range b.hidden {
		if !form.Has(k) {
			form.Set(k, v)
		}
	}
	req, err := http.NewRequest(http.MethodPost, b.r.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := b.do(req)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.remember(body)
	return resp.StatusCode, string(body), resp.Header.Get("Location")
}

func (b *browser) signIn(name, pw string) (int, string, string) {
	b.t.Helper()
	b.get("/hotline/signin")
	return b.post("/hotline/signin", url.Values{"name": {name}, "password": {pw}})
}

func (b *browser) mustSignIn(name string) {
	b.t.Helper()
	if code, body, loc := b.signIn(name, password); code != http.StatusSeeOther || loc != "/hotline/" {
		b.t.Fatalf("sign-in as %s: %d %s %s", name, code, loc, body)
	}
	b.get("/hotline/")
}

func TestSignInAndOut(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	if code, _, loc := b.get("/hotline/callers/%2B237677000001"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/hotline/signin?next=") {
		t.Fatalf("a page without signing in: %d → %q", code, loc)
	}
	// The page asked for comes back after signing in; an outside "next"
	// never does.
	b.get("/hotline/signin")
	_, _, loc := b.post("/hotline/signin", url.Values{"name": {"AWA"}, "password": {password}, "next": {"/hotline/callbacks"}})
	if loc != "/hotline/callbacks" {
		t.Errorf("after signing in: → %q, want the page asked for", loc)
	}
	b2 := r.browser(t)
	b2.get("/hotline/signin")
	if _, _, loc := b2.post("/hotline/signin", url.Values{"name": {"awa"}, "password": {password}, "next": {"//evil.example/"}}); loc != "/hotline/" {
		t.Errorf("an outside next: → %q", loc)
	}
	code, body, _ := b.get("/hotline/")
	if code != 200 || !strings.Contains(body, "awa (opérateur)") {
		t.Fatalf("home: %d", code)
	}
	if code, _, _ := b.post("/hotline/signout", url.Values{}); code != http.StatusSeeOther {
		t.Errorf("sign-out: %d", code)
	}
	if code, _, _ := b.get("/hotline/"); code != http.StatusSeeOther {
		t.Errorf("after signing out the console answers %d, want a redirect to sign in", code)
	}
}

// Wrong passwords slow the next attempts down: five go through, then
// each waits, even with the right password, a second first; an unknown
// name is answered the same words. The five failures are one audit
// entry, the attempts that waited another.
func TestWrongPasswordsSlowDown(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	for i := 0; i < hotline.DefaultTryBackoff.Free; i++ {
		code, body, _ := b.signIn("awa", "wrong password!")
		if code != http.StatusUnauthorized || !strings.Contains(body, "Identifiant ou mot de passe incorrect.") {
			t.Fatalf("try %d: %d", i, code)
		}
	}
	// An unknown name gets the same words.
	if _, body, _ := b.signIn("nobody", "wrong password!"); !strings.Contains(body, "Identifiant ou mot de passe incorrect.") {
		t.Error("an unknown name is told apart from a wrong password")
	}
	// Now awa's attempts wait, even with the right password.
	if code, body, _ := b.signIn("awa", password); code != http.StatusUnauthorized || !strings.Contains(body, "Trop d&#39;essais : réessayez dans 1 s.") {
		t.Errorf("the right password while attempts wait: %d %s", code, refusal(body))
	}
	r.now = r.now.Add(time.Second)
	if code, _, _ := b.signIn("awa", password); code != http.StatusSeeOther {
		t.Errorf("after the wait: %d", code)
	}
	es, _ := r.store.AuditLog(t.Context(), staff.AuditFilter{User: "awa"})
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "signin signin.throttled signin.failed" {
		t.Errorf("audit of awa: %s, want the sign-in, one entry for the wait and one for the failures", got)
	}
}

func TestCSRF(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.get("/hotline/signin")
	if code, _, _ := b.post("/hotline/signin", url.Values{"name": {"awa"}, "password": {password}, "csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("sign-in with a forged token: %d", code)
	}
	b.mustSignIn("awa")
	before, _ := r.out.Messages(t.Context(), "+237677000001", 0)
	for _, token := range []string{"", "forged"} {
		code, body, _ := b.post("/hotline/callers/%2B237677000001/sms", url.Values{"text": {"hello"}, "csrf": {token}})
		if code != http.StatusForbidden || !strings.Contains(body, "Formulaire expiré") {
			t.Errorf("token %q: %d", token, code)
		}
	}
	// Another site's form, with a good token: refused by the origin check.
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/hotline/callers/%2B237677000001/sms",
		strings.NewReader(url.Values{"text": {"hello"}, "csrf": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := b.c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %v %v", resp.StatusCode, err)
	}
	if after, _ := r.out.Messages(t.Context(), "+237677000001", 0); len(after) != len(before) {
		t.Error("a refused form sent an SMS")
	}
}

func TestRoles(t *testing.T) {
	r := newRig(t)
	for _, tt := range []struct {
		user string
		path string
		want int
	}{
		{"awa", "/hotline/dashboard", http.StatusForbidden},
		{"awa", "/hotline/audit", http.StatusForbidden},
		{"awa", "/hotline/users", http.StatusForbidden},
		{"awa", "/hotline/callbacks", http.StatusOK},
		{"paul", "/hotline/dashboard", http.StatusOK},
		{"paul", "/hotline/audit", http.StatusOK},
		{"paul", "/hotline/users", http.StatusForbidden},
		{"root", "/hotline/users", http.StatusOK},
	} {
		b := r.browser(t)
		b.mustSignIn(tt.user)
		if code, body, _ := b.get(tt.path); code != tt.want {
			t.Errorf("%s GET %s: %d, want %d", tt.user, tt.path, code, tt.want)
		} else if strings.Contains(body, "goroutine") {
			t.Errorf("%s: a stack trace", tt.path)
		}
	}
}

// One search box takes a number written any usual way, or a reference.
func TestSearch(t *testing.T) {
	r := newRig(t)
	if res, err := r.console.Cases.Do(t.Context(), menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: "+237677000888",
		Lang: "fr", Channel: "ussd", Args: map[string]string{"office": "douala-3", "name": "Ngo", "born": "01011990"}}); err != nil || res.Vars["ref"] != "20000011" {
		t.Fatalf("opening a case: %v %v", res.Vars, err)
	}
	b := r.browser(t)
	b.mustSignIn("awa")
	for _, tt := range []struct {
		q, loc string
		code   int
		says   string
	}{
		{"677 00 00 01", "/hotline/callers/+237677000001", http.StatusSeeOther, ""},
		{"+237677000001", "/hotline/callers/+237677000001", http.StatusSeeOther, ""},
		{"00237677000001", "/hotline/callers/+237677000001", http.StatusSeeOther, ""},
		{"10000048", "/hotline/cases/10000048", http.StatusSeeOther, ""},
		{"2000 0011", "/hotline/cases/20000011", http.StatusSeeOther, ""}, // opened below: references start with 2 too
		{"10000049", "", http.StatusBadRequest, "Référence 10000049 mal saisie"},
		{reference.FromNumber(9999999, 7), "", http.StatusNotFound, "Aucun dossier " + reference.FromNumber(9999999, 7) + "."},
		{"bonjour", "", http.StatusBadRequest, "« bonjour » n&#39;est pas un numéro de téléphone."},
		{"", "", http.StatusBadRequest, "Tapez un numéro ou une référence."},
	} {
		code, body, loc := b.get("/hotline/search?q=" + url.QueryEscape(tt.q))
		if code != tt.code || loc != tt.loc || !strings.Contains(body, tt.says) {
			t.Errorf("search %q: %d → %q; want %d → %q saying %q", tt.q, code, loc, tt.code, tt.loc, tt.says)
		}
	}
	// A number nobody knows: a clear page, a 404, and the means to help.
	code, body, _ := b.get("/hotline/callers/%2B237699999999")
	if code != http.StatusNotFound || !strings.Contains(body, "Aucun dossier, rendez-vous, SMS ni session pour ce numéro.") || !strings.Contains(body, `id="assist"`) {
		t.Errorf("unknown number: %d", code)
	}
	if code, body, _ := b.get("/hotline/cases/" + reference.FromNumber(9999999, 7)); code != http.StatusNotFound || !strings.Contains(body, "Introuvable.") {
		t.Errorf("unknown case: %d %s", code, body)
	}
}

// Moving a case goes through the case engine: only along the service's
// life cycle, with the SMS in the outbox in the citizen's language, the
// history saying 'hotline' and who, and the audit log both the view and
// the move.
func TestMoveCaseWritesSMSAndAudit(t *testing.T) {
	r := newRig(t)
	const citizen = "+237677000777"
	res, err := r.console.Cases.Do(t.Context(), menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: citizen, Lang: "en",
		Channel: "ussd", Args: map[string]string{"office": "douala-3", "name": "Ngo Bassa", "born": "01011990"}})
	if err != nil {
		t.Fatal(err)
	}
	ref := res.Vars["ref"]
	b := r.browser(t)
	b.mustSignIn("awa")
	code, body, _ := b.get("/hotline/cases/" + ref)
	if code != 200 || !strings.Contains(body, `<option value="processing">`) || strings.Contains(body, `<option value="ready">`) {
		t.Fatalf("case page: %d, moves offered wrong:\n%s", code, body)
	}
	// A move the life cycle does not allow: refused, next to the field.
	code, body, _ = b.post("/hotline/cases/"+ref+"/move", url.Values{"status": {"collected"}})
	if code != http.StatusConflict || !strings.Contains(body, `id="status-err">Ce dossier ne peut pas passer à « Retiré » depuis son statut actuel.`) {
		t.Errorf("a forbidden move: %d", code)
	}
	code, _, loc := b.post("/hotline/cases/"+ref+"/move", url.Values{"status": {"processing"}, "note": {"Bring your ID."}})
	if code != http.StatusSeeOther || loc != "/hotline/cases/"+ref+"?done=moved" {
		t.Fatalf("move: %d → %s", code, loc)
	}
	_, body, _ = b.get(loc)
	if !strings.Contains(body, "Statut changé") || !strings.Contains(body, "awa <span class=\"muted\">(hotline)</span>") {
		t.Errorf("after the move the page lacks the flash or the history line")
	}
	msgs, _ := r.out.Messages(t.Context(), citizen, 1)
	if len(msgs) != 1 || msgs[0].Body != "Case "+ref+": Processing." || msgs[0].Status != outbox.MessagePending || msgs[0].Kind != "moved" {
		t.Errorf("the SMS in the outbox: %+v", msgs)
	}
	es, _ := r.store.AuditLog(t.Context(), staff.AuditFilter{Subject: ref})
	var got []string
	for _, e := range es {
		got = append(got, e.User+" "+e.Action)
	}
	if want := "awa view.case,awa case.move,awa view.case,awa view.case"; strings.Join(got, ",") != want {
		t.Errorf("audit %v, want %s (newest first)", got, want)
	}
}

func TestBadInputNextToTheField(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.mustSignIn("awa")
	b.get("/hotline/callers/%2B237677000001")
	for _, tt := range []struct {
		path string
		form url.Values
		code int
		says string
	}{
		{"/hotline/callers/%2B237677000001/sms", url.Values{"text": {"  "}}, 400, `id="text-err">À remplir.`},
		{"/hotline/callers/%2B237677000001/sms", url.Values{"text": {strings.Repeat("a", 500)}}, 400, `id="text-err">Trop long : 3 SMS au plus.`},
		{"/hotline/cases/" + cases.DemoLicenceProcessing + "/note", url.Values{"text": {""}}, 400, "À remplir."},
		{"/hotline/cases/" + cases.DemoLicenceProcessing + "/move", url.Values{"status": {""}}, 400, "Choisissez le nouveau statut."},
		{"/hotline/callers/%2B237677000001/bookings/nope/cancel", url.Values{}, 404, "no booking nope for this caller"},
		{"/hotline/callbacks/00000/take", url.Values{}, 404, "Introuvable."},
		{"/hotline/assist/abc", url.Values{"hop": {"1"}}, 400, "Saisie invalide."},
	} {
		code, body, _ := b.post(tt.path, tt.form)
		if code != tt.code || !strings.Contains(body, tt.says) {
			t.Errorf("POST %s %v: %d, want %d saying %q\n%s", tt.path, tt.form, code, tt.code, tt.says, body)
		}
	}
}

// The operator walks the menus for a caller: the same engine, the case
// opened says 'hotline', and the session shows on the caller's page.
func TestAssistedSession(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.mustSignIn("awa")
	const caller = "%2B237699555001"
	// Opening the page starts nothing: starting is a form.
	code, body, _ := b.get("/hotline/assist/" + caller)
	if code != 200 || !strings.Contains(body, `id="dial"`) || strings.Contains(body, "Choisissez la langue") {
		t.Fatalf("assist: %d %s", code, body)
	}
	code, body, _ = b.post("/hotline/assist/"+caller, url.Values{"dial": {"1"}})
	if code != 200 || !strings.Contains(body, "Choisissez la langue") {
		t.Fatalf("dial: %d %s", code, body)
	}
	for _, in := range []string{"1", "2", "1", "Ngo Bassa", "01011990", "1"} {
		code, body, _ = b.post("/hotline/assist/"+caller, url.Values{"input": {in}})
		if code != 200 {
			t.Fatalf("input %q: %d", in, code)
		}
	}
	hop, _ := strconv.Atoi(b.hidden["hop"])
	ref := regexp.MustCompile(`\b2\d{7}\b`).FindString(body)
	if ref == "" || !strings.Contains(body, `id="dial"`) {
		t.Fatalf("the last screen gives no reference:\n%s", body)
	}
	// The same form posted twice (a double click) runs nothing twice.
	if code, again, _ := b.post("/hotline/assist/"+caller, url.Values{"hop": {itoa(hop - 1)}, "input": {"1"}}); code != 200 || !strings.Contains(again, ref) {
		t.Errorf("a repeated hop: %d", code)
	}
	// Dialling again starts a new dialogue, not the old end screen; and
	// another operator assisting the same caller meanwhile has their own.
	other := r.browser(t)
	other.mustSignIn("paul")
	other.get("/hotline/assist/" + caller)
	if code, s, _ := other.post("/hotline/assist/"+caller, url.Values{"dial": {"1"}}); code != 200 || strings.Contains(s, ref) {
		t.Errorf("another operator's dial: %d %s", code, s)
	}
	if code, again, _ := b.post("/hotline/assist/"+caller, url.Values{"dial": {"1"}}); code != 200 || strings.Contains(again, ref) || !strings.Contains(again, "Acte de naissance") {
		t.Errorf("dialling again: %d %s", code, again)
	}
	cases, _ := r.cases.Cases(t.Context(), cases.CaseFilter{Phone: "+237699555001"})
	if len(cases) != 1 || cases[0].Ref != ref || cases[0].Channel != "hotline" ||
		cases[0].History[0].Who != "awa" || cases[0].History[0].Channel != "hotline" {
		t.Fatalf("cases of the caller: %+v; want one opened by awa on the hotline", cases)
	}
	time.Sleep(50 * time.Millisecond) // the journal writes in the background
	for i := 0; i < 100; i++ {
		if rs, _ := r.store.RecentSessions(t.Context(), "+237699555001", 0); len(rs) > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, body, _ = b.get("/hotline/callers/" + caller)
	if !strings.Contains(body, ref) || !strings.Contains(body, "terminée") {
		rs, _ := r.store.RecentSessions(t.Context(), "+237699555001", 0)
		t.Errorf("the caller page lacks the case or the session %+v:\n%s", rs, body[strings.Index(body, "<main>"):])
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
