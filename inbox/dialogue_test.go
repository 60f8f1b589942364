package inbox_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/inbox"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/ussd"
)

// talkRig is the rig with SMS dialogues, wired as serve wires them: the
// engine keeps the languages and the sessions, in the store the inboxes
// share.
func talkRig(t *testing.T) (*rig, *failing) {
	t.Helper()
	r := newRig(t)
	return r, talkOn(t, r, sessions.NewMemory(func() time.Time { return r.now }))
}

// talkOn sets the rig's inbox to hold dialogues in shared.
func talkOn(t *testing.T, r *rig, shared interface {
	inbox.Shared
	ussd.Store
}) *failing {
	t.Helper()
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return r.now }
	engine := ussd.NewEngine(cat, shared, r.x.Cases, nil, ussd.Config{IdleTimeout: 10 * time.Minute, ResumeWindow: 20 * time.Minute,
		Budget: time.Minute, Now: now}, slog.New(slog.DiscardHandler))
	store := &failing{Store: r.store}
	r.x = &inbox.Inbox{Store: store, Cases: r.x.Cases, Languages: engine, Shared: shared, Region: "CM", Now: now,
		Dialogues: engine, Code: cat.Code, Idle: 10 * time.Minute}
	return store
}

// step is one SMS of a dialogue test: what the citizen sends, and what
// the one answer must hold (none: want ""), of which kind.
type step struct {
	send, want, kind string
	fail             bool          // the case store fails: the SMS is not answered, Handle errs
	wait             time.Duration // before sending
}

func TestSMSDialogue(t *testing.T) {
	const (
		lang = "Choisissez la langue"
		home = "Guichet: services publics"
		help = "SUIVI <numero>: un dossier."
		huh  = "Message non compris."
		dlg  = inbox.KindDialogue
	)
	tests := []struct {
		name  string
		steps []step
	}{
		{"MENU walks the menus, the same input twice is two inputs", []step{
			{send: "MENU", want: lang, kind: dlg},
			{send: "1", want: home, kind: dlg},
			{send: "1", want: "COVID-19\n1 Se prot", kind: dlg},
			{send: "2", want: "fièvre", kind: dlg},
			{send: "1", want: "Toussez-vous", kind: dlg},
		}},
		{"the catalogue's code starts a dialogue, an end screen closes it", []step{
			{send: "*123#", want: lang, kind: dlg},
			{send: "1", want: home, kind: dlg},
			{send: "4", want: "Numéro du dossier ?", kind: dlg},
			{send: "10000048", want: "Dossier 10000048 (Entreprises): En traitement", kind: dlg},
			{send: "1", want: huh, kind: "moved"},  // over: a keyword again
			{send: "*123#", want: home, kind: dlg}, // the same text as the start: a new dialogue
		}},
		{"a shortcut goes straight to its screen", []step{
			{send: "*123*4*10000048#", want: lang, kind: dlg}, // a newcomer chooses a language first
			{send: "1", want: "Dossier 10000048 (Entreprises)", kind: dlg},
			{send: "MENU", want: home, kind: dlg}, // the language chosen on the way is kept
		}},
		{"AIDE and START are answered inside a dialogue and leave it where it was", []step{
			{send: "menu", want: lang, kind: dlg},
			{send: "1", want: home, kind: dlg},
			{send: "AIDE", want: help, kind: "moved"},
			{send: "START", want: "Les SMS de Guichet reprennent", kind: "optout"},
			{send: "4", want: "Numéro du dossier ?", kind: dlg},
		}},
		{"other keywords are inputs inside a dialogue", []step{
			{send: "MENU", want: lang, kind: dlg},
			{send: "EN", want: "Choisissez la langue", kind: dlg}, // not a choice of this screen: asked again
			{send: "2", want: "Guichet: public services", kind: dlg},
			{send: "TRACK 10000048", want: "Guichet: public services", kind: dlg}, // not a choice either
		}},
		{"STOP opts out and ends the dialogue", []step{
			{send: "MENU", want: lang, kind: dlg},
			{send: "1", want: home, kind: dlg},
			{send: "STOP", want: "Vous ne recevrez plus de SMS", kind: "optout"},
			{send: "1", want: huh, kind: "moved"},
			{send: "MENU", want: home, kind: dlg},
		}},
		{"MENU again starts again at the home menu", []step{
			{send: "MENU", want: lang, kind: dlg},
			{send: "1", want: home, kind: dlg},
			{send: "MENU", want: home, kind: dlg},
			{send: "4", want: "Numéro du dossier ?", kind: dlg},
		}},
		{"an idle dialogue is over; MENU offers to continue it", []step{
			{send: "MENU", want: lang, kind: dlg},
			{send: "1", want: home, kind: dlg},
			{send: "2", want: "Centre d'état civil", kind: dlg},
			{send: "1", want: "", kind: dlg},
			{send: "Ngo Bassa", want: "", kind: dlg, wait: 9 * time.Minute}, // within the idle time
			{send: "1", want: huh, kind: "moved", wait: 10*time.Minute + time.Second},
			{send: "MENU", want: "Reprendre la ou vous en etiez ?", kind: dlg},
			{send: "1", want: "", kind: dlg}, // where it was
		}},
		{"an SMS delivered again while its answer failed is one input, answered once", []step{
			{send: "MENU", want: lang, kind: dlg},
			{send: "1", want: home, kind: dlg},
			{send: "1", fail: true},
			{send: "1", want: "COVID-19\n1 Se prot", kind: dlg}, // the same SMS again: the same hop
			{send: "2", want: "fièvre", kind: dlg},              // one place on, not two
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, store := talkRig(t)
			from := "2376771005" + string(rune('0'+i/10)) + string(rune('0'+i%10))
			for _, s := range tt.steps {
				r.now = r.now.Add(s.wait + 15*time.Second) // within the flood limit
				if s.fail {
					store.fail.Store(true)
					if err := r.x.Handle(t.Context(), inboundText(from, s.send)); err == nil {
						t.Fatalf("%q: Handle succeeded while the store fails", s.send)
					}
					store.fail.Store(false)
					continue
				}
				got := r.send(t, from, s.send)
				if len(got) != 1 || !strings.Contains(got[0].Body, s.want) || got[0].Kind != s.kind {
					t.Fatalf("%q: replies %+v, want one %s containing %q", s.send, got, s.kind, s.want)
				}
				if n := len([]rune(got[0].Body)); n > menus.SMSLimit {
					t.Errorf("%q: the answer is %d characters, over one SMS", s.send, n)
				}
			}
		})
	}
}

