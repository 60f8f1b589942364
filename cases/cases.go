// Package cases is the case domain: applications to public services and
// their history, each service's life cycle, offices and their visit slots
// (never more than GatheringLimit people at once), bookings, hotline
// callback requests and citizens' opt-outs. Service runs the native
// operations that menus call (Operations) and the moves that ministries
// and the hotline make; Memory keeps it all in memory, package postgres in
// PostgreSQL. Every change writes the SMS it causes to the outbox in the
// same transaction.
package cases

import (
	"time"
)

// GatheringLimit is the most people an office may receive in one slot: no
// gathering over 50 people. An office's own capacity may be lower, never
// higher.
const GatheringLimit = 50

// StatusReceived is the status of a case that has just been opened.
const StatusReceived = "received"

// Message kinds, which are also the keys of the templates under messages:
// in a service file.
const (
	KindOpened   = "opened"   // a case was opened: {{ref}}
	KindMoved    = "moved"    // a case moved: {{ref}}, {{status}}, {{note}}
	KindBooked   = "booked"   // a visit was booked: {{ref}}, {{slot}}, {{office}}
	KindReminder = "reminder" // the visit is tomorrow: {{ref}}, {{slot}}, {{office}}
	KindCallback = "callback" // about a hotline callback
)

// Office is a public office that receives visitors by appointment.
type Office struct {
	ID   string
	Name string // as menus show it: GSM-7, at most 30 characters
	// Services are the services the office handles; none means all.
	Services []string
	// Capacity is the number of places in each slot; 0 means
	// GatheringLimit, and more than GatheringLimit is cut to it.
	Capacity int
}

// Booking is one citizen's place in an office's visit slot.
type Booking struct {
	Ref       string    // assigned by the store
	Office    string    // Office.ID
	Start     time.Time // the slot's start
	Service   string
	Phone     string // E.164
	Lang      string
	Channel   string
	Booked    time.Time
	Cancelled time.Time // zero while the booking holds
}

// Case is one application to a service, tracked by its reference.
type Case struct {
	Ref     string // assigned by the store
	Service string
	Status  string
	Phone   string // the applicant, E.164
	Lang    string
	Channel string
	Data    map[string]string // what the applicant gave; never shown to others
	Opened  time.Time
	Updated time.Time
	History []Event // oldest first
}

// Event is one step in a case's history.
type Event struct {
	Status  string
	At      time.Time
	Channel string
	Who     string // the phone or the operator who moved the case
	Note    string // what the mover told the citizen, if anything
}

// Move is a step that an administration (or the hotline) takes a case to.
type Move struct {
	Status  string // the status the case goes to
	Note    string // told to the citizen in the "moved" SMS as {{note}}
	Who     string // the operator or the system that moves it
	Channel string // "api", "hotline"
	At      time.Time
}

// CaseFilter selects cases for Cases. Its zero value selects every case.
type CaseFilter struct {
	Services []string // any of them; none means every service
	Status   string
	Phone    string
	// After is a cursor: the last ref of the previous page; the page holds
	// the cases whose ref comes after it.
	After string
	Limit int // at most this many: see guichet.PageSize
}

// Callback is a request to be called back by the hotline.
type Callback struct {
	Ticket    string // assigned by the store: digits, at most 6
	Phone     string
	Reason    string
	Lang      string
	Channel   string
	Requested time.Time
	// TakenBy is the hotline operator who took the request, at Taken;
	// ClosedBy closed it, at Closed. Each is zero until then.
	TakenBy  string
	Taken    time.Time
	ClosedBy string
	Closed   time.Time
}

// Cameroon is the time zone of Cameroon (WAT, UTC+1, no daylight saving),
// Service's default: a fixed zone, so that no tzdata is needed.
var Cameroon = time.FixedZone("WAT", 60*60)
