package outbox

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/sms"
)

// Memory is the outbox in memory, for the embedded default and for tests:
// the case store in memory (cases.Memory) writes to it. It is safe for
// concurrent use; its data dies with the process.
type Memory struct {
	// Now dates messages that come without a date, and sent messages.
	// nil: time.Now.
	Now func() time.Time

	mu    sync.Mutex
	queue []queued // by ID: the message with ID i is queue[i-1]
	once  map[string][]byte
}

// SendOnce writes msgs and records answer, given their ids in order,
// under owner's key, at once: a key already recorded writes nothing and
// returns what was recorded; an empty key sends every time.
func (m *Memory) SendOnce(ctx context.Context, owner, key string, msgs []Message, answer func(ids []int64) ([]byte, error)) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ready, err := Prepare(msgs, m.now())
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	once := owner + "|" + key // an owner is a service file's word: no "|"
	if got, ok := m.once[once]; ok && key != "" {
		return got, nil
	}
	ids := make([]int64, len(ready))
	for i := range ready {
		ids[i] = int64(len(m.queue) + 1 + i)
	}
	body, err := answer(ids)
	if err != nil {
		return nil, err
	}
	m.add(ready)
	if key != "" {
		if m.once == nil || len(m.once) >= 100_000 { // the embedded default's memory stays bounded
			m.once = map[string][]byte{}
		}
		m.once[once] = body
	}
	return body, nil
}

// queued is a message in the outbox, with its sender's lease.
type queued struct {
	Message
	lease     time.Time
	notBefore time.Time // while pending: not claimed before it
}

// NewMemory returns an empty outbox.
func NewMemory() *Memory { return &Memory{} }

// Enqueue writes msgs, pending (or logged), checked and readied by
// Prepare: they are written at once, or none is.
func (m *Memory) Enqueue(ctx context.Context, msgs []Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ready, err := Prepare(msgs, m.now())
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.add(ready)
	return nil
}

// add appends messages readied by Prepare; m.mu is held.
func (m *Memory) add(msgs []Message) {
	for _, msg := range msgs {
		msg.ID = int64(len(m.queue) + 1)
		m.queue = append(m.queue, queued{Message: msg})
	}
}

