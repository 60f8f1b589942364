package menus

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// GSM 03.38 default alphabet and its extension table (each extension
// character costs two septets: the escape and itself).
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "\f^{}\\[~]|€"
)

var gsm7Cost = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsm7Basic {
		m[r] = 1
	}
	for _, r := range gsm7Ext {
		m[r] = 2
	}
	return m
}()

// Septets returns the length of s in GSM-7 septets, and the first character
// that GSM-7 cannot carry (0 when every one fits).
func Septets(s string) (n int, bad rune) {
	for _, r := range s {
		c, ok := gsm7Cost[r]
		if !ok {
			if bad == 0 {
				bad = r
			}
			c = 1
		}
		n += c
	}
	return n, bad
}

// UCS2Limit is how many characters a USSD screen holds once a character
// outside GSM-7 forces UCS-2.
const UCS2Limit = 80

// ScreenSize returns how much of a screen s takes and the limit that applies
// to it: septets against limit when s is all GSM-7, characters against
// UCS2Limit otherwise (bad is then the first character to blame).
func ScreenSize(s string, limit int) (size, max int, bad rune) {
	n, bad := Septets(s)
	if bad != 0 {
		return utf8.RuneCountInString(s), min(limit, UCS2Limit), bad
	}
	return n, limit, 0
}

// Fits reports whether s fits on a screen of limit septets.
func Fits(s string, limit int) bool {
	size, max, _ := ScreenSize(s, limit)
	return size <= max
}

// look-alikes for characters that decomposition does not bring into GSM-7.
var lookalikes = map[rune]string{
	'œ': "oe", 'Œ': "OE", 'æ': "ae", '«': `"`, '»': `"`, '“': `"`, '”': `"`, '„': `"`,
	'‘': "'", '’': "'", '‚': "'", '–': "-", '—': "-", '…': "...", '\u00a0': " ", '\t': " ",
}

// ToGSM7 returns s with every character outside GSM-7 replaced by its
// closest GSM-7 spelling (ê → e, ç → c, œ → oe, « → "), or '?' when there is
// none. Screens go out in GSM-7 so that a name typed with a cedilla does not
// turn a 182-character screen into an 80-character one.
func ToGSM7(s string) string {
	if _, bad := Septets(s); bad == 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if _, ok := gsm7Cost[r]; ok {
			b.WriteRune(r)
			continue
		}
		if l, ok := lookalikes[r]; ok {
			b.WriteString(l)
			continue
		}
		wrote := false
		for _, c := range norm.NFD.String(string(r)) {
			if _, ok := gsm7Cost[c]; ok {
				b.WriteRune(c)
				wrote = true
			}
		}
		if !wrote {
			b.WriteByte('?')
		}
	}
	return b.String()
}
