package hotline_test

// End-to-end tests of the console in a real headless Chromium, driven with
// chromedp over its pipe: the pages as an operator sees them, forms typed
// and buttons clicked, on the in-memory rig of console_test.go.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/guichet/guichet/browsertest"
	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/campaigns/campaignstest"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/citest"
	"github.com/guichet/guichet/citizens"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/staff"
)

var screenshots = flag.Bool("screenshots", false,
	"write docs/hotline-caller.png and docs/hotline-dashboard.png from the browser tests (go test ./hotline -run Browser -screenshots)")

const (
	// browserTimeout bounds each browser test, Chromium's start included.
	browserTimeout = 30 * time.Second
	// queryTimeout bounds one look-up of an element, so that a page without
	// it fails in seconds rather than at the test's deadline.
	queryTimeout = 5 * time.Second
	// viewport is a small laptop's.
	viewportWidth, viewportHeight = 1280, 800
)

// tab is one Chromium tab on a rig's console.
type tab struct {
	t   *testing.T
	r   *rig
	ctx context.Context // the tab, until the test's deadline

	csp *refusals // what Chromium said it refused under the content security policy
}

type refusals struct {
	mu   sync.Mutex
	seen []string
}

// chromium starts a headless Chromium of its own for the test, with a
// fresh profile, and closes it when the test ends. A failed test leaves a
// screenshot of the page it was on. Without Chromium the test is skipped,
// but under CI it fails: a browser test never goes missing silently there.
func (r *rig) chromium(t *testing.T) *tab {
	t.Helper()
	exe, err := browsertest.Path()
	if err != nil {
		citest.Missing(t, fmt.Sprintf("the browser tests need Chromium: %v (install it with `apt-get install -y chromium` or `make services`, or set CHROMIUM to its path)", err))
	}
	opts := browsertest.Options(t, exe, viewportWidth, viewportHeight)
	// The first action starts the browser and its life is the context of
	// that action: a hard stop a little after the test's deadline, should
	// Chromium hang.
	hard, hardCancel := context.WithTimeout(context.Background(), browserTimeout+10*time.Second)
	actx, acancel := chromedp.NewExecAllocator(hard, opts...)
	tctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		acancel()
		hardCancel()
	})
	start := time.Now()
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
	p := &tab{t: t, r: r, csp: &refusals{}}
	// Every page of every browser test runs under the console's content
	// security policy: anything it refuses (an inline script or handler)
	// fails the test, as a page that does not work would.
	if err := chromedp.Listen(tctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && (e.Entry.Source == cdplog.EntrySourceSecurity ||
			e.Entry.Source == cdplog.EntrySourceViolation || strings.Contains(e.Entry.Text, "Content Security Policy")) {
			p.csp.mu.Lock()
			defer p.csp.mu.Unlock()
			p.csp.seen = append(p.csp.seen, e.Entry.Text)
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, v := range p.violations() {
			t.Errorf("Chromium refused under the content security policy: %s", v)
		}
		if t.Failed() {
			p.saveFailure(tctx)
		}
	})
	ctx, tcancel := context.WithTimeout(tctx, browserTimeout)
	t.Cleanup(tcancel)
	p.ctx = ctx
	return p
}

// violations returns what the policy refused since the last call, and
// forgets it.
func (p *tab) violations() []string {
	p.csp.mu.Lock()
	defer p.csp.mu.Unlock()
	v := p.csp.seen
	p.csp.seen = nil
	return v
}

// saveFailure writes a full-page screenshot of a failed test's page to
// $SCREENSHOT_DIR (or the temporary directory) and logs where.
func (p *tab) saveFailure(tctx context.Context) {
	ctx, cancel := context.WithTimeout(tctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, fullPage)
	if err != nil {
		p.t.Logf("no screenshot of the failure: %v", err)
		return
	}
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	name := "hotline-" + regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(p.t.Name(), "_") + "-" + time.Now().Format("150405") + ".png"
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Logf("no screenshot of the failure: %v", err)
		return
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	p.t.Logf("screenshot of %s at the failure: %s", loc, path)
}

