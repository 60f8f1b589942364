// Package smpp is Guichet's SMPP 3.4 bind (session) layer towards mobile
// operators' SMSCs. It uses go-smpp only to encode PDU bodies; decoding
// inbound messages is ours too (go-smpp refuses PDUs over 4 KiB, which a
// long message_payload may reach, and lets fields overrun their maximum);
// framing, sequence numbers, windowing, response matching, acknowledgement
// of inbound messages and keep-alive are ours (go-smpp's Transmitter and
// Transceiver match responses on the sequence number alone, ack every
// deliver_sm whatever the handler did, drop the connection on data_sm, and
// fail at once on a full window).
package smpp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guichet/guichet/deadline"
)

// Mode is the kind of bind.
type Mode int

// Modes of a bind.
const (
	Transceiver Mode = iota
	Transmitter
	Receiver
)

// String is the mode's name in configuration and status.
func (m Mode) String() string {
	switch m {
	case Transmitter:
		return "transmitter"
	case Receiver:
		return "receiver"
	}
	return "transceiver"
}

func (m Mode) command() uint32 {
	switch m {
	case Transmitter:
		return CmdBindTransmitter
	case Receiver:
		return CmdBindReceiver
	}
	return CmdBindTransceiver
}

// Defaults of BindConfig.
const (
	DefaultWindow      = 10
	DefaultRespTimeout = 10 * time.Second
	DefaultEnquireLink = 30 * time.Second
	inboundConcurrency = 1024
)

// BindConfig configures one bind to one SMSC.
type BindConfig struct {
	Addr       string // host:port
	SystemID   string
	Password   string
	SystemType string
	Mode       Mode
	// Window is the number of our requests outstanding at once; Submit
	// waits for a free slot. Default 10.
	Window int
	// RespTimeout bounds the wait for each response, and the time a
	// Handler has to decide on an inbound message. Default 10 s.
	RespTimeout time.Duration
	// EnquireLink is the keep-alive period. Default 30 s.
	EnquireLink time.Duration
	// Handler receives inbound deliver_sm and data_sm. Without one, they are
	// refused with ESME_RX_T_APPN so that the SMSC keeps them.
	Handler Handler
	Logger  *slog.Logger
	// Observer, if set, is told of every answered submit_sm (metrics).
	Observer Observer
}

// Observer is told, on the submitting goroutine, of each submit_sm the
// SMSC answered: how long the answer took from the write, and its
// command_status (StatusOK, an error, or a generic_nack's). It must be
// cheap: it runs once per submit on the SMS path.
type Observer interface {
	Submitted(rtt time.Duration, status uint32)
}

// Hold takes, for a fleet of gateways, the right to hold one bind of an
// operator (its index among the operator's binds): it blocks until this
// process holds it or ctx ends, and returns a channel closed if the right
// is lost (the lock's connection broke) and the function that gives it
// back. So an SMSC never sees more binds for an account than configured,
// however many gateways run; one that dies gives its binds to the others.
type Hold func(ctx context.Context, index int) (lost <-chan struct{}, release func(), err error)

// Handler decides on one inbound message. Returning nil acknowledges it with
// ESME_ROK: return nil only once the message is safely stored. Any error
// answers ESME_RX_T_APPN and the SMSC delivers it again later.
type Handler func(ctx context.Context, in Inbound) error

// Kind tells a delivery receipt from a message.
type Kind int

// Kinds of Inbound.
const (
	KindMessage Kind = iota
	KindReceipt      // esm_class & 0x3C == 0x04
)

// Inbound is a deliver_sm or data_sm from the SMSC.
type Inbound struct {
	Command      uint32 // CmdDeliverSM or CmdDataSM
	Kind         Kind
	ServiceType  string
	SourceAddr   string
	DestAddr     string
	ESMClass     uint8
	DataCoding   uint8
	ShortMessage []byte // empty for data_sm: see TLVs[TagMessagePayload]
	TLVs         map[uint16][]byte
}

// State of a bind.
type State int32

// States of a bind.
const (
	StateBinding State = iota
	StateBound
	StateUnbinding
	StateClosed
)