// Without an engine for dialogues MENU is not understood, as before.
func TestMenuWithoutDialogues(t *testing.T) {
	r := newRig(t)
	got := r.send(t, "237677100601", "MENU")
	if len(got) != 1 || !strings.Contains(got[0].Body, "Message non compris.") {
		t.Fatalf("replies %+v", got)
	}
}

// A case opened through an SMS dialogue says it came by SMS, and the
// inputs are counted apart from the keywords.
func TestSMSDialogueOpensACase(t *testing.T) {
	r, _ := talkRig(t)
	const from = "237677100701"
	var last string
	for _, in := range []string{"MENU", "1", "2", "1", "Ngo Bassa", "01011990", "1"} {
		r.now = r.now.Add(10 * time.Second)
		got := r.send(t, from, in)
		if len(got) < 1 {
			t.Fatalf("%q: no answer", in)
		}
		last = got[len(got)-1].Body
	}
	if !strings.Contains(last, "déposé") {
		t.Fatalf("the dialogue ended on %q", last)
	}
	cs, err := r.store.Cases(t.Context(), cases.CaseFilter{Phone: "+" + from, Limit: 10})
	if err != nil || len(cs) != 1 || cs[0].Channel != "sms" {
		t.Fatalf("cases of the number: %+v, %v; want one opened by sms", cs, err)
	}
	c := r.x.Counts()
	if c.Keywords["Menu"] != 1 || c.Inputs != 6 || c.Keywords["Unknown"] != 0 {
		t.Errorf("counts %+v: want 1 menu, 6 inputs", c)
	}
}

