package cases

import (
	"slices"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/reference"
)

const (
	trader = "+237677000001" // DemoLicenceProcessing's applicant, in English
	baker  = "+237699000002" // DemoLicenceReady's
)

func TestMoveCase(t *testing.T) {
	later := monday.Add(2 * time.Hour)
	for _, tt := range []struct {
		name      string
		setup     func(t *testing.T, n *Service)
		ref       string
		move      Move
		owner     string
		code, msg string
		// want is the case's last event and status after a move that
		// passes; sms the message it writes, if any.
		want Event
		sms  *outbox.Message
	}{
		{
			name:  "by its owner, with the SMS in the citizen's language, the status's own",
			ref:   DemoLicenceProcessing,
			move:  Move{Status: "ready", Note: "Bring your ID.", Who: "wouri-desk", Channel: "api", At: later},
			owner: "wouri",
			want:  Event{Status: "ready", At: later, Channel: "api", Who: "wouri-desk", Note: "Bring your ID."},
			sms: &outbox.Message{Phone: trader, Lang: "en", Body: "Your licence 10000048 is ready: bring your ID to the Wouri desk. Bring your ID.",
				Kind: "moved", CaseRef: DemoLicenceProcessing, Created: monday, Status: outbox.MessagePending},
		},
		{
			name:  "to a status without a message of its own: the service's moved",
			ref:   DemoLicenceProcessing,
			move:  Move{Status: "rejected", Note: "Missing lease.", Who: "wouri-desk", Channel: "api", At: later},
			owner: "wouri",
			want:  Event{Status: "rejected", At: later, Channel: "api", Who: "wouri-desk", Note: "Missing lease."},
			sms: &outbox.Message{Phone: trader, Lang: "en", Body: "Case 10000048: rejected. Missing lease.",
				Kind: "moved", CaseRef: DemoLicenceProcessing, Created: monday, Status: outbox.MessagePending},
		},
		{
			name:  "by the hotline, at now",
			ref:   DemoLicenceProcessing,
			move:  Move{Status: "rejected", Who: "operator-7", Channel: "hotline"},
			owner: "",
			want:  Event{Status: "rejected", At: monday, Channel: "hotline", Who: "operator-7"},
			sms: &outbox.Message{Phone: trader, Lang: "en", Body: "Case 10000048: rejected. ",
				Kind: "moved", CaseRef: DemoLicenceProcessing, Created: monday, Status: outbox.MessagePending},
		},
		{
			name:  "a service without messages: no SMS",
			ref:   DemoCourrierReceived,
			move:  Move{Status: "forwarded", Who: "registry", Channel: "api"},
			owner: "minfi-registry",
			want:  Event{Status: "forwarded", At: monday, Channel: "api", Who: "registry"},
		},
		{
			name:  "a bad check digit, before any lookup",
			setup: func(t *testing.T, n *Service) { n.DB = noLookup{n.DB, t} },
			ref:   "10000049",
			move:  Move{Status: "ready"},
			code:  guichet.EINVALID, msg: "invalid reference",
		},
		{
			name: "no status",
			ref:  DemoLicenceProcessing,
			code: guichet.EINVALID, msg: "no status",
		},
		{
			name:  "an unknown case",
			ref:   reference.FromNumber(9999999, 7),
			move:  Move{Status: "ready"},
			owner: "wouri",
			code:  guichet.ENOTFOUND,
		},
		{
			name:  "another administration's case, as if it did not exist",
			ref:   DemoLicenceProcessing,
			move:  Move{Status: "ready"},
			owner: "civil-status",
			code:  guichet.ENOTFOUND, msg: "case not found",
		},
		{
			name:  "a move the life cycle does not allow",
			ref:   DemoLicenceProcessing,
			move:  Move{Status: "collected"},
			owner: "wouri",
			code:  guichet.ECONFLICT, msg: "cannot move from processing to collected",
		},
		{
			name:  "from a final status",
			ref:   DemoCourrierDelivered,
			move:  Move{Status: "forwarded"},
			owner: "minfi-registry",
			code:  guichet.ECONFLICT, msg: "cannot move from delivered to forwarded",
		},
		{
			name:  "an unknown status",
			ref:   DemoLicenceProcessing,
			move:  Move{Status: "lost"},
			owner: "wouri",
			code:  guichet.EINVALID, msg: "unknown status",
		},
		{
			name:  "without a catalogue, no case moves",
			setup: func(t *testing.T, n *Service) { n.Catalogue = nil },
			ref:   DemoLicenceProcessing,
			move:  Move{Status: "ready"},
			code:  guichet.EINVALID, msg: "unknown status",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newNative(t)
			n.Catalogue = catalogue{}
			if tt.setup != nil {
				tt.setup(t, n)
			}
			var before Case
			if reference.Valid(tt.ref) {
				before, _ = n.DB.Store().Cases.Case(t.Context(), tt.ref)
			}
			c, err := n.MoveCase(t.Context(), tt.ref, tt.move, tt.owner)
			if tt.code != "" {
				if guichet.ErrorCode(err) != tt.code || tt.msg != "" && guichet.ErrorMessage(err) != tt.msg {
					t.Fatalf("MoveCase = %v, want %s %q", err, tt.code, tt.msg)
				}
				if before.Ref != "" {
					if after, _ := n.DB.Store().Cases.Case(t.Context(), tt.ref); len(after.History) != len(before.History) {
						t.Errorf("refused move written: %+v", after.History)
					}
					wantMessages(t, n, before.Phone)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != tt.want.Status || !c.Updated.Equal(tt.want.At) || len(c.History) != len(before.History)+1 || c.History[len(c.History)-1] != tt.want {
				t.Errorf("moved case: status %s, updated %v, history %+v; want %+v last", c.Status, c.Updated, c.History, tt.want)
			}
			if stored, _ := n.DB.Store().Cases.Case(t.Context(), tt.ref); !slices.Equal(stored.History, c.History) {
				t.Errorf("stored history %+v, want %+v", stored.History, c.History)
			}
			if tt.sms == nil {
				wantMessages(t, n, c.Phone)
			} else {
				wantMessages(t, n, c.Phone, *tt.sms)
			}
		})
	}
}

func TestCase(t *testing.T) {
	n := newNative(t)
	n.Catalogue = catalogue{}
	ctx := t.Context()
	for _, owner := range []string{"wouri", ""} {
		c, err := n.Case(ctx, DemoLicenceReady, owner)
		if err != nil || c.Ref != DemoLicenceReady || c.Data["company"] != "Boulangerie du Port" {
			t.Errorf("Case for %q = %+v, %v; want the case with its data", owner, c, err)
		}
	}
	for _, tt := range []struct {
		ref, owner, code string
	}{
		{DemoLicenceReady, "civil-status", guichet.ENOTFOUND},
		{reference.FromNumber(9999999, 7), "", guichet.ENOTFOUND},
		{"10000058", "", guichet.EINVALID},
		{"", "", guichet.EINVALID},
	} {
		if _, err := n.Case(ctx, tt.ref, tt.owner); guichet.ErrorCode(err) != tt.code {
			t.Errorf("Case(%q, %q) = %v, want %s", tt.ref, tt.owner, err, tt.code)
		}
	}
}

// A note joins the history without moving the case or writing an SMS.
func TestNoteCase(t *testing.T) {
	n := newNative(t)
	n.Catalogue = catalogue{}
	ctx := t.Context()
	before, err := n.Case(ctx, DemoLicenceReady, "")
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := outboxOf(n).Messages(ctx, baker, 0)
	c, err := n.NoteCase(ctx, DemoLicenceReady, "  Called: will come Monday. ", "awa", "hotline")
	if err != nil {
		t.Fatal(err)
	}
	last := c.History[len(c.History)-1]
	if c.Status != before.Status || !c.Updated.Equal(before.Updated) || len(c.History) != len(before.History)+1 ||
		last != (Event{Status: before.Status, At: monday, Channel: "hotline", Who: "awa", Note: "Called: will come Monday."}) {
		t.Errorf("after the note: status %s, history %+v", c.Status, c.History)
	}
	if after, _ := outboxOf(n).Messages(ctx, baker, 0); len(after) != len(msgs) {
		t.Errorf("a note wrote an SMS: %+v", after[:len(after)-len(msgs)])
	}
	for _, tt := range []struct{ ref, note, code string }{
		{DemoLicenceReady, " ", guichet.EINVALID},
		{"10000058", "x", guichet.EINVALID},
		{reference.FromNumber(9999999, 7), "x", guichet.ENOTFOUND},
	} {
		if _, err := n.NoteCase(ctx, tt.ref, tt.note, "awa", "hotline"); guichet.ErrorCode(err) != tt.code {
			t.Errorf("NoteCase(%q, %q) = %v, want %s", tt.ref, tt.note, err, tt.code)
		}
	}
}

func TestCases(t *testing.T) {
	n := newNative(t)
	n.Catalogue = catalogue{}
	do(t, n, menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: citizen}) // 20000011
	do(t, n, menus.Call{Op: "cases.open", Service: "business-licence", Phone: citizen})  // 20000022
	refs := func(f CaseFilter, owner string) []string {
		t.Helper()
		cases, err := n.Cases(t.Context(), f, owner)
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, c := range cases {
			refs = append(refs, c.Ref)
		}
		return refs
	}
	for _, tt := range []struct {
		name  string
		f     CaseFilter
		owner string
		want  []string
	}{
		{"the hotline sees all", CaseFilter{}, "", []string{"10000012", "10000020", "10000036", "10000048", "10000057", "20000011", "20000022"}},
		{"an owner sees its own", CaseFilter{}, "wouri", []string{"10000048", "10000057", "20000022"}},
		{"an owner's, filtered", CaseFilter{Status: "ready"}, "wouri", []string{"10000057"}},
		{"an owner asking for another's", CaseFilter{Services: []string{"courrier"}}, "wouri", nil},
		{"an owner asking for its own and another's", CaseFilter{Services: []string{"courrier", "business-licence"}, Phone: citizen}, "wouri", []string{"20000022"}},
		{"an owner of nothing", CaseFilter{}, "nobody", nil},
		{"the next page", CaseFilter{After: "10000048", Limit: 2}, "", []string{"10000057", "20000011"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := refs(tt.f, tt.owner); !slices.Equal(got, tt.want) {
				t.Errorf("Cases = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := n.Cases(t.Context(), CaseFilter{After: "10000049"}, ""); guichet.ErrorCode(err) != guichet.EINVALID {
		t.Errorf("a bad cursor: %v, want invalid", err)
	}
	if _, err := n.Cases(t.Context(), CaseFilter{Limit: -1}, ""); guichet.ErrorCode(err) != guichet.EINVALID {
		t.Errorf("a negative limit: %v, want invalid", err)
	}
}

func TestRemindTomorrow(t *testing.T) {
	n := newNative(t)
	n.Catalogue = catalogue{}
	visit := func(phone, lang, office, slot string) {
		do(t, n, menus.Call{Op: "slots.book", Service: "visit", Phone: phone, Lang: lang, Args: map[string]string{"office": office, "slot": slot}})
	}
	visit(citizen, "fr", "douala-3", "202612010900")               // tomorrow: reminded
	visit(other, "en", "wouri", "202612011400")                    // tomorrow: reminded
	visit(trader, "fr", "douala-3", "202611301000")                // today: not
	visit(baker, "fr", "douala-3", "202612020800")                 // the day after: not
	do(t, n, book("+237655000001", "202612011000"))                // a service without a reminder: marked, no SMS
	n.Now = func() time.Time { return monday.Add(10 * time.Hour) } // Monday, 17:30
	count, err := n.RemindTomorrow(t.Context())
	if err != nil || count != 3 {
		t.Fatalf("RemindTomorrow = %d, %v; want 3", count, err)
	}
	after := func(phone string) []outbox.Message {
		t.Helper()
		msgs, err := outboxOf(n).Messages(t.Context(), phone, 0)
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	if got := after(citizen); len(got) != 2 || got[0].Body != "Rappel: RDV demain Mar 01/12 09h00, Mairie de Douala 3e." || got[0].Kind != KindReminder {
		t.Errorf("messages to the citizen: %+v", got)
	} else if !got[0].Transliterate || got[1].Transliterate {
		t.Errorf("the reminder's template asks for GSM-7, the booking's does not: %+v", got)
	}
	if got := after(other); len(got) != 2 || got[0].Body != "Reminder: visit tomorrow Tue 01/12 14:00, Prefecture du Wouri." || got[0].Lang != "en" {
		t.Errorf("messages to the other: %+v", got)
	}
	for _, phone := range []string{trader, baker} {
		if got := after(phone); len(got) != 1 || got[0].Kind != KindBooked {
			t.Errorf("messages to %s: %+v, want only the booking's", phone, got)
		}
	}
	if count, err := n.RemindTomorrow(t.Context()); err != nil || count != 0 {
		t.Errorf("second RemindTomorrow = %d, %v; want 0", count, err)
	}
}

var _ Catalogue = (*menus.Catalogue)(nil)
