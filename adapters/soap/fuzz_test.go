package soap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/guichet/guichet/adapters/backend"
)

// FuzzParse feeds any answer and any path to the SOAP parser, which must not
// panic and must only accept an Envelope with a Body; and it holds that any
// text the envelope writer escapes is read back as it was, whatever its
// characters.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.xml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "Body/SuivreCourrierResponse/Etat", `Traité & <"transmis"> ]]>`)
	}
	f.Add([]byte(`<a:Envelope xmlns:a="x"><a:Body><a:Fault><faultcode>:</faultcode></a:Fault></a:Body></a:Envelope>`), "Body/Fault", " \r\n\t")
	f.Add([]byte(`<Envelope><Body><Fault><Code><Subcode><Subcode/></Subcode></Code></Fault></Body></Envelope>`), "", "\x00\uFFFE")

	f.Fuzz(func(t *testing.T, data []byte, path, value string) {
		if env, err := parse(data); err == nil {
			if env.Name != "Envelope" || env.child("Body") == nil {
				t.Fatalf("accepted %q: root %s", data, env.Name)
			}
			env.Value(path)
			env.Items(path)
			if flt, ok := env.fault(); ok {
				if len(flt.Codes("detail/CodeErreur")) == 0 {
					t.Fatalf("fault %v offers no code to map", flt)
				}
				_ = flt.Class() + flt.Error()
			}
		}

		if !utf8.ValidString(value) || strings.ContainsFunc(value, notXMLChar) {
			return // text that XML cannot carry: encoding/xml replaces it
		}
		body, err := envelope(backend.SOAP12, header{name: "Key", namespace: "urn:k", value: value}, "Req", "urn:x",
			[]backend.Field{{Path: []string{"A", "B"}, Value: value}, {Path: []string{"C"}, Value: value}})
		if err != nil {
			t.Fatal(err)
		}
		env, err := parse(body)
		if err != nil {
			t.Fatalf("parse(%s): %v", body, err)
		}
		want := strings.Trim(value, " \t\r\n")
		for _, p := range []string{"Body/Req/A/B", "Body/Req/C", "Header/Key"} {
			if got, ok := env.Value(p); !ok || got != want {
				t.Fatalf("%s at %s: %q, %v; want %q", body, p, got, ok, want)
			}
		}
	})
}

// notXMLChar reports whether r is not a Char of XML 1.0.
func notXMLChar(r rune) bool {
	return !(r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF)
}
