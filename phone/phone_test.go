package phone

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, region, want string
		ok                bool
	}{
		{"+237677123456", "", "+237677123456", true},
		{"237677123456", "", "+237677123456", true},
		{"00237677123456", "", "+237677123456", true},
		{"677 12 34 56", "", "+237677123456", true},
		{"6 77-12-34-56", "", "+237677123456", true},
		{"+233241234567", "", "+233241234567", true}, // Ghana, as Hubtel sends
		{"233241234567", "GH", "+233241234567", true},
		{"0241234567", "GH", "+233241234567", true},
		{"+2376771234", "", "", false}, // too short
		{"hello", "", "", false},
		{"", "", "", false},
		{"+", "", "", false},
		{"67712345678901234567890123456789012", "", "", false},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.raw, tt.region)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q, ok=%v", tt.raw, tt.region, got, err, tt.want, tt.ok)
		}
	}
}

// A mask shows the country code of an E.164 number and no more than its
// last 3 digits, of anything it is given.
func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+237677123456", "+237******456"},
		{"+233241234567", "+233******567"},
		{"+14155550123", "+1*******123"},
		{"+23767755506", "+237*****506"},     // too short to be valid: still masked
		{"+2376775550", "+237*******"},       // too few digits to show any
		{"23767755506", "********506"},       // no +: no country code either
		{"00237677123456", "***********456"}, // nor after 00
		{"677 12 34 56", "************"},     // its last 3 characters are not all digits
		{"+237 677 12 34 56", "*****************"},
		{"8080", "****"},
		{"+1234", "+1***"},
		{"+999123456789", "**********789"}, // no such country code: starred whole
		{"hello", "*****"},
		{"", ""},
		{"\xff\xfe", "**"},
		{strings.Repeat("9", 100), strings.Repeat("*", 32) + "999"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Whatever it is given, a mask shows at most 3 digits besides a country
// code, and nothing but stars before them.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"+237677123456", "237677123456", "+1", "+", "abc123456789", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := Mask(s)
		rest := m
		if cc, _, ok := split(s); ok {
			rest = strings.TrimPrefix(m, "+"+cc)
		}
		body := strings.TrimRight(rest, "0123456789")
		if strings.Trim(body, "*") != "" || len(rest)-len(body) > Shown {
			t.Fatalf("Mask(%q) = %q shows more than %d digits", s, m, Shown)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+237677123456", "677123456", "00237 6", "+999999999999999", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Normalize(s, "")
		if err != nil {
			return
		}
		if n[0] != '+' {
			t.Fatalf("Normalize(%q) = %q, not E.164", s, n)
		}
		if again, err := Normalize(n, ""); err != nil || again != n {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, n, again, err)
		}
	})
}

// The cache answers what parsing answers, also once it has been dropped.
func TestNormalizeCached(t *testing.T) {
	for round := 0; round < 3; round++ {
		for _, raw := range []string{"677 12 34 56", "+237677123456", "0241234567"} {
			want, wantErr := normalize(raw, "")
			got, err := Normalize(raw, "")
			if got != want || (err == nil) != (wantErr == nil) {
				t.Fatalf("round %d: Normalize(%q) = %q, %v; parsing says %q, %v", round, raw, got, err, want, wantErr)
			}
		}
		for i := 0; i < cacheMax/2+1; i++ {
			remember(fmt.Sprint(i), "x")
		}
	}
	if n := cacheSize.Load(); n > cacheMax {
		t.Errorf("cache holds %d entries, over %d", n, cacheMax)
	}
}

func BenchmarkNormalize(b *testing.B) {
	for range b.N {
		if _, err := Normalize("+237677123456", "CM"); err != nil {
			b.Fatal(err)
		}
	}
}

// quick answers, whenever it answers, what parsing answers: for every
// first three digits of a Cameroonian number, in the forms numbers come
// in, and numbers too short or too long by a digit.
func TestQuickAsParsing(t *testing.T) {
	answered := 0
	for head := 100; head <= 999; head++ {
		for _, tail := range []string{"000000", "123456", "987654", "00000", "1234567"} {
			national := fmt.Sprint(head) + tail
			for _, form := range []string{"%s", "+237%s", "237%s", "+%s", "+233%s"} {
				s := fmt.Sprintf(form, national)
				for _, region := range []string{"CM", "GH"} {
					got, ok := quick(s, region)
					if !ok {
						continue
					}
					answered++
					want, err := slow(s, region)
					if err != nil || got != want {
						t.Fatalf("quick(%q, %s) = %q; parsing says %q, %v", s, region, got, want, err)
					}
				}
			}
		}
	}
	if answered < 500 {
		t.Errorf("quick answered %d numbers only", answered)
	}
}

// slow is normalize without quick.
func slow(s, region string) (string, error) {
	n, err := parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		if s[0] != '+' && !strings.HasPrefix(s, "00") {
			if n2, err2 := parse("+"+s, region); err2 == nil && phonenumbers.IsValidNumber(n2) {
				return phonenumbers.Format(n2, phonenumbers.E164), nil
			}
		}
		return "", fmt.Errorf("not valid")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

func BenchmarkNormalizeFresh(b *testing.B) {
	for i := range b.N {
		if _, err := normalize(fmt.Sprintf("237677%06d", i%1_000_000), "CM"); err != nil {
			b.Fatal(err)
		}
	}
}

// The validity compiled once answers as libphonenumber does, for
// countries of one region each (of every plan's shape: fixed lengths,
// lengths that vary, mobile and fixed patterns alike or not), on every
// three-digit start with tails of every length.
func TestValidityAsLibphonenumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	valid := 0
	for _, cc := range []int{237, 233, 234, 225, 221, 33, 49, 86, 91, 27} {
		v := validityFor(cc)
		if v == nil {
			t.Fatalf("no validity for +%d", cc)
		}
		c := int32(cc)
		for head := 100; head <= 999; head++ {
			for tail := 2; tail <= 10; tail++ {
				national := fmt.Sprint(head)
				for range tail {
					national += fmt.Sprint(rng.IntN(10))
				}
				nn, _ := strconv.ParseUint(national, 10, 64)
				want := phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &c, NationalNumber: &nn})
				if got := v.valid(national); got != want {
					t.Fatalf("+%d %s: valid %v, libphonenumber says %v", cc, national, got, want)
				}
				if want {
					valid++
				}
			}
		}
	}
	if valid < 1000 {
		t.Errorf("only %d valid numbers among those compared", valid)
	}
	for _, cc := range []int{1, 7, 44, 800, 999} { // several regions, none, or not a country's
		if validityFor(cc) != nil {
			t.Errorf("+%d: a validity of its own, want the library's", cc)
		}
	}
}

func FuzzValidity(f *testing.F) {
	for _, s := range []string{"677123456", "222123456", "2", "699999999999", "800123456"} {
		f.Add(s)
	}
	v := validityFor(237)
	c := int32(237)
	f.Fuzz(func(t *testing.T, national string) {
		if len(national) == 0 || len(national) > 17 || national[0] == '0' || !allDigits(national) {
			return
		}
		nn, err := strconv.ParseUint(national, 10, 64)
		if err != nil {
			return
		}
		if got, want := v.valid(national), phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &c, NationalNumber: &nn}); got != want {
			t.Fatalf("+237 %s: valid %v, libphonenumber says %v", national, got, want)
		}
	})
}
