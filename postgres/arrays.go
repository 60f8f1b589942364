package postgres

import (
	"strconv"
	"strings"
	"time"
)

// The outbox's hot statements take their rows as arrays written in
// PostgreSQL's array literal ({"a","b",NULL}), one text parameter an array,
// cast in the statement ($1::text::text[]): pgx's binary arrays box every
// element into an interface, an allocation a value, nine a message between
// an outcome and its receipt (a fifth of the dispatcher's allocations in
// BenchmarkSMSSideBySide). The server parses the literal (array_in) as it
// would any text.

// arrayWriter writes one array literal.
type arrayWriter struct {
	b strings.Builder
	n int
}

func newArray(n, size int) *arrayWriter {
	a := &arrayWriter{}
	a.b.Grow(2 + n*(size+3))
	a.b.WriteByte('{')
	return a
}

func (a *arrayWriter) sep() {
	if a.n > 0 {
		a.b.WriteByte(',')
	}
	a.n++
}

// text adds s, quoted: a backslash or a double quote is escaped, anything
// else (commas, braces, spaces, newlines, the word NULL) is kept as is.
func (a *arrayWriter) text(s string) {
	a.sep()
	a.b.WriteByte('"')
	for {
		i := strings.IndexAny(s, `"\`)
		if i < 0 {
			break
		}
		a.b.WriteString(s[:i])
		a.b.WriteByte('\\')
		a.b.WriteByte(s[i])
		s = s[i+1:]
	}
	a.b.WriteString(s)
	a.b.WriteByte('"')
}

func (a *arrayWriter) int(v int64) {
	a.sep()
	var buf [20]byte
	a.b.Write(strconv.AppendInt(buf[:0], v, 10))
}

// time adds t (UTC, to the microsecond, as PostgreSQL keeps it), or NULL
// for the zero time.
func (a *arrayWriter) time(t time.Time) {
	a.sep()
	if t.IsZero() {
		a.b.WriteString("NULL")
		return
	}
	var buf [40]byte
	a.b.WriteByte('"')
	a.b.Write(t.UTC().AppendFormat(buf[:0], "2006-01-02 15:04:05.999999Z07:00"))
	a.b.WriteByte('"')
}

// String ends the literal and returns it: call it once.
func (a *arrayWriter) String() string {
	a.b.WriteByte('}')
	return a.b.String()
}

// textArray is the literal of vals.
func textArray(vals []string) string {
	a := newArray(len(vals), 8)
	for _, v := range vals {
		a.text(v)
	}
	return a.String()
}
