// Package africastalking speaks Africa's Talking's USSD dialect, the "CON/END"
// one that many aggregators copy: a form POST per hop whose text holds every
// input of the session joined with '*', a plain-text reply, and an
// end-of-session notification on a separate URL.
package africastalking

import (
	"net/http"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/wire"
)

// Dialect is Africa's Talking's dialect; its zero value is ready.
type Dialect struct{}

var (
	_ ussd.Dialect  = Dialect{}
	_ ussd.Notifier = Dialect{}
)

func (Dialect) Name() string { return "africastalking" }

// Decode reads a hop: sessionId, phoneNumber, networkCode, serviceCode, text.
// The text goes to History whole: the engine derives the latest input from it
// and the previous hop's text, as a '*' typed inside an input makes splitting
// ambiguous. The text also tells a retried hop, so it is the hop key.
func (Dialect) Decode(r *http.Request) (ussd.Request, error) {
	f, err := wire.Form(r)
	if err != nil {
		return ussd.Request{}, err
	}
	req := ussd.Request{
		Kind:        ussd.Continue,
		SessionID:   f.Get("sessionId"),
		Phone:       f.Get("phoneNumber"),
		ServiceCode: f.Get("serviceCode"),
		History:     f.Get("text"),
		Cumulative:  true,
		HopKey:      f.Get("text"),
	}
	if err := wire.Required("sessionId", req.SessionID, "phoneNumber", req.Phone, "serviceCode", req.ServiceCode); err != nil {
		return ussd.Request{}, err
	}
	return req, nil
}

// statuses maps the notification's status to how the session ended.
var statuses = map[string]ussd.Kind{
	"Success":    ussd.Release, // the session reached its last screen
	"Incomplete": ussd.Abort,   // dropped while a screen waited for input
	"Failed":     ussd.Failed,  // errorMessage says why
}

// DecodeNotice reads the end-of-session notification: sessionId, serviceCode,
// networkCode, phoneNumber, status and, for Failed, errorMessage. Its other
// fields (cost, date, input, hopsCount, lastAppResponse, durationInMillis)
// are not used.
func (Dialect) DecodeNotice(r *http.Request) (ussd.Request, error) {
	f, err := wire.Form(r)
	if err != nil {
		return ussd.Request{}, err
	}
	req := ussd.Request{
		SessionID:   f.Get("sessionId"),
		Phone:       f.Get("phoneNumber"),
		ServiceCode: f.Get("serviceCode"),
	}
	status := f.Get("status")
	if err := wire.Required("sessionId", req.SessionID, "phoneNumber", req.Phone, "status", status); err != nil {
		return ussd.Request{}, err
	}
	kind, ok := statuses[status]
	if !ok {
		return ussd.Request{}, ussd.BadRequest("unknown status " + wire.Quote(status))
	}
	req.Kind = kind
	if kind == ussd.Failed {
		req.Reason = f.Get("errorMessage")
	}
	return req, nil
}

// Encode answers "CON text" to wait for input, "END text" to end.
func (Dialect) Encode(w http.ResponseWriter, req ussd.Request, rep ussd.Reply) {
	prefix := "CON "
	if wire.Ends(req, rep) {
		prefix = "END "
	}
	wire.WriteText(w, http.StatusOK, prefix+rep.Text)
}

// EncodeError answers an END screen with the status: Africa's Talking ends
// the session on any 4xx.
func (Dialect) EncodeError(w http.ResponseWriter, status int, msg string) {
	wire.WriteText(w, status, "END "+msg)
}
