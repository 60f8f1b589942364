package rest

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/guichet/guichet/adapters/backend"
)

// FuzzJSONPath feeds any answer and any path to the JSON mapping, which must
// not panic and must tell values from lists; and it holds that a request
// field's dotted path, nested by object, is read back by the same path as a
// response path.
func FuzzJSONPath(f *testing.F) {
	for _, seed := range []struct{ file, path, value string }{
		{"open_case_response.json", "data.reference", "EC2026000421"},
		{"track_response.json", "data.history.1.step", "processing"},
		{"offices_response.json", "data.offices", `Douala "Bonanjo"`},
		{"offices_response.json", "data.offices.1.code", "42"},
		{"malformed.json", "data", ""},
		{"error_duplicate.json", "error.code", "Épée"},
	} {
		data, err := os.ReadFile("testdata/" + seed.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, seed.path, seed.value)
	}
	f.Add([]byte(`[1, [2, [3]], null, true, {"": {"": 0}}]`), "1.1.0", "")
	f.Add([]byte(`{"a": 1e400, "b": -0}`), "a", "\x00")

	f.Fuzz(func(t *testing.T, data []byte, path, value string) {
		if doc, err := parse(data); err == nil {
			v, isValue := doc.Value(path)
			items, isList := doc.Items(path)
			if isValue && isList {
				t.Fatalf("%q in %q is both a value (%q) and a list", path, data, v)
			}
			if !isValue && v != "" {
				t.Fatalf("no value at %q, yet %q", path, v)
			}
			for _, item := range items {
				item.Value("id")
			}
		}

		segs := strings.Split(path, sep)
		if slices.Contains(segs, "") || !utf8.ValidString(path) || !utf8.ValidString(value) {
			return // not a path that Validate lets through, or text JSON cannot carry
		}
		body, err := json.Marshal(object([]backend.Field{{Path: segs, Value: value}}))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := parse(body)
		if err != nil {
			t.Fatalf("parse(%s): %v", body, err)
		}
		if got, ok := doc.Value(path); !ok || got != value {
			t.Fatalf("%s at %q: %q, %v; want %q", body, path, got, ok, value)
		}
	})
}
