package adapters

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/reference"
)

// GatheringLimit is the most people an office may receive in one slot: no
// gathering over 50 people. An office's own capacity may be lower, never
// higher.
const GatheringLimit = 50

// StatusReceived is the status of a case that has just been opened.
const StatusReceived = "received"

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
	Limit int // at most this many: see PageSize
}

// Pages of Cases.
const (
	DefaultPage = 50
	MaxPage     = 500
)

// PageSize returns the size of a page that asks for limit: DefaultPage
// for 0 (or less), at most MaxPage.
func PageSize(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPage
	case limit > MaxPage:
		return MaxPage
	}
	return limit
}

// Message is an SMS to a citizen, written to the outbox in the same
// transaction as the change that causes it.
type Message struct {
	ID      int64 // assigned by the store
	Phone   string
	Lang    string
	Body    string
	Kind    string // "opened", "moved", "booked", "reminder", "callback"
	CaseRef string // the case or booking it is about
	// Transliterate asks for the text to be spelt in GSM-7 (ê → e) to keep
	// 160 characters a part: its template says so.
	Transliterate bool
	Created       time.Time
	// Status is where its delivery stands: one of the Message* statuses.
	Status   string
	Attempts int    // how many times a sender claimed it
	Reason   string // why it failed, or what the sender said
	// Bind and SMSCID say where a sent message went: the bind's name and
	// the message id that the SMSC answered, as it wrote it. Sent is when.
	Bind   string
	SMSCID string
	Sent   time.Time
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

// Store is the storage Native runs on: in memory (Memory) or in PostgreSQL
// (package postgres). Every method honours ctx. Domain failures are
// *guichet.Error values (or wrap one), with the codes and messages given
// below; the contract suite in adapterstest holds every implementation to
// them.
//
// The notify functions that OpenCase, MoveCase, Book and Remind take return
// the SMS that a change causes: the store writes them to the outbox in the
// same transaction as the change, so that a change is never lost without
// its SMS nor an SMS sent for a change that did not happen. They are called
// once the change's reference is known, and may be nil (no message). If one
// panics, nothing is written and the panic goes on.
type Store interface {
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
	Book(ctx context.Context, b Booking, capacity int, now time.Time, notify func(Booking) []Message) (Booking, error)
	// Cancel cancels the booking ref of phone at now, freeing its place:
	// ENOTFOUND if phone has no booking ref, ECONFLICT if it is already
	// cancelled or its slot has started.
	Cancel(ctx context.Context, ref, phone string, now time.Time) (Booking, error)
	// Remind writes notify's messages for each live booking whose slot
	// starts in [from, to) and that was not reminded yet, and marks it
	// reminded: once each, even when two processes remind at once. It
	// returns how many bookings it reminded.
	Remind(ctx context.Context, from, to time.Time, notify func(Booking) []Message) (int, error)
	// OpenCase records c, with notify's messages, and returns it with its
	// reference.
	OpenCase(ctx context.Context, c Case, notify func(Case) []Message) (Case, error)
	// MoveCase takes the case ref to m.Status: it locks the case, calls
	// check with it as it stands (check's error aborts the move, with
	// nothing written, and is returned as it is), appends the event, sets
	// the status and, if the status changes, Updated to m.At (an event
	// that keeps the status, a note, leaves Updated: citizens read "since
	// Updated"), and writes notify's messages, all at once. ENOTFOUND if
	// there is no case ref. check may be nil.
	MoveCase(ctx context.Context, ref string, m Move, check func(Case) error, notify func(Case) []Message) (Case, error)
	// Case returns the case ref; ENOTFOUND if there is none.
	Case(ctx context.Context, ref string) (Case, error)
	// Cases returns the cases that f selects, by ref, with their history:
	// those after f.After, at most PageSize(f.Limit).
	Cases(ctx context.Context, f CaseFilter) ([]Case, error)
	// RequestCallback records cb, or returns the open request of cb.Phone
	// if there is one, so that a caller who asks twice keeps one ticket.
	RequestCallback(ctx context.Context, cb Callback) (Callback, error)
	// Once makes do idempotent under op and key: the first success is
	// remembered and returned to every later call with the same op and key
	// without running do again; failures are not remembered. Calls with the
	// same op and key run one at a time, so that a retry arriving while the
	// first call runs waits for its result. A store may run do inside the
	// transaction that records its result, so that what do writes and the
	// result commit together (the PostgreSQL store does).
	Once(ctx context.Context, op, key string, do func(context.Context) (Result, error)) (Result, error)

	// ClaimMessages hands a sender up to limit messages to send, oldest
	// first: pending ones, and those whose sender's lease ended before now
	// (a sender that crashed). They become MessageSending until now+lease
	// and their Attempts grow by one. Two senders never get the same
	// message while its lease holds, even from two processes.
	ClaimMessages(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]Message, error)
	// MarkMessage records what became of a claimed message: MessageSent,
	// MessageFailed, MessageLogged, or MessagePending to try it again.
	// ENOTFOUND if there is no message id, EINVALID for another status.
	MarkMessage(ctx context.Context, id int64, status, reason string) error
	// Messages returns the latest messages to phone, newest first, at most
	// limit (0: DefaultPage, cut to MaxPage).
	Messages(ctx context.Context, phone string, limit int) ([]Message, error)
}

