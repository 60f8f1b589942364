package smpp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/fiorix/go-smpp/smpp/pdu"
	"github.com/fiorix/go-smpp/smpp/pdu/pdufield"
)

// Command ids of SMPP 3.4. A response id is its request id with bit 31 set.
const (
	CmdGenericNack         uint32 = 0x80000000
	CmdBindReceiver        uint32 = 0x00000001
	CmdBindReceiverResp    uint32 = 0x80000001
	CmdBindTransmitter     uint32 = 0x00000002
	CmdBindTransmitterResp uint32 = 0x80000002
	CmdSubmitSM            uint32 = 0x00000004
	CmdSubmitSMResp        uint32 = 0x80000004
	CmdDeliverSM           uint32 = 0x00000005
	CmdDeliverSMResp       uint32 = 0x80000005
	CmdUnbind              uint32 = 0x00000006
	CmdUnbindResp          uint32 = 0x80000006
	CmdBindTransceiver     uint32 = 0x00000009
	CmdBindTransceiverResp uint32 = 0x80000009
	CmdOutbind             uint32 = 0x0000000B
	CmdEnquireLink         uint32 = 0x00000015
	CmdEnquireLinkResp     uint32 = 0x80000015
	CmdAlertNotification   uint32 = 0x00000102
	CmdDataSM              uint32 = 0x00000103
	CmdDataSMResp          uint32 = 0x80000103
)

// Command statuses used by this package. StatusError carries any status.
const (
	StatusOK           uint32 = 0x00
	StatusInvCmdID     uint32 = 0x03 // ESME_RINVCMDID
	StatusSysErr       uint32 = 0x08 // ESME_RSYSERR
	StatusBindFail     uint32 = 0x0D // ESME_RBINDFAIL
	StatusInvPaswd     uint32 = 0x0E // ESME_RINVPASWD
	StatusInvSysID     uint32 = 0x0F // ESME_RINVSYSID
	StatusMsgQFul      uint32 = 0x14 // ESME_RMSGQFUL
	StatusSubmitFail   uint32 = 0x45 // ESME_RSUBMITFAIL
	StatusThrottled    uint32 = 0x58 // ESME_RTHROTTLED
	StatusXTAppn       uint32 = 0x64 // ESME_RX_T_APPN: temporary, the SMSC retries
	StatusXPAppn       uint32 = 0x65 // ESME_RX_P_APPN
	StatusXRAppn       uint32 = 0x66 // ESME_RX_R_APPN
	statusInvSrcAdr    uint32 = 0x0A
	statusInvDstAdr    uint32 = 0x0B
	statusInvSched     uint32 = 0x61
	statusInvExpiry    uint32 = 0x62
	headerLen                 = 16
	maxPDULen                 = 64 * 1024
	respBit            uint32 = 0x80000000
	interfaceVersion34        = 0x34
)

// TLV tags of SMPP 3.4 that Guichet reads.
const (
	TagReceiptedMessageID uint16 = 0x001E
	TagSARMsgRefNum       uint16 = 0x020C
	TagSARTotalSegments   uint16 = 0x020E
	TagSARSegmentSeqnum   uint16 = 0x020F
	TagNetworkErrorCode   uint16 = 0x0423
	TagMessagePayload     uint16 = 0x0424
	TagMessageState       uint16 = 0x0427
	TagUSSDServiceOp      uint16 = 0x0501
	TagITSSessionInfo     uint16 = 0x1383
)

// PDU is one SMPP PDU read at header level: the body is left undecoded, so
// that a PDU of any command id can be read, answered or skipped without
// losing the connection.
type PDU struct {
	ID     uint32
	Status uint32
	Seq    uint32
	Body   []byte
}

// IsResponse reports whether p is a response (bit 31 of the command id).
func (p PDU) IsResponse() bool { return p.ID&respBit != 0 }

// Bytes encodes p with its header; command_length is computed.
func (p PDU) Bytes() []byte {
	b := make([]byte, headerLen+len(p.Body))
	binary.BigEndian.PutUint32(b[0:4], uint32(len(b)))
	binary.BigEndian.PutUint32(b[4:8], p.ID)
	binary.BigEndian.PutUint32(b[8:12], p.Status)
	binary.BigEndian.PutUint32(b[12:16], p.Seq)
	copy(b[headerLen:], p.Body)
	return b
}

// ErrFraming is returned by ReadPDU for a command_length that cannot be
// trusted; the stream cannot be resynchronised after it.
var ErrFraming = errors.New("smpp: invalid command_length")

