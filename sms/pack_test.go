package sms

import "fmt"

// The air interface's packing of septets: the gateway hands SMSCs
// unpacked septets (they pack), so only the tests use it, to hold parts
// to what fits 140 octets once packed.

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
