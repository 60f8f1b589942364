// Package delivery drains the outbox to the operators' SMPP binds
// (Dispatcher: rates, throttling, retries with backoff, validity, opt-outs)
// and applies the delivery receipts that come back (Receipts). It is the
// only part of the outbox that knows SMPP, so that the case domain, which
// writes messages, does not.
package delivery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/guichet/guichet/deadline"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/sms"
)

// DeliveryStore is what the Dispatcher needs of the outbox: outbox.Memory
// and postgres.Outbox have it.
type DeliveryStore interface {
	// ClaimMessages claims due messages, oldest first, under a lease. It
	// takes a message only with every earlier one to its number that is
	// not final: a number's messages leave in the order they were
	// written across claims and gateways, and Drain keeps that order
	// within the claims it holds.
	ClaimMessages(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]outbox.Message, error)
	// Record applies what became of claimed messages, many at once: one
	// statement and one commit for all of them.
	Record(ctx context.Context, outcomes []outbox.Outcome) (int, error)
}

// OptOuts tells whether a citizen opted out of SMS (sent STOP).
type OptOuts interface {
	OptedOut(ctx context.Context, phone string) (bool, error)
}

// Sender submits to an operator's binds (*smpp.Binds): its name is
// recorded with each message sent on it, and receipts are matched on it.
type Sender interface {
	Name() string
	Submit(ctx context.Context, m *smpp.SubmitSM) (string, error)
}

// Router picks the operator of a number: *smpp.Routes is one.
type Router interface {
	Operator(e164 string) (string, bool)
}

// What the Policy does with an error status of submit_sm_resp.
const (
	Retry    = "retry"    // defer the message with backoff
	Throttle = "throttle" // pause the whole bind, then retry
	GiveUp   = "fail"     // mark the message failed, with the status as reason
)

// Defaults of Dispatcher.
const (
	DefaultValidity      = 24 * time.Hour
	DefaultBackoffBase   = 5 * time.Second
	DefaultBackoffMax    = 10 * time.Minute
	DefaultThrottlePause = 10 * time.Millisecond
	DefaultThrottleMax   = time.Second
	DefaultSubmitTimeout = 30 * time.Second
	DefaultFlushRows     = 1000
	DefaultInFlight      = 1
)

// Dispatcher drains the outbox to the operators' binds over SMPP.
//
// A message is claimed with a lease, so that a process killed at any moment
// leaves it pending or claimed again once the lease ends: never lost. It
// may be sent twice when the process dies between the SMSC's answer and
// the commit of its outcome, or when the answer never comes (timeout, connection lost after
// sending): SMPP gives no way to ask.
//
// Each text goes out as one submit_sm per part (sms.Encode), the parts'
// esm_class and data_coding, registered_delivery 1 on the last part only:
// one receipt per message, matched on the last part's id, which its sent
// outcome records. A retried long message is sent again whole.
//
// Retries have no count: a message is retried with backoff until it is
// sent, fails for good, or waits past Validity and is marked expired.
type Dispatcher struct {
	Store  DeliveryStore
	Routes Router
	// Senders are the binds by operator, as Routes names them.
	Senders map[string]Sender
	// Source is the source_addr of every message (a short code or a
	// name), but for the operators Sources names one for.
	Source  string
	Sources map[string]string // by operator
	// Policy overrides, per command_status, what smpp.StatusError says of
	// it (PROTOCOLS.md): Throttle for ESME_RTHROTTLED, Retry for the other
	// retryable statuses, GiveUp for the rest.
	Policy map[uint32]string
	// Validity is how long a message may wait to be sent: older, it is
	// marked expired instead (default 24 h).
	Validity time.Duration
	// Rate limits each operator's submit_sm per second (parts count),
	// evenly spaced (no burst); none or 0: only the bind's window limits it.
	// It is the fleet's total: a gateway holding half the operator's binds
	// sends at half of it.
	Rate map[string]rate.Limit
	// Backoff of a retried message: BackoffBase × 2^(attempts-1), at most
	// BackoffMax (defaults 5 s, 10 min).
	BackoffBase, BackoffMax time.Duration
	// ThrottlePause is how long ESME_RTHROTTLED first stops every send on
	// the bind (default 10 ms): a short pause, for the bind's congestion
	// window and rate, halved by it, do the rest. A bind throttled again
	// right after its pause (within the pause's length of its end, before
	// a congestion window's worth of submits were taken) pauses twice as
	// long, up to ThrottleMax (default 1 s); one that went a pause's length
	// without a throttle, or took a window's worth, starts again at
	// ThrottlePause.
	ThrottlePause, ThrottleMax time.Duration
	// SubmitTimeout bounds one submit_sm, the wait for the window included
	// (default 30 s).
	SubmitTimeout time.Duration
	// TransliterateTo lists the operators whose texts are spelt in GSM-7
	// (ê → e), to keep 160 characters a part; Transliterate does it for all.
	TransliterateTo map[string]bool
	// Transliterate spells texts in GSM-7 (sms.Options.Transliterate):
	// 160 characters a part instead of UCS-2's 70.
	Transliterate bool
	// OptOuts, if set, tells the phones that sent STOP (cases.Memory
	// and postgres.Cases do): a message to one of them is marked failed
	// instead of sent, except what the citizen asked for there and then
	// (outbox.Requested: the confirmation of STOP or START, a sign-in
	// code, a screen of their SMS dialogue).
	OptOuts OptOuts
	// Commits, if set, commits the outcomes with the receipts of the same
	// binds (serve shares one with Receipts); nil: the dispatcher groups
	// its outcomes on its own, with FlushEvery and FlushRows.
	Commits *Commits
	// FlushEvery and FlushRows, for the dispatcher's own grouping, are
	// Commits': by default an outcome is committed at once when no commit
	// runs, with those that came meanwhile otherwise (FlushRows at most,
	// default 1,000); FlushEvery set, every FlushEvery instead.
	FlushEvery time.Duration
	FlushRows  int
	Every      time.Duration // how often Run looks while the outbox is empty (default 250 ms)
	// Batch bounds the messages of a claim (default 1,000); with a rate
	// for every operator, a claim is at most a second's worth of them, so
	// that a transactional message written meanwhile waits at most about
	// two seconds behind the bulk ones claimed before it.
	Batch int
	Lease time.Duration    // how long a claim holds (default 2 min)
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger     // nil: discard

	mu       sync.Mutex
	binds    map[string]*bindState // by operator
	tallies  map[string]*tally     // by operator, "" for the messages of no route
	c        counters
	initOnce sync.Once
	own      *Commits // without Commits
	// submitCtx bounds each submit by SubmitTimeout.
	submitCtx deadline.Shared
	wakeOnce  sync.Once
	wake      chan struct{} // Wake's: Run looks at once
}

