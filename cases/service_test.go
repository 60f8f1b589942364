package cases

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/flood"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/reference"
	"github.com/guichet/guichet/sessions"
)

// monday is the tests' "now": Monday 30 November 2026, 07:30 in Cameroon,
// before the first slot of the day.
var monday = time.Date(2026, time.November, 30, 7, 30, 0, 0, Cameroon)

const (
	citizen = "+237677123456"
	other   = "+237699999999"
)

// newNative returns a Service on a seeded memory store, at monday.
func newNative(t *testing.T) *Service {
	t.Helper()
	m := NewMemory(outbox.NewMemory())
	if err := m.Seed(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &Service{DB: m, Now: func() time.Time { return monday }}
}

// do runs a call that must succeed, for a test's setup.
func do(t *testing.T, n *Service, c menus.Call) menus.Result {
	t.Helper()
	r, err := n.Do(t.Context(), c)
	if err != nil {
		t.Fatalf("%s: %v", c.Op, err)
	}
	return r
}

func book(phone, slot string) menus.Call {
	return menus.Call{Op: "slots.book", Service: "birth-certificate", Phone: phone, Lang: "fr", Channel: "ussd",
		Args: map[string]string{"office": "douala-3", "slot": slot}}
}

// fillSlot books every place of a slot of douala-3, from other phones.
func fillSlot(t *testing.T, n *Service, slot string) {
	t.Helper()
	for i := range GatheringLimit {
		do(t, n, book(fmt.Sprintf("+23765000%04d", i), slot))
	}
}

// catalogue is what the menus package supplies, for the demo's services
// and two of the built-in ones.
type catalogue struct{}

var _ Catalogue = catalogue{}

// lifeCycles are the services' statuses, each with the statuses it may
// move to.
var lifeCycles = map[string]map[string][]string{
	"courrier": {"received": {"forwarded"}, "forwarded": {"delivered"}, "delivered": nil},
	"business-licence": {
		"received": {"processing", "rejected"}, "processing": {"ready", "rejected"},
		"ready": {"collected"}, "collected": nil, "rejected": nil,
	},
	"birth-certificate": {
		"received": {"processing", "rejected"}, "processing": {"ready", "rejected"},
		"ready": {"collected"}, "collected": nil, "rejected": nil,
	},
	"visit": nil,
}

var owners = map[string]string{
	"courrier": "minfi-registry", "business-licence": "wouri", "birth-certificate": "civil-status", "visit": "public-service",
}

func (catalogue) StatusLabel(service, status, lang string) string {
	return map[string]string{
		"fr/delivered": "Remis au destinataire", "en/delivered": "Delivered",
		"fr/ready": "Disponible au guichet", "en/ready": "Ready for pickup",
	}[lang+"/"+status]
}

func (catalogue) ServiceTitle(service, lang string) string {
	return map[string]string{"fr/courrier": "Courrier officiel", "en/courrier": "Official mail"}[lang+"/"+service]
}

func (catalogue) Owner(service string) string { return owners[service] }

func (catalogue) CanMove(service, from, to string) bool {
	return slices.Contains(lifeCycles[service][from], to)
}

func (catalogue) HasStatus(service, status string) bool {
	_, ok := lifeCycles[service][status]
	return ok
}

func (catalogue) ServiceIDs() []string { return slices.Sorted(maps.Keys(lifeCycles)) }

// Visit reminders are spelt in GSM-7.
func (catalogue) Transliterated(service, key string) bool {
	return service == "visit" && key == "reminder"
}

// Courrier has no messages: its cases move without SMS.
func (catalogue) Template(service, key, lang string) (string, bool) {
	t, ok := map[string]string{
		"birth-certificate/opened/fr": "Dossier {{ref}} déposé. Suivi: *123*4*{{ref}}#",
		"birth-certificate/opened/en": "Case {{ref}} received. Track: *123*4*{{ref}}#",
		"business-licence/moved/fr":   "Dossier {{ref}}: {{status}}. {{note}}",
		"business-licence/moved/en":   "Case {{ref}}: {{status}}. {{note}}",
		"business-licence/ready/en":   "Your licence {{ref}} is ready: bring your ID to the Wouri desk. {{note}}",
		"visit/booked/fr":             "RDV {{ref}}: {{slot}}, {{office}}.",
		"visit/booked/en":             "Visit {{ref}}: {{slot}}, {{office}}.",
		"visit/reminder/fr":           "Rappel: RDV demain {{slot}}, {{office}}.",
		"visit/reminder/en":           "Reminder: visit tomorrow {{slot}}, {{office}}.",
	}[service+"/"+key+"/"+lang]
	return t, ok
}

// noLookup is a DB whose case lookups and moves fail the test.
type noLookup struct {
	DB
	t *testing.T
}

func (d noLookup) Store() Store {
	st := d.DB.Store()
	st.Cases = noLookupCases{st.Cases, d.t}
	return st
}

func (d noLookup) Once(ctx context.Context, op, key string, do func(context.Context, Store) (menus.Result, error)) (menus.Result, error) {
	return d.DB.Once(ctx, op, key, func(ctx context.Context, tx Store) (menus.Result, error) {
		tx.Cases = noLookupCases{tx.Cases, d.t}
		return do(ctx, tx)
	})
}

type noLookupCases struct {
	CaseStore
	t *testing.T
}

func (s noLookupCases) Case(ctx context.Context, ref string) (Case, error) {
	s.t.Errorf("looked up case %s", ref)
	return s.CaseStore.Case(ctx, ref)
}

func (s noLookupCases) MoveCase(ctx context.Context, ref string, m Move, check func(Case) error, notify func(Case) []outbox.Message) (Case, error) {
	s.t.Errorf("moved case %s", ref)
	return s.CaseStore.MoveCase(ctx, ref, m, check, notify)
}

// outboxOf returns the outbox that n's memory store writes to.
func outboxOf(n *Service) *outbox.Memory {
	db := n.DB
	if nl, ok := db.(noLookup); ok {
		db = nl.DB
	}
	return db.(*Memory).outbox.(*outbox.Memory)
}

// wantMessages fails t unless phone's messages, newest first, are want
// (IDs aside).
func wantMessages(t *testing.T, n *Service, phone string, want ...outbox.Message) {
	t.Helper()
	got, err := outboxOf(n).Messages(t.Context(), phone, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].ID = 0
	}
	if !reflect.DeepEqual(got, want) && (len(got) > 0 || len(want) > 0) {
		t.Errorf("messages to %s:\n%+v\nwant\n%+v", phone, got, want)
	}
}

