package sms

import (
	"math/rand/v2"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/guichet/guichet"
)

// Data codings of SMPP 3.4 (data_coding) that the package knows.
const (
	CodingDefault byte = 0 // SMSC default alphabet, GSM 03.38 7-bit here
	CodingIA5     byte = 1 // IA5 (ASCII)
	CodingLatin1  byte = 3 // ISO-8859-1
	CodingUCS2    byte = 8 // UCS-2, sent as UTF-16BE
)

// ESMClassUDHI is the esm_class bit saying that short_message starts with a
// user data header.
const ESMClassUDHI byte = 0x40

// Part sizes, in septets (GSM-7) or UTF-16 units (UCS-2).
const (
	SingleSeptets = 160 // a message alone
	PartSeptets   = 153 // a part after the 6-octet concatenation header
	SingleUnits   = 70
	PartUnits     = 67
	DefaultParts  = 6
	udhLen        = 6 // 05 00 03 ref total seq
)

// Options tune Encode. The zero value is ready to use.
type Options struct {
	// Transliterate replaces characters outside GSM-7 with their closest
	// spelling (ToGSM7: ê → e, œ → oe) so that a part keeps 160
	// characters instead of falling to UCS-2's 70.
	Transliterate bool
	// MaxParts bounds the number of parts: 0 means DefaultParts; values
	// above 255 are taken as 255, the most a concatenation header counts.
	MaxParts int
	// Ref returns the concatenation reference shared by the parts of one
	// message; nil means a random one.
	Ref func() byte
}

// Message is a text ready for submit_sm, one short_message per part.
type Message struct {
	// DataCoding is CodingDefault (GSM-7) or CodingUCS2.
	DataCoding byte
	// ESMClass is ESMClassUDHI when the parts carry a concatenation header,
	// 0 for a single part.
	ESMClass byte
	// Parts holds each part's short_message: the header (05 00 03 ref total
	// seq) when concatenated, then the text as unpacked septets (one per
	// octet) for GSM-7 or UTF-16BE for UCS-2.
	Parts [][]byte
	// Ref is the concatenation reference when there is more than one part.
	Ref byte
	// Septets is the length of the whole text in GSM-7 septets (escapes
	// included), 0 for UCS-2.
	Septets int
	// Units is the length of the whole text in UTF-16 units, 0 for GSM-7.
	Units int
}

// Encode splits text into the parts of one SMS: GSM-7 when every character
// fits, after transliteration if asked, UCS-2 otherwise. A text of up to 160
// septets or 70 units goes in one part without header; a longer one in
// parts of 153 septets or 67 units after an 8-bit-reference concatenation
// header, never splitting an escape sequence or a surrogate pair. It answers
// an EINVALID *guichet.Error if text is not valid UTF-8 or needs more than
// MaxParts parts.
func Encode(text string, opts Options) (Message, error) {
	if !utf8.ValidString(text) {
		return Message{}, guichet.Errorf(guichet.EINVALID, "sms: text is not valid UTF-8")
	}
	if opts.Transliterate {
		text = ToGSM7(text)
	}
	maxParts := opts.MaxParts
	switch {
	case maxParts <= 0:
		maxParts = DefaultParts
	case maxParts > 255:
		maxParts = 255
	}
	if septets, ok := toSeptets(text); ok {
		bounds := cut(len(septets), SingleSeptets, PartSeptets, func(i int) bool { return septets[i-1] != esc })
		if err := checkParts(bounds, maxParts, len(septets), "septets"); err != nil {
			return Message{}, err
		}
		m := Message{DataCoding: CodingDefault, Septets: len(septets)}
		m.build(bounds, opts.Ref, func(from, to int) []byte { return septets[from:to:to] })
		return m, nil
	}
	units := utf16.Encode([]rune(text))
	bounds := cut(len(units), SingleUnits, PartUnits, func(i int) bool { return !utf16.IsSurrogate(rune(units[i-1])) || units[i-1] >= 0xDC00 })
	if err := checkParts(bounds, maxParts, len(units), "UCS-2 units"); err != nil {
		return Message{}, err
	}
	m := Message{DataCoding: CodingUCS2, Units: len(units)}
	m.build(bounds, opts.Ref, func(from, to int) []byte {
		b := make([]byte, 0, 2*(to-from))
		for _, u := range units[from:to] {
			b = append(b, byte(u>>8), byte(u))
		}
		return b
	})
	return m, nil
}

// cut returns the part boundaries of n units: [0 n] when they fit in single,
// else parts of at most per units, a part ending early where ok(end) says
// that a part cannot end there (the unit before it starts a sequence).
func cut(n, single, per int, ok func(end int) bool) []int {
	if n <= single {
		return []int{0, n}
	}
	bounds := []int{0}
	for start := 0; start < n; {
		end := min(start+per, n)
		if end < n && !ok(end) {
			end--
		}
		bounds = append(bounds, end)
		start = end
	}
	return bounds
}

func checkParts(bounds []int, maxParts, n int, unit string) error {
	if parts := len(bounds) - 1; parts > maxParts {
		return guichet.Errorf(guichet.EINVALID, "sms: text of %d %s needs %d parts, more than the limit of %d", n, unit, parts, maxParts)
	}
	return nil
}

// build fills m.Parts from the boundaries, with a concatenation header when
// there is more than one part.
func (m *Message) build(bounds []int, ref func() byte, body func(from, to int) []byte) {
	total := len(bounds) - 1
	if total == 1 {
		m.Parts = [][]byte{body(bounds[0], bounds[1])} // body's own, made for this message
		return
	}
	if ref == nil {
		ref = func() byte { return byte(rand.Uint32()) }
	}
	m.Ref, m.ESMClass = ref(), ESMClassUDHI
	for i := range total {
		b := body(bounds[i], bounds[i+1])
		p := make([]byte, 0, udhLen+len(b))
		p = append(p, 5, 0, 3, m.Ref, byte(total), byte(i+1))
		m.Parts = append(m.Parts, append(p, b...))
	}
}
