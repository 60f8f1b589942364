package smpp_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
	smstext "github.com/guichet/guichet/sms"
	"github.com/guichet/guichet/ussd"
)

// A caller walks the same menus over SMPP: the dialogue opens with the
// service code, each answer comes back as a USSR confirm, the gateway asks
// with USSR requests and closes with a PSSR response.
func TestUSSDOverSMPP(t *testing.T) {
	u := &smpp.USSD{Operator: "mtn"}
	srv := bridge(t, u)

	const caller = "237677123456"
	steps := []struct {
		op, seq uint8
		text    string
		wantOp  uint8
		want    string
	}{
		{1, 0, "*123*4*10000048#", 2, "Choisissez la langue"},
		{18, 2, "1", 17, "Dossier 10000048 (Entreprises): En traitement"},
	}
	for i, st := range steps {
		before := len(srv.Submitted())
		if err := srv.Inject(t.Context(), smsctest.USSD(caller, "*123#", st.op, 7, st.seq, st.text)); err != nil {
			t.Fatalf("step %d: the gateway refused the PDU: %v", i, err)
		}
		waitFor(t, "the answer", func() bool { return len(srv.Submitted()) > before })
		got := srv.Submitted()[before].Message
		text, _, _ := smstext.Decode(got.DataCoding, got.ESMClass, got.ShortMessage)
		op, info := got.TLVs[smpp.TagUSSDServiceOp], got.TLVs[smpp.TagITSSessionInfo]
		if len(op) != 1 || op[0] != st.wantOp || !strings.Contains(text, st.want) || got.DestAddr != caller {
			t.Errorf("step %d: op %v to %s: %q; want op %d with %q", i, op, got.DestAddr, text, st.wantOp, st.want)
		}
		if wantEnd := st.wantOp == 17; len(info) != 2 || info[0] != 7 || (info[1]&1 == 1) != wantEnd {
			t.Errorf("step %d: its_session_info %v, want session 7, end %v", i, info, wantEnd)
		}
	}

	// The caller hangs up mid-dialogue: acknowledged, nothing sent back.
	before := len(srv.Submitted())
	if err := srv.Inject(t.Context(), smsctest.USSD("237699000111", "*123#", 1, 9, 0, "*123#")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first screen", func() bool { return len(srv.Submitted()) > before })
	if err := srv.Inject(t.Context(), smsctest.USSD("237699000111", "*123#", 0x81, 9, 3, "")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(srv.Submitted()); n != before+1 {
		t.Errorf("an aborted dialogue got %d answers, want none", n-before-1)
	}
}

// Mica keys dialogues on user_message_reference and sends no
// its_session_info: interleaved dialogues stay apart, the answers carry
// each dialogue's reference back, and the op codes alone end it.
func TestUSSDOverSMPPKeyedOnUserMessageReference(t *testing.T) {
	u := &smpp.USSD{Operator: "mica", Ops: smpp.USSDOps{Session: smpp.SessionUMR}}
	if err := u.Ops.Check(); err != nil {
		t.Fatal(err)
	}
	srv := bridge(t, u)

	pdu := func(from string, op uint8, umr uint16, text string) smpp.Inbound {
		return smpp.Inbound{ServiceType: "USSD", SourceAddr: from, DestAddr: "*123#", ShortMessage: []byte(text),
			TLVs: map[uint16][]byte{smpp.TagUSSDServiceOp: {op}, smpp.TagUserMessageReference: {byte(umr >> 8), byte(umr)}}}
	}
	const caller = "237677123456"
	steps := []struct {
		in     smpp.Inbound
		wantOp uint8
		umr    uint16
		want   string
	}{
		{pdu(caller, 1, 0x0102, "*123*4*10000048#"), 2, 0x0102, "Choisissez la langue"},
		{pdu("237699000111", 1, 0x0203, "*123#"), 2, 0x0203, "Choisissez la langue"},
		{pdu(caller, 18, 0x0102, "2"), 17, 0x0102, "Case 10000048 (Businesses): Processing"},
	}
	for i, st := range steps {
		before := len(srv.Submitted())
		if err := srv.Inject(t.Context(), st.in); err != nil {
			t.Fatalf("step %d: the gateway refused the PDU: %v", i, err)
		}
		waitFor(t, "the answer", func() bool { return len(srv.Submitted()) > before })
		got := srv.Submitted()[before].Message
		text, _, _ := smstext.Decode(got.DataCoding, got.ESMClass, got.ShortMessage)
		op, umr := got.TLVs[smpp.TagUSSDServiceOp], got.TLVs[smpp.TagUserMessageReference]
		if len(op) != 1 || op[0] != st.wantOp || !strings.Contains(text, st.want) {
			t.Errorf("step %d: op %v: %q; want op %d with %q", i, op, text, st.wantOp, st.want)
		}
		if len(umr) != 2 || uint16(umr[0])<<8|uint16(umr[1]) != st.umr {
			t.Errorf("step %d: user_message_reference %v, want %#04x", i, umr, st.umr)
		}
		if _, ok := got.TLVs[smpp.TagITSSessionInfo]; ok {
			t.Errorf("step %d: its_session_info sent to a platform that keys on user_message_reference", i)
		}
	}
	// A PDU with no reference cannot join a dialogue: acknowledged, unanswered.
	before := len(srv.Submitted())
	in := pdu(caller, 1, 0, "*123#")
	delete(in.TLVs, smpp.TagUserMessageReference)
	if err := srv.Inject(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(srv.Submitted()); n != before || u.Dropped() != 1 {
		t.Errorf("a PDU without user_message_reference got %d answers, %d counted dropped; want none and 1", n-before, u.Dropped())
	}
}

func TestUSSDOpsCheck(t *testing.T) {
	for _, tc := range []struct {
		ops  smpp.USSDOps
		want string
	}{
		{smpp.USSDOps{}, ""},
		{smpp.USSDOps{Session: smpp.SessionUMR}, ""},
		{smpp.USSDOps{Begin: 1, Continue: 0x12, Abort: []uint8{0x81}, Ask: 2, End: 0x17}, ""},
		{smpp.USSDOps{Session: "msisdn"}, `ussd session "msisdn"`},
		{smpp.USSDOps{Begin: 1, Continue: 1, Ask: 2, End: 17}, "distinct begin and continue"},
		{smpp.USSDOps{Begin: 1, Continue: 18}, "ask and end"},
	} {
		err := tc.ops.Check()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.ops, err, tc.want)
		}
	}
}

// bridge wires u to a USSD engine over the built-in catalogue and to a
// simulator bound as u.Operator, and returns the simulator.
func bridge(t *testing.T, u *smpp.USSD) *smsctest.Server {
	t.Helper()
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	store := cases.NewMemory(outbox.NewMemory())
	if err := store.Seed(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := smsctest.NewServer(smsctest.Options{})
	t.Cleanup(srv.Close)
	binds := startBinds(u.Operator, smpp.BindConfig{Addr: srv.Addr(), SystemID: "guichet",
		Handler: func(ctx context.Context, in smpp.Inbound) error { return u.Handle(nil)(ctx, in) }}, 1, nil)
	t.Cleanup(func() { binds.Close(context.Background()) })
	u.Engine = ussd.NewEngine(cat, sessions.NewMemory(nil), &cases.Service{DB: store, Catalogue: cat}, nil, ussd.Config{},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	u.Reply = binds
	waitFor(t, "the bind", allBound(binds))
	return srv
}
