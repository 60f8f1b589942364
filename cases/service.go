package cases

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
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/reference"
)

// Operations is the catalogue of native operations, for the menu validator.
// Every name here is served by Service.Do; TestOperationsServed holds them
// together.
var Operations = []menus.Operation{
	{Name: "offices.list", List: true, LabelMax: 30},
	{Name: "slots.list", List: true, LabelMax: 24},
	{Name: "slots.book", Outputs: map[string]int{"ref": 12, "slot": 24, "office": 30}},
	{Name: "slots.cancel", Outputs: map[string]int{"ref": 12}},
	{Name: "cases.open", Outputs: map[string]int{"ref": 12}},
	{Name: "cases.track", Outputs: map[string]int{"ref": 12, "status": 30, "service": 30, "updated": 10}},
	{Name: "callback.request", Outputs: map[string]int{"ticket": 6}},
}

// Schedule is when offices receive visitors: hourly slots on working days
// (Monday to Friday).
type Schedule struct {
	Days  int // working days offered, counting only days with a slot still ahead (5)
	Open  int // hour the first slot starts (8)
	Close int // hour the last slot ends (15): slots start at Open…Close-1
}

// DefaultSchedule is used when Service's Schedule is zero.
var DefaultSchedule = Schedule{Days: 5, Open: 8, Close: 15}

// Service serves the operations listed in Operations, and the moves of
// ministries and the hotline, from a DB.
type Service struct {
	DB DB
	// Catalogue says what the service files say. nil: statuses and
	// services show their codes, no SMS is written and no case can move.
	Catalogue Catalogue
	Now       func() time.Time // nil: time.Now
	Location  *time.Location   // where slots and dates are told; nil: Cameroon
	Schedule  Schedule         // zero: DefaultSchedule
	// Limits bound what one number opens, books and asks each hour, across
	// the fleet, counted by Counter; nil Counter: no limits.
	Limits  Limits
	Counter Counter
}

// Counter counts what one number does in a window of time, across the
// fleet: flood.Counter is one.
type Counter interface {
	Add(ctx context.Context, key string, per time.Duration) (int, error)
}

// Limits are how many cases, bookings and callback requests one number may
// make an hour (0: the default of DefaultLimits; negative: no limit). A
// hotline operator acting for a caller is not limited: signed in and
// audited, they may open what a citizen needs.
type Limits struct {
	Cases, Bookings, Callbacks int
}

// DefaultLimits are Limits' defaults: more than a citizen needs in an
// hour, far fewer than a script sends.
var DefaultLimits = Limits{Cases: 5, Bookings: 5, Callbacks: 3}

// limited are the operations a number may do only so often, and where
// each one's limit is.
var limited = map[string]func(Limits) int{
	"cases.open":       func(l Limits) int { return cmp.Or(l.Cases, DefaultLimits.Cases) },
	"slots.book":       func(l Limits) int { return cmp.Or(l.Bookings, DefaultLimits.Bookings) },
	"callback.request": func(l Limits) int { return cmp.Or(l.Callbacks, DefaultLimits.Callbacks) },
}

// allow counts c against its number's limit for the hour, if its
// operation has one, and refuses it (ELIMITED) once over.
func (s *Service) allow(ctx context.Context, c menus.Call) error {
	limit, ok := limited[c.Op]
	if !ok || s.Counter == nil || c.Who != "" || c.Phone == "" {
		return nil
	}
	most := limit(s.Limits)
	if most < 0 {
		return nil
	}
	n, err := s.Counter.Add(ctx, c.Op+":"+c.Phone, time.Hour)
	if err != nil {
		return guichet.Errorf(guichet.EUNAVAILABLE, "counting a number's requests: %v", err)
	}
	if n > most {
		return guichet.Errorf(guichet.ELIMITED, "this number made %d such requests this hour, over its %d", n, most)
	}
	return nil
}

// handlers serves each operation of Operations; TestOperationsServed keeps
// the two lists together.
var handlers = map[string]func(s *Service, ctx context.Context, st Store, c menus.Call) (menus.Result, error){
	"offices.list":     (*Service).listOffices,
	"slots.list":       (*Service).listSlots,
	"slots.book":       (*Service).bookSlot,
	"slots.cancel":     (*Service).cancelBooking,
	"cases.open":       (*Service).openCase,
	"cases.track":      (*Service).trackCase,
	"callback.request": (*Service).requestCallback,
}

// errTimeout is what a caller sees when the store does not answer in time.
var errTimeout = &guichet.Error{Code: guichet.EUNAVAILABLE, Message: "the case store did not answer in time"}