func inboundText(from, text string) smpp.Inbound {
	return smpp.Inbound{SourceAddr: from, DestAddr: "8080", ShortMessage: []byte(text)}
}

// A dialogue whose SMS reach two gateways in turn goes on as on one: its
// place is in the store they share (Redis in a fleet).
func TestSMSDialogueOnTwoGateways(t *testing.T) {
	for name, shared := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			st := shared(r)
			talkOn(t, r, st.(interface {
				inbox.Shared
				ussd.Store
			}))
			one := r.x
			two := &inbox.Inbox{Store: one.Store, Cases: one.Cases, Languages: one.Languages, Shared: one.Shared, Region: one.Region,
				Now: one.Now, Dialogues: one.Dialogues, Code: one.Code, Idle: one.Idle}
			gateways := []*inbox.Inbox{r.x, two}
			const from = "237677100801"
			for i, s := range []step{
				{send: "MENU", want: "Choisissez la langue"},
				{send: "1", want: "Guichet: services publics"},
				{send: "1", want: "COVID-19\n1 Se prot"},
				{send: "2", want: "fièvre"},
			} {
				r.now = r.now.Add(15 * time.Second)
				r.x = gateways[i%2]
				got := r.send(t, from, s.send)
				if len(got) != 1 || !strings.Contains(got[0].Body, s.want) {
					t.Fatalf("%q on gateway %d: replies %+v, want one containing %q", s.send, i%2+1, got, s.want)
				}
			}
		})
	}
}

// An SMS dialogue keeps its session in a slot of its own: the caller's
// live USSD dialogue goes on untouched by it.
func TestSMSDialogueLeavesUSSDAlone(t *testing.T) {
	r, _ := talkRig(t)
	const from = "+237677100901"
	ussdHop := func(kind ussd.Kind, in, want string) {
		t.Helper()
		rep, err := r.x.Dialogues.Step(t.Context(), ussd.Request{Kind: kind, SessionID: "u1", Phone: from, ServiceCode: "*123#", Input: in})
		if err != nil || !strings.Contains(rep.Text, want) {
			t.Fatalf("USSD %q: %+v, %v; want %q", in, rep, err, want)
		}
	}
	ussdHop(ussd.Begin, "", "Choisissez la langue")
	ussdHop(ussd.Continue, "1", "Guichet: services publics")
	ussdHop(ussd.Continue, "4", "Numéro du dossier ?")
	for _, s := range []step{{send: "MENU", want: "Guichet: services publics"}, {send: "1", want: "COVID-19"}} {
		r.now = r.now.Add(15 * time.Second)
		if got := r.send(t, from, s.send); len(got) != 1 || !strings.Contains(got[0].Body, s.want) {
			t.Fatalf("SMS %q: %+v, want %q", s.send, got, s.want)
		}
	}
	ussdHop(ussd.Continue, "10000048", "Dossier 10000048 (Entreprises)")
}

// recorder is a Dialogues that keeps the requests it steps.
type recorder struct {
	inbox.Dialogues
	reqs []ussd.Request
}

func (r *recorder) Step(ctx context.Context, req ussd.Request) (ussd.Reply, error) {
	r.reqs = append(r.reqs, req)
	return r.Dialogues.Step(ctx, req)
}

