package adapters

import (
	"crypto/sha256"
	"strings"
	"time"

	"github.com/guichet/guichet"
)

// What follows serves Store implementations, so that they all check what
// they are given the same way.

// PrepareMessages readies the messages a notify function returned for the
// outbox: it refuses one without a phone or a body, or with a status other
// than MessagePending or MessageLogged (EINVALID), and sets the status to
// MessagePending and Created to now where they are unset. msgs is not
// modified.
func PrepareMessages(msgs []Message, now time.Time) ([]Message, error) {
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

// CheckMark checks the status that MarkMessage is given.
func CheckMark(status string) error {
	switch status {
	case MessagePending, MessageSent, MessageFailed, MessageLogged,
		MessageDelivered, MessageUndeliverable, MessageExpired:
		return nil
	}
	return guichet.Errorf(guichet.EINVALID, "unknown message status %q", status)
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

// CheckAPIKey checks what AddAPIKey is given: an owner, and a SHA-256 hash.
func CheckAPIKey(owner string, hash []byte) error {
	if owner == "" {
		return guichet.Errorf(guichet.EINVALID, "api key without an owner")
	}
	if len(hash) != sha256.Size {
		return guichet.Errorf(guichet.EINVALID, "api key hash is not SHA-256")
	}
	return nil
}

// notifyOf returns notify's messages about v, none if notify is nil.
func notifyOf[T any](notify func(T) []Message, v T) []Message {
	if notify == nil {
		return nil
	}
	return notify(v)
}
