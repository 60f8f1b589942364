package cases

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/reference"
)

// MemorySerials is where Memory's serial numbers start: its first case or
// booking gets reference.FromNumber(MemorySerials+1, 7), "20000011".
const MemorySerials = 2000000

// Queue is where Memory writes the SMS that its changes cause:
// outbox.Memory.
type Queue interface {
	Enqueue(ctx context.Context, msgs []outbox.Message) error
}

// Memory keeps cases, offices, bookings, callbacks and opt-outs in memory,
// for the embedded default and for tests; it is the DB of a Service and
// implements CaseStore, VisitStore and CallbackStore. It is safe for
// concurrent use. Its data dies with the process.
type Memory struct {
	// Now dates remembered results, so that they can be forgotten after
	// Keep. nil: time.Now.
	Now func() time.Time
	// Keep is how long Once remembers a result; 0 means 24 hours, far
	// longer than any USSD session and its retries.
	Keep time.Duration

	outbox Queue

	mu        sync.Mutex
	serial    uint64 // the last serial given to a case or a booking
	tickets   uint64 // the number of callback tickets given
	offices   map[string]Office
	cases     map[string]*Case
	bookings  map[string]*Booking
	taken     map[slotKey]int    // live bookings per slot
	held      map[holdKey]string // a phone's latest booking for a service
	callbacks map[string]int     // the open callback request of each phone: its index in requests
	ticketed  map[string]int     // the open callback requests by ticket: their index in requests
	requests  []Callback         // every callback request, open or closed, in the order they came
	results   map[onceKey]remembered
	swept     time.Time
	flights   map[onceKey]*flight
	reminded  map[string]bool      // bookings reminded of their visit
	optouts   map[string]time.Time // phones that sent STOP, and when
}

type slotKey struct {
	office string
	start  int64
}

type holdKey struct{ phone, service string }

type onceKey struct{ op, key string }

type remembered struct {
	result menus.Result
	at     time.Time
}

// flight is a lock on one op and key that a waiter can give up on.
type flight struct {
	lock    chan struct{}
	waiters int
}

var (
	_ DB            = (*Memory)(nil)
	_ CaseStore     = (*Memory)(nil)
	_ VisitStore    = (*Memory)(nil)
	_ CallbackStore = (*Memory)(nil)
)

// NewMemory returns an empty store that writes its messages to out: in
// the same critical section as the change, after every check, so that a
// change is never kept without its messages nor a message written for a
// change refused.
func NewMemory(out Queue) *Memory {
	return &Memory{
		outbox:    out,
		serial:    MemorySerials,
		offices:   map[string]Office{},
		cases:     map[string]*Case{},
		bookings:  map[string]*Booking{},
		taken:     map[slotKey]int{},
		held:      map[holdKey]string{},
		callbacks: map[string]int{},
		ticketed:  map[string]int{},
		results:   map[onceKey]remembered{},
		flights:   map[onceKey]*flight{},
		reminded:  map[string]bool{},
		optouts:   map[string]time.Time{},
	}
}

// Seed adds the demo's offices and cases (DemoOffices, DemoCases), with
// their fixed references. It fails if one of those references is taken.
func (m *Memory) Seed(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range DemoOffices() {
		m.offices[o.ID] = cloneOffice(o)
	}
	for _, c := range DemoCases() {
		if _, ok := m.cases[c.Ref]; ok {
			return guichet.Errorf(guichet.ECONFLICT, "seeding: case %s exists", c.Ref)
		}
		c = cloneCase(c)
		m.cases[c.Ref] = &c
	}
	return nil
}

// Store implements DB: m is all of it.
func (m *Memory) Store() Store { return Store{Cases: m, Visits: m, Callbacks: m} }

