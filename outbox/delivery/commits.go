package delivery

import (
	"cmp"
	"context"
	"slices"
	"sync"
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
// submit's outcome waits for the same commit still finds its message.
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

	once sync.Once
	g    *batch.Group[commit, bool]
}

// commit is one write: an outcome, or a receipt if isReceipt (values, not
// pointers: one allocation a write the less).
type commit struct {
	isReceipt bool
	outcome   outbox.Outcome
	receipt   outbox.Receipt
}

// Record commits an outcome with the others of its batch.
func (c *Commits) Record(ctx context.Context, o outbox.Outcome) error {
	_, err := c.group().Do(ctx, commit{outcome: o})
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
	if len(outcomes) > 0 {
		_, err := c.Outcomes.Record(ctx, outcomes)
		for i := range batch {
			if !batch[i].isReceipt {
				done(i, false, err)
			}
		}
		if err != nil {
			return err
		}
	}
	if len(receipts) > 0 {
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
