package ussd

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/phone"
)

// Kind says what an operator's request is: a hop of the dialogue, or the
// network telling how a session ended.
type Kind int

const (
	Continue Kind = iota // a hop: the caller's input (or the dial, on the first hop)
	Begin                // a hop the operator marks as the first of a session
	Release              // the network ended the session normally
	Abort                // the caller hung up or cancelled while a screen waited
	Timeout              // the network timed the session out
	Failed               // the network failed the session (Reason says why)
)

func (k Kind) String() string {
	switch k {
	case Continue:
		return "continue"
	case Begin:
		return "begin"
	case Release:
		return "release"
	case Abort:
		return "abort"
	case Timeout:
		return "timeout"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// MaxInput is the longest input a caller can send in one hop, in characters.
const MaxInput = 182

// Request is one hop decoded from an operator's wire format.
type Request struct {
	Kind        Kind
	SessionID   string // the operator's id of the dialogue
	Phone       string // as the operator sent it; the handler normalises it to E.164
	ServiceCode string // as dialled: *123# or, on a first hop, *123*4*12345678#
	Operator    string // the configured operator's name (set by the handler)
	Dialect     string // the dialect's name (set by the handler)
	// Channel is where the caller is: "ussd" (the default), or "hotline"
	// when an operator walks the menus for them. Adapters record it with
	// what the session opens or books.
	Channel string
	// Slot keeps this dialogue's state apart from the phone's own: ""
	// for the caller's dialogues; the hotline walks the menus for a caller
	// in a slot of its own ("hotline:awa"), so that it never resumes or
	// cuts the caller's live USSD dialogue, nor another operator's.
	Slot string
	// Agent is who walks the menus for the caller (a hotline operator's
	// name): the case history says who opened a case.
	Agent string

	// Input is the caller's latest input; empty on the first hop.
	Input string
	// History, for dialects that send every input of the session joined with
	// '*' (Africa's Talking), is that text; the engine derives Input from it
	// and the previous hop's text, so that a '*' typed inside an input does
	// not derail the dialogue. Cumulative marks such requests.
	History    string
	Cumulative bool

	// HopKey is the dialect's own identifier of this hop, when it has one
	// (Hubtel's Sequence). A retried request carries the same key.
	HopKey string
	// Language is the operator's hint ("fr", "en"), if any.
	Language string
	// Reason is the network's explanation for Failed or Abort.
	Reason string
}

// Reply is the screen to show, and whether the session ends with it.
type Reply struct {
	Text string
	End  bool
	// Busy marks the busy screen, the engine over its in-flight limit: a
	// channel that can ask for the input again later (the SMSC redelivers
	// an SMS refused) should rather refuse than answer it.
	Busy bool
}

// Normalize checks the fields every dialect must fill and puts the phone
// number in E.164. Its errors are *guichet.Error with code EINVALID: the
// handler answers them with a 400.
func (r *Request) Normalize(region string) error {
	if r.SessionID == "" {
		return guichet.Errorf(guichet.EINVALID, "missing session id")
	}
	if len(r.Slot) > 64 || strings.ContainsFunc(r.Slot, unicode.IsControl) {
		return guichet.Errorf(guichet.EINVALID, "slot is longer than 64 characters or holds control characters")
	}
	if len(r.SessionID) > 128 {
		return guichet.Errorf(guichet.EINVALID, "session id is longer than 128 characters")
	}
	if strings.ContainsFunc(r.SessionID, unicode.IsControl) {
		return guichet.Errorf(guichet.EINVALID, "session id holds control characters")
	}
	for name, v := range map[string]string{"session id": r.SessionID, "phone number": r.Phone,
		"service code": r.ServiceCode, "input": r.Input, "text": r.History, "reason": r.Reason, "language": r.Language} {
		if !utf8.ValidString(v) {
			return guichet.Errorf(guichet.EINVALID, "%s is not valid UTF-8", name)
		}
	}
	if r.Phone == "" {
		return guichet.Errorf(guichet.EINVALID, "missing phone number")
	}
	p, err := phone.Normalize(r.Phone, region)
	if err != nil {
		return guichet.Errorf(guichet.EINVALID, "malformed phone number")
	}
	r.Phone = p
	if err := checkInput(r.Input); err != nil {
		return err
	}
	if r.Cumulative {
		// Each input of the history is one the caller typed: none is
		// longer than an input, on the first hop as on the others.
		for part := range strings.SplitSeq(r.History, "*") {
			if err := checkInput(part); err != nil {
				return err
			}
		}
	}
	if len(r.ServiceCode) > 64 {
		return guichet.Errorf(guichet.EINVALID, "service code is longer than 64 characters")
	}
	if len(r.History) > 4096 {
		return guichet.Errorf(guichet.EINVALID, "text is longer than 4096 characters")
	}
	return nil
}

// checkInput refuses an input longer than MaxInput characters, or holding
// a NUL, which no handset sends and no store keeps.
func checkInput(in string) error {
	if n := utf8.RuneCountInString(in); n > MaxInput {
		return guichet.Errorf(guichet.EINVALID, "input is %d characters long, over the limit of %d", n, MaxInput)
	}
	if strings.IndexByte(in, 0) >= 0 {
		return guichet.Errorf(guichet.EINVALID, "input holds a NUL character")
	}
	return nil
}
