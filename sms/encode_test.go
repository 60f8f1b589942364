package sms

import (
	"bytes"
	"strings"
	"testing"

	"github.com/guichet/guichet"
)

func fixedRef(b byte) func() byte { return func() byte { return b } }

func TestEncode(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	e := func(n int) string { return strings.Repeat("ê", n) }
	tests := []struct {
		name       string
		text       string
		opts       Options
		coding     byte
		bodies     []int // length of each part's text, header excluded
		septets    int
		units      int
		firstBody  string // hex of the first part's text, when checked
		secondBody string // hex of the second part's text, when checked
	}{
		{name: "ascii", text: "hello", coding: 0, bodies: []int{5}, septets: 5, firstBody: "68656C6C6F"},
		{name: "empty", text: "", coding: 0, bodies: []int{0}},
		{name: "accents in GSM-7", text: "éàù@£", coding: 0, bodies: []int{5}, septets: 5, firstBody: "057F060001"},
		{name: "extension costs two", text: "€[", coding: 0, bodies: []int{4}, septets: 4, firstBody: "1B651B3C"},
		{name: "160 in one", text: a(160), coding: 0, bodies: []int{160}, septets: 160},
		{name: "161 in two", text: a(161), coding: 0, bodies: []int{153, 8}, septets: 161},
		{name: "escape not split", text: a(152) + "€" + a(10), coding: 0, bodies: []int{152, 12}, septets: 164, secondBody: "1B65" + strings.Repeat("61", 10)},
		{name: "escape just fits", text: a(151) + "€" + a(10), coding: 0, bodies: []int{153, 10}, septets: 163},
		{name: "six parts", text: a(6 * 153), coding: 0, bodies: []int{153, 153, 153, 153, 153, 153}, septets: 918},
		{name: "ucs2", text: "ê", coding: 8, bodies: []int{2}, units: 1, firstBody: "00EA"},
		{name: "transliterated", text: "fête", opts: Options{Transliterate: true}, coding: 0, bodies: []int{4}, septets: 4, firstBody: "66657465"},
		{name: "transliteration keeps one part", text: e(100), opts: Options{Transliterate: true}, coding: 0, bodies: []int{100}, septets: 100},
		{name: "70 units in one", text: e(70), coding: 8, bodies: []int{140}, units: 70},
		{name: "71 units in two", text: e(71), coding: 8, bodies: []int{134, 8}, units: 71},
		{name: "surrogate pair", text: "😀", coding: 8, bodies: []int{4}, units: 2, firstBody: "D83DDE00"},
		{name: "surrogate pair not split", text: e(66) + "😀" + e(10), coding: 8, bodies: []int{132, 24}, units: 78, secondBody: "D83DDE00" + strings.Repeat("00EA", 10)},
		{name: "more parts allowed", text: a(7 * 153), opts: Options{MaxParts: 7}, coding: 0, bodies: []int{153, 153, 153, 153, 153, 153, 153}, septets: 1071},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Ref = fixedRef(0x42)
			m, err := Encode(tt.text, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if m.DataCoding != tt.coding || m.Septets != tt.septets || m.Units != tt.units {
				t.Errorf("coding %d, %d septets, %d units; want %d, %d, %d", m.DataCoding, m.Septets, m.Units, tt.coding, tt.septets, tt.units)
			}
			if len(m.Parts) != len(tt.bodies) {
				t.Fatalf("%d parts, want %d", len(m.Parts), len(tt.bodies))
			}
			multi := len(m.Parts) > 1
			if wantESM := map[bool]byte{false: 0, true: 0x40}[multi]; m.ESMClass != wantESM {
				t.Errorf("esm_class 0x%02X, want 0x%02X", m.ESMClass, wantESM)
			}
			var bodies [][]byte
			for i, p := range m.Parts {
				body := p
				if multi {
					want := []byte{5, 0, 3, 0x42, byte(len(m.Parts)), byte(i + 1)}
					if !bytes.Equal(p[:6], want) {
						t.Errorf("part %d header % X, want % X", i+1, p[:6], want)
					}
					body = p[6:]
				}
				if len(body) != tt.bodies[i] {
					t.Errorf("part %d has %d octets of text, want %d", i+1, len(body), tt.bodies[i])
				}
				bodies = append(bodies, body)
			}
			if tt.firstBody != "" && !bytes.Equal(bodies[0], mustHex(t, tt.firstBody)) {
				t.Errorf("first part % X, want %s", bodies[0], tt.firstBody)
			}
			if tt.secondBody != "" && !bytes.Equal(bodies[1], mustHex(t, tt.secondBody)) {
				t.Errorf("second part % X, want %s", bodies[1], tt.secondBody)
			}
			for i, p := range airParts(m) {
				if len(p) > 140 {
					t.Errorf("packed part %d has %d octets", i+1, len(p))
				}
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		opts Options
		want string
	}{
		{"seven parts", strings.Repeat("a", 6*153+1), Options{}, "needs 7 parts, more than the limit of 6"},
		{"limit lowered", strings.Repeat("a", 161), Options{MaxParts: 1}, "needs 2 parts, more than the limit of 1"},
		{"ucs2 too long", strings.Repeat("ê", 6*67+1), Options{}, "403 UCS-2 units needs 7 parts"},
		{"at most 255 parts", strings.Repeat("a", 255*153+1), Options{MaxParts: 1000}, "needs 256 parts, more than the limit of 255"},
		{"invalid utf-8", "a\xffb", Options{}, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Encode(tt.text, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if guichet.ErrorCode(err) != guichet.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q (code %s), want %s containing %q", err, guichet.ErrorCode(err), guichet.EINVALID, tt.want)
			}
		})
	}
}

func TestEncodeRandomRef(t *testing.T) {
	refs := map[byte]bool{}
	for range 20 {
		m, err := Encode(strings.Repeat("a", 200), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Parts[0][3] != m.Ref || m.Parts[1][3] != m.Ref {
			t.Fatalf("parts carry refs %d and %d, message says %d", m.Parts[0][3], m.Parts[1][3], m.Ref)
		}
		refs[m.Ref] = true
	}
	if len(refs) < 2 {
		t.Errorf("20 messages all got reference %v", refs)
	}
}

// airParts returns m's parts as the air interface carries them: for GSM-7
// the header unchanged then the septets packed with the fill bits that align
// them after it; UCS-2 parts as they are. The SMSC packs, not the gateway,
// but every part must fit the 140 octets of the air once packed.
func airParts(m Message) [][]byte {
	if m.DataCoding != CodingDefault {
		return m.Parts
	}
	out := make([][]byte, len(m.Parts))
	for i, p := range m.Parts {
		h := 0
		if m.ESMClass&ESMClassUDHI != 0 && len(p) > 0 {
			h = min(1+int(p[0]), len(p))
		}
		out[i] = append(append([]byte(nil), p[:h]...), Pack7Fill(p[h:], FillBits(h))...)
	}
	return out
}

// BenchmarkEncode encodes a notification as the outbox sends one.
func BenchmarkEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode("Dossier 20000011: disponible au guichet.", Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