// ClaimMessages hands a sender up to limit messages to send, oldest first,
// transactional ones before bulk ones (Message.Bulk): pending ones, and those whose sender's lease ended before now
// (a sender that crashed). They become MessageSending until now+lease and
// their Attempts grow by one. Two senders never get the same message while
// its lease holds.
//
// Messages to one number leave in the order they were written: a message
// is claimed only with every earlier one to its number that is not final
// (pending or sending). One that waits (deferred, or claimed by another
// sender) holds back the later ones to its number, and only them.
func (m *Memory) ClaimMessages(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 || lease <= 0 {
		return nil, guichet.Errorf(guichet.EINVALID, "claiming needs a positive limit and lease")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// The messages that may leave now, in the order written: a number
	// with one that waits holds back its later ones (a transactional one
	// is held back only by transactional ones: a campaign never delays a
	// case's notification).
	var due []int
	heldT, heldAll := map[string]bool{}, map[string]bool{}
	for i := range m.queue {
		q := &m.queue[i]
		if q.Status != MessagePending && q.Status != MessageSending || heldAll[q.Phone] && q.Bulk || heldT[q.Phone] {
			continue
		}
		if q.Status == MessagePending && q.notBefore.After(now) || q.Status == MessageSending && q.lease.After(now) {
			heldAll[q.Phone] = true
			if !q.Bulk {
				heldT[q.Phone] = true
			}
			continue
		}
		due = append(due, i)
	}
	// Transactional ones first, then bulk; a message only after every
	// earlier due one to its number it must follow.
	before := map[int]int{} // due messages before it that it must follow
	countT, countAll := map[string]int{}, map[string]int{}
	for _, i := range due {
		p := m.queue[i].Phone
		if m.queue[i].Bulk {
			before[i] = countAll[p]
		} else {
			before[i] = countT[p]
			countT[p]++
		}
		countAll[p]++
	}
	pick := slices.Clone(due)
	slices.SortStableFunc(pick, func(a, b int) int {
		return cmp.Compare(b2i(m.queue[a].Bulk), b2i(m.queue[b].Bulk))
	})
	takenT, takenAll := map[string]int{}, map[string]int{}
	var chosen []int
	in := map[int]bool{}
	for more := true; more && len(chosen) < limit; {
		more = false // a pass that took one may have freed its number's next
		for _, i := range pick {
			if len(chosen) == limit {
				break
			}
			q := m.queue[i]
			ready := before[i] == takenT[q.Phone]
			if q.Bulk {
				ready = before[i] == takenAll[q.Phone]
			}
			if !in[i] && ready {
				if !q.Bulk {
					takenT[q.Phone]++
				}
				takenAll[q.Phone]++
				chosen, in[i], more = append(chosen, i), true, true
			}
		}
	}
	slices.Sort(chosen)
	var claimed []Message
	for _, i := range chosen {
		q := &m.queue[i]
		q.Status, q.lease = MessageSending, now.Add(lease)
		q.Attempts++
		claimed = append(claimed, q.Message)
	}
	return claimed, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// applyReceipt applies r to the newest message it names; m.mu is held.
func (m *Memory) applyReceipt(r Receipt) bool {
	for i := len(m.queue) - 1; i >= 0; i-- {
		q := &m.queue[i]
		if q.Bind != r.Bind || q.Phone != r.Phone || q.SMSCID == "" || !sms.SameID(q.SMSCID, r.SMSCID) {
			continue
		}
		if status, ok := ReceiptStatus(r.State); ok {
			q.Status = status
			q.Reason = "receipt: " + r.State
			if Final(status) {
				q.Done = m.now()
			}
		}
		return true
	}
	return false
}

// message returns the message id; m.mu is held.
func (m *Memory) message(id int64) (*queued, error) {
	if id <= 0 || id > int64(len(m.queue)) {
		return nil, guichet.Errorf(guichet.ENOTFOUND, "message not found")
	}
	return &m.queue[id-1], nil
}

// Messages returns the latest messages to phone, newest first, at most
// guichet.PageSize(limit).
func (m *Memory) Messages(ctx context.Context, phone string, limit int) ([]Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var msgs []Message
	for _, q := range m.queue {
		if q.Phone == phone {
			msgs = append(msgs, q.Message)
		}
	}
	slices.SortFunc(msgs, func(a, b Message) int {
		return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(b.ID, a.ID))
	})
	return msgs[:min(len(msgs), guichet.PageSize(limit))], nil
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
	for _, q := range m.queue {
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

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// OwnMessage returns message id if owner sent it: ENOTFOUND otherwise.
func (m *Memory) OwnMessage(ctx context.Context, owner string, id int64) (Message, error) {
	if err := ctx.Err(); err != nil {
		return Message{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	q, err := m.message(id)
	if err != nil || owner == "" || q.Owner != owner {
		return Message{}, guichet.Errorf(guichet.ENOTFOUND, "no message %d of yours", id)
	}
	return q.Message, nil
}

// OwnMessages returns a page of the messages owner sent, by id after
// after, those in one of statuses if any are given.
func (m *Memory) OwnMessages(ctx context.Context, owner string, statuses []string, after int64, limit int) ([]Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	limit = guichet.PageSize(limit)
	var out []Message
	for i := max(after, 0); i < int64(len(m.queue)) && len(out) < limit; i++ {
		q := m.queue[i]
		if owner != "" && q.Owner == owner && (len(statuses) == 0 || slices.Contains(statuses, q.Status)) {
			out = append(out, q.Message)
		}
	}
	return out, nil
}

// CampaignCounts counts the messages of campaign id by bind and status.
func (m *Memory) CampaignCounts(ctx context.Context, id int64) ([]DeliveryCount, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := map[[2]string]int{}
	for _, q := range m.queue {
		if q.Campaign == id && id != 0 {
			n[[2]string{q.Bind, q.Status}]++
		}
	}
	var out []DeliveryCount
	for k, v := range n {
		out = append(out, DeliveryCount{Bind: k[0], Status: k[1], N: v})
	}
	return out, nil
}

// Backlog counts the messages waiting to be sent (pending or claimed),
// grouped by the first digits of their number, the + left out: digits
// long enough to route them (smpp.Routes), never a whole number.
func (m *Memory) Backlog(ctx context.Context, digits int) ([]Backlog, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	by := map[string]*Backlog{}
	m.mu.Lock()
	for _, q := range m.queue {
		if q.Status != MessagePending && q.Status != MessageSending {
			continue
		}
		p := BacklogPrefix(q.Phone, digits)
		b := by[p]
		if b == nil {
			b = &Backlog{Prefix: p, Oldest: q.Created}
			by[p] = b
		}
		b.N++
		if q.Created.Before(b.Oldest) {
			b.Oldest = q.Created
		}
	}
	m.mu.Unlock()
	out := make([]Backlog, 0, len(by))
	for _, b := range by {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b Backlog) int { return cmp.Compare(a.Prefix, b.Prefix) })
	return out, nil
}