func (s State) String() string {
	switch s {
	case StateBinding:
		return "binding"
	case StateBound:
		return "bound"
	case StateUnbinding:
		return "unbinding"
	}
	return "closed"
}

// Stats are a bind's counters since Dial, for metrics.
type Stats struct {
	SubmitSent      uint64 // submit_sm written
	SubmitOK        uint64 // submit_sm_resp ESME_ROK
	SubmitFailed    uint64 // error status, timeout or connection loss
	Timeouts        uint64 // requests of any kind without a response in time
	SubmitTimeouts  uint64 // submit_sm without a response in time (among Timeouts)
	InboundAcked    uint64 // deliver_sm/data_sm answered ESME_ROK
	InboundRefused  uint64 // answered with an error status
	EnquireLinkSent uint64
	EnquireLinkRecv uint64
	GenericNackSent uint64 // answers to requests we do not know
	GenericNackRecv uint64
	Unmatched       uint64 // responses matching no pending request
	Alerts          uint64 // alert_notification received (ignored)
	InFlight        int    // window slots in use now
	// SubmitRTT sums the round trips of answered submit_sm (written to
	// answered): divided by SubmitOK, the SMSC's latency as we see it.
	SubmitRTT time.Duration
	// WindowBusy sums how long window slots were held: divided by the
	// window and a span of time, how full the window was kept.
	WindowBusy time.Duration
}

type counters struct {
	submitSent, submitOK, submitFailed, timeouts            atomic.Uint64
	submitTimeouts                                          atomic.Uint64
	inboundAcked, inboundRefused                            atomic.Uint64
	enquireSent, enquireRecv, nackSent, nackRecv, unmatched atomic.Uint64
	alerts                                                  atomic.Uint64
	submitRTT, windowBusy                                   atomic.Int64 // nanoseconds
}

// ErrUnbound is the cause of a ConnError after the SMSC unbound us.
var ErrUnbound = errors.New("smpp: unbound by the SMSC")

// Bind is one bound SMPP session over one TCP connection. Its methods are
// safe for concurrent use.
type Bind struct {
	cfg  BindConfig
	log  *slog.Logger
	conn net.Conn
	r    *bufio.Reader

	seq      atomic.Uint32
	window   chan struct{}
	inbound  chan struct{}
	work     chan PDU // to a handler's goroutine that waits for one
	state    atomic.Int32
	w        *Writer
	mu       sync.Mutex
	pending  map[uint32]*pending
	closeErr error
	done     chan struct{}
	readDone chan struct{}
	hctx     context.Context
	hcancel  context.CancelFunc
	epoch    time.Time // of clock
	// handlerCtx bounds each handler's call by RespTimeout.
	handlerCtx deadline.Shared
	c          counters
}

// clock is the bind's monotonic time, in nanoseconds since Dial.
func (b *Bind) clock() int64 { return int64(time.Since(b.epoch)) }

// reapEvery is how often the reaper looks for requests past their
// deadline: a tenth of timeout, between 1 ms and 1 s.
func reapEvery(timeout time.Duration) time.Duration {
	return min(max(timeout/10, time.Millisecond), time.Second)
}

// reap answers the requests past their deadline, every reapEvery, until
// the bind is done.
func (b *Bind) reap() {
	t := time.NewTicker(reapEvery(b.cfg.RespTimeout))
	defer t.Stop()
	var late []*pending
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
		}
		now := b.clock()
		b.mu.Lock()
		for seq, pd := range b.pending {
			if d := pd.deadline.Load(); d != 0 && now >= d {
				delete(b.pending, seq)
				late = append(late, pd)
			}
		}
		b.mu.Unlock()
		for i, pd := range late {
			pd.ch <- PDU{} // its only sender: the entry is gone from pending
			late[i] = nil
		}
		late = late[:0]
	}
}

// pending is a request waiting for its response on ch. Once written, its
// deadline is set (Bind.clock's nanoseconds); the reaper then answers it
// with a PDU whose ID is 0 if no response came by then: one goroutine a
// bind looks at the deadlines, instead of a timer a request.
type pending struct {
	respID   uint32
	ch       chan PDU
	deadline atomic.Int64
}

