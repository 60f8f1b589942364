// Package smsc is an SMPP 3.4 SMSC simulator: it accepts binds (receiver,
// transmitter, transceiver), answers submit_sm with a message id, sends
// delivery receipts, injects inbound SMS and USSD (deliver_sm, data_sm) and
// redelivers what the ESME refuses for a while, and records every PDU for
// inspection. Options turn on an operator's faults: throttling, dropped
// connections, slow answers, sequence number collisions, silence.
//
// It ships in the binary: guichet smsc runs one, and the embedded default
// starts one in-process so that a newcomer sees SMS leave and receipts come
// back. Tests use it through smpp/smsctest.
package smsc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/guichet/guichet/smpp"
)

// IDFormat is how message ids are written.
type IDFormat int

// Message id forms: some operators answer submit_sm in hex and write the
// same id in decimal in the receipt.
const (
	Hex IDFormat = iota
	Decimal
)

func (f IDFormat) format(n uint64) string {
	if f == Decimal {
		return strconv.FormatUint(n, 10)
	}
	return fmt.Sprintf("%08X", n)
}

// Options configure a Server. The zero value accepts any bind and answers
// every submit_sm at once.
type Options struct {
	// Keep bounds what the simulator remembers of each kind (submits, PDUs
	// received, acknowledgements): past it, the oldest half is forgotten.
	// 0: DefaultKeep.
	Keep int
	// SubmitsOnly remembers the submits alone, not every PDU received
	// (Received and Acks stay empty): `guichet smsc` lists only those, and
	// a benchmark's hundred thousand PDUs kept, bodies and all, are memory
	// and garbage collection on the simulator's thread.
	SubmitsOnly bool
	// SystemID and Password, when set, are checked on bind
	// (ESME_RINVSYSID, ESME_RINVPASWD).
	SystemID, Password string
	IDFormat           IDFormat // in submit_sm_resp
	ReceiptIDFormat    IDFormat // in receipts
	// Receipts sends a delivery receipt, ReceiptDelay after the answer, for
	// each accepted submit_sm asking for one (registered_delivery & 1).
	Receipts        bool
	ReceiptDelay    time.Duration
	ReceiptAsDataSM bool // receipts as data_sm instead of deliver_sm
	// ThrottleEvery answers every Nth submit_sm ESME_RTHROTTLED.
	ThrottleEvery int
	// Window is the SMSC's own window per session: a submit_sm that
	// arrives while Window of its session wait for their answer is answered
	// ESME_RTHROTTLED at once (an SMSC whose window is smaller than ours).
	// 0: none.
	Window int
	// Rate is the submit_sm per second the account may send, all its
	// sessions together (its TPS): one over it is answered ESME_RTHROTTLED
	// at once; a twentieth of a second's worth may come at once. 0: none.
	Rate float64
	// DropAfter closes a connection, unanswered, on its Nth PDU received.
	DropAfter int
	// RespDelay delays every submit_sm_resp (slow SMSC, benchmark RTT).
	RespDelay time.Duration
	// CollideSeq sends, before answering each submit_sm, a deliver_sm that
	// carries the submit_sm's own sequence number, then a stray
	// enquire_link_resp with that sequence number too.
	CollideSeq bool
	// NackSubmits answers every submit_sm with generic_nack ESME_RINVCMDID,
	// like an SMSC that does not take submit_sm on this bind.
	NackSubmits bool
	// Ignore lists command ids read and recorded but never answered
	// (unbind, enquire_link, submit_sm...): an SMSC gone silent.
	Ignore []uint32
	// Redeliver is how many times Inject sends again a message refused
	// with a temporary status (ESME_RX_T_APPN, ESME_RSYSERR, ...), after
	// RedeliverDelay.
	Redeliver      int
	RedeliverDelay time.Duration
	// Now stamps receipts; time.Now when nil.
	Now func() time.Time
}

// Submitted is one submit_sm as the simulator received it.
type Submitted struct {
	Seq       uint32
	Bind      uint32 // the bind command of the session it came on
	Message   smpp.Message
	MessageID string // empty when refused
	Status    uint32
}

// DefaultKeep is how many of each kind a simulator remembers by default.
const DefaultKeep = 200_000

