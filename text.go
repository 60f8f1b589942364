package guichet

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// ValidText reports whether s can be kept: valid UTF-8 without a NUL.
// PostgreSQL's text refuses both, so each edge (the console's forms, the
// API's queries and bodies, USSD inputs) refuses them with a 400 before any
// store sees them.
func ValidText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// CheckText returns an EINVALID error naming field when s is not ValidText.
func CheckText(field, s string) error {
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s is not valid UTF-8", field)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return Errorf(EINVALID, "%s holds a NUL character", field)
	}
	return nil
}

// BadValue returns the first name (in order) of v, a query or a form, whose
// name or one of whose values is not ValidText, made readable to be shown
// back; ok is false when all are valid.
func BadValue(v url.Values) (name string, ok bool) {
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if !ValidText(k) || slices.ContainsFunc(v[k], func(s string) bool { return !ValidText(s) }) {
			return Readable(k), true
		}
	}
	return "", false
}

// Readable is s with its NULs and bytes that are not UTF-8 shown as U+FFFD,
// cut to 64 bytes: what is safe to show back of a bad input.
func Readable(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) > 64 {
		s = strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}
