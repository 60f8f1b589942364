package api

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// plainBody gives the same verdict whatever the reads' sizes: a character
// or an escape cut between two reads is seen whole.
func TestPlainBody(t *testing.T) {
	for body, ok := range map[string]bool{
		`{"note":"é€𝄞"}`:       true,
		`{"note":"C:\\u0000"}`: true,
		`{"note":"\\\u0000"}`:  false,
		`{"note":"\u0000"}`:    false,
		`{"note":"\u00000"}`:   false,
		`{"note":"\u0001"}`:    true,
		"{\"note\":\"\x00\"}":  false,
		"{\"note\":\"\xff\"}":  false,
		"{\"note\":\"\xc3\"}":  false,
		"{\"note\":\"é\xc3":    false, // cut at the end
		"":                     true,
	} {
		if got := verdict(bytes.NewReader([]byte(body))); got != ok {
			t.Errorf("%q read whole: %v, want %v", body, got, ok)
		}
		if got := verdict(iotest.OneByteReader(bytes.NewReader([]byte(body)))); got != ok {
			t.Errorf("%q read a byte at a time: %v, want %v", body, got, ok)
		}
		if got := verdict(iotest.DataErrReader(bytes.NewReader([]byte(body)))); got != ok {
			t.Errorf("%q read with its EOF: %v, want %v", body, got, ok)
		}
	}
}

func FuzzPlainBody(f *testing.F) {
	for _, s := range []string{`{"a":"\u0000"}`, `{"a":"\\u0000"}`, "é\xc3", "𝄞"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		whole := verdict(bytes.NewReader(b))
		if one := verdict(iotest.OneByteReader(bytes.NewReader(b))); one != whole {
			t.Fatalf("%q: %v read whole, %v a byte at a time", b, whole, one)
		}
		if whole && (bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b)) {
			t.Fatalf("%q passed", b)
		}
	})
}

func verdict(r io.Reader) bool {
	_, err := io.ReadAll(&plainBody{rc: io.NopCloser(r)})
	return err == nil
}
