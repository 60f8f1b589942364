package inbox_test

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/inbox"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/sms"
)

// langs is the languages callers chose, in a map.
type langs struct {
	mu sync.Mutex
	m  map[string]string
}

func (l *langs) Language(_ context.Context, p string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[p]
}

func (l *langs) SetLanguage(_ context.Context, p, lang string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[p] = lang
	return nil
}

type rig struct {
	x     *inbox.Inbox
	store *cases.Memory
	out   *outbox.Memory
	now   time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{out: outbox.NewMemory(), now: time.Date(2026, 11, 30, 7, 0, 0, 0, cases.Cameroon)}
	r.store = cases.NewMemory(r.out)
	r.store.Now = func() time.Time { return r.now }
	r.out.Now = r.store.Now
	if err := r.store.Seed(t.Context()); err != nil {
		t.Fatal(err)
	}
	native := &cases.Service{DB: r.store, Catalogue: cat, Now: func() time.Time { return r.now }}
	r.x = &inbox.Inbox{Store: r.store, Cases: native, Languages: &langs{m: map[string]string{"+237699000002": "en"}},
		Region: "CM", Now: func() time.Time { return r.now }}
	return r
}

// send delivers one SMS and returns the replies written since.
func (r *rig) send(t *testing.T, from, text string) []outbox.Message {
	t.Helper()
	before, _ := r.out.Messages(t.Context(), "+"+strings.TrimPrefix(from, "+"), 100)
	m, err := sms.Encode(text, sms.Options{MaxParts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.x.Handle(t.Context(), smpp.Inbound{SourceAddr: from, DestAddr: "8080", DataCoding: m.DataCoding, ShortMessage: m.Parts[0]}); err != nil {
		t.Fatalf("Handle(%q): %v", text, err)
	}
	after, _ := r.out.Messages(t.Context(), "+"+strings.TrimPrefix(from, "+"), 100)
	return after[:len(after)-len(before)]
}

func TestKeywords(t *testing.T) {
	tests := []struct {
		from, text, want, kind, lang string
	}{
		{"237677000101", "SUIVI 10000048", "Dossier 10000048 (Entreprises): En traitement depuis le 12/11/2026.", "moved", "fr"},
		{"237677000102", "  track   10000057 ", "Case 10000057 (Businesses): Ready for pickup since 20/11/2026.", "moved", "en"},
		{"237677000103", "suivi 10000049", "Numero 10000049 mal saisi", "moved", "fr"},
		{"237677000104", "SUIVI 10000099", "Aucun dossier 10000099.", "moved", "fr"},
		{"237677000105", "Aide", "SUIVI <numero>: un dossier.", "moved", "fr"},
		{"237699000002", "bonjour", "Message not understood. TRACK <number>", "moved", "en"}, // a caller who chose English
		{"237677000106", "RDV", "Aucun rendez-vous a venir.", "booked", "fr"},
		{"237677000107", "arrêt.", "Vous ne recevrez plus de SMS", "optout", "fr"},
		{"237677000108", "EN", "Language: English.", "moved", "en"},
	}
	r := newRig(t)
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := r.send(t, tt.from, tt.text)
			if len(got) != 1 || !strings.Contains(got[0].Body, tt.want) || got[0].Kind != tt.kind || got[0].Lang != tt.lang {
				t.Fatalf("replies %+v, want one %s/%s containing %q", got, tt.kind, tt.lang, tt.want)
			}
		})
	}
	if out, err := r.store.OptedOut(t.Context(), "+237677000107"); err != nil || !out {
		t.Errorf("after ARRET: opted out %v, %v", out, err)
	}
	if got := r.x.Languages.Language(t.Context(), "+237677000108"); got != "en" {
		t.Errorf("after EN the language is %q", got)
	}
	want := map[string]uint64{"Track": 4, "Help": 1, "Unknown": 1, "Bookings": 1, "Stop": 1, "Language": 1, "Start": 0, "Menu": 0}
	if got := r.x.Counts().Keywords; !maps.Equal(got, want) {
		t.Errorf("keyword counts %v, want %v", got, want)
	}
}