// Do runs the operation c.Op. With c.Key set, a repeated call with the same
// Op and Key returns the first successful result without running it again.
func (s *Service) Do(ctx context.Context, c menus.Call) (menus.Result, error) {
	h, ok := handlers[c.Op]
	if !ok {
		return menus.Result{}, guichet.Errorf(guichet.EINVALID, "unknown operation")
	}
	var (
		r   menus.Result
		err error
	)
	// A call is counted against its number's limit when it runs: a
	// repeated idempotent call that only gets its first result back is not.
	run := func(ctx context.Context, st Store) (menus.Result, error) {
		if err := s.allow(ctx, c); err != nil {
			return menus.Result{}, err
		}
		return h(s, ctx, st, c)
	}
	if c.Key == "" {
		r, err = run(ctx, s.DB.Store())
	} else {
		r, err = s.DB.Once(ctx, c.Op, c.Key, run)
	}
	if err != nil {
		if guichet.ErrorCode(err) == guichet.EINTERNAL &&
			(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
			err = fmt.Errorf("%w: %w", errTimeout, err)
		}
		return menus.Result{}, fmt.Errorf("%s: %w", c.Op, err)
	}
	return r, nil
}

func (s *Service) listOffices(ctx context.Context, st Store, c menus.Call) (menus.Result, error) {
	offices, err := st.Visits.Offices(ctx, c.Args["service"])
	if err != nil {
		return menus.Result{}, fmt.Errorf("listing offices: %w", err)
	}
	opts := make([]menus.Choice, 0, len(offices))
	for _, o := range offices {
		opts = append(opts, menus.Choice{ID: o.ID, Label: clip(o.Name, 30)})
	}
	return menus.Result{Options: opts}, nil
}

func (s *Service) listSlots(ctx context.Context, st Store, c menus.Call) (menus.Result, error) {
	office, err := s.office(ctx, st, c.Args["office"])
	if err != nil {
		return menus.Result{}, err
	}
	starts := s.slots(s.now())
	if len(starts) == 0 {
		return menus.Result{}, nil
	}
	taken, err := st.Visits.Taken(ctx, office.ID, starts[0], starts[len(starts)-1].Add(time.Hour))
	if err != nil {
		return menus.Result{}, fmt.Errorf("counting bookings: %w", err)
	}
	places, lang := capacity(office), language(c.Lang)
	opts := make([]menus.Choice, 0, len(starts))
	for _, s := range starts {
		left := places - taken[s.Unix()]
		if left <= 0 {
			continue
		}
		opts = append(opts, menus.Choice{
			ID:    s.Format(slotLayout),
			Label: fmt.Sprintf("%s (%d)", slotLabel(s, lang), left),
		})
	}
	return menus.Result{Options: opts}, nil
}

func (s *Service) bookSlot(ctx context.Context, st Store, c menus.Call) (menus.Result, error) {
	if c.Phone == "" {
		return menus.Result{}, guichet.Errorf(guichet.EINVALID, "no phone number")
	}
	office, err := s.office(ctx, st, c.Args["office"])
	if err != nil {
		return menus.Result{}, err
	}
	now := s.now()
	start, err := s.slot(c.Args["slot"], now)
	if err != nil {
		return menus.Result{}, err
	}
	lang := language(c.Lang)
	vars := func(b Booking) map[string]string {
		return map[string]string{
			"ref":    b.Ref,
			"slot":   slotLabel(start, lang),
			"office": clip(office.Name, 30),
		}
	}
	b, err := st.Visits.Book(ctx, Booking{
		Office:  office.ID,
		Start:   start,
		Service: c.Service,
		Phone:   c.Phone,
		Lang:    c.Lang,
		Channel: c.Channel,
		Booked:  now,
	}, capacity(office), now, func(b Booking) []outbox.Message {
		return s.message(b.Service, KindBooked, b.Lang, b.Phone, b.Ref, now, vars(b))
	})
	if err != nil {
		return menus.Result{}, fmt.Errorf("booking: %w", err)
	}
	return menus.Result{Vars: vars(b)}, nil
}

func (s *Service) cancelBooking(ctx context.Context, st Store, c menus.Call) (menus.Result, error) {
	ref := strings.TrimSpace(c.Args["ref"])
	if !reference.Valid(ref) {
		return menus.Result{}, guichet.Errorf(guichet.EINVALID, "invalid reference")
	}
	if c.Phone == "" {
		return menus.Result{}, guichet.Errorf(guichet.EINVALID, "no phone number")
	}
	b, err := st.Visits.Cancel(ctx, ref, c.Phone, s.now())
	if err != nil {
		return menus.Result{}, fmt.Errorf("cancelling: %w", err)
	}
	return menus.Result{Vars: map[string]string{"ref": b.Ref}}, nil
}

