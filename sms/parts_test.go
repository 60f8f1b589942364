package sms

import (
	"bytes"
	"testing"
)

func part(ref, total, seq byte, body string) []byte {
	return append([]byte{5, 0, 3, ref, total, seq}, body...)
}

// add splits payload as the inbox does and adds it to p.
func add(t *testing.T, p *Parts, coding, esm byte, payload []byte) bool {
	t.Helper()
	c, body, err := SplitUDH(esm, payload)
	if err != nil || c == nil {
		t.Fatalf("splitting %q: %+v, %v", payload, c, err)
	}
	return p.Add(*c, coding, body)
}

func TestParts(t *testing.T) {
	type step struct {
		coding  byte
		payload []byte
		added   bool
	}
	tests := []struct {
		name  string
		steps []step
		text  string // "" while not complete
		err   bool
	}{
		{name: "one of one", steps: []step{{payload: part(1, 1, 1, "hi"), added: true}}, text: "hi"},
		{name: "in order", steps: []step{
			{payload: part(1, 2, 1, "hel"), added: true},
			{payload: part(1, 2, 2, "lo"), added: true},
		}, text: "hello"},
		{name: "out of order with duplicate", steps: []step{
			{payload: part(1, 3, 3, "C"), added: true},
			{payload: part(1, 3, 3, "X")},
			{payload: part(1, 3, 1, "A"), added: true},
			{payload: part(1, 3, 2, "B"), added: true},
		}, text: "ABC"},
		{name: "another total is another message", steps: []step{
			{payload: part(1, 2, 1, "A"), added: true},
			{payload: part(1, 3, 2, "B")},
		}},
		{name: "escape split by the sender", steps: []step{
			{payload: part(1, 2, 1, "A\x1b"), added: true},
			{payload: part(1, 2, 2, "\x65B"), added: true},
		}, text: "A€B"},
		{name: "surrogate pair split by the sender", steps: []step{
			{coding: 8, payload: part(1, 2, 1, "\xd8\x3d"), added: true},
			{coding: 8, payload: part(1, 2, 2, "\xde\x00"), added: true},
		}, text: "😀"},
		{name: "mixed codings", steps: []step{
			{coding: 8, payload: part(1, 2, 1, "\x00\xea"), added: true},
			{coding: 0, payload: part(1, 2, 2, "e"), added: true},
		}, text: "êe"},
		{name: "an empty part", steps: []step{
			{payload: part(1, 2, 2, ""), added: true},
			{payload: part(1, 2, 1, "A"), added: true},
		}, text: "A"},
		{name: "undecodable mixed set", steps: []step{
			{coding: 8, payload: part(1, 2, 1, "\x00\xea"), added: true},
			{coding: 0, payload: part(1, 2, 2, "\x80"), added: true},
		}, err: true},
		{name: "undecodable set", steps: []step{
			{coding: 8, payload: part(1, 2, 1, "\x00"), added: true},
			{coding: 8, payload: part(1, 2, 2, "\x41\x00"), added: true},
		}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Parts
			for i, s := range tt.steps {
				// Each step goes through the stored bytes, as a fleet's does.
				b, err := p.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				var q Parts
				if err := q.UnmarshalBinary(b); err != nil {
					t.Fatalf("step %d: reading back %s: %v", i+1, b, err)
				}
				p = q
				if got := add(t, &p, s.coding, 0x40, s.payload); got != s.added {
					t.Errorf("step %d: added %v, want %v", i+1, got, s.added)
				}
			}
			text, err := p.Text()
			if want := tt.text != "" || tt.err; p.Complete() != want {
				t.Fatalf("complete %v, want %v", p.Complete(), want)
			}
			if text != tt.text || (err != nil) != (tt.err || !p.Complete()) {
				t.Errorf("text %q, %v; want %q, error %v", text, err, tt.text, tt.err)
			}
		})
	}
}

func TestPartsStoredBytes(t *testing.T) {
	var p Parts
	if err := p.UnmarshalBinary(nil); err != nil || p.Complete() {
		t.Fatalf("nothing stored: %+v, %v", p, err)
	}
	for _, bad := range []string{"{", `{"c":"AA==","b":[]}`, `[1]`} {
		if err := p.UnmarshalBinary([]byte(bad)); err == nil {
			t.Errorf("%s read as %+v", bad, p)
		}
	}
	p = Parts{}
	p.Add(Concat{Ref: 7, Total: 3, Seq: 2}, 8, []byte{0, 'x'})
	b, _ := p.MarshalBinary()
	var q Parts
	if err := q.UnmarshalBinary(b); err != nil || len(q.Bodies) != 3 || q.Bodies[0] != nil || !bytes.Equal(q.Bodies[1], []byte{0, 'x'}) || q.Codings[1] != 8 {
		t.Errorf("read back %+v, %v", q, err)
	}
}
