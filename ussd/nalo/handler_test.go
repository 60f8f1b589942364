package nalo

import (
	"encoding/json"
	"testing"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/ussdtest"
)

const (
	jsonType = "application/json"
	jsonUTF8 = "application/json; charset=utf-8"
	session  = "16098765432154"
)

var d = Dialect{UserID: "NALOTest"}

func nalo(kind ussd.Kind, code, input string) *ussd.Request {
	return &ussd.Request{Kind: kind, SessionID: session, Phone: "+233244123456", ServiceCode: code,
		Operator: "test", Dialect: "nalo", Input: input}
}

func hop(phone, input string) string {
	return `{"USERID":"NALOTest","MSISDN":"` + phone + `","USERDATA":"` + input +
		`","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"` + session + `"}`
}

func TestHops(t *testing.T) {
	ussdtest.Run(t, d, []ussdtest.Case{
		{Label: "first hop", BodyFile: "first.json", ContentType: jsonType,
			Reply:      ussd.Reply{Text: "Guichet\n1. Birth certificate\n2. Track a case"},
			WantStatus: 200, WantContentType: jsonUTF8,
			WantBody:    `{"USERID":"NALOTest","MSISDN":"233244123456","MSG":"Guichet\n1. Birth certificate\n2. Track a case","MSGTYPE":true}` + "\n",
			WantRequest: nalo(ussd.Begin, "*920*44#", "")},
		{Label: "next hop", BodyFile: "next.json", ContentType: jsonType,
			Reply:       ussd.Reply{Text: "Thank you.", End: true},
			WantStatus:  200,
			WantBody:    `{"USERID":"NALOTest","MSISDN":"233244123456","MSG":"Thank you.","MSGTYPE":false}` + "\n",
			WantRequest: nalo(ussd.Continue, "", "1")},
		{Label: "ids as numbers, unknown fields", BodyFile: "next_numbers.json", ContentType: jsonType,
			WantStatus: 200, WantBody: `{"USERID":"NALOTest","MSISDN":"233543217890","MSG":"","MSGTYPE":true}` + "\n",
			WantRequest: &ussd.Request{Kind: ussd.Continue, SessionID: "16098765439999", Phone: "+233543217890",
				Operator: "test", Dialect: "nalo", Input: "GH-0042"}},
		{Label: "empty input", Body: hop("233244123456", ""), ContentType: jsonType,
			WantStatus: 200, WantRequest: nalo(ussd.Continue, "", "")},

		{Label: "missing MSGTYPE", BodyFile: "broken_no_msgtype.json", ContentType: jsonType,
			WantStatus: 400, WantContentType: jsonUTF8,
			WantBody:   `{"USERID":"NALOTest","MSISDN":"","MSG":"missing field MSGTYPE","MSGTYPE":false}` + "\n",
			WantNoStep: true},
		{Label: "MSGTYPE as a string", ContentType: jsonType,
			Body:       `{"MSISDN":"233244123456","USERDATA":"1","MSGTYPE":"false","SESSIONID":"` + session + `"}`,
			WantStatus: 400, WantBodyContains: []string{`"MSG":"field MSGTYPE must be a boolean, not string"`},
			WantNoStep: true},
		{Label: "first hop without USERDATA", ContentType: jsonType,
			Body:       `{"MSISDN":"233244123456","MSGTYPE":true,"SESSIONID":"` + session + `"}`,
			WantStatus: 400, WantBodyContains: []string{`"MSG":"missing field USERDATA"`}, WantNoStep: true},
		{Label: "missing SESSIONID", ContentType: jsonType, Body: `{"MSISDN":"233244123456","MSGTYPE":false}`,
			WantStatus: 400, WantBodyContains: []string{`"MSG":"missing field SESSIONID"`}, WantNoStep: true},
		{Label: "missing MSISDN", ContentType: jsonType, Body: `{"SESSIONID":"1","MSGTYPE":false}`,
			WantStatus: 400, WantBodyContains: []string{`"MSG":"missing field MSISDN"`}, WantNoStep: true},
		{Label: "national number of another region", Body: hop("0244123456", "1"), ContentType: jsonType,
			WantStatus: 400, WantBodyContains: []string{`"MSG":"malformed phone number"`}, WantNoStep: true},
	})
}

func TestCommon(t *testing.T) {
	ussdtest.Run(t, d, ussdtest.Common(d, ussdtest.Template{ContentType: jsonType, ReplyType: jsonUTF8, Hop: hop}))
}

func FuzzDecode(f *testing.F) {
	ussdtest.Fuzz(f, d, jsonType, "*.json", func(b []byte) (ussd.Reply, error) {
		var r reply
		err := json.Unmarshal(b, &r)
		return ussd.Reply{Text: r.Msg, End: !r.MsgType}, err
	})
}
