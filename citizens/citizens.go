// Package citizens is what the gateway holds about one phone number, as
// its owner may ask to see it (Record, exported as JSON) or to have it
// erased (Erasure). The store that holds the data (package postgres)
// builds the record and erases; the console and `guichet citizen` ask it.
package citizens

import "time"

// Record is everything held about a number. Times are UTC.
type Record struct {
	Phone    string     `json:"phone"`
	Exported time.Time  `json:"exported"`
	Language string     `json:"language,omitempty"`  // the language the caller chose, if they did
	OptedOut *time.Time `json:"opted_out,omitempty"` // when they sent STOP, if they did
	Cases    []Case     `json:"cases"`
	Bookings []Booking  `json:"bookings"`
	// Messages are the SMS sent or to send to the number; a body past its
	// retention reads "" (redacted).
	Messages  []Message  `json:"messages"`
	Sessions  []Session  `json:"sessions"` // USSD sessions, as the journal keeps them
	Callbacks []Callback `json:"callbacks"`
	// Campaigns are the awareness campaigns whose audience, uploaded by
	// an administration, held the number.
	Campaigns []Campaign `json:"campaigns"`
}

// Case is one of the number's applications, with what they typed.
type Case struct {
	Ref     string            `json:"ref"`
	Service string            `json:"service"`
	Status  string            `json:"status"`
	Lang    string            `json:"lang"`
	Channel string            `json:"channel"`
	Data    map[string]string `json:"data"`
	Opened  time.Time         `json:"opened"`
	Updated time.Time         `json:"updated"`
	History []Event           `json:"history"`
}

// Event is a step of a case.
type Event struct {
	Status  string    `json:"status"`
	At      time.Time `json:"at"`
	Channel string    `json:"channel"`
	Who     string    `json:"who"`
	Note    string    `json:"note"`
}

// Booking is a visit the number booked.
type Booking struct {
	Ref       string     `json:"ref"`
	Service   string     `json:"service"`
	Office    string     `json:"office"`
	Start     time.Time  `json:"start"`
	Booked    time.Time  `json:"booked"`
	Cancelled *time.Time `json:"cancelled,omitempty"`
}

// Message is an SMS to the number.
type Message struct {
	ID      int64     `json:"id"`
	Kind    string    `json:"kind"`
	Lang    string    `json:"lang"`
	Body    string    `json:"body"`
	Case    string    `json:"case,omitempty"`
	Created time.Time `json:"created"`
	Status  string    `json:"status"`
}

// Session is a USSD session of the number.
type Session struct {
	At       time.Time `json:"at"`
	Operator string    `json:"operator"`
	Service  string    `json:"service"`
	Node     string    `json:"node"`
	Result   string    `json:"result"`
	Hops     int       `json:"hops"`
}

// Callback is a request to be called back by the hotline.
type Callback struct {
	Ticket    string     `json:"ticket"`
	Reason    string     `json:"reason"`
	Requested time.Time  `json:"requested"`
	Closed    *time.Time `json:"closed,omitempty"`
}

// Campaign is an awareness campaign whose audience held the number, and
// what became of the number in it.
type Campaign struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Owner string `json:"owner"` // the administration that uploaded the audience
	// Campaign is the campaign's own state: draft, running, paused, done,
	// canceled.
	Campaign string `json:"campaign"`
	// State is the number's in it: "waiting" for its SMS, "queued" (the
	// SMS is Message, among Messages, whose status says how far it went),
	// or "skipped" (Skipped says why: "sent STOP").
	State   string `json:"state"`
	Message int64  `json:"message,omitempty"`
	Skipped string `json:"skipped,omitempty"`
}

// Erasure is what erasing a number did. The number is replaced by
// Pseudonym wherever the administration must keep a record (a case's
// existence and history, a booked place, an SMS's delivery state, a
// session in the statistics, a place in a campaign's audience, the audit
// log): nothing links it to the number any more. What the citizen typed
// is replaced, SMS bodies, callbacks and the language are deleted; a
// campaign's SMS that had not gone yet never goes. An opt-out (STOP)
// stays: it is the citizen's objection, which must go on being honoured.
type Erasure struct {
	Pseudonym string `json:"pseudonym"`
	Cases     int64  `json:"cases"`
	Bookings  int64  `json:"bookings"`
	Messages  int64  `json:"messages"`
	Sessions  int64  `json:"sessions"`
	Callbacks int64  `json:"callbacks"`
	Campaigns int64  `json:"campaigns"` // places in campaigns' audiences
	Audit     int64  `json:"audit"`
	Language  bool   `json:"language"`
	OptedOut  bool   `json:"opted_out"` // kept
}
