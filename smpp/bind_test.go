package smpp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
)

// dial binds to srv and closes the bind at the end of the test.
func dial(t testing.TB, srv *smsctest.Server, cfg smpp.BindConfig) *smpp.Bind {
	t.Helper()
	cfg.Addr = srv.Addr()
	if cfg.SystemID == "" {
		cfg.SystemID, cfg.Password = "guichet", "secret"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := smpp.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		b.Close(ctx)
	})
	return b
}

func newServer(t testing.TB, opts smsctest.Options) *smsctest.Server {
	t.Helper()
	srv := smsctest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or 3 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sms(text string) *smpp.SubmitSM {
	return &smpp.SubmitSM{SourceAddr: "8000", DestTON: 1, DestNPI: 1, DestAddr: "237650000001", ShortMessage: []byte(text)}
}

func TestBindAndSubmit(t *testing.T) {
	srv := newServer(t, smsctest.Options{SystemID: "guichet", Password: "secret", IDFormat: smsctest.Decimal})
	b := dial(t, srv, smpp.BindConfig{})
	if got := b.State(); got != smpp.StateBound {
		t.Fatalf("State = %v, want bound", got)
	}
	m := sms("Votre dossier CM-2026-0042 est pret.")
	m.RegisteredDelivery = 1
	m.TLVs = map[uint16][]byte{smpp.TagSARMsgRefNum: {0, 7}}
	id, err := b.Submit(ctxT(t), m)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	subs := srv.Submitted()
	if len(subs) != 1 {
		t.Fatalf("simulator got %d submits, want 1", len(subs))
	}
	got := subs[0]
	if id == "" || id != got.MessageID {
		t.Errorf("message id = %q, simulator gave %q", id, got.MessageID)
	}
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		t.Errorf("message id %q is not decimal", id)
	}
	if got.Message.DestAddr != m.DestAddr || got.Message.SourceAddr != m.SourceAddr || got.Message.DestTON != 1 ||
		got.Message.RegisteredDelivery != 1 || !bytes.Equal(got.Message.ShortMessage, m.ShortMessage) ||
		!bytes.Equal(got.Message.TLVs[smpp.TagSARMsgRefNum], []byte{0, 7}) {
		t.Errorf("simulator received %+v, sent %+v", got.Message, m)
	}
	if st := b.Stats(); st.SubmitSent != 1 || st.SubmitOK != 1 || st.InFlight != 0 {
		t.Errorf("Stats = %+v", st)
	}
	if err := b.Close(ctxT(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := b.State(); got != smpp.StateClosed {
		t.Errorf("State after Close = %v", got)
	}
	rec := srv.Received()
	if last := rec[len(rec)-1]; last.ID != smpp.CmdUnbind {
		t.Errorf("last PDU the simulator got = %#08x, want unbind", last.ID)
	}
	if _, err := b.Submit(ctxT(t), sms("late")); !errors.As(err, new(*smpp.ConnError)) {
		t.Errorf("Submit after Close: %v, want *ConnError", err)
	}
}

func TestBindRejected(t *testing.T) {
	srv := newServer(t, smsctest.Options{SystemID: "guichet", Password: "secret"})
	for _, tc := range []struct {
		label, systemID, password string
		mode                      smpp.Mode
		status                    uint32
	}{
		{"bad password", "guichet", "wrong", smpp.Transceiver, smpp.StatusInvPaswd},
		{"bad system id", "other", "secret", smpp.Transmitter, smpp.StatusInvSysID},
	} {
		t.Run(tc.label, func(t *testing.T) {
			_, err := smpp.Dial(ctxT(t), smpp.BindConfig{Addr: srv.Addr(), SystemID: tc.systemID, Password: tc.password, Mode: tc.mode})
			var se *smpp.StatusError
			if !errors.As(err, &se) || se.Status != tc.status || !errors.Is(err, smpp.ErrBindRejected) || se.Retryable() {
				t.Fatalf("Dial error = %v, want non-retryable bind rejection %#x", err, tc.status)
			}
		})
	}
}

func TestInboundSharingSeqWithPendingSubmit(t *testing.T) {
	srv := newServer(t, smsctest.Options{CollideSeq: true, RespDelay: 50 * time.Millisecond})
	got := make(chan smpp.Inbound, 1)
	b := dial(t, srv, smpp.BindConfig{Handler: func(ctx context.Context, in smpp.Inbound) error {
		got <- in
		return nil
	}})
	id, err := b.Submit(ctxT(t), sms("bonjour"))
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	sub := srv.Submitted()[0]
	if id != sub.MessageID {
		t.Fatalf("Submit returned %q, want the submit_sm_resp's %q: a PDU sharing its sequence number was taken as the response", id, sub.MessageID)
	}
	select {
	case in := <-got:
		if string(in.ShortMessage) != "collision" || in.Kind != smpp.KindMessage {
			t.Errorf("handler got %+v", in)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the deliver_sm never reached the handler")
	}
	if st := b.Stats(); st.Unmatched != 1 {
		t.Errorf("Stats.Unmatched = %d, want 1 (the stray enquire_link_resp)", st.Unmatched)
	}
	eventually(t, "deliver_sm_resp", func() bool {
		for _, a := range srv.Acks() {
			if a.ID == smpp.CmdDeliverSMResp && a.Seq == sub.Seq && a.Status == smpp.StatusOK {
				return true
			}
		}
		return false
	})
}

func TestWindowBlocksUntilSlotOrCtx(t *testing.T) {
	// The held submits are answered after 1.5 s: a Submit returning well
	// before that did not wait for a slot.
	srv := newServer(t, smsctest.Options{RespDelay: 1500 * time.Millisecond})
	b := dial(t, srv, smpp.BindConfig{Window: 2})
	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			_, err := b.Submit(context.Background(), sms(fmt.Sprint("held ", i)))
			errs <- err
		}()
	}
	eventually(t, "a full window", func() bool { return b.Stats().InFlight == 2 })

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.Submit(ctx, sms("third"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Submit on a full window = %v, want the ctx's deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Submit returned after %v, the ctx ended after 50ms", d)
	}
	if n := len(srv.Submitted()); n != 2 {
		t.Errorf("simulator got %d submits, want 2: the third must not be sent", n)
	}
	// A waiting Submit goes out when a slot frees.
	id, err := b.Submit(ctxT(t), sms("fourth"))
	if err != nil || id == "" {
		t.Fatalf("Submit after slots free: %q, %v", id, err)
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("held Submit: %v", err)
		}
	}
}

func TestHandlerErrorIsRedelivered(t *testing.T) {
	srv := newServer(t, smsctest.Options{Redeliver: 2, RedeliverDelay: 10 * time.Millisecond})
	var calls atomic.Int32
	b := dial(t, srv, smpp.BindConfig{Mode: smpp.Receiver, Handler: func(ctx context.Context, in smpp.Inbound) error {
		if calls.Add(1) == 1 {
			return errors.New("database unavailable")
		}
		return nil
	}})
	in := smpp.Inbound{SourceAddr: "237650000001", DestAddr: "8000", ShortMessage: []byte("STOP")}
	if err := srv.Inject(ctxT(t), in); err != nil {
		t.Fatalf("Inject: %v", err)
	}
	var statuses []uint32
	for _, a := range srv.Acks() {
		if a.ID == smpp.CmdDeliverSMResp {
			statuses = append(statuses, a.Status)
		}
	}
	if fmt.Sprint(statuses) != fmt.Sprint([]uint32{smpp.StatusXTAppn, smpp.StatusOK}) {
		t.Errorf("deliver_sm_resp statuses = %#x, want [0x64 0x0]", statuses)
	}
	if calls.Load() != 2 {
		t.Errorf("handler called %d times, want 2", calls.Load())
	}
	if st := b.Stats(); st.InboundRefused != 1 || st.InboundAcked != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestHandlerErrorWithoutRedelivery(t *testing.T) {
	for _, tc := range []struct {
		label   string
		handler smpp.Handler
	}{
		{"error", func(ctx context.Context, in smpp.Inbound) error { return errors.New("cannot store") }},
		{"panic", func(ctx context.Context, in smpp.Inbound) error { panic("bug") }},
	} {
		t.Run(tc.label, func(t *testing.T) {
			srv := newServer(t, smsctest.Options{})
			b := dial(t, srv, smpp.BindConfig{Handler: tc.handler})
			err := srv.Inject(ctxT(t), smpp.Inbound{SourceAddr: "237650000001", DestAddr: "8000", ShortMessage: []byte("x")})
			var se *smpp.StatusError
			if !errors.As(err, &se) || se.Status != smpp.StatusXTAppn {
				t.Fatalf("Inject = %v, want ESME_RX_T_APPN", err)
			}
			if b.State() != smpp.StateBound {
				t.Errorf("State = %v after a refusal", b.State())
			}
		})
	}
}

func TestUnknownPDUGetsGenericNack(t *testing.T) {
	srv := newServer(t, smsctest.Options{})
	b := dial(t, srv, smpp.BindConfig{})
	for _, id := range []uint32{0x00000222, smpp.CmdOutbind, smpp.CmdSubmitSM} {
		resp, err := srv.Send(ctxT(t), smpp.PDU{ID: id, Body: []byte{1, 2, 3}})
		if err != nil {
			t.Fatalf("Send %#x: %v", id, err)
		}
		if resp.ID != smpp.CmdGenericNack || resp.Status != smpp.StatusInvCmdID {
			t.Errorf("answer to %#x = %#08x status %#x, want generic_nack ESME_RINVCMDID", id, resp.ID, resp.Status)
		}
	}
	// alert_notification is ignored and unanswered, the bind stays up.
	if err := srv.Write(smpp.PDU{ID: smpp.CmdAlertNotification, Body: []byte{0, 0, '1', 0, 0, 0, '2', 0}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.EnquireLink(ctxT(t)); err != nil {
		t.Fatalf("enquire_link after alert_notification: %v", err)
	}
	if st := b.Stats(); st.GenericNackSent != 3 || st.Alerts != 1 || b.State() != smpp.StateBound {
		t.Errorf("Stats = %+v, state %v", st, b.State())
	}
	for _, a := range srv.Acks() {
		if a.ID == smpp.CmdAlertNotification|0x80000000 {
			t.Error("alert_notification was answered")
		}
	}
}

func TestGenericNackToOurRequest(t *testing.T) {
	srv := newServer(t, smsctest.Options{NackSubmits: true})
	b := dial(t, srv, smpp.BindConfig{})
	_, err := b.Submit(ctxT(t), sms("x"))
	var se *smpp.StatusError
	if !errors.As(err, &se) || se.Status != smpp.StatusInvCmdID || se.Retryable() {
		t.Fatalf("Submit = %v, want permanent ESME_RINVCMDID", err)
	}
	if st := b.Stats(); st.GenericNackRecv != 1 || st.Unmatched != 0 || st.SubmitFailed != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestEnquireLinkBothWays(t *testing.T) {
	srv := newServer(t, smsctest.Options{})
	b := dial(t, srv, smpp.BindConfig{EnquireLink: 30 * time.Millisecond})
	if err := srv.EnquireLink(ctxT(t)); err != nil {
		t.Fatalf("from the SMSC: %v", err)
	}
	if err := b.EnquireLink(ctxT(t)); err != nil {
		t.Fatalf("from us: %v", err)
	}
	eventually(t, "periodic enquire_link", func() bool {
		n := 0
		for _, p := range srv.Received() {
			if p.ID == smpp.CmdEnquireLink {
				n++
			}
		}
		return n >= 3
	})
	if st := b.Stats(); st.EnquireLinkRecv != 1 || st.EnquireLinkSent < 3 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestUnbindFromSMSC(t *testing.T) {
	srv := newServer(t, smsctest.Options{})
	b := dial(t, srv, smpp.BindConfig{})
	if err := srv.Unbind(ctxT(t)); err != nil {
		t.Fatalf("Unbind: %v", err)
	}
	select {
	case <-b.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("bind still open after the SMSC unbound")
	}
	if !errors.Is(b.Err(), smpp.ErrUnbound) || b.State() != smpp.StateClosed {
		t.Errorf("Err = %v, State = %v", b.Err(), b.State())
	}
	_, err := b.Submit(ctxT(t), sms("x"))
	var ce *smpp.ConnError
	if !errors.As(err, &ce) || ce.Sent || !errors.Is(err, smpp.ErrUnbound) {
		t.Errorf("Submit after unbind = %v, want *ConnError not sent", err)
	}
	if err := b.Close(ctxT(t)); err != nil {
		t.Errorf("Close after unbind: %v", err)
	}
}

func TestThrottled(t *testing.T) {
	srv := newServer(t, smsctest.Options{ThrottleEvery: 2})
	b := dial(t, srv, smpp.BindConfig{})
	if _, err := b.Submit(ctxT(t), sms("1")); err != nil {
		t.Fatalf("first Submit: %v", err)
	}
	_, err := b.Submit(ctxT(t), sms("2"))
	var se *smpp.StatusError
	if !errors.As(err, &se) || se.Status != smpp.StatusThrottled || !se.Retryable() || !se.Throttled() {
		t.Fatalf("second Submit = %v, want retryable ESME_RTHROTTLED", err)
	}
	if st := b.Stats(); st.SubmitOK != 1 || st.SubmitFailed != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestStatusRetryable(t *testing.T) {
	for _, tc := range []struct {
		status    uint32
		retryable bool
	}{
		{0x58, true}, {0x14, true}, {0x08, true}, {0x64, true},
		{0x45, false}, {0x0A, false}, {0x0B, false}, {0x61, false}, {0x62, false},
		{0x65, false}, {0x66, false}, {0x0D, false}, {0x0E, false}, {0x0F, false},
	} {
		e := &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: tc.status}
		if e.Retryable() != tc.retryable {
			t.Errorf("%#x Retryable = %v, want %v", tc.status, e.Retryable(), tc.retryable)
		}
		if errors.Is(e, smpp.ErrBindRejected) {
			t.Errorf("%#x on submit_sm matches ErrBindRejected", tc.status)
		}
	}
}

func TestConnectionDrop(t *testing.T) {
	// PDU 1 is the bind, PDU 2 the submit_sm: dropped unanswered.
	srv := newServer(t, smsctest.Options{DropAfter: 2})
	b := dial(t, srv, smpp.BindConfig{RespTimeout: 5 * time.Second})
	start := time.Now()
	_, err := b.Submit(ctxT(t), sms("lost?"))
	var ce *smpp.ConnError
	if !errors.As(err, &ce) || !ce.Sent || !ce.Retryable() {
		t.Fatalf("Submit = %v, want *ConnError sent", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("drop detected after %v, not by the response timeout", d)
	}
	if !strings.Contains(err.Error(), "may have accepted") {
		t.Errorf("error %q does not say the SMSC may have the message", err)
	}
	<-b.Done()
	_, err = b.Submit(ctxT(t), sms("after"))
	if !errors.As(err, &ce) || ce.Sent {
		t.Errorf("Submit after drop = %v, want *ConnError not sent", err)
	}
}

func TestResponseTimeout(t *testing.T) {
	srv := newServer(t, smsctest.Options{RespDelay: time.Second})
	b := dial(t, srv, smpp.BindConfig{RespTimeout: 100 * time.Millisecond})
	_, err := b.Submit(ctxT(t), sms("slow"))
	if !errors.Is(err, smpp.ErrTimeout) {
		t.Fatalf("Submit = %v, want ErrTimeout", err)
	}
	if st := b.Stats(); st.Timeouts != 1 || st.InFlight != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestReceipts(t *testing.T) {
	for _, tc := range []struct {
		label   string
		dataSM  bool
		command uint32
	}{
		{"deliver_sm", false, smpp.CmdDeliverSM},
		{"data_sm", true, smpp.CmdDataSM},
	} {
		t.Run(tc.label, func(t *testing.T) {
			srv := newServer(t, smsctest.Options{Receipts: true, ReceiptDelay: 10 * time.Millisecond,
				ReceiptAsDataSM: tc.dataSM, IDFormat: smsctest.Hex, ReceiptIDFormat: smsctest.Decimal})
			got := make(chan smpp.Inbound, 1)
			b := dial(t, srv, smpp.BindConfig{Handler: func(ctx context.Context, in smpp.Inbound) error {
				got <- in
				return nil
			}})
			m := sms("Rendez-vous lundi 9h")
			m.RegisteredDelivery = 1
			id, err := b.Submit(ctxT(t), m)
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			n, err := strconv.ParseUint(id, 16, 64)
			if err != nil {
				t.Fatalf("message id %q is not hex", id)
			}
			var in smpp.Inbound
			select {
			case in = <-got:
			case <-time.After(3 * time.Second):
				t.Fatal("no receipt")
			}
			text := string(in.ShortMessage)
			if tc.dataSM {
				text = string(in.TLVs[smpp.TagMessagePayload])
			}
			wantID := strconv.FormatUint(n, 10)
			if in.Kind != smpp.KindReceipt || in.Command != tc.command ||
				string(in.TLVs[smpp.TagReceiptedMessageID]) != wantID+"\x00" ||
				!bytes.Equal(in.TLVs[smpp.TagMessageState], []byte{2}) ||
				!strings.HasPrefix(text, "id:"+wantID+" sub:001 dlvrd:001 submit date:") ||
				!strings.Contains(text, " stat:DELIVRD err:000 text:Rendez-vous") {
				t.Errorf("receipt = %+v (text %q)", in, text)
			}
			eventually(t, "receipt ack", func() bool {
				for _, a := range srv.Acks() {
					if a.ID == tc.command|0x80000000 && a.Status == smpp.StatusOK {
						return true
					}
				}
				return false
			})
		})
	}
}

func TestUSSDInbound(t *testing.T) {
	srv := newServer(t, smsctest.Options{})
	got := make(chan smpp.Inbound, 1)
	dial(t, srv, smpp.BindConfig{Handler: func(ctx context.Context, in smpp.Inbound) error {
		got <- in
		return nil
	}})
	if err := srv.Inject(ctxT(t), smsctest.USSD("237690000001", "303", 1, 0x2A, 0x00, "*303#")); err != nil {
		t.Fatalf("Inject: %v", err)
	}
	in := <-got
	if in.ServiceType != "USSD" || string(in.ShortMessage) != "*303#" ||
		!bytes.Equal(in.TLVs[smpp.TagUSSDServiceOp], []byte{1}) ||
		!bytes.Equal(in.TLVs[smpp.TagITSSessionInfo], []byte{0x2A, 0}) {
		t.Errorf("got %+v", in)
	}
}

func TestNoHandlerRefuses(t *testing.T) {
	srv := newServer(t, smsctest.Options{})
	dial(t, srv, smpp.BindConfig{Mode: smpp.Receiver})
	err := srv.Inject(ctxT(t), smpp.Inbound{SourceAddr: "1", DestAddr: "2", ShortMessage: []byte("x")})
	var se *smpp.StatusError
	if !errors.As(err, &se) || se.Status != smpp.StatusXTAppn {
		t.Errorf("Inject = %v, want ESME_RX_T_APPN", err)
	}
}

func TestConcurrentSubmitsNothingLost(t *testing.T) {
	srv := newServer(t, smsctest.Options{RespDelay: time.Millisecond})
	b := dial(t, srv, smpp.BindConfig{Window: 5})
	const n = 200
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, err := b.Submit(ctxT(t), sms(fmt.Sprint("msg ", i)))
			if err != nil {
				t.Errorf("Submit %d: %v", i, err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	subs := srv.Submitted()
	if len(subs) != n {
		t.Fatalf("simulator got %d submits, want %d", len(subs), n)
	}
	byID := map[string]string{}
	for _, s := range subs {
		byID[s.MessageID] = string(s.Message.ShortMessage)
	}
	for i, id := range ids {
		if byID[id] != fmt.Sprint("msg ", i) {
			t.Errorf("id %q of msg %d maps to %q", id, i, byID[id])
		}
	}
}

func TestCloseBoundedWhenUnbindUnanswered(t *testing.T) {
	srv := newServer(t, smsctest.Options{Ignore: []uint32{smpp.CmdUnbind}})
	b := dial(t, srv, smpp.BindConfig{RespTimeout: 100 * time.Millisecond})
	start := time.Now()
	err := b.Close(ctxT(t))
	if !errors.Is(err, smpp.ErrTimeout) {
		t.Errorf("Close = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	if b.State() != smpp.StateClosed {
		t.Errorf("State = %v", b.State())
	}
}

func TestSilentLinkDetected(t *testing.T) {
	srv := newServer(t, smsctest.Options{Ignore: []uint32{smpp.CmdEnquireLink}})
	b := dial(t, srv, smpp.BindConfig{EnquireLink: 30 * time.Millisecond, RespTimeout: 50 * time.Millisecond})
	select {
	case <-b.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("a silent link was not detected")
	}
	if err := b.Err(); !errors.Is(err, smpp.ErrTimeout) || !strings.Contains(err.Error(), "enquire_link") {
		t.Errorf("Err = %v", err)
	}
}

func TestDataSMRespCarriesMessageID(t *testing.T) {
	srv := newServer(t, smsctest.Options{})
	dial(t, srv, smpp.BindConfig{Handler: func(ctx context.Context, in smpp.Inbound) error { return nil }})
	d := smpp.DataSM{SourceAddr: "237650000001", DestAddr: "8000", TLVs: map[uint16][]byte{smpp.TagMessagePayload: []byte("hello")}}
	resp, err := srv.Send(ctxT(t), smpp.PDU{ID: smpp.CmdDataSM, Body: d.MarshalBody()})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != smpp.CmdDataSMResp || resp.Status != smpp.StatusOK || !bytes.Equal(resp.Body, []byte{0}) {
		t.Errorf("data_sm answered %+v", resp)
	}
}

// The bind measures the SMSC's round trip and how long window slots were
// held: what operators watch and the benchmarks divide by.
func TestSubmitRoundTripMeasured(t *testing.T) {
	srv := newServer(t, smsctest.Options{RespDelay: 20 * time.Millisecond})
	b := dial(t, srv, smpp.BindConfig{Window: 2})
	for range 4 {
		if _, err := b.Submit(ctxT(t), &smpp.SubmitSM{DestAddr: "237677123456", ShortMessage: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	st := b.Stats()
	mean := st.SubmitRTT / time.Duration(st.SubmitOK)
	if st.SubmitOK != 4 || mean < 20*time.Millisecond || mean > 500*time.Millisecond {
		t.Errorf("%d submits, mean round trip %v; want 4 of at least the SMSC's 20 ms", st.SubmitOK, mean)
	}
	if st.WindowBusy < st.SubmitRTT {
		t.Errorf("window held %v, less than the round trips it waited for (%v)", st.WindowBusy, st.SubmitRTT)
	}
}

// Inbound messages that come one after another are handled by the same
// goroutine, not one each: 300 receipts start a handful of goroutines.
func TestInboundHandlersReused(t *testing.T) {
	srv := newServer(t, smsctest.Options{})
	var handled atomic.Int64
	dial(t, srv, smpp.BindConfig{Handler: func(ctx context.Context, in smpp.Inbound) error {
		handled.Add(1)
		return nil
	}})
	created := func() uint64 {
		s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	before := created()
	const n = 300
	for i := range n {
		in := smpp.Inbound{SourceAddr: "237650000001", DestAddr: "8000", ShortMessage: []byte(fmt.Sprintf("message %d", i))}
		if err := srv.Inject(ctxT(t), in); err != nil {
			t.Fatalf("Inject %d: %v", i, err)
		}
	}
	if got := created() - before; got > n/10 {
		t.Errorf("%d goroutines started for %d inbound messages one after another", got, n)
	}
	if handled.Load() != n {
		t.Errorf("%d handled, want %d", handled.Load(), n)
	}
}
