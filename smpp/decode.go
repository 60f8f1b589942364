package smpp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrMalformed is matched (errors.Is) by every error ParseMessage and
// ParseDataSM return for a body that does not follow SMPP 3.4. Those for a
// body that ends too early match io.ErrUnexpectedEOF as well.
var ErrMalformed = errors.New("smpp: malformed PDU body")

// Maximum lengths of SMPP 3.4's C-octet strings, NUL included (§4.4.1,
// §4.6.1, §4.7.1).
const (
	maxServiceType  = 6
	maxAddr         = 21 // submit_sm, deliver_sm
	maxDataSMAddr   = 65 // data_sm
	maxTime         = 17 // schedule_delivery_time, validity_period
	maxShortMessage = 254
	tlvHeaderLen    = 4
)

// decodeError says which field of a body is malformed and where.
type decodeError struct {
	pdu    string // "message body" or "data_sm"
	field  string // SMPP 3.4's name: "source_addr", "sm_length", "TLV 0x0424"...
	offset int    // of the field in the body
	reason string
	eof    bool // the body ends too early
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("smpp: decoding %s: %s at offset %d: %s", e.pdu, e.field, e.offset, e.reason)
}

// Is matches ErrMalformed, and io.ErrUnexpectedEOF for a truncated body.
func (e *decodeError) Is(target error) bool {
	return target == ErrMalformed || (e.eof && target == io.ErrUnexpectedEOF)
}

// bodyReader reads a PDU body front to back. The first error sticks: later
// reads return zero values, so that a decoder reads all its fields and
// checks once at the end.
type bodyReader struct {
	pdu string
	b   []byte
	off int
	err *decodeError
}

func (r *bodyReader) fail(field string, off int, eof bool, format string, args ...any) {
	if r.err == nil {
		r.err = &decodeError{pdu: r.pdu, field: field, offset: off, reason: fmt.Sprintf(format, args...), eof: eof}
	}
}

