// Package smsctest runs the SMSC simulator of package smsc on loopback for
// tests, shaped like net/http/httptest: NewServer, Addr, Close.
//
// It is for tests only; the binary uses package smsc.
package smsctest

import (
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsc"
)

// The simulator's types, under the names tests have always used.
type (
	Server    = smsc.Server
	Options   = smsc.Options
	Submitted = smsc.Submitted
	IDFormat  = smsc.IDFormat
)

// Message id forms (smsc.Hex, smsc.Decimal).
const (
	Hex     = smsc.Hex
	Decimal = smsc.Decimal
)

// ErrNotBound is returned when no session is bound to send to.
var ErrNotBound = smsc.ErrNotBound

// NewServer starts a simulator on 127.0.0.1:0; the test stops it with
// Close. It panics if it cannot listen, like httptest.NewServer.
func NewServer(opts Options) *Server { return smsc.NewServer(opts) }

// USSD builds an inbound USSD PDU for Server.Inject (see smsc.USSD).
func USSD(from, to string, op uint8, session, seqAndEnd uint8, text string) smpp.Inbound {
	return smsc.USSD(from, to, op, session, seqAndEnd, text)
}
