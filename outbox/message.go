// Package outbox owns the messages to citizens: Message and its statuses,
// the durable queue that the case store writes in the same transaction as
// the changes that cause them (Memory here, postgres.Outbox), and what a
// delivery receipt's state means for a message. outbox/delivery drains it
// over the operators' SMPP binds and applies the receipts.
package outbox

import (
	"regexp"
	"strings"
	"time"

	"github.com/guichet/guichet"
)

// Message is an SMS to a citizen, written to the outbox in the same
// transaction as the change that causes it.
type Message struct {
	ID      int64 // assigned by the store
	Phone   string
	Lang    string
	Body    string
	Kind    string // "opened", "moved", "booked", "reminder", "callback", KindOptOut…
	CaseRef string // the case or booking it is about
	// Transliterate asks for the text to be spelt in GSM-7 (ê → e) to keep
	// 160 characters a part: its template says so.
	Transliterate bool
	// Bulk messages (a list, a campaign) leave after every transactional
	// one due (case moves, reminders, answers, an API call's single
	// message): a campaign of 100,000 never delays a case's notification.
	Bulk bool
	// Owner is the administration that sent it through the API, by its key
	// (KeyID): it may read it back, and hear of its final state. "" for
	// the gateway's own.
	Owner, KeyID string
	Campaign     int64 // the campaign it belongs to (0: none)
	Created      time.Time
	// Status is where its delivery stands: one of the Message* statuses.
	Status   string
	Attempts int    // how many times a sender claimed it
	Reason   string // why it failed, or what the sender said
	// Bind and SMSCID say where a sent message went: the bind's name and
	// the message id that the SMSC answered, as it wrote it. Sent is when.
	Bind   string
	SMSCID string
	Sent   time.Time
	// Done is when it reached a final status: delivered, undeliverable,
	// expired or failed (zero before).
	Done time.Time
}

// Final reports whether a status is the end of a message's delivery: it
// will not change again.
func Final(status string) bool {
	switch status {
	case MessageDelivered, MessageUndeliverable, MessageExpired, MessageFailed:
		return true
	}
	return false
}

// DeliveryCount is how many messages created in a period have a status
// on a bind (Message.Bind: "" for those never sent).
type DeliveryCount struct {
	Bind, Status string
	N            int
}

// Message statuses.
const (
	MessagePending = "pending" // waiting for a sender
	MessageSending = "sending" // claimed by a sender, until its lease ends
	MessageSent    = "sent"
	MessageFailed  = "failed" // for good: the dispatcher gave up
	MessageLogged  = "logged" // recorded, never to be sent (a demo, a channel without SMS)
	// What delivery receipts say of a sent message, and a message that
	// waited past its validity and was never sent.
	MessageDelivered     = "delivered"
	MessageUndeliverable = "undeliverable"
	MessageExpired       = "expired"
)

// ReasonOptedOut is the reason of a message not sent because its citizen
// opted out (failed, for good).
const ReasonOptedOut = "the citizen sent STOP"

// KindOptOut is the kind of the message that confirms a STOP or a START:
// it goes out even to a phone that opted out.
const KindOptOut = "optout"

// KindDialogue is the kind of a screen of the SMS dialogue, which the
// citizen asked for by texting.
const KindDialogue = "dialogue"

// Requested reports whether a message of kind is one the citizen asked
// for there and then: the confirmation of their STOP or START, a sign-in
// code, a screen of their SMS dialogue. These go out to a phone that
// opted out: STOP stops notifications, not the answers to the citizen.
func Requested(kind string) bool {
	return kind == KindOptOut || kind == KindSignIn || kind == KindDialogue
}

// KindSignIn is the kind of a one-time sign-in code's SMS (the web
// channel's): the code is the citizen's alone, so what shows messages to
// others (the console) shows that it was sent, its digits hidden
// (Hidden).
const KindSignIn = "signin_code"

// Hidden returns the body of m as others may read it: a sign-in code's
// with its codes (4 digits or more in a row) as asterisks, any other as
// it is.
func Hidden(m Message) string {
	if m.Kind != KindSignIn {
		return m.Body
	}
	return codeDigits.ReplaceAllStringFunc(m.Body, func(d string) string { return strings.Repeat("*", len(d)) })
}

var codeDigits = regexp.MustCompile(`[0-9]{4,}`)

// What follows serves the stores of the outbox (Memory, postgres), so
// that they all check what they are given the same way.

// Prepare readies messages for the outbox: it refuses one without a phone
// or a body, or with a status other than MessagePending or MessageLogged
// (EINVALID), and sets the status to MessagePending and Created to now
// where they are unset. msgs is not modified.
func Prepare(msgs []Message, now time.Time) ([]Message, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		switch {
		case m.Phone == "":
			return nil, guichet.Errorf(guichet.EINVALID, "message without a phone")
		case m.Body == "":
			return nil, guichet.Errorf(guichet.EINVALID, "message without a body")
		case m.Status == "":
			m.Status = MessagePending
		case m.Status != MessagePending && m.Status != MessageLogged:
			return nil, guichet.Errorf(guichet.EINVALID, "new message with status %q", m.Status)
		}
		if m.Created.IsZero() {
			m.Created = now
		}
		m.ID, m.Attempts = 0, 0
		out[i] = m
	}
	return out, nil
}

// ReceiptStatus returns the status that a delivery receipt's state (as
// sms.ParseReceipt spells it: DELIVRD, UNDELIV…) gives a sent message, and
// false when the state changes nothing (ACCEPTD, ENROUTE, BUFFRED, UNKNOWN:
// the message stays sent).
func ReceiptStatus(state string) (string, bool) {
	switch state {
	case "DELIVRD":
		return MessageDelivered, true
	case "UNDELIV", "REJECTD", "DELETED":
		return MessageUndeliverable, true
	case "EXPIRED":
		return MessageExpired, true
	}
	return "", false
}

// ReceiptNumber returns a receipt's destination as the outbox keeps
// phones: E.164 with its +. SMSCs write it without.
func ReceiptNumber(dest string) string {
	dest = strings.TrimSpace(dest)
	if dest == "" || strings.HasPrefix(dest, "+") {
		return dest
	}
	return "+" + dest
}

// Backlog is the messages waiting to be sent (pending or claimed) to the
// numbers that start with Prefix: how many, and when the oldest was
// written.
type Backlog struct {
	Prefix string // the number's first digits, without its +
	N      int
	Oldest time.Time
}

// BacklogPrefix is the first digits of an E.164 number, its + left out,
// as Backlog groups them.
func BacklogPrefix(e164 string, digits int) string {
	n := strings.TrimPrefix(e164, "+")
	if len(n) > digits {
		n = n[:digits]
	}
	return n
}