// bindState is what the Dispatcher knows of one operator's bind.
type bindState struct {
	rate rate.Limit // the operator's configured rate, for the whole fleet; 0: none
	// slow is the part of its share of the rate the bind sends at: halved
	// when the SMSC throttles, grown back by a twentieth of it each
	// second's worth of answers (AIMD, as the window).
	slow   float64
	share  float64       // of the fleet's binds held here (1 alone)
	next   time.Time     // the next submit's slot under the rate
	gen    uint64        // slowdowns so far: a slot taken before the last one is taken again
	paused time.Time     // no submit before it
	pause  time.Duration // the length of the last pause (ThrottlePause, doubled while throttles come back at once)
	// okSince counts the submits taken (answered, not throttled) since the
	// last pause began.
	okSince int
	// pausedWall is paused on the wall's clock (the Dispatcher's may be a
	// test's): the rate's slots are on the wall's.
	pausedWall time.Time
	// cwnd is how many submits may wait for their answer at once, below
	// the bind's own window: halved when the SMSC throttles, grown by one
	// a round trip's worth of answers (AIMD), so that an SMSC whose window
	// is smaller than ours is converged to rather than fought.
	cwnd     float64
	max      float64 // the sender's window: cwnd starts and stops there
	inflight int     // submits waiting for their answer: at most cwnd
	// held counts the submits not done: waiting for their answer, or
	// answered and their outcome not committed yet. At most max, so that
	// what a crash may send again is never more than a window; the
	// commit's wait does not count against cwnd, which measures the SMSC.
	held  int
	tally *tally     // the operator's results
	room  *sync.Cond // on the Dispatcher's mu: signalled when a submit ends
	// upAgain, while the sender is down, is closed once it is up again or
	// redialWait has passed: the submits waiting for it go on together.
	upAgain chan struct{}
}

// redialWait is how long a submit waits for a bind that dropped to come
// back (they redial within a second) before its message goes back to the
// outbox: what the claim holds goes on at once when it does, instead of
// waiting a second more in the outbox and being claimed again.
const redialWait = 2 * time.Second

// minSlow is how far throttling slows a bind's rate down at most.
const minSlow = 1.0 / 64

// maxCwnd bounds the congestion window of a sender that does not say its
// window.
const maxCwnd = 1 << 16

// windowed is a sender that says how many submits it may have waiting for
// their answer (*smpp.Binds): the congestion window starts there and never
// grows past it.
type windowed interface{ Window() int }

// sharer is a sender that holds a share of its operator's binds, the rest
// held by other gateways of a fleet (*smpp.Binds): its rate is that share
// of the operator's, so that the fleet sends what the contract says.
type sharer interface{ Share() float64 }

type counters struct {
	sent, deferred, throttled, failed, expired, maybeSent, stale atomic.Uint64
}

// Results name what became of one attempt at a message, as
// guichet_sms_outcomes_total counts them: each attempt has one result.
const (
	ResultSent      = "sent"       // the SMSC accepted it
	ResultDeferred  = "deferred"   // put back to wait (retryable status, no bind, behind an earlier message…)
	ResultThrottled = "throttled"  // put back: ESME_RTHROTTLED (or a status the Policy throttles on)
	ResultMaybeSent = "maybe_sent" // put back after a timeout or a connection lost after sending: maybe a duplicate
	ResultStale     = "stale"      // put back unsent: its claim ran out before its turn
	ResultFailed    = "failed"     // given up: a final status, an opt-out, no route
	ResultExpired   = "expired"    // given up: older than its validity
)

// Results lists every result, in the order of tally.
var Results = [...]string{ResultSent, ResultDeferred, ResultThrottled, ResultMaybeSent, ResultStale, ResultFailed, ResultExpired}

const (
	rSent = iota
	rDeferred
	rThrottled
	rMaybeSent
	rStale
	rFailed
	rExpired
)

// tally counts one operator's results, indexed as Results.
type tally [len(Results)]atomic.Uint64

// Outcomes are one operator's results since start, by result.
type Outcomes struct {
	Operator string // "" for the messages whose number has no route
	Counts   [len(Results)]uint64
}

