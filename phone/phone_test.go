package phone

import (
	"fmt"
	"testing"
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

func TestMask(t *testing.T) {
	if got := Mask("+237677123456"); got != "+2376****3456" {
		t.Errorf("Mask = %q", got)
	}
	if got := Mask("+1234"); got != "*****" {
		t.Errorf("Mask short = %q", got)
	}
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