// Dial connects to cfg.Addr and binds. A bind refused by the SMSC returns a
// *StatusError matching ErrBindRejected: do not retry it in a loop.
func Dial(ctx context.Context, cfg BindConfig) (*Bind, error) {
	if cfg.Addr == "" {
		return nil, fmt.Errorf("%w: no SMSC address", ErrInvalid)
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.RespTimeout <= 0 {
		cfg.RespTimeout = DefaultRespTimeout
	}
	if cfg.EnquireLink <= 0 {
		cfg.EnquireLink = DefaultEnquireLink
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("smpp: dialing %s: %w", cfg.Addr, err)
	}
	b := &Bind{
		cfg:      cfg,
		log:      log,
		conn:     conn,
		w:        NewWriter(conn),
		r:        bufio.NewReader(conn),
		window:   make(chan struct{}, cfg.Window),
		inbound:  make(chan struct{}, inboundConcurrency),
		work:     make(chan PDU),
		pending:  make(map[uint32]*pending),
		done:     make(chan struct{}),
		readDone: make(chan struct{}),
		epoch:    time.Now(),
	}
	b.hctx, b.hcancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := b.bind(ctx); err != nil {
		conn.Close()
		b.hcancel()
		b.state.Store(int32(StateClosed))
		return nil, err
	}
	b.state.Store(int32(StateBound))
	go b.readLoop()
	go b.keepAlive()
	go b.reap()
	return b, nil
}

// bind sends the bind request and reads until its response, answering
// enquire_link meanwhile.
func (b *Bind) bind(ctx context.Context) error {
	id := b.cfg.Mode.command()
	body, err := bindBody(id, b.cfg.SystemID, b.cfg.Password, b.cfg.SystemType)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(b.cfg.RespTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := b.conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("smpp: bind: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { b.conn.SetDeadline(time.Now()) })
	defer stop()
	seq := b.nextSeq()
	if _, err := b.conn.Write(PDU{ID: id, Seq: seq, Body: body}.Bytes()); err != nil {
		return fmt.Errorf("smpp: sending %s: %w", commandName(id), ctxErr(ctx, err))
	}
	for {
		p, err := ReadPDU(b.r)
		if err != nil {
			return fmt.Errorf("smpp: waiting for %s_resp: %w", commandName(id), ctxErr(ctx, err))
		}
		switch {
		case p.Seq == seq && (p.ID == id|respBit || p.ID == CmdGenericNack):
			if p.Status != StatusOK || p.ID == CmdGenericNack {
				return &StatusError{Command: id, Status: p.Status}
			}
			if !stop() { // ctx ended as the answer came: the deadline is spoilt
				return fmt.Errorf("smpp: bind: %w", ctx.Err())
			}
			return b.conn.SetDeadline(time.Time{})
		case p.ID == CmdEnquireLink:
			if _, err := b.conn.Write(PDU{ID: CmdEnquireLinkResp, Seq: p.Seq}.Bytes()); err != nil {
				return fmt.Errorf("smpp: bind: %w", err)
			}
		}
	}
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// State returns the bind's state.
func (b *Bind) State() State { return State(b.state.Load()) }

// Done is closed when the connection is gone, for whatever reason; Err
// then says why.
func (b *Bind) Done() <-chan struct{} { return b.done }

// Err returns why the bind closed, or nil while it is open.
func (b *Bind) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closeErr
}

// Stats returns a snapshot of the counters.
func (b *Bind) Stats() Stats {
	return Stats{
		SubmitSent:      b.c.submitSent.Load(),
		SubmitOK:        b.c.submitOK.Load(),
		SubmitFailed:    b.c.submitFailed.Load(),
		Timeouts:        b.c.timeouts.Load(),
		SubmitTimeouts:  b.c.submitTimeouts.Load(),
		InboundAcked:    b.c.inboundAcked.Load(),
		InboundRefused:  b.c.inboundRefused.Load(),
		EnquireLinkSent: b.c.enquireSent.Load(),
		EnquireLinkRecv: b.c.enquireRecv.Load(),
		GenericNackSent: b.c.nackSent.Load(),
		GenericNackRecv: b.c.nackRecv.Load(),
		Unmatched:       b.c.unmatched.Load(),
		Alerts:          b.c.alerts.Load(),
		InFlight:        len(b.window),
		SubmitRTT:       time.Duration(b.c.submitRTT.Load()),
		WindowBusy:      time.Duration(b.c.windowBusy.Load()),
	}
}

// nextSeq allocates a sequence number in 1..0x7FFFFFFF.
func (b *Bind) nextSeq() uint32 {
	for {
		if n := b.seq.Add(1) & 0x7FFFFFFF; n != 0 {
			return n
		}
	}
}

// Submit sends a submit_sm and returns the SMSC's message_id. It waits for
// a window slot until ctx ends. Errors: *StatusError (see Retryable),
// ErrTimeout (sent, outcome unknown), *ConnError (see Sent), ErrInvalid,
// or ctx's error.
func (b *Bind) Submit(ctx context.Context, m *SubmitSM) (string, error) {
	if b.cfg.Mode == Receiver {
		return "", fmt.Errorf("%w: submit_sm on a receiver bind", ErrInvalid)
	}
	body, err := m.MarshalBody()
	if err != nil {
		return "", err
	}
	p, err := b.request(ctx, CmdSubmitSM, body, true)
	if err != nil {
		b.c.submitFailed.Add(1)
		return "", err
	}
	b.c.submitOK.Add(1)
	return cstringBody(p.Body), nil
}

// EnquireLink sends an enquire_link and waits for its response.
func (b *Bind) EnquireLink(ctx context.Context) error {
	b.c.enquireSent.Add(1)
	_, err := b.request(ctx, CmdEnquireLink, nil, false)
	return err
}

// request sends a request and waits for the response whose sequence number
// AND command id (or generic_nack) match.
func (b *Bind) request(ctx context.Context, id uint32, body []byte, windowed bool) (PDU, error) {
	if err := ctx.Err(); err != nil {
		return PDU{}, fmt.Errorf("smpp: %s not sent: %w", commandName(id), err)
	}
	if windowed {
		select {
		case b.window <- struct{}{}:
			held := time.Now()
			defer func() {
				<-b.window
				b.c.windowBusy.Add(int64(time.Since(held)))
			}()
		case <-b.done:
			return PDU{}, &ConnError{Err: b.Err()}
		case <-ctx.Done():
			return PDU{}, fmt.Errorf("smpp: waiting for a window slot: %w", ctx.Err())
		}
	}
	seq := b.nextSeq()
	pd := &pending{respID: id | respBit, ch: make(chan PDU, 1)}
	b.mu.Lock()
	if b.closeErr != nil {
		err := b.closeErr
		b.mu.Unlock()
		return PDU{}, &ConnError{Err: err}
	}
	b.pending[seq] = pd
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.pending, seq)
		b.mu.Unlock()
	}()
	if id == CmdSubmitSM {
		b.c.submitSent.Add(1)
	}
	if sent, err := b.write(ctx, PDU{ID: id, Seq: seq, Body: body}); err != nil {
		return PDU{}, &ConnError{Sent: sent, Err: err}
	}
	written := time.Now()
	pd.deadline.Store(b.clock() + int64(b.cfg.RespTimeout))
	select {
	case p := <-pd.ch:
		if p.ID == 0 { // the reaper's: no response by the deadline
			b.c.timeouts.Add(1)
			if id == CmdSubmitSM {
				b.c.submitTimeouts.Add(1)
			}
			return PDU{}, fmt.Errorf("smpp: %s seq %d after %v: %w", commandName(id), seq, b.cfg.RespTimeout, ErrTimeout)
		}
		if id == CmdSubmitSM {
			rtt := time.Since(written)
			b.c.submitRTT.Add(int64(rtt))
			if b.cfg.Observer != nil {
				b.cfg.Observer.Submitted(rtt, p.Status)
			}
		}
		return response(id, p)
	case <-b.done:
		select {
		case p := <-pd.ch:
			if p.ID != 0 { // answered as the bind went, not the reaper's
				return response(id, p)
			}
		default:
		}
		return PDU{}, &ConnError{Sent: true, Err: b.Err()}
	case <-ctx.Done():
		return PDU{}, fmt.Errorf("smpp: %s sent, the SMSC may have accepted it: %w", commandName(id), ctx.Err())
	}
}

func response(id uint32, p PDU) (PDU, error) {
	if p.ID == CmdGenericNack || p.Status != StatusOK {
		return p, &StatusError{Command: id, Status: p.Status}
	}
	return p, nil
}

// write sends one PDU; sent reports whether any octet left. A failed write
// closes the bind: the stream may be cut inside a PDU.
// PDUs written at the same time share a write (Writer).
func (b *Bind) write(ctx context.Context, p PDU) (sent bool, err error) {
	deadline := time.Now().Add(b.cfg.RespTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	sent, err = b.w.Write(p, deadline)
	if err != nil {
		b.fail(fmt.Errorf("smpp: writing %s: %w", commandName(p.ID), err))
		return sent, b.Err()
	}
	return true, nil
}

// fail closes the connection once, recording why.
func (b *Bind) fail(err error) {
	b.mu.Lock()
	if b.closeErr != nil {
		b.mu.Unlock()
		return
	}
	b.closeErr = err
	b.mu.Unlock()
	b.state.Store(int32(StateClosed))
	b.conn.Close()
	close(b.done)
}

func (b *Bind) readLoop() {
	defer close(b.readDone)
	for {
		p, err := ReadPDU(b.r)
		if err != nil {
			b.fail(fmt.Errorf("smpp: connection lost: %w", err))
			return
		}
		if p.IsResponse() {
			b.dispatchResponse(p)
			continue
		}
		switch p.ID {
		case CmdEnquireLink:
			b.c.enquireRecv.Add(1)
			b.respond(PDU{ID: CmdEnquireLinkResp, Seq: p.Seq})
		case CmdDeliverSM, CmdDataSM:
			select {
			case b.inbound <- struct{}{}:
			case <-b.done:
				return
			}
			select {
			case b.work <- p: // a handler's goroutine waits for one
			default:
				go b.handleFrom(p)
			}
		case CmdUnbind:
			b.respond(PDU{ID: CmdUnbindResp, Seq: p.Seq})
			b.fail(ErrUnbound)
			return
		case CmdAlertNotification:
			b.c.alerts.Add(1)
		default:
			b.c.nackSent.Add(1)
			b.respond(PDU{ID: CmdGenericNack, Status: StatusInvCmdID, Seq: p.Seq})
		}
	}
}

// handlerIdle is how long a handler's goroutine waits for the next
// inbound message before it ends.
const handlerIdle = time.Second

// handleFrom handles p, then the inbound messages the read loop hands it
// while they come, each with its slot of b.inbound. Its goroutine and the
// stack it grew in the handler (a receipt's commit) serve the next: a new
// goroutine a message grew its stack three times a receipt, under the
// runtime's lock of stacks, a tenth of the gateway's CPU.
func (b *Bind) handleFrom(p PDU) {
	idle := time.NewTimer(handlerIdle)
	defer idle.Stop()
	for {
		b.handle(p)
		<-b.inbound
		idle.Reset(handlerIdle)
		select {
		case p = <-b.work:
		case <-idle.C:
			return
		case <-b.done:
			return
		}
	}
}

func (b *Bind) dispatchResponse(p PDU) {
	if p.ID == CmdGenericNack {
		b.c.nackRecv.Add(1)
	}
	b.mu.Lock()
	pd, ok := b.pending[p.Seq]
	if ok && (p.ID == pd.respID || p.ID == CmdGenericNack) {
		delete(b.pending, p.Seq)
		b.mu.Unlock()
		pd.ch <- p
		return
	}
	b.mu.Unlock()
	b.c.unmatched.Add(1)
	b.log.Warn("unmatched response", "command", commandName(p.ID), "seq", p.Seq, "status", p.Status)
}

// respond writes a response; a failure closes the bind, which is all there
// is to do about it.
func (b *Bind) respond(p PDU) {
	_, _ = b.write(b.hctx, p)
}

// handle decodes an inbound message, calls the handler and answers
// ESME_ROK only if it returned nil.
func (b *Bind) handle(p PDU) {
	status := b.decide(p)
	if status == StatusOK {
		b.c.inboundAcked.Add(1)
	} else {
		b.c.inboundRefused.Add(1)
	}
	// deliver_sm_resp and data_sm_resp both carry a message_id, NULL here.
	b.respond(PDU{ID: p.ID | respBit, Status: status, Seq: p.Seq, Body: []byte{0}})
}

func (b *Bind) decide(p PDU) uint32 {
	in, err := parseInbound(p)
	if err != nil {
		b.log.Error("undecodable inbound message refused", "command", commandName(p.ID), "seq", p.Seq, "err", err)
		return StatusXPAppn
	}
	if b.cfg.Handler == nil {
		b.log.Warn("inbound message without handler refused", "command", commandName(p.ID), "seq", p.Seq)
		return StatusXTAppn
	}
	if err := callHandler(b.handlerCtx.Context(b.hctx, b.cfg.RespTimeout), b.cfg.Handler, in); err != nil {
		b.log.Warn("inbound message refused for redelivery", "command", commandName(p.ID), "seq", p.Seq, "err", err)
		return StatusXTAppn
	}
	return StatusOK
}

// callHandler turns a handler's panic into an error: the message is
// refused for redelivery instead of the process dying with it.
func callHandler(ctx context.Context, h Handler, in Inbound) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("smpp: handler panicked: %v", r)
		}
	}()
	return h(ctx, in)
}