func TestBookingsBySMS(t *testing.T) {
	r := newRig(t)
	cat, _ := menus.Builtin()
	native := &cases.Service{DB: r.store, Catalogue: cat, Now: func() time.Time { return r.now }}
	const ph = "+237677000201"
	if _, err := native.Do(t.Context(), menus.Call{Op: "slots.book", Service: "visit", Phone: ph, Lang: "fr",
		Args: map[string]string{"office": "douala-3", "slot": "202611301000"}}); err != nil {
		t.Fatal(err)
	}
	got := r.send(t, ph, "rdv")
	if len(got) != 1 || !strings.Contains(got[0].Body, "30/11 10h00, Mairie de Douala 3e") {
		t.Fatalf("replies %+v", got)
	}
}

// The SMSC sends an SMS again when our ack was lost: one answer. A number
// that floods gets answered PerMinute times, then ignored.
func TestDuplicatesAndFloods(t *testing.T) {
	r := newRig(t)
	if n := len(r.send(t, "237677000301", "AIDE")) + len(r.send(t, "237677000301", "AIDE")); n != 1 {
		t.Errorf("the same SMS twice got %d answers, want 1", n)
	}
	r.now = r.now.Add(inbox.DedupWindow + time.Minute)
	replies := 0
	for i := 0; i < 8; i++ {
		replies += len(r.send(t, "237677000302", "SUIVI 1000004"+string(rune('0'+i))))
	}
	if replies != 5 {
		t.Errorf("8 SMS in a minute got %d answers, want 5", replies)
	}
	// Over its limit, the number can still stop.
	r.send(t, "237677000302", "STOP")
	if out, err := r.store.OptedOut(t.Context(), "+237677000302"); err != nil || !out {
		t.Errorf("a STOP over the flood limit was dropped: opted out %v, %v", out, err)
	}
	if err := r.x.Handle(t.Context(), smpp.Inbound{SourceAddr: "not a number", ShortMessage: []byte("AIDE")}); err != nil {
		t.Fatal(err)
	}
	c := r.x.Counts()
	if c.Duplicates != 1 || c.Flooded != 3 || c.Unreadable != 1 || c.Keywords["Help"] != 1 || c.Keywords["Track"] != 5 {
		t.Errorf("counts %+v: want 1 duplicate, 3 flooded, 1 unreadable, 1 help, 5 track", c)
	}
}

// A long SMS comes in parts: one answer, once the last part is in.
func TestConcatenated(t *testing.T) {
	r := newRig(t)
	m, err := sms.Encode("SUIVI 10000048 "+strings.Repeat("merci ", 40), sms.Options{})
	if err != nil || len(m.Parts) < 2 {
		t.Fatalf("setup: %d parts, %v", len(m.Parts), err)
	}
	for i, part := range m.Parts {
		if err := r.x.Handle(t.Context(), smpp.Inbound{SourceAddr: "237677000401", DestAddr: "8080", ESMClass: m.ESMClass,
			DataCoding: m.DataCoding, ShortMessage: part}); err != nil {
			t.Fatal(err)
		}
		msgs, _ := r.out.Messages(t.Context(), "+237677000401", 10)
		if want := map[bool]int{true: 1, false: 0}[i == len(m.Parts)-1]; len(msgs) != want {
			t.Fatalf("after part %d: %d answers, want %d", i+1, len(msgs), want)
		}
	}
}

// A STOP that the SMSC delivers again after the citizen's START (our
// acknowledgement was lost) is neither acted on nor answered again: the
// citizen stays opted in.
func TestRedeliveredStopAfterStart(t *testing.T) {
	r := newRig(t)
	const from = "237677000301"
	for _, text := range []string{"STOP", "START"} {
		if got := r.send(t, from, text); len(got) != 1 {
			t.Fatalf("%s: %d replies, want 1", text, len(got))
		}
	}
	if got := r.send(t, from, "STOP"); len(got) != 0 {
		t.Errorf("the STOP delivered again was answered: %+v", got)
	}
	if out, err := r.store.OptedOut(t.Context(), "+"+from); err != nil || out {
		t.Errorf("opted out = %v, %v after STOP, START and STOP again; want still opted in", out, err)
	}
	if c := r.x.Counts(); c.Duplicates != 1 {
		t.Errorf("%d duplicates counted, want 1", c.Duplicates)
	}
}