func (s *Service) openCase(ctx context.Context, st Store, c menus.Call) (menus.Result, error) {
	if c.Service == "" {
		return menus.Result{}, guichet.Errorf(guichet.EINVALID, "no service")
	}
	if c.Phone == "" {
		return menus.Result{}, guichet.Errorf(guichet.EINVALID, "no phone number")
	}
	now := s.now()
	data := maps.Clone(c.Args)
	if data == nil {
		data = map[string]string{}
	}
	cs, err := st.Cases.OpenCase(ctx, Case{
		Service: c.Service,
		Status:  StatusReceived,
		Phone:   c.Phone,
		Lang:    c.Lang,
		Channel: c.Channel,
		Data:    data,
		Opened:  now,
		Updated: now,
		History: []Event{{Status: StatusReceived, At: now, Channel: c.Channel, Who: cmp.Or(c.Who, c.Phone)}},
	}, func(c Case) []outbox.Message {
		return s.message(c.Service, KindOpened, c.Lang, c.Phone, c.Ref, now, map[string]string{"ref": c.Ref})
	})
	if err != nil {
		return menus.Result{}, fmt.Errorf("opening a case: %w", err)
	}
	return menus.Result{Vars: map[string]string{"ref": cs.Ref}}, nil
}

// trackCase tells where a case stands. Anyone who holds a reference may track
// it, so the result carries the status only, never the applicant's data.
func (s *Service) trackCase(ctx context.Context, st Store, c menus.Call) (menus.Result, error) {
	ref := strings.TrimSpace(c.Args["ref"])
	if !reference.Valid(ref) {
		return menus.Result{}, guichet.Errorf(guichet.EINVALID, "invalid reference")
	}
	cs, err := st.Cases.Case(ctx, ref)
	if err != nil {
		return menus.Result{}, fmt.Errorf("finding case: %w", err)
	}
	if s := c.Args["service"]; s != "" && s != cs.Service {
		return menus.Result{}, guichet.Errorf(guichet.ENOTFOUND, "case not found")
	}
	lang, cat := language(c.Lang), s.catalogue()
	return menus.Result{Vars: map[string]string{
		"ref":     cs.Ref,
		"status":  clip(or(cat.StatusLabel(cs.Service, cs.Status, lang), cs.Status), 30),
		"service": clip(or(cat.ServiceTitle(cs.Service, lang), cs.Service), 30),
		"updated": cs.Updated.In(s.location()).Format("02/01/2006"),
	}}, nil
}

func (s *Service) requestCallback(ctx context.Context, st Store, c menus.Call) (menus.Result, error) {
	if c.Phone == "" {
		return menus.Result{}, guichet.Errorf(guichet.EINVALID, "no phone number")
	}
	cb, err := st.Callbacks.RequestCallback(ctx, Callback{
		Phone:     c.Phone,
		Reason:    c.Args["reason"],
		Lang:      c.Lang,
		Channel:   c.Channel,
		Requested: s.now(),
	})
	if err != nil {
		return menus.Result{}, fmt.Errorf("requesting a callback: %w", err)
	}
	return menus.Result{Vars: map[string]string{"ticket": cb.Ticket}}, nil
}

// office returns the office named by a call's argument.
func (s *Service) office(ctx context.Context, st Store, id string) (Office, error) {
	if id == "" {
		return Office{}, guichet.Errorf(guichet.EINVALID, "no office")
	}
	o, err := st.Visits.Office(ctx, id)
	if err != nil {
		return Office{}, fmt.Errorf("finding office: %w", err)
	}
	return o, nil
}

// slotLayout is a slot's ID: its local start, to the minute.
const slotLayout = "200601021504"

// slots returns the starts of the slots open for booking at now: those
// after now on the schedule's next working days that still have one.
func (s *Service) slots(now time.Time) []time.Time {
	sc, loc := s.schedule(), s.location()
	if sc.Days <= 0 || sc.Open < 0 || sc.Close > 24 || sc.Open >= sc.Close {
		return nil // no slot would ever be found
	}
	now = now.In(loc)
	var starts []time.Time
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	for days := 0; days < sc.Days; day = day.AddDate(0, 0, 1) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		found := false
		for h := sc.Open; h < sc.Close; h++ {
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
func (s *Service) slot(id string, now time.Time) (time.Time, error) {
	if id == "" {
		return time.Time{}, guichet.Errorf(guichet.EINVALID, "no slot")
	}
	start, err := time.ParseInLocation(slotLayout, id, s.location())
	if err != nil {
		return time.Time{}, guichet.Errorf(guichet.EINVALID, "unknown slot")
	}
	if !start.After(now) {
		return time.Time{}, guichet.Errorf(guichet.EINVALID, "slot is past")
	}
	for _, open := range s.slots(now) {
		if open.Equal(start) {
			return start, nil
		}
	}
	return time.Time{}, guichet.Errorf(guichet.EINVALID, "unknown slot")
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) location() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return Cameroon
}

func (s *Service) schedule() Schedule {
	if s.Schedule == (Schedule{}) {
		return DefaultSchedule
	}
	return s.Schedule
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
