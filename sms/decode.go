package sms

import (
	"unicode/utf16"

	"github.com/guichet/guichet"
)

// Concat is a concatenation header: the part Seq (from 1) of Total parts of
// the message the sender numbered Ref.
type Concat struct {
	Ref   uint16 // 8-bit (IEI 00) or 16-bit (IEI 08) reference
	Total byte
	Seq   byte
}

// Decode returns the text of an inbound short_message and its concatenation
// header, nil when there is none. dataCoding is 0 (GSM-7, one unpacked
// septet per octet), 1 (IA5), 3 (Latin-1) or 8 (UCS-2); esmClass tells with
// ESMClassUDHI whether payload starts with a user data header, whose
// information elements other than concatenation are skipped. A malformed
// payload gives an EINVALID *guichet.Error, never a panic. Decode is lenient
// where a sender may have split a sequence across parts: an unpaired UTF-16
// surrogate becomes U+FFFD and a trailing escape is dropped (Parts joins the
// bodies before decoding, so that such a split heals).
func Decode(dataCoding byte, esmClass byte, payload []byte) (text string, udh *Concat, err error) {
	udh, body, err := SplitUDH(esmClass, payload)
	if err != nil {
		return "", nil, err
	}
	text, err = DecodeBody(dataCoding, body)
	if err != nil {
		return "", nil, err
	}
	return text, udh, nil
}

// SplitUDH separates the user data header of an inbound short_message, if
// esmClass announces one, from its body: the concatenation header (nil when
// there is none) and the body still encoded. A malformed header gives an
// EINVALID *guichet.Error.
func SplitUDH(esmClass byte, payload []byte) (*Concat, []byte, error) {
	if esmClass&ESMClassUDHI == 0 {
		return nil, payload, nil
	}
	if len(payload) == 0 {
		return nil, nil, guichet.Errorf(guichet.EINVALID, "sms: esm_class announces a user data header but the message is empty")
	}
	n := int(payload[0])
	if 1+n > len(payload) {
		return nil, nil, guichet.Errorf(guichet.EINVALID, "sms: user data header of %d octets in a message of %d", n, len(payload)-1)
	}
	h, body := payload[1:1+n], payload[1+n:]
	var c *Concat
	for len(h) > 0 {
		if len(h) < 2 {
			return nil, nil, guichet.Errorf(guichet.EINVALID, "sms: user data header ends inside an element")
		}
		iei, l := h[0], int(h[1])
		if 2+l > len(h) {
			return nil, nil, guichet.Errorf(guichet.EINVALID, "sms: element 0x%02X of %d octets overruns the user data header", iei, l)
		}
		d := h[2 : 2+l]
		h = h[2+l:]
		var got Concat
		switch {
		case iei == 0x00 && l == 3:
			got = Concat{Ref: uint16(d[0]), Total: d[1], Seq: d[2]}
		case iei == 0x08 && l == 4:
			got = Concat{Ref: uint16(d[0])<<8 | uint16(d[1]), Total: d[2], Seq: d[3]}
		case iei == 0x00 || iei == 0x08:
			return nil, nil, guichet.Errorf(guichet.EINVALID, "sms: concatenation element 0x%02X of %d octets", iei, l)
		default:
			continue
		}
		if got.Total == 0 || got.Seq == 0 || got.Seq > got.Total {
			return nil, nil, guichet.Errorf(guichet.EINVALID, "sms: concatenation part %d of %d", got.Seq, got.Total)
		}
		c = &got
	}
	return c, body, nil
}

// DecodeBody decodes a body without header in the given data coding (see
// Decode).
func DecodeBody(dataCoding byte, body []byte) (string, error) {
	switch dataCoding {
	case CodingDefault:
		return fromSeptets(body)
	case CodingIA5:
		for i, c := range body {
			if c > 0x7F {
				return "", guichet.Errorf(guichet.EINVALID, "sms: octet 0x%02X at %d is not IA5", c, i)
			}
		}
		return string(body), nil
	case CodingLatin1:
		r := make([]rune, len(body))
		for i, c := range body {
			r[i] = rune(c)
		}
		return string(r), nil
	case CodingUCS2:
		if len(body)%2 != 0 {
			return "", guichet.Errorf(guichet.EINVALID, "sms: UCS-2 text of an odd number of octets (%d)", len(body))
		}
		u := make([]uint16, len(body)/2)
		for i := range u {
			u[i] = uint16(body[2*i])<<8 | uint16(body[2*i+1])
		}
		return string(utf16.Decode(u)), nil
	}
	return "", guichet.Errorf(guichet.EINVALID, "sms: unsupported data_coding 0x%02X", dataCoding)
}
