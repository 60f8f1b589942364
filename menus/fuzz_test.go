package menus_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
)

// seeds adds every YAML file matching the patterns to the corpus, those
// named catalogue.yaml when catalogues is true and the others otherwise.
func seeds(f *testing.F, catalogues bool, patterns ...string) {
	n := 0
	for _, pattern := range patterns {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			if (filepath.Base(file) == menus.CatalogueFile) != catalogues {
				continue
			}
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			n++
		}
	}
	if n == 0 {
		f.Fatal("no seeds")
	}
	for _, s := range oddSeeds {
		f.Add([]byte(s))
	}
}

var seedPatterns = []string{"catalogue/*.yaml", "testdata/broken_*/*.yaml", "testdata/kinds/*.yaml"}

// oddSeeds are inputs whose lines are counted in an unusual way: a lone
// CR, a document marker alone, UTF-16 with line separators.
var oddSeeds = []string{"\"\r", "---", "\xfe\xff ( (00", "\xff\xfe(  ( 0"}

// checkProblems requires err to be a non-empty list of problems, each in
// file, at a line of data (or the one after it: YAML places the end of the
// stream, and the empty document of a file that is only "---", there).
func checkProblems(t *testing.T, err error, file string, data []byte) {
	t.Helper()
	var ps menus.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v (%T) is not a list of problems", err, err)
	}
	if len(ps) == 0 {
		t.Fatal("an error with no problems")
	}
	lines := yamlLines(data) + 1
	for _, p := range ps {
		if p.File != file || p.Line < 0 || p.Line > lines || p.Msg == "" {
			t.Errorf("problem %#v: want file %q, a line in 0..%d and a message", p, file, lines)
		}
	}
}

// yamlLines counts the lines of data as YAML does: CR LF, CR, LF, NEL, LS
// and PS each end one, in UTF-8 or, after its byte order mark, UTF-16.
func yamlLines(data []byte) int {
	s := string(data)
	if len(data) >= 2 && (data[0] == 0xfe && data[1] == 0xff || data[0] == 0xff && data[1] == 0xfe) {
		big := data[0] == 0xfe
		units := make([]uint16, 0, len(data)/2)
		for i := 2; i+1 < len(data); i += 2 {
			if big {
				units = append(units, uint16(data[i])<<8|uint16(data[i+1]))
			} else {
				units = append(units, uint16(data[i+1])<<8|uint16(data[i]))
			}
		}
		s = string(utf16.Decode(units))
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	n := 1
	for _, r := range s {
		switch r {
		case '\n', '\r', '\u0085', '\u2028', '\u2029':
			n++
		}
	}
	return n
}

// survive runs Check at both limits and Graph in both formats on a
// catalogue that loaded: neither may panic, and every problem Check
// reports has a file.
func survive(t *testing.T, cat *menus.Catalogue) {
	t.Helper()
	for _, limit := range []int{menus.DefaultLimit, 160} {
		for _, p := range menus.Check(cat, cases.Operations, limit) {
			if p.File == "" || p.Line < 0 || p.Msg == "" {
				t.Errorf("Check: problem %#v without a file, a line or a message", p)
			}
		}
	}
	for _, format := range []string{"mermaid", "dot"} {
		if err := menus.Graph(io.Discard, cat, format, "fr"); err != nil {
			t.Errorf("Graph %s: %v", format, err)
		}
	}
}

// FuzzParseService feeds service files to ParseService: it may refuse them,
// with problems that name the file and a line of it, but not panic; a
// service it accepts goes through Check and Graph, which may not panic
// either. Seeded with the built-in services and the testdata fixtures.
func FuzzParseService(f *testing.F) {
	seeds(f, false, seedPatterns...)
	builtin, err := menus.Builtin()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "svc.yaml"
		s, err := menus.ParseService(file, data)
		if err != nil {
			checkProblems(t, err, file, data)
			return
		}
		if s == nil {
			t.Fatal("ParseService returned neither a service nor an error")
		}
		// The built-in home menu and texts, with this service alone.
		cat := *builtin
		cat.Order = []string{s.ID}
		cat.Services = map[string]*menus.Service{s.ID: s}
		survive(t, &cat)
	})
}

// FuzzParseCatalogue does the same for catalogue.yaml files.
func FuzzParseCatalogue(f *testing.F) {
	seeds(f, true, seedPatterns...)
	builtin, err := menus.Builtin()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "catalogue.yaml"
		cat, err := menus.ParseCatalogue(file, data)
		if err != nil {
			checkProblems(t, err, file, data)
			return
		}
		if cat == nil {
			t.Fatal("ParseCatalogue returned neither a catalogue nor an error")
		}
		// Check it with one small built-in service (the one the built-in
		// shortcut leads to), whatever its home menu says: the catalogue's
		// own checks are what is fuzzed here, and the whole built-in
		// catalogue would make each run ten times slower.
		cat.Services = map[string]*menus.Service{"track": builtin.Services["track"]}
		survive(t, cat)
	})
}
