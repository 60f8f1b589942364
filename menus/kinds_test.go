package menus_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/reference"
)

// Values the kinds' screens are rendered with.
var (
	sampleVars = map[string]string{
		"pin": "1234", "name": "Awa Ngono", "born": "02/03/1990", "phone": "+237677123456",
		"id": "CE1234567", "ref": "12345674", "office": "Yaounde 1er, Hotel de ville",
		"office_id": "yde1", "slot": "lun. 16/06 08h00-09h00", "slot_id": "s42",
		"case_ref": "12345674", "case_status": "En traitement", "case_updated": "14/06/2025",
	}
	sampleLabels = map[string][]string{
		"offices.list": {"Yaounde 1er, Hotel de ville", "Yaounde 3e, Efoulan", "Douala 1er, Bonanjo",
			"Douala 5e, Bonamoussadi", "Garoua, Prefecture", "Bafoussam, Mairie centrale", "Bamenda, Up Station"},
		"slots.list": {"lun. 16/06 08h00 (12)", "lun. 16/06 09h00 (3)", "lun. 16/06 10h00 (50)",
			"mar. 17/06 08h00 (41)", "mar. 17/06 09h00 (7)", "mar. 17/06 10h00 (1)", "mer. 18/06 08h00 (50)",
			"mer. 18/06 09h00 (22)", "jeu. 19/06 08h00 (9)"},
	}
)

// TestKinds requires, for every node kind the language has, a service file
// testdata/kinds/<kind>.yaml that uses it and passes Check, and renders the
// screens of its nodes to testdata/kinds/<kind>.golden: a kind added to
// menus.Kinds without a fixture fails here.
func TestKinds(t *testing.T) {
	cat, err := menus.Load(os.DirFS("."), "testdata/kinds")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, limit := range []int{menus.DefaultLimit, 160} {
		if ps := menus.Check(cat, cases.Operations, limit); len(ps) > 0 {
			t.Errorf("Check at %d:\n%v", limit, ps)
		}
	}
	known := map[string]bool{}
	for _, kind := range menus.Kinds {
		known[kind] = true
		t.Run(kind, func(t *testing.T) {
			s := cat.Services[kind]
			if s == nil {
				t.Fatalf("no fixture for node kind %q: write testdata/kinds/%s.yaml, a service %q that uses it", kind, kind, kind)
			}
			used := false
			for _, name := range s.Order {
				used = used || s.Nodes[name].Kind == kind
			}
			if !used {
				t.Errorf("%s uses no %s node", s.File, kind)
			}
			golden(t, filepath.Join("testdata", "kinds", kind+".golden"), renderService(t, cat, s))
		})
	}
	for id := range cat.Services {
		if !known[id] {
			t.Errorf("testdata/kinds has a service %q, which is not a node kind", id)
		}
	}
}

// renderService writes every screen of a service in each language, as the
// engine composes them, and fails on a page over the default limit.
func renderService(t *testing.T, cat *menus.Catalogue, s *menus.Service) string {
	t.Helper()
	var b strings.Builder
	for _, lang := range menus.Languages {
		sc := menus.Screens{Cat: cat, Lang: lang, Limit: menus.DefaultLimit}
		for _, name := range s.Order {
			n := s.Nodes[name]
			if n.Kind == menus.KindAction {
				fmt.Fprintf(&b, "== %s/%s (%s) %s: calls %s, no screen\n", s.ID, name, lang, n.Kind, n.Action)
				continue
			}
			var labels []string
			if n.Kind == menus.KindChoose {
				labels = sampleLabels[n.Choose.From]
				if len(labels) == 0 {
					t.Fatalf("no sample labels for %s", n.Choose.From)
				}
			}
			prefixes := []string{""}
			if n.Kind == menus.KindInput {
				again := cat.Texts["invalid"].Get(lang)
				if n.Input.Error != nil {
					again = n.Input.Error.Get(lang)
				}
				prefixes = append(prefixes, again+" ")
			}
			for _, prefix := range prefixes {
				title := fmt.Sprintf("%s/%s (%s) %s", s.ID, name, lang, n.Kind)
				if prefix != "" {
					title += ", after bad input"
				}
				fmt.Fprintf(&b, "== %s\n", title)
				for i, p := range sc.Node(n, sampleVars, labels, prefix) {
					size, max, bad := menus.ScreenSize(p.Text, menus.DefaultLimit)
					if size > max || bad != 0 {
						t.Errorf("%s page %d: %d characters (limit %d, bad %q):\n%s", title, i+1, size, max, bad, p.Text)
					}
					fmt.Fprintf(&b, "-- page %d: items %d+%d, %d characters\n%s\n", i+1, p.First, p.N, size, p.Text)
				}
			}
		}
	}
	return b.String()
}

