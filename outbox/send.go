package outbox

import (
	"time"

	"github.com/guichet/guichet"
)

// Send is one text to many numbers, each in their language: what an
// administration sends through the API. The store writes it in one go,
// where it knows the citizens: a number that sent STOP gets nothing; each
// of the others gets the text in its language, the one chosen on the
// phone (Known), else that of its latest case, else Default.
type Send struct {
	To    []string // E.164, once each
	Known []string // beside To: the language chosen on the phone, "" if none; nil: none known
	// Default is the language of a citizen the gateway knows nothing of.
	Default string
	// Body is the text in each of "fr" and "en".
	Body map[string]string
	// KeyID, if set, is the API key the send comes with: a store that
	// keeps the keys writes nothing if it is revoked or expired at
	// Created, and answers EUNAUTHORIZED.
	KeyID         string
	Owner, Kind   string
	Bulk          bool
	Transliterate bool
	Created       time.Time
}

// Placed is what became of one number of a Send: its message and the
// language it went in, or that the number sent STOP (ID 0).
type Placed struct {
	ID       int64
	Lang     string
	OptedOut bool
}

// CheckSend refuses a Send that no store could write (EINVALID): no
// number, languages not beside the numbers, a text missing in a language
// or a default language without one.
func CheckSend(s Send) error {
	switch {
	case len(s.To) == 0:
		return guichet.Errorf(guichet.EINVALID, "send without a number")
	case s.Known != nil && len(s.Known) != len(s.To):
		return guichet.Errorf(guichet.EINVALID, "send with %d known languages for %d numbers", len(s.Known), len(s.To))
	case s.Body["fr"] == "" || s.Body["en"] == "":
		return guichet.Errorf(guichet.EINVALID, "send without a text in fr and en")
	case s.Default != "fr" && s.Default != "en":
		return guichet.Errorf(guichet.EINVALID, "send with default language %q", s.Default)
	}
	for _, p := range s.To {
		if p == "" {
			return guichet.Errorf(guichet.EINVALID, "send to an empty number")
		}
	}
	return nil
}

// Messages are the messages of s, given what the store knows: those of
// its numbers that sent STOP (optedOut) and the language of each one's
// latest case (caseLangs); the numbers of s that get one, by index, and
// what became of each number. For a store that looks the citizens up
// apart from writing (memory).
func (s Send) Messages(optedOut map[string]bool, caseLangs map[string]string, now time.Time) ([]Message, []Placed) {
	placed := make([]Placed, len(s.To))
	var msgs []Message
	created := s.Created
	if created.IsZero() {
		created = now
	}
	for i, p := range s.To {
		if optedOut[p] {
			placed[i].OptedOut = true
			continue
		}
		lang := s.Default
		if l := caseLangs[p]; l == "fr" || l == "en" {
			lang = l
		}
		if s.Known != nil && (s.Known[i] == "fr" || s.Known[i] == "en") {
			lang = s.Known[i]
		}
		placed[i].Lang = lang
		msgs = append(msgs, Message{Phone: p, Lang: lang, Body: s.Body[lang], Kind: s.Kind, Transliterate: s.Transliterate,
			Bulk: s.Bulk, Owner: s.Owner, KeyID: s.KeyID, Created: created, Status: MessagePending})
	}
	return msgs, placed
}
