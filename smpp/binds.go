package smpp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoBind is returned by Binds.Submit while none of an operator's binds is
// up: the message waits in the outbox and is tried again.
var ErrNoBind = errors.New("smpp: no bind is up")

// Binds keeps an operator's binds up: it dials each, redials with a capped
// exponential backoff when one drops, spreads submits over the bound ones,
// and unbinds them all on Close.
type Binds struct {
	name  string
	cfg   BindConfig
	hold  Hold   // nil: this process alone binds
	owner string // who holds a bind here: this gateway's name
	log   *slog.Logger
	slots []*slot
	next  atomic.Uint64

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Backoff bounds the wait between dials: Min after the first failure,
	// doubling up to Max (defaults 1 s and 1 min). A refused bind (bad
	// credentials) waits Max at once: it will not mend by itself.
	Min, Max time.Duration
}

type slot struct {
	mu    sync.Mutex
	held  bool // this process holds the right to this bind (always, without Hold)
	bind  *Bind
	since time.Time
	err   error
	gone  Stats // the counters of this slot's binds that dropped
}

// BindStatus is one bind's state, for the status endpoint and metrics.
type BindStatus struct {
	Operator string    `json:"operator"`
	Index    int       `json:"index"`
	Mode     string    `json:"mode"`
	State    string    `json:"state"`            // bound, binding…, down, or standby: another gateway of the fleet holds it
	Holder   string    `json:"holder,omitempty"` // the gateway that holds it, when this one does
	Since    time.Time `json:"since"`
	LastErr  string    `json:"last_error,omitempty"`
}

// NewBinds returns n binds (at least one) to one operator with cfg, not yet
// dialled: Start dials them, with its handler instead of cfg.Handler. What must reply on them (USSD over SMPP) can
// hold them before their handler, which it is part of, exists. Submit
// answers ErrNoBind until a bind is up.
func NewBinds(name string, cfg BindConfig, n int, log *slog.Logger) *Binds {
	return NewFleetBinds(name, cfg, n, nil, "", log)
}

// NewFleetBinds is NewBinds for a gateway of a fleet: each bind is dialled
// only while hold has given this gateway, named owner, the right to it.
func NewFleetBinds(name string, cfg BindConfig, n int, hold Hold, owner string, log *slog.Logger) *Binds {
	if n < 1 {
		n = 1
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Binds{name: name, cfg: cfg, hold: hold, owner: owner, log: log.With("operator", name), Min: time.Second, Max: time.Minute}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	for range n {
		b.slots = append(b.slots, &slot{since: time.Now(), held: hold == nil})
	}
	return b
}

// Start dials the binds with handler h for what the SMSC sends, and keeps
// them up until Close. It is called once.
func (b *Binds) Start(h Handler) {
	b.cfg.Handler = h
	for i, s := range b.slots {
		b.wg.Add(1)
		go b.keep(i, s)
	}
}

// Name is the operator's name.
func (b *Binds) Name() string { return b.name }

func (b *Binds) keep(i int, s *slot) {
	defer b.wg.Done()
	if b.hold == nil {
		b.bindWhile(i, s, nil)
		return
	}
	for b.ctx.Err() == nil {
		lost, release, err := b.hold(b.ctx, i)
		if err != nil {
			if b.ctx.Err() == nil {
				b.log.Warn("could not take the right to a bind; trying again", "bind", i, "err", err)
				sleepCtx(b.ctx, b.Min)
			}
			continue
		}
		s.setHeld(true)
		b.log.Info("this gateway holds the bind", "bind", i, "holder", b.owner)
		b.bindWhile(i, s, lost)
		if b.ctx.Err() != nil { // closing: unbind before another gateway may bind
			s.mu.Lock()
			bind := s.bind
			s.mu.Unlock()
			if bind != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				bind.Close(ctx)
				cancel()
			}
		}
		s.setHeld(false)
		release()
		if b.ctx.Err() == nil {
			b.log.Warn("gave up the right to a bind", "bind", i)
		}
	}
}

// bindWhile keeps bind i up until the Binds close or, with a fleet, until
// lost is closed (the right to it is gone: the bind is closed at once, so
// that another gateway may take it).
func (b *Binds) bindWhile(i int, s *slot, lost <-chan struct{}) {
	wait := time.Duration(0)
	for {
		if wait > 0 {
			select {
			case <-b.ctx.Done():
				return
			case <-lost:
				return
			case <-time.After(wait):
			}
		}
		bind, err := Dial(b.ctx, b.cfg)
		if b.ctx.Err() != nil {
			if bind != nil {
				bind.Close(context.Background())
			}
			return
		}
		if err != nil {
			s.set(nil, err)
			switch {
			case errors.Is(err, ErrBindRejected):
				b.log.Error("the SMSC refused the bind: check system_id and password", "bind", i, "err", err)
				wait = b.Max
			case wait == 0:
				wait = b.Min
			default:
				wait = min(2*wait, b.Max)
			}
			b.log.Warn("could not bind; trying again", "bind", i, "in", wait, "err", err)
			continue
		}
		b.log.Info("bound", "bind", i, "addr", b.cfg.Addr)
		s.set(bind, nil)
		wait = 0
		select {
		case <-b.ctx.Done():
			return
		case <-bind.Done():
		case <-lost:
			bind.Close(context.Background())
			s.set(nil, errors.New("smpp: the right to this bind was lost"))
			return
		}
		s.set(nil, bind.Err())
		// Redial soon, at a time of its own: binds that dropped together
		// (an SMSC restarting) do not come back all at once.
		wait = b.Min/2 + rand.N(b.Min/2+1)
		b.log.Warn("bind lost; binding again", "bind", i, "in", wait, "err", bind.Err())
	}
}