// ReadPDU reads one PDU from r: the 16-octet header, then command_length-16
// octets of body.
func ReadPDU(r io.Reader) (PDU, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return PDU{}, err
	}
	n := binary.BigEndian.Uint32(h[0:4])
	if n < headerLen || n > maxPDULen {
		return PDU{}, fmt.Errorf("%w: %d", ErrFraming, n)
	}
	p := PDU{
		ID:     binary.BigEndian.Uint32(h[4:8]),
		Status: binary.BigEndian.Uint32(h[8:12]),
		Seq:    binary.BigEndian.Uint32(h[12:16]),
		Body:   make([]byte, n-headerLen),
	}
	if _, err := io.ReadFull(r, p.Body); err != nil {
		return PDU{}, fmt.Errorf("smpp: reading body of %#08x: %w", p.ID, io.ErrUnexpectedEOF)
	}
	return p, nil
}

// Message is the body of a submit_sm or a deliver_sm (SMPP 3.4 §4.4.1 and
// §4.6.1 share one layout). ShortMessage is sent as is, UDH included when
// ESMClass has 0x40: encoding text is the caller's job (go-smpp's
// pdutext.GSM7 silently sends UTF-8 for characters outside GSM-7).
type Message struct {
	ServiceType          string
	SourceTON, SourceNPI uint8
	SourceAddr           string
	DestTON, DestNPI     uint8
	DestAddr             string
	ESMClass             uint8
	ProtocolID           uint8
	PriorityFlag         uint8
	ScheduleDeliveryTime string
	ValidityPeriod       string
	RegisteredDelivery   uint8
	DataCoding           uint8
	ShortMessage         []byte
	TLVs                 map[uint16][]byte
}

// SubmitSM is a submit_sm request.
type SubmitSM = Message

// ErrInvalid marks a request refused before sending: it is never retryable.
var ErrInvalid = errors.New("smpp: invalid request")

// MarshalBody encodes m as a submit_sm/deliver_sm body (SMPP 3.4 §4.4.1),
// its TLVs in the order of their tags. A field over its size in the
// specification, or a C-octet string holding a NUL, is refused with
// ErrInvalid: ParseMessage takes back whatever MarshalBody gives, and the
// other way round. (It was go-smpp's codec, whose maps and interfaces cost
// a fifth of a gateway's CPU at ten thousand messages a second; go-smpp's
// decoder checks this one in the tests.)
func (m *Message) MarshalBody() ([]byte, error) {
	if len(m.ShortMessage) > maxShortMessage {
		return nil, fmt.Errorf("%w: short_message is %d octets, over %d: use message_payload", ErrInvalid, len(m.ShortMessage), maxShortMessage)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"service_type", m.ServiceType, maxServiceType}, {"source_addr", m.SourceAddr, maxAddr},
		{"destination_addr", m.DestAddr, maxAddr}, {"schedule_delivery_time", m.ScheduleDeliveryTime, maxTime},
		{"validity_period", m.ValidityPeriod, maxTime},
	} {
		if len(f.v) >= f.max || strings.IndexByte(f.v, 0) >= 0 {
			return nil, fmt.Errorf("%w: %s %q: at most %d octets, no NUL", ErrInvalid, f.name, f.v, f.max-1)
		}
	}
	b := make([]byte, 0, 40+len(m.ServiceType)+len(m.SourceAddr)+len(m.DestAddr)+len(m.ShortMessage))
	b = appendCString(b, m.ServiceType)
	b = append(b, m.SourceTON, m.SourceNPI)
	b = appendCString(b, m.SourceAddr)
	b = append(b, m.DestTON, m.DestNPI)
	b = appendCString(b, m.DestAddr)
	b = append(b, m.ESMClass, m.ProtocolID, m.PriorityFlag)
	b = appendCString(b, m.ScheduleDeliveryTime)
	b = appendCString(b, m.ValidityPeriod)
	b = append(b, m.RegisteredDelivery, 0, m.DataCoding, 0, byte(len(m.ShortMessage))) // replace_if_present_flag, sm_default_msg_id
	b = append(b, m.ShortMessage...)
	return appendTLVs(b, m.TLVs), nil
}

// ParseMessage decodes a submit_sm or deliver_sm body, whatever its size up
// to the 64 KiB a PDU may have (go-smpp's decoder refuses PDUs over 4 KiB,
// such as a deliver_sm with a long message_payload). short_message comes
// whole, UDH included. A malformed body returns an error matching
// ErrMalformed that names the field and its offset.
func ParseMessage(body []byte) (*Message, error) {
	return decodeMessage(body)
}

