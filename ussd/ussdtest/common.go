package ussdtest

import (
	"net/http"
	"strings"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/ussd"
)

// Template is how a dialect writes a continuing hop, so that Common can build
// the cases every dialect shares.
type Template struct {
	ContentType string // of the dialect's requests
	ReplyType   string // Content-Type of its answers, refusals included
	// Hop returns the body of a continuing hop from the caller's number and
	// input, both written verbatim (they may be invalid UTF-8).
	Hop func(phone, input string) string
	// Cumulative dialects send every input of the session joined with '*'
	// (Africa's Talking); the handler bounds that text, not each input.
	Cumulative bool
}

// Phone is a valid Cameroonian number that Common's cases send.
const Phone = "+237677123456"

// Common returns the cases every dialect must pass, built from its template:
// refusals of a missing or wrong credential, a GET, a wrong media type, a
// malformed number, an over-long input (or, for a cumulative dialect, a part
// of its text), a NUL, a non-UTF-8 or over-large body, each
// in the dialect's own error format and without a step; and hops that must be
// stepped.
func Common(d ussd.Dialect, tpl Template) []Case {
	hop, ct := tpl.Hop(Phone, "1"), tpl.ContentType
	long, longErr := strings.Repeat("1", ussd.MaxInput+1), "input is 183 characters long"
	if tpl.Cumulative {
		long, longErr = strings.Repeat("1*", 2049), "text is longer than 4096 characters"
	}
	noKey := map[string]string{"X-Api-Key": ""}
	cs := []Case{
		{Label: "hop", Body: hop, ContentType: ct, Reply: ussd.Reply{Text: "1. Acte de naissance"},
			WantStatus: 200, WantBodyContains: []string{"1. Acte de naissance"}},
		{Label: "input at the limit", Body: tpl.Hop(Phone, strings.Repeat("é", ussd.MaxInput)), ContentType: ct,
			WantStatus: 200},
		{Label: "credential as a bearer token", Body: hop, ContentType: ct,
			Header: map[string]string{"X-Api-Key": "", "Authorization": "Bearer " + Credential}, WantStatus: 200},
		{Label: "engine refuses the hop", Body: hop, ContentType: ct,
			StepErr:    guichet.Errorf(guichet.EINVALID, "no such service"),
			WantStatus: 400, WantBodyContains: []string{"no such service"}},

		{Label: "no credential", Body: hop, ContentType: ct, Header: noKey,
			WantStatus: 401, WantBodyContains: []string{"missing or invalid credential"}, WantNoStep: true},
		{Label: "wrong credential", Body: hop, ContentType: ct, Header: map[string]string{"X-Api-Key": Credential + " "},
			WantStatus: 401, WantBodyContains: []string{"missing or invalid credential"}, WantNoStep: true},
		{Label: "GET", Method: http.MethodGet,
			WantStatus: 405, WantBodyContains: []string{"use POST"}, WantNoStep: true},
		{Label: "wrong media type", Body: hop, ContentType: "text/plain",
			WantStatus: 415, WantBodyContains: []string{"Content-Type must be"}, WantNoStep: true},
		{Label: "no media type", Body: hop,
			WantStatus: 415, WantBodyContains: []string{"Content-Type must be"}, WantNoStep: true},
		{Label: "malformed phone", Body: tpl.Hop("12345", "1"), ContentType: ct,
			WantStatus: 400, WantBodyContains: []string{"malformed phone number"}, WantNoStep: true},
		{Label: "input too long", Body: tpl.Hop(Phone, long), ContentType: ct,
			WantStatus: 400, WantBodyContains: []string{longErr}, WantNoStep: true},
		{Label: "NUL in the input", Body: tpl.Hop(Phone, "1\x00"), ContentType: ct,
			WantStatus: 400, WantNoStep: true},
		{Label: "non-UTF-8 body", Body: tpl.Hop(Phone, "1\xff"), ContentType: ct,
			WantStatus: 400, WantBodyContains: []string{"not valid UTF-8"}, WantNoStep: true},
		{Label: "body too large", Body: tpl.Hop(Phone, strings.Repeat("1", ussd.MaxBody)), ContentType: ct,
			WantStatus: 413, WantNoStep: true},
	}
	if tpl.Cumulative {
		// The first hop's text is what was dialled after the code, split
		// into inputs: none may be longer than one typed on a later hop.
		cs = append(cs, Case{Label: "input too long in the text", Body: tpl.Hop(Phone, "2*2*1*"+strings.Repeat("A", 1000)),
			ContentType: ct, WantStatus: 400, WantBodyContains: []string{"input is 1000 characters long"}, WantNoStep: true})
	}
	if _, ok := d.(ussd.Notifier); !ok {
		cs = append(cs, Case{Label: "no notices", Body: hop, ContentType: ct, Notice: true,
			WantStatus: 404, WantBodyContains: []string{"this dialect sends no notices"}, WantNoStep: true})
	}
	for i := range cs {
		cs[i].Label = "common: " + cs[i].Label
		cs[i].WantContentType = tpl.ReplyType
	}
	return cs
}