type doTest struct {
	name  string
	setup func(t *testing.T, n *Service)
	call  menus.Call
	// want is the result of a call that succeeds; code and msg the error
	// of one that fails.
	want      menus.Result
	code, msg string
	// check looks further, after the call.
	check func(t *testing.T, n *Service, r menus.Result)
}

// doTests are the cases of TestDo: every operation in Operations needs at
// least one that succeeds (TestOperationsServed).
func doTests() []doTest {
	return []doTest{
		{
			name: "unknown operation",
			call: menus.Call{Op: "cases.delete", Phone: citizen},
			code: guichet.EINVALID, msg: "unknown operation",
		},

		// offices.list
		{
			name: "offices, all",
			call: menus.Call{Op: "offices.list", Lang: "fr"},
			want: menus.Result{Options: []menus.Choice{
				{ID: "bafoussam-ec", Label: "Centre d'etat civil Bafoussam"},
				{ID: "douala-3", Label: "Mairie de Douala 3e"},
				{ID: "yaounde-1", Label: "Mairie de Yaounde 1er"},
				{ID: "wouri", Label: "Prefecture du Wouri"},
			}},
		},
		{
			name: "offices of a service",
			call: menus.Call{Op: "offices.list", Lang: "en", Args: map[string]string{"service": "courrier"}},
			want: menus.Result{Options: []menus.Choice{
				{ID: "douala-3", Label: "Mairie de Douala 3e"},
				{ID: "yaounde-1", Label: "Mairie de Yaounde 1er"},
				{ID: "wouri", Label: "Prefecture du Wouri"},
			}},
		},

		// slots.list
		{
			name: "slots, in French, five working days",
			call: menus.Call{Op: "slots.list", Lang: "fr", Args: map[string]string{"office": "douala-3"}},
			check: func(t *testing.T, n *Service, r menus.Result) {
				wantSlots(t, r, 35,
					menus.Choice{ID: "202611300800", Label: "Lun 30/11 08h00 (50)"},
					menus.Choice{ID: "202612041400", Label: "Ven 04/12 14h00 (50)"})
			},
		},
		{
			name: "slots, in English, places left",
			setup: func(t *testing.T, n *Service) {
				do(t, n, book(citizen, "202611300900"))
			},
			call: menus.Call{Op: "slots.list", Lang: "en", Args: map[string]string{"office": "douala-3"}},
			check: func(t *testing.T, n *Service, r menus.Result) {
				wantSlots(t, r, 35,
					menus.Choice{ID: "202611300800", Label: "Mon 30/11 08:00 (50)"},
					menus.Choice{ID: "202612041400", Label: "Fri 04/12 14:00 (50)"})
				if got, want := r.Options[1], (menus.Choice{ID: "202611300900", Label: "Mon 30/11 09:00 (49)"}); got != want {
					t.Errorf("booked slot = %+v, want %+v", got, want)
				}
			},
		},
		{
			name: "slots from now, across the weekend",
			setup: func(t *testing.T, n *Service) {
				n.Now = func() time.Time { return time.Date(2026, time.December, 4, 14, 30, 0, 0, Cameroon) }
			},
			call: menus.Call{Op: "slots.list", Lang: "fr", Args: map[string]string{"office": "douala-3"}},
			check: func(t *testing.T, n *Service, r menus.Result) {
				wantSlots(t, r, 35,
					menus.Choice{ID: "202612070800", Label: "Lun 07/12 08h00 (50)"},
					menus.Choice{ID: "202612111400", Label: "Ven 11/12 14h00 (50)"})
			},
		},
		{
			name: "slots, a full one left out",
			setup: func(t *testing.T, n *Service) {
				fillSlot(t, n, "202611300800")
			},
			call: menus.Call{Op: "slots.list", Lang: "fr", Args: map[string]string{"office": "douala-3"}},
			check: func(t *testing.T, n *Service, r menus.Result) {
				wantSlots(t, r, 34,
					menus.Choice{ID: "202611300900", Label: "Lun 30/11 09h00 (50)"},
					menus.Choice{ID: "202612041400", Label: "Ven 04/12 14h00 (50)"})
			},
		},
		{
			name: "slots of an unknown office",
			call: menus.Call{Op: "slots.list", Lang: "fr", Args: map[string]string{"office": "atlantis"}},
			code: guichet.ENOTFOUND,
		},
		{
			name: "slots without an office",
			call: menus.Call{Op: "slots.list", Lang: "fr"},
			code: guichet.EINVALID, msg: "no office",
		},

		// slots.book
		{
			name: "book, in French",
			call: book(citizen, "202611300900"),
			want: menus.Result{Vars: map[string]string{
				"ref": reference.FromNumber(MemorySerials+1, 7), "slot": "Lun 30/11 09h00", "office": "Mairie de Douala 3e",
			}},
		},
		{
			name: "book, in English",
			call: menus.Call{Op: "slots.book", Service: "business-licence", Phone: citizen, Lang: "en",
				Args: map[string]string{"office": "wouri", "slot": "202612041400"}},
			want: menus.Result{Vars: map[string]string{
				"ref": "20000011", "slot": "Fri 04/12 14:00", "office": "Prefecture du Wouri",
			}},
		},
		{
			name:  "book a visit, with its SMS",
			setup: func(t *testing.T, n *Service) { n.Catalogue = catalogue{} },
			call: menus.Call{Op: "slots.book", Service: "visit", Phone: citizen, Lang: "fr", Channel: "ussd",
				Args: map[string]string{"office": "douala-3", "slot": "202611300900"}},
			want: menus.Result{Vars: map[string]string{"ref": "20000011", "slot": "Lun 30/11 09h00", "office": "Mairie de Douala 3e"}},
			check: func(t *testing.T, n *Service, r menus.Result) {
				wantMessages(t, n, citizen, outbox.Message{Phone: citizen, Lang: "fr", Body: "RDV 20000011: Lun 30/11 09h00, Mairie de Douala 3e.",
					Kind: "booked", CaseRef: "20000011", Created: monday, Status: outbox.MessagePending})
			},
		},
		{
			name:  "book a visit, with its SMS in English",
			setup: func(t *testing.T, n *Service) { n.Catalogue = catalogue{} },
			call: menus.Call{Op: "slots.book", Service: "visit", Phone: citizen, Lang: "en", Channel: "ussd",
				Args: map[string]string{"office": "wouri", "slot": "202612041400"}},
			want: menus.Result{Vars: map[string]string{"ref": "20000011", "slot": "Fri 04/12 14:00", "office": "Prefecture du Wouri"}},
			check: func(t *testing.T, n *Service, r menus.Result) {
				wantMessages(t, n, citizen, outbox.Message{Phone: citizen, Lang: "en", Body: "Visit 20000011: Fri 04/12 14:00, Prefecture du Wouri.",
					Kind: "booked", CaseRef: "20000011", Created: monday, Status: outbox.MessagePending})
			},
		},
		{
			name: "book a past slot",
			call: book(citizen, "202611300700"),
			code: guichet.EINVALID, msg: "slot is past",
		},
		{
			name: "book on a Saturday",
			call: book(citizen, "202612050900"),
			code: guichet.EINVALID, msg: "unknown slot",
		},
		{
			name: "book beyond five working days",
			call: book(citizen, "202612070800"),
			code: guichet.EINVALID, msg: "unknown slot",
		},
		{
			name: "book off the hour",
			call: book(citizen, "202611300930"),
			code: guichet.EINVALID, msg: "unknown slot",
		},
		{
			name: "book a garbled slot",
			call: book(citizen, "tomorrow"),
			code: guichet.EINVALID, msg: "unknown slot",
		},
		{
			name: "book at an unknown office",
			call: menus.Call{Op: "slots.book", Service: "x", Phone: citizen, Args: map[string]string{"office": "atlantis", "slot": "202611300900"}},
			code: guichet.ENOTFOUND,
		},
		{
			name: "book twice for one service",
			setup: func(t *testing.T, n *Service) {
				do(t, n, book(citizen, "202611300800"))
			},
			call: book(citizen, "202612011000"),
			code: guichet.ECONFLICT, msg: "already booked",
		},
		{
			name: "book a full slot",
			setup: func(t *testing.T, n *Service) {
				fillSlot(t, n, "202611300800")
			},
			call: book(citizen, "202611300800"),
			code: guichet.ECONFLICT, msg: "slot full",
		},

		// slots.cancel
		{
			name: "cancel, freeing the place",
			setup: func(t *testing.T, n *Service) {
				fillSlot(t, n, "202611300800") // the first booking is 20000011
			},
			call: menus.Call{Op: "slots.cancel", Phone: "+237650000000", Args: map[string]string{"ref": "20000011"}},
			want: menus.Result{Vars: map[string]string{"ref": "20000011"}},
			check: func(t *testing.T, n *Service, r menus.Result) {
				do(t, n, book(citizen, "202611300800"))
			},
		},
		{
			name: "cancel another phone's booking",
			setup: func(t *testing.T, n *Service) {
				do(t, n, book(citizen, "202611300800"))
			},
			call: menus.Call{Op: "slots.cancel", Phone: other, Args: map[string]string{"ref": "20000011"}},
			code: guichet.ENOTFOUND,
		},
		{
			name:  "cancel with a bad check digit",
			setup: func(t *testing.T, n *Service) { do(t, n, book(citizen, "202611300800")) },
			call:  menus.Call{Op: "slots.cancel", Phone: citizen, Args: map[string]string{"ref": "20000012"}},
			code:  guichet.EINVALID, msg: "invalid reference",
		},

		// cases.open
		{
			name: "open a case",
			call: menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: citizen, Lang: "en", Channel: "hotline",
				Args: map[string]string{"office": "bafoussam-ec", "born": "01021990"}},
			want: menus.Result{Vars: map[string]string{"ref": "20000011"}},
			check: func(t *testing.T, n *Service, r menus.Result) {
				c, err := n.DB.Store().Cases.Case(t.Context(), "20000011")
				if err != nil {
					t.Fatal(err)
				}
				want := Case{
					Ref: "20000011", Service: "birth-certificate", Status: "received", Phone: citizen,
					Lang: "en", Channel: "hotline", Opened: monday, Updated: monday,
					Data:    map[string]string{"office": "bafoussam-ec", "born": "01021990"},
					History: []Event{{Status: "received", At: monday, Channel: "hotline", Who: citizen}},
				}
				if !reflect.DeepEqual(c, want) {
					t.Errorf("case = %+v, want %+v", c, want)
				}
			},
		},
		{
			name:  "open a case, with its SMS in the citizen's language",
			setup: func(t *testing.T, n *Service) { n.Catalogue = catalogue{} },
			call: menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: citizen, Lang: "en", Channel: "ussd",
				Args: map[string]string{"born": "01021990"}},
			want: menus.Result{Vars: map[string]string{"ref": "20000011"}},
			check: func(t *testing.T, n *Service, r menus.Result) {
				wantMessages(t, n, citizen, outbox.Message{Phone: citizen, Lang: "en", Body: "Case 20000011 received. Track: *123*4*20000011#",
					Kind: "opened", CaseRef: "20000011", Created: monday, Status: outbox.MessagePending})
			},
		},
		{
			name:  "open a case in another language: the SMS in French",
			setup: func(t *testing.T, n *Service) { n.Catalogue = catalogue{} },
			call:  menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: citizen, Lang: "sw", Channel: "ussd"},
			want:  menus.Result{Vars: map[string]string{"ref": "20000011"}},
			check: func(t *testing.T, n *Service, r menus.Result) {
				wantMessages(t, n, citizen, outbox.Message{Phone: citizen, Lang: "fr", Body: "Dossier 20000011 déposé. Suivi: *123*4*20000011#",
					Kind: "opened", CaseRef: "20000011", Created: monday, Status: outbox.MessagePending})
			},
		},
		{
			name:  "open a case of a service without messages: no SMS",
			setup: func(t *testing.T, n *Service) { n.Catalogue = catalogue{} },
			call:  menus.Call{Op: "cases.open", Service: "courrier", Phone: citizen, Lang: "fr", Channel: "ussd"},
			want:  menus.Result{Vars: map[string]string{"ref": "20000011"}},
			check: func(t *testing.T, n *Service, r menus.Result) { wantMessages(t, n, citizen) },
		},
		{
			name:  "open a case without a catalogue: no SMS",
			call:  menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: citizen, Lang: "fr", Channel: "ussd"},
			want:  menus.Result{Vars: map[string]string{"ref": "20000011"}},
			check: func(t *testing.T, n *Service, r menus.Result) { wantMessages(t, n, citizen) },
		},
		{
			name: "open a case without a service",
			call: menus.Call{Op: "cases.open", Phone: citizen},
			code: guichet.EINVALID, msg: "no service",
		},

		// cases.track
		{
			name: "track a demo case, codes for labels",
			call: menus.Call{Op: "cases.track", Phone: "+237222230001", Lang: "fr", Args: map[string]string{"ref": DemoCourrierDelivered}},
			want: menus.Result{Vars: map[string]string{
				"ref": "10000012", "status": "delivered", "service": "courrier", "updated": "05/11/2026",
			}},
		},
		{
			name:  "track, with the catalogue",
			setup: func(t *testing.T, n *Service) { n.Catalogue = catalogue{} },
			call:  menus.Call{Op: "cases.track", Lang: "en", Args: map[string]string{"ref": DemoCourrierDelivered}},
			want: menus.Result{Vars: map[string]string{
				"ref": "10000012", "status": "Delivered", "service": "Official mail", "updated": "05/11/2026",
			}},
		},
		{
			name:  "track, with the catalogue, in English",
			setup: func(t *testing.T, n *Service) { n.Catalogue = catalogue{} },
			call:  menus.Call{Op: "cases.track", Lang: "en", Args: map[string]string{"ref": DemoCourrierDelivered, "service": "courrier"}},
			want: menus.Result{Vars: map[string]string{
				"ref": "10000012", "status": "Delivered", "service": "Official mail", "updated": "05/11/2026",
			}},
		},
		{
			name: "track someone else's case: its status only",
			call: menus.Call{Op: "cases.track", Phone: other, Lang: "en", Args: map[string]string{"ref": DemoLicenceProcessing}},
			want: menus.Result{Vars: map[string]string{
				"ref": "10000048", "status": "processing", "service": "business-licence", "updated": "12/11/2026",
			}},
			check: func(t *testing.T, n *Service, r menus.Result) {
				c, err := n.DB.Store().Cases.Case(t.Context(), DemoLicenceProcessing)
				if err != nil {
					t.Fatal(err)
				}
				private := append(slices.Collect(maps.Values(c.Data)), c.Phone)
				for k, v := range r.Vars {
					for _, p := range private {
						if strings.Contains(v, p) {
							t.Errorf("%s = %q shows the applicant's %q", k, v, p)
						}
					}
				}
			},
		},
		{
			name: "track a case just opened",
			setup: func(t *testing.T, n *Service) {
				do(t, n, menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: citizen})
			},
			call: menus.Call{Op: "cases.track", Lang: "fr", Args: map[string]string{"ref": "20000011"}},
			want: menus.Result{Vars: map[string]string{
				"ref": "20000011", "status": "received", "service": "birth-certificate", "updated": "30/11/2026",
			}},
		},
		{
			name:  "track with a bad check digit, before any lookup",
			setup: func(t *testing.T, n *Service) { n.DB = noLookup{n.DB, t} },
			call:  menus.Call{Op: "cases.track", Lang: "fr", Args: map[string]string{"ref": "10000013"}},
			code:  guichet.EINVALID, msg: "invalid reference",
		},
		{
			name:  "track two swapped digits, before any lookup",
			setup: func(t *testing.T, n *Service) { n.DB = noLookup{n.DB, t} },
			call:  menus.Call{Op: "cases.track", Lang: "fr", Args: map[string]string{"ref": "10000021"}},
			code:  guichet.EINVALID, msg: "invalid reference",
		},
		{
			name: "track an unknown case",
			call: menus.Call{Op: "cases.track", Lang: "fr", Args: map[string]string{"ref": reference.FromNumber(9999999, 7)}},
			code: guichet.ENOTFOUND,
		},
		{
			name: "track a case of another service",
			call: menus.Call{Op: "cases.track", Lang: "fr", Args: map[string]string{"ref": DemoCourrierDelivered, "service": "business-licence"}},
			code: guichet.ENOTFOUND,
		},

		// callback.request
		{
			name: "request a callback",
			call: menus.Call{Op: "callback.request", Phone: citizen, Lang: "fr", Args: map[string]string{"reason": "passport"}},
			want: menus.Result{Vars: map[string]string{"ticket": "100009"}},
		},
		{
			name: "request a callback again: same ticket",
			setup: func(t *testing.T, n *Service) {
				do(t, n, menus.Call{Op: "callback.request", Phone: citizen})
				do(t, n, menus.Call{Op: "callback.request", Phone: other})
			},
			call: menus.Call{Op: "callback.request", Phone: citizen, Lang: "fr", Args: map[string]string{"reason": "still waiting"}},
			want: menus.Result{Vars: map[string]string{"ticket": "100009"}},
		},
		{
			name: "request a callback without a phone",
			call: menus.Call{Op: "callback.request", Lang: "fr"},
			code: guichet.EINVALID, msg: "no phone number",
		},
	}
}