func str(f pdufield.Map, k pdufield.Name) string {
	if v, ok := f[k]; ok {
		return v.String()
	}
	return ""
}

func fixed(f pdufield.Map, k pdufield.Name) uint8 {
	if v, ok := f[k]; ok {
		if b := v.Bytes(); len(b) > 0 {
			return b[0]
		}
	}
	return 0
}

// DataSM is the body of a data_sm (SMPP 3.4 §4.7.1), which go-smpp does
// not decode.
type DataSM struct {
	ServiceType          string
	SourceTON, SourceNPI uint8
	SourceAddr           string
	DestTON, DestNPI     uint8
	DestAddr             string
	ESMClass             uint8
	RegisteredDelivery   uint8
	DataCoding           uint8
	TLVs                 map[uint16][]byte
}

// MarshalBody encodes d as a data_sm body.
func (d *DataSM) MarshalBody() []byte {
	var b []byte
	b = appendCString(b, d.ServiceType)
	b = append(b, d.SourceTON, d.SourceNPI)
	b = appendCString(b, d.SourceAddr)
	b = append(b, d.DestTON, d.DestNPI)
	b = appendCString(b, d.DestAddr)
	b = append(b, d.ESMClass, d.RegisteredDelivery, d.DataCoding)
	return appendTLVs(b, d.TLVs)
}

// ParseDataSM decodes a data_sm body. A malformed body returns an error
// matching ErrMalformed that names the field and its offset.
func ParseDataSM(body []byte) (*DataSM, error) {
	return decodeDataSM(body)
}

func appendCString(b []byte, s string) []byte {
	return append(append(b, s...), 0)
}

func appendTLVs(b []byte, tlvs map[uint16][]byte) []byte {
	if len(tlvs) == 1 { // most submits carry none or one: no sorting
		for t, v := range tlvs {
			b = binary.BigEndian.AppendUint16(b, t)
			b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
			return append(b, v...)
		}
	}
	if len(tlvs) == 0 {
		return b
	}
	for _, t := range slices.Sorted(maps.Keys(tlvs)) {
		v := tlvs[t]
		b = binary.BigEndian.AppendUint16(b, t)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	}
	return b
}

// cstringBody reads the first C-octet string of a body (message_id of
// submit_sm_resp, system_id of bind_resp); a body without NUL is taken whole.
func cstringBody(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

func bindBody(id uint32, systemID, password, systemType string) ([]byte, error) {
	var p pdu.Body
	switch id {
	case CmdBindReceiver:
		p = pdu.NewBindReceiver()
	case CmdBindTransmitter:
		p = pdu.NewBindTransmitter()
	default:
		p = pdu.NewBindTransceiver()
	}
	f := p.Fields()
	for _, kv := range []struct {
		k pdufield.Name
		v any
	}{
		{pdufield.SystemID, systemID},
		{pdufield.Password, password},
		{pdufield.SystemType, systemType},
		{pdufield.InterfaceVersion, uint8(interfaceVersion34)},
	} {
		if err := f.Set(kv.k, kv.v); err != nil {
			return nil, fmt.Errorf("smpp: encoding bind %s: %w", kv.k, err)
		}
	}
	var buf bytes.Buffer
	if err := p.SerializeTo(&buf); err != nil {
		return nil, fmt.Errorf("smpp: encoding bind: %w", err)
	}
	return buf.Bytes()[headerLen:], nil
}

// BindRequest is the body of a bind_* request as an SMSC reads it.
type BindRequest struct {
	SystemID, Password, SystemType string
	InterfaceVersion               uint8
}

// ParseBind decodes a bind_receiver/transmitter/transceiver body.
func ParseBind(body []byte) (*BindRequest, error) {
	frame := PDU{ID: CmdBindTransceiver, Body: body}.Bytes()
	b, err := pdu.Decode(bytes.NewReader(frame))
	if err != nil {
		return nil, fmt.Errorf("smpp: decoding bind: %w", err)
	}
	f := b.Fields()
	return &BindRequest{
		SystemID:         str(f, pdufield.SystemID),
		Password:         str(f, pdufield.Password),
		SystemType:       str(f, pdufield.SystemType),
		InterfaceVersion: fixed(f, pdufield.InterfaceVersion),
	}, nil
}

// CString encodes s as a C-octet string body or TLV value (NUL-terminated).
func CString(s string) []byte { return appendCString(nil, s) }