// Outcomes returns the results of the attempts by operator, for metrics.
func (d *Dispatcher) Outcomes() []Outcomes {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Outcomes, 0, len(d.tallies))
	for op, t := range d.tallies {
		o := Outcomes{Operator: op}
		for i := range t {
			o.Counts[i] = t[i].Load()
		}
		out = append(out, o)
	}
	return out
}

// talliesLocked returns op's tally, made if need be; d.mu is held.
func (d *Dispatcher) talliesLocked(op string) *tally {
	if d.tallies == nil {
		d.tallies = map[string]*tally{}
	}
	t := d.tallies[op]
	if t == nil {
		t = new(tally)
		d.tallies[op] = t
	}
	return t
}

// tallyOf returns the tally of op, from its bind's state when there is one
// (no lock: the state holds it).
func (d *Dispatcher) tallyOf(op string, st *bindState) *tally {
	if st != nil {
		return st.tally
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.talliesLocked(op)
}

// Stats are the Dispatcher's counters.
type Stats struct {
	Sent      uint64 // messages marked sent
	Deferred  uint64 // messages put back to wait, throttled ones included
	Throttled uint64 // ESME_RTHROTTLED answers
	Failed    uint64 // messages given up
	Expired   uint64 // messages too old to send
	MaybeSent uint64 // retried after a timeout or a connection lost after sending: maybe duplicates
	Stale     uint64 // claims whose lease ran out before their turn: left, not sent, for the next claim
}

// Stats returns the counters.
func (d *Dispatcher) Stats() Stats {
	return Stats{
		Sent: d.c.sent.Load(), Deferred: d.c.deferred.Load(), Throttled: d.c.throttled.Load(),
		Failed: d.c.failed.Load(), Expired: d.c.expired.Load(), MaybeSent: d.c.maybeSent.Load(),
		Stale: d.c.stale.Load(),
	}
}

// Run drains until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	every := d.Every
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		n, err := d.Drain(ctx)
		if err != nil && ctx.Err() == nil {
			d.log().Error("draining the outbox", "err", err)
		}
		if n > 0 && err == nil && ctx.Err() == nil {
			continue // more may have come while it drained: look again at once
		}
		t.Reset(every)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.woken():
		}
	}
}

// Wake tells Run that messages were just written: it looks at once
// instead of at the end of its wait (Every), so that a message written
// while the outbox was empty leaves now, not up to 250 ms later. It never
// blocks; wakes that come while Run is draining make it look once more.
func (d *Dispatcher) Wake() {
	select {
	case d.woken() <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) woken() chan struct{} {
	d.wakeOnce.Do(func() { d.wake = make(chan struct{}, 1) })
	return d.wake
}

// Drain sends what is due now and returns how many messages it handled,
// whatever became of them. It claims the next batch while the last is in
// flight (two batches at most), sends each number's messages in the order
// they were written (one after the other; after one is deferred, the
// next waits behind it, and the store claims none after it until it is
// due), and commits the outcomes of many submits at once. A claim whose lease is about to run out before its turn comes is
// left unsent, for whoever claims it next: never sent twice for that.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	batch := d.claimSize()
	lease := d.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		errs       []error
		slots      = make(chan struct{}, 2*batch)
		n          = 0
		round      = 0 // claimed since the last short claim
		sentBefore = d.c.sent.Load()
		held       map[int64]int        // the claimed messages not done yet: id → attempt
		lanes      = map[string]*lane{} // by operator
	)
	if !d.anyUp() {
		return 0, nil // no bind up here: leave the outbox to the gateways that have one
	}
	if ext, ok := d.Store.(LeaseExtender); ok {
		held = map[int64]int{}
		stop := d.renew(ctx, ext, lease, &mu, held)
		defer func() { wg.Wait(); stop() }()
	} else {
		defer wg.Wait()
	}
	for {
		claimed := d.now()
		msgs, err := d.Store.ClaimMessages(ctx, batch, lease, claimed)
		if err != nil {
			wg.Wait()
			return n, errors.Join(append(errs, fmt.Errorf("outbox: claiming messages: %w", err))...)
		}
		deadline := claimed.Add(lease - lease/4) // a margin for the submit itself
		stopped, err := d.stoppedAmong(ctx, msgs)
		if err != nil {
			wg.Wait()
			return n, errors.Join(append(errs, err)...) // claimed until their lease ends
		}
		if held != nil {
			mu.Lock()
			for _, m := range msgs {
				held[m.ID] = m.Attempts
			}
			mu.Unlock()
		}
		// Each number's latest transactional and latest bulk message of
		// this claim: a transactional message follows the number's
		// transactional ones only (a campaign never delays a case's
		// notification), a bulk one follows both, as the store orders
		// them. The claim is the store's: it never holds a message behind
		// one of its number's still in flight or deferred
		// (ClaimMessages), so the links are the claim's own, and a
		// message claimed again later in this Drain is not held behind
		// its own earlier attempt.
		lastT, lastBulk := map[string]*chain{}, map[string]*chain{}
		for i := range msgs {
			m := &msgs[i] // not a copy a message for its closure to keep on the heap
			slots <- struct{}{}
			mu.Lock()
			prevs := [2]*chain{lastT[m.Phone]}
			next := &chain{done: make(chan struct{})}
			if m.Bulk {
				prevs[1] = lastBulk[m.Phone]
				lastBulk[m.Phone] = next
			} else {
				lastT[m.Phone] = next
			}
			mu.Unlock()
			op, _ := d.route(m.Phone)
			ln := lanes[op]
			if ln == nil {
				ln = d.startLane(op, 2*batch, &wg)
				lanes[op] = ln
			}
			ln.run(func() {
				defer func() { <-slots }()
				var after time.Time // the latest wait of the number's messages before this one
				for _, prev := range prevs {
					if prev != nil {
						<-prev.done
						if prev.deferred.After(after) {
							after = prev.deferred
						}
					}
				}
				var derr error
				// A message whose store failed stays claimed until its
				// lease ends and holds none back here: the next one to its
				// number fails the same way, unless it needs no lookup (a
				// STOP's confirmation goes, TestDispatchOptOutsFail).
				next.deferred, derr = d.deliver(ctx, *m, deadline, after, stopped)
				mu.Lock()
				if derr != nil {
					errs = append(errs, derr)
				}
				// A number's last message is forgotten once it is done,
				// unless it was deferred: a later message to the number
				// still to be queued from this claim must then be deferred
				// behind it. Forgotten at once, a message refused before
				// the loop reached the next one let the next go first.
				if next.deferred.IsZero() {
					if lastT[m.Phone] == next {
						delete(lastT, m.Phone)
					}
					if lastBulk[m.Phone] == next {
						delete(lastBulk, m.Phone)
					}
				}
				if held != nil && held[m.ID] == m.Attempts {
					delete(held, m.ID) // not a later claim's of the same message
				}
				mu.Unlock()
				close(next.done)
			})
		}
		n += len(msgs)
		round += len(msgs)
		mu.Lock()
		failed := len(errs) > 0
		mu.Unlock()
		if len(msgs) == batch && ctx.Err() == nil && !failed {
			continue
		}
		// A short claim: once what is in flight is done, what it deferred
		// for a moment (a throttled bind's pause) may be due. A round that
		// claimed nothing, or sent nothing (a bind that is down), ends the
		// drain.
		wg.Wait()
		mu.Lock()
		err = errors.Join(errs...)
		mu.Unlock()
		if err != nil || ctx.Err() != nil || round == 0 || d.c.sent.Load() == sentBefore {
			return n, cmp.Or(err, ctx.Err())
		}
		round, sentBefore = 0, d.c.sent.Load()
	}
}