type inputCase struct {
	in   menus.Input
	s    string
	want string // the value saved when ok
	ok   bool
}

// now is the fixed clock of the input tests: Sunday 15 June 2025, 10:30 UTC.
var now = time.Date(2025, time.June, 15, 10, 30, 0, 0, time.UTC)

func inputCases() map[string][]inputCase {
	pin := menus.Input{Type: "digits", Min: 4, Max: 6}
	name := menus.Input{Type: "text", Min: 2, Max: 10}
	date := menus.Input{Type: "date", Format: "DDMMYYYY"}
	past := menus.Input{Type: "date", When: "past"}
	future := menus.Input{Type: "date", When: "future"}
	tel := menus.Input{Type: "phone"}
	cni := menus.Input{Type: "pattern", Pattern: `[0-9]{9}`, Max: 9}
	passport := menus.Input{Type: "pattern", Pattern: `[A-Z]{2}[0-9]{7}`, Max: 9}
	either := menus.Input{Type: "pattern", Pattern: `[0-9]{9}|[A-Z]{2}[0-9]{7}`, Max: 9}
	short := menus.Input{Type: "pattern", Pattern: `[0-9]+`, Max: 5}
	ref := menus.Input{Type: "reference"}

	good := reference.FromNumber(1234567, 9)
	mistyped := []byte(good)
	mistyped[3] = '0' + (mistyped[3]-'0'+1)%10
	swapped := []byte(good)
	for i := 0; i+1 < len(swapped); i++ {
		if swapped[i] != swapped[i+1] {
			swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
			break
		}
	}

	return map[string][]inputCase{
		"digits": {
			{pin, "1234", "1234", true},
			{pin, "123456", "123456", true},
			{pin, "0000", "0000", true},
			{pin, "123", "", false},
			{pin, "1234567", "", false},
			{pin, "12a4", "", false},
			{pin, "", "", false},
			{pin, " 1234", "", false},
			{pin, "١٢٣٤", "", false}, // Arabic-Indic digits
			{pin, "-1234", "", false},
		},
		"text": {
			{name, "Awa", "Awa", true},
			{name, "  Awa  ", "Awa", true},
			{name, "Hélène", "Hélène", true},         // 6 characters, 8 bytes
			{name, "ÉÉÉÉÉÉÉÉÉÉ", "ÉÉÉÉÉÉÉÉÉÉ", true}, // 10 characters, 20 bytes
			{name, "A", "", false},
			{name, "   ", "", false},
			{name, "", "", false},
			{name, "Ngono Ebogo", "", false}, // 11 characters
		},
		"date": {
			{date, "02031990", "02/03/1990", true},
			{date, "02/03/1990", "02/03/1990", true},
			{date, "02.03.1990", "02/03/1990", true},
			{date, "02-03-1990", "02/03/1990", true},
			{date, "02 03 1990", "02/03/1990", true},
			{date, "29022024", "29/02/2024", true}, // divisible by 4: leap
			{date, "29022000", "29/02/2000", true}, // divisible by 400: leap
			{date, "29022023", "", false},
			{date, "29021900", "", false}, // divisible by 100 only: not leap
			{date, "29022100", "", false},
			{date, "31042024", "", false},
			{date, "00012024", "", false},
			{date, "01132024", "", false},
			{date, "19900302", "", false}, // YYYYMMDD
			{date, "2031990", "", false},
			{date, "020319900", "", false},
			{date, "ab031990", "", false},
			{date, "", "", false},
			{date, "31121899", "", false},
			{date, "01012200", "01/01/2200", true},
			{date, "01012201", "", false},
			{past, "15062025", "15/06/2025", true}, // today is not in the future
			{past, "14062025", "14/06/2025", true},
			{past, "16062025", "", false},
			{future, "15062025", "15/06/2025", true},
			{future, "16062025", "16/06/2025", true},
			{future, "14062025", "", false},
		},
		"phone": {
			{tel, "677123456", "+237677123456", true},
			{tel, "677 12 34 56", "+237677123456", true},
			{tel, "+237 6 77 12 34 56", "+237677123456", true},
			{tel, "+237 677-12-34-56", "+237677123456", true},
			{tel, "00237677123456", "+237677123456", true},
			{tel, "237677123456", "+237677123456", true},
			{tel, "699123456", "+237699123456", true},
			{tel, "222123456", "+237222123456", true}, // fixed line
			{tel, "+33612345678", "+33612345678", true},
			{tel, "0677123456", "", false}, // Cameroon has no trunk 0
			{tel, "6771234", "", false},
			{tel, "+2376771234567", "", false},
			{tel, "12345", "", false},
			{tel, "abc", "", false},
			{tel, "", "", false},
		},
		"pattern": {
			{cni, "123456789", "123456789", true},
			{cni, " 123456789 ", "123456789", true},
			{cni, "12345678", "", false},
			{cni, "1234567890", "", false}, // the pattern is anchored
			{cni, "12345678a", "", false},
			{passport, "CE1234567", "CE1234567", true},
			{passport, "ce1234567", "CE1234567", true}, // upper-cased before matching
			{passport, "C11234567", "", false},
			{passport, "CE123456", "", false},
			{either, "123456789", "123456789", true},
			{either, "AB1234567", "AB1234567", true},
			{either, "123456789AB1234567", "", false}, // anchored around the alternation
			{short, "12345", "12345", true},
			{short, "123456", "", false}, // matches, but longer than max
		},
		"reference": {
			{ref, good, good, true},
			{ref, " " + good + " ", good, true},
			{ref, reference.FromNumber(1, 5), reference.FromNumber(1, 5), true},   // MinLen
			{ref, reference.FromNumber(1, 11), reference.FromNumber(1, 11), true}, // MaxLen
			{ref, string(mistyped), "", false},
			{ref, string(swapped), "", false},
			{ref, reference.FromNumber(42, 4), "", false}, // too short
			{ref, reference.FromNumber(1, 12), "", false}, // too long
			{ref, good[:len(good)-1] + "A", "", false},
			{ref, "", "", false},
		},
	}
}

