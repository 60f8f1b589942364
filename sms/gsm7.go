package sms

import (
	"fmt"
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

// Septets returns the length of s in GSM-7 septets (two for a character of
// the extension table: the escape and itself), and the first character that
// GSM-7 cannot carry (0 when every one fits), counted as one septet.
func Septets(s string) (n int, bad rune) {
	for _, r := range s {
		c, ok := septetOf[r]
		if !ok {
			if bad == 0 {
				bad = r
			}
			n++
			continue
		}
		n += len(c)
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
	for _, r := range text {
		s, ok := septetOf[r]
		if !ok {
			return nil, false
		}
		out = append(out, s...)
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

// FillBits returns how many zero bits must follow a user data header of
// udhLen octets (its length octet included) so that the first septet starts
// on a septet boundary: 1 for the 6-octet concatenation header.
func FillBits(udhLen int) int { return (7 - (udhLen*8)%7) % 7 }

// Pack7Fill packs septets (one per byte, high bit ignored) eight into seven
// octets, least significant bit first, as GSM 03.38 sends them on the air,
// after fill zero bits (0 to 6, see FillBits) so that the result can follow
// a user data header. The spare bits of the last octet are zero. It panics
// if fill is out of range.
func Pack7Fill(septets []byte, fill int) []byte {
	checkFill(fill)
	out := make([]byte, (fill+7*len(septets)+7)/8)
	pos := fill
	for _, s := range septets {
		s &= 0x7F
		i, off := pos/8, pos%8
		out[i] |= s << off
		if off > 1 {
			out[i+1] |= s >> (8 - off)
		}
		pos += 7
	}
	return out
}

// Unpack7Fill returns the first n septets packed in packed after fill bits
// (0 to 6), fewer if packed holds fewer. The count must come from elsewhere
// (the TP-UDL): seven septets and eight whose last is '@' pack to the same
// seven octets. It panics if fill is out of range.
func Unpack7Fill(packed []byte, fill, n int) []byte {
	checkFill(fill)
	if most := (len(packed)*8 - fill) / 7; n > most {
		n = max(most, 0)
	}
	out := make([]byte, max(n, 0))
	pos := fill
	for k := range out {
		i, off := pos/8, pos%8
		v := packed[i] >> off
		if off > 1 {
			v |= packed[i+1] << (8 - off)
		}
		out[k] = v & 0x7F
		pos += 7
	}
	return out
}

func checkFill(fill int) {
	if fill < 0 || fill > 6 {
		panic(fmt.Sprintf("sms: %d fill bits, want 0 to 6", fill))
	}
}