// lane runs the deliveries of one operator's messages in the order they
// were claimed, on at most limit goroutines that take them one after
// another: a bind with a window of 100 needs 100 submits waiting for their
// answer and 100 more ready to take their places, not a goroutine for each
// of the claim's thousand messages parked in the window's queue, whose
// stacks the garbage collector scans at every cycle, each grown anew
// through the submit's calls (the gateway's CPU a message fell by a
// sixth). One lane an operator, so that a slow one never holds back
// another's messages. A job waits only for earlier ones (its number's
// message before it), which a goroutine took first: a lane always goes on.
type lane struct {
	jobs    chan func()
	wg      *sync.WaitGroup // the drain's: a job counts from when it is queued
	limit   int32
	running atomic.Int32 // goroutines taking jobs
}

// startLane returns op's lane; queued bounds the jobs it may be given
// before it runs them.
func (d *Dispatcher) startLane(op string, queued int, wg *sync.WaitGroup) *lane {
	limit := queued
	if s, _ := d.sender(op); s != nil {
		if w, ok := s.(windowed); ok && w.Window() > 0 {
			limit = min(limit, 2*w.Window())
		}
	}
	return &lane{jobs: make(chan func(), queued), wg: wg, limit: int32(limit)}
}

// run queues job on the lane, and one goroutine more to take the lane's
// jobs while fewer than its limit do; it never blocks while fewer than
// the lane's queued bound wait.
func (ln *lane) run(job func()) {
	ln.wg.Add(1)
	ln.jobs <- job
	if ln.more() {
		go ln.work()
	}
}

