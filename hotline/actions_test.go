package hotline_test

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/staff"
	"github.com/guichet/guichet/ussd"
)

// book books a visit for phone through the case engine, as USSD would.
func (r *rig) book(t *testing.T, phone, slot string) string {
	t.Helper()
	res, err := r.console.Cases.Do(t.Context(), menus.Call{Op: "slots.book", Service: "visit", Phone: phone, Lang: "fr", Channel: "ussd",
		Args: map[string]string{"office": "douala-3", "slot": slot}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Vars["ref"]
}

func TestSendSMSFromATemplate(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.mustSignIn("awa")
	// awa works in French; the caller reads English (their case says so):
	// the templates are named in French and written in English.
	_, body, _ := b.get("/hotline/callers/%2B237677000001")
	if !strings.Contains(body, ">Appel manqué<") || !strings.Contains(body, "Guichet 1510 tried to call you back. Call 1510 (free).") ||
		!strings.Contains(body, `<option value="en" selected>`) {
		t.Fatal("the caller page offers no SMS template in the caller's language")
	}
	code, _, loc := b.post("/hotline/callers/%2B237677000001/sms", url.Values{"text": {"Guichet 1510 tried to call you back."}, "lang": {"en"}})
	if code != http.StatusSeeOther || loc != "/hotline/callers/+237677000001?done=sms" {
		t.Fatalf("send: %d → %s", code, loc)
	}
	msgs, _ := r.out.Messages(t.Context(), "+237677000001", 1)
	if len(msgs) != 1 || msgs[0].Body != "Guichet 1510 tried to call you back." || msgs[0].Lang != "en" || msgs[0].Kind != "hotline" ||
		msgs[0].Status != outbox.MessagePending {
		t.Errorf("the outbox holds %+v", msgs)
	}
	_, body, _ = b.get(loc)
	if !strings.Contains(body, "SMS mis dans la file d&#39;envoi.") || !strings.Contains(body, "Guichet 1510 tried to call you back.</td><td>en attente") {
		t.Error("the caller page does not show the queued SMS")
	}
	if es, _ := r.store.AuditLog(t.Context(), staff.AuditFilter{Subject: "+237677000001"}); len(es) == 0 || es[1].Action != "sms.send" {
		t.Errorf("audit: %+v", es)
	}
}

func TestCancelAndMoveBooking(t *testing.T) {
	r := newRig(t)
	const citizen = "+237677000555"
	ref := r.book(t, citizen, "202612011000")
	b := r.browser(t)
	b.mustSignIn("awa")
	_, body, _ := b.get("/hotline/callers/" + url.PathEscape(citizen))
	if !strings.Contains(body, ref) || !strings.Contains(body, `value="202612011100"`) {
		t.Fatalf("the caller page lacks the booking or the slots to move it to")
	}
	// Move: the old slot is freed, the new one is held, under a new reference.
	code, _, loc := b.post("/hotline/callers/"+url.PathEscape(citizen)+"/bookings/"+ref+"/move", url.Values{"slot": {"202612011100"}})
	if code != http.StatusSeeOther || !strings.HasSuffix(loc, "done=rebooked") {
		t.Fatalf("move: %d → %s", code, loc)
	}
	bs, _ := r.cases.Bookings(t.Context(), citizen, r.now)
	if len(bs) != 1 || bs[0].Ref == ref || bs[0].Start.In(cases.Cameroon).Format("200601021504") != "202612011100" || bs[0].Channel != "hotline" {
		t.Fatalf("after the move: %+v", bs)
	}
	// A slot that cannot be had: the caller keeps the one they have.
	moved := bs[0].Ref
	code, body, _ = b.post("/hotline/callers/"+url.PathEscape(citizen)+"/bookings/"+moved+"/move", url.Values{"slot": {"202001011000"}})
	if code != http.StatusConflict || !strings.Contains(body, `class="err"`) {
		t.Errorf("an impossible slot: %d", code)
	}
	if bs, _ := r.cases.Bookings(t.Context(), citizen, r.now); len(bs) != 1 || bs[0].Start.In(cases.Cameroon).Format("200601021504") != "202612011100" {
		t.Errorf("after a failed move the caller holds %+v, want the 11h00 slot still", bs)
	}
	bs, _ = r.cases.Bookings(t.Context(), citizen, r.now)
	code, _, _ = b.post("/hotline/callers/"+url.PathEscape(citizen)+"/bookings/"+bs[0].Ref+"/cancel", url.Values{})
	if code != http.StatusSeeOther {
		t.Fatalf("cancel: %d", code)
	}
	if bs, _ := r.cases.Bookings(t.Context(), citizen, r.now); len(bs) != 0 {
		t.Errorf("after cancelling: %+v", bs)
	}
}

// A callback asked for in the COVID-19 self-check shows in the queue,
// oldest first; taking it says who has it, and marking it done closes it.
func TestCallbackQueue(t *testing.T) {
	r := newRig(t)
	for i, p := range []string{"+237677100001", "+237677100002"} {
		if _, err := r.console.Cases.Do(t.Context(), menus.Call{Op: "callback.request", Service: "covid", Phone: p, Lang: "fr",
			Channel: "ussd", Args: map[string]string{"reason": "covid-high-risk"}}); err != nil {
			t.Fatal(err)
		}
		r.now = r.now.Add(time.Duration(i+1) * time.Minute)
	}
	awa, paul := r.browser(t), r.browser(t)
	awa.mustSignIn("awa")
	paul.mustSignIn("paul")
	_, body, _ := awa.get("/hotline/callbacks")
	first, second := strings.Index(body, "237677100001"), strings.Index(body, "237677100002")
	if first < 0 || second < first || !strings.Contains(body, "covid-high-risk") {
		t.Fatalf("the queue is not oldest first:\n%s", body)
	}
	open, _ := r.cases.Callbacks(t.Context(), true, 0)
	ticket := open[0].Ticket
	if code, _, loc := awa.post("/hotline/callbacks/"+ticket+"/take", url.Values{}); code != http.StatusSeeOther || loc != "/hotline/callers/+237677100001?done=taken" {
		t.Fatalf("take: %d → %s", code, loc)
	}
	_, body, _ = paul.get("/hotline/callbacks")
	if !strings.Contains(body, "<td>awa</td>") {
		t.Error("the queue does not say who took the request")
	}
	// Another operator cannot take it from awa.
	if code, body, _ := paul.post("/hotline/callbacks/"+ticket+"/take", url.Values{}); code != http.StatusConflict || !strings.Contains(body, "awa") {
		t.Errorf("taking a taken request: %d", code)
	}
	if code, _, _ := awa.post("/hotline/callbacks/"+ticket+"/done", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("done: %d", code)
	}
	if open, _ := r.cases.Callbacks(t.Context(), true, 0); len(open) != 1 || open[0].Phone != "+237677100002" {
		t.Errorf("open after done: %+v", open)
	}
	_, body, _ = awa.get("/hotline/callers/%2B237677100001")
	if !strings.Contains(body, "Traité") {
		t.Error("the caller page does not show the request done")
	}
}

// The dashboard draws what the journal recorded: sessions per hour by
// service, where callers stopped, delivery per operator, the queue.
func TestDashboard(t *testing.T) {
	r := newRig(t)
	steps := func(p string, inputs ...string) {
		for i, in := range inputs {
			kind := ussd.Continue
			if i == 0 {
				kind = ussd.Begin
			}
			req := ussd.Request{Kind: kind, SessionID: "s-" + p, Phone: p, ServiceCode: "*123#", Operator: "mtn", Dialect: "test", Input: in}
			if _, err := r.console.Engine.Step(t.Context(), req); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps("+237677200001", "", "1", "2", "1", "Ngo Bassa", "01011990", "1") // birth certificate, completed
	steps("+237677200002", "", "1", "2", "1")                               // stops at the name
	if _, err := r.console.Engine.Step(t.Context(), ussd.Request{Kind: ussd.Abort, SessionID: "s-+237677200002", Phone: "+237677200002",
		Operator: "mtn", Dialect: "test"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		_, ends, _ := r.store.SessionCounts(t.Context(), r.now.Add(-time.Hour), r.now.Add(time.Hour))
		if len(ends) >= 2 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b := r.browser(t)
	b.mustSignIn("paul")
	code, body, _ := b.get("/hotline/dashboard")
	if code != 200 {
		t.Fatalf("dashboard: %d", code)
	}
	for _, want := range []string{"Sessions per hour by service (24 h)", "Where callers give up: Birth certificate",
		"SMS delivered per operator (7 days)", "Callback queue: 0 waiting", "<svg"} {
		if !strings.Contains(body, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}
	if n := strings.Count(body, "<svg"); n < 4 {
		t.Errorf("%d charts, want 4 at least", n)
	}
}

func TestPhoneSimulatorAndLanguage(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.mustSignIn("paul") // English
	code, body, _ := b.get("/hotline/phone")
	if code != 200 || !strings.Contains(body, "Phone simulator") || !strings.Contains(body, `id="dial"`) {
		t.Fatalf("phone page: %d", code)
	}
	code, body, _ = b.post("/hotline/phone", url.Values{"dial": {"1"}})
	if code != 200 || !strings.Contains(body, "Choisissez la langue") {
		t.Fatalf("dial: %d %s", code, body)
	}
	code, body, _ = b.post("/hotline/phone", url.Values{"input": {"2"}})
	if code != 200 || !strings.Contains(body, "2 Birth certificate") {
		t.Fatalf("language: %d %s", code, body[strings.Index(body, "<main>"):])
	}
	// paul switches the console to French: it stays French for him.
	if code, _, _ := b.post("/hotline/lang", url.Values{"lang": {"fr"}}); code != http.StatusSeeOther {
		t.Fatalf("lang: %d", code)
	}
	_, body, _ = b.get("/hotline/")
	if !strings.Contains(body, "Rechercher un appelant") || !strings.Contains(body, `lang="fr"`) {
		t.Error("the console did not switch to French")
	}
	if u, _ := r.store.User(t.Context(), "paul"); u.Lang != "fr" {
		t.Errorf("paul's language is %q", u.Lang)
	}
}

// A one-time password holds its user on the password page until they
// choose their own; the rules are told next to the fields.
func TestFirstPasswordMustChange(t *testing.T) {
	r := newRig(t)
	u, _ := staff.NewUser("nina", "", staff.Operator, "fr", "one-time-pass", r.now)
	u.MustChange = true
	if err := r.store.AddUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	b := r.browser(t)
	b.signIn("nina", "one-time-pass")
	if code, _, loc := b.get("/hotline/"); code != http.StatusSeeOther || loc != "/hotline/password" {
		t.Fatalf("with a one-time password: %d → %s", code, loc)
	}
	b.get("/hotline/password")
	code, body, _ := b.post("/hotline/password", url.Values{"current": {"nope"}, "new": {"short"}, "again": {"short"}})
	if code != 400 || !strings.Contains(body, "Ce n&#39;est pas votre mot de passe actuel.") || !strings.Contains(body, "Au moins 10 caractères.") {
		t.Errorf("bad change: %d", code)
	}
	if code, _, _ := b.post("/hotline/password", url.Values{"current": {"one-time-pass"}, "new": {"my own password"}, "again": {"my own password"}}); code != http.StatusSeeOther {
		t.Fatalf("change: %d", code)
	}
	if code, _, _ := b.get("/hotline/"); code != 200 {
		t.Errorf("after the change: %d", code)
	}
	if b2 := r.browser(t); true {
		if code, _, _ := b2.signIn("nina", "my own password"); code != http.StatusSeeOther {
			t.Errorf("signing in with the new password: %d", code)
		}
	}
}

func TestAddUser(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.mustSignIn("root")
	b.get("/hotline/users")
	code, body, _ := b.post("/hotline/users", url.Values{"name": {"Bad Name"}, "role": {"operator"}, "lang": {"fr"}, "password": {"long enough pw"}})
	if code != 400 || !strings.Contains(body, "2 à 64 lettres minuscules") {
		t.Errorf("bad name: %d", code)
	}
	code, body, _ = b.post("/hotline/users", url.Values{"name": {"zoe"}, "role": {"chief"}, "lang": {"fr"}, "password": {"long enough pw"}})
	if code != 400 || !strings.Contains(body, "Choisissez un rôle.</span>") {
		t.Errorf("bad role: %d", code)
	}
	code, body, _ = b.post("/hotline/users", url.Values{"name": {"zoe"}, "role": {"operator"}, "lang": {"fr"}, "password": {"short"}})
	if code != 400 || !strings.Contains(body, "De 10 caractères à 72 octets.") {
		t.Errorf("short password: %d", code)
	}
	code, body, _ = b.post("/hotline/users", url.Values{"name": {"awa"}, "role": {"operator"}, "lang": {"fr"}, "password": {"long enough pw"}})
	if code != http.StatusConflict || !strings.Contains(body, "Cet identifiant existe déjà.") {
		t.Errorf("taken name: %d", code)
	}
	if code, _, _ := b.post("/hotline/users", url.Values{"name": {"eric"}, "role": {"supervisor"}, "lang": {"en"}, "password": {"long enough pw"}}); code != http.StatusSeeOther {
		t.Fatalf("add: %d", code)
	}
	u, err := r.store.User(t.Context(), "eric")
	if err != nil || u.Role != staff.Supervisor || !u.MustChange || u.Lang != "en" {
		t.Errorf("eric: %+v %v", u, err)
	}
}

// A component that panics gives the error page, not a stack trace.
func TestNoStackTrace(t *testing.T) {
	r := newRig(t)
	r.console.Records = panicky{r.console.Records}
	b := r.browser(t)
	b.mustSignIn("awa")
	code, body, _ := b.get("/hotline/callbacks")
	if code != http.StatusInternalServerError || strings.Contains(body, "goroutine") || strings.Contains(body, "panicky") ||
		!strings.Contains(body, "Une erreur est survenue") {
		t.Errorf("%d:\n%s", code, body)
	}
	// A store error is a page too, and says nothing of the store.
	r.console.Records = failing{r.console.Records}
	code, body, _ = b.get("/hotline/callbacks")
	if code != http.StatusInternalServerError || strings.Contains(body, "connection refused") {
		t.Errorf("%d:\n%s", code, body)
	}
}

type panicky struct{ hotline.Records }

func (panicky) Callbacks(context.Context, bool, int) ([]cases.Callback, error) {
	panic("panicky store")
}

type failing struct{ hotline.Records }

func (failing) Callbacks(context.Context, bool, int) ([]cases.Callback, error) {
	return nil, errors.New("dial tcp 127.0.0.1:5432: connection refused")
}

// Guesses sent in parallel get the free tries in all, not one each: the
// right password among the later ones, from the same address, must
// wait; from another address it signs in.
func TestParallelGuessesWait(t *testing.T) {
	r := newRig(t)
	addr := netip.MustParseAddr("203.0.113.9")
	var wg sync.WaitGroup
	var checked atomic.Int32
	for range 20 {
		wg.Go(func() {
			if _, _, _, err := r.console.SignIn(context.Background(), "awa", "a wrong guess!", addr); err != nil && strings.Contains(err.Error(), "wrong name") {
				checked.Add(1)
			}
		})
	}
	wg.Wait()
	if n := checked.Load(); n != int32(hotline.DefaultTryBackoff.Free) {
		t.Errorf("%d of 20 parallel guesses were checked, want %d", n, hotline.DefaultTryBackoff.Free)
	}
	if _, _, _, err := r.console.SignIn(t.Context(), "awa", password, addr); err == nil || !strings.Contains(err.Error(), "too many tries") {
		t.Errorf("after 20 parallel guesses the right password: %v, want to wait", err)
	}
	if _, _, _, err := r.console.SignIn(t.Context(), "awa", password, netip.MustParseAddr("198.51.100.7")); err != nil {
		t.Errorf("the right password from another address: %v", err)
	}
}

// An administrator disables an account: its open session ends, it cannot
// sign in again; nobody can change their own role.
func TestDisableAccount(t *testing.T) {
	r := newRig(t)
	awa, root := r.browser(t), r.browser(t)
	awa.mustSignIn("awa")
	root.mustSignIn("root")
	root.get("/hotline/users")
	if code, _, loc := root.post("/hotline/users/awa/role", url.Values{"role": {"disabled"}}); code != http.StatusSeeOther || loc != "/hotline/users?done=role" {
		t.Fatalf("disable: %d → %s", code, loc)
	}
	if code, _, loc := awa.get("/hotline/callers/%2B237677000001"); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/hotline/signin") {
		t.Errorf("a disabled account's open session: %d → %s, want sent to sign in", code, loc)
	}
	if code, _, _ := r.browser(t).signIn("awa", password); code != http.StatusUnauthorized {
		t.Errorf("a disabled account signs in: %d", code)
	}
	if code, _, _ := root.post("/hotline/users/root/role", url.Values{"role": {"operator"}}); code != http.StatusConflict {
		t.Errorf("changing one's own role: %d, want 409", code)
	}
	if code, _, _ := root.post("/hotline/users/paul/role", url.Values{"role": {"king"}}); code != http.StatusBadRequest {
		t.Errorf("an unknown role: %d, want 400", code)
	}
	// Only administrators change roles.
	paul := r.browser(t)
	paul.mustSignIn("paul")
	if code, _, _ := paul.post("/hotline/users/awa/role", url.Values{"role": {"admin"}}); code != http.StatusForbidden {
		t.Errorf("a supervisor changing a role: %d, want 403", code)
	}
	// Nor may an operator dial the phone simulator.
	eric, _ := staff.NewUser("eric", "", staff.Operator, "fr", password, r.now)
	r.store.AddUser(t.Context(), eric)
	op := r.browser(t)
	op.mustSignIn("eric")
	if code, _, _ := op.post("/hotline/phone", url.Values{"dial": {"1"}}); code != http.StatusForbidden {
		t.Errorf("an operator dialling the simulator: %d, want 403", code)
	}
	if u, _ := r.store.User(t.Context(), "awa"); u.Role != staff.Disabled {
		t.Errorf("awa is %s", u.Role)
	}
}

// fullAt is the case engine, but the slot at fullAt fills up between the
// list and the booking (another caller was quicker).
type fullAt struct {
	caseEngine // embedded under another name: hotline.Cases has a method Cases
	full       string
}

type caseEngine = hotline.Cases

func (f fullAt) Do(ctx context.Context, c menus.Call) (menus.Result, error) {
	if c.Op == "slots.book" && c.Args["slot"] == f.full {
		return menus.Result{}, guichet.Errorf(guichet.ECONFLICT, "slot full")
	}
	return f.caseEngine.Do(ctx, c)
}

// A move whose new slot fills up meanwhile gives the caller their old
// slot back, says so, and leaves both steps in the audit log.
func TestMoveBookingRaceKeepsTheOldSlot(t *testing.T) {
	r := newRig(t)
	const citizen = "+237677000556"
	ref := r.book(t, citizen, "202612011000")
	r.console.Cases = fullAt{r.console.Cases, "202612011100"}
	b := r.browser(t)
	b.mustSignIn("awa")
	b.get("/hotline/callers/" + url.PathEscape(citizen))
	code, body, _ := b.post("/hotline/callers/"+url.PathEscape(citizen)+"/bookings/"+ref+"/move", url.Values{"slot": {"202612011100"}})
	if code != http.StatusConflict || !strings.Contains(body, `id="booking-err"`) || !strings.Contains(body, "l&#39;appelant garde son créneau") {
		t.Errorf("a slot taken meanwhile: %d", code)
	}
	bs, _ := r.cases.Bookings(t.Context(), citizen, r.now)
	if len(bs) != 1 || bs[0].Start.In(cases.Cameroon).Format("200601021504") != "202612011000" {
		t.Fatalf("the caller holds %+v, want the 10h00 slot back", bs)
	}
	es, _ := r.store.AuditLog(t.Context(), staff.AuditFilter{Subject: citizen})
	var got []string
	for _, e := range es {
		got = append(got, e.Action)
	}
	if !slices.Contains(got, "booking.cancel") || !slices.Contains(got, "booking.restore") {
		t.Errorf("audit %v lacks the cancel or the restore", got)
	}
}

// A web sign-in code's SMS shows on the caller's page as sent, its code
// hidden: it is the citizen's alone.
func TestSignInCodeHidden(t *testing.T) {
	r := newRig(t)
	if err := r.out.Enqueue(t.Context(), []outbox.Message{{Phone: "+237677000001", Lang: "fr", Kind: outbox.KindSignIn,
		Body: "Guichet: votre code est 482913. Il expire dans 5 minutes."}}); err != nil {
		t.Fatal(err)
	}
	b := r.browser(t)
	b.mustSignIn("awa")
	_, body, _ := b.get("/hotline/callers/%2B237677000001")
	if strings.Contains(body, "482913") || !strings.Contains(body, "Guichet: votre code est ******. Il expire dans 5 minutes.") {
		t.Error("the caller page shows a sign-in code, or not the SMS")
	}
}
