// Package delivery drains the outbox to the operators' SMPP binds
// (Dispatcher: rates, throttling, retries with backoff, validity, opt-outs)
// and applies the delivery receipts that come back (Receipts). It is the
// only part of the outbox that knows SMPP, so that the case domain, which
// writes messages, does not.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/sms"
)

// DeliveryStore is what the Dispatcher needs of the outbox: Memory
// and postgres.Outbox have it.
type DeliveryStore interface {
	ClaimMessages(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]outbox.Message, error)
	MarkMessage(ctx context.Context, id int64, status, reason string) error
	// MarkSent records the bind and the SMSC's id of a sent message.
	MarkSent(ctx context.Context, id int64, bind, smscID string) error
	// Defer puts a message back to pending, not claimed before until.
	Defer(ctx context.Context, id int64, reason string, until time.Time) error
}

// OptOuts tells whether a citizen opted out of SMS (sent STOP).
type OptOuts interface {
	OptedOut(ctx context.Context, phone string) (bool, error)
}

// ReasonOptedOut is the reason of a message not sent because its citizen
// opted out.
const ReasonOptedOut = "the citizen sent STOP"

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
	DefaultThrottlePause = time.Second
	DefaultSubmitTimeout = 30 * time.Second
)

// Dispatcher drains the outbox to the operators' binds over SMPP.
//
// A message is claimed with a lease, so that a process killed at any moment
// leaves it pending or claimed again once the lease ends: never lost. It
// may be sent twice when the process dies between the SMSC's answer and
// MarkSent, or when the answer never comes (timeout, connection lost after
// sending): SMPP gives no way to ask.
//
// Each text goes out as one submit_sm per part (sms.Encode), the parts'
// esm_class and data_coding, registered_delivery 1 on the last part only:
// one receipt per message, matched on the last part's id, which MarkSent
// records. A retried long message is sent again whole.
//
// Retries have no count: a message is retried with backoff until it is
// sent, fails for good, or waits past Validity and is marked expired.
type Dispatcher struct {
	Store  DeliveryStore
	Routes Router
	// Senders are the binds by operator, as Routes names them.
	Senders map[string]Sender
	// Source is the source_addr of every message (a short code or a name).
	Source string
	// Policy overrides, per command_status, what smpp.StatusError says of
	// it (PROTOCOLS.md): Throttle for ESME_RTHROTTLED, Retry for the other
	// retryable statuses, GiveUp for the rest.
	Policy map[uint32]string
	// Validity is how long a message may wait to be sent: older, it is
	// marked expired instead (default 24 h).
	Validity time.Duration
	// Rate limits each operator's submit_sm per second (parts count),
	// evenly spaced (no burst); none or 0: only the bind's window limits it.
	Rate map[string]rate.Limit
	// Backoff of a retried message: BackoffBase × 2^(attempts-1), at most
	// BackoffMax (defaults 5 s, 10 min).
	BackoffBase, BackoffMax time.Duration
	// ThrottlePause is how long ESME_RTHROTTLED stops every send on the
	// bind (default 1 s).
	ThrottlePause time.Duration
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
	// instead of sent, except the confirmation of STOP or START itself
	// (Kind KindOptOut).
	OptOuts OptOuts
	Every   time.Duration    // how often Run looks (default 1 s)
	Batch   int              // messages per claim (default 100)
	Lease   time.Duration    // how long a claim holds (default 2 min)
	Now     func() time.Time // nil: time.Now
	Log     *slog.Logger     // nil: discard

	mu    sync.Mutex
	binds map[string]*bindState // by operator
	c     counters
}

// bindState is what the Dispatcher knows of one operator's bind.
type bindState struct {
	limiter *rate.Limiter // nil: no limit
	paused  time.Time     // no submit before it
}

type counters struct {
	sent, deferred, throttled, failed, expired, maybeSent atomic.Uint64
}

// Stats are the Dispatcher's counters.
type Stats struct {
	Sent      uint64 // messages marked sent
	Deferred  uint64 // messages put back to wait, throttled ones included
	Throttled uint64 // ESME_RTHROTTLED answers
	Failed    uint64 // messages given up
	Expired   uint64 // messages too old to send
	MaybeSent uint64 // retried after a timeout or a connection lost after sending: maybe duplicates
}

// Stats returns the counters.
func (d *Dispatcher) Stats() Stats {
	return Stats{
		Sent: d.c.sent.Load(), Deferred: d.c.deferred.Load(), Throttled: d.c.throttled.Load(),
		Failed: d.c.failed.Load(), Expired: d.c.expired.Load(), MaybeSent: d.c.maybeSent.Load(),
	}
}

