package hubtel

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/ussdtest"
)

const (
	jsonType = "application/json"
	jsonUTF8 = "application/json; charset=utf-8"
	session  = "3c2a9d4e1f7b4a0c9e8d7f6a5b4c3d2e"
)

func hubtel(kind ussd.Kind, code, input, hop string) *ussd.Request {
	return &ussd.Request{Kind: kind, SessionID: session, Phone: "+233244123456", ServiceCode: code,
		Operator: "test", Dialect: "hubtel", Input: input, HopKey: hop}
}

func hop(phone, input string) string {
	return `{"Type":"Response","Mobile":"` + phone + `","SessionId":"` + session +
		`","ServiceCode":"713","Message":"` + input + `","Operator":"mtn","Sequence":2}`
}

func TestHops(t *testing.T) {
	ussdtest.Run(t, Dialect{}, []ussdtest.Case{
		{Label: "initiation with a shortcut dial", BodyFile: "initiation.json", ContentType: jsonType,
			Reply:      ussd.Reply{Text: "Guichet\n1. Birth certificate\n2. Track a case"},
			WantStatus: 200, WantContentType: jsonUTF8,
			WantBody:    `{"Type":"Response","Message":"Guichet\n1. Birth certificate\n2. Track a case","Label":"Guichet","ClientState":"","DataType":"input","FieldType":"text"}` + "\n",
			WantRequest: hubtel(ussd.Begin, "*713*33#", "", "1")},
		{Label: "response", BodyFile: "response.json", ContentType: jsonType,
			Reply:       ussd.Reply{Text: "Case GH-0042 is ready <at> the office & paid.", End: true},
			WantStatus:  200,
			WantBody:    `{"Type":"Release","Message":"Case GH-0042 is ready <at> the office & paid.","Label":"Case GH-0042 is ready <at> the office & paid.","ClientState":"","DataType":"display","FieldType":"text"}` + "\n",
			WantRequest: hubtel(ussd.Continue, "713", "2", "2")},
		{Label: "release", BodyFile: "release.json", ContentType: jsonType,
			WantStatus: 200, WantBodyContains: []string{`"Type":"Release"`},
			WantRequest: hubtel(ussd.Release, "713", "", "3")},
		{Label: "timeout, quoted Sequence, null ClientState", BodyFile: "timeout.json", ContentType: jsonType,
			Reply: ussd.Reply{Text: "ignored"}, WantStatus: 200, WantBodyContains: []string{`"Type":"Release"`},
			WantRequest: &ussd.Request{Kind: ussd.Timeout, SessionID: "7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b",
				Phone: "+233201234567", ServiceCode: "713", Operator: "test", Dialect: "hubtel", HopKey: "4"}},
		{Label: "initiation without ServiceCode", BodyFile: "initiation_no_code.json", ContentType: jsonType,
			WantStatus: 200,
			WantRequest: &ussd.Request{Kind: ussd.Begin, SessionID: "7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b",
				Phone: "+233201234567", ServiceCode: "*713#", Operator: "test", Dialect: "hubtel", HopKey: "1"}},
		{Label: "initiation whose Message is no dial string", ContentType: jsonType,
			Body:        `{"Type":"Initiation","Mobile":"233244123456","SessionId":"` + session + `","ServiceCode":"*713#","Message":"","Sequence":1}`,
			WantStatus:  200,
			WantRequest: hubtel(ussd.Begin, "*713#", "", "1")},
		{Label: "lower-case Type, no Sequence", ContentType: jsonType,
			Body:        `{"Type":"response","Mobile":"233244123456","SessionId":"` + session + `","Message":"1"}`,
			WantStatus:  200,
			WantRequest: hubtel(ussd.Continue, "", "1", "")},

		{Label: "unknown Type", ContentType: jsonType,
			Body:       `{"Type":"Cancel","Mobile":"233244123456","SessionId":"` + session + `"}`,
			WantStatus: 400, WantContentType: jsonUTF8,
			WantBody:   `{"Type":"Release","Message":"unknown Type \"Cancel\"","Label":"unknown Type \"Cancel\"","ClientState":"","DataType":"display","FieldType":"text"}` + "\n",
			WantNoStep: true},
		{Label: "long unknown Type is cut", BodyFile: "broken_long_type.json", ContentType: jsonType,
			WantStatus: 400, WantBodyContains: []string{`"Message":"unknown Type \"Réinitialisation-de-la-sessio-éé…\""`},
			WantNoStep: true},
		{Label: "initiation without any code", ContentType: jsonType,
			Body:       `{"Type":"Initiation","Mobile":"233244123456","SessionId":"` + session + `","Sequence":1}`,
			WantStatus: 400, WantBodyContains: []string{`"Message":"missing field ServiceCode"`}, WantNoStep: true},
		{Label: "missing Type", ContentType: jsonType,
			Body:       `{"Mobile":"233244123456","SessionId":"` + session + `","Message":"1"}`,
			WantStatus: 400, WantBodyContains: []string{`"Message":"missing field Type"`}, WantNoStep: true},
		{Label: "missing SessionId", ContentType: jsonType,
			Body:       `{"Type":"Response","Mobile":"233244123456","Message":"1"}`,
			WantStatus: 400, WantBodyContains: []string{`"Message":"missing field SessionId"`}, WantNoStep: true},
		{Label: "missing Mobile", ContentType: jsonType,
			Body:       `{"Type":"Response","SessionId":"` + session + `","Message":"1"}`,
			WantStatus: 400, WantBodyContains: []string{`"Message":"missing field Mobile"`}, WantNoStep: true},
		{Label: "Sequence of the wrong type", ContentType: jsonType,
			Body:       `{"Type":"Response","Mobile":"233244123456","SessionId":"` + session + `","Sequence":[2]}`,
			WantStatus: 400, WantBodyContains: []string{`field Sequence must be a string or a number, not array`},
			WantNoStep: true},
		{Label: "malformed JSON", ContentType: jsonType, Body: `{"Type":"Response",}`,
			WantStatus: 400, WantBodyContains: []string{`malformed JSON at byte 20`}, WantNoStep: true},
	})
}

func TestCommon(t *testing.T) {
	ussdtest.Run(t, Dialect{}, ussdtest.Common(Dialect{}, ussdtest.Template{ContentType: jsonType, ReplyType: jsonUTF8, Hop: hop}))
}

func FuzzDecode(f *testing.F) {
	ussdtest.Fuzz(f, Dialect{}, jsonType, "*.json", func(b []byte) (ussd.Reply, error) {
		var r reply
		if err := json.Unmarshal(b, &r); err != nil {
			return ussd.Reply{}, err
		}
		if r.Type != "Response" && r.Type != "Release" {
			return ussd.Reply{}, errors.New("Type is neither Response nor Release")
		}
		return ussd.Reply{Text: r.Message, End: r.Type == "Release"}, nil
	})
}
