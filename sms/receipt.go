package sms

import (
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/guichet/guichet"
)

// Receipt is a delivery receipt read from its text form.
type Receipt struct {
	ID        string    // the message id, as the SMSC wrote it (see SameID)
	State     string    // DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD, ENROUTE or BUFFRED
	Err       string    // the network error code, "" when absent
	Submitted time.Time // zero when absent or unreadable
	Done      time.Time // zero when absent or unreadable
	Delivered bool      // State is DELIVRD
	Final     bool      // the state will not change again
}

// states maps every spelling seen of a state to its short form, and tells
// whether it is final. ACCEPTD (read by customer care on the subscriber's
// behalf) is final in SMPP 3.4; UNKNOWN, ENROUTE and BUFFRED are not.
var states = map[string]struct {
	short string
	final bool
}{
	"DELIVRD": {"DELIVRD", true}, "DELIVERED": {"DELIVRD", true},
	"EXPIRED": {"EXPIRED", true},
	"DELETED": {"DELETED", true},
	"UNDELIV": {"UNDELIV", true}, "UNDELIVERABLE": {"UNDELIV", true},
	"ACCEPTD": {"ACCEPTD", true}, "ACCEPTED": {"ACCEPTD", true},
	"UNKNOWN": {"UNKNOWN", false},
	"REJECTD": {"REJECTD", true}, "REJECTED": {"REJECTD", true},
	"ENROUTE": {"ENROUTE", false},
	"BUFFRED": {"BUFFRED", false}, "BUFFERED": {"BUFFRED", false},
}

// receiptKey finds the keys of a receipt: at the start or after a space,
// any case, "submit date" also written with an underscore.
var receiptKey = regexp.MustCompile(`(?i)(?:^|\s)(id|sub|dlvrd|submit[ _]date|done[ _]date|stat|err|text):`)

// ParseReceipt reads the text of a delivery receipt, `id:X sub:001
// dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000
// text:…`, with its fields in any order and keys in any case. id and stat
// are required: without them, or with an unknown state, it answers an
// EINVALID *guichet.Error. Other fields may be missing; dates of 10
// (YYMMDDhhmm) or 12 (…ss) digits are read as UTC, since a receipt does not
// say its zone, and left zero when unreadable. A key counts only the first
// time it appears, so that the message text quoted after text: may hold
// "id:" or "stat:" without confusing the receipt.
func ParseReceipt(text string) (Receipt, error) {
	fields := map[string]string{}
	var key string
	var from int
	for _, m := range receiptKey.FindAllStringSubmatchIndex(text, -1) {
		k := strings.ReplaceAll(strings.ToLower(text[m[2]:m[3]]), "_", " ")
		if _, seen := fields[k]; seen || k == key {
			continue
		}
		if key != "" {
			fields[key] = strings.TrimSpace(text[from:m[0]])
		}
		key, from = k, m[1]
	}
	if key != "" {
		fields[key] = strings.TrimSpace(text[from:])
	}
	id, ok := fields["id"]
	if !ok || id == "" {
		return Receipt{}, guichet.Errorf(guichet.EINVALID, "sms: receipt without id: %.60q", text)
	}
	stat, ok := fields["stat"]
	if !ok {
		return Receipt{}, guichet.Errorf(guichet.EINVALID, "sms: receipt without stat: %.60q", text)
	}
	st, ok := states[strings.ToUpper(stat)]
	if !ok {
		return Receipt{}, guichet.Errorf(guichet.EINVALID, "sms: receipt with unknown stat %.20q", stat)
	}
	return Receipt{
		ID:        id,
		State:     st.short,
		Err:       fields["err"],
		Submitted: receiptTime(fields["submit date"]),
		Done:      receiptTime(fields["done date"]),
		Delivered: st.short == "DELIVRD",
		Final:     st.final,
	}, nil
}

// receiptTime reads YYMMDDhhmm or YYMMDDhhmmss as UTC, zero if it cannot.
func receiptTime(s string) time.Time {
	layout := map[int]string{10: "0601021504", 12: "060102150405"}[len(s)]
	if layout == "" {
		return time.Time{}
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// SameID reports whether two message ids name the same message, though one
// may be written in hex and the other in decimal (some operators give a hex
// id in submit_sm_resp and a decimal one in the receipt), with or without
// leading zeros or a 0x prefix, in any case. Ids that are not numbers are
// compared without regard to case.
func SameID(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" || b == "" {
		return false
	}
	if strings.EqualFold(a, b) {
		return true
	}
	for _, p := range [][2]string{{a, b}, {b, a}} {
		for _, bases := range [][2]int{{16, 10}, {10, 10}, {16, 16}} {
			x, okx := idNumber(p[0], bases[0])
			y, oky := idNumber(p[1], bases[1])
			if okx && oky && x.Cmp(y) == 0 {
				return true
			}
		}
	}
	return false
}

// idNumber reads an id as a number in base 10 or 16 (with an optional 0x).
func idNumber(s string, base int) (*big.Int, bool) {
	if base == 16 && len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		s = s[2:]
	}
	if len(s) > 64 || strings.ContainsAny(s, "+-_") {
		return nil, false
	}
	return new(big.Int).SetString(s, base)
}
