package sms

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

// The table holds the 128 septets of the default alphabet and the extension
// table; what Septets counts as GSM-7 (for screens and ToGSM7) is what the
// encoder can send, at the same cost.
func TestTable(t *testing.T) {
	if len(basic) != 128 {
		t.Fatalf("basic table has %d characters, want 128", len(basic))
	}
	// Septets reports a bad character by its value, so it cannot report
	// NUL: start at 1.
	for r := rune(1); r < 0x3000; r++ {
		n, bad := Septets(string(r))
		s, ok := toSeptets(string(r))
		if ok != (bad == 0) || (ok && n != len(s)) {
			t.Errorf("%q (%U): Septets says %d septets (bad %q), the encoder %v %v", r, r, n, bad, s, ok)
		}
	}
	if _, ok := septetOf['€']; !ok {
		t.Error("€ has no septets")
	}
}

// The array that spares the map a lookup for the characters below 0x80
// says what the map says, for each of them.
func TestASCIISeptets(t *testing.T) {
	for r := rune(0); r < 0x80; r++ {
		got, n := septetsOf(r)
		want, ok := septetOf[r]
		if ok != (n > 0) || !bytes.Equal(got[:n], want) {
			t.Errorf("%q: septets %x (%d), the table %x (%v)", r, got[:n], n, want, ok)
		}
		// And in a text, where the encoder reads bytes, after a character
		// above 0x80 too.
		for _, prefix := range []string{"a", "é"} {
			s, sok := toSeptets(prefix + string(r))
			first, _ := septetsOf([]rune(prefix)[0])
			if sok != ok || ok && !bytes.Equal(s, append(first[:1:1], want...)) {
				t.Errorf("%q: encoded %x (%v), want %x", prefix+string(r), s, sok, want)
			}
		}
	}
	if _, n := septetsOf('`'); n != 0 {
		t.Error("` has septets")
	}
	if s, n := septetsOf('€'); n != 2 || s != [2]byte{esc, 0x65} {
		t.Errorf("€ is %x", s[:n])
	}
}

func TestSeptets(t *testing.T) {
	for _, c := range []struct {
		s   string
		n   int
		bad rune
	}{
		{"", 0, 0},
		{"Hello", 5, 0},
		{"0 Retour 00 Accueil", 19, 0},
		{"é è à ù ì ò É Ç", 15, 0},           // in the basic table
		{"Ä Ö Ñ Ü ä ö ñ ü ß ¿ ¡ § ¤", 25, 0}, // in the basic table
		{"@£$¥_\n\r", 7, 0},
		{"€", 2, 0}, // extension table: escape + character
		{"[]", 4, 0},
		{"{x}", 5, 0},
		{`\^~|`, 8, 0},
		{"\f", 2, 0},
		{"100 €", 6, 0},
		{"Fête", 4, 'ê'},
		{"reçu", 4, 'ç'}, // GSM-7 has Ç, not ç
		{"ê ô", 3, 'ê'},  // the first one to blame
		{"`", 1, '`'},
	} {
		n, bad := Septets(c.s)
		if n != c.n || bad != c.bad {
			t.Errorf("Septets(%q) = %d, %q; want %d, %q", c.s, n, bad, c.n, c.bad)
		}
	}
}

func TestToGSM7(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Déjà vu à Yaoundé", "Déjà vu à Yaoundé"}, // é è à are GSM-7: untouched
		{"François Ngô, fête", "Francois Ngo, fete"},
		{"Cœur « prêt » – l’été…", `Coeur " pret " - l'été...`},
		{"日本", "??"},
		{"Ça", "Ça"}, // Ç is GSM-7, ç is not
		{"ça", "ca"},
	}
	for _, tt := range tests {
		got := ToGSM7(tt.in)
		if got != tt.want {
			t.Errorf("ToGSM7(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if _, bad := Septets(got); bad != 0 {
			t.Errorf("ToGSM7(%q) kept %q", tt.in, bad)
		}
	}
}

func FuzzToGSM7(f *testing.F) {
	for _, s := range []string{"François", "«»’", "\xff\xfe", "日本語", "€[]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := ToGSM7(s)
		if _, bad := Septets(out); bad != 0 {
			t.Fatalf("ToGSM7(%q) = %q keeps %q", s, out, bad)
		}
	})
}