// Run drains until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	every := d.Every
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.log().Error("draining the outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Drain sends what is due now, batch after batch, each message of a batch
// concurrently (each bind's window bounds what is in flight), and returns
// how many messages it handled, whatever became of them.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	batch := d.Batch
	if batch <= 0 {
		batch = 100
	}
	lease := d.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	n := 0
	for {
		msgs, err := d.Store.ClaimMessages(ctx, batch, lease, d.now())
		if err != nil {
			return n, fmt.Errorf("outbox: claiming messages: %w", err)
		}
		var (
			wg   sync.WaitGroup
			errs = make([]error, len(msgs))
		)
		for i, m := range msgs {
			wg.Go(func() { errs[i] = d.deliver(ctx, m) })
		}
		wg.Wait()
		n += len(msgs)
		if err := errors.Join(errs...); err != nil {
			return n, err
		}
		if len(msgs) < batch || ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
}

// deliver sends one claimed message and records what became of it. It
// returns only the store's errors: the message then stays claimed until
// its lease ends.
func (d *Dispatcher) deliver(ctx context.Context, m outbox.Message) error {
	// What is recorded after a submit is recorded even if ctx ends.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	validity := orDefault(d.Validity, DefaultValidity)
	if age := d.now().Sub(m.Created); age > validity {
		d.c.expired.Add(1)
		return d.mark(wctx, m, outbox.MessageExpired, fmt.Sprintf("not sent within its validity of %v", validity))
	}
	if d.OptOuts != nil && m.Kind != outbox.KindOptOut {
		out, err := d.OptOuts.OptedOut(ctx, m.Phone)
		if err != nil {
			return fmt.Errorf("outbox: looking up the opt-out of message %d: %w", m.ID, err)
		}
		if out {
			d.c.failed.Add(1)
			return d.mark(wctx, m, outbox.MessageFailed, ReasonOptedOut)
		}
	}
	op, ok := d.Routes.Operator(m.Phone)
	if !ok {
		d.c.failed.Add(1)
		return d.mark(wctx, m, outbox.MessageFailed, "no route for this number")
	}
	s, st := d.sender(op)
	if s == nil {
		return d.retry(wctx, m, "no bind for operator "+op, d.backoff(m.Attempts))
	}
	enc, err := sms.Encode(m.Body, sms.Options{Transliterate: d.Transliterate || d.TransliterateTo[op] || m.Transliterate})
	if err != nil {
		d.c.failed.Add(1)
		return d.mark(wctx, m, outbox.MessageFailed, err.Error())
	}
	var id string
	for i, part := range enc.Parts {
		ton, npi := SourceTON(d.Source)
		sm := &smpp.SubmitSM{
			SourceAddr: d.Source, SourceTON: ton, SourceNPI: npi,
			DestTON: 1, DestNPI: 1, DestAddr: strings.TrimPrefix(m.Phone, "+"),
			ESMClass: enc.ESMClass, DataCoding: enc.DataCoding, ShortMessage: part,
		}
		if i == len(enc.Parts)-1 {
			sm.RegisteredDelivery = 1
		}
		if id, err = d.submit(ctx, s, st, sm); err != nil {
			return d.failure(ctx, wctx, m, op, st, err)
		}
	}
	if err := d.Store.MarkSent(wctx, m.ID, s.Name(), id); err != nil {
		return fmt.Errorf("outbox: message %d was sent as %s on %s, recording it: %w", m.ID, id, s.Name(), err)
	}
	d.c.sent.Add(1)
	d.log().Info("SMS sent", "msg_id", m.ID, "kind", m.Kind, "case_ref", m.CaseRef, "phone", phone.Mask(m.Phone),
		"operator", op, "smsc_id", id, "parts", len(enc.Parts))
	return nil
}

// submit waits for the bind's pause and rate, then submits with its own
// deadline.
func (d *Dispatcher) submit(ctx context.Context, s Sender, st *bindState, sm *smpp.SubmitSM) (string, error) {
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
	if st.limiter != nil {
		if err := st.limiter.Wait(ctx); err != nil {
			return "", fmt.Errorf("outbox: waiting for the bind's rate: %w", err)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, orDefault(d.SubmitTimeout, DefaultSubmitTimeout))
	defer cancel()
	return s.Submit(sctx, sm)
}

// failure decides on a failed submit by its error.
func (d *Dispatcher) failure(ctx, wctx context.Context, m outbox.Message, op string, st *bindState, err error) error {
	var (
		se *smpp.StatusError
		ce *smpp.ConnError
	)
	switch {
	case errors.As(err, &se):
		reason := StatusName(se.Status)
		switch d.action(se) {
		case Throttle:
			d.c.throttled.Add(1)
			pause := orDefault(d.ThrottlePause, DefaultThrottlePause)
			d.mu.Lock()
			if until := d.now().Add(pause); until.After(st.paused) {
				st.paused = until
			}
			d.mu.Unlock()
			d.log().Warn("bind throttled: pausing it", "operator", op, "pause", pause)
			return d.retry(wctx, m, reason, pause)
		case Retry:
			return d.retry(wctx, m, reason, d.backoff(m.Attempts))
		}
		d.c.failed.Add(1)
		return d.mark(wctx, m, outbox.MessageFailed, reason)
	case errors.As(err, &ce):
		reason := "connection lost before sending"
		if ce.Sent {
			d.c.maybeSent.Add(1)
			reason = "connection lost after sending: the SMSC may have accepted it"
		}
		return d.retry(wctx, m, reason, d.backoff(m.Attempts))
	case errors.Is(err, smpp.ErrTimeout):
		d.c.maybeSent.Add(1)
		return d.retry(wctx, m, "no answer in time: the SMSC may have accepted it", d.backoff(m.Attempts))
	case errors.Is(err, smpp.ErrInvalid):
		d.c.failed.Add(1)
		return d.mark(wctx, m, outbox.MessageFailed, err.Error())
	case ctx.Err() != nil: // stopping: whoever runs next sends it
		return d.retry(wctx, m, "dispatcher stopped before sending", 0)
	}
	return d.retry(wctx, m, err.Error(), d.backoff(m.Attempts))
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

func (d *Dispatcher) retry(ctx context.Context, m outbox.Message, reason string, wait time.Duration) error {
	d.c.deferred.Add(1)
	if err := d.Store.Defer(ctx, m.ID, reason, d.now().Add(wait)); err != nil {
		return fmt.Errorf("outbox: deferring message %d (%s): %w", m.ID, reason, err)
	}
	return nil
}

func (d *Dispatcher) mark(ctx context.Context, m outbox.Message, status, reason string) error {
	if err := d.Store.MarkMessage(ctx, m.ID, status, reason); err != nil {
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
		st = &bindState{}
		if r := d.Rate[op]; r > 0 {
			st.limiter = rate.NewLimiter(r, 1) // evenly spaced: SMSCs count per second
		}
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
