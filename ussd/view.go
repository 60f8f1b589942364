package ussd

import (
	"context"

	"github.com/guichet/guichet/menus"
)

// View is what a caller's dialogue shows now, read without moving it: what
// a channel that draws its own page (the web) needs beyond the screen's
// text.
type View struct {
	SessionID string // the dialogue's id, as its channel gave it
	Text      string // the screen last shown
	End       bool   // the dialogue ended on it
	// Input is the input type the screen waits for ("digits", "date",
	// "text", "phone", "pattern", "reference"), "" when it waits for a
	// numbered choice.
	Input string
	Hops  int // the hops the dialogue took so far
}

// View returns the dialogue of phone in slot as it stands; false when there
// is none to show (never started, expired, unreadable, or the store did
// not answer: the engine cannot tell "not found" from its Store's other
// errors, and a dialogue started anew fails on the same store anyway).
func (e *Engine) View(ctx context.Context, slot, phone string) (View, bool) {
	b, err := e.store.Get(ctx, sessionKey(slot, phone))
	if err != nil || b == nil {
		return View{}, false
	}
	s, err := decodeSession(b)
	if err != nil {
		return View{}, false
	}
	v := View{SessionID: s.ID, Text: s.Screen, End: s.End, Hops: s.Hops}
	if s.Mode == "" && !s.End {
		if svc := e.cat.Services[s.Svc]; svc != nil {
			if n := svc.Nodes[s.Node]; n != nil && n.Kind == menus.KindInput && n.Input != nil {
				v.Input = n.Input.Type
			}
		}
	}
	return v, true
}
