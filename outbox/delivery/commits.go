package delivery

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guichet/guichet/batch"
	"github.com/guichet/guichet/outbox"
)

// OutcomeStore is where Commits records outcomes: outbox.Memory,
// postgres.Outbox.
type OutcomeStore interface {
	Record(ctx context.Context, outcomes []outbox.Outcome) (int, error)
}

// Commits gathers the outbox's writes from the SMPP side, the outcomes of
// submits and the receipts that follow them, and commits them many at
// once: a batch's outcomes in one statement and commit, whose callers go
// on at once, then its receipts in another. A submit keeps its place in
// the bind's window until its outcome is committed, so it waits for that
// commit alone, not the receipts' too: one transaction for both was
// 14,500–15,700 msg/s against 15,200–17,900 in six alternated runs of
// BenchmarkSMSSideBySide, for more of PostgreSQL's CPU. A write waits for no clock: it is
// committed at once while fewer than InFlight (default 1) commits run,
// else with all that come until the running one ends (up to FlushRows,
// default 1,000): PostgreSQL's own group commit. With FlushEvery set
// instead, every FlushEvery or FlushRows. A Dispatcher and the Receipts of
// the same binds share one, so that a receipt that arrives while its
// submit's outcome waits for the same commit still finds its message: it
// is folded into that outcome (the message written once, delivered, in
// the outcomes' statement), and answered with it. The receipt of an
// outcome committed before names its message by its id, which Commits
// remembers for the latest sent messages (recentSent).
type Commits struct {
	// Outcomes and Receipts are where each kind is written (the same
	// outbox, usually); one left nil takes none of its kind.
	Outcomes OutcomeStore
	Receipts ReceiptStore
	// InFlight is how many commits may run at once (default 1; 0 with
	// FlushEvery set: none, the clock decides). One at a time, a submit's
	// outcome waits at most one commit for its own, not a clock's 2 ms on
	// top: every submit holds its place in the bind's window until then
	// (the one-window bound on what a crash resends), so the wait sets the
	// rate: 15,200–16,900 msg/s with a 2 ms clock against 16,000–18,800 in
	// alternated runs of BenchmarkSMSSideBySide, for the same CPU; two at
	// once made batches smaller and cost PostgreSQL a fifth more.
	InFlight   int
	FlushEvery time.Duration
	FlushRows  int

	once   sync.Once
	g      *batch.Group[commit, bool]
	folded atomic.Uint64
	recent recentSent
}

// Folded returns how many receipts were committed with their message's
// outcome, in its statement (the SMSC sent them before the outcome was
// committed), since start.
func (c *Commits) Folded() uint64 { return c.folded.Load() }

// commit is one write: an outcome, or a receipt if isReceipt (values, not
// pointers: one allocation a write the less).
type commit struct {
	isReceipt bool
	outcome   outbox.Outcome
	receipt   outbox.Receipt
	committed func() // of an outcome: called by the committer, see Record
}

// Record commits an outcome with the others of its batch. committed, if
// not nil, is called once the outcome is committed, by the goroutine that
// committed it, before Record's caller is woken: a submit's place in the
// window is free at once, not after its goroutine's turn to run behind the
// seventy others a commit wakes (0.4 ms on average, Go's scheduler trace).
// It is not called if the commit failed.
func (c *Commits) Record(ctx context.Context, o outbox.Outcome, committed func()) error {
	_, err := c.group().Do(ctx, commit{outcome: o, committed: committed})
	return err
}

// Apply commits a receipt with the others of its batch, after the batch's
// outcomes, and reports whether it matched a message.
func (c *Commits) Apply(ctx context.Context, r outbox.Receipt) (bool, error) {
	return c.group().Do(ctx, commit{isReceipt: true, receipt: r})
}

func (c *Commits) group() *batch.Group[commit, bool] {
	c.once.Do(func() {
		inFlight := c.InFlight
		if inFlight == 0 && c.FlushEvery == 0 {
			inFlight = DefaultInFlight
		}
		c.g = &batch.Group[commit, bool]{Every: c.FlushEvery, Max: c.FlushRows, RunEarly: c.run, InFlight: inFlight}
		if c.g.Max <= 0 {
			c.g.Max = DefaultFlushRows
		}
	})
	return c.g
}

// run writes a batch: its outcomes in one call, then its receipts in one.
// The outcomes' callers go on once theirs are committed (a submit keeps
// its place in the window until then), before the receipts are applied.
func (c *Commits) run(ctx context.Context, batch []commit, done func(int, bool, error)) error {
	nr := 0
	for i := range batch {
		if batch[i].isReceipt {
			nr++
		}
	}
	outcomes := make([]outbox.Outcome, 0, len(batch)-nr)
	receipts := make([]outbox.Receipt, 0, nr)
	at := make([]int, 0, nr) // where each receipt's answer goes
	for i := range batch {
		if w := &batch[i]; w.isReceipt {
			receipts = append(receipts, w.receipt)
			at = append(at, i)
		} else {
			outcomes = append(outcomes, w.outcome)
		}
	}
	// In the order of their ids, as the store locks them (it would sort a
	// copy).
	slices.SortFunc(outcomes, func(a, b outbox.Outcome) int { return cmp.Compare(a.ID, b.ID) })
	receipts, at, folded := fold(outcomes, receipts, at)
	if len(outcomes) > 0 {
		applied, err := c.Outcomes.Record(ctx, outcomes)
		if err == nil {
			for i := range batch {
				if f := batch[i].committed; f != nil {
					f()
				}
			}
		}
		for i := range batch {
			if !batch[i].isReceipt {
				done(i, false, err)
			}
		}
		if err != nil {
			return err
		}
		c.recent.remember(outcomes)
		if applied == len(outcomes) {
			// Every folded receipt's message was written with it.
			for _, f := range folded {
				done(f.at, true, nil)
			}
			c.folded.Add(uint64(len(folded)))
		} else {
			// One outcome or more came too late for its claim: which is
			// not known here, so the folded receipts are applied as the
			// others (one whose message is already written with its
			// receipt matches it and changes nothing).
			for _, f := range folded {
				receipts, at = append(receipts, f.receipt), append(at, f.at)
			}
		}
	}
	if len(receipts) > 0 {
		c.recent.name(receipts)
		matched, err := c.Receipts.ApplyReceipts(ctx, receipts)
		if err != nil {
			return err
		}
		for k, i := range at {
			done(i, matched[k], nil)
		}
	}
	return nil
}