// remember appends v to list, forgetting the oldest half once it holds
// keep: a simulator that runs for days stays bounded.
func remember[T any](list []T, v T, keep int) []T {
	if keep <= 0 {
		keep = DefaultKeep
	}
	if len(list) >= keep {
		list = append(list[:0:0], list[len(list)-keep/2:]...)
	}
	return append(list, v)
}

// Server is an SMSC simulator listening on one address.
type Server struct {
	opts   Options
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	seq    atomic.Uint32

	mu        sync.Mutex
	sessions  []*session // bound sessions, latest last
	maxBound  int        // the most sessions bound at once
	conns     map[*session]struct{}
	submitted []Submitted
	received  []smpp.PDU
	acks      []smpp.PDU
	submits   int
	accepted  int
	lastID    uint64
	tps       *rate.Limiter // nil: Options.Rate 0
}

// NewServer starts a simulator on 127.0.0.1:0, a port of its own. It panics
// if it cannot listen, like httptest.NewServer.
func NewServer(opts Options) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("smsc: listening: %v", err))
	}
	return Serve(ln, opts)
}

// Serve runs a simulator on ln (guichet smsc listens where it is told).
func Serve(ln net.Listener, opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, ln: ln, conns: map[*session]struct{}{}, lastID: 0x1000}
	if opts.Rate > 0 {
		s.tps = rate.NewLimiter(rate.Limit(opts.Rate), max(1, int(opts.Rate/20)))
	}
	s.seq.Store(1_000_000_000)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.accept()
	return s
}

// Addr returns host:port to dial.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, closes every connection and waits for the
// simulator's goroutines.
func (s *Server) Close() {
	s.cancel()
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Submitted returns every submit_sm received, in order, refused ones
// included (with their Status).
func (s *Server) Submitted() []Submitted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Submitted(nil), s.submitted...)
}

// Bound returns how many sessions are bound now, and the most that were
// bound at once since the simulator started: what an operator counts
// against an account's binds.
func (s *Server) Bound() (now, most int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions), s.maxBound
}

// Accepted counts the submit_sm answered ESME_ROK since the simulator
// started, however many it remembers.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Received returns every PDU received, in order.
func (s *Server) Received() []smpp.PDU {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smpp.PDU(nil), s.received...)
}

// Acks returns the responses the ESME sent to the simulator's requests
// (deliver_sm_resp, data_sm_resp, enquire_link_resp, generic_nack...).
func (s *Server) Acks() []smpp.PDU {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smpp.PDU(nil), s.acks...)
}

// ErrNotBound is returned when no session is bound to send to.
var ErrNotBound = errors.New("smsc: no bound session")

// Send writes a request to the latest bound session that may receive (a
// receiver or a transceiver) and returns the
// ESME's response, whatever its command id. A zero Seq is allocated.
func (s *Server) Send(ctx context.Context, p smpp.PDU) (smpp.PDU, error) {
	c := s.latest()
	if c == nil {
		return smpp.PDU{}, ErrNotBound
	}
	return c.call(ctx, p)
}

// Write writes a PDU to the latest session Send would use, without waiting for a
// response (alert_notification, raw responses).
func (s *Server) Write(p smpp.PDU) error {
	c := s.latest()
	if c == nil {
		return ErrNotBound
	}
	if p.Seq == 0 {
		p.Seq = s.seq.Add(1)
	}
	return c.write(p)
}

// Inject delivers an inbound message (deliver_sm, or data_sm when
// in.Command is smpp.CmdDataSM) and returns nil when the ESME acknowledged
// it ESME_ROK, or a *smpp.StatusError with its last answer. A temporary
// refusal is redelivered Options.Redeliver times.
func (s *Server) Inject(ctx context.Context, in smpp.Inbound) error {
	return s.inject(ctx, s.latest, in)
}

// InjectOn is Inject on the n-th (from 0) of the sessions bound now that
// may receive, in the order they bound: an SMSC that spreads what it
// delivers over an account's binds.
func (s *Server) InjectOn(ctx context.Context, n int, in smpp.Inbound) error {
	return s.inject(ctx, func() *session { return s.receiver(n) }, in)
}

