// Package guichet holds what every part of the gateway shares: the domain error
// with its code. Each edge (HTTP API, USSD screen, console) maps codes once.
package guichet

import (
	"errors"
	"fmt"
)

// Error codes. Each edge maps them once: to an HTTP status, to a polite screen.
const (
	EINVALID      = "invalid"      // the input is wrong; saying it again will not help
	ENOTFOUND     = "not_found"    // no such thing
	ECONFLICT     = "conflict"     // the state forbids it (slot full, illegal move)
	EUNAVAILABLE  = "unavailable"  // a backend is down or slow; try again later
	EUNAUTHORIZED = "unauthorized" // who asks is not known, or no longer (a key revoked or expired)
	ELIMITED      = "limited"      // who asks has asked too much for now; later
	EINTERNAL     = "internal"     // a bug
)

// Error is a domain error: a code the edges understand and a message for people.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic one: internal details never reach a caller.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
