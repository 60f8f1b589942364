package ussdtest

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/wire"
)

// Fuzz fuzzes d's decoders (Decode, and DecodeNotice for a Notifier) with
// bodies of contentType, seeded with the files of testdata matching glob.
// Whatever the body, a decoder must not panic and must refuse with a
// ussd.RequestError (or a too-large body) in a refusal EncodeError can write;
// a request it accepts must have a session id and a phone number, no input
// longer than ussd.MaxInput once normalised (each part of a cumulative text
// included), and the
// replies Encode writes for it must read back with parse: the same text, and
// an end when the reply or the request ends the session.
func Fuzz(f *testing.F, d ussd.Dialect, contentType, glob string, parse func(body []byte) (ussd.Reply, error)) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds match testdata/%s", glob)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	decoders := []func(*http.Request) (ussd.Request, error){d.Decode}
	if n, ok := d.(ussd.Notifier); ok {
		decoders = append(decoders, n.DecodeNotice)
	}
	replies := []ussd.Reply{
		{Text: "Choisissez <1> & \"2\"\n1. Oui\n2. Non", End: false},
		{Text: "Merci. Reference: CM-2024-001", End: true},
		{Text: "", End: false},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, decode := range decoders {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/ussd/test", bytes.NewReader(body))
			r.Header.Set("Content-Type", contentType)
			r.Body = http.MaxBytesReader(w, r.Body, ussd.MaxBody)
			req, err := decode(r)
			if err != nil {
				var re *ussd.RequestError
				var mbe *http.MaxBytesError
				if !errors.As(err, &re) && !errors.As(err, &mbe) {
					t.Fatalf("refused with %T %v, want a ussd.RequestError", err, err)
				}
				d.EncodeError(w, http.StatusBadRequest, err.Error())
				if w.Code != http.StatusBadRequest || w.Body.Len() == 0 || !utf8.Valid(w.Body.Bytes()) {
					t.Fatalf("refusal %q written as %d %q", err, w.Code, w.Body)
				}
				continue
			}
			if req.SessionID == "" || req.Phone == "" {
				t.Fatalf("accepted a request without a session id or phone: %+v", req)
			}
			// The handler encodes the request after Normalize, when it passes;
			// what passes holds no input over ussd.MaxInput, nor a NUL.
			if req.Normalize(Region) == nil {
				inputs := []string{req.Input}
				if req.Cumulative {
					inputs = append(inputs, strings.Split(req.History, "*")...)
				}
				for _, in := range inputs {
					if utf8.RuneCountInString(in) > ussd.MaxInput || strings.IndexByte(in, 0) >= 0 {
						t.Fatalf("Normalize passed an input of %d characters, or with a NUL: %q", utf8.RuneCountInString(in), in)
					}
				}
			}
			for _, rep := range replies {
				w := httptest.NewRecorder()
				d.Encode(w, req, rep)
				if w.Code != http.StatusOK {
					t.Fatalf("Encode(%+v, %+v) wrote status %d", req, rep, w.Code)
				}
				got, err := parse(w.Body.Bytes())
				if err != nil {
					t.Fatalf("Encode(%+v, %+v) wrote %q: %v", req, rep, w.Body, err)
				}
				if want := (ussd.Reply{Text: rep.Text, End: wire.Ends(req, rep)}); got != want {
					t.Fatalf("Encode(%+v, %+v) reads back as %+v, want %+v", req, rep, got, want)
				}
			}
		}
	})
}
