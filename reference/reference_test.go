package reference

import (
	"strconv"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		ref  string
		want bool
	}{
		{"5724", false},          // valid Damm but too short
		{"1000004", false},       // wrong check digit
		{FromNumber(1, 7), true}, // 00000013? whatever it is, it holds
		{"12a4567", false},
		{"", false},
		{"1234567890123", false}, // too long
	}
	for _, tt := range tests {
		if got := Valid(tt.ref); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
	// Damm's published example: 572 has check digit 4.
	if c, _ := CheckDigit("572"); c != '4' {
		t.Errorf("CheckDigit(572) = %c, want 4", c)
	}
}

// Every single-digit error and every adjacent transposition is caught.
func TestCatchesTypos(t *testing.T) {
	for n := uint64(0); n < 2000; n += 7 {
		ref := FromNumber(n*7919, 7)
		if !Valid(ref) {
			t.Fatalf("FromNumber gave invalid %s", ref)
		}
		b := []byte(ref)
		for i := range b {
			orig := b[i]
			for d := byte('0'); d <= '9'; d++ {
				if d == orig {
					continue
				}
				b[i] = d
				if Valid(string(b)) {
					t.Fatalf("%s with digit %d changed to %c passes", ref, i, d)
				}
			}
			b[i] = orig
			if i+1 < len(b) && b[i] != b[i+1] {
				b[i], b[i+1] = b[i+1], b[i]
				if Valid(string(b)) {
					t.Fatalf("%s with digits %d,%d swapped passes", ref, i, i+1)
				}
				b[i], b[i+1] = b[i+1], b[i]
			}
		}
	}
}

func TestFromNumberDistinct(t *testing.T) {
	seen := map[string]bool{}
	for n := uint64(0); n < 10000; n++ {
		r := FromNumber(n, 7)
		if seen[r] {
			t.Fatalf("duplicate %s", r)
		}
		seen[r] = true
		if len(r) != 8 {
			t.Fatalf("len(%s) = %d", r, len(r))
		}
	}
	if got := FromNumber(123456789, 3); got[:9] != strconv.Itoa(123456789) {
		t.Errorf("wide serial truncated: %s", got)
	}
}