// TestInputTypes walks the registry and requires valid and invalid cases for
// every input type: a type added to menus.InputTypes without cases fails.
func TestInputTypes(t *testing.T) {
	cases := inputCases()
	for name, typ := range menus.InputTypes {
		t.Run(name, func(t *testing.T) {
			var valid, invalid int
			for _, c := range cases[name] {
				if c.in.Type != name {
					t.Fatalf("case %q is filed under %s but has type %q", c.s, name, c.in.Type)
				}
				in := c.in
				if typ.Verify != nil {
					if msg := typ.Verify(&in); msg != "" {
						t.Fatalf("the table's settings %+v are refused: %s", in, msg)
					}
				}
				got, ok := typ.Check(&in, c.s, now)
				if ok != c.ok || (ok && got != c.want) {
					t.Errorf("Check(%+v, %q) = %q, %v; want %q, %v", in, c.s, got, ok, c.want, c.ok)
				}
				if ok {
					valid++
					if n := utf8.RuneCountInString(got); n > typ.MaxLen(&in) {
						t.Errorf("Check(%q) saved %q, %d characters: over MaxLen %d, so Check would size its screens wrong", c.s, got, n, typ.MaxLen(&in))
					}
				} else {
					invalid++
				}
			}
			if valid == 0 || invalid == 0 {
				t.Errorf("input type %q has %d valid and %d invalid cases: add both to inputCases", name, valid, invalid)
			}
		})
	}
	for name := range cases {
		if _, ok := menus.InputTypes[name]; !ok {
			t.Errorf("inputCases has cases for %q, which is not a registered input type", name)
		}
	}
}

