package postgres

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet/postgres/pgtest"
)

// The array literals the hot statements take read back, through
// PostgreSQL's own parser, as the values written: text of every shape
// (quotes, backslashes, commas, braces, the word NULL, empty, spaces,
// newlines, non-ASCII), integers, times to the microsecond and NULL for
// the zero time.
func TestArrayLiterals(t *testing.T) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	texts := [][]string{
		{},
		{""},
		{"sent", "smpp: ESME_RTHROTTLED", `say "hi"`, `back\slash`, `\"`, "a,b", "{x}", "NULL", "null", " lead", "trail ", "new\nline", "tab\there", "é ñ 字 🙂", `"`, `\`},
	}
	for _, want := range texts {
		var got []string
		if err := conn.QueryRow(ctx, `SELECT coalesce(array_agg(v ORDER BY i), '{}') FROM unnest($1::text::text[]) WITH ORDINALITY AS u(v, i)`, textArray(want)).Scan(&got); err != nil {
			t.Fatalf("%q: %v", want, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("read back %q, wrote %q", got, want)
		}
	}

	ints := []int64{0, 1, -1, 255, 256, 1 << 40, -(1 << 62)}
	a := newArray(len(ints), 4)
	for _, v := range ints {
		a.int(v)
	}
	var gotInts []int64
	if err := conn.QueryRow(ctx, `SELECT $1::text::bigint[]`, a.String()).Scan(&gotInts); err != nil || !slices.Equal(gotInts, ints) {
		t.Errorf("ints read back %v, %v; wrote %v", gotInts, err, ints)
	}

	lagos := time.FixedZone("WAT", 3600)
	times := []time.Time{time.Date(2026, 12, 3, 9, 30, 0, 123456000, lagos), {}, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	a = newArray(len(times), 4)
	for _, v := range times {
		a.time(v)
	}
	var gotTimes []*time.Time
	if err := conn.QueryRow(ctx, `SELECT $1::text::timestamptz[]`, a.String()).Scan(&gotTimes); err != nil || len(gotTimes) != len(times) {
		t.Fatalf("times read back %v, %v", gotTimes, err)
	}
	for i, want := range times {
		switch got := gotTimes[i]; {
		case want.IsZero() && got != nil:
			t.Errorf("time %d: read back %v, want NULL", i, got)
		case !want.IsZero() && (got == nil || !got.Equal(want)):
			t.Errorf("time %d: read back %v, want %v", i, got, want)
		}
	}
}

// Whatever the text, its literal reads back as it: PostgreSQL's parser is
// the judge (text cannot hold NUL or invalid UTF-8, which are left out).
func FuzzTextArray(f *testing.F) {
	for _, s := range []string{"", "a", `"`, `\`, "a,b", "{}", "NULL", " x ", "\n"} {
		f.Add(s, "second")
	}
	conn, err := pgx.Connect(f.Context(), pgtest.DB(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { conn.Close(f.Context()) })
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) || strings.ContainsRune(a+b, 0) {
			return // not text PostgreSQL can hold
		}
		want := []string{a, b}
		var got []string
		if err := conn.QueryRow(t.Context(), `SELECT $1::text::text[]`, textArray(want)).Scan(&got); err != nil {
			t.Fatalf("%q: %v", want, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("read back %q, wrote %q", got, want)
		}
	})
}