func (s *Server) inject(ctx context.Context, to func() *session, in smpp.Inbound) error {
	p := smpp.PDU{ID: smpp.CmdDeliverSM}
	if in.Command == smpp.CmdDataSM {
		p.ID = smpp.CmdDataSM
		d := smpp.DataSM{ServiceType: in.ServiceType, SourceAddr: in.SourceAddr, DestAddr: in.DestAddr,
			ESMClass: in.ESMClass, DataCoding: in.DataCoding, TLVs: in.TLVs}
		p.Body = d.MarshalBody()
	} else {
		m := smpp.Message{ServiceType: in.ServiceType, SourceAddr: in.SourceAddr, DestAddr: in.DestAddr,
			ESMClass: in.ESMClass, DataCoding: in.DataCoding, ShortMessage: in.ShortMessage, TLVs: in.TLVs}
		body, err := m.MarshalBody()
		if err != nil {
			return err
		}
		p.Body = body
	}
	for attempt := 0; ; attempt++ {
		c := to()
		if c == nil {
			return ErrNotBound
		}
		p.Seq = 0
		resp, err := c.call(ctx, p)
		if err != nil {
			return err
		}
		if resp.Status == smpp.StatusOK && resp.ID == p.ID|0x80000000 {
			return nil
		}
		serr := &smpp.StatusError{Command: p.ID, Status: resp.Status}
		if !serr.Retryable() || attempt >= s.opts.Redeliver {
			return serr
		}
		select {
		case <-time.After(s.opts.RedeliverDelay):
		case <-ctx.Done():
			return fmt.Errorf("smsc: waiting to redeliver: %w", ctx.Err())
		}
	}
}

// USSD builds an inbound USSD PDU: service_type USSD, ussd_service_op and
// its_session_info (session number; sequence in bits 7..1, end flag bit 0).
func USSD(from, to string, op uint8, session, seqAndEnd uint8, text string) smpp.Inbound {
	return smpp.Inbound{
		ServiceType: "USSD", SourceAddr: from, DestAddr: to, ShortMessage: []byte(text),
		TLVs: map[uint16][]byte{
			smpp.TagUSSDServiceOp:  {op},
			smpp.TagITSSessionInfo: {session, seqAndEnd},
		},
	}
}

// EnquireLink sends enquire_link to the latest session and checks the answer.
func (s *Server) EnquireLink(ctx context.Context) error {
	resp, err := s.Send(ctx, smpp.PDU{ID: smpp.CmdEnquireLink})
	if err != nil {
		return err
	}
	if resp.ID != smpp.CmdEnquireLinkResp || resp.Status != smpp.StatusOK {
		return fmt.Errorf("smsc: enquire_link answered %#08x status %#x", resp.ID, resp.Status)
	}
	return nil
}

// Unbind unbinds the latest session, waits for unbind_resp and closes it.
func (s *Server) Unbind(ctx context.Context) error {
	c := s.latest()
	if c == nil {
		return ErrNotBound
	}
	resp, err := c.call(ctx, smpp.PDU{ID: smpp.CmdUnbind})
	c.conn.Close()
	if err != nil {
		return err
	}
	if resp.ID != smpp.CmdUnbindResp {
		return fmt.Errorf("smsc: unbind answered %#08x", resp.ID)
	}
	return nil
}

// DropAll closes every connection at once, without unbind.
func (s *Server) DropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.conn.Close()
	}
}

// latest returns the latest bound session that may receive: deliver_sm and
// data_sm never go to a transmitter.
func (s *Server) latest() *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.sessions) - 1; i >= 0; i-- {
		c := s.sessions[i]
		select {
		case <-c.done:
		default:
			if c.receives() {
				return c
			}
		}
	}
	return nil
}

// receiver returns the n-th bound session that may receive, nil if there
// are not that many.
func (s *Server) receiver(n int) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.sessions {
		select {
		case <-c.done:
			continue
		default:
		}
		if c.receives() {
			if n == 0 {
				return c
			}
			n--
		}
	}
	return nil
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &session{srv: s, conn: conn, w: smpp.NewWriter(conn), pending: map[uint32]chan smpp.PDU{}, done: make(chan struct{})}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serve()
		}()
	}
}

type session struct {
	srv  *Server
	conn net.Conn
	w    *smpp.Writer
	done chan struct{}

	mu       sync.Mutex
	pending  map[uint32]chan smpp.PDU
	bound    bool
	mode     uint32 // the bind command it bound with
	inflight int    // submits waiting for their answer
}

// sends reports whether the session may submit (transmitter, transceiver).
func (c *session) sends() bool { return c.mode != smpp.CmdBindReceiver }