// TestInputDateToday checks that "today" is the caller's own date when the
// clock is in another zone than UTC (Cameroon is UTC+1).
func TestInputDateToday(t *testing.T) {
	wat := time.FixedZone("WAT", 60*60)
	date := menus.InputTypes["date"]
	for _, c := range []struct {
		now  time.Time
		when string
		s    string
		ok   bool
	}{
		{time.Date(2025, 6, 15, 23, 30, 0, 0, wat), "past", "15062025", true},
		{time.Date(2025, 6, 15, 23, 30, 0, 0, wat), "past", "16062025", false},
		{time.Date(2025, 6, 16, 0, 30, 0, 0, wat), "past", "16062025", true}, // still the 15th in UTC
		{time.Date(2025, 6, 16, 0, 30, 0, 0, wat), "future", "15062025", false},
		{time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC), "future", "01012025", true},
		{time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC), "future", "31122024", true},
		{time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC), "future", "30122024", false},
	} {
		in := menus.Input{Type: "date", When: c.when}
		if _, ok := date.Check(&in, c.s, c.now); ok != c.ok {
			t.Errorf("date %s %q at %v: ok = %v, want %v", c.when, c.s, c.now, ok, c.ok)
		}
	}
}

// TestInputVerify checks the settings each input type refuses, as Check
// reports them.
func TestInputVerify(t *testing.T) {
	for _, c := range []struct {
		in   menus.Input
		want string // "" when the settings are fine
	}{
		{menus.Input{Type: "digits", Max: 4}, ""},
		{menus.Input{Type: "digits", Min: 4, Max: 4}, ""},
		{menus.Input{Type: "digits"}, "needs max (the longest input accepted)"},
		{menus.Input{Type: "digits", Min: 5, Max: 4}, "min is over max"},
		{menus.Input{Type: "text", Max: 40}, ""},
		{menus.Input{Type: "text", Min: 3}, "needs max (the longest input accepted)"},
		{menus.Input{Type: "date"}, ""},
		{menus.Input{Type: "date", Format: "DDMMYYYY", When: "past"}, ""},
		{menus.Input{Type: "date", When: "future"}, ""},
		{menus.Input{Type: "date", Format: "YYYYMMDD"}, `date format "YYYYMMDD" is not supported (DDMMYYYY is)`},
		{menus.Input{Type: "date", When: "today"}, `date when "today": expected past or future`},
		{menus.Input{Type: "pattern", Pattern: `[0-9]{9}`, Max: 9}, ""},
		{menus.Input{Type: "pattern", Max: 9}, `pattern "" is not a regular expression`},
		{menus.Input{Type: "pattern", Pattern: `(`, Max: 9}, `pattern "(" is not a regular expression`},
		{menus.Input{Type: "pattern", Pattern: `[0-9]+`}, "needs max (the longest input accepted)"},
	} {
		typ, ok := menus.InputTypes[c.in.Type]
		if !ok {
			t.Fatalf("no input type %q", c.in.Type)
		}
		got := ""
		if typ.Verify != nil {
			got = typ.Verify(&c.in)
		}
		if got != c.want {
			t.Errorf("Verify(%+v) = %q, want %q", c.in, got, c.want)
		}
	}
}
