// Package reference makes and checks case references: digits only, so that a
// caller can key one in on a phone keypad and read it out on the phone, ending
// with a Damm check digit so that a mistyped reference is refused before any
// lookup. Damm catches every single-digit error and every swap of two adjacent
// digits, the two mistakes people make most.
package reference

import "strconv"

// damm is the quasigroup table of order 10 from H. Michael Damm's 2004 thesis.
var damm = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// MinLen and MaxLen bound a reference's length, check digit included.
const (
	MinLen = 6
	MaxLen = 12
)

// interim returns the Damm interim digit of s, and false if s has a non-digit.
func interim(s string) (byte, bool) {
	var d byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d = damm[d][c-'0']
	}
	return d, true
}

// CheckDigit returns the digit to append to the digits in s.
func CheckDigit(s string) (byte, bool) {
	d, ok := interim(s)
	return '0' + d, ok
}

// Valid reports whether s is a well-formed reference: digits only, of an
// acceptable length, whose check digit holds.
func Valid(s string) bool {
	if len(s) < MinLen || len(s) > MaxLen {
		return false
	}
	d, ok := interim(s)
	return ok && d == 0
}

// FromNumber returns the reference for a serial number n, zero-padded to width
// digits (width+1 with the check digit). Serials from a sequence give distinct
// references.
func FromNumber(n uint64, width int) string {
	s := strconv.FormatUint(n, 10)
	for len(s) < width {
		s = "0" + s
	}
	c, _ := CheckDigit(s)
	return s + string(c)
}