// fullPage is a PNG of the whole page, beyond the viewport.
func fullPage(ctx context.Context, t *chromedp.Target) ([]byte, error) {
	m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
	if err != nil {
		return nil, err
	}
	w, h := float64(viewportWidth), float64(viewportHeight)
	if s := m.CSSContentSize; s != nil {
		w, h = max(w, s.Width), max(h, s.Height)
	}
	r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format:                page.CaptureScreenshotFormatPng,
		Clip:                  &page.Viewport{Width: w, Height: h, Scale: 1},
		FromSurface:           new(true),
		CaptureBeyondViewport: new(true),
	})
	if err != nil {
		return nil, err
	}
	return r.Data, nil
}

// writeDoc writes a full-page screenshot to docs/ when -screenshots is set.
func (p *tab) writeDoc(name string) {
	p.t.Helper()
	if !*screenshots {
		return
	}
	png, err := chromedp.Run(p.ctx, fullPage)
	if err != nil {
		p.t.Fatalf("screenshot for %s: %v", name, err)
	}
	path := filepath.Join("..", "docs", name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("wrote %s", path)
}

// open loads a page of the console.
func (p *tab) open(path string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Navigate(p.r.srv.URL+path)); err != nil {
		p.t.Fatalf("opening %s: %v", path, err)
	}
}

// fill types text into a field, as a user does, key by key.
func (p *tab) fill(sel, text string) {
	p.t.Helper()
	// What the field held goes first, as a person selecting it all would.
	if err := p.query(chromedp.Clear(chromedp.CSS(sel))); err != nil {
		p.t.Fatalf("clearing %s on %s: %v", sel, p.location(), err)
	}
	if text == "" {
		return
	}
	if err := p.query(chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
		p.t.Fatalf("typing into %s on %s: %v", sel, p.location(), err)
	}
}

// choose picks an option of a select by its value.
func (p *tab) choose(sel, value string) {
	p.t.Helper()
	if err := p.query(chromedp.SetValue(chromedp.CSS(sel), value)); err != nil {
		p.t.Fatalf("choosing %q in %s on %s: %v", value, sel, p.location(), err)
	}
	if got := p.value(sel); got != value {
		p.t.Fatalf("%s offers no %q (it holds %q)", sel, value, got)
	}
}

// click clicks what sel selects and waits for the page it leads to; it
// returns that page's HTTP status.
func (p *tab) click(sel string) int64 {
	p.t.Helper()
	from := p.location()
	if err := p.query(chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		p.t.Fatalf("no %s to click on %s: %v", sel, from, err)
	}
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("clicking %s on %s: %v", sel, from, err)
	}
	return resp.Status
}

// query runs one element action within queryTimeout.
func (p *tab) query(a chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(p.ctx, queryTimeout)
	defer cancel()
	return chromedp.Do(ctx, a)
}

// text is the visible text of the first element sel selects.
func (p *tab) text(sel string) string {
	p.t.Helper()
	s, err := p.tryText(sel)
	if err != nil {
		p.t.Fatalf("no %s on %s: %v", sel, p.location(), err)
	}
	return s
}

// tryText is text, or the error of a page that may be reloading itself
// (its node gone between the query and the read).
func (p *tab) tryText(sel string) (string, error) {
	ctx, cancel := context.WithTimeout(p.ctx, queryTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
}

// value is the current value of a form field.
func (p *tab) value(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, queryTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("no field %s on %s: %v", sel, p.location(), err)
	}
	return s
}

// eval runs a script in the page.
func eval[T any](p *tab, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("%s on %s: %v", js, p.location(), err)
	}
	return v
}

// location is the page's path and query, for messages and checks.
func (p *tab) location() string {
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		return "(no page: " + err.Error() + ")"
	}
	return strings.TrimPrefix(loc, p.r.srv.URL)
}

// wantAt fails unless the page is path (query included).
func (p *tab) wantAt(path string) {
	p.t.Helper()
	if got := p.location(); got != path {
		p.t.Fatalf("on %s, want %s", got, path)
	}
}

// wantText fails unless the visible text of sel has every one of says.
func (p *tab) wantText(sel string, says ...string) {
	p.t.Helper()
	got := p.text(sel)
	for _, s := range says {
		if !strings.Contains(got, s) {
			p.t.Errorf("%s on %s says %q, want %q in it", sel, p.location(), got, s)
		}
	}
}