func parseInbound(p PDU) (Inbound, error) {
	if p.ID == CmdDataSM {
		d, err := ParseDataSM(p.Body)
		if err != nil {
			return Inbound{}, err
		}
		return Inbound{
			Command: CmdDataSM, Kind: kindOf(d.ESMClass), ServiceType: d.ServiceType,
			SourceAddr: d.SourceAddr, DestAddr: d.DestAddr, ESMClass: d.ESMClass,
			DataCoding: d.DataCoding, TLVs: d.TLVs,
		}, nil
	}
	m, err := ParseMessage(p.Body)
	if err != nil {
		return Inbound{}, err
	}
	return Inbound{
		Command: CmdDeliverSM, Kind: kindOf(m.ESMClass), ServiceType: m.ServiceType,
		SourceAddr: m.SourceAddr, DestAddr: m.DestAddr, ESMClass: m.ESMClass,
		DataCoding: m.DataCoding, ShortMessage: m.ShortMessage, TLVs: m.TLVs,
	}, nil
}

func kindOf(esmClass uint8) Kind {
	if esmClass&0x3C == 0x04 {
		return KindReceipt
	}
	return KindMessage
}

func (b *Bind) keepAlive() {
	t := time.NewTicker(b.cfg.EnquireLink)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
			err := b.EnquireLink(b.hctx)
			var se *StatusError
			if err != nil && !errors.As(err, &se) {
				b.fail(fmt.Errorf("smpp: enquire_link failed, link presumed dead: %w", err))
				return
			}
		}
	}
}

