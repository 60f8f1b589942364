package sms

import (
	"strings"
	"testing"

	"github.com/guichet/guichet"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		coding  byte
		esm     byte
		payload string // hex
		text    string
		udh     *Concat
		err     string // substring of the error, "" for none
	}{
		{name: "gsm7", coding: 0, payload: "68656C6C6F", text: "hello"},
		{name: "gsm7 extension", coding: 0, payload: "1B6531", text: "€1"},
		{name: "gsm7 accents", coding: 0, payload: "057F", text: "éà"},
		{name: "ia5", coding: 1, payload: "4F4B", text: "OK"},
		{name: "latin-1", coding: 3, payload: "E9E7", text: "éç"},
		{name: "ucs2", coding: 8, payload: "00EA0041", text: "êA"},
		{name: "ucs2 pair", coding: 8, payload: "D83DDE00", text: "😀"},
		{name: "ucs2 lone surrogate", coding: 8, payload: "0041D83D", text: "A\uFFFD"},
		{name: "empty", coding: 0, payload: "", text: ""},
		{name: "8-bit concat", coding: 0, esm: 0x40, payload: "050003CC0201" + "6869", text: "hi", udh: &Concat{Ref: 0xCC, Total: 2, Seq: 1}},
		{name: "16-bit concat", coding: 8, esm: 0x40, payload: "060804ABCD0303" + "0041", text: "A", udh: &Concat{Ref: 0xABCD, Total: 3, Seq: 3}},
		{name: "other element skipped", coding: 0, esm: 0x43, payload: "0A" + "0A03000010" + "0003070201" + "41", text: "A", udh: &Concat{Ref: 7, Total: 2, Seq: 1}},
		{name: "header without concat", coding: 0, esm: 0x40, payload: "022400" + "41", text: "A"},
		{name: "udhi bit only counts", coding: 0, esm: 0x04, payload: "050003", text: "é@¥"},
		{name: "bad septet", coding: 0, payload: "41C1", err: "octet 0xC1 at 1 is not a GSM-7 septet"},
		{name: "bad ia5", coding: 1, payload: "41E9", err: "octet 0xE9 at 1 is not IA5"},
		{name: "odd ucs2", coding: 8, payload: "004100", err: "odd number of octets (3)"},
		{name: "unsupported coding", coding: 4, payload: "41", err: "unsupported data_coding 0x04"},
		{name: "empty with udhi", coding: 0, esm: 0x40, payload: "", err: "message is empty"},
		{name: "header too long", coding: 0, esm: 0x40, payload: "0500030102", err: "user data header of 5 octets in a message of 4"},
		{name: "element overruns", coding: 0, esm: 0x40, payload: "03000501", err: "element 0x00 of 5 octets overruns"},
		{name: "element cut", coding: 0, esm: 0x40, payload: "01004141", err: "ends inside an element"},
		{name: "concat wrong length", coding: 0, esm: 0x40, payload: "0400020102", err: "concatenation element 0x00 of 2 octets"},
		{name: "seq zero", coding: 0, esm: 0x40, payload: "050003010200", err: "part 0 of 2"},
		{name: "seq beyond total", coding: 0, esm: 0x40, payload: "050003010203", err: "part 3 of 2"},
		{name: "total zero", coding: 0, esm: 0x40, payload: "050003010000", err: "part 0 of 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, udh, err := Decode(tt.coding, tt.esm, mustHex(t, tt.payload))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || guichet.ErrorCode(err) != guichet.EINVALID {
					t.Fatalf("error %v, want %s containing %q", err, guichet.EINVALID, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if text != tt.text {
				t.Errorf("text %q, want %q", text, tt.text)
			}
			if (udh == nil) != (tt.udh == nil) || (udh != nil && *udh != *tt.udh) {
				t.Errorf("udh %+v, want %+v", udh, tt.udh)
			}
		})
	}
}
