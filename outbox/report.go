package outbox

import (
	"strconv"
	"strings"
	"time"
)

// Report is a message as the administration that sent it reads it (the
// API, and its delivery callbacks): where its delivery stands, in the
// API's words.
type Report struct {
	ID       string    `json:"id"`
	To       string    `json:"to"`
	State    string    `json:"state"` // one of ReportStates, or opted_out
	Lang     string    `json:"lang"`
	Text     string    `json:"text"`
	Created  time.Time `json:"created"`
	Sent     time.Time `json:"sent,omitzero"`
	Done     time.Time `json:"done,omitzero"` // when it reached its final state
	Operator string    `json:"operator,omitempty"`
	Reason   string    `json:"reason,omitempty"`
}

// ReportStates are the states of a Report, each with the statuses it
// covers; a message failed because its number sent STOP is opted_out.
var ReportStates = map[string][]string{
	"queued":        {MessagePending, MessageSending},
	"sent":          {MessageSent},
	"delivered":     {MessageDelivered},
	"undeliverable": {MessageUndeliverable},
	"expired":       {MessageExpired},
	"failed":        {MessageFailed},
}

// ReportOf is m as its sender reads it.
func ReportOf(m Message) Report {
	op := m.Bind
	if i := strings.LastIndexByte(op, '-'); i > 0 {
		op = op[:i] // mtn-1: mtn's first bind
	}
	state := m.Status
	switch {
	case m.Status == MessagePending || m.Status == MessageSending:
		state = "queued"
	case m.Status == MessageFailed && m.Reason == ReasonOptedOut:
		state = "opted_out"
	}
	return Report{ID: strconv.FormatInt(m.ID, 10), To: m.Phone, State: state, Lang: m.Lang, Text: m.Body,
		Created: m.Created, Sent: m.Sent, Done: m.Done, Operator: op, Reason: m.Reason}
}
