package ussd

import (
	"net/http"
)

// Dialect reads and writes one operator family's USSD-over-HTTP wire format.
// A dialect only translates: it never stores, validates numbers or decides
// screens. Each lives in its own folder (ussd/africastalking, ussd/hubtel…)
// with table-driven fixture tests.
type Dialect interface {
	// Name is the dialect's name in configuration ("africastalking").
	Name() string
	// Decode reads one hop. A wrong request gets an error made with
	// BadRequest (or any error, which is answered as 400).
	Decode(r *http.Request) (Request, error)
	// Encode writes the screen in the dialect's reply format; req is the
	// decoded request it answers (some formats echo its fields).
	Encode(w http.ResponseWriter, req Request, rep Reply)
	// EncodeError writes a refusal with the HTTP status, in the dialect's
	// error format.
	EncodeError(w http.ResponseWriter, status int, msg string)
}

// Notifier is a Dialect whose operator reports the end of each session on a
// separate URL (Africa's Talking's end-of-session notification). The handler
// mounts it at the operator's path + "/end".
type Notifier interface {
	// DecodeNotice reads the notice as a Request of Kind Release, Abort,
	// Timeout or Failed.
	DecodeNotice(r *http.Request) (Request, error)
}

// RequestError is a request the dialect cannot read; Status is the HTTP
// status to answer (400 unless said otherwise).
type RequestError struct {
	Status int
	Msg    string
}

func (e *RequestError) Error() string { return e.Msg }

// BadRequest returns a 400 RequestError.
func BadRequest(msg string) error { return &RequestError{Status: http.StatusBadRequest, Msg: msg} }

// Unsupported returns a 415 RequestError, for a body in the wrong media type.
func Unsupported(msg string) error {
	return &RequestError{Status: http.StatusUnsupportedMediaType, Msg: msg}
}
