package smpp

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/sms"
	"github.com/guichet/guichet/ussd"
)

// USSDOps maps an operator's ussd_service_op values: the standard ones by
// default, a vendor's where configuration says so (one platform starts with
// 0x01, continues with 0x12, aborts with 0x81, ends with 0x17).
type USSDOps struct {
	Begin    uint8   `yaml:"begin"`    // PSSR indication: a dialogue opens (1)
	Continue uint8   `yaml:"continue"` // USSR confirm: the caller's answer (18)
	Abort    []uint8 `yaml:"abort"`    // the network or the caller ended it
	Ask      uint8   `yaml:"ask"`      // our USSR request: a screen that waits (2)
	End      uint8   `yaml:"end"`      // our PSSR response: the last screen (17)
	// Session names the TLV that ties a dialogue's PDUs together:
	// its_session_info (the default) or user_message_reference (Mica),
	// which carries no end flag: the op codes alone end the dialogue.
	Session string `yaml:"session"`
}

// TagUserMessageReference is user_message_reference, which some USSD
// platforms use as the dialogue's key.
const TagUserMessageReference uint16 = 0x0204

// Values of USSDOps.Session.
const (
	SessionITS = "its_session_info"
	SessionUMR = "user_message_reference"
)

// StandardUSSDOps are SMPP 3.4's values.
var StandardUSSDOps = USSDOps{Begin: 1, Continue: 18, Ask: 2, End: 17}

// Stepper runs one hop of a dialogue (the USSD engine).
type Stepper interface {
	Step(ctx context.Context, req ussd.Request) (ussd.Reply, error)
}

// Submitter sends our answer (an operator's Binds).
type Submitter interface {
	Submit(ctx context.Context, m *SubmitSM) (string, error)
}

// USSD carries the USSD dialogues an operator sends over SMPP to the same
// engine and menus as the HTTP dialects: ussd_service_op says where the
// dialogue is, its_session_info ties its PDUs together (session number in
// octet 1, end flag in bit 0 of octet 2), and the service code comes with
// the first PDU only.
type USSD struct {
	Operator string
	Ops      USSDOps // zero: StandardUSSDOps
	Engine   Stepper
	Reply    Submitter
	Log      *slog.Logger // nil: no logs

	dropped atomic.Uint64
}

// Dropped counts the PDUs acknowledged without an answer because they
// could not be tied to a dialogue or read (a misconfigured session: key
// shows here first).
func (u *USSD) Dropped() uint64 { return u.dropped.Load() }

func (u *USSD) drop(in Inbound, why string) error {
	u.dropped.Add(1)
	if u.Log != nil {
		u.Log.Warn("USSD PDU dropped", "operator", u.Operator, "phone", phone.Mask(in.SourceAddr), "why", why)
	}
	return nil // acknowledged: it would come back forever
}

// Handle is a Handler for the operator's inbound messages that carry
// ussd_service_op; the others it leaves to next (receipts, SMS).
func (u *USSD) Handle(next Handler) Handler {
	return func(ctx context.Context, in Inbound) error {
		op, ok := in.TLVs[TagUSSDServiceOp]
		if !ok || len(op) != 1 {
			if next == nil {
				return fmt.Errorf("smpp: no handler for a non-USSD message")
			}
			return next(ctx, in)
		}
		return u.hop(ctx, in, op[0])
	}
}

func (u *USSD) ops() USSDOps {
	if u.Ops.Begin == 0 && u.Ops.Continue == 0 {
		ops := StandardUSSDOps
		ops.Session = u.Ops.Session
		return ops
	}
	return u.Ops
}

// Check reports a configuration the bridge cannot use.
func (o USSDOps) Check() error {
	switch o.Session {
	case "", SessionITS, SessionUMR:
	default:
		return fmt.Errorf("smpp: ussd session %q: want %s or %s", o.Session, SessionITS, SessionUMR)
	}
	if (o.Begin != 0 || o.Continue != 0) && (o.Begin == o.Continue || o.Ask == 0 || o.End == 0) {
		return fmt.Errorf("smpp: ussd op codes need distinct begin and continue, and ask and end")
	}
	return nil
}

func (u *USSD) hop(ctx context.Context, in Inbound, op uint8) error {
	ops := u.ops()
	var key string
	var session, seq byte
	var umr []byte
	if ops.Session == SessionUMR {
		umr = in.TLVs[TagUserMessageReference]
		if len(umr) != 2 {
			return u.drop(in, "no user_message_reference to tie it to a dialogue")
		}
		key = "u" + strconv.Itoa(int(umr[0])<<8|int(umr[1]))
	} else {
		if info := in.TLVs[TagITSSessionInfo]; len(info) == 2 {
			session, seq = info[0], info[1]
		}
		key = strconv.Itoa(int(session))
	}
	text, _, err := sms.Decode(in.DataCoding, in.ESMClass&^0x40, in.ShortMessage)
	if err != nil {
		text = string(in.ShortMessage)
	}
	// The engine keeps one dialogue per phone: the key alone tells this
	// phone's dialogues apart, and keeps the number out of session ids
	// (which errors log).
	req := ussd.Request{SessionID: "smpp-" + key, Phone: in.SourceAddr,
		Operator: u.Operator, Dialect: "smpp"}
	switch {
	case op == ops.Begin:
		req.Kind, req.ServiceCode = ussd.Begin, text
		if req.ServiceCode == "" {
			req.ServiceCode = in.DestAddr
		}
	case contains(ops.Abort, op) || (op != ops.Continue && seq&1 == 1):
		req.Kind, req.Reason = ussd.Abort, "ussd_service_op "+strconv.Itoa(int(op))
	case op == ops.Continue:
		req.Kind, req.Input = ussd.Continue, text
	default:
		return nil // a notification's confirm, or a vendor value we do not use: acknowledged, nothing to say
	}
	if err := req.Normalize("CM"); err != nil {
		return u.drop(in, err.Error())
	}
	rep, err := u.Engine.Step(ctx, req)
	if err != nil {
		return fmt.Errorf("smpp: ussd step: %w", err) // refused: the SMSC sends it again
	}
	if req.Kind == ussd.Abort || req.Kind == ussd.Release {
		return nil
	}
	m, err := sms.Encode(rep.Text, sms.Options{Transliterate: true, MaxParts: 1})
	if err != nil {
		return fmt.Errorf("smpp: encoding a ussd screen: %w", err)
	}
	answer := ops.Ask
	if rep.End {
		answer = ops.End
	}
	tlvs := map[uint16][]byte{TagUSSDServiceOp: {answer}}
	if umr != nil {
		tlvs[TagUserMessageReference] = umr
	} else {
		// Our PDU's sequence follows the caller's (bits 7..1); bit 0 ends it.
		tlvs[TagITSSessionInfo] = []byte{session, (seq+2)&^1 | boolBit(rep.End)}
	}
	_, err = u.Reply.Submit(ctx, &SubmitSM{ServiceType: "USSD", SourceAddr: in.DestAddr, DestAddr: in.SourceAddr,
		DataCoding: m.DataCoding, ShortMessage: m.Parts[0], TLVs: tlvs})
	if err != nil {
		return fmt.Errorf("smpp: sending a ussd screen: %w", err)
	}
	return nil
}

func boolBit(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func contains(list []uint8, v uint8) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