// Catalogue tells Native what the service files say: labels for people,
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

// Schedule is when offices receive visitors: hourly slots on working days
// (Monday to Friday).
type Schedule struct {
	Days  int // working days offered, counting only days with a slot still ahead (5)
	Open  int // hour the first slot starts (8)
	Close int // hour the last slot ends (15): slots start at Open…Close-1
}

// DefaultSchedule is used when Native's Schedule is zero.
var DefaultSchedule = Schedule{Days: 5, Open: 8, Close: 15}

// Cameroon is the time zone of Cameroon (WAT, UTC+1, no daylight saving),
// Native's default: a fixed zone, so that no tzdata is needed.
var Cameroon = time.FixedZone("WAT", 60*60)

// Native serves the operations listed in Operations from a Store.
type Native struct {
	Store Store
	// Catalogue says what the service files say. nil: statuses and
	// services show their codes, no SMS is written and no case can move.
	Catalogue Catalogue
	Now       func() time.Time // nil: time.Now
	Location  *time.Location   // where slots and dates are told; nil: Cameroon
	Schedule  Schedule         // zero: DefaultSchedule
}

// handlers serves each operation of Operations; TestOperationsServed keeps
// the two lists together.
var handlers = map[string]func(n *Native, ctx context.Context, c Call) (Result, error){
	"offices.list":     (*Native).listOffices,
	"slots.list":       (*Native).listSlots,
	"slots.book":       (*Native).bookSlot,
	"slots.cancel":     (*Native).cancelBooking,
	"cases.open":       (*Native).openCase,
	"cases.track":      (*Native).trackCase,
	"callback.request": (*Native).requestCallback,
}

// errTimeout is what a caller sees when the store does not answer in time.
var errTimeout = &guichet.Error{Code: guichet.EUNAVAILABLE, Message: "the case store did not answer in time"}

// Do runs the operation c.Op. With c.Key set, a repeated call with the same
// Op and Key returns the first successful result without running it again.
func (n *Native) Do(ctx context.Context, c Call) (Result, error) {
	h, ok := handlers[c.Op]
	if !ok {
		return Result{}, guichet.Errorf(guichet.EINVALID, "unknown operation")
	}
	var (
		r   Result
		err error
	)
	if c.Key == "" {
		r, err = h(n, ctx, c)
	} else {
		r, err = n.Store.Once(ctx, c.Op, c.Key, func(ctx context.Context) (Result, error) {
			return h(n, ctx, c)
		})
	}
	if err != nil {
		if guichet.ErrorCode(err) == guichet.EINTERNAL &&
			(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			err = fmt.Errorf("%w: %w", errTimeout, err)
		}
		return Result{}, fmt.Errorf("%s: %w", c.Op, err)
	}
	return r, nil
}

func (n *Native) listOffices(ctx context.Context, c Call) (Result, error) {
	offices, err := n.Store.Offices(ctx, c.Args["service"])
	if err != nil {
		return Result{}, fmt.Errorf("listing offices: %w", err)
	}
	opts := make([]Option, 0, len(offices))
	for _, o := range offices {
		opts = append(opts, Option{ID: o.ID, Label: clip(o.Name, 30)})
	}
	return Result{Options: opts}, nil
}

