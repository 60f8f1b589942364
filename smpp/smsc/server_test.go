package smsc_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsc"
)

// TestRawSession drives the simulator with hand-built PDUs, without the
// smpp bind layer, so that a fault in one does not hide in the other.
// With SubmitsOnly it remembers the submits, not every PDU received.
func TestRawSession(t *testing.T) {
	for _, submitsOnly := range []bool{false, true} {
		t.Run(map[bool]string{false: "every-pdu", true: "submits-only"}[submitsOnly], func(t *testing.T) {
			rawSession(t, submitsOnly)
		})
	}
}

func rawSession(t *testing.T, submitsOnly bool) {
	srv := smsc.NewServer(smsc.Options{SystemID: "sys", Password: "pw", IDFormat: smsc.Decimal, SubmitsOnly: submitsOnly})
	defer srv.Close()
	conn, err := net.DialTimeout("tcp", srv.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	roundTrip := func(p smpp.PDU) smpp.PDU {
		t.Helper()
		if _, err := conn.Write(p.Bytes()); err != nil {
			t.Fatal(err)
		}
		resp, err := smpp.ReadPDU(r)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Seq != p.Seq {
			t.Fatalf("response seq %d to request seq %d", resp.Seq, p.Seq)
		}
		return resp
	}
	// submit_sm before bind: ESME_RINVBNDSTS.
	m := smpp.Message{SourceAddr: "8000", DestAddr: "237650000001", ShortMessage: []byte("hi")}
	body, err := m.MarshalBody()
	if err != nil {
		t.Fatal(err)
	}
	if resp := roundTrip(smpp.PDU{ID: smpp.CmdSubmitSM, Seq: 1, Body: body}); resp.Status != 0x04 {
		t.Errorf("submit before bind: status %#x", resp.Status)
	}
	bind := append(append(append(smpp.CString("sys"), smpp.CString("pw")...), smpp.CString("")...), 0x34, 0, 0, 0)
	if resp := roundTrip(smpp.PDU{ID: smpp.CmdBindTransceiver, Seq: 2, Body: bind}); resp.ID != smpp.CmdBindTransceiverResp || resp.Status != 0 {
		t.Fatalf("bind: %+v", resp)
	}
	resp := roundTrip(smpp.PDU{ID: smpp.CmdSubmitSM, Seq: 3, Body: body})
	if resp.ID != smpp.CmdSubmitSMResp || resp.Status != 0 || string(resp.Body) != "4097\x00" {
		t.Errorf("submit: %+v", resp)
	}
	subs := srv.Submitted()
	if len(subs) != 1 || subs[0].MessageID != "4097" || string(subs[0].Message.ShortMessage) != "hi" {
		t.Errorf("Submitted = %+v", subs)
	}
	if resp := roundTrip(smpp.PDU{ID: 0x0000ABCD, Seq: 4}); resp.ID != smpp.CmdGenericNack || resp.Status != smpp.StatusInvCmdID {
		t.Errorf("unknown: %+v", resp)
	}
	// Inject waits for the deliver_sm_resp until its ctx ends.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := srv.Inject(ctx, smpp.Inbound{SourceAddr: "237650000001", DestAddr: "8000", ShortMessage: []byte("yo")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Inject unanswered = %v", err)
	}
	p, err := smpp.ReadPDU(r)
	if err != nil || p.ID != smpp.CmdDeliverSM {
		t.Fatalf("read %+v, %v; want deliver_sm", p, err)
	}
	if in, err := smpp.ParseMessage(p.Body); err != nil || string(in.ShortMessage) != "yo" {
		t.Errorf("deliver_sm %+v, %v", in, err)
	}
	// The four requests above, and a response to the deliver_sm.
	if _, err := conn.Write(smpp.PDU{ID: smpp.CmdDeliverSMResp, Seq: p.Seq}.Bytes()); err != nil {
		t.Fatal(err)
	}
	want, wantAcks := 5, 1
	if submitsOnly {
		want, wantAcks = 0, 0
	}
	for deadline := time.Now().Add(2 * time.Second); len(srv.Acks()) < wantAcks && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if got, acks := len(srv.Received()), len(srv.Acks()); got != want || acks != wantAcks {
		t.Errorf("remembered %d PDUs received and %d acks, want %d and %d", got, acks, want, wantAcks)
	}
	if subs := srv.Submitted(); len(subs) != 1 { // the one taken after the bind
		t.Errorf("%d submits remembered, want 1", len(subs))
	}
}
