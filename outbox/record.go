package outbox

import (
	"context"
	"time"

	"github.com/guichet/guichet"
)

// Outcome is what became of one claimed message, as a dispatcher records
// it: many at once, in one statement and one commit (Record).
type Outcome struct {
	ID int64
	// Attempt is the claim the outcome ends (the message's Attempts when
	// it was claimed): once a claim's lease has run out and another
	// sender claimed the message again, the older claim's outcome changes
	// nothing.
	Attempt int
	// Status is MessageSent, MessagePending (deferred: tried again from
	// NotBefore), MessageFailed or MessageExpired.
	Status string
	Reason string
	// Bind and SMSCID say where a sent message went; Phone is its
	// number, which a receipt names with them.
	Bind, SMSCID, Phone string
	NotBefore           time.Time
	// Receipt is the state (DELIVRD, UNDELIV…) of the receipt of a sent
	// message that the SMSC sent before the outcome was committed: both
	// are applied at once, the message written once (delivery.Commits).
	Receipt string
}

// CheckOutcome checks what Record is given.
func CheckOutcome(o Outcome) error {
	if o.Receipt != "" && o.Status != MessageSent {
		return guichet.Errorf(guichet.EINVALID, "a receipt with an outcome %q: only a sent message has one", o.Status)
	}
	switch o.Status {
	case MessageSent, MessagePending, MessageFailed, MessageExpired:
		return nil
	}
	return guichet.Errorf(guichet.EINVALID, "outcome with status %q", o.Status)
}

// Record applies outcomes at once, each to its message if the message is
// still under the claim the outcome ends; it returns how many it applied.
// Sent messages are dated with Memory's now.
func (m *Memory) Record(ctx context.Context, outcomes []Outcome) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for _, o := range outcomes {
		if err := CheckOutcome(o); err != nil {
			return 0, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now, n := m.now(), 0
	for _, o := range outcomes {
		q, err := m.message(o.ID)
		if err != nil || q.Status != MessageSending || q.Attempts != o.Attempt {
			continue
		}
		q.Status, q.Reason, q.lease, q.notBefore = o.Status, o.Reason, time.Time{}, time.Time{}
		switch o.Status {
		case MessageSent:
			q.Bind, q.SMSCID, q.Sent = o.Bind, o.SMSCID, now
		case MessagePending:
			q.notBefore = o.NotBefore
		}
		if Final(o.Status) {
			q.Done = now
		}
		if status, ok := ReceiptStatus(o.Receipt); ok {
			q.Status, q.Reason, q.Done = status, "receipt: "+o.Receipt, now
		}
		n++
	}
	return n, nil
}

// Receipt is a delivery receipt as an SMSC sent it, read once: the bind it
// came on, the number it is about (E.164), the SMSC's id of the message
// (hex or decimal, as the SMSC writes it) and its state (DELIVRD, UNDELIV…).
type Receipt struct {
	Bind, Phone, SMSCID, State string
	// ID is the message's, if the gateway that sent it knew which one the
	// SMSC id names (delivery.Commits keeps those of its recent outcomes);
	// 0: it is looked for among the number's. A message matches only with
	// the receipt's bind and SMSC id, whichever way it is found.
	ID int64
}

// ApplyReceipts records receipts at once, each on the message sent on its
// bind to its phone whose SMSC id is its id (sms.SameID); it reports for
// each whether a message matched.
func (m *Memory) ApplyReceipts(ctx context.Context, rs []Receipt) ([]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	matched := make([]bool, len(rs))
	for i, r := range rs {
		matched[i] = m.applyReceipt(r)
	}
	return matched, nil
}

// Held is a claimed message its sender still works on: submitting it, or
// waiting for its outcome to be committed.
type Held struct {
	ID      int64
	Attempt int
}

// ExtendLeases moves the leases of held messages to until, each only if
// it is still under the claim it names (sending, attempts as held) and
// its lease ends before until; it returns how many it moved. A sender
// extends what it holds while it works on it, so that another claim, its
// own included, never takes a message whose submit's outcome is not
// committed yet.
func (m *Memory) ExtendLeases(ctx context.Context, held []Held, until time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, h := range held {
		q, err := m.message(h.ID)
		if err != nil || q.Status != MessageSending || q.Attempts != h.Attempt || !q.lease.Before(until) {
			continue
		}
		q.lease = until
		n++
	}
	return n, nil
}