// octet reads a one-octet integer.
func (r *bodyReader) octet(field string) uint8 {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail(field, r.off, true, "missing: the body ends")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// cstring reads a C-octet string of at most limit octets, its NUL included.
func (r *bodyReader) cstring(field string, limit int) string {
	if r.err != nil {
		return ""
	}
	rest := r.b[r.off:]
	if len(rest) == 0 {
		r.fail(field, r.off, true, "missing: the body ends")
		return ""
	}
	i := bytes.IndexByte(rest, 0)
	switch {
	case i < 0 && len(rest) < limit:
		r.fail(field, r.off, true, "no NUL terminator before the end of the body (%d octets left)", len(rest))
		return ""
	case i < 0:
		r.fail(field, r.off, false, "no NUL terminator within its maximum of %d octets", limit)
		return ""
	case i >= limit:
		r.fail(field, r.off, false, "%d octets with its NUL, over its maximum of %d", i+1, limit)
		return ""
	}
	s := string(rest[:i])
	r.off += i + 1
	return s
}

// octets reads n octets into a new slice.
func (r *bodyReader) octets(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if left := len(r.b) - r.off; n > left {
		r.fail(field, r.off, true, "%d octets announced, %d left in the body", n, left)
		return nil
	}
	v := make([]byte, n)
	r.off += copy(v, r.b[r.off:])
	return v
}

// tlvs reads TLVs up to the end of the body. A tag may appear once: a
// second one would be dropped or would have to overwrite the first.
func (r *bodyReader) tlvs() map[uint16][]byte {
	if r.err != nil {
		return nil
	}
	// One map, sized for a receipt's two TLVs: the offsets of the TLVs
	// read, for the error of a repeated one, are found again only then.
	var m map[uint16][]byte
	from := r.off
	for r.off < len(r.b) && r.err == nil {
		start := r.off
		if left := len(r.b) - start; left < tlvHeaderLen {
			r.fail("TLV header", start, true, "truncated: %d octets left, a tag and a length take 4", left)
			break
		}
		tag := binary.BigEndian.Uint16(r.b[start:])
		n := int(binary.BigEndian.Uint16(r.b[start+2:]))
		if _, ok := m[tag]; ok {
			r.fail(tlvName(tag), start, false, "repeated (first at offset %d)", firstTLV(r.b, from, tag))
			break
		}
		if left := len(r.b) - start - tlvHeaderLen; n > left {
			r.fail(tlvName(tag), start, true, "length %d runs past the end of the body (%d octets left)", n, left)
			break
		}
		r.off += tlvHeaderLen
		if m == nil {
			m = make(map[uint16][]byte, 2)
		}
		m[tag] = r.octets("TLV value", n) // its length was checked: it cannot fail
	}
	if m == nil {
		m = map[uint16][]byte{} // never nil, as before
	}
	return m
}

// firstTLV returns the offset of the first TLV tagged tag in b from
// offset from, whose TLVs were read up to a repeat of it: for the error.
func firstTLV(b []byte, from int, tag uint16) int {
	for off := from; off+tlvHeaderLen <= len(b); off += tlvHeaderLen + int(binary.BigEndian.Uint16(b[off+2:])) {
		if binary.BigEndian.Uint16(b[off:]) == tag {
			return off
		}
	}
	return -1
}

// tlvName names a TLV in an error, spelt only when there is one: a
// receipt carries two TLVs, read at thousands a second.
func tlvName(tag uint16) string { return fmt.Sprintf("TLV 0x%04x", tag) }

// decodeMessage decodes the body shared by submit_sm and deliver_sm (SMPP
// 3.4 §4.4.1, §4.6.1).
func decodeMessage(body []byte) (*Message, error) {
	r := &bodyReader{pdu: "message body", b: body}
	m := &Message{}
	m.ServiceType = r.cstring("service_type", maxServiceType)
	m.SourceTON = r.octet("source_addr_ton")
	m.SourceNPI = r.octet("source_addr_npi")
	m.SourceAddr = r.cstring("source_addr", maxAddr)
	m.DestTON = r.octet("dest_addr_ton")
	m.DestNPI = r.octet("dest_addr_npi")
	m.DestAddr = r.cstring("destination_addr", maxAddr)
	m.ESMClass = r.octet("esm_class")
	m.ProtocolID = r.octet("protocol_id")
	m.PriorityFlag = r.octet("priority_flag")
	m.ScheduleDeliveryTime = r.cstring("schedule_delivery_time", maxTime)
	m.ValidityPeriod = r.cstring("validity_period", maxTime)
	m.RegisteredDelivery = r.octet("registered_delivery")
	r.octet("replace_if_present_flag")
	m.DataCoding = r.octet("data_coding")
	r.octet("sm_default_msg_id")
	smLengthAt := r.off
	n := int(r.octet("sm_length"))
	if n > maxShortMessage && r.err == nil {
		r.fail("sm_length", smLengthAt, false, "%d is over %d: a longer text goes in message_payload", n, maxShortMessage)
	}
	m.ShortMessage = r.octets("short_message", n)
	m.TLVs = r.tlvs()
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// decodeDataSM decodes a data_sm body (SMPP 3.4 §4.7.1).
func decodeDataSM(body []byte) (*DataSM, error) {
	r := &bodyReader{pdu: "data_sm", b: body}
	d := &DataSM{}
	d.ServiceType = r.cstring("service_type", maxServiceType)
	d.SourceTON = r.octet("source_addr_ton")
	d.SourceNPI = r.octet("source_addr_npi")
	d.SourceAddr = r.cstring("source_addr", maxDataSMAddr)
	d.DestTON = r.octet("dest_addr_ton")
	d.DestNPI = r.octet("dest_addr_npi")
	d.DestAddr = r.cstring("destination_addr", maxDataSMAddr)
	d.ESMClass = r.octet("esm_class")
	d.RegisteredDelivery = r.octet("registered_delivery")
	d.DataCoding = r.octet("data_coding")
	d.TLVs = r.tlvs()
	if r.err != nil {
		return nil, r.err
	}
	return d, nil
}