// Offices implements VisitStore.
func (m *Memory) Offices(ctx context.Context, service string) ([]Office, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var offices []Office
	for _, o := range m.offices {
		if service == "" || len(o.Services) == 0 || slices.Contains(o.Services, service) {
			offices = append(offices, cloneOffice(o))
		}
	}
	slices.SortFunc(offices, func(a, b Office) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return offices, nil
}

// Office implements VisitStore.
func (m *Memory) Office(ctx context.Context, id string) (Office, error) {
	if err := ctx.Err(); err != nil {
		return Office{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.offices[id]
	if !ok {
		return Office{}, guichet.Errorf(guichet.ENOTFOUND, "office not found")
	}
	return cloneOffice(o), nil
}

// Taken implements VisitStore.
func (m *Memory) Taken(ctx context.Context, office string, from, to time.Time) (map[int64]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	taken := map[int64]int{}
	for k, n := range m.taken {
		if k.office == office && k.start >= from.Unix() && k.start < to.Unix() && n > 0 {
			taken[k.start] = n
		}
	}
	return taken, nil
}

// Book implements VisitStore.
func (m *Memory) Book(ctx context.Context, b Booking, capacity int, now time.Time, notify func(Booking) []outbox.Message) (Booking, error) {
	if err := ctx.Err(); err != nil {
		return Booking{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	hk := holdKey{b.Phone, b.Service}
	if ref, ok := m.held[hk]; ok {
		if old := m.bookings[ref]; old.Cancelled.IsZero() && old.Start.After(now) {
			return Booking{}, guichet.Errorf(guichet.ECONFLICT, "already booked")
		}
	}
	sk := slotKey{b.Office, b.Start.Unix()}
	if m.taken[sk] >= min(capacity, GatheringLimit) {
		return Booking{}, guichet.Errorf(guichet.ECONFLICT, "slot full")
	}
	m.serial++
	b.Ref = reference.FromNumber(m.serial, 7)
	b.Cancelled = time.Time{}
	if err := m.write(ctx, notifyOf(notify, b)); err != nil {
		return Booking{}, err
	}
	m.bookings[b.Ref] = &b
	m.taken[sk]++
	m.held[hk] = b.Ref
	return b, nil
}

// Cancel implements VisitStore.
func (m *Memory) Cancel(ctx context.Context, ref, phone string, now time.Time) (Booking, error) {
	if err := ctx.Err(); err != nil {
		return Booking{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.bookings[ref]
	if !ok || b.Phone != phone {
		return Booking{}, guichet.Errorf(guichet.ENOTFOUND, "booking not found")
	}
	if !b.Cancelled.IsZero() {
		return Booking{}, guichet.Errorf(guichet.ECONFLICT, "booking already cancelled")
	}
	if !b.Start.After(now) {
		return Booking{}, guichet.Errorf(guichet.ECONFLICT, "booking is past")
	}
	b.Cancelled = now
	m.taken[slotKey{b.Office, b.Start.Unix()}]--
	return *b, nil
}

// Remind implements VisitStore.
func (m *Memory) Remind(ctx context.Context, from, to time.Time, notify func(Booking) []outbox.Message) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []*Booking
	for _, b := range m.bookings {
		if b.Cancelled.IsZero() && !b.Start.Before(from) && b.Start.Before(to) && !m.reminded[b.Ref] {
			due = append(due, b)
		}
	}
	slices.SortFunc(due, func(a, b *Booking) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Ref, b.Ref))
	})
	var all []outbox.Message
	for _, b := range due {
		all = append(all, notifyOf(notify, *b)...)
	}
	if err := m.write(ctx, all); err != nil {
		return 0, err
	}
	for _, b := range due {
		m.reminded[b.Ref] = true
	}
	return len(due), nil
}

// OpenCase implements CaseStore.
func (m *Memory) OpenCase(ctx context.Context, c Case, notify func(Case) []outbox.Message) (Case, error) {
	if err := ctx.Err(); err != nil {
		return Case{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.serial++
	c = cloneCase(c)
	c.Ref = reference.FromNumber(m.serial, 7)
	if err := m.write(ctx, notifyOf(notify, cloneCase(c))); err != nil {
		return Case{}, err
	}
	m.cases[c.Ref] = &c
	return cloneCase(c), nil
}

// MoveCase implements CaseStore.
func (m *Memory) MoveCase(ctx context.Context, ref string, mv Move, check func(Case) error, notify func(Case) []outbox.Message) (Case, error) {
	if err := ctx.Err(); err != nil {
		return Case{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.cases[ref]
	if !ok {
		return Case{}, guichet.Errorf(guichet.ENOTFOUND, "case not found")
	}
	if check != nil {
		if err := check(cloneCase(*old)); err != nil {
			return Case{}, err
		}
	}
	c := cloneCase(*old)
	if c.Status != mv.Status { // Updated is when the status last changed: a note leaves it
		c.Status, c.Updated = mv.Status, mv.At
	}
	c.History = append(c.History, Event{Status: mv.Status, At: mv.At, Channel: mv.Channel, Who: mv.Who, Note: mv.Note})
	if err := m.write(ctx, notifyOf(notify, cloneCase(c))); err != nil {
		return Case{}, err
	}
	m.cases[ref] = &c
	return cloneCase(c), nil
}

// Case implements CaseStore.
func (m *Memory) Case(ctx context.Context, ref string) (Case, error) {
	if err := ctx.Err(); err != nil {
		return Case{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases[ref]
	if !ok {
		return Case{}, guichet.Errorf(guichet.ENOTFOUND, "case not found")
	}
	return cloneCase(*c), nil
}

// Cases implements CaseStore.
func (m *Memory) Cases(ctx context.Context, f CaseFilter) ([]Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var refs []string
	for ref, c := range m.cases {
		if ref > f.After && selects(f, c) {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	refs = refs[:min(len(refs), guichet.PageSize(f.Limit))]
	cases := make([]Case, 0, len(refs))
	for _, ref := range refs {
		cases = append(cases, cloneCase(*m.cases[ref]))
	}
	return cases, nil
}

func selects(f CaseFilter, c *Case) bool {
	return (len(f.Services) == 0 || slices.Contains(f.Services, c.Service)) &&
		(f.Status == "" || c.Status == f.Status) &&
		(f.Phone == "" || c.Phone == f.Phone)
}

// RequestCallback implements CallbackStore. Tickets are six digits, five of a
// serial that wraps around (skipping tickets still open) and a Damm check
// digit, so that reference.Valid catches a mistyped one.
func (m *Memory) RequestCallback(ctx context.Context, cb Callback) (Callback, error) {
	if err := ctx.Err(); err != nil {
		return Callback{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.callbacks[cb.Phone]; ok {
		return m.requests[i], nil
	}
	if len(m.ticketed) >= 90000 {
		return Callback{}, guichet.Errorf(guichet.EUNAVAILABLE, "too many callback requests open")
	}
	for {
		cb.Ticket = reference.FromNumber(10000+m.tickets%90000, 5)
		m.tickets++
		if _, open := m.ticketed[cb.Ticket]; !open {
			break
		}
	}
	cb.TakenBy, cb.Taken, cb.ClosedBy, cb.Closed = "", time.Time{}, "", time.Time{}
	m.requests = append(m.requests, cb)
	m.callbacks[cb.Phone] = len(m.requests) - 1
	m.ticketed[cb.Ticket] = len(m.requests) - 1
	return cb, nil
}

// Once implements DB: do is given m.Store(). Results are remembered for
// Keep.
func (m *Memory) Once(ctx context.Context, op, key string, do func(context.Context, Store) (menus.Result, error)) (menus.Result, error) {
	k := onceKey{op, key}
	unlock, err := m.lockKey(ctx, k)
	if err != nil {
		return menus.Result{}, fmt.Errorf("waiting for an earlier call with the same key: %w", err)
	}
	defer unlock()

	m.mu.Lock()
	r, ok := m.results[k]
	m.mu.Unlock()
	if ok && m.now().Sub(r.at) < m.keep() {
		return cloneResult(r.result), nil
	}
	res, err := do(ctx, m.Store())
	if err != nil {
		return menus.Result{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.results[k] = remembered{result: cloneResult(res), at: now}
	if now.Sub(m.swept) > time.Minute {
		m.swept = now
		maps.DeleteFunc(m.results, func(_ onceKey, r remembered) bool { return now.Sub(r.at) >= m.keep() })
	}
	return res, nil
}

// write writes msgs, a notify's messages, to the outbox; m.mu is held. It
// is called after every check of a change and before the change is made,
// so that a message refused leaves nothing changed.
func (m *Memory) write(ctx context.Context, msgs []outbox.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	return m.outbox.Enqueue(ctx, msgs)
}

// lockKey takes the lock of one op and key, or gives up when ctx ends.
func (m *Memory) lockKey(ctx context.Context, k onceKey) (unlock func(), err error) {
	m.mu.Lock()
	f, ok := m.flights[k]
	if !ok {
		f = &flight{lock: make(chan struct{}, 1)}
		m.flights[k] = f
	}
	f.waiters++
	m.mu.Unlock()
	leave := func() {
		m.mu.Lock()
		if f.waiters--; f.waiters == 0 {
			delete(m.flights, k)
		}
		m.mu.Unlock()
	}
	select {
	case f.lock <- struct{}{}:
		return func() { <-f.lock; leave() }, nil
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Memory) keep() time.Duration {
	if m.Keep > 0 {
		return m.Keep
	}
	return 24 * time.Hour
}

func cloneOffice(o Office) Office {
	o.Services = slices.Clone(o.Services)
	return o
}

func cloneCase(c Case) Case {
	c.Data = maps.Clone(c.Data)
	c.History = slices.Clone(c.History)
	return c
}

func cloneResult(r menus.Result) menus.Result {
	r.Vars = maps.Clone(r.Vars)
	r.Options = slices.Clone(r.Options)
	return r
}
