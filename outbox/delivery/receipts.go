package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/sms"
)

// ReceiptStore is what applying receipts needs of the outbox:
// outbox.Memory and postgres.Outbox have it.
type ReceiptStore interface {
	// ApplyReceipts records receipts' states on the messages they name,
	// many at once, and reports for each whether one matched.
	ApplyReceipts(ctx context.Context, rs []outbox.Receipt) ([]bool, error)
}

// DefaultReceiptWait is Receipts' default Wait.
const DefaultReceiptWait = 200 * time.Millisecond

// Receipts applies the delivery receipts that SMSCs send to the messages
// they name: receipts are read once, here, into a bind, an E.164 phone, an
// SMSC id and a state, which the store matches and records.
type Receipts struct {
	Store ReceiptStore
	// Wait is how long a receipt matching nothing waits, twice, for the
	// recorded submit it may have overtaken (default 200 ms).
	Wait time.Duration
	// Commits, if set, applies the receipts with the outcomes of the
	// submits on the same binds (serve shares one with the Dispatcher);
	// nil: receipts are grouped on their own, with FlushEvery and
	// FlushRows.
	Commits *Commits
	// FlushEvery and FlushRows group the receipts as Commits' do (by
	// default at once while no commit runs, 1,000 at most): each is
	// acknowledged to the SMSC only once what it changed is committed.
	FlushEvery time.Duration
	FlushRows  int
	Log        *slog.Logger // nil: discard

	matched, unmatched, waited atomic.Uint64
	initOnce                   sync.Once
	own                        *Commits // without Commits
	mu                         sync.Mutex
	finals                     map[string]*finals // by bind, made by Handle
}

// Results of a receipt that ends its message, as
// guichet_sms_outcomes_total counts them with the Dispatcher's.
const (
	ResultDelivered     = "delivered"     // DELIVRD
	ResultUndeliverable = "undeliverable" // UNDELIV, REJECTD, DELETED
	// The receipt's EXPIRED counts as ResultExpired: the SMSC kept it
	// past its validity.
)

// finals counts the receipts of one bind that ended their message:
// delivered, undeliverable, expired.
type finals [3]atomic.Uint64

// ReceiptResults are the receipts of one bind that ended their message,
// by result (ResultDelivered, ResultUndeliverable, ResultExpired).
type ReceiptResults struct {
	Bind   string
	Counts map[string]uint64
}

// Results returns the receipts that ended their message, by bind.
func (r *Receipts) Results() []ReceiptResults {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ReceiptResults, 0, len(r.finals))
	for bind, f := range r.finals {
		out = append(out, ReceiptResults{Bind: bind, Counts: map[string]uint64{
			ResultDelivered: f[0].Load(), ResultUndeliverable: f[1].Load(), ResultExpired: f[2].Load()}})
	}
	return out
}

// count counts a matched receipt's state in f, if it ends its message.
func (f *finals) count(state string) {
	switch st, _ := outbox.ReceiptStatus(state); st {
	case outbox.MessageDelivered:
		f[0].Add(1)
	case outbox.MessageUndeliverable:
		f[1].Add(1)
	case outbox.MessageExpired:
		f[2].Add(1)
	}
}

// ReceiptStats are what Receipts did since start.
type ReceiptStats struct {
	Matched   uint64 // receipts that matched a message
	Unmatched uint64 // receipts that matched none, or could not be read
	Waited    uint64 // receipts that found no message at first and waited for it (they overtook its outcome)
}

// Stats returns the counters.
func (r *Receipts) Stats() ReceiptStats {
	return ReceiptStats{Matched: r.matched.Load(), Unmatched: r.unmatched.Load(), Waited: r.waited.Load()}
}

// Handle returns the smpp.Handler of the receipts of the bind named bind:
// a receipt updates the message it matches (on bind, destination and id,
// hex or decimal). A receipt that matches nothing is counted
// (Stats.Unmatched), logged and acknowledged; an error is returned only
// when the store failed, so that the SMSC delivers the receipt again.
func (r *Receipts) Handle(bind string) smpp.Handler {
	r.mu.Lock()
	if r.finals == nil {
		r.finals = map[string]*finals{}
	}
	f := r.finals[bind]
	if f == nil {
		f = new(finals)
		r.finals[bind] = f
	}
	r.mu.Unlock()
	return func(ctx context.Context, in smpp.Inbound) error {
		id, state, err := readReceipt(in)
		if err != nil {
			r.unmatched.Add(1)
			r.log().Warn("unreadable receipt", "bind", bind, "phone", phone.Mask(outbox.ReceiptNumber(in.SourceAddr)), "err", err)
			return nil
		}
		wait := orDefault(r.Wait, DefaultReceiptWait)
		for attempt := 0; ; attempt++ {
			matched, err := r.apply(ctx, outbox.Receipt{Bind: bind, Phone: outbox.ReceiptNumber(in.SourceAddr), SMSCID: id, State: state})
			if err != nil {
				return fmt.Errorf("outbox: recording a receipt: %w", err)
			}
			if matched {
				r.matched.Add(1)
				f.count(state)
				if l := r.log(); l.Enabled(ctx, slog.LevelInfo) { // a receipt's line costs even unwritten
					l.Info("delivery receipt", "bind", bind, "smsc_id", id, "state", state,
						"phone", phone.Mask(outbox.ReceiptNumber(in.SourceAddr)))
				}
				return nil
			}
			if attempt == 2 {
				break
			}
			// The receipt may have overtaken its message's outcome.
			r.waited.Add(1)
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("outbox: waiting to match a receipt: %w", ctx.Err())
			}
		}
		r.unmatched.Add(1)
		r.log().Warn("receipt matches no message", "bind", bind, "smsc_id", id, "state", state,
			"phone", phone.Mask(outbox.ReceiptNumber(in.SourceAddr)))
		return nil
	}
}

// apply applies a receipt with those that arrive about the same time, in
// one call to the store, and returns once it is committed.
func (r *Receipts) apply(ctx context.Context, rc outbox.Receipt) (bool, error) {
	commits := r.Commits
	if commits == nil {
		r.initOnce.Do(func() {
			r.own = &Commits{Receipts: r.Store, FlushEvery: r.FlushEvery, FlushRows: r.FlushRows}
		})
		commits = r.own
	}
	return commits.Apply(ctx, rc)
}

func (r *Receipts) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// messageStates are SMPP 3.4's message_state values, as receipts' text
// spells them.
var messageStates = map[byte]string{1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD"}

// readReceipt returns a receipt's message id and state: from the TLVs
// receipted_message_id and message_state, else from its text.
func readReceipt(in smpp.Inbound) (id, state string, err error) {
	if v, ok := in.TLVs[smpp.TagReceiptedMessageID]; ok {
		id = strings.TrimRight(string(v), "\x00")
	}
	if v, ok := in.TLVs[smpp.TagMessageState]; ok && len(v) == 1 {
		state = messageStates[v[0]]
	}
	if id != "" && state != "" {
		return id, state, nil
	}
	text := in.ShortMessage
	if len(text) == 0 {
		text = in.TLVs[smpp.TagMessagePayload]
	}
	rc, err := sms.ParseReceipt(string(text))
	if err != nil {
		return "", "", fmt.Errorf("outbox: reading a receipt: %w", err)
	}
	if id == "" {
		id = rc.ID
	}
	if state == "" {
		state = rc.State
	}
	return id, state, nil
}
