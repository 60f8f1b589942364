package sms

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/guichet/guichet"
)

// Parts are the parts of one concatenated inbound message received so far:
// what a gateway keeps between them, in memory or (for a fleet, whose
// parts may arrive at different gateways) in a shared store. Its bytes
// (MarshalBinary) are what is stored; the zero value has no part.
type Parts struct {
	Codings []byte   `json:"c"`
	Bodies  [][]byte `json:"b"` // nil until the part arrives
}

// Add records the part c of the message, its body in dataCoding as
// SplitUDH gave it, and reports whether it was new: a part already in, or
// one whose total differs from the parts before it, is ignored.
func (p *Parts) Add(c Concat, dataCoding byte, body []byte) bool {
	if c.Total == 0 || c.Seq == 0 || c.Seq > c.Total {
		return false
	}
	if p.Bodies == nil {
		p.Codings, p.Bodies = make([]byte, c.Total), make([][]byte, c.Total)
	}
	i := int(c.Seq) - 1
	if len(p.Bodies) != int(c.Total) || p.Bodies[i] != nil {
		return false
	}
	p.Codings[i], p.Bodies[i] = dataCoding, append([]byte{}, body...)
	return true
}

// Complete reports whether every part is in.
func (p *Parts) Complete() bool {
	for _, b := range p.Bodies {
		if b == nil {
			return false
		}
	}
	return len(p.Bodies) > 0
}

// Text joins the bodies and decodes them, once Complete: whole when the
// parts share a data coding, so that a sender who split an escape sequence
// or a surrogate pair across parts is still read right, else part by part.
func (p *Parts) Text() (string, error) {
	if !p.Complete() {
		return "", guichet.Errorf(guichet.EINVALID, "sms: a message of %d parts is not complete", len(p.Bodies))
	}
	same := true
	for _, c := range p.Codings {
		same = same && c == p.Codings[0]
	}
	if same {
		var all []byte
		for _, b := range p.Bodies {
			all = append(all, b...)
		}
		return DecodeBody(p.Codings[0], all)
	}
	var b strings.Builder
	for i, body := range p.Bodies {
		t, err := DecodeBody(p.Codings[i], body)
		if err != nil {
			return "", err
		}
		b.WriteString(t)
	}
	return b.String(), nil
}

// MarshalBinary gives the bytes to store.
func (p *Parts) MarshalBinary() ([]byte, error) { return json.Marshal(p) }

// UnmarshalBinary reads what MarshalBinary gave; nil or empty data is no
// part. Bytes that are not Parts (a store's corruption) give an error.
func (p *Parts) UnmarshalBinary(data []byte) error {
	*p = Parts{}
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, p); err != nil {
		return fmt.Errorf("sms: reading stored parts: %w", err)
	}
	if len(p.Codings) != len(p.Bodies) || len(p.Bodies) > 255 {
		return fmt.Errorf("sms: stored parts of %d codings and %d bodies", len(p.Codings), len(p.Bodies))
	}
	return nil
}
