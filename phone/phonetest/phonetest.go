// Package phonetest holds logs to phone.Mask's promise: a test that runs a
// gateway (serve in-process, a build, or a `guichet serve` process) hands it
// a Log as the gateway's output, and the test fails at its end if a line
// shows a phone number.
//
// What "shows a number" means is in Leaks: 8 digits or more in a row (spaces
// and dashes between them allowed, as numbers are typed), or a mask that
// keeps 4 digits or more. Only the values of a few keys that hold ids
// (Allowed) are not read, and an 8-digit case reference, whose check digit
// holds, is allowed anywhere. Everything else is read: messages, errors,
// lines that are not slog's.
package phonetest

import (
	"bytes"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/reference"
)

// Allowed are the keys whose values are ids that may hold long digit runs
// (an SMSC's message ids, an operator's session ids, case references of
// any width, an API key's random id, an SMPP sequence number) and the
// record's own time: their
// values are not read.
var Allowed = map[string]bool{
	"time":       true,
	"case_ref":   true,
	"ref":        true,
	"msg_id":     true,
	"message_id": true,
	"session_id": true,
	"smsc_id":    true,
	"key_id":     true,
	"seq":        true, // an SMPP PDU's sequence number, up to 2^31
}

// Log is an io.Writer for a gateway's log output, safe for concurrent use,
// whose whole output is checked with Leaks when its test ends.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// NewLog returns a Log checked at tb's end: each line that shows a number
// fails tb.
func NewLog(tb testing.TB) *Log {
	l := &Log{}
	tb.Cleanup(func() { l.Check(tb) })
	return l
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is what was written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logger is a slog text logger onto l at the lowest level: every record a
// component might write is rendered, and read.
func (l *Log) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.Level(-100)}))
}

// Check fails tb with each leak in what was written (its digits masked:
// the test's own output shows no number either).
func (l *Log) Check(tb testing.TB) {
	tb.Helper()
	for _, k := range Leaks(l.String()) {
		tb.Errorf("a log line shows a phone number in %s (%s): %s", k.Field, k.Why, k.Line)
	}
}

// Leak is a log line that shows a number: Field is its key ("" for the text
// of a line that is not slog's), Line the line with the offending digits
// masked.
type Leak struct {
	Line, Field, Why string
}

var (
	// A date or a time of day, as slog and people write them.
	stamp = regexp.MustCompile(`\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?|\b\d{1,2}[:h]\d{2}(?::\d{2})?\b`)
	// A hex word (a hash, a random name): 16 hex digits or more, a letter
	// among them.
	hex = regexp.MustCompile(`(?i)[0-9a-f]{16,}`)
	// An API key's id (apikey: key_ and random hex), wherever a line
	// names it: in a message's text too, not only under key_id.
	keyID = regexp.MustCompile(`\bkey_[0-9a-f]{8,}\b`)
	// The fraction of a duration or of a decimal number.
	fraction = regexp.MustCompile(`\d\.\d+`)
	// 8 digits or more, single spaces or dashes between them allowed.
	run = regexp.MustCompile(`\+?\d(?:[ -]?\d){7,}`)
	// A mask, with the digits it shows on either side.
	masked = regexp.MustCompile(`\+?\d*\*+\d*`)
)

// Leaks returns the lines of out that show a phone number.
func Leaks(out string) []Leak {
	var leaks []Leak
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\r\n")
		for _, f := range fields(line) {
			if Allowed[f.key] {
				continue
			}
			if why, digits := shows(f.value); why != "" {
				leaks = append(leaks, Leak{Line: strings.ReplaceAll(line, digits, phone.Mask(digits)), Field: cmpOr(f.key, "the text"), Why: why})
				break
			}
		}
	}
	return leaks
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// shows says why v shows a number, and the digits that do.
func shows(v string) (why, digits string) {
	v = stamp.ReplaceAllStringFunc(v, blank)
	v = hex.ReplaceAllStringFunc(v, func(s string) string {
		if strings.ContainsAny(strings.ToLower(s), "abcdef") {
			return blank(s)
		}
		return s
	})
	v = keyID.ReplaceAllStringFunc(v, blank)
	v = fraction.ReplaceAllStringFunc(v, func(s string) string { return s[:1] + "." + blank(s[2:]) })
	for _, m := range run.FindAllString(v, -1) {
		if len(m) == 8 && reference.Valid(m) {
			continue // a case reference
		}
		return strconv.Itoa(countDigits(m)) + " digits in a row", m
	}
	for _, m := range masked.FindAllString(v, -1) {
		// More than 3 digits after the stars, or more than a
		// country code (3 digits at most) before them.
		digits := strings.TrimPrefix(m, "+")
		lead := len(digits) - len(strings.TrimLeft(digits, "0123456789"))
		trail := len(m) - len(strings.TrimRight(m, "0123456789"))
		if trail > 3 || lead > 3 {
			return "a mask that shows too much", m
		}
	}
	return "", ""
}

// blank hides what is not a number from run: a date, a fraction.
func blank(s string) string { return strings.Repeat("_", len(s)) }

func countDigits(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}

type field struct{ key, value string }

// fields reads a slog text line as its key=value pairs, quoted values
// unquoted; a line that does not read so is one field without a key, read
// whole.
func fields(line string) []field {
	var fs []field
	rest := line
	for rest != "" {
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 || strings.ContainsAny(rest[:eq], " \"") {
			return []field{{value: line}}
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return []field{{value: line}}
			}
			val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			end := strings.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		fs = append(fs, field{key, val})
		rest = strings.TrimLeft(rest, " ")
	}
	return fs
}
