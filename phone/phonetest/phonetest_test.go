package phonetest

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/phone"
)

// What Leaks catches, and what it lets through, line by line as the
// gateways write them.
func TestLeaks(t *testing.T) {
	const at = `time=2026-12-01T08:31:02.123+01:00 level=INFO `
	tests := []struct {
		line  string
		field string // "" when the line is clean
	}{
		// Clean lines.
		{at + `msg="SMS sent" msg_id=123456789012 kind=opened case_ref=20000011 phone=+237******456 elapsed=1.234567891s`, ""},
		{at + `msg="operator ready" operator=mtn dialect=africastalking url=http://127.0.0.1:40123/ussd/mtn`, ""},
		{at + `msg="hop failed" session_id=237677123456-1733000000 phone=+237******456 err="stepping session: redis: i/o timeout"`, ""},
		{at + `msg="case moved" status=ready owner=civil-status err="case 20000011 is already ready"`, ""}, // a reference, check digit and all
		{at + `msg="campaign made" campaign=12 numbers=100000 bad_lines=3 rate=12.5`, ""},
		{at + `msg=locked until="2026-12-01 08:31"`, ""},
		{"Guichet is listening on http://127.0.0.1:40123 as a DEMO (in-memory stores)", ""},
		{at + `msg="cases in PostgreSQL" host=127.0.0.1 database=guichet_test_bd12345678824d3d6e7`, ""},
		{at + `msg="SMS sent" smsc_id=0000012345 phone=+237******456`, ""},
		{at + `msg="inbound message refused for redelivery" comp=smpp operator=mtn command=deliver_sm seq=2147480001 err="context deadline exceeded"`, ""},
		{at + `msg="refused an API key" key_id=key_ac12345304e4 owner=commerce`, ""},                                                                                 // a key's random id
		{at + `msg="campaign paused" key_id=key_31d123456789396 reason="the 25 messages a day of API key key_31d123456789396, the one that made it, are spent"`, ""}, // and in a text
		{"", ""},

		// Numbers in clear, wherever they are.
		{at + `msg="inbound SMS from an unusable number ignored" err="\"+23767755506\" is not a valid phone number"`, "err"},
		{at + `msg="unreadable inbound SMS ignored" phone=+237677123456`, "phone"},
		{at + `msg="SMS to 237677123456 refused"`, "msg"},
		{at + `msg="tracking a case by SMS" err="sms:flood:+237677123456:29000000: connection refused"`, "err"},
		{at + `msg="API request failed" path=/hotline/callers/677123456`, "path"},
		{at + `msg=x number="+237 6 77 12 34 56"`, "number"},
		{at + `msg=x number=6-77-12-34-56`, "number"},
		{at + `msg=x detail="Key (phone)=(+237677123456) already exists."`, "detail"},
		{"guichet: sending to +237677123456: refused", "the text"},
		{at + `msg=x to=2376770001234 case_ref=20000011`, "to"}, // an allowed field beside does not hide it
		{at + `msg=x err="20000012"`, "err"},                    // 8 digits whose check digit fails: not a reference

		// Masks that show too much: the old one kept 5 and 4.
		{at + `msg="SMS sent" phone=+2376****3456`, "phone"},
		{at + `msg="SMS sent" phone=*****3456`, "phone"},
		{at + `msg="SMS sent" phone=23767****3456`, "phone"},
	}
	for _, tt := range tests {
		leaks := Leaks(tt.line)
		switch {
		case tt.field == "" && len(leaks) > 0:
			t.Errorf("Leaks(%q) = %+v, want none", tt.line, leaks)
		case tt.field != "" && (len(leaks) != 1 || leaks[0].Field != tt.field):
			t.Errorf("Leaks(%q) = %+v, want one in %s", tt.line, leaks, tt.field)
		case tt.field != "" && (strings.Contains(leaks[0].Line, "677123456") || strings.Contains(leaks[0].Line, "3456")):
			t.Errorf("the leak is reported in clear: %q", leaks[0].Line)
		}
	}
}

// A number masked by phone.Mask passes, whatever it was; the same number
// in clear does not, whatever the key.
func TestMaskedNumbersPass(t *testing.T) {
	for _, raw := range []string{"+237677123456", "237677123456", "+23767755506", "00237677123456", "+14155550123", "677123456"} {
		var out strings.Builder
		log := slog.New(slog.NewTextHandler(&out, nil))
		log.Info("inbound SMS", "phone", phone.Mask(raw), "elapsed", 1234567891*time.Nanosecond, "at", time.Now())
		if leaks := Leaks(out.String()); len(leaks) > 0 {
			t.Errorf("masked %s: %+v", phone.Mask(raw), leaks)
		}
		out.Reset()
		log.Info("inbound SMS", "from", raw)
		log.Error(fmt.Sprintf("could not answer %s", raw))
		if leaks := Leaks(out.String()); len(leaks) != 2 {
			t.Errorf("%s in clear: %d leaks found, want 2", phone.Mask(raw), len(leaks))
		}
	}
}

// A Log fails its test when the test ends.
func TestLogFailsItsTest(t *testing.T) {
	fake := &fakeTB{TB: t}
	l := &Log{}
	l.Logger().Info("SMS sent", "phone", "+237677123456")
	l.Check(fake)
	if len(fake.errors) != 1 || strings.Contains(fake.errors[0], "677123456") {
		t.Errorf("Check reported %q, want one error without the number", fake.errors)
	}
}

type fakeTB struct {
	testing.TB
	errors []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
