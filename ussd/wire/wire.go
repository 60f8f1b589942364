// Package wire holds what the USSD dialects share to read and write their
// wire formats: a JSON or form body read with its media type and encoding
// checked, required-field checks, and replies written with the right headers.
// Errors are ussd.RequestError (400 or 415), or wrap *http.MaxBytesError so
// that the handler answers 413.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/guichet/guichet/ussd"
)

// JSON reads r's body, which must be application/json in UTF-8, into the
// struct v. Unknown fields are ignored.
func JSON(r *http.Request, v any) error {
	b, err := body(r, "application/json")
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return ussd.BadRequest("empty body")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// Form reads r's body as an application/x-www-form-urlencoded form whose
// names and values are UTF-8. Fields in the URL's query are not read.
func Form(r *http.Request) (url.Values, error) {
	b, err := body(r, "application/x-www-form-urlencoded")
	if err != nil {
		return nil, err
	}
	f, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, ussd.BadRequest("malformed form body: " + err.Error())
	}
	for k, vs := range f {
		if !utf8.ValidString(k) {
			return nil, ussd.BadRequest("a field name is not valid UTF-8")
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return nil, ussd.BadRequest(fmt.Sprintf("field %s is not valid UTF-8", k))
			}
		}
	}
	return f, nil
}

// body checks r's media type and reads its body, which must be UTF-8.
func body(r *http.Request, want string) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != want {
		return nil, ussd.Unsupported(fmt.Sprintf("Content-Type must be %s, not %q", want, ct))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") &&
		!strings.EqualFold(cs, "us-ascii") {
		return nil, ussd.Unsupported(fmt.Sprintf("charset must be utf-8, not %q", cs))
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if !utf8.Valid(b) {
		return nil, ussd.BadRequest("body is not valid UTF-8")
	}
	return b, nil
}

// jsonError rewords encoding/json's errors for the operator: with JSON field
// names and JSON types, not Go's.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return ussd.BadRequest(fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, se.Error()))
	case errors.As(err, &te) && te.Field == "":
		return ussd.BadRequest("body must be a JSON object, not " + te.Value)
	case errors.As(err, &te):
		return ussd.BadRequest(fmt.Sprintf("field %s must be %s, not %s", te.Field, kind(te.Type), te.Value))
	}
	return ussd.BadRequest("malformed JSON: " + err.Error())
}

func kind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	if t == reflect.TypeFor[Scalar]() {
		return "a string or a number"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return t.String()
}

// Scalar is a JSON string or number kept as its text: gateways disagree on
// whether codes and counters are quoted ("messageType": "1" or 1).
type Scalar string

// UnmarshalJSON accepts a string, a number or null (which leaves s empty).
func (s *Scalar) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = Scalar(v)
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*s = Scalar(b)
		return nil
	case string(b) == "null":
		return nil
	}
	return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[Scalar]()}
}

func jsonKind(b []byte) string {
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "value"
}

// Required returns a 400 naming the first of the (name, value) pairs whose
// value is empty: Required("sessionId", id, "msisdn", msisdn).
func Required(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return ussd.BadRequest("missing field " + pairs[i])
		}
	}
	return nil
}

// Quote quotes an operator's value for an error message, cut to 32
// characters.
func Quote(s string) string {
	if utf8.RuneCountInString(s) > 32 {
		s = string([]rune(s)[:32]) + "…"
	}
	return strconv.Quote(s)
}

// Ends says whether the reply ends the session: when the engine says so, or
// when the network already ended it (a notice of release, abort, timeout or
// failure cannot be answered with a question).
func Ends(req ussd.Request, rep ussd.Reply) bool {
	switch req.Kind {
	case ussd.Release, ussd.Abort, ussd.Timeout, ussd.Failed:
		return true
	}
	return rep.End
}

// MSISDN writes an E.164 number as most gateways send it: without the +.
func MSISDN(e164 string) string { return strings.TrimPrefix(e164, "+") }

// WriteJSON writes v as JSON with the status. HTML characters are not
// escaped: screens are shown on phones, not in pages.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only a type that cannot be encoded gets here: a bug in a dialect.
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"error":"internal error"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// WriteText writes s as plain UTF-8 text with the status.
func WriteText(w http.ResponseWriter, status int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, s)
}
