package arkesel

import (
	"encoding/json"
	"testing"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/ussdtest"
)

const (
	jsonType = "application/json"
	jsonUTF8 = "application/json; charset=utf-8"
	session  = "8f2b6c1d-4e3a-4b9f-a7d2-1c0e9f8b7a6d"
)

var d = Dialect{UserID: "guichet-gh"}

func arkesel(kind ussd.Kind, code, input string) *ussd.Request {
	return &ussd.Request{Kind: kind, SessionID: session, Phone: "+233244123456", ServiceCode: code,
		Operator: "test", Dialect: "arkesel", Input: input}
}

func hop(phone, input string) string {
	return `{"sessionID":"` + session + `","userID":"guichet-gh","newSession":false,"msisdn":"` + phone +
		`","userData":"` + input + `","network":"MTN"}`
}

func TestHops(t *testing.T) {
	ussdtest.Run(t, d, []ussdtest.Case{
		{Label: "new session", BodyFile: "new.json", ContentType: jsonType,
			Reply:      ussd.Reply{Text: "Guichet\n1. Birth certificate\n2. Track a case"},
			WantStatus: 200, WantContentType: jsonUTF8,
			WantBody:    `{"sessionID":"` + session + `","userID":"guichet-gh","msisdn":"233244123456","message":"Guichet\n1. Birth certificate\n2. Track a case","continueSession":true}` + "\n",
			WantRequest: arkesel(ussd.Begin, "*928*01#", "")},
		{Label: "next hop", BodyFile: "next.json", ContentType: jsonType,
			Reply:       ussd.Reply{Text: "Case number?"},
			WantStatus:  200,
			WantBody:    `{"sessionID":"` + session + `","userID":"guichet-gh","msisdn":"233244123456","message":"Case number?","continueSession":true}` + "\n",
			WantRequest: arkesel(ussd.Continue, "", "2")},
		{Label: "last screen, unknown fields", BodyFile: "next_other.json", ContentType: jsonType,
			Reply:      ussd.Reply{Text: "Case GH 0042 is ready.", End: true},
			WantStatus: 200,
			WantBody:   `{"sessionID":"0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a","userID":"guichet-gh","msisdn":"233201234567","message":"Case GH 0042 is ready.","continueSession":false}` + "\n",
			WantRequest: &ussd.Request{Kind: ussd.Continue, SessionID: "0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a",
				Phone: "+233201234567", Operator: "test", Dialect: "arkesel", Input: "GH 0042"}},
		{Label: "field names in another case", ContentType: jsonType,
			Body:        `{"sessionId":"` + session + `","NewSession":false,"MSISDN":"233244123456","userdata":"3"}`,
			WantStatus:  200,
			WantRequest: arkesel(ussd.Continue, "", "3")},

		{Label: "missing newSession", BodyFile: "broken_no_newsession.json", ContentType: jsonType,
			WantStatus: 400, WantContentType: jsonUTF8,
			WantBody:   `{"sessionID":"","userID":"guichet-gh","msisdn":"","message":"missing field newSession","continueSession":false}` + "\n",
			WantNoStep: true},
		{Label: "new session without userData", ContentType: jsonType,
			Body:       `{"sessionID":"` + session + `","newSession":true,"msisdn":"233244123456"}`,
			WantStatus: 400, WantBodyContains: []string{`"message":"missing field userData"`}, WantNoStep: true},
		{Label: "missing sessionID", ContentType: jsonType, Body: `{"newSession":false,"msisdn":"233244123456"}`,
			WantStatus: 400, WantBodyContains: []string{`"message":"missing field sessionID"`}, WantNoStep: true},
		{Label: "missing msisdn", ContentType: jsonType, Body: `{"sessionID":"1","newSession":false}`,
			WantStatus: 400, WantBodyContains: []string{`"message":"missing field msisdn"`}, WantNoStep: true},
		{Label: "newSession as a number", ContentType: jsonType,
			Body:       `{"sessionID":"1","newSession":1,"msisdn":"233244123456"}`,
			WantStatus: 400, WantBodyContains: []string{`"message":"field newSession must be a boolean, not number"`},
			WantNoStep: true},
	})
}

func TestCommon(t *testing.T) {
	ussdtest.Run(t, d, ussdtest.Common(d, ussdtest.Template{ContentType: jsonType, ReplyType: jsonUTF8, Hop: hop}))
}

func FuzzDecode(f *testing.F) {
	ussdtest.Fuzz(f, d, jsonType, "*.json", func(b []byte) (ussd.Reply, error) {
		var r reply
		err := json.Unmarshal(b, &r)
		return ussd.Reply{Text: r.Message, End: !r.ContinueSession}, err
	})
}
