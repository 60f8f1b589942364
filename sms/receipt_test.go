package sms

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet"
)

func TestParseReceipt(t *testing.T) {
	at := func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		name string
		text string
		want Receipt
		err  string
	}{
		{name: "standard", text: "id:7220959213 sub:001 dlvrd:001 submit date:2611281205 done date:2611281206 stat:DELIVRD err:000 text:Votre dossier 2000",
			want: Receipt{ID: "7220959213", State: "DELIVRD", Err: "000", Submitted: at("2026-11-28 12:05:00"), Done: at("2026-11-28 12:06:00"), Delivered: true, Final: true}},
		{name: "seconds, any order, any case", text: "Stat:undeliv ERR:001 Done Date:261128120630 ID:0A1B submit_date:261128120501",
			want: Receipt{ID: "0A1B", State: "UNDELIV", Err: "001", Submitted: at("2026-11-28 12:05:01"), Done: at("2026-11-28 12:06:30"), Final: true}},
		{name: "minimal", text: "id:1 stat:ENROUTE", want: Receipt{ID: "1", State: "ENROUTE"}},
		{name: "long state names", text: "id:1 stat:DELIVERED", want: Receipt{ID: "1", State: "DELIVRD", Delivered: true, Final: true}},
		{name: "buffered", text: "id:1 stat:BUFFRED err:000", want: Receipt{ID: "1", State: "BUFFRED", Err: "000"}},
		{name: "accepted is final", text: "id:1 stat:ACCEPTD", want: Receipt{ID: "1", State: "ACCEPTD", Final: true}},
		{name: "unknown is not", text: "id:1 stat:UNKNOWN", want: Receipt{ID: "1", State: "UNKNOWN"}},
		{name: "text quoting keys", text: "id:42 sub:001 dlvrd:000 stat:EXPIRED err:000 text:id:99 stat:DELIVRD",
			want: Receipt{ID: "42", State: "EXPIRED", Err: "000", Final: true}},
		{name: "bad date left zero", text: "id:5 submit date:26113 done date:2613281200 stat:REJECTD",
			want: Receipt{ID: "5", State: "REJECTD", Final: true}},
		{name: "extra spaces", text: "  id: abc  stat: DELETED  ", want: Receipt{ID: "abc", State: "DELETED", Final: true}},
		{name: "no id", text: "sub:001 stat:DELIVRD", err: "receipt without id"},
		{name: "empty id", text: "id: stat:DELIVRD", err: "receipt without id"},
		{name: "no stat", text: "id:1 err:000", err: "receipt without stat"},
		{name: "unknown stat", text: "id:1 stat:FINE", err: `unknown stat "FINE"`},
		{name: "not a receipt", text: "hello", err: "receipt without id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReceipt(tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || guichet.ErrorCode(err) != guichet.EINVALID {
					t.Fatalf("error %v, want %s containing %q", err, guichet.EINVALID, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSameID(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"1A2B3C", "1715004", true},                                 // hex in submit_sm_resp, decimal in the receipt
		{"1715004", "1a2b3c", true},                                 // either way round, any case
		{"0x1A2B3C", "001715004", true},                             // prefix and leading zeros
		{"000123", "123", true},                                     // leading zeros
		{"ABCDEF", "abcdef", true},                                  // case
		{"7220959213", "7220959213", true},                          // identical
		{"10", "16", true},                                          // 0x10 is 16
		{"ffffffffffffffffffff", "1208925819614629174706175", true}, // beyond 64 bits
		{"1A2B3C", "1715005", false},
		{"123", "124", false},
		{"", "", false},
		{"abc-1", "ABC-1", true}, // not a number: compared without case
		{"abc-1", "abc-2", false},
		{"-1", "1", false},
		{"+1", "1", false},
		{"g1", "g01", false},
	}
	for _, tt := range tests {
		if got := SameID(tt.a, tt.b); got != tt.want {
			t.Errorf("SameID(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// receiptFixtures reads testdata/receipts.txt: the id and state expected of
// each receipt text.
func receiptFixtures(tb testing.TB) (texts, ids, states []string) {
	tb.Helper()
	b, err := os.ReadFile("testdata/receipts.txt")
	if err != nil {
		tb.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		want, text, ok := strings.Cut(line, "\t")
		id, state, ok2 := strings.Cut(want, " ")
		if !ok || !ok2 {
			tb.Fatalf("testdata/receipts.txt:%d: want `id state<TAB>text`", i+1)
		}
		texts, ids, states = append(texts, text), append(ids, id), append(states, state)
	}
	return texts, ids, states
}

func TestReceiptFixtures(t *testing.T) {
	texts, ids, states := receiptFixtures(t)
	if len(texts) == 0 {
		t.Fatal("no fixtures")
	}
	for i, text := range texts {
		r, err := ParseReceipt(text)
		if err != nil || r.ID != ids[i] || r.State != states[i] {
			t.Errorf("ParseReceipt(%q) = %q %q, %v; want %q %q", text, r.ID, r.State, err, ids[i], states[i])
		}
	}
}