// The engine is asked on the SMS channel, in the SMS slot, for the SMSC's
// operator, one session id a dialogue, and the same hop key for an SMS
// delivered again.
func TestSMSDialogueRequests(t *testing.T) {
	r, store := talkRig(t)
	rec := &recorder{Dialogues: r.x.Dialogues}
	r.x.Dialogues = rec
	handle := r.x.From("mtn")
	const from = "237677101001"
	for i, text := range []string{"MENU", "1", "1", "1", "MENU"} {
		r.now = r.now.Add(15 * time.Second)
		store.fail.Store(i == 2) // the third SMS fails once, and comes again
		if err := handle(t.Context(), inboundText(from, text)); (err != nil) != (i == 2) {
			t.Fatalf("SMS %d %q: %v", i+1, text, err)
		}
	}
	if len(rec.reqs) != 5 {
		t.Fatalf("%d steps, want 5", len(rec.reqs))
	}
	for i, q := range rec.reqs {
		if q.Channel != "sms" || q.Slot != "sms" || q.Operator != "mtn" || q.Phone != "+"+from || q.HopKey == "" {
			t.Errorf("step %d: %+v", i+1, q)
		}
		if wantID := rec.reqs[0].SessionID; i < 4 && q.SessionID != wantID || i == 4 && q.SessionID == wantID {
			t.Errorf("step %d: session %q (the first: %q); one a dialogue", i+1, q.SessionID, wantID)
		}
	}
	if k := rec.reqs; k[2].HopKey != k[3].HopKey || k[1].HopKey == k[2].HopKey || k[3].HopKey == k[4].HopKey {
		t.Errorf("hop keys %q %q %q %q: the SMS delivered again must have its first delivery's, and only it", k[1].HopKey, k[2].HopKey, k[3].HopKey, k[4].HopKey)
	}
	if k := rec.reqs; k[0].Kind != ussd.Begin || k[1].Kind != ussd.Continue || k[1].Input != "1" {
		t.Errorf("kinds and inputs: %+v", k[:2])
	}
}

// busyOnce answers its first step with the engine's busy screen.
type busyOnce struct {
	inbox.Dialogues
	done bool
}

func (b *busyOnce) Step(ctx context.Context, req ussd.Request) (ussd.Reply, error) {
	if !b.done && req.Kind == ussd.Continue {
		b.done = true
		return ussd.Reply{Text: "Service tres demande.", End: true, Busy: true}, nil
	}
	return b.Dialogues.Step(ctx, req)
}

// The SMS engine over its limit refuses the SMS for the SMSC to deliver
// again: the dialogue is neither answered nor closed, and the SMS
// delivered again is its input.
func TestSMSDialogueBusy(t *testing.T) {
	r, _ := talkRig(t)
	r.x.Dialogues = &busyOnce{Dialogues: r.x.Dialogues}
	handle := r.x.From("mtn")
	const from = "237677101002"
	if err := handle(t.Context(), inboundText(from, "MENU")); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(15 * time.Second)
	if err := handle(t.Context(), inboundText(from, "1")); !errors.Is(err, inbox.ErrBusy) {
		t.Fatalf("the busy engine's SMS: %v, want refused as busy", err)
	}
	r.now = r.now.Add(15 * time.Second)
	if err := handle(t.Context(), inboundText(from, "1")); err != nil {
		t.Fatalf("the SMS delivered again: %v", err)
	}
	if c := r.x.Counts(); c.Inputs != 1 {
		t.Errorf("counts %+v: want the one input answered", c)
	}
}

// One SMS of a number at a time: while another is being answered (its
// hold in the shared store, as another gateway would leave it), the next
// is refused for the SMSC to deliver again, then answered in turn.
func TestSMSOfANumberOneAtATime(t *testing.T) {
	r := newRig(t)
	shared := sessions.NewMemory(func() time.Time { return r.now })
	talkOn(t, r, shared)
	handle := r.x.From("mtn")
	const from = "237677101003"
	if err := handle(t.Context(), inboundText(from, "MENU")); err != nil {
		t.Fatal(err)
	}
	if err := shared.Set(t.Context(), "sms:held:+"+from, []byte{1}, time.Minute); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(15 * time.Second)
	if err := handle(t.Context(), inboundText(from, "1")); !errors.Is(err, inbox.ErrNumberBusy) {
		t.Fatalf("an SMS while the number is held: %v, want refused", err)
	}
	if err := shared.Delete(t.Context(), "sms:held:+"+from); err != nil {
		t.Fatal(err)
	}
	if err := handle(t.Context(), inboundText(from, "1")); err != nil {
		t.Fatalf("delivered again: %v", err)
	}
	if c := r.x.Counts(); c.Inputs != 1 {
		t.Errorf("counts %+v: want the one input", c)
	}
	if _, err := shared.Get(t.Context(), "sms:held:+"+from); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("the number is still held after its SMS: %v", err)
	}
}