func TestDo(t *testing.T) {
	for _, tt := range doTests() {
		t.Run(tt.name, func(t *testing.T) {
			n := newNative(t)
			if tt.setup != nil {
				tt.setup(t, n)
			}
			r, err := n.Do(t.Context(), tt.call)
			if tt.code != "" {
				if got := guichet.ErrorCode(err); got != tt.code {
					t.Fatalf("error %v: code %q, want %q", err, got, tt.code)
				}
				if tt.msg != "" && guichet.ErrorMessage(err) != tt.msg {
					t.Fatalf("error %v: message %q, want %q", err, guichet.ErrorMessage(err), tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkDeclared(t, tt.call.Op, r)
			if tt.check == nil || tt.want.Vars != nil || tt.want.Options != nil {
				if !reflect.DeepEqual(r, tt.want) {
					t.Errorf("Do = %+v, want %+v", r, tt.want)
				}
			}
			if tt.check != nil {
				tt.check(t, n, r)
			}
		})
	}
}

// checkDeclared holds a result to what Operations says of its operation: the
// menu validator sizes screens by it.
func checkDeclared(t *testing.T, op string, r menus.Result) {
	t.Helper()
	i := slices.IndexFunc(Operations, func(o menus.Operation) bool { return o.Name == op })
	if i < 0 {
		t.Fatalf("%s is not in Operations", op)
	}
	decl := Operations[i]
	if decl.List {
		if r.Vars != nil {
			t.Errorf("list %s set vars %v", op, r.Vars)
		}
		for _, o := range r.Options {
			if o.ID == "" || o.Label == "" || utf8.RuneCountInString(o.Label) > decl.LabelMax {
				t.Errorf("%s option %+v: want an ID and a label of 1 to %d characters", op, o, decl.LabelMax)
			}
		}
		return
	}
	if r.Options != nil {
		t.Errorf("action %s returned options", op)
	}
	if got, want := slices.Sorted(maps.Keys(r.Vars)), slices.Sorted(maps.Keys(decl.Outputs)); !slices.Equal(got, want) {
		t.Errorf("%s set %v, want %v", op, got, want)
	}
	for k, v := range r.Vars {
		if v == "" || utf8.RuneCountInString(v) > decl.Outputs[k] {
			t.Errorf("%s: %s = %q, want 1 to %d characters", op, k, v, decl.Outputs[k])
		}
	}
}

// wantSlots checks a slot list's length, first and last option.
func wantSlots(t *testing.T, r menus.Result, n int, first, last menus.Choice) {
	t.Helper()
	if len(r.Options) != n {
		t.Fatalf("%d slots, want %d: %v", len(r.Options), n, r.Options)
	}
	if r.Options[0] != first || r.Options[n-1] != last {
		t.Errorf("slots from %+v to %+v, want %+v to %+v", r.Options[0], r.Options[n-1], first, last)
	}
}

// TestOperationsServed holds Operations, the handlers and the tests
// together: an operation without a handler, or without a test that shows it
// succeed, fails.
func TestOperationsServed(t *testing.T) {
	tested := map[string]bool{}
	for _, tt := range doTests() {
		if tt.code == "" {
			tested[tt.call.Op] = true
		}
	}
	listed := map[string]bool{}
	for _, op := range Operations {
		listed[op.Name] = true
		if handlers[op.Name] == nil {
			t.Errorf("%s is in Operations but Native does not serve it", op.Name)
		}
		if !tested[op.Name] {
			t.Errorf("%s has no succeeding case in doTests", op.Name)
		}
	}
	for name := range handlers {
		if !listed[name] {
			t.Errorf("Native serves %s but Operations does not list it", name)
		}
	}
}

func TestIdempotency(t *testing.T) {
	n := newNative(t)
	open := menus.Call{Op: "cases.open", Service: "courrier", Phone: citizen, Key: "session-1/submit"}

	// A failure is not remembered: the retry does the work.
	bad := open
	bad.Service = ""
	if _, err := n.Do(t.Context(), bad); guichet.ErrorCode(err) != guichet.EINVALID {
		t.Fatalf("open without a service = %v, want invalid", err)
	}
	first := do(t, n, open)
	second := do(t, n, open)
	if first.Vars["ref"] != "20000011" || second.Vars["ref"] != first.Vars["ref"] {
		t.Fatalf("refs %v then %v, want 20000011 twice", first.Vars, second.Vars)
	}
	// Only one case was opened: the next one gets the next serial.
	other := open
	other.Key = "session-2/submit"
	if got := do(t, n, other).Vars["ref"]; got != reference.FromNumber(MemorySerials+2, 7) {
		t.Errorf("next case %s, want %s: the retry opened a case", got, reference.FromNumber(MemorySerials+2, 7))
	}
	// The retry wrote no second SMS.
	n.Catalogue = catalogue{}
	const phone = "+237655000000"
	sms := menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: phone, Lang: "fr", Key: "session-3/submit"}
	ref := do(t, n, sms).Vars["ref"]
	do(t, n, sms)
	wantMessages(t, n, phone, outbox.Message{Phone: phone, Lang: "fr", Body: "Dossier " + ref + " déposé. Suivi: *123*4*" + ref + "#",
		Kind: "opened", CaseRef: ref, Created: monday, Status: outbox.MessagePending})
	// Without a key, every call does the work.
	open.Key = ""
	if a, b := do(t, n, open).Vars["ref"], do(t, n, open).Vars["ref"]; a == b {
		t.Errorf("two calls without a key gave one ref %s", a)
	}
}

// TestBookConcurrently books one slot from 200 phones at once: exactly the
// gathering limit gets in, the others are told the slot is full.
func TestBookConcurrently(t *testing.T) {
	n := newNative(t)
	const tries = 200
	errs := make([]error, tries)
	refs := make([]string, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			r, err := n.Do(t.Context(), book(fmt.Sprintf("+23767700%04d", i), "202611301000"))
			errs[i], refs[i] = err, r.Vars["ref"]
		})
	}
	wg.Wait()
	booked, full := map[string]bool{}, 0
	for i, err := range errs {
		switch {
		case err == nil:
			booked[refs[i]] = true
		case guichet.ErrorCode(err) == guichet.ECONFLICT && guichet.ErrorMessage(err) == "slot full":
			full++
		default:
			t.Errorf("booking %d: %v", i, err)
		}
	}
	if len(booked) != GatheringLimit || full != tries-GatheringLimit {
		t.Fatalf("%d distinct bookings and %d \"slot full\", want %d and %d", len(booked), full, GatheringLimit, tries-GatheringLimit)
	}
	slots := do(t, n, menus.Call{Op: "slots.list", Lang: "fr", Args: map[string]string{"office": "douala-3"}})
	for _, o := range slots.Options {
		if o.ID == "202611301000" {
			t.Errorf("full slot still offered: %+v", o)
		}
	}
}

