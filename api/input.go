package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/guichet/guichet"
)

// plainInput is the API's edge: every answer says nosniff, and a request
// whose path or query holds what no store keeps (a NUL, bytes that are not
// UTF-8) gets a 400 problem before any handler; its body refuses the same
// as it is read, so a JSON decoder answers it as a malformed body (400).
func plainInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if !guichet.ValidText(r.URL.Path) {
			writeProblem(w, r, http.StatusBadRequest, "the path holds a NUL character or is not valid UTF-8")
			return
		}
		if name, bad := guichet.BadValue(r.URL.Query()); bad {
			writeProblem(w, r, http.StatusBadRequest, "the query parameter "+strconv.Quote(name)+" holds a NUL character or is not valid UTF-8")
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &plainBody{rc: r.Body}
		}
		next.ServeHTTP(w, r)
	})
}

// errBadBody is what a plainBody's Read answers once it met a NUL.
var errBadBody = errors.New("the body holds a NUL character (a \\u0000 escape included) or bytes that are not UTF-8")

// plainBody reads a request body and fails with errBadBody at the first NUL
// byte, \u0000 escape (outside a string it is no JSON anyway) or byte that
// is not UTF-8: JSON decoding would turn the first two into a NUL in a
// string and the last into U+FFFD. It reads as it goes, holding back only
// the start of a character that a read cut.
type plainBody struct {
	rc   io.ReadCloser
	esc  int    // 1 after an escaping backslash, 2 to 5 after \u, \u0, \u00, \u000
	part []byte // the first bytes of a character the last read cut
	err  error
}

func (b *plainBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	if !b.plain(p[:n], err == io.EOF) {
		b.err = errBadBody
		return 0, b.err
	}
	return n, err
}

func (b *plainBody) Close() error { return b.rc.Close() }

// plain checks the next bytes of the body; eof says no more come.
func (b *plainBody) plain(p []byte, eof bool) bool {
	for _, c := range p {
		switch {
		case c == 0:
			return false
		case b.esc == 1 && c == 'u', b.esc >= 2 && c == '0':
			if b.esc++; b.esc == 6 {
				return false
			}
		case b.esc == 0 && c == '\\':
			b.esc = 1
		default:
			b.esc = 0
		}
	}
	data := p
	if len(b.part) > 0 {
		data = append(b.part, p...)
	}
	cut := len(data)
	if !eof {
		for i := len(data) - 1; i >= 0 && i > len(data)-utf8.UTFMax; i-- {
			if utf8.RuneStart(data[i]) {
				if !utf8.FullRune(data[i:]) {
					cut = i
				}
				break
			}
		}
	}
	if !utf8.Valid(data[:cut]) {
		return false
	}
	b.part = append(b.part[:0], data[cut:]...)
	return true
}
