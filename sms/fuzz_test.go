package sms

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/guichet/guichet"
)

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "hello", "Votre dossier 20000011 est prêt.", "€[]{}|^~\\\f", "😀ê", strings.Repeat("a", 152) + "€",
		strings.Repeat("ê", 66) + "😀" + strings.Repeat("b", 10), "Cœur « fête » naïve…", "\x00\x1b"} {
		f.Add(s, false, 0)
		f.Add(s, true, 2)
	}
	f.Fuzz(func(t *testing.T, text string, translit bool, maxParts int) {
		m, err := Encode(text, Options{Transliterate: translit, MaxParts: maxParts, Ref: fixedRef(9)})
		if err != nil {
			if guichet.ErrorCode(err) != guichet.EINVALID {
				t.Fatalf("error %v is not %s", err, guichet.EINVALID)
			}
			if utf8.ValidString(text) && !strings.Contains(err.Error(), "parts, more than the limit") {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		want := text
		if translit {
			want = ToGSM7(text)
		}
		limit := maxParts
		if limit <= 0 {
			limit = DefaultParts
		}
		if n := len(m.Parts); n == 0 || n > min(limit, 255) {
			t.Fatalf("%d parts with a limit of %d", n, limit)
		}
		var joined strings.Builder
		var all Parts
		var whole string
		packed := airParts(m)
		for i, p := range m.Parts {
			if len(packed[i]) > 140 {
				t.Fatalf("packed part %d has %d octets", i+1, len(packed[i]))
			}
			if m.DataCoding == CodingUCS2 && len(p) > 140 {
				t.Fatalf("UCS-2 part %d has %d octets", i+1, len(p))
			}
			s, udh, err := Decode(m.DataCoding, m.ESMClass, p)
			if err != nil {
				t.Fatalf("part %d: %v", i+1, err)
			}
			if (udh == nil) != (len(m.Parts) == 1) || (udh != nil && (udh.Seq != byte(i+1) || udh.Total != byte(len(m.Parts)) || udh.Ref != 9)) {
				t.Fatalf("part %d of %d has header %+v", i+1, len(m.Parts), udh)
			}
			joined.WriteString(s)
			if udh == nil {
				whole = s
			} else {
				_, body, _ := SplitUDH(m.ESMClass, p)
				if !all.Add(*udh, m.DataCoding, body) || all.Complete() != (i == len(m.Parts)-1) {
					t.Fatalf("reassembling part %d: complete %v", i+1, all.Complete())
				}
				if all.Complete() {
					if whole, err = all.Text(); err != nil {
						t.Fatalf("reassembling: %v", err)
					}
				}
			}
			if m.DataCoding == CodingDefault {
				h := 0
				if m.ESMClass&ESMClassUDHI != 0 {
					h = udhLen
				}
				if back := Unpack7Fill(packed[i][h:], FillBits(h), len(p)-h); !bytes.Equal(back, p[h:]) {
					t.Fatalf("part %d does not unpack to itself", i+1)
				}
			}
		}
		if joined.String() != want {
			t.Fatalf("parts decode to %q, want %q", joined.String(), want)
		}
		if whole != want {
			t.Fatalf("reassembly gives %q, want %q", whole, want)
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add(byte(0), byte(0), []byte("hello"))
	f.Add(byte(0), byte(0x40), []byte{5, 0, 3, 1, 2, 1, 0x1b, 0x65})
	f.Add(byte(8), byte(0x40), []byte{6, 8, 4, 0xab, 0xcd, 3, 3, 0xd8, 0x3d, 0xde, 0})
	f.Add(byte(3), byte(0x43), []byte{10, 10, 3, 0, 0, 16, 0, 3, 7, 2, 1, 0xe9})
	f.Add(byte(1), byte(0x40), []byte{3, 0, 5, 1})
	f.Fuzz(func(t *testing.T, coding, esm byte, payload []byte) {
		text, udh, err := Decode(coding, esm, payload)
		if err != nil {
			if guichet.ErrorCode(err) != guichet.EINVALID || text != "" || udh != nil {
				t.Fatalf("error %v with %q, %+v", err, text, udh)
			}
		} else if udh != nil && (udh.Seq == 0 || udh.Seq > udh.Total) {
			t.Fatalf("header %+v", udh)
		}
		if err == nil && !utf8.ValidString(text) {
			t.Fatalf("invalid UTF-8 %q", text)
		}
		c, body, err := SplitUDH(esm, payload)
		if err != nil || c == nil {
			return
		}
		var p Parts
		if !p.Add(*c, coding, body) || p.Add(*c, coding, body) {
			t.Fatalf("a part %+v added twice, or not once", c)
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var q Parts
		if err := q.UnmarshalBinary(b); err != nil || q.Complete() != p.Complete() {
			t.Fatalf("stored parts read back as %+v, %v", q, err)
		}
		if text, err := q.Text(); err == nil && !utf8.ValidString(text) {
			t.Fatalf("invalid UTF-8 %q", text)
		}
	})
}

func FuzzParseReceipt(f *testing.F) {
	for _, s := range []string{
		"id:7220959213 sub:001 dlvrd:001 submit date:2611281205 done date:2611281206 stat:DELIVRD err:000 text:Votre dossier",
		"Stat:undeliv ERR:001 Done Date:261128120630 ID:0A1B submit_date:261128120501",
		"id:42 stat:EXPIRED text:id:99 stat:DELIVRD", "id: stat:", "text:", "",
	} {
		f.Add(s, "1A2B3C")
	}
	texts, ids, _ := receiptFixtures(f)
	for i, s := range texts {
		f.Add(s, ids[i])
	}
	f.Fuzz(func(t *testing.T, text, other string) {
		r, err := ParseReceipt(text)
		if err != nil {
			if guichet.ErrorCode(err) != guichet.EINVALID || r != (Receipt{}) {
				t.Fatalf("error %v with %+v", err, r)
			}
			return
		}
		st, ok := states[r.State]
		if !ok || st.short != r.State || r.ID == "" || r.Delivered != (r.State == "DELIVRD") || r.Final != st.final {
			t.Fatalf("receipt %+v", r)
		}
		if !SameID(r.ID, r.ID) {
			t.Fatalf("SameID(%q, itself) is false", r.ID)
		}
		if SameID(r.ID, other) != SameID(other, r.ID) {
			t.Fatalf("SameID(%q, %q) is not symmetric", r.ID, other)
		}
	})
}

func FuzzParseKeyword(f *testing.F) {
	for _, s := range []string{"  suivi   20000011 ", "Suivi:20000011", "arrêt.", "TRACK 2000 0011", "EN", "fr", "rdv", "", "1", "SUIVI ٣٤"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c := ParseKeyword(text)
		switch c.Kind {
		case Unknown:
			if c != (Command{}) {
				t.Fatalf("unknown command %+v", c)
			}
		case Track:
			for _, r := range c.Arg {
				if r < '0' || r > '9' {
					t.Fatalf("reference %q is not all digits", c.Arg)
				}
			}
		case Language:
			if c.Arg != c.Lang || (c.Arg != "fr" && c.Arg != "en") {
				t.Fatalf("language command %+v", c)
			}
		default:
			if c.Arg != "" {
				t.Fatalf("command %+v has an argument", c)
			}
		}
		if c.Lang != "" && c.Lang != "fr" && c.Lang != "en" {
			t.Fatalf("command %+v in language %q", c, c.Lang)
		}
	})
}
