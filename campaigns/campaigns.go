// Package campaigns runs awareness campaigns by SMS: a name, a text in
// French and English, an audience (numbers from a CSV file, or the
// citizens of a service, or those whose cases of a service are in a
// status), a sending window in the country's time (never at night) and an
// optional rate; started, paused, resumed or cancelled by a supervisor or
// through the API. Each number gets the campaign once, in its language,
// unless it sent STOP. The messages are bulk: a case's notification always
// leaves first.
package campaigns

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/sms"
)

// States of a campaign.
const (
	Draft    = "draft"    // made, not started: its audience may still change
	Running  = "running"  // its messages are being queued, within its window
	Paused   = "paused"   // queues nothing until resumed
	Done     = "done"     // every number had its message (or was skipped)
	Canceled = "canceled" // stopped for good: the numbers left get nothing
)

// Action is what a supervisor or an administration may do to a campaign:
// the states it acts from, the state it leads to.
type Action struct {
	From []string
	To   string
}

// Actions are the campaign's actions by name, the same in the console and
// the API.
var Actions = map[string]Action{
	"start":  {[]string{Draft}, Running},
	"pause":  {[]string{Running}, Paused},
	"resume": {[]string{Paused}, Running},
	"cancel": {[]string{Draft, Running, Paused}, Canceled},
}

// Campaign is an awareness campaign.
type Campaign struct {
	ID    int64
	Owner string // the administration it speaks for ("" from the console)
	Name  string
	Text  map[string]string // "fr", "en"
	// From and To bound the sending window, in minutes after midnight in
	// Cameroon (08:00–20:00 by default): outside it nothing is queued.
	From, To int
	Rate     float64 // messages a second it queues at most; 0: as fast as the operators take them
	// Rates bounds, per operator (mtn, orange…), the messages a second it
	// queues for that operator's numbers (the Runner's Routes tell them).
	Rates map[string]float64
	State string
	// Paused, when the gateway paused it, says why (its API key's day is
	// spent); "" when a person did, and once it moves again.
	Paused string
	// Key is the API key that made it: its messages count against that
	// key's messages of the day, as the key's sends do. "" from the
	// console: a supervisor's campaign is charged to no key.
	Key      string
	By       string // who made it
	Created  time.Time
	Started  time.Time
	Finished time.Time
}

// Defaults and bounds.
const (
	DefaultFrom = 8 * 60
	DefaultTo   = 20 * 60
	MaxParts    = 6
	MaxAudience = 500_000
)

// Check refuses a campaign that cannot run: no name, no text, a text over
// MaxParts SMS parts, a window that is empty or reaches into the night
// (before 06:00 or after 21:00), a negative rate.
func (c Campaign) Check() error {
	switch {
	case strings.TrimSpace(c.Name) == "" || utf8.RuneCountInString(c.Name) > 100:
		return guichet.Errorf(guichet.EINVALID, "name: give one, up to 100 characters")
	case len(c.Text) == 0:
		return guichet.Errorf(guichet.EINVALID, "text: give it in French, English or both")
	case c.From < 6*60 || c.To > 21*60 || c.From >= c.To:
		return guichet.Errorf(guichet.EINVALID, "window: from %s to %s; it must lie within 06:00–21:00 (never at night)", clock(c.From), clock(c.To))
	case c.Rate < 0:
		return guichet.Errorf(guichet.EINVALID, "rate: must not be negative")
	}
	for op, r := range c.Rates {
		if op == "" || r <= 0 {
			return guichet.Errorf(guichet.EINVALID, "rates: %q: %v; an operator and a positive number of messages a second", op, r)
		}
	}
	for lang, t := range c.Text {
		if lang != "fr" && lang != "en" {
			return guichet.Errorf(guichet.EINVALID, "text: language %q, fr or en", lang)
		}
		if strings.TrimSpace(t) == "" || !utf8.ValidString(t) {
			return guichet.Errorf(guichet.EINVALID, "text.%s: empty or not UTF-8", lang)
		}
		if _, err := sms.Encode(t, sms.Options{MaxParts: MaxParts}); err != nil {
			return guichet.Errorf(guichet.EINVALID, "text.%s: %s", lang, guichet.ErrorMessage(err))
		}
	}
	return nil
}

func clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// Open reports whether at is within the campaign's window, in Cameroon's
// time.
func (c Campaign) Open(at time.Time) bool {
	local := at.In(cases.Cameroon)
	m := local.Hour()*60 + local.Minute()
	return m >= c.From && m < c.To
}

// TextFor is the campaign's text in lang, or in the other language when it
// has only one.
func (c Campaign) TextFor(lang string) (string, string) { return menus.Text(c.Text).In(lang) }

// LineError is a line of an audience file that is not a number.
type LineError struct {
	Line   int    `json:"line"`
	Text   string `json:"text"`
	Reason string `json:"reason"`
}