func (n *Native) listSlots(ctx context.Context, c Call) (Result, error) {
	office, err := n.office(ctx, c.Args["office"])
	if err != nil {
		return Result{}, err
	}
	starts := n.slots(n.now())
	if len(starts) == 0 {
		return Result{}, nil
	}
	taken, err := n.Store.Taken(ctx, office.ID, starts[0], starts[len(starts)-1].Add(time.Hour))
	if err != nil {
		return Result{}, fmt.Errorf("counting bookings: %w", err)
	}
	places, lang := capacity(office), language(c.Lang)
	opts := make([]Option, 0, len(starts))
	for _, s := range starts {
		left := places - taken[s.Unix()]
		if left <= 0 {
			continue
		}
		opts = append(opts, Option{
			ID:    s.Format(slotLayout),
			Label: fmt.Sprintf("%s (%d)", slotLabel(s, lang), left),
		})
	}
	return Result{Options: opts}, nil
}

func (n *Native) bookSlot(ctx context.Context, c Call) (Result, error) {
	if c.Phone == "" {
		return Result{}, guichet.Errorf(guichet.EINVALID, "no phone number")
	}
	office, err := n.office(ctx, c.Args["office"])
	if err != nil {
		return Result{}, err
	}
	now := n.now()
	start, err := n.slot(c.Args["slot"], now)
	if err != nil {
		return Result{}, err
	}
	lang := language(c.Lang)
	vars := func(b Booking) map[string]string {
		return map[string]string{
			"ref":    b.Ref,
			"slot":   slotLabel(start, lang),
			"office": clip(office.Name, 30),
		}
	}
	b, err := n.Store.Book(ctx, Booking{
		Office:  office.ID,
		Start:   start,
		Service: c.Service,
		Phone:   c.Phone,
		Lang:    c.Lang,
		Channel: c.Channel,
		Booked:  now,
	}, capacity(office), now, func(b Booking) []Message {
		return n.message(b.Service, KindBooked, b.Lang, b.Phone, b.Ref, now, vars(b))
	})
	if err != nil {
		return Result{}, fmt.Errorf("booking: %w", err)
	}
	return Result{Vars: vars(b)}, nil
}

func (n *Native) cancelBooking(ctx context.Context, c Call) (Result, error) {
	ref := strings.TrimSpace(c.Args["ref"])
	if !reference.Valid(ref) {
		return Result{}, guichet.Errorf(guichet.EINVALID, "invalid reference")
	}
	if c.Phone == "" {
		return Result{}, guichet.Errorf(guichet.EINVALID, "no phone number")
	}
	b, err := n.Store.Cancel(ctx, ref, c.Phone, n.now())
	if err != nil {
		return Result{}, fmt.Errorf("cancelling: %w", err)
	}
	return Result{Vars: map[string]string{"ref": b.Ref}}, nil
}

func (n *Native) openCase(ctx context.Context, c Call) (Result, error) {
	if c.Service == "" {
		return Result{}, guichet.Errorf(guichet.EINVALID, "no service")
	}
	if c.Phone == "" {
		return Result{}, guichet.Errorf(guichet.EINVALID, "no phone number")
	}
	now := n.now()
	data := maps.Clone(c.Args)
	if data == nil {
		data = map[string]string{}
	}
	cs, err := n.Store.OpenCase(ctx, Case{
		Service: c.Service,
		Status:  StatusReceived,
		Phone:   c.Phone,
		Lang:    c.Lang,
		Channel: c.Channel,
		Data:    data,
		Opened:  now,
		Updated: now,
		History: []Event{{Status: StatusReceived, At: now, Channel: c.Channel, Who: cmp.Or(c.Who, c.Phone)}},
	}, func(c Case) []Message {
		return n.message(c.Service, KindOpened, c.Lang, c.Phone, c.Ref, now, map[string]string{"ref": c.Ref})
	})
	if err != nil {
		return Result{}, fmt.Errorf("opening a case: %w", err)
	}
	return Result{Vars: map[string]string{"ref": cs.Ref}}, nil
}