// Close unbinds, waiting up to RespTimeout (and ctx) for unbind_resp, lets
// running handlers answer until ctx ends, then closes the connection. It
// returns the unbind's error, if any; the connection is closed in any case.
func (b *Bind) Close(ctx context.Context) error {
	if !b.state.CompareAndSwap(int32(StateBound), int32(StateUnbinding)) {
		<-b.readDone
		return nil
	}
	_, uerr := b.request(ctx, CmdUnbind, nil, false)
	// Take every inbound slot: running handlers have answered.
	taken := 0
wait:
	for ; taken < cap(b.inbound); taken++ {
		select {
		case b.inbound <- struct{}{}:
		case <-ctx.Done():
			break wait
		case <-b.done:
			break wait
		}
	}
	b.fail(ErrClosed)
	<-b.readDone
	b.hcancel()
	if uerr != nil {
		return fmt.Errorf("smpp: unbind: %w", uerr)
	}
	return nil
}

// Demux returns the handler that gives each inbound message to its one
// owner: delivery receipts to receipts, the rest (citizens' SMS) to
// messages. A nil handler refuses its kind, so that the SMSC keeps it.
func Demux(receipts, messages Handler) Handler {
	return func(ctx context.Context, in Inbound) error {
		h := messages
		if in.Kind == KindReceipt {
			h = receipts
		}
		if h == nil {
			return fmt.Errorf("smpp: no handler for this inbound message")
		}
		return h(ctx, in)
	}
}
