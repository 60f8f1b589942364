package generic

import (
	"encoding/json"
	"testing"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/ussdtest"
)

const (
	jsonType = "application/json"
	jsonUTF8 = "application/json; charset=utf-8"
)

func generic(kind ussd.Kind, code, input, hop string) *ussd.Request {
	return &ussd.Request{Kind: kind, SessionID: "acme-7f3a9c", Phone: "+237677123456", ServiceCode: code,
		Operator: "test", Dialect: "generic", Input: input, HopKey: hop}
}

func hop(phone, input string) string {
	return `{"session_id":"acme-7f3a9c","phone":"` + phone + `","input":"` + input + `","hop":2}`
}

// TestHops begins with the exchange of the package documentation.
func TestHops(t *testing.T) {
	ussdtest.Run(t, Dialect{}, []ussdtest.Case{
		{Label: "documented begin", BodyFile: "begin.json", ContentType: jsonType,
			Reply:      ussd.Reply{Text: "Suivi de dossier\nNumero du dossier?"},
			WantStatus: 200, WantContentType: jsonUTF8,
			WantBody:    `{"session_id":"acme-7f3a9c","text":"Suivi de dossier\nNumero du dossier?","end":false}` + "\n",
			WantRequest: generic(ussd.Begin, "*123*4#", "", "1")},
		{Label: "documented continue", BodyFile: "continue.json", ContentType: jsonType,
			Reply:       ussd.Reply{Text: "Dossier CM-0042: pret au guichet de Yaounde 2.", End: true},
			WantStatus:  200,
			WantBody:    `{"session_id":"acme-7f3a9c","text":"Dossier CM-0042: pret au guichet de Yaounde 2.","end":true}` + "\n",
			WantRequest: generic(ussd.Continue, "", "CM-0042", "2")},
		{Label: "every field, national number, unknown fields", BodyFile: "continue_full.json", ContentType: jsonType,
			WantStatus: 200, WantBody: `{"session_id":"acme-2b81e0","text":"","end":false}` + "\n",
			WantRequest: &ussd.Request{Kind: ussd.Continue, SessionID: "acme-2b81e0", Phone: "+237699876543",
				ServiceCode: "*123#", Operator: "test", Dialect: "generic", Input: "1", HopKey: "3", Language: "en"}},
		{Label: "abort", BodyFile: "abort.json", ContentType: jsonType, Reply: ussd.Reply{Text: "Au revoir"},
			WantStatus: 200, WantBody: `{"session_id":"acme-7f3a9c","text":"Au revoir","end":true}` + "\n",
			WantRequest: generic(ussd.Abort, "", "", "3")},
		{Label: "end", BodyFile: "end.json", ContentType: jsonType,
			WantStatus: 200, WantRequest: generic(ussd.Release, "", "", "")},
		{Label: "timeout", BodyFile: "timeout.json", ContentType: jsonType,
			WantStatus: 200, WantRequest: generic(ussd.Timeout, "", "", "4")},
		{Label: "input ignored on begin, hop zero", ContentType: jsonType,
			Body:        `{"session_id":"acme-7f3a9c","phone":"+237677123456","service_code":"*123#","type":"begin","input":"4","hop":0}`,
			WantStatus:  200,
			WantRequest: generic(ussd.Begin, "*123#", "", "0")},

		{Label: "unknown type", ContentType: jsonType,
			Body:       `{"session_id":"acme-7f3a9c","phone":"+237677123456","type":"BEGIN"}`,
			WantStatus: 400, WantContentType: jsonUTF8,
			WantBody:   `{"error":"unknown type \"BEGIN\": want begin, continue, end, abort or timeout"}` + "\n",
			WantNoStep: true},
		{Label: "begin without service_code", ContentType: jsonType,
			Body:       `{"session_id":"acme-7f3a9c","phone":"+237677123456","type":"begin"}`,
			WantStatus: 400, WantBody: `{"error":"missing field service_code"}` + "\n", WantNoStep: true},
		{Label: "missing session_id", ContentType: jsonType, Body: `{"phone":"+237677123456","input":"1"}`,
			WantStatus: 400, WantBody: `{"error":"missing field session_id"}` + "\n", WantNoStep: true},
		{Label: "missing phone", ContentType: jsonType, Body: `{"session_id":"acme-7f3a9c","input":"1"}`,
			WantStatus: 400, WantBody: `{"error":"missing field phone"}` + "\n", WantNoStep: true},
		{Label: "hop as a string", ContentType: jsonType,
			Body:       `{"session_id":"acme-7f3a9c","phone":"+237677123456","hop":"2"}`,
			WantStatus: 400, WantBody: `{"error":"field hop must be an integer, not string"}` + "\n", WantNoStep: true},
		{Label: "hop as a fraction", ContentType: jsonType,
			Body:       `{"session_id":"acme-7f3a9c","phone":"+237677123456","hop":2.5}`,
			WantStatus: 400, WantBody: `{"error":"field hop must be an integer, not number 2.5"}` + "\n", WantNoStep: true},
		{Label: "trailing data", ContentType: jsonType,
			Body:       `{"session_id":"acme-7f3a9c","phone":"+237677123456"} {}`,
			WantStatus: 400, WantBodyContains: []string{`"error":"malformed JSON at byte`}, WantNoStep: true},
	})
}

func TestCommon(t *testing.T) {
	ussdtest.Run(t, Dialect{}, ussdtest.Common(Dialect{}, ussdtest.Template{ContentType: jsonType, ReplyType: jsonUTF8, Hop: hop}))
}

func FuzzDecode(f *testing.F) {
	ussdtest.Fuzz(f, Dialect{}, jsonType, "*.json", func(b []byte) (ussd.Reply, error) {
		var r reply
		err := json.Unmarshal(b, &r)
		return ussd.Reply{Text: r.Text, End: r.End}, err
	})
}