// trackCase tells where a case stands. Anyone who holds a reference may track
// it, so the result carries the status only, never the applicant's data.
func (n *Native) trackCase(ctx context.Context, c Call) (Result, error) {
	ref := strings.TrimSpace(c.Args["ref"])
	if !reference.Valid(ref) {
		return Result{}, guichet.Errorf(guichet.EINVALID, "invalid reference")
	}
	cs, err := n.Store.Case(ctx, ref)
	if err != nil {
		return Result{}, fmt.Errorf("finding case: %w", err)
	}
	if s := c.Args["service"]; s != "" && s != cs.Service {
		return Result{}, guichet.Errorf(guichet.ENOTFOUND, "case not found")
	}
	lang, cat := language(c.Lang), n.catalogue()
	return Result{Vars: map[string]string{
		"ref":     cs.Ref,
		"status":  clip(or(cat.StatusLabel(cs.Service, cs.Status, lang), cs.Status), 30),
		"service": clip(or(cat.ServiceTitle(cs.Service, lang), cs.Service), 30),
		"updated": cs.Updated.In(n.location()).Format("02/01/2006"),
	}}, nil
}

func (n *Native) requestCallback(ctx context.Context, c Call) (Result, error) {
	if c.Phone == "" {
		return Result{}, guichet.Errorf(guichet.EINVALID, "no phone number")
	}
	cb, err := n.Store.RequestCallback(ctx, Callback{
		Phone:     c.Phone,
		Reason:    c.Args["reason"],
		Lang:      c.Lang,
		Channel:   c.Channel,
		Requested: n.now(),
	})
	if err != nil {
		return Result{}, fmt.Errorf("requesting a callback: %w", err)
	}
	return Result{Vars: map[string]string{"ticket": cb.Ticket}}, nil
}

// office returns the office named by a call's argument.
func (n *Native) office(ctx context.Context, id string) (Office, error) {
	if id == "" {
		return Office{}, guichet.Errorf(guichet.EINVALID, "no office")
	}
	o, err := n.Store.Office(ctx, id)
	if err != nil {
		return Office{}, fmt.Errorf("finding office: %w", err)
	}
	return o, nil
}

// slotLayout is a slot's ID: its local start, to the minute.
const slotLayout = "200601021504"

// slots returns the starts of the slots open for booking at now: those
// after now on the schedule's next working days that still have one.
func (n *Native) slots(now time.Time) []time.Time {
	s, loc := n.schedule(), n.location()
	if s.Days <= 0 || s.Open < 0 || s.Close > 24 || s.Open >= s.Close {
		return nil // no slot would ever be found
	}
	now = now.In(loc)
	var starts []time.Time
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	for days := 0; days < s.Days; day = day.AddDate(0, 0, 1) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		found := false
		for h := s.Open; h < s.Close; h++ {
			if t := time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, loc); t.After(now) {
				starts = append(starts, t)
				found = true
			}
		}
		if found {
			days++
		}
	}
	return starts
}

// slot returns the start of the slot with the given ID, if it is open for
// booking at now.
func (n *Native) slot(id string, now time.Time) (time.Time, error) {
	if id == "" {
		return time.Time{}, guichet.Errorf(guichet.EINVALID, "no slot")
	}
	start, err := time.ParseInLocation(slotLayout, id, n.location())
	if err != nil {
		return time.Time{}, guichet.Errorf(guichet.EINVALID, "unknown slot")
	}
	if !start.After(now) {
		return time.Time{}, guichet.Errorf(guichet.EINVALID, "slot is past")
	}
	for _, s := range n.slots(now) {
		if s.Equal(start) {
			return start, nil
		}
	}
	return time.Time{}, guichet.Errorf(guichet.EINVALID, "unknown slot")
}

func (n *Native) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

func (n *Native) location() *time.Location {
	if n.Location != nil {
		return n.Location
	}
	return Cameroon
}

func (n *Native) schedule() Schedule {
	if n.Schedule == (Schedule{}) {
		return DefaultSchedule
	}
	return n.Schedule
}

// capacity is the number of places in each of an office's slots.
func capacity(o Office) int {
	if o.Capacity <= 0 || o.Capacity > GatheringLimit {
		return GatheringLimit
	}
	return o.Capacity
}

var weekdays = map[string][7]string{
	"fr": {"Dim", "Lun", "Mar", "Mer", "Jeu", "Ven", "Sam"},
	"en": {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
}

// slotLabel tells a slot's start: "Lun 30/11 08h00", "Mon 30/11 08:00".
func slotLabel(t time.Time, lang string) string {
	sep := "h"
	if lang == "en" {
		sep = ":"
	}
	return fmt.Sprintf("%s %02d/%02d %02d%s%02d",
		weekdays[lang][t.Weekday()], t.Day(), int(t.Month()), t.Hour(), sep, t.Minute())
}

// language returns lang if labels exist in it, French otherwise.
func language(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "fr"
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