// receives reports whether the SMSC may deliver to it (receiver,
// transceiver).
func (c *session) receives() bool { return c.mode != smpp.CmdBindTransmitter }

func (c *session) write(p smpp.PDU) error {
	_, err := c.w.Write(p, time.Time{})
	return err
}

func (c *session) call(ctx context.Context, p smpp.PDU) (smpp.PDU, error) {
	if p.Seq == 0 {
		p.Seq = c.srv.seq.Add(1)
	}
	ch := make(chan smpp.PDU, 1)
	c.mu.Lock()
	c.pending[p.Seq] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, p.Seq)
		c.mu.Unlock()
	}()
	if err := c.write(p); err != nil {
		return smpp.PDU{}, fmt.Errorf("smsc: writing: %w", err)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-c.done:
		select {
		case r := <-ch:
			return r, nil
		default:
		}
		return smpp.PDU{}, errors.New("smsc: connection closed before the response")
	case <-ctx.Done():
		return smpp.PDU{}, fmt.Errorf("smsc: waiting for the response: %w", ctx.Err())
	}
}

func (c *session) serve() {
	s := c.srv
	defer func() {
		close(c.done)
		c.conn.Close()
		s.mu.Lock()
		delete(s.conns, c)
		if i := slices.Index(s.sessions, c); i >= 0 { // a session gone is no longer bound
			s.sessions = slices.Delete(s.sessions, i, i+1)
		}
		s.mu.Unlock()
	}()
	r := bufio.NewReader(c.conn)
	for n := 1; ; n++ {
		p, err := smpp.ReadPDU(r)
		if err != nil {
			return
		}
		if !s.opts.SubmitsOnly {
			s.mu.Lock()
			s.received = remember(s.received, p, s.opts.Keep)
			if p.IsResponse() {
				s.acks = remember(s.acks, p, s.opts.Keep)
			}
			s.mu.Unlock()
		}
		if s.opts.DropAfter > 0 && n >= s.opts.DropAfter {
			return
		}
		if p.IsResponse() {
			c.mu.Lock()
			ch := c.pending[p.Seq]
			delete(c.pending, p.Seq)
			c.mu.Unlock()
			if ch != nil {
				ch <- p
			}
			continue
		}
		if slices.Contains(s.opts.Ignore, p.ID) {
			continue
		}
		switch p.ID {
		case smpp.CmdBindReceiver, smpp.CmdBindTransmitter, smpp.CmdBindTransceiver:
			c.bind(p)
		case smpp.CmdSubmitSM:
			c.submit(p)
		case smpp.CmdEnquireLink:
			c.write(smpp.PDU{ID: smpp.CmdEnquireLinkResp, Seq: p.Seq})
		case smpp.CmdUnbind:
			c.write(smpp.PDU{ID: smpp.CmdUnbindResp, Seq: p.Seq})
			return
		default:
			c.write(smpp.PDU{ID: smpp.CmdGenericNack, Status: smpp.StatusInvCmdID, Seq: p.Seq})
		}
	}
}

func (c *session) bind(p smpp.PDU) {
	s := c.srv
	status := smpp.StatusOK
	req, err := smpp.ParseBind(p.Body)
	switch {
	case err != nil:
		status = smpp.StatusBindFail
	case s.opts.SystemID != "" && req.SystemID != s.opts.SystemID:
		status = smpp.StatusInvSysID
	case s.opts.Password != "" && req.Password != s.opts.Password:
		status = smpp.StatusInvPaswd
	}
	if status == smpp.StatusOK {
		c.mu.Lock()
		c.bound, c.mode = true, p.ID
		c.mu.Unlock()
		s.mu.Lock()
		s.sessions = append(s.sessions, c)
		s.maxBound = max(s.maxBound, len(s.sessions))
		s.mu.Unlock()
	}
	c.write(smpp.PDU{ID: p.ID | 0x80000000, Status: status, Seq: p.Seq, Body: smpp.CString("smsc")})
}