func (s *slot) setHeld(held bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held, s.since = held, time.Now()
}

// sleepCtx waits d, or less if ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (s *slot) set(b *Bind, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bind != nil && s.bind != b {
		s.gone.add(s.bind.Stats())
	}
	s.bind, s.err, s.since = b, err, time.Now()
}

// add sums the counters of o into s (InFlight is a level, not a count).
func (s *Stats) add(o Stats) {
	s.SubmitSent += o.SubmitSent
	s.SubmitOK += o.SubmitOK
	s.SubmitFailed += o.SubmitFailed
	s.Timeouts += o.Timeouts
	s.SubmitTimeouts += o.SubmitTimeouts
	s.InboundAcked += o.InboundAcked
	s.InboundRefused += o.InboundRefused
	s.EnquireLinkSent += o.EnquireLinkSent
	s.EnquireLinkRecv += o.EnquireLinkRecv
	s.GenericNackSent += o.GenericNackSent
	s.GenericNackRecv += o.GenericNackRecv
	s.Unmatched += o.Unmatched
	s.Alerts += o.Alerts
	s.SubmitRTT += o.SubmitRTT
	s.WindowBusy += o.WindowBusy
}

func (s *slot) get() *Bind {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bind != nil && s.bind.State() == StateBound {
		return s.bind
	}
	return nil
}

// Share is the part of the operator's binds that this gateway holds: 1
// alone, less in a fleet while others hold some.
func (b *Binds) Share() float64 {
	held := 0
	for _, s := range b.slots {
		s.mu.Lock()
		if s.held {
			held++
		}
		s.mu.Unlock()
	}
	return float64(held) / float64(len(b.slots))
}

// Window is how many submits the binds held here may have waiting for
// their answer at once: each one's window.
func (b *Binds) Window() int {
	w := b.cfg.Window
	if w <= 0 {
		w = DefaultWindow
	}
	return w * max(1, int(b.Share()*float64(len(b.slots))+0.5))
}

// Up reports whether one of the binds is up here (bound, and held by this
// gateway in a fleet).
func (b *Binds) Up() bool {
	for _, s := range b.slots {
		if s.get() != nil {
			return true
		}
	}
	return false
}

// Submit sends m on the next bound bind, round robin; ErrNoBind when none
// is up.
func (b *Binds) Submit(ctx context.Context, m *SubmitSM) (string, error) {
	start := b.next.Add(1)
	for k := range b.slots {
		if bind := b.slots[(int(start)+k)%len(b.slots)].get(); bind != nil {
			return bind.Submit(ctx, m)
		}
	}
	return "", fmt.Errorf("%s: %w", b.name, ErrNoBind)
}

// Status reports each bind's state.
func (b *Binds) Status() []BindStatus {
	out := make([]BindStatus, len(b.slots))
	for i, s := range b.slots {
		s.mu.Lock()
		st := BindStatus{Operator: b.name, Index: i, Mode: b.cfg.Mode.String(), State: "down", Since: s.since}
		switch {
		case !s.held:
			st.State = "standby"
		case s.bind != nil:
			st.State = s.bind.State().String()
		}
		if s.held && b.hold != nil {
			st.Holder = b.owner
		}
		if s.err != nil {
			st.LastErr = s.err.Error()
		}
		s.mu.Unlock()
		out[i] = st
	}
	return out
}

// Stats sums the counters of every bind since start, those that dropped
// included, so that they only grow; InFlight is the binds' up now.
func (b *Binds) Stats() Stats {
	var sum Stats
	for _, s := range b.slots {
		s.mu.Lock()
		sum.add(s.gone)
		if s.bind != nil {
			st := s.bind.Stats()
			sum.add(st)
			sum.InFlight += st.InFlight
		}
		s.mu.Unlock()
	}
	return sum
}

// Close stops redialling and unbinds every bind cleanly, within ctx.
func (b *Binds) Close(ctx context.Context) {
	b.cancel()
	b.wg.Wait()
	var wg sync.WaitGroup
	for _, s := range b.slots {
		s.mu.Lock()
		bind := s.bind
		s.mu.Unlock()
		if bind != nil {
			wg.Go(func() { bind.Close(ctx) })
		}
	}
	wg.Wait()
}