// signIn signs in through the form and lands on the search page.
func (p *tab) signIn(name string) {
	p.t.Helper()
	p.open("/hotline/signin")
	p.fill("#name", name)
	p.fill("#password", password)
	if code := p.click("#signin"); code != 200 {
		p.t.Fatalf("signing in as %s: %d on %s", name, code, p.location())
	}
	p.wantAt("/hotline/")
}

// waitSessions waits until the journal, which writes in the background,
// has recorded n sessions of phone.
func waitSessions(t *testing.T, r *rig, phone string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rs, err := r.store.RecentSessions(t.Context(), phone, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the journal recorded %d sessions of %s, want %d", len(rs), phone, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBrowserSignIn(t *testing.T) {
	r := newRig(t)
	p := r.chromium(t)
	// A page asked for before signing in comes back after.
	p.open("/hotline/callbacks")
	if loc := p.location(); loc != "/hotline/signin?next="+url.QueryEscape("/hotline/callbacks") {
		t.Fatalf("signed out, the console shows %s", loc)
	}
	p.open("/hotline/signin")
	p.fill("#name", "awa")
	p.fill("#password", password)
	if code := p.click("#signin"); code != 200 {
		t.Fatalf("signing in: %d", code)
	}
	p.wantAt("/hotline/")
	p.wantText("h1", "Rechercher un appelant")
	p.wantText("header .me", "awa (opérateur)")
	p.wantText("label[for=q]", "Numéro de téléphone ou référence de dossier")
	// The search box has the focus: the operator types the number at once.
	if id := eval[string](p, `document.activeElement.id`); id != "q" {
		t.Errorf("the focus is on %q, want the search box", id)
	}
}

// A number written any usual way finds the same caller.
func TestBrowserSearch(t *testing.T) {
	r := newRig(t)
	p := r.chromium(t)
	p.signIn("awa")
	for _, q := range []string{"677 00 00 01", "+237677000001", "00237677000001"} {
		p.open("/hotline/")
		p.fill("#q", q)
		if code := p.click("#search"); code != 200 {
			t.Errorf("search %q: %d", q, code)
		}
		p.wantAt("/hotline/callers/+237677000001")
		if got := p.text("#phone"); got != "+237677000001" {
			t.Errorf("search %q: #phone says %q", q, got)
		}
		p.wantText("#cases", "10000048")
	}
}

// Moving a case shows the new status, and the citizen's SMS on the
// caller's page, waiting in the outbox.
func TestBrowserMoveCase(t *testing.T) {
	r := newRig(t)
	const citizen = "+237677000777"
	res, err := r.console.Cases.Do(t.Context(), menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: citizen, Lang: "en",
		Channel: "ussd", Args: map[string]string{"office": "douala-3", "name": "Ngo Bassa", "born": "01011990"}})
	if err != nil {
		t.Fatal(err)
	}
	ref := res.Vars["ref"]
	p := r.chromium(t)
	p.signIn("awa")
	p.open("/hotline/cases/" + ref)
	p.wantText("#status", r.console.Catalogue.StatusLabel("birth-certificate", "received", "fr"))
	p.choose("#status-to", "processing")
	p.fill("#movenote", "Apportez votre CNI.")
	if code := p.click("#move"); code != 200 {
		t.Fatalf("move: %d", code)
	}
	p.wantAt("/hotline/cases/" + ref + "?done=moved")
	p.wantText(".flash", "Statut changé ; le SMS au citoyen est dans la file d'envoi.")
	p.wantText("#status", r.console.Catalogue.StatusLabel("birth-certificate", "processing", "fr"))
	p.wantText("#history", "awa (hotline)", "Apportez votre CNI.")

	// The applicant's link leads to the SMS, in the citizen's language.
	p.click(`main a[href="/hotline/callers/` + citizen + `"]`)
	p.wantAt("/hotline/callers/" + citizen)
	sms := "Case " + ref + ": Processing."
	p.wantText("#sms", sms, "en attente")
	msgs, err := r.out.Messages(t.Context(), citizen, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(msgs, func(m outbox.Message) bool {
		return m.Kind == "moved" && m.Body == sms && m.Status == outbox.MessagePending
	}) {
		t.Errorf("the outbox of %s lacks the pending %q: %+v", citizen, sms, msgs)
	}
}

var caseRef = regexp.MustCompile(`\b2\d{7}\b`)

// The operator walks the menus for a caller nobody knows yet.
func TestBrowserAssistedSession(t *testing.T) {
	r := newRig(t)
	const caller = "+237699555001"
	p := r.chromium(t)
	p.signIn("awa")
	p.fill("#q", "699 55 50 01")
	if code := p.click("#search"); code != 404 {
		t.Errorf("an unknown caller's page: %d, want 404", code)
	}
	p.wantText("#unknown", "Aucun dossier, rendez-vous, SMS ni session pour ce numéro.")
	p.click("#assist")
	p.wantAt("/hotline/assist/" + caller)
	p.wantText("#screen", "Prêt à composer")
	p.click("#dial")
	p.wantText("#screen", "Choisissez la langue")
	for _, in := range []string{"1", "2", "1", "Ngo Bassa", "01011990", "1"} {
		before := p.text("#screen")
		p.fill("#input", in)
		if code := p.click("#send"); code != 200 {
			t.Fatalf("after %q on the screen %q: %d", in, before, code)
		}
	}
	screen := p.text("#screen")
	ref := caseRef.FindString(screen)
	if ref == "" {
		t.Fatalf("the last screen gives no reference: %q", screen)
	}
	if err := p.query(chromedp.WaitVisible(chromedp.CSS("#dial"))); err != nil {
		t.Errorf("the session ended but there is no button to start again: %v", err)
	}
	cases, err := r.cases.Cases(t.Context(), cases.CaseFilter{Phone: caller})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 || cases[0].Ref != ref || cases[0].Channel != "hotline" {
		t.Fatalf("cases of the caller: %+v", cases)
	}

	// The caller's page now has the case, its SMS and the session.
	waitSessions(t, r, caller, 1)
	p.click(`h1 a[href="/hotline/callers/` + caller + `"]`)
	p.wantText("#cases", ref)
	p.wantText("#sms", ref)
	p.wantText("#sessions", r.console.Catalogue.ServiceTitle("birth-certificate", "fr"), "terminée", "7 écrans",
		"Dossier … enregistré. Un SMS suivra chaque étape.") // the last screen's words, not its node's name
	p.writeDoc("hotline-caller.png")
}

// The supervisor's dashboard draws the day's sessions, where callers give
// up, SMS delivery and the callback queue, as inline SVG.
func TestBrowserDashboard(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	// Three assisted sessions: one completed, one given up at the name,
	// one at the language screen.
	b := r.browser(t)
	b.mustSignIn("awa")
	walk := func(phone string, inputs []string, hangUp bool) {
		t.Helper()
		path := "/hotline/assist/" + url.PathEscape(phone)
		b.get(path)
		if code, body, _ := b.post(path, url.Values{"dial": {"1"}}); code != 200 {
			t.Fatalf("%s: dial: %d\n%s", phone, code, body)
		}
		for _, in := range inputs {
			if code, body, _ := b.post(path, url.Values{"input": {in}}); code != 200 {
				t.Fatalf("%s: input %q: %d\n%s", phone, in, code, body)
			}
		}
		if hangUp {
			if code, _, _ := b.post(path, url.Values{"hangup": {"1"}}); code != 200 {
				t.Fatalf("%s: hanging up: %d", phone, code)
			}
		}
	}
	walk("+237699555101", []string{"1", "2", "1", "Ngo Bassa", "01011990", "1"}, false)
	walk("+237699555102", []string{"1", "2", "1"}, true)
	walk("+237699555103", nil, true)
	// SMS: two delivered on one bind, one undeliverable on another, one
	// waiting.
	var msgs []outbox.Message
	for i := range 4 {
		msgs = append(msgs, outbox.Message{Phone: fmt.Sprintf("+23767700090%d", i), Lang: "fr", Body: "Test", Kind: "hotline",
			Created: r.now.Add(-time.Hour), Status: outbox.MessagePending})
	}
	if err := r.out.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	// As the dispatcher and the receipts would: claimed, the first three
	// sent and their receipts applied, the rest back to waiting.
	claimed, err := r.out.ClaimMessages(ctx, 100, time.Minute, r.now)
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]outbox.Receipt{
		msgs[0].Phone: {Bind: "mtn", State: "DELIVRD"},
		msgs[1].Phone: {Bind: "mtn", State: "DELIVRD"},
		msgs[2].Phone: {Bind: "orange", State: "UNDELIV"},
	}
	var (
		outcomes []outbox.Outcome
		receipts []outbox.Receipt
	)
	for _, m := range claimed {
		rc, ok := sent[m.Phone]
		if !ok {
			outcomes = append(outcomes, outbox.Outcome{ID: m.ID, Attempt: m.Attempts, Status: outbox.MessagePending})
			continue
		}
		rc.Phone, rc.SMSCID = m.Phone, fmt.Sprintf("A%d", len(receipts))
		outcomes = append(outcomes, outbox.Outcome{ID: m.ID, Attempt: m.Attempts, Status: outbox.MessageSent, Bind: rc.Bind, SMSCID: rc.SMSCID})
		receipts = append(receipts, rc)
	}
	if n, err := r.out.Record(ctx, outcomes); err != nil || n != len(outcomes) || len(receipts) != 3 {
		t.Fatalf("Record = %d, %v; %d of %d claimed sent, want 3", n, err, len(receipts), len(claimed))
	}
	if matched, err := r.out.ApplyReceipts(ctx, receipts); err != nil || !slices.Equal(matched, []bool{true, true, true}) {
		t.Fatalf("ApplyReceipts = %v, %v", matched, err)
	}
	if _, err := r.cases.RequestCallback(ctx, cases.Callback{Phone: "+237699555104", Reason: "test", Lang: "fr", Channel: "ussd",
		Requested: r.now.Add(-25 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for _, phone := range []string{"+237699555101", "+237699555102", "+237699555103"} {
		waitSessions(t, r, phone, 1)
	}

	p := r.chromium(t)
	p.signIn("paul")
	p.wantText("h1", "Find a caller")
	p.click(`header nav a[href="/hotline/dashboard"]`)
	p.wantAt("/hotline/dashboard")
	p.wantText("h1", "Dashboard")
	type drawn struct {
		Label  string  `json:"label"`
		Width  float64 `json:"width"`
		Height float64 `json:"height"`
	}
	charts := eval[[]drawn](p, `[...document.querySelectorAll('#charts svg')].map(s => {
		const r = s.getBoundingClientRect();
		return {label: s.getAttribute('aria-label'), width: r.width, height: r.height};
	})`)
	if len(charts) < 4 {
		t.Fatalf("%d charts, want at least 4: %+v", len(charts), charts)
	}
	var labels []string
	for _, c := range charts {
		labels = append(labels, c.Label)
		if c.Width < 200 || c.Height < 50 {
			t.Errorf("chart %q is drawn %.0f×%.0f px: too small to read", c.Label, c.Width, c.Height)
		}
	}
	for _, want := range []string{
		"Sessions per hour by service (24 h)",
		"Where callers give up: Birth certificate",
		"SMS delivered per operator (7 days)",
		"Callback queue: 1 waiting",
	} {
		if !slices.Contains(labels, want) {
			t.Errorf("no chart %q among %q", want, labels)
		}
	}
	// The charts show data, not the "no data" picture.
	p.wantText("#charts", "Entered", "Completed", "mtn", "orange", "Average wait")
	p.writeDoc("hotline-dashboard.png")
}

// A form with a bad input comes back with the reason next to the field.
func TestBrowserBadInput(t *testing.T) {
	r := newRig(t)
	p := r.chromium(t)

	// Signing in with a wrong password: the visitor's language, English
	// for this Chromium.
	p.open("/hotline/signin")
	p.fill("#name", "awa")
	p.fill("#password", "wrong password!")
	if code := p.click("#signin"); code != 401 {
		t.Errorf("a wrong password: %d", code)
	}
	p.wantNextTo("#password", "#password-err", "Wrong user name or password.")

	p.signIn("awa")
	for _, tt := range []struct {
		name   string
		path   string
		fill   map[string]string
		button string
		code   int64
		field  string
		err    string
		says   string
	}{
		{"empty SMS", "/hotline/callers/%2B237677000001", map[string]string{"#text": ""}, "#sendsms", 400, "#text", "#text-err", "À remplir."},
		{"blank SMS", "/hotline/callers/%2B237677000001", map[string]string{"#text": "   "}, "#sendsms", 400, "#text", "#text-err", "À remplir."},
		{"not a number", "/hotline/", map[string]string{"#q": "bonjour"}, "#search", 400, "#q", "#q-err", "« bonjour » n'est pas un numéro de téléphone."},
		{"mistyped reference", "/hotline/", map[string]string{"#q": "10000049"}, "#search", 400, "#q", "#q-err", "Référence 10000049 mal saisie"},
		{"no status", "/hotline/cases/" + cases.DemoLicenceProcessing, nil, "#move", 400, "#status-to", "#status-err", "Choisissez le nouveau statut."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := *p
			p.t = t
			p.open(tt.path)
			for sel, text := range tt.fill {
				p.fill(sel, text)
			}
			if code := p.click(tt.button); code != tt.code {
				t.Errorf("status %d, want %d", code, tt.code)
			}
			p.wantNextTo(tt.field, tt.err, tt.says)
		})
	}
}

// wantNextTo fails unless the error errSel says says, is shown just under
// (or beside) the field, and the field is marked invalid.
func (p *tab) wantNextTo(field, errSel, says string) {
	p.t.Helper()
	p.wantText(errSel, says)
	if got := eval[string](p, `document.querySelector(`+jsString(field)+`).getAttribute('aria-invalid') || ''`); got != "true" {
		p.t.Errorf("%s is not marked invalid (aria-invalid=%q)", field, got)
	}
	gap := eval[float64](p, `(() => {
		const f = document.querySelector(`+jsString(field)+`).getBoundingClientRect();
		const e = document.querySelector(`+jsString(errSel)+`).getBoundingClientRect();
		return e.top - f.bottom;
	})()`)
	if gap < -40 || gap > 40 {
		p.t.Errorf("%s is %.0f px from %s: not next to it", errSel, gap, field)
	}
}

// The console works under a policy that runs no inline script: picking an
// SMS template fills the text (the console's own script does it), and a
// handler injected into a page is refused, and reported.
func TestBrowserStrictCSP(t *testing.T) {
	r := newRig(t)
	p := r.chromium(t)
	p.signIn("awa")
	p.open("/hotline/callers/%2B237677000001")
	templates := eval[[]string](p, `[...document.querySelectorAll("#tpl option")].map(o => o.value).filter(v => v)`)
	if len(templates) == 0 {
		t.Fatal("the caller's page offers no SMS template")
	}
	pick := templates[len(templates)-1]
	eval[bool](p, `(s => { s.value = `+jsString(pick)+`; return s.dispatchEvent(new Event("change")) })(document.getElementById("tpl"))`)
	if got := p.value("#text"); got != pick {
		t.Errorf("picking a template left the text %q, want %q", got, pick)
	}
	if v := p.violations(); len(v) > 0 {
		t.Fatalf("the caller's page broke the policy: %q", v)
	}

	// What an injection would add runs not.
	eval[bool](p, `document.body.insertAdjacentHTML("beforeend", '<img id="probe" src="x" onerror="document.title = \'pwned\'">'); true`)
	var refused []string
	for deadline := time.Now().Add(queryTimeout); len(refused) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		refused = p.violations()
	}
	if title := eval[string](p, "document.title"); title == "pwned" || len(refused) == 0 {
		t.Errorf("an injected inline handler ran (title %q) or was not reported (%q)", title, refused)
	}
}

// jsString quotes s for a script.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// A supervisor runs a campaign from the console: the form counts the
// text's SMS as it is typed; a CSV with two bad lines is uploaded and the
// page names them; started, paused (nothing more goes), resumed, the
// progress reaches 100% on its own; the audit log tells its history.
func TestBrowserCampaign(t *testing.T) {
	r := newRig(t)
	p := r.chromium(t)
	p.signIn("paul")
	p.open("/hotline/campaigns")
	p.fill("#name", "Vaccination Wouri")
	write := func(sel, text string) { // an empty textarea, typed key by key
		t.Helper()
		if err := p.query(chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
			t.Fatal(err)
		}
	}
	write("#text_fr", "Vaccination gratuite samedi au centre de santé de Bonabéri.")
	p.wantText("#parts_fr", "GSM-7, 1 SMS")
	write("#text_en", "Free vaccination on Saturday, Bonaberi: "+strings.Repeat("ça ", 15))
	p.wantText("#parts_en", "UCS-2, 2 SMS")
	var csv strings.Builder
	csv.WriteString("numero,nom\n")
	for i := range 30 {
		fmt.Fprintf(&csv, "6775%05d,x\n", i)
		if i == 4 {
			csv.WriteString("bonjour,x\n") // line 7
		}
		if i == 9 {
			csv.WriteString("12,x\n") // line 13
		}
	}
	file := filepath.Join(t.TempDir(), "audience.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.query(chromedp.SetUploadFiles(chromedp.CSS("#audience"), []string{file})); err != nil {
		t.Fatal(err)
	}
	if code := p.click("#makecampaign"); code != 200 {
		t.Fatalf("making the campaign: %d", code)
	}
	p.wantText("#badlines", "7, 13")
	p.wantText("#state", "draft")
	p.wantText("#numbers", "30 numbers, 30 waiting")
	step := func() {
		t.Helper()
		// As the dispatcher would, what waits is sent; then the runner
		// queues the next chunk.
		campaignstest.SendAll(t, r.out, r.now)
		runner := &campaigns.Runner{Store: r.campaigns, Audience: r.cases, Chunk: 10, Now: func() time.Time { return r.now }}
		if err := runner.Step(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	p.click("#start")
	p.wantText("#state", "running")
	step()
	p.open(p.location())
	p.wantText("#percent", "33%")
	p.click("#pause")
	p.wantText("#state", "paused")
	step()
	p.open(p.location())
	p.wantText("#percent", "33%")
	p.click("#resume")
	step()
	step()
	// The page refreshes by itself while the campaign runs.
	if err := p.query(chromedp.WaitVisible(chromedp.CSS(`#percent`))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	// It may be reloading when read: a node gone is read again.
	for state, _ := p.tryText("#state"); state != "done"; state, _ = p.tryText("#state") {
		if time.Now().After(deadline) {
			t.Fatalf("the page says %q, %q: it did not refresh to done", p.text("#state"), p.text("#percent"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.wantText("#percent", "100%")
	p.wantText("#operators", "mtn", "20")
	es, err := r.store.AuditLog(t.Context(), staff.AuditFilter{User: "paul", Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		if strings.HasPrefix(e.Action, "campaign.") {
			actions = append(actions, e.Action)
		}
	}
	if strings.Join(actions, " ") != "campaign.resume campaign.pause campaign.start campaign.create" {
		t.Errorf("audit log %v", actions)
	}
}

// An administrator walks a citizen's rights in the browser: looks the
// number up as people type it, downloads its export (a JSON file, the
// page staying where it is), then erases it, typing the number again
// after a mistyped confirmation is refused next to its field.
func TestBrowserCitizenExportAndErase(t *testing.T) {
	r := newRig(t)
	calls, _ := r.withCitizens(t)
	p := r.chromium(t)
	dir := t.TempDir()
	if _, err := cdp.Call(p.ctx, chromedp.FromContext(p.ctx).Browser, cdpbrowser.SetDownloadBehavior,
		cdpbrowser.SetDownloadBehaviorParams{Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	p.signIn("root")
	p.open("/hotline/citizen")
	p.fill("#phone", "677 20 00 01")
	if code := p.click("#find"); code != 200 {
		t.Fatalf("looking up: %d on %s", code, p.location())
	}
	p.wantText("h2", erasable)

	if err := p.query(chromedp.Click(chromedp.CSS("#download"))); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "citizen-export.json")
	var b []byte
	for deadline := time.Now().Add(queryTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got, err := os.ReadFile(file); err == nil && len(got) > 0 && json.Valid(got) {
			b = got
			break
		}
	}
	var rec citizens.Record
	if err := json.Unmarshal(b, &rec); err != nil || rec.Phone != erasable || len(rec.Cases) != 1 {
		t.Fatalf("the downloaded export: %v %s", err, b)
	}

	p.fill("#confirm", "677 20 00 02")
	if code := p.click("#erasebtn"); code != 400 {
		t.Fatalf("a mistyped confirmation: %d", code)
	}
	p.wantText("#confirm-err", "même numéro")
	p.fill("#confirm", "677200001")
	if code := p.click("#erasebtn"); code != 200 {
		t.Fatalf("erasing: %d on %s", code, p.location())
	}
	p.wantText(".flash", "Données effacées")
	p.wantText("#erasure", "erased:0123456789abcdef", "1 dossier(s)")
	if want := []string{"export " + erasable + " root", "erase " + erasable + " root"}; !slices.Equal(*calls, want) {
		t.Errorf("calls %q, want %q", *calls, want)
	}
}
