package sms

import (
	"fmt"
	"strings"

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

// Pack7 packs septets (one per byte, high bit ignored) eight into seven
// octets, least significant bit first, as GSM 03.38 sends them on the air.
// The spare bits of the last octet are zero.
func Pack7(septets []byte) []byte { return Pack7Fill(septets, 0) }

// Unpack7 returns the first n septets packed in packed (fewer if packed
// holds fewer). The count must come from elsewhere (the TP-UDL): seven
// septets and eight whose last is '@' pack to the same seven octets.
func Unpack7(packed []byte, n int) []byte { return Unpack7Fill(packed, 0, n) }

// FillBits returns how many zero bits must follow a user data header of
// udhLen octets (its length octet included) so that the first septet starts
// on a septet boundary: 1 for the 6-octet concatenation header.
func FillBits(udhLen int) int { return (7 - (udhLen*8)%7) % 7 }

// Pack7Fill is Pack7 with fill zero bits (0 to 6, see FillBits) before the
// first septet, so that the result can follow a user data header. It panics
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

// Unpack7Fill is Unpack7 for septets that start after fill bits (0 to 6). It
// panics if fill is out of range.
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
