package adapters

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/reference"
	"github.com/guichet/guichet/sms"
)

// MemorySerials is where Memory's serial numbers start: its first case or
// booking gets reference.FromNumber(MemorySerials+1, 7), "20000011".
const MemorySerials = 2000000

// Memory is a Store in memory, for the embedded default and for tests. It is
// safe for concurrent use. Its data dies with the process.
type Memory struct {
	// Now dates remembered results, so that they can be forgotten after
	// Keep. nil: time.Now.
	Now func() time.Time
	// Keep is how long Once remembers a result; 0 means 24 hours, far
	// longer than any USSD session and its retries.
	Keep time.Duration

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
	reminded  map[string]bool // bookings reminded of their visit
	outbox    []queued        // by ID: the message with ID i is outbox[i-1]
	keys      map[string]apiKey
	optouts   map[string]time.Time // phones that sent STOP, and when
}

// queued is a message in the outbox, with its sender's lease.
type queued struct {
	Message
	lease     time.Time
	notBefore time.Time // while pending: not claimed before it
}

type apiKey struct{ owner, label string }

type slotKey struct {
	office string
	start  int64
}

type holdKey struct{ phone, service string }

type onceKey struct{ op, key string }

type remembered struct {
	result Result
	at     time.Time
}

// flight is a lock on one op and key that a waiter can give up on.
type flight struct {
	lock    chan struct{}
	waiters int
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{
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
		keys:      map[string]apiKey{},
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

// Offices implements Store.
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

// Office implements Store.
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

// Taken implements Store.
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

// Book implements Store.
func (m *Memory) Book(ctx context.Context, b Booking, capacity int, now time.Time, notify func(Booking) []Message) (Booking, error) {
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
	msgs, err := m.messages(notifyOf(notify, b))
	if err != nil {
		return Booking{}, err
	}
	m.bookings[b.Ref] = &b
	m.taken[sk]++
	m.held[hk] = b.Ref
	m.queue(msgs)
	return b, nil
}

// Cancel implements Store.
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

// Remind implements Store.
func (m *Memory) Remind(ctx context.Context, from, to time.Time, notify func(Booking) []Message) (int, error) {
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
	var all []Message
	for _, b := range due {
		all = append(all, notifyOf(notify, *b)...)
	}
	msgs, err := m.messages(all)
	if err != nil {
		return 0, err
	}
	for _, b := range due {
		m.reminded[b.Ref] = true
	}
	m.queue(msgs)
	return len(due), nil
}

// OpenCase implements Store.
func (m *Memory) OpenCase(ctx context.Context, c Case, notify func(Case) []Message) (Case, error) {
	if err := ctx.Err(); err != nil {
		return Case{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.serial++
	c = cloneCase(c)
	c.Ref = reference.FromNumber(m.serial, 7)
	msgs, err := m.messages(notifyOf(notify, cloneCase(c)))
	if err != nil {
		return Case{}, err
	}
	m.cases[c.Ref] = &c
	m.queue(msgs)
	return cloneCase(c), nil
}

// MoveCase implements Store.
func (m *Memory) MoveCase(ctx context.Context, ref string, mv Move, check func(Case) error, notify func(Case) []Message) (Case, error) {
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
	msgs, err := m.messages(notifyOf(notify, cloneCase(c)))
	if err != nil {
		return Case{}, err
	}
	m.cases[ref] = &c
	m.queue(msgs)
	return cloneCase(c), nil
}

// Case implements Store.
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

// Cases implements Store.
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
	refs = refs[:min(len(refs), PageSize(f.Limit))]
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

// RequestCallback implements Store. Tickets are six digits, five of a
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

// Once implements Store. Results are remembered for Keep.
func (m *Memory) Once(ctx context.Context, op, key string, do func(context.Context) (Result, error)) (Result, error) {
	k := onceKey{op, key}
	unlock, err := m.lockKey(ctx, k)
	if err != nil {
		return Result{}, fmt.Errorf("waiting for an earlier call with the same key: %w", err)
	}
	defer unlock()

	m.mu.Lock()
	r, ok := m.results[k]
	m.mu.Unlock()
	if ok && m.now().Sub(r.at) < m.keep() {
		return cloneResult(r.result), nil
	}
	res, err := do(ctx)
	if err != nil {
		return Result{}, err
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

// ClaimMessages implements Store.
func (m *Memory) ClaimMessages(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 || lease <= 0 {
		return nil, guichet.Errorf(guichet.EINVALID, "claiming needs a positive limit and lease")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var claimed []Message
	for i := range m.outbox {
		if len(claimed) == limit {
			break
		}
		q := &m.outbox[i]
		if q.Status == MessagePending && !q.notBefore.After(now) || q.Status == MessageSending && !q.lease.After(now) {
			q.Status, q.lease = MessageSending, now.Add(lease)
			q.Attempts++
			claimed = append(claimed, q.Message)
		}
	}
	return claimed, nil
}

// MarkMessage implements Store.
func (m *Memory) MarkMessage(ctx context.Context, id int64, status, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckMark(status); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if id <= 0 || id > int64(len(m.outbox)) {
		return guichet.Errorf(guichet.ENOTFOUND, "message not found")
	}
	q := &m.outbox[id-1]
	q.Status, q.Reason, q.lease, q.notBefore = status, reason, time.Time{}, time.Time{}
	return nil
}

// MarkSent records that the message id went out on bind, and the id the
// SMSC gave it, at Memory's now.
func (m *Memory) MarkSent(ctx context.Context, id int64, bind, smscID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	q, err := m.message(id)
	if err != nil {
		return err
	}
	q.Status, q.Reason, q.lease, q.notBefore = MessageSent, "", time.Time{}, time.Time{}
	q.Bind, q.SMSCID, q.Sent = bind, smscID, m.now()
	return nil
}

// Defer puts the message id back to pending, with the reason, not to be
// claimed before until.
func (m *Memory) Defer(ctx context.Context, id int64, reason string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	q, err := m.message(id)
	if err != nil {
		return err
	}
	q.Status, q.Reason, q.lease, q.notBefore = MessagePending, reason, time.Time{}, until
	return nil
}

// ApplyReceipt records a delivery receipt's state (see ReceiptStatus) on
// the message sent on bind to dest whose SMSC id is smscID, compared with
// sms.SameID (hex or decimal). It reports whether a message matched.
func (m *Memory) ApplyReceipt(ctx context.Context, bind, smscID, dest, state string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	phone := ReceiptNumber(dest)
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.outbox) - 1; i >= 0; i-- {
		q := &m.outbox[i]
		if q.Bind != bind || q.Phone != phone || q.SMSCID == "" || !sms.SameID(q.SMSCID, smscID) {
			continue
		}
		if status, ok := ReceiptStatus(state); ok {
			q.Status = status
			q.Reason = "receipt: " + state
		}
		return true, nil
	}
	return false, nil
}

// message returns the message id; m.mu is held.
func (m *Memory) message(id int64) (*queued, error) {
	if id <= 0 || id > int64(len(m.outbox)) {
		return nil, guichet.Errorf(guichet.ENOTFOUND, "message not found")
	}
	return &m.outbox[id-1], nil
}

// Messages implements Store.
func (m *Memory) Messages(ctx context.Context, phone string, limit int) ([]Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var msgs []Message
	for _, q := range m.outbox {
		if q.Phone == phone {
			msgs = append(msgs, q.Message)
		}
	}
	slices.SortFunc(msgs, func(a, b Message) int {
		return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(b.ID, a.ID))
	})
	return msgs[:min(len(msgs), PageSize(limit))], nil
}

// DeliveryCounts counts the messages created in [from, to) by bind and
// status, sorted by bind then status.
func (m *Memory) DeliveryCounts(ctx context.Context, from, to time.Time) ([]DeliveryCount, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type group struct{ bind, status string }
	n := map[group]int{}
	m.mu.Lock()
	for _, q := range m.outbox {
		if !q.Created.Before(from) && q.Created.Before(to) {
			n[group{q.Bind, q.Status}]++
		}
	}
	m.mu.Unlock()
	counts := make([]DeliveryCount, 0, len(n))
	for g, n := range n {
		counts = append(counts, DeliveryCount{Bind: g.bind, Status: g.status, N: n})
	}
	slices.SortFunc(counts, func(a, b DeliveryCount) int {
		return cmp.Or(cmp.Compare(a.Bind, b.Bind), cmp.Compare(a.Status, b.Status))
	})
	return counts, nil
}

// AddAPIKey records an API key of owner, by its SHA-256 hash: the key
// itself is never stored. ECONFLICT if the hash is already recorded.
func (m *Memory) AddAPIKey(ctx context.Context, owner, label string, hash []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckAPIKey(owner, hash); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[string(hash)]; ok {
		return guichet.Errorf(guichet.ECONFLICT, "api key exists")
	}
	m.keys[string(hash)] = apiKey{owner: owner, label: label}
	return nil
}

// APIKeyOwner returns the owner of the API key whose SHA-256 hash is hash:
// ENOTFOUND if there is none.
func (m *Memory) APIKeyOwner(ctx context.Context, hash []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[string(hash)]
	if !ok {
		return "", guichet.Errorf(guichet.ENOTFOUND, "api key not found")
	}
	return k.owner, nil
}

// messages checks the messages a notify returned and readies them for the
// outbox: IDs, and the pending status and the time of day where unset.
func (m *Memory) messages(msgs []Message) ([]Message, error) {
	msgs, err := PrepareMessages(msgs, m.now())
	if err != nil {
		return nil, err
	}
	for i := range msgs {
		msgs[i].ID = int64(len(m.outbox) + i + 1)
	}
	return msgs, nil
}

// queue appends messages readied by m.messages.
func (m *Memory) queue(msgs []Message) {
	for _, msg := range msgs {
		m.outbox = append(m.outbox, queued{Message: msg})
	}
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

func cloneResult(r Result) Result {
	r.Vars = maps.Clone(r.Vars)
	r.Options = slices.Clone(r.Options)
	return r
}