// ReadNumbers reads an audience file: CSV (or one number a line), the
// number in the first column, a header line allowed. It returns the
// numbers in E.164, once each in the order first seen, and the lines that
// were not numbers, with their line numbers. More than MaxAudience
// numbers is an error.
func ReadNumbers(r io.Reader, region string) ([]string, []LineError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	var (
		out  []string
		bad  []LineError
		seen = map[string]bool{}
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, LineError{Line: pe.StartLine, Reason: "not CSV: " + pe.Err.Error()})
				continue
			}
			return nil, nil, fmt.Errorf("campaigns: reading the numbers: %w", err)
		}
		if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" {
			continue
		}
		line, _ := cr.FieldPos(0)
		raw := strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff"))
		p, err := phone.Normalize(raw, region)
		if err != nil {
			if line == 1 && !strings.ContainsAny(raw, "0123456789") {
				continue // a header
			}
			if len(raw) > 40 {
				raw = raw[:40] + "…"
			}
			bad = append(bad, LineError{Line: line, Text: raw, Reason: guichet.ErrorMessage(err)})
			continue
		}
		if seen[p] {
			continue // each number once a campaign
		}
		seen[p] = true
		out = append(out, p)
		if len(out) > MaxAudience {
			return nil, nil, guichet.Errorf(guichet.EINVALID, "over %d numbers in one campaign", MaxAudience)
		}
	}
	return out, bad, nil
}

// CaseLister pages through cases (cases.Service.Cases).
type CaseLister interface {
	Cases(ctx context.Context, f cases.CaseFilter, owner string) ([]cases.Case, error)
}

// FromCases is the audience of the citizens who have a case of service (in
// status, if given), seen by owner ("" sees every service's): each number
// once, in the order of the cases' references.
func FromCases(ctx context.Context, l CaseLister, service, status, owner string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	f := cases.CaseFilter{Services: []string{service}, Status: status, Limit: 500}
	for {
		page, err := l.Cases(ctx, f, owner)
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			if !seen[c.Phone] {
				seen[c.Phone] = true
				out = append(out, c.Phone)
			}
		}
		if len(out) > MaxAudience {
			return nil, guichet.Errorf(guichet.EINVALID, "over %d numbers in one campaign", MaxAudience)
		}
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].Ref
	}
	if len(out) == 0 {
		what := service
		if status != "" {
			what += " in " + status
		}
		return nil, guichet.Errorf(guichet.EINVALID, "audience: no citizen has a case of %s", what)
	}
	return out, nil
}

// Progress is where a campaign stands, per operator.
type Progress struct {
	Audience int            // numbers in it
	Waiting  int            // not queued yet
	Skipped  int            // sent STOP (a number erased since is in Audience only)
	Counts   map[string]Row // by operator ("" for messages not sent yet)
}

// Row counts a campaign's messages on one operator.
type Row struct{ Queued, Sent, Delivered, Failed int }

// Store keeps campaigns and their audiences.
type Store interface {
	CreateCampaign(ctx context.Context, c Campaign, numbers []string) (Campaign, error)
	Campaign(ctx context.Context, id int64) (Campaign, error)
	Campaigns(ctx context.Context, owner string) ([]Campaign, error)
	// SetState moves a campaign from one of states to state: ECONFLICT if
	// it is in none of them. Its Paused reason goes.
	SetState(ctx context.Context, id int64, from []string, state string, at time.Time) (Campaign, error)
	// PauseFor pauses the running campaign id, saying why (Paused):
	// ECONFLICT if it is not running.
	PauseFor(ctx context.Context, id int64, reason string, at time.Time) (Campaign, error)
	Progress(ctx context.Context, id int64) (Progress, error)
	// QueueNext settles up to n numbers of the running campaign id that
	// wait: first those held back earlier for an operator of held (at most
	// held[op] of each, in their order), then the others in their order, a
	// page at a time. compose says what becomes of each; the messages go
	// to the outbox and the numbers are marked, at once. A number Later
	// for an operator is held for it: the next pages and steps go on
	// without it, so an operator whose rate is spent does not hold back
	// the others' numbers. A number Later for none ends the step (its
	// share is full), as does having looked at MaxScan numbers. It
	// returns how many numbers still wait.
	QueueNext(ctx context.Context, id int64, n int, held map[string]int, compose Compose) (left int, err error)
}

// MaxScan bounds the numbers QueueNext looks at in a step: a long run of
// one spent operator's numbers is set aside over a few steps, not one.
const MaxScan = 10_000

// Page is how many waiting numbers QueueNext asks compose about at once
// (or n, if more).
const Page = 500

// Compose makes the message of each number, or says why it gets none.
type Compose func(ctx context.Context, phones []string) ([]Queued, error)

// Queued is what becomes of one number: its message's text and language,
// or the reason it is skipped, or Later: it waits for a next step, held
// for Operator when that operator's rate is spent for now ("": the step's
// share is full).
type Queued struct {
	Phone, Lang, Body string
	Skip              string
	Later             bool
	Operator          string
}

// Erased is why a number that waited is skipped once its owner had it
// erased: its place in the audience stays under a pseudonym, so that the
// campaign's Audience still counts what was uploaded, and its SMS never
// goes.
const Erased = "erased"

// Kind is the outbox kind of a campaign's messages.
const Kind = "campaign"

// Count adds n messages of status on bind to counts, by operator (the
// bind's name without its index: mtn-1 is mtn's).
func Count(counts map[string]Row, bind, status string, n int) {
	op := bind
	if i := strings.LastIndexByte(op, '-'); i > 0 {
		op = op[:i]
	}
	r := counts[op]
	switch status {
	case "pending", "sending":
		r.Queued += n
	case "sent":
		r.Sent += n
	case "delivered":
		r.Delivered += n
	default:
		r.Failed += n
	}
	counts[op] = r
}