// foldedReceipt is a receipt of a batch given to its message's outcome in
// the same batch, and where its answer goes.
type foldedReceipt struct {
	receipt outbox.Receipt
	at      int
}

// fold gives each receipt whose message's outcome is in the same batch (a
// sent message on the receipt's bind, to its number, with its SMSC id as
// the SMSC answered submit_sm) to that outcome (Outcome.Receipt), so that
// the message is written once with both: the SMSC sent the receipt before
// the outcome was committed. It returns the receipts left, where the
// answer of each goes, and those it folded. Of several receipts for one
// message, the first that ends it is kept, as the store keeps a message's
// first final state.
func fold(outcomes []outbox.Outcome, receipts []outbox.Receipt, at []int) ([]outbox.Receipt, []int, []foldedReceipt) {
	if len(outcomes) == 0 || len(receipts) == 0 {
		return receipts, at, nil
	}
	sent := make(map[sentKey]int, len(outcomes))
	for k, o := range outcomes {
		if key, ok := sentKeyOf(o); ok {
			sent[key] = k
		}
	}
	if len(sent) == 0 {
		return receipts, at, nil
	}
	var folded []foldedReceipt
	left, leftAt := receipts[:0], at[:0]
	for j, r := range receipts {
		k, ok := sent[receiptKey(r)]
		if !ok {
			left, leftAt = append(left, r), append(leftAt, at[j])
			continue
		}
		if _, final := outbox.ReceiptStatus(outcomes[k].Receipt); !final {
			outcomes[k].Receipt = r.State
		}
		folded = append(folded, foldedReceipt{receipt: r, at: at[j]})
	}
	return left, leftAt, folded
}

// sentKey is how a receipt names its message: the bind it was sent on, its
// number, and the SMSC's id of it as the SMSC answered submit_sm.
type sentKey struct{ bind, phone, id string }

// sentKeyOf is the key of a sent outcome's message, if it has one.
func sentKeyOf(o outbox.Outcome) (sentKey, bool) {
	return sentKey{o.Bind, o.Phone, o.SMSCID}, o.Status == outbox.MessageSent && o.SMSCID != "" && o.Phone != ""
}

func receiptKey(r outbox.Receipt) sentKey {
	return sentKey{r.Bind, r.Phone, strings.TrimSpace(r.SMSCID)}
}

// recentSents bounds the sent messages recentSent remembers.
const recentSents = 1 << 16

// recentSent remembers the messages of the latest sent outcomes Commits
// committed (recentSents at most, the oldest forgotten first), so that
// their receipts name them by their id (outbox.Receipt.ID): the store
// reads the message by its key instead of looking among its number's,
// half of a receipt's statement. A receipt that ends its message forgets
// it. What is not here (forgotten, sent by another gateway of a fleet,
// before a restart) is looked for by number, as before.
type recentSent struct {
	size int // how many at most; recentSents if 0
	mu   sync.Mutex
	ids  map[sentKey]recentID
	ring []sentKey // where each was remembered, oldest at next
	next int
}

type recentID struct {
	id  int64
	pos int // in ring
}

// remember remembers the messages of the sent outcomes among outcomes,
// but those whose receipt came with them and ended them.
func (r *recentSent) remember(outcomes []outbox.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range outcomes {
		k, ok := sentKeyOf(o)
		if _, final := outbox.ReceiptStatus(o.Receipt); !ok || final {
			continue
		}
		if r.ids == nil {
			r.ids, r.ring = make(map[sentKey]recentID), make([]sentKey, cmp.Or(r.size, recentSents))
		}
		if old := r.ring[r.next]; old.id != "" {
			if v, ok := r.ids[old]; ok && v.pos == r.next {
				delete(r.ids, old)
			}
		}
		r.ring[r.next] = k
		r.ids[k] = recentID{id: o.ID, pos: r.next}
		r.next = (r.next + 1) % len(r.ring)
	}
}

// name sets the ID of the receipts whose message it remembers, and
// forgets those the receipt ends.
func (r *recentSent) name(receipts []outbox.Receipt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range receipts {
		rc := &receipts[i]
		if rc.ID != 0 {
			continue
		}
		k := receiptKey(*rc)
		v, ok := r.ids[k]
		if !ok {
			continue
		}
		rc.ID = v.id
		if _, final := outbox.ReceiptStatus(rc.State); final {
			delete(r.ids, k)
		}
	}
}