func (c *session) submit(p smpp.PDU) {
	s := c.srv
	c.mu.Lock()
	bound := c.bound && c.sends()
	c.mu.Unlock()
	if !bound { // not bound, or bound as a receiver
		c.write(smpp.PDU{ID: smpp.CmdSubmitSMResp, Status: 0x04, Seq: p.Seq}) // ESME_RINVBNDSTS
		return
	}
	if s.opts.NackSubmits {
		c.write(smpp.PDU{ID: smpp.CmdGenericNack, Status: smpp.StatusInvCmdID, Seq: p.Seq})
		return
	}
	sub := Submitted{Seq: p.Seq, Bind: c.mode}
	m, err := smpp.ParseMessage(p.Body)
	c.mu.Lock()
	full := s.opts.Window > 0 && c.inflight >= s.opts.Window || s.tps != nil && !s.tps.Allow()
	if !full {
		c.inflight++
	}
	c.mu.Unlock()
	if full {
		c.write(smpp.PDU{ID: smpp.CmdSubmitSMResp, Status: smpp.StatusThrottled, Seq: p.Seq})
		s.mu.Lock()
		s.submitted = remember(s.submitted, Submitted{Seq: p.Seq, Bind: c.mode, Status: smpp.StatusThrottled}, s.opts.Keep)
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	s.submits++
	var id uint64
	switch {
	case err != nil:
		sub.Status = 0x01 // ESME_RINVMSGLEN
	case s.opts.ThrottleEvery > 0 && s.submits%s.opts.ThrottleEvery == 0:
		sub.Status = smpp.StatusThrottled
		sub.Message = *m
	default:
		s.lastID++
		s.accepted++
		id = s.lastID
		sub.Message = *m
		sub.MessageID = s.opts.IDFormat.format(id)
	}
	s.submitted = remember(s.submitted, sub, s.opts.Keep)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if s.opts.CollideSeq {
			in := smpp.Message{SourceAddr: "237650000000", DestAddr: "8000", ShortMessage: []byte("collision")}
			body, _ := in.MarshalBody()
			c.write(smpp.PDU{ID: smpp.CmdDeliverSM, Seq: p.Seq, Body: body})
			c.write(smpp.PDU{ID: smpp.CmdEnquireLinkResp, Seq: p.Seq})
		}
		if !sleep(s.ctx, s.opts.RespDelay) {
			return
		}
		var body []byte
		if sub.Status == smpp.StatusOK {
			body = smpp.CString(sub.MessageID)
		}
		c.mu.Lock()
		c.inflight--
		c.mu.Unlock()
		// Accepted is accepted, even if the answer is lost with its
		// connection: the SMS goes, and its receipt follows on whichever
		// session is bound, as an SMSC keeps what it could not deliver.
		c.write(smpp.PDU{ID: smpp.CmdSubmitSMResp, Status: sub.Status, Seq: p.Seq, Body: body})
		if sub.Status == smpp.StatusOK && s.opts.Receipts && sub.Message.RegisteredDelivery&1 == 1 {
			if !sleep(s.ctx, s.opts.ReceiptDelay) {
				return
			}
			s.deliverReceipt(s.receipt(id, &sub.Message))
		}
	}()
}

// deliverReceipt injects a receipt until an ESME takes it or refuses it
// for good: a receipt whose connection went is sent again on the next one,
// for a minute.
func (s *Server) deliverReceipt(in smpp.Inbound) {
	for deadline := time.Now().Add(time.Minute); ; {
		err := s.Inject(s.ctx, in)
		var serr *smpp.StatusError
		if err == nil || errors.As(err, &serr) || time.Now().After(deadline) {
			return
		}
		if !sleep(s.ctx, 50*time.Millisecond) {
			return
		}
	}
}

func (s *Server) receipt(id uint64, m *smpp.Message) smpp.Inbound {
	rid := s.opts.ReceiptIDFormat.format(id)
	now := s.opts.Now().UTC().Format("0601021504")
	text := m.ShortMessage
	if len(text) > 20 {
		text = text[:20]
	}
	body := fmt.Sprintf("id:%s sub:001 dlvrd:001 submit date:%s done date:%s stat:DELIVRD err:000 text:%s", rid, now, now, text)
	in := smpp.Inbound{
		SourceAddr: m.DestAddr, DestAddr: m.SourceAddr, ESMClass: 0x04,
		TLVs: map[uint16][]byte{
			smpp.TagReceiptedMessageID: smpp.CString(rid),
			smpp.TagMessageState:       {2}, // DELIVERED
		},
	}
	if s.opts.ReceiptAsDataSM {
		in.Command = smpp.CmdDataSM
		in.TLVs[smpp.TagMessagePayload] = []byte(body)
	} else {
		in.ShortMessage = []byte(body)
	}
	return in
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
