package sms

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// clock is a settable clock for the Reassembler.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func part(ref, total, seq byte, body string) []byte {
	return append([]byte{5, 0, 3, ref, total, seq}, body...)
}

type step struct {
	source  string
	coding  byte
	esm     byte
	payload []byte
	advance time.Duration // clock moves before the part is added
	text    string
	done    bool
	err     bool
	pending int
}

func TestReassembler(t *testing.T) {
	tests := []struct {
		name       string
		timeout    time.Duration
		maxPending int
		steps      []step
	}{
		{name: "single part", steps: []step{
			{source: "a", payload: []byte("hi"), text: "hi", done: true},
		}},
		{name: "one of one", steps: []step{
			{source: "a", esm: 0x40, payload: part(1, 1, 1, "hi"), text: "hi", done: true},
		}},
		{name: "in order", steps: []step{
			{source: "a", esm: 0x40, payload: part(1, 2, 1, "hel"), pending: 1},
			{source: "a", esm: 0x40, payload: part(1, 2, 2, "lo"), text: "hello", done: true},
		}},
		{name: "out of order with duplicate", steps: []step{
			{source: "a", esm: 0x40, payload: part(1, 3, 3, "C"), pending: 1},
			{source: "a", esm: 0x40, payload: part(1, 3, 3, "X"), pending: 1},
			{source: "a", esm: 0x40, payload: part(1, 3, 1, "A"), pending: 1},
			{source: "a", esm: 0x40, payload: part(1, 3, 2, "B"), text: "ABC", done: true},
		}},
		{name: "senders, refs and totals kept apart", steps: []step{
			{source: "a", esm: 0x40, payload: part(1, 2, 1, "a1"), pending: 1},
			{source: "b", esm: 0x40, payload: part(1, 2, 1, "b1"), pending: 2},
			{source: "a", esm: 0x40, payload: part(2, 2, 1, "r2"), pending: 3},
			{source: "a", esm: 0x40, payload: part(1, 3, 1, "t3"), pending: 4},
			{source: "b", esm: 0x40, payload: part(1, 2, 2, "b2"), text: "b1b2", done: true, pending: 3},
			{source: "a", esm: 0x40, payload: part(1, 2, 2, "a2"), text: "a1a2", done: true, pending: 2},
		}},
		{name: "escape split by the sender", steps: []step{
			{source: "a", esm: 0x40, payload: part(1, 2, 1, "A\x1b"), pending: 1},
			{source: "a", esm: 0x40, payload: part(1, 2, 2, "\x65B"), text: "A€B", done: true},
		}},
		{name: "surrogate pair split by the sender", steps: []step{
			{source: "a", coding: 8, esm: 0x40, payload: part(1, 2, 1, "\xd8\x3d"), pending: 1},
			{source: "a", coding: 8, esm: 0x40, payload: part(1, 2, 2, "\xde\x00"), text: "😀", done: true},
		}},
		{name: "mixed codings", steps: []step{
			{source: "a", coding: 8, esm: 0x40, payload: part(1, 2, 1, "\x00\xea"), pending: 1},
			{source: "a", coding: 0, esm: 0x40, payload: part(1, 2, 2, "e"), text: "êe", done: true},
		}},
		{name: "timeout drops the set", timeout: time.Minute, steps: []step{
			{source: "a", esm: 0x40, payload: part(1, 2, 1, "old"), pending: 1},
			{source: "a", esm: 0x40, payload: part(1, 2, 2, "x"), advance: time.Minute, pending: 1},
			{source: "a", esm: 0x40, payload: part(1, 2, 1, "new"), advance: 59 * time.Second, text: "newx", done: true},
		}},
		{name: "full drops the oldest", maxPending: 2, steps: []step{
			{source: "a", esm: 0x40, payload: part(1, 2, 1, "a"), pending: 1},
			{source: "b", esm: 0x40, payload: part(1, 2, 1, "b"), advance: time.Second, pending: 2},
			{source: "c", esm: 0x40, payload: part(1, 2, 1, "c"), advance: time.Second, pending: 2},
			{source: "a", esm: 0x40, payload: part(1, 2, 2, "2"), pending: 2},
			{source: "c", esm: 0x40, payload: part(1, 2, 2, "2"), text: "c2", done: true, pending: 1},
		}},
		{name: "malformed part leaves the set", steps: []step{
			{source: "a", esm: 0x40, payload: part(1, 2, 1, "A"), pending: 1},
			{source: "a", esm: 0x40, payload: []byte{5, 0, 3, 1, 2}, err: true, pending: 1},
			{source: "a", esm: 0x40, payload: part(1, 2, 2, "B"), text: "AB", done: true},
		}},
		{name: "undecodable mixed set dropped", steps: []step{
			{source: "a", coding: 8, esm: 0x40, payload: part(1, 2, 1, "\x00\xea"), pending: 1},
			{source: "a", coding: 0, esm: 0x40, payload: part(1, 2, 2, "\x80"), err: true},
		}},
		{name: "undecodable set dropped", steps: []step{
			{source: "a", coding: 8, esm: 0x40, payload: part(1, 2, 1, "\x00"), pending: 1},
			{source: "a", coding: 8, esm: 0x40, payload: part(1, 2, 2, "\x41\x00"), err: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
			r := NewReassembler(tt.timeout, tt.maxPending, c.now)
			for i, s := range tt.steps {
				c.t = c.t.Add(s.advance)
				text, done, err := r.Add(s.source, s.coding, s.esm, s.payload)
				if text != s.text || done != s.done || (err != nil) != s.err {
					t.Errorf("step %d: %q, %v, %v; want %q, %v, error %v", i+1, text, done, err, s.text, s.done, s.err)
				}
				if p := pending(r); p != s.pending {
					t.Errorf("step %d: %d pending, want %d", i+1, p, s.pending)
				}
			}
		})
	}
}

func TestReassemblerBounded(t *testing.T) {
	r := NewReassembler(0, 0, nil)
	for i := range DefaultMaxPending + 50 {
		if _, _, err := r.Add(fmt.Sprint(i), 0, 0x40, part(1, 2, 1, "x")); err != nil {
			t.Fatal(err)
		}
	}
	if p := pending(r); p != DefaultMaxPending {
		t.Errorf("%d pending, want %d", p, DefaultMaxPending)
	}
	text, done, err := r.Add(fmt.Sprint(DefaultMaxPending+49), 0, 0x40, part(1, 2, 2, strings.Repeat("y", 3)))
	if text != "xyyy" || !done || err != nil {
		t.Errorf("last set: %q, %v, %v", text, done, err)
	}
}

// pending returns how many incomplete sets r is holding.
func pending(r *Reassembler) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sets)
}