func TestDoTimeout(t *testing.T) {
	n := newNative(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := n.Do(ctx, menus.Call{Op: "cases.open", Service: "courrier", Phone: citizen})
	if guichet.ErrorCode(err) != guichet.EUNAVAILABLE {
		t.Errorf("Do with a cancelled context = %v, want unavailable", err)
	}
}

func TestCapacity(t *testing.T) {
	for _, tt := range []struct{ capacity, want int }{{0, 50}, {20, 20}, {50, 50}, {80, 50}, {-1, 50}} {
		if got := capacity(Office{Capacity: tt.capacity}); got != tt.want {
			t.Errorf("capacity(%d) = %d, want %d", tt.capacity, got, tt.want)
		}
	}
}

// gsm7 is the GSM 03.38 basic character set, without the escape.
const gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

func TestDemoOffices(t *testing.T) {
	for _, o := range DemoOffices() {
		if utf8.RuneCountInString(o.Name) > 30 {
			t.Errorf("%q is over 30 characters", o.Name)
		}
		for _, r := range o.Name {
			if !strings.ContainsRune(gsm7, r) {
				t.Errorf("%q: %q is not in GSM-7", o.Name, r)
			}
		}
	}
	for _, c := range DemoCases() {
		if !reference.Valid(c.Ref) || len(c.Ref) != 8 {
			t.Errorf("demo ref %q is not a valid 8-digit reference", c.Ref)
		}
	}
}

// A number may open only so many cases (book, ask callbacks) an hour, as
// counted by the Counter: the next is refused ELIMITED until the next hour.
// A repeated idempotent call is not counted again; an operator acting for
// the caller is not limited; another number has its own count.
func TestLimits(t *testing.T) {
	n := newNative(t)
	now := monday
	n.Now = func() time.Time { return now }
	n.Counter = &flood.Counter{Store: sessions.NewMemory(n.Now), Now: n.Now}
	n.Limits = Limits{Cases: 2, Callbacks: -1}
	open := func(phone, key, who string) error {
		_, err := n.Do(t.Context(), menus.Call{Op: "cases.open", Service: "courrier", Phone: phone, Key: key, Who: who})
		return err
	}
	for i, key := range []string{"s1", "s1", "s2"} { // s1 twice: one case
		if err := open(citizen, key, ""); err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	if err := open(citizen, "s3", ""); guichet.ErrorCode(err) != guichet.ELIMITED {
		t.Fatalf("a third case in the hour: %v, want %s", err, guichet.ELIMITED)
	}
	if err := open(citizen, "s4", "op1"); err != nil {
		t.Errorf("an operator acting for the caller: %v", err)
	}
	if err := open("+237699000009", "s5", ""); err != nil {
		t.Errorf("another number: %v", err)
	}
	for i := range 5 {
		if _, err := n.Do(t.Context(), menus.Call{Op: "callback.request", Phone: citizen, Args: map[string]string{"reason": "x"}}); err != nil {
			t.Fatalf("callback %d, unlimited: %v", i, err)
		}
	}
	now = now.Add(time.Hour)
	if err := open(citizen, "s6", ""); err != nil {
		t.Errorf("the next hour: %v", err)
	}
}