// more counts one goroutine more taking jobs, if the limit allows it.
func (ln *lane) more() bool {
	for {
		n := ln.running.Load()
		if n >= ln.limit {
			return false
		}
		if ln.running.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// work takes the lane's jobs until none is queued. A job queued by a run
// that found the limit reached is taken by a goroutine still counted: one
// that finds the queue empty stops counting itself, then looks again.
func (ln *lane) work() {
	for {
		select {
		case job := <-ln.jobs:
			func() {
				defer ln.wg.Done()
				job()
			}()
		default:
			ln.running.Add(-1)
			if len(ln.jobs) == 0 || !ln.more() {
				return
			}
		}
	}
}

// route is the operator of phone as Routes says, "" if none routes it.
func (d *Dispatcher) route(phone string) (string, bool) {
	op, routed := d.Routes.Operator(phone)
	if !routed {
		op = ""
	}
	return op, routed
}

// LeaseExtender keeps the leases of claimed messages alive while their
// sender works on them: outbox.Memory and postgres.Outbox are.
type LeaseExtender interface {
	ExtendLeases(ctx context.Context, held []outbox.Held, until time.Time) (int, error)
}

// renew extends, every quarter of the lease, the leases of the messages
// in held (under mu) to a lease from now, until the returned stop is
// called: a claim's lease bounds how long a sender that died holds its
// messages, never how long one that lives may take to commit an outcome.
// Without it a submit answered near the end of its claim whose outcome
// waited past the lease (a busy database) was claimed again and sent twice.
func (d *Dispatcher) renew(ctx context.Context, ext LeaseExtender, lease time.Duration, mu *sync.Mutex, held map[int64]int) (stop func()) {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(lease / 4)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
			}
			mu.Lock()
			hs := make([]outbox.Held, 0, len(held))
			for id, attempt := range held {
				hs = append(hs, outbox.Held{ID: id, Attempt: attempt})
			}
			mu.Unlock()
			if _, err := ext.ExtendLeases(rctx, hs, d.now().Add(lease)); err != nil && rctx.Err() == nil {
				d.log().Warn("extending the leases of the messages in hand", "count", len(hs), "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// claimSize is how many messages a claim takes (see Batch).
func (d *Dispatcher) claimSize() int {
	batch := d.Batch
	if batch <= 0 {
		batch = 1000
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	total := 0.0
	for op := range d.Senders {
		r := float64(d.Rate[op])
		if r <= 0 {
			return batch // one operator without a rate: as fast as its binds go
		}
		total += r
	}
	if len(d.Senders) == 0 {
		return batch
	}
	return max(10, min(batch, int(total)))
}

// manyOptOuts is an OptOuts that tells many phones in one look
// (cases.Memory, postgres.Cases).
type manyOptOuts interface {
	OptedOutAmong(ctx context.Context, phones []string) (map[string]bool, error)
}

// stoppedAmong looks up, once for a claim, which of its numbers sent STOP:
// nil when OptOuts tells one phone at a time (each message asks then).
func (d *Dispatcher) stoppedAmong(ctx context.Context, msgs []outbox.Message) (map[string]bool, error) {
	many, ok := d.OptOuts.(manyOptOuts)
	if !ok || len(msgs) == 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	var phones []string
	for _, m := range msgs {
		if !seen[m.Phone] {
			seen[m.Phone] = true
			phones = append(phones, m.Phone)
		}
	}
	out, err := many.OptedOutAmong(ctx, phones)
	if err != nil {
		return nil, fmt.Errorf("outbox: looking up the opt-outs of a claim: %w", err)
	}
	if out == nil {
		out = map[string]bool{}
	}
	return out, nil
}

// upper is a sender that can tell whether it has a bind up (*smpp.Binds).
type upper interface{ Up() bool }

// anyUp reports whether a sender may send now: one that cannot tell counts
// as up.
func (d *Dispatcher) anyUp() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.Senders {
		if u, ok := s.(upper); !ok || u.Up() {
			return true
		}
	}
	return false
}

// chain links the messages to one number in one claim: each waits for the
// one before it, and is deferred behind it when it was (a chain whose
// message was deferred stays the number's tail for the rest of the claim).
type chain struct {
	done     chan struct{}
	deferred time.Time // when the message was deferred to; zero if it was not
}

// deliver sends one claimed message and records what became of it; it
// returns when the message was deferred to, if it was. It returns only the
// store's errors: the message then stays claimed until its lease ends.
// behind is when the number's message before this one was deferred to:
// this one is deferred with it, so that they keep their order.
func (d *Dispatcher) deliver(ctx context.Context, m outbox.Message, deadline, behind time.Time, stopped map[string]bool) (time.Time, error) {
	op, routed := d.route(m.Phone)
	s, st := d.sender(op)
	t := d.tallyOf(op, st)
	validity := orDefault(d.Validity, DefaultValidity)
	if age := d.now().Sub(m.Created); age > validity {
		d.c.expired.Add(1)
		t[rExpired].Add(1)
		return time.Time{}, d.mark(ctx, m, outbox.MessageExpired, fmt.Sprintf("not sent within its validity of %v", validity))
	}
	if !behind.IsZero() {
		return d.retry(ctx, m, t, rDeferred, "waits behind an earlier message to the same number", behind.Sub(d.now()))
	}
	if d.OptOuts != nil && !outbox.Requested(m.Kind) {
		out, err := stopped[m.Phone], error(nil)
		if stopped == nil {
			out, err = d.OptOuts.OptedOut(ctx, m.Phone)
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("outbox: looking up the opt-out of message %d: %w", m.ID, err)
		}
		if out {
			d.c.failed.Add(1)
			t[rFailed].Add(1)
			return time.Time{}, d.mark(ctx, m, outbox.MessageFailed, outbox.ReasonOptedOut)
		}
	}
	if !routed {
		d.c.failed.Add(1)
		t[rFailed].Add(1)
		return time.Time{}, d.mark(ctx, m, outbox.MessageFailed, "no route for this number")
	}
	if s == nil {
		return d.retry(ctx, m, t, rDeferred, "no bind for operator "+op, d.backoff(m.Attempts))
	}
	enc, err := sms.Encode(m.Body, sms.Options{Transliterate: d.Transliterate || d.TransliterateTo[op] || m.Transliterate})
	if err != nil {
		d.c.failed.Add(1)
		t[rFailed].Add(1)
		return time.Time{}, d.mark(ctx, m, outbox.MessageFailed, err.Error())
	}
	var id string
	release := func() {} // the last part's place in the window, until its outcome is committed
	defer func() { release() }()
	for i, part := range enc.Parts {
		source := d.Source
		if src := d.Sources[op]; src != "" {
			source = src
		}
		ton, npi := SourceTON(source)
		sm := &smpp.SubmitSM{
			SourceAddr: source, SourceTON: ton, SourceNPI: npi,
			DestTON: 1, DestNPI: 1, DestAddr: strings.TrimPrefix(m.Phone, "+"),
			ESMClass: enc.ESMClass, DataCoding: enc.DataCoding, ShortMessage: part,
		}
		if i == len(enc.Parts)-1 {
			sm.RegisteredDelivery = 1
		}
		var held *func()
		if i == len(enc.Parts)-1 {
			held = &release
		}
		until := deadline
		if i > 0 {
			until = time.Time{} // begun, a long SMS goes whole: never a part alone, then all again
		}
		if id, err = d.submit(ctx, s, st, sm, until, held); err != nil {
			if errors.Is(err, errStale) {
				// Its claim would end before its turn: back to the queue
				// now (fenced by the attempt: if another claim took it
				// meanwhile, this changes nothing), sent whole later.
				d.c.stale.Add(1)
				return d.retry(ctx, m, t, rStale, "its claim would end before its turn", 0)
			}
			return d.failure(ctx, m, op, st, err)
		}
	}
	// The window's place is given back by the commit (once: the deferred
	// call gives it back if the commit failed).
	release = sync.OnceFunc(release)
	if err := d.record(ctx, outbox.Outcome{ID: m.ID, Attempt: m.Attempts, Status: outbox.MessageSent, Bind: s.Name(), SMSCID: id, Phone: m.Phone}, release); err != nil {
		return time.Time{}, fmt.Errorf("outbox: message %d was sent as %s on %s, recording it: %w", m.ID, id, s.Name(), err)
	}
	d.c.sent.Add(1)
	t[rSent].Add(1)
	if l := d.log(); l.Enabled(ctx, slog.LevelInfo) { // the line's arguments cost, a message, even unwritten
		l.Info("SMS sent", "msg_id", m.ID, "kind", m.Kind, "case_ref", m.CaseRef, "phone", phone.Mask(m.Phone),
			"operator", op, "smsc_id", id, "parts", len(enc.Parts))
	}
	return time.Time{}, nil
}

// errStale is a submit not made because the message's claim ran out first.
var errStale = errors.New("outbox: the claim's lease ran out before the submit")

// record commits an outcome with those of other submits: it returns once
// it is committed, even if ctx ends meanwhile (what the SMSC answered must
// be kept). The wait needs no clock of its own: the batch it joins runs
// under 30 s (batch.Group) and answers every request it holds, a timer a
// message the less.
func (d *Dispatcher) record(ctx context.Context, o outbox.Outcome, committed func()) error {
	wctx := context.WithoutCancel(ctx)
	commits := d.Commits
	if commits == nil {
		d.initOnce.Do(func() {
			d.own = &Commits{Outcomes: d.Store, FlushEvery: d.FlushEvery, FlushRows: d.FlushRows}
		})
		commits = d.own
	}
	return commits.Record(wctx, o, committed)
}

// submit waits for a bind that dropped to be up again (redialWait at
// most), for the bind's pause and rate, then submits with its own
// deadline.
//
// With hold, an answered submit keeps its place in the congestion window
// until the caller calls *hold: the message's outcome is committed, so
// that what a crash may send again (submitted, or answered and not yet
// committed) is never more than a window.
func (d *Dispatcher) submit(ctx context.Context, s Sender, st *bindState, sm *smpp.SubmitSM, deadline time.Time, hold *func()) (string, error) {
	id, err := d.submitOnce(ctx, s, st, sm, deadline, hold)
	if _, ok := s.(upper); ok && errors.Is(err, smpp.ErrNoBind) {
		// The bind dropped between the look and the submit (nothing
		// left): once more, after waiting for the redial.
		id, err = d.submitOnce(ctx, s, st, sm, deadline, hold)
	}
	return id, err
}

// submitOnce is one try of submit.
func (d *Dispatcher) submitOnce(ctx context.Context, s Sender, st *bindState, sm *smpp.SubmitSM, deadline time.Time, hold *func()) (string, error) {
	if u, ok := s.(upper); ok && !u.Up() {
		d.waitUp(ctx, u, st)
	}
	for {
		d.mu.Lock()
		wait := st.paused.Sub(d.now())
		d.mu.Unlock()
		if wait <= 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("outbox: waiting for a throttled bind: %w", ctx.Err())
		}
	}
	if w, ok := s.(windowed); ok && w.Window() > 0 {
		// The binds held here change in a fleet: so does the window.
		d.mu.Lock()
		st.max = float64(w.Window())
		st.cwnd = min(st.cwnd, st.max)
		d.mu.Unlock()
	}
	if err := d.pace(ctx, s, st, deadline); err != nil {
		return "", err
	}
	if !deadline.IsZero() && d.now().After(deadline) {
		return "", errStale
	}
	gen := d.acquire(st)
	if !deadline.IsZero() && d.now().After(deadline) {
		// The window was full long enough for the claim to run out
		// meanwhile (its outcomes waiting for a busy database): another
		// claim may hold the message now.
		d.unacquire(st)
		return "", errStale
	}
	id, err := s.Submit(d.submitCtx.Context(ctx, orDefault(d.SubmitTimeout, DefaultSubmitTimeout)), sm)
	var se *smpp.StatusError
	d.answered(st, errors.As(err, &se) && se.Throttled(), gen)
	if err == nil && hold != nil {
		*hold = func() { d.release(st) }
		return id, nil
	}
	d.release(st)
	return id, err
}

// waitUp waits until u is up again, redialWait at most: one goroutine
// looks, every submit of the bind waits for it.
func (d *Dispatcher) waitUp(ctx context.Context, u upper, st *bindState) {
	d.mu.Lock()
	ch := st.upAgain
	if ch == nil {
		ch = make(chan struct{})
		st.upAgain = ch
		go func() {
			defer func() {
				d.mu.Lock()
				st.upAgain = nil
				d.mu.Unlock()
				close(ch)
			}()
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			limit := time.NewTimer(redialWait)
			defer limit.Stop()
			for !u.Up() {
				select {
				case <-tick.C:
				case <-limit.C:
					return
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	d.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// pace waits for the submit's slot under the bind's rate: its share of
// the operator's, slowed down by throttling, submits evenly spaced. A
// slowdown while it waits (the slots were taken at a rate the SMSC
// refused) takes another.
//
// A slot past deadline (a non-zero claim's end) is not taken: errStale at
// once, rather than a sleep that ends in it.
func (d *Dispatcher) pace(ctx context.Context, s Sender, st *bindState, deadline time.Time) error {
	share := 1.0
	if sh, ok := s.(sharer); ok && sh.Share() > 0 {
		share = sh.Share()
	}
	for {
		d.mu.Lock()
		gen := st.gen
		if st.rate <= 0 {
			d.mu.Unlock()
			return nil
		}
		st.share = share
		now := time.Now()
		slot := now
		for _, t := range []time.Time{st.next, st.pausedWall} {
			if t.After(slot) {
				slot = t
			}
		}
		// (deadline is on the Dispatcher's clock, the slots on the wall's.)
		if !deadline.IsZero() && d.now().Add(slot.Sub(now)).After(deadline) {
			d.mu.Unlock()
			return errStale
		}
		st.next = slot.Add(time.Duration(float64(time.Second) / (float64(st.rate) * share * st.slow)))
		d.mu.Unlock()
		wait := slot.Sub(now)
		if wait <= 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("outbox: waiting for the bind's rate: %w", ctx.Err())
		}
		d.mu.Lock()
		same := st.gen == gen
		d.mu.Unlock()
		if same {
			return nil
		}
	}
}

// acquire waits for room in the bind's congestion window (cwnd) and in
// its window (max, see held), and returns the slowdowns so far: a
// throttle of this submit slows the bind down only if none came since.
// Each answer and each release wakes one waiter (sync.Cond.Signal), not
// all of them: thousands may wait behind a small window.
func (d *Dispatcher) acquire(st *bindState) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	for (st.inflight >= int(st.cwnd) && st.inflight > 0) || (st.held >= int(st.max) && st.held > 0) {
		st.room.Wait()
	}
	st.inflight++
	st.held++
	return st.gen
}

// unacquire gives back what acquire took, for a submit not made.
func (d *Dispatcher) unacquire(st *bindState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st.inflight--
	st.held--
	st.room.Signal()
}

// release ends a submit once its outcome is committed (or it had none to
// commit): its place in the window is free.
func (d *Dispatcher) release(st *bindState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st.held--
	st.room.Signal()
}

// answered ends a submit's wait for its answer: a throttled one halves
// the congestion window (down to one) and the rate (down to a
// sixty-fourth), once for all the submits made before the slowdown, an
// answered one grows the window by 1/cwnd, one more a window's worth, and
// the rate by a twentieth of the configured one a second's worth of
// answers.
func (d *Dispatcher) answered(st *bindState, throttled bool, gen uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if throttled {
		if gen == st.gen { // once for the submits made before the slowdown
			st.cwnd = max(1, min(st.cwnd, float64(st.inflight))/2)
			if st.rate > 0 {
				st.slow = max(minSlow, st.slow/2)
				st.next = time.Now() // the slots waited for are taken again, at the new rate
			}
			st.gen++
		}
	} else {
		st.okSince++
		st.cwnd = min(st.max, st.cwnd+1/st.cwnd)
		if st.rate > 0 {
			st.slow = min(1, st.slow+1/(20*st.slow*st.share*float64(st.rate)))
		}
	}
	st.inflight--
	st.room.Signal()
}

// failure decides on a failed submit by its error.
func (d *Dispatcher) failure(ctx context.Context, m outbox.Message, op string, st *bindState, err error) (time.Time, error) {
	var (
		se *smpp.StatusError
		ce *smpp.ConnError
	)
	t := st.tally
	switch {
	case errors.As(err, &se):
		reason := StatusName(se.Status)
		switch d.action(se) {
		case Throttle:
			d.c.throttled.Add(1)
			pause, started := d.throttle(st)
			if started {
				d.log().Warn("bind throttled: pausing it", "operator", op, "pause", pause)
			}
			return d.retry(ctx, m, t, rThrottled, reason, pause)
		case Retry:
			return d.retry(ctx, m, t, rDeferred, reason, d.backoff(m.Attempts))
		}
		d.c.failed.Add(1)
		t[rFailed].Add(1)
		return time.Time{}, d.mark(ctx, m, outbox.MessageFailed, reason)
	case errors.As(err, &ce):
		// What the SMSC answered before the connection went was read and
		// recorded; this one had no answer: back to the queue at once, for
		// the next bind up (the binds redial within a second).
		reason, r := "connection lost before sending", rDeferred
		if ce.Sent {
			d.c.maybeSent.Add(1)
			reason, r = "connection lost after sending: the SMSC may have accepted it", rMaybeSent
		}
		return d.retry(ctx, m, t, r, reason, 0)
	case errors.Is(err, smpp.ErrTimeout):
		d.c.maybeSent.Add(1)
		return d.retry(ctx, m, t, rMaybeSent, "no answer in time: the SMSC may have accepted it", d.backoff(m.Attempts))
	case errors.Is(err, smpp.ErrNoBind):
		// None of the operator's binds is up here (redialling, or held by
		// another gateway of the fleet): soon again, by whoever has one.
		return d.retry(ctx, m, t, rDeferred, "no bind up for operator "+op, time.Second)
	case errors.Is(err, smpp.ErrInvalid):
		d.c.failed.Add(1)
		t[rFailed].Add(1)
		return time.Time{}, d.mark(ctx, m, outbox.MessageFailed, err.Error())
	case ctx.Err() != nil: // stopping: whoever runs next sends it
		return d.retry(ctx, m, t, rDeferred, "dispatcher stopped before sending", 0)
	}
	return d.retry(ctx, m, t, rDeferred, err.Error(), d.backoff(m.Attempts))
}

// throttle pauses the bind after a throttled submit and returns the
// pause, and whether this throttle started it: a throttle during a pause
// (a submit sent before it began) only waits for its end; one that comes
// within a pause's length of the end of the last doubles it (up to
// ThrottleMax); a later one pauses ThrottlePause.
func (d *Dispatcher) throttle(st *bindState) (time.Duration, bool) {
	base := orDefault(d.ThrottlePause, DefaultThrottlePause)
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Before(st.paused) {
		return st.paused.Sub(now), false
	}
	// Again right after the pause: within its length of its end, and
	// before a congestion window's worth of submits were taken since. An
	// SMSC that takes many, then refuses one, is slowed by the window and
	// the rate, which halved: a longer pause would only idle the bind.
	again := st.pause != 0 && now.Sub(st.paused) <= st.pause && st.okSince < max(1, int(st.cwnd))
	if again {
		st.pause = min(2*st.pause, max(base, orDefault(d.ThrottleMax, DefaultThrottleMax)))
	} else {
		st.pause = base
	}
	st.okSince = 0
	st.paused = now.Add(st.pause)
	st.pausedWall = time.Now().Add(st.pause) // the same, on the wall's clock, for pace
	return st.pause, true
}

func (d *Dispatcher) action(se *smpp.StatusError) string {
	if a, ok := d.Policy[se.Status]; ok {
		return a
	}
	switch {
	case se.Throttled():
		return Throttle
	case se.Retryable():
		return Retry
	}
	return GiveUp
}

// retry defers m by wait and returns when to; t counts it as result r.
func (d *Dispatcher) retry(ctx context.Context, m outbox.Message, t *tally, r int, reason string, wait time.Duration) (time.Time, error) {
	d.c.deferred.Add(1)
	t[r].Add(1)
	until := d.now().Add(max(wait, 0))
	if err := d.record(ctx, outbox.Outcome{ID: m.ID, Attempt: m.Attempts, Status: outbox.MessagePending, Reason: reason, NotBefore: until}, nil); err != nil {
		return until, fmt.Errorf("outbox: deferring message %d (%s): %w", m.ID, reason, err)
	}
	return until, nil
}

func (d *Dispatcher) mark(ctx context.Context, m outbox.Message, status, reason string) error {
	if err := d.record(ctx, outbox.Outcome{ID: m.ID, Attempt: m.Attempts, Status: status, Reason: reason}, nil); err != nil {
		return fmt.Errorf("outbox: marking message %d %s (%s): %w", m.ID, status, reason, err)
	}
	if status == outbox.MessageFailed {
		d.log().Warn("message given up", "msg_id", m.ID, "phone", phone.Mask(m.Phone), "reason", reason)
	}
	return nil
}

// backoff is the wait before the next attempt of a message claimed
// attempts times.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	base, limit := orDefault(d.BackoffBase, DefaultBackoffBase), orDefault(d.BackoffMax, DefaultBackoffMax)
	wait := base
	for i := 1; i < attempts && wait < limit; i++ {
		wait *= 2
	}
	return min(wait, limit)
}

// sender returns an operator's bind and its state, nil if it has none.
func (d *Dispatcher) sender(op string) (Sender, *bindState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.Senders[op]
	if s == nil {
		return nil, nil
	}
	if d.binds == nil {
		d.binds = map[string]*bindState{}
	}
	st := d.binds[op]
	if st == nil {
		st = &bindState{rate: d.Rate[op], slow: 1, share: 1, max: maxCwnd, room: sync.NewCond(&d.mu), tally: d.talliesLocked(op)}
		if w, ok := s.(windowed); ok && w.Window() > 0 {
			st.max = float64(w.Window())
		}
		st.cwnd = st.max
		d.binds[op] = st
	}
	return s, st
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}

// orDefault returns v, or def when v is not positive.
func orDefault(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// SourceTON returns the type of number and numbering plan of a sender: an
// alphanumeric name (GUICHET) is TON 5, NPI 0; a short code (8080) is
// network specific, TON 3, NPI 0; a full number is international, TON 1,
// NPI 1 (E.164).
func SourceTON(source string) (ton, npi uint8) {
	digits := strings.TrimPrefix(source, "+")
	switch {
	case digits == "" || strings.Trim(digits, "0123456789") != "":
		return 5, 0
	case len(digits) <= 8:
		return 3, 0
	}
	return 1, 1
}

// StatusName spells a command_status as reasons keep it:
// "ESME_RINVDSTADR (0x0B)".
func StatusName(status uint32) string {
	if name := smpp.StatusName(status); name != "unknown" {
		return fmt.Sprintf("%s (0x%02X)", name, status)
	}
	return fmt.Sprintf("status 0x%02X", status)
}
