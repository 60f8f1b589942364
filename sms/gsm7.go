package sms

import (
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/guichet/guichet"
)

// esc is the GSM 03.38 escape to the extension table.
const esc = 0x1B

// basic is the GSM 03.38 default alphabet in septet order; position 0x1B is
// the escape, never a character of its own.
var basic = []rune("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")

// extension is the GSM 03.38 extension table: each character is sent as the
// escape followed by its septet.
var extension = map[byte]rune{
	0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
	0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
}

// septetOf maps a character to its septets (one, or the escape and one).
var septetOf = func() map[rune][]byte {
	m := make(map[rune][]byte, len(basic)+len(extension))
	for i, r := range basic {
		if i != esc {
			m[r] = []byte{byte(i)}
		}
	}
	for s, r := range extension {
		m[r] = []byte{esc, s}
	}
	return m
}()

// asciiSeptets is septetOf for the characters below 0x80, most of any text
// here, as an array: the map's lookups were most of Encode's time. An
// entry is 0 for a character GSM-7 lacks (the ASCII control characters but
// line feed and carriage return, and `), else its septet with ok set, and
// escaped when the escape goes before it.
var asciiSeptets = func() (t [0x80]uint16) {
	for r, c := range septetOf {
		switch {
		case r >= 0x80:
		case len(c) == 1:
			t[r] = septetOK | uint16(c[0])
		default:
			t[r] = septetOK | septetEscaped | uint16(c[1])
		}
	}
	return t
}()

const (
	septetOK      = 1 << 8
	septetEscaped = 1 << 9
)

// septetsOf returns r's septets (one, or the escape and one) and how many
// there are, 0 when GSM-7 cannot carry r.
func septetsOf(r rune) ([2]byte, int) {
	if r >= 0 && r < 0x80 {
		switch v := asciiSeptets[r]; {
		case v&septetEscaped != 0:
			return [2]byte{esc, byte(v)}, 2
		case v&septetOK != 0:
			return [2]byte{byte(v)}, 1
		}
		return [2]byte{}, 0
	}
	c, found := septetOf[r]
	if !found {
		return [2]byte{}, 0
	}
	var b [2]byte
	return b, copy(b[:], c)
}

// Septets returns the length of s in GSM-7 septets (two for a character of
// the extension table: the escape and itself), and the first character that
// GSM-7 cannot carry (0 when every one fits), counted as one septet.
func Septets(s string) (n int, bad rune) {
	for _, r := range s {
		_, k := septetsOf(r)
		if k == 0 {
			if bad == 0 {
				bad = r
			}
			n++
			continue
		}
		n += k
	}
	return n, bad
}

// look-alikes for characters that decomposition does not bring into GSM-7.
var lookalikes = map[rune]string{
	'œ': "oe", 'Œ': "OE", 'æ': "ae", '«': `"`, '»': `"`, '“': `"`, '”': `"`, '„': `"`,
	'‘': "'", '’': "'", '‚': "'", '–': "-", '—': "-", '…': "...", '\u00a0': " ", '\t': " ",
}

// ToGSM7 returns s with every character outside GSM-7 replaced by its
// closest GSM-7 spelling (ê → e, ç → c, œ → oe, « → "), or '?' when there is
// none. Screens and messages go out in GSM-7 so that a name typed with a
// cedilla does not turn a 182-character USSD screen into an 80-character
// one, or a 160-character SMS part into a 70-character one.
func ToGSM7(s string) string {
	if _, bad := Septets(s); bad == 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if _, ok := septetOf[r]; ok {
			b.WriteRune(r)
			continue
		}
		if l, ok := lookalikes[r]; ok {
			b.WriteString(l)
			continue
		}
		wrote := false
		for _, c := range norm.NFD.String(string(r)) {
			if _, ok := septetOf[c]; ok {
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

// toSeptets returns text in unpacked GSM-7 septets, one septet per byte, and
// false if a character has no GSM-7 form.
func toSeptets(text string) ([]byte, bool) {
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 0x80 {
			for _, r := range text[i:] {
				s, n := septetsOf(r)
				if n == 0 {
					return nil, false
				}
				out = append(out, s[:n]...)
			}
			break
		}
		v := asciiSeptets[c]
		if v == 0 {
			return nil, false
		}
		if v&septetEscaped != 0 {
			out = append(out, esc)
		}
		out = append(out, byte(v))
	}
	return out, true
}

// fromSeptets decodes unpacked GSM-7 septets. As GSM 03.38 asks of a
// receiver, an escape followed by a septet outside the extension table gives
// that septet's default character, and two escapes give a space; an escape
// at the very end (a sender who split a sequence across parts) is dropped.
func fromSeptets(septets []byte) (string, error) {
	var b strings.Builder
	b.Grow(len(septets))
	for i := 0; i < len(septets); i++ {
		s := septets[i]
		if s > 0x7F {
			return "", guichet.Errorf(guichet.EINVALID, "sms: octet 0x%02X at %d is not a GSM-7 septet", s, i)
		}
		if s != esc {
			b.WriteRune(basic[s])
			continue
		}
		if i+1 == len(septets) {
			break
		}
		i++
		n := septets[i]
		switch r, ok := extension[n]; {
		case n > 0x7F:
			return "", guichet.Errorf(guichet.EINVALID, "sms: octet 0x%02X at %d is not a GSM-7 septet", n, i)
		case ok:
			b.WriteRune(r)
		case n == esc:
			b.WriteByte(' ')
		default:
			b.WriteRune(basic[n])
		}
	}
	return b.String(), nil
}
