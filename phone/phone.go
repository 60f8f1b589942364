// Package phone normalises phone numbers to E.164 at the edge and masks them
// for logs. Parsing and validity come from libphonenumber's metadata
// (github.com/nyaruka/phonenumbers), so every country's plan is known without
// prefixes written in our code.
package phone

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/guichet/guichet"
	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region a number without a country code belongs to.
const DefaultRegion = "CM"

// Normalize returns raw as an E.164 number (+237677123456). It accepts the
// usual written forms: +237 6 77 12 34 56, 00237677123456, 237677123456 (as
// many gateways send it, without the +) and the national 677123456 for
// region. A number that libphonenumber does not know as valid is refused.
func Normalize(raw, region string) (string, error) {
	key := region + "|" + raw
	if v, ok := cache.Load().Load(key); ok {
		return v.(string), nil
	}
	n, err := normalize(raw, region)
	if err == nil {
		remember(key, n)
	}
	return n, err
}

// The same numbers come back on every hop of a dialogue, and libphonenumber's
// parsing is the costliest part of a hop outside the store: valid results are
// cached, in a map dropped whole when it grows past cacheMax.
var (
	cache     atomic.Pointer[sync.Map]
	cacheSize atomic.Int64
)

const cacheMax = 100_000

func init() { cache.Store(new(sync.Map)) }

func remember(key, n string) {
	if cacheSize.Add(1) > cacheMax {
		cache.Store(new(sync.Map))
		cacheSize.Store(0)
	}
	cache.Load().Store(key, n)
}

func normalize(raw, region string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", guichet.Errorf(guichet.EINVALID, "phone number is empty")
	}
	if len(s) > 32 {
		return "", guichet.Errorf(guichet.EINVALID, "phone number is too long")
	}
	if region == "" {
		region = DefaultRegion
	}
	if n, ok := quick(s, region); ok {
		return n, nil
	}
	n, err := parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		// Gateways often drop the + of an international number.
		if s[0] != '+' && !strings.HasPrefix(s, "00") {
			if n2, err2 := parse("+"+s, region); err2 == nil && phonenumbers.IsValidNumber(n2) {
				return phonenumbers.Format(n2, phonenumbers.E164), nil
			}
		}
		return "", guichet.Errorf(guichet.EINVALID, "not a valid phone number") // the number itself stays out of logs
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// quick normalises, without libphonenumber's parsing (two thirds of the
// cost, its regular expressions), the plain forms numbers mostly come in
// through the API: digits, with a + or without, in a region whose numbers
// take no national prefix (Cameroon). It reads them as a national number
// or as the region's country code and a national number, and asks
// libphonenumber which is valid; when neither or both are, or the form is
// another, it says false and parsing decides. TestQuickAsParsing holds
// it to what parsing answers.
func quick(s, region string) (string, bool) {
	plus := s[0] == '+'
	d := s
	if plus {
		d = s[1:]
	}
	if len(d) < 6 || len(d) > 15 || d[0] == '0' {
		return "", false
	}
	for i := range len(d) {
		if d[i] < '0' || d[i] > '9' {
			return "", false
		}
	}
	cc := phonenumbers.GetCountryCodeForRegion(region)
	if cc == 0 || phonenumbers.GetNddPrefixForRegion(region, true) != "" {
		return "", false
	}
	code := strconv.Itoa(cc)
	var found string
	valid := 0
	try := func(national string) {
		if national == "" || national[0] == '0' {
			return
		}
		nn, err := strconv.ParseUint(national, 10, 64)
		if err != nil {
			return
		}
		c := int32(cc)
		if v := validityFor(cc); v != nil && v.valid(national) ||
			v == nil && phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &c, NationalNumber: &nn}) {
			found, valid = "+"+code+national, valid+1
		}
	}
	if strings.HasPrefix(d, code) {
		try(d[len(code):])
	} else if plus {
		return "", false // another country's: parsing knows them
	}
	if !plus {
		try(d)
	}
	return found, valid == 1
}

func parse(s, region string) (n *phonenumbers.PhoneNumber, err error) {
	// libphonenumber is well fuzzed, but a panic here would turn bad input
	// from an operator into a 500: keep it an error.
	defer func() {
		if r := recover(); r != nil {
			err = guichet.Errorf(guichet.EINVALID, "unparseable phone number")
		}
	}()
	return phonenumbers.Parse(s, region)
}

// Shown is how many of a number's last digits Mask shows, and hidden the
// fewest it hides: with fewer digits than hidden+Shown it shows none.
const (
	Shown  = 3
	hidden = 5
)

// Mask hides a number for logs, keeping no more than its last Shown digits.
// A number in E.164 form keeps its country code too, which says nothing of
// whose it is: +237677123456 → +237******456. Anything else, such as what an
// operator sent that failed to parse, is starred whole but for its last
// digits: 23767755506 → ********506. Nothing else of the input is shown, so
// Mask takes any string.
func Mask(s string) string {
	if cc, national, ok := split(s); ok {
		return "+" + cc + stars(national)
	}
	return stars(s)
}

// split cuts an E.164-shaped string (a +, digits) after its country code,
// which is one of the codes libphonenumber knows (they are prefix-free).
func split(s string) (cc, national string, ok bool) {
	if len(s) < 2 || s[0] != '+' || !allDigits(s[1:]) {
		return "", "", false
	}
	for n := 1; n <= 3 && n < len(s)-1; n++ {
		code, _ := strconv.Atoi(s[1 : 1+n])
		if phonenumbers.GetRegionCodeForCountryCode(code) != phonenumbers.UNKNOWN_REGION {
			return s[1 : 1+n], s[1+n:], true
		}
	}
	return "", "", false
}

// stars replaces s with one * a character (32 at most), but for its last
// Shown digits when they are digits and at least hidden digits come before.
func stars(s string) string {
	n := utf8.RuneCountInString(s)
	tail := ""
	if len(s) >= Shown && allDigits(s[len(s)-Shown:]) && digits(s[:len(s)-Shown]) >= hidden {
		tail, n = s[len(s)-Shown:], n-Shown
	}
	return strings.Repeat("*", min(n, 32)) + tail
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func digits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}
