package menus_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata (want*.txt, graph.*, kinds/*.golden) with what the code produces")

// golden compares got with the file, or rewrites the file under -update.
func golden(t *testing.T, file string, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it: review the diff)\n%s", file, diff(string(want), got))
	}
}

// diff lists the lines only in want (-) or only in got (+), in order.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	inW, inG := map[string]int{}, map[string]int{}
	for _, l := range w {
		inW[l]++
	}
	for _, l := range g {
		inG[l]++
	}
	var b strings.Builder
	for _, l := range w {
		if inG[l] > 0 {
			inG[l]--
			continue
		}
		b.WriteString("- " + l + "\n")
	}
	for _, l := range g {
		if inW[l] > 0 {
			inW[l]--
			continue
		}
		b.WriteString("+ " + l + "\n")
	}
	if b.Len() == 0 {
		return "(the same lines in another order)\n--- want\n" + want + "\n--- got\n" + got
	}
	return b.String()
}

func problemLines(ps menus.Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

// TestBroken loads every testdata/broken_* folder and compares what is wrong
// with it to its want files: want.txt holds Load's problems when the folder
// does not load, Check's at menus.DefaultLimit otherwise; want_160.txt, when
// present, holds Check's at a 160 limit. A broken folder must be refused at
// one limit at least.
func TestBroken(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "broken_*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no testdata/broken_* folders (%v)", err)
	}
	for _, dir := range dirs {
		dir := filepath.ToSlash(dir)
		t.Run(strings.TrimPrefix(dir, "testdata/"), func(t *testing.T) {
			cat, err := menus.Load(os.DirFS("."), dir)
			var loadPs menus.Problems
			if err != nil && !errors.As(err, &loadPs) {
				t.Fatalf("Load: %v (not a list of problems)", err)
			}
			if err == nil && cat == nil {
				t.Fatal("Load returned neither a catalogue nor an error")
			}
			refused := false
			for _, w := range []struct {
				file  string
				limit int
			}{
				{"want.txt", menus.DefaultLimit},
				{"want_160.txt", 160},
			} {
				file := filepath.Join(dir, w.file)
				if w.limit != menus.DefaultLimit {
					if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
						continue
					}
				}
				ps := loadPs
				if err == nil {
					ps = menus.Check(cat, cases.Operations, w.limit)
				}
				if len(ps) > 0 {
					refused = true
				}
				for _, p := range ps {
					if p.File == "" || p.Line < 0 || p.Msg == "" {
						t.Errorf("problem without a file, a line or a message: %#v", p)
					}
				}
				golden(t, file, problemLines(ps))
			}
			if !refused {
				t.Errorf("%s passes Load and Check at every limit tried: it is not broken", dir)
			}
		})
	}
}

// TestBuiltin holds the built-in catalogue to what the gateway requires
// before it serves: it loads, passes Check at 182 and at 160 (the operators
// that cut there), and each service is classified, owned and on the home
// menu.
func TestBuiltin(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatalf("Builtin: %v", err)
	}
	if len(cat.Services) == 0 {
		t.Fatal("the built-in catalogue has no services")
	}
	for _, limit := range []int{menus.DefaultLimit, 160} {
		if ps := menus.Check(cat, cases.Operations, limit); len(ps) > 0 {
			t.Errorf("Check at %d:\n%v", limit, ps)
		}
	}
	home := map[string]int{}
	for _, id := range cat.Order {
		home[id]++
	}
	for id, s := range cat.Services {
		if s.ID != id {
			t.Errorf("service %q is filed under %q", s.ID, id)
		}
		switch s.Category {
		case "G2C", "G2B", "G2G":
		default:
			t.Errorf("service %s: category %q, want G2C, G2B or G2G", id, s.Category)
		}
		if s.Owner == "" {
			t.Errorf("service %s: no owner", id)
		}
		if home[id] != 1 {
			t.Errorf("service %s is on the home menu %d times, want once", id, home[id])
		}
		if s.Title["fr"] == "" || s.Title["en"] == "" {
			t.Errorf("service %s: title %v, want fr and en", id, s.Title)
		}
	}
	if len(cat.Order) != len(cat.Services) {
		t.Errorf("home menu lists %d services, the catalogue has %d", len(cat.Order), len(cat.Services))
	}
}

// TestCheckLimitIsEnforced runs Check on the built-in catalogue at limits
// that no screen can meet: a validator that never looked at sizes would
// pass TestBuiltin just as well.
func TestCheckLimitIsEnforced(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{100, 40} {
		ps := menus.Check(cat, cases.Operations, limit)
		if len(ps) == 0 {
			t.Errorf("Check at %d found nothing too long", limit)
		}
		for _, p := range ps {
			if !strings.Contains(p.Msg, "over the limit of") {
				t.Errorf("Check at %d: unexpected problem %s", limit, p)
			}
		}
	}
}

// A template asks for GSM-7 spelling by its key: visit reminders do, case
// notices do not, and a service that does not exist asks for nothing.
func TestTransliterated(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		service, key string
		want         bool
	}{
		{"visit", "reminder", true},
		{"visit", "booked", true},
		{"birth-certificate", "opened", false},
		{"nowhere", "reminder", false},
	} {
		if got := cat.Transliterated(tc.service, tc.key); got != tc.want {
			t.Errorf("Transliterated(%s, %s) = %v, want %v", tc.service, tc.key, got, tc.want)
		}
	}
}
