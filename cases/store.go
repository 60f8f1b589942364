package cases

import (
	"context"
	"time"

	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
)

// What a Service needs of its storage, by aggregate. Memory and
// postgres.Cases implement all of them; the contract suite in casestest
// holds every implementation to them. Every method honours ctx. Domain
// failures are *guichet.Error values (or wrap one), with the codes and
// messages given below.
//
// The notify functions that OpenCase, MoveCase, Book and Remind take return
// the SMS that a change causes: the store writes them to the outbox in the
// same transaction as the change, so that a change is never lost without
// its SMS nor an SMS sent for a change that did not happen. They are called
// once the change's reference is known, and may be nil (no message). If one
// panics, nothing is written and the panic goes on.

// CaseStore keeps cases and their history.
type CaseStore interface {
	// OpenCase records c, with notify's messages, and returns it with its
	// reference.
	OpenCase(ctx context.Context, c Case, notify func(Case) []outbox.Message) (Case, error)
	// MoveCase takes the case ref to m.Status: it locks the case, calls
	// check with it as it stands (check's error aborts the move, with
	// nothing written, and is returned as it is), appends the event, sets
	// the status and, if the status changes, Updated to m.At (an event
	// that keeps the status, a note, leaves Updated: citizens read "since
	// Updated"), and writes notify's messages, all at once. ENOTFOUND if
	// there is no case ref. check may be nil.
	MoveCase(ctx context.Context, ref string, m Move, check func(Case) error, notify func(Case) []outbox.Message) (Case, error)
	// Case returns the case ref; ENOTFOUND if there is none.
	Case(ctx context.Context, ref string) (Case, error)
	// Cases returns the cases that f selects, by ref, with their history:
	// those after f.After, at most guichet.PageSize(f.Limit).
	Cases(ctx context.Context, f CaseFilter) ([]Case, error)
}

// VisitStore keeps offices and the bookings of their slots.
type VisitStore interface {
	// Offices returns the offices that handle service ("" for all), by
	// name.
	Offices(ctx context.Context, service string) ([]Office, error)
	// Office returns one office; ENOTFOUND if there is none with that ID.
	Office(ctx context.Context, id string) (Office, error)
	// Taken counts the live (not cancelled) bookings of an office's slots
	// starting in [from, to), by slot start in Unix seconds.
	Taken(ctx context.Context, office string, from, to time.Time) (map[int64]int, error)
	// Book records b and notify's messages atomically and returns b with
	// its reference. It fails with ECONFLICT "already booked" if b.Phone
	// holds a live booking for b.Service whose slot starts after now, and
	// with ECONFLICT "slot full" if the slot already has capacity live
	// bookings (capacity is cut to GatheringLimit).
	Book(ctx context.Context, b Booking, capacity int, now time.Time, notify func(Booking) []outbox.Message) (Booking, error)
	// Cancel cancels the booking ref of phone at now, freeing its place:
	// ENOTFOUND if phone has no booking ref, ECONFLICT if it is already
	// cancelled or its slot has started.
	Cancel(ctx context.Context, ref, phone string, now time.Time) (Booking, error)
	// Remind writes notify's messages for each live booking whose slot
	// starts in [from, to) and that was not reminded yet, and marks it
	// reminded: once each, even when two processes remind at once. It
	// returns how many bookings it reminded.
	Remind(ctx context.Context, from, to time.Time, notify func(Booking) []outbox.Message) (int, error)
}

// CallbackStore records requests to be called back by the hotline.
type CallbackStore interface {
	// RequestCallback records cb, or returns the open request of cb.Phone
	// if there is one, so that a caller who asks twice keeps one ticket.
	RequestCallback(ctx context.Context, cb Callback) (Callback, error)
}

// Store is where a Service keeps its records. One value is usually all
// three (Memory, postgres.Cases); inside DB.Once, all three are bound to
// the transaction that records the operation's result.
type Store struct {
	Cases     CaseStore
	Visits    VisitStore
	Callbacks CallbackStore
}

// DB gives a Service its Store, and runs idempotent operations.
type DB interface {
	// Store returns the store, outside any transaction.
	Store() Store
	// Once makes do idempotent under op and key: the first success is
	// remembered and returned to every later call with the same op and key
	// without running do again; failures are not remembered. Calls with the
	// same op and key run one at a time, so that a retry arriving while the
	// first call runs waits for its result. do is given the store to write
	// with: in PostgreSQL, bound to the transaction that records its result,
	// so that what do writes and the result commit together.
	Once(ctx context.Context, op, key string, do func(ctx context.Context, tx Store) (menus.Result, error)) (menus.Result, error)
}

// Catalogue tells a Service what the service files say: labels for people,
// who owns a service's cases, its life cycle and its messages. The menus
// package's Catalogue implements it.
type Catalogue interface {
	// StatusLabel and ServiceTitle name a status and a service in lang.
	StatusLabel(service, status, lang string) string
	ServiceTitle(service, lang string) string
	// Owner is the administration that moves a service's cases.
	Owner(service string) string
	// CanMove reports whether the service's life cycle allows the move.
	CanMove(service, from, to string) bool
	// Template returns a message template ("opened", "moved", "booked",
	// "reminder") in lang, with {{var}} placeholders.
	Template(service, key, lang string) (string, bool)
	Transliterated(service, key string) bool
	// HasStatus reports whether status is in the service's life cycle.
	HasStatus(service, status string) bool
	// ServiceIDs lists every service, so that an owner's can be found.
	ServiceIDs() []string
}

// notifyOf returns notify's messages about v, none if notify is nil.
func notifyOf[T any](notify func(T) []outbox.Message, v T) []outbox.Message {
	if notify == nil {
		return nil
	}
	return notify(v)
}