func TestFromSeptets(t *testing.T) {
	tests := []struct {
		in      []byte
		want    string
		wantErr bool
	}{
		{[]byte{0x00, 0x01, 0x02, 0x1C, 0x7F}, "@£$Æà", false},
		{[]byte{0x1B, 0x65, 0x1B, 0x14, 0x1B, 0x0A}, "€^\f", false},
		{[]byte{0x1B, 0x41}, "A", false}, // unknown extension: default character
		{[]byte{0x1B, 0x1B}, " ", false}, // escape to another table: space
		{[]byte{0x41, 0x1B}, "A", false}, // trailing escape dropped
		{[]byte{0x41, 0x80}, "", true},   // not a septet
		{[]byte{0x1B, 0xC1}, "", true},   // not a septet after escape
		{nil, "", false},
	}
	for _, tt := range tests {
		got, err := fromSeptets(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("fromSeptets(% X) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPack7Vectors(t *testing.T) {
	tests := []struct {
		text string
		fill int
		want string
	}{
		{"hellohello", 0, "E8329BFD4697D9EC37"},
		{"hello", 0, "E8329BFD06"},
		{"12345678", 0, "31D98C56B3DD70"},
		{"1234567", 0, "31D98C56B3DD00"},
		{"hello", 1, "D06536FB0D"}, // after a 6-octet concatenation header
		{"", 0, ""},
	}
	for _, tt := range tests {
		septets, ok := toSeptets(tt.text)
		if !ok {
			t.Fatalf("%q is not GSM-7", tt.text)
		}
		got := Pack7Fill(septets, tt.fill)
		if want := mustHex(t, tt.want); !bytes.Equal(got, want) {
			t.Errorf("Pack7Fill(%q, %d) = % X, want % X", tt.text, tt.fill, got, want)
		}
		if back := Unpack7Fill(got, tt.fill, len(septets)); !bytes.Equal(back, septets) {
			t.Errorf("Unpack7Fill(% X, %d, %d) = % X, want % X", got, tt.fill, len(septets), back, septets)
		}
	}
}

func TestUnpack7Count(t *testing.T) {
	packed := mustHex(t, "31D98C56B3DD00")
	if got := Unpack7Fill(packed, 0, 7); string(got) != "1234567" {
		t.Errorf("Unpack7Fill(…, 0, 7) = %q", got)
	}
	// The same octets hold an eighth septet, '@' (0): the count decides.
	if got := Unpack7Fill(packed, 0, 100); !bytes.Equal(got, []byte("1234567\x00")) {
		t.Errorf("Unpack7Fill(…, 0, 100) = %q, want 8 septets", got)
	}
	if got := Unpack7Fill(nil, 0, 3); len(got) != 0 {
		t.Errorf("Unpack7Fill(nil, 0, 3) = % X", got)
	}
	if got := Unpack7Fill([]byte{0xFF}, 6, 5); len(got) != 0 {
		t.Errorf("Unpack7Fill(1 octet, 6, 5) = % X, want none", got)
	}
}

// bitPack is a bit-by-bit reference for Pack7Fill.
func bitPack(septets []byte, fill int) []byte {
	out := make([]byte, (fill+7*len(septets)+7)/8)
	pos := fill
	for _, s := range septets {
		for b := range 7 {
			if s>>b&1 == 1 {
				out[pos/8] |= 1 << (pos % 8)
			}
			pos++
		}
	}
	return out
}

func TestPack7FillMatchesBitstream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		septets := make([]byte, rng.IntN(170))
		for i := range septets {
			septets[i] = byte(rng.IntN(128))
		}
		fill := rng.IntN(7)
		got := Pack7Fill(septets, fill)
		if want := bitPack(septets, fill); !bytes.Equal(got, want) {
			t.Fatalf("Pack7Fill(% X, %d) = % X, want % X", septets, fill, got, want)
		}
		if back := Unpack7Fill(got, fill, len(septets)); !bytes.Equal(back, septets) {
			t.Fatalf("round trip of % X with %d fill bits gave % X", septets, fill, back)
		}
	}
}

func TestFillBits(t *testing.T) {
	for udh, want := range map[int]int{0: 0, 6: 1, 7: 0, 5: 2, 12: 2} {
		if got := FillBits(udh); got != want {
			t.Errorf("FillBits(%d) = %d, want %d", udh, got, want)
		}
	}
}

func TestPackFillPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Pack7Fill with 7 fill bits did not panic")
		}
	}()
	Pack7Fill([]byte{1}, 7)
}
