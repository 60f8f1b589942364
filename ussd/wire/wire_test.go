package wire

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/guichet/guichet/ussd"
)

func post(contentType, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/ussd/test", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// status returns the HTTP status the handler would answer err with, and its
// message.
func status(err error) (int, string) {
	var re *ussd.RequestError
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return 0, ""
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, err.Error()
	case errors.As(err, &re):
		return re.Status, re.Msg
	}
	return -1, err.Error()
}

type hop struct {
	ID    string `json:"id"`
	Type  Scalar `json:"type"`
	Hop   *int64 `json:"hop"`
	First *bool  `json:"first"`
	Inner struct {
		N int `json:"n"`
	} `json:"inner"`
}

func TestJSON(t *testing.T) {
	for _, c := range []struct {
		label, contentType, body string
		want                     hop
		wantStatus               int
		wantMsg                  string
	}{
		{label: "plain", contentType: "application/json", body: `{"id":"s1","type":"1","unknown":[1,{"a":null}]}`,
			want: hop{ID: "s1", Type: "1"}},
		{label: "type as a number", contentType: "application/json; charset=UTF-8", body: `{"type":-2.5e3}`,
			want: hop{Type: "-2.5e3"}},
		{label: "null type", contentType: "application/json;charset=utf8", body: `{"type":null}`},
		{label: "escaped surrogate", contentType: "application/json", body: `{"id":"\ud800"}`, want: hop{ID: "\ufffd"}},
		{label: "media type", contentType: "text/json", body: `{}`,
			wantStatus: 415, wantMsg: `Content-Type must be application/json, not "text/json"`},
		{label: "no media type", body: `{}`,
			wantStatus: 415, wantMsg: `Content-Type must be application/json, not ""`},
		{label: "garbled media type", contentType: "application/json; ;;", body: `{}`,
			wantStatus: 415, wantMsg: `Content-Type must be application/json, not "application/json; ;;"`},
		{label: "charset", contentType: "application/json; charset=windows-1252", body: `{}`,
			wantStatus: 415, wantMsg: `charset must be utf-8, not "windows-1252"`},
		{label: "raw Latin-1", contentType: "application/json", body: "{\"id\":\"caf\xe9\"}",
			wantStatus: 400, wantMsg: "body is not valid UTF-8"},
		{label: "empty", contentType: "application/json", body: " \r\n",
			wantStatus: 400, wantMsg: "empty body"},
		{label: "truncated", contentType: "application/json", body: `{"id":"s1"`,
			wantStatus: 400, wantMsg: "malformed JSON at byte 10: unexpected end of JSON input"},
		{label: "trailing data", contentType: "application/json", body: `{"id":"s1"}{}`,
			wantStatus: 400, wantMsg: "malformed JSON at byte 12: invalid character '{' after top-level value"},
		{label: "array", contentType: "application/json", body: `[]`,
			wantStatus: 400, wantMsg: "body must be a JSON object, not array"},
		{label: "string field as a number", contentType: "application/json", body: `{"id":12}`,
			wantStatus: 400, wantMsg: "field id must be a string, not number"},
		{label: "scalar as a bool", contentType: "application/json", body: `{"type":true}`,
			wantStatus: 400, wantMsg: "field type must be a string or a number, not bool"},
		{label: "scalar as an object", contentType: "application/json", body: `{"type":{"v":1}}`,
			wantStatus: 400, wantMsg: "field type must be a string or a number, not object"},
		{label: "integer as a fraction", contentType: "application/json", body: `{"hop":1.5}`,
			wantStatus: 400, wantMsg: "field hop must be an integer, not number 1.5"},
		{label: "bool as a string", contentType: "application/json", body: `{"first":"true"}`,
			wantStatus: 400, wantMsg: "field first must be a boolean, not string"},
		{label: "nested field", contentType: "application/json", body: `{"inner":{"n":[]}}`,
			wantStatus: 400, wantMsg: "field inner.n must be an integer, not array"},
	} {
		t.Run(c.label, func(t *testing.T) {
			var got hop
			st, msg := status(JSON(post(c.contentType, c.body), &got))
			if st != c.wantStatus || msg != c.wantMsg {
				t.Errorf("error %d %q, want %d %q", st, msg, c.wantStatus, c.wantMsg)
			}
			if c.wantStatus == 0 && (got.ID != c.want.ID || got.Type != c.want.Type) {
				t.Errorf("decoded %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestForm(t *testing.T) {
	for _, c := range []struct {
		label, contentType, body string
		wantText                 string
		wantStatus               int
		wantMsg                  string
	}{
		{label: "plain", contentType: "application/x-www-form-urlencoded", body: "sessionId=s1&text=1%2A2+3",
			wantText: "1*2 3"},
		{label: "raw UTF-8", contentType: "application/x-www-form-urlencoded; charset=utf-8", body: "text=Yaoundé",
			wantText: "Yaoundé"},
		{label: "JSON", contentType: "application/json", body: `{}`,
			wantStatus: 415, wantMsg: `Content-Type must be application/x-www-form-urlencoded, not "application/json"`},
		{label: "escaped Latin-1 value", contentType: "application/x-www-form-urlencoded", body: "text=caf%E9",
			wantStatus: 400, wantMsg: "field text is not valid UTF-8"},
		{label: "escaped Latin-1 name", contentType: "application/x-www-form-urlencoded", body: "t%E9xt=1",
			wantStatus: 400, wantMsg: "a field name is not valid UTF-8"},
		{label: "raw Latin-1", contentType: "application/x-www-form-urlencoded", body: "text=caf\xe9",
			wantStatus: 400, wantMsg: "body is not valid UTF-8"},
		{label: "bad escape", contentType: "application/x-www-form-urlencoded", body: "text=1%2",
			wantStatus: 400, wantMsg: `malformed form body: invalid URL escape "%2"`},
		{label: "semicolon", contentType: "application/x-www-form-urlencoded", body: "a=1;text=2",
			wantStatus: 400, wantMsg: "malformed form body: invalid semicolon separator in query"},
	} {
		t.Run(c.label, func(t *testing.T) {
			f, err := Form(post(c.contentType, c.body))
			st, msg := status(err)
			if st != c.wantStatus || msg != c.wantMsg {
				t.Errorf("error %d %q, want %d %q", st, msg, c.wantStatus, c.wantMsg)
			}
			if err == nil && f.Get("text") != c.wantText {
				t.Errorf("text %q, want %q", f.Get("text"), c.wantText)
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
		w := httptest.NewRecorder()
		r := post(ct, `{"id":"`+strings.Repeat("1", ussd.MaxBody)+`"}`)
		r.Body = http.MaxBytesReader(w, r.Body, ussd.MaxBody)
		var err error
		if ct == "application/json" {
			err = JSON(r, &hop{})
		} else {
			_, err = Form(r)
		}
		if st, msg := status(err); st != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: error %d %q, want 413", ct, st, msg)
		}
	}
}

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		pairs []string
		want  string
	}{
		{[]string{"sessionId", "s1", "msisdn", "237677123456"}, ""},
		{[]string{"sessionId", "", "msisdn", ""}, "missing field sessionId"},
		{[]string{"sessionId", "s1", "msisdn", ""}, "missing field msisdn"},
		{nil, ""},
	} {
		if _, msg := status(Required(c.pairs...)); msg != c.want {
			t.Errorf("Required(%q) = %q, want %q", c.pairs, msg, c.want)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Cancelled", `"Cancelled"`},
		{"a\"b\n", `"a\"b\n"`},
		{strings.Repeat("é", 33), `"` + strings.Repeat("é", 32) + `…"`},
		{strings.Repeat("x", 32), `"` + strings.Repeat("x", 32) + `"`},
	} {
		if got := Quote(c.in); got != c.want || !utf8.ValidString(got) {
			t.Errorf("Quote(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEnds(t *testing.T) {
	for _, c := range []struct {
		kind     ussd.Kind
		end      bool
		wantEnds bool
	}{
		{ussd.Begin, false, false},
		{ussd.Continue, false, false},
		{ussd.Continue, true, true},
		{ussd.Release, false, true},
		{ussd.Abort, false, true},
		{ussd.Timeout, false, true},
		{ussd.Failed, false, true},
	} {
		if got := Ends(ussd.Request{Kind: c.kind}, ussd.Reply{End: c.end}); got != c.wantEnds {
			t.Errorf("Ends(%v, end %v) = %v, want %v", c.kind, c.end, got, c.wantEnds)
		}
	}
}

func TestMSISDN(t *testing.T) {
	if got := MSISDN("+237677123456"); got != "237677123456" {
		t.Errorf("MSISDN = %q", got)
	}
}

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusAccepted, map[string]string{"text": "1 <oui> & 2"})
	if w.Code != 202 || w.Body.String() != `{"text":"1 <oui> & 2"}`+"\n" ||
		w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("WriteJSON wrote %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	w = httptest.NewRecorder()
	WriteJSON(w, http.StatusOK, map[string]any{"bad": func() {}})
	if w.Code != 500 || w.Body.String() != `{"error":"internal error"}`+"\n" {
		t.Errorf("WriteJSON of a function wrote %d %q", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	WriteText(w, http.StatusBadRequest, "END non")
	if w.Code != 400 || w.Body.String() != "END non" || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("WriteText wrote %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}
