// Package madapi speaks the USSD callback of MTN Group's MADAPI: the gateway
// POSTs each hop as JSON with a messageType, and reads the next screen from a
// JSON envelope with a status code and a transaction id.
package madapi

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/wire"
)

// Dialect is MADAPI's dialect; its zero value is ready.
type Dialect struct {
	// NewID returns the transactionId of each answer: random hex if nil.
	NewID func() string
	// Now is the clock of the errors' timestamps: time.Now if nil.
	Now func() time.Time
}

var _ ussd.Dialect = Dialect{}

func (Dialect) Name() string { return "madapi" }

// inbound is a hop. Ids and the message type come quoted or not depending on
// the gateway; cellId and imsi are not used.
type inbound struct {
	SessionID   wire.Scalar `json:"sessionId"`
	MessageType wire.Scalar `json:"messageType"`
	MSISDN      wire.Scalar `json:"msisdn"`
	ServiceCode string      `json:"serviceCode"`
	USSDString  string      `json:"ussdString"`
	Language    string      `json:"language"`
}

// kinds maps messageType to the hop's kind: 3 is a notification the caller
// answered, handled as a continue.
var kinds = map[wire.Scalar]ussd.Kind{
	"0": ussd.Begin, "1": ussd.Continue, "2": ussd.Release, "3": ussd.Continue, "4": ussd.Abort, "5": ussd.Timeout,
}

// Decode reads a hop. ussdString is the caller's input on a continue, the
// reason on an abort, and on a begin the dial string: when it extends the
// service code (*123*4*12345678# for *123#) it becomes the service code, so
// that a shortcut dial reaches the engine.
func (Dialect) Decode(r *http.Request) (ussd.Request, error) {
	var in inbound
	if err := wire.JSON(r, &in); err != nil {
		return ussd.Request{}, err
	}
	if err := wire.Required("sessionId", string(in.SessionID), "messageType", string(in.MessageType),
		"msisdn", string(in.MSISDN)); err != nil {
		return ussd.Request{}, err
	}
	kind, ok := kinds[in.MessageType]
	if !ok {
		return ussd.Request{}, ussd.BadRequest("unknown messageType " + wire.Quote(string(in.MessageType)))
	}
	if kind == ussd.Begin && in.ServiceCode == "" {
		return ussd.Request{}, ussd.BadRequest("missing field serviceCode")
	}
	req := ussd.Request{Kind: kind, SessionID: string(in.SessionID), Phone: string(in.MSISDN),
		ServiceCode: in.ServiceCode, Language: in.Language}
	switch kind {
	case ussd.Begin:
		if d := strings.TrimSpace(in.USSDString); len(d) > len(in.ServiceCode) &&
			strings.HasPrefix(d, strings.TrimSuffix(in.ServiceCode, "#")+"*") && strings.HasSuffix(d, "#") {
			req.ServiceCode = d
		}
	case ussd.Continue:
		req.Input = in.USSDString
	case ussd.Abort:
		req.Reason = in.USSDString
	}
	return req, nil
}

type reply struct {
	StatusCode    string    `json:"statusCode"`
	StatusMessage string    `json:"statusMessage"`
	TransactionID string    `json:"transactionId"`
	Data          replyData `json:"data"`
}

type replyData struct {
	InboundResponse   string `json:"inboundResponse"`
	UserInputRequired bool   `json:"userInputRequired"`
	MessageType       int    `json:"messageType"` // 1 continue, 2 end
	ServiceCode       string `json:"serviceCode"`
	MSISDN            string `json:"msisdn"`
}

// Encode answers the screen in a success envelope, echoing the service code
// and the number (in E.164 without the +, as MADAPI writes numbers).
func (d Dialect) Encode(w http.ResponseWriter, req ussd.Request, rep ussd.Reply) {
	data := replyData{InboundResponse: rep.Text, UserInputRequired: true, MessageType: 1,
		ServiceCode: req.ServiceCode, MSISDN: wire.MSISDN(req.Phone)}
	if wire.Ends(req, rep) {
		data.UserInputRequired, data.MessageType = false, 2
	}
	wire.WriteJSON(w, http.StatusOK, reply{StatusCode: "0000", StatusMessage: "Success",
		TransactionID: d.newID(), Data: data})
}

type failure struct {
	StatusCode     string `json:"statusCode"`
	StatusMessage  string `json:"statusMessage"`
	SupportMessage string `json:"supportMessage"`
	TransactionID  string `json:"transactionId"`
	Timestamp      string `json:"timestamp"`
	Path           string `json:"path"`
	Method         string `json:"method"`
}

// EncodeError answers MADAPI's error envelope: the HTTP status with a 0
// appended as statusCode (400 → "4000"), the reason as supportMessage. The
// path and method are left empty: ussd.Dialect gives EncodeError no request.
func (d Dialect) EncodeError(w http.ResponseWriter, status int, msg string) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	wire.WriteJSON(w, status, failure{StatusCode: fmt.Sprintf("%d0", status), StatusMessage: http.StatusText(status),
		SupportMessage: msg, TransactionID: d.newID(), Timestamp: now().UTC().Format(time.RFC3339)})
}

func (d Dialect) newID() string {
	if d.NewID != nil {
		return d.NewID()
	}
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
