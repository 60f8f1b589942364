package madapi

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/ussdtest"
)

const (
	jsonType = "application/json"
	jsonUTF8 = "application/json; charset=utf-8"
	session  = "9af1c3e0-5b2d-4e8f-a1c7-3d9e6b2f0a14"
)

// fixed has a repeatable transaction id and clock.
var fixed = Dialect{
	NewID: func() string { return "tx-1" },
	Now:   func() time.Time { return time.Date(2024, 5, 14, 10, 21, 7, 0, time.FixedZone("WAT", 3600)) },
}

func mtn(kind ussd.Kind, input, lang, reason string) *ussd.Request {
	return &ussd.Request{Kind: kind, SessionID: session, Phone: "+237677123456", ServiceCode: "*123#",
		Operator: "test", Dialect: "madapi", Input: input, Language: lang, Reason: reason}
}

func hop(phone, input string) string {
	return `{"sessionId":"` + session + `","messageType":"1","msisdn":"` + phone +
		`","serviceCode":"*123#","ussdString":"` + input + `"}`
}

func TestHops(t *testing.T) {
	ussdtest.Run(t, fixed, []ussdtest.Case{
		{Label: "begin", BodyFile: "begin.json", ContentType: jsonType,
			Reply:      ussd.Reply{Text: "Bienvenue\n1. Acte de naissance\n2. Suivre un dossier"},
			WantStatus: 200, WantContentType: jsonUTF8,
			WantBody:    `{"statusCode":"0000","statusMessage":"Success","transactionId":"tx-1","data":{"inboundResponse":"Bienvenue\n1. Acte de naissance\n2. Suivre un dossier","userInputRequired":true,"messageType":1,"serviceCode":"*123#","msisdn":"237677123456"}}` + "\n",
			WantRequest: mtn(ussd.Begin, "", "fr", "")},
		{Label: "begin with a shortcut dial", BodyFile: "begin_shortcut.json", ContentType: jsonType,
			Reply: ussd.Reply{Text: "Dossier 10000048: En traitement", End: true}, WantStatus: 200,
			WantRequest: &ussd.Request{Kind: ussd.Begin, SessionID: "5d3e", Phone: "+237677123456",
				ServiceCode: "*123*4*10000048#", Operator: "test", Dialect: "madapi"}},
		{Label: "continue", BodyFile: "continue.json", ContentType: jsonType,
			Reply:       ussd.Reply{Text: "Dossier CM-0042: pret <au> guichet & payé.", End: true},
			WantStatus:  200,
			WantBody:    `{"statusCode":"0000","statusMessage":"Success","transactionId":"tx-1","data":{"inboundResponse":"Dossier CM-0042: pret <au> guichet & payé.","userInputRequired":false,"messageType":2,"serviceCode":"*123#","msisdn":"237677123456"}}` + "\n",
			WantRequest: mtn(ussd.Continue, "2", "fr", "")},
		{Label: "ids and type as numbers, unknown fields", BodyFile: "continue_numbers.json", ContentType: jsonType,
			Reply: ussd.Reply{Text: "Merci"}, WantStatus: 200,
			WantBodyContains: []string{`"msisdn":"237650987654"`, `"messageType":1`},
			WantRequest: &ussd.Request{Kind: ussd.Continue, SessionID: "1716024000123456", Phone: "+237650987654",
				ServiceCode: "*123#", Operator: "test", Dialect: "madapi", Input: "CM-0042", Language: "en"}},
		{Label: "notification answered", BodyFile: "notification.json", ContentType: jsonType,
			WantStatus: 200, WantRequest: mtn(ussd.Continue, "1", "", "")},
		{Label: "end", BodyFile: "end.json", ContentType: jsonType,
			WantStatus: 200, WantBodyContains: []string{`"userInputRequired":false,"messageType":2`},
			WantRequest: mtn(ussd.Release, "", "", "")},
		{Label: "abort", BodyFile: "abort.json", ContentType: jsonType,
			WantStatus: 200, WantRequest: mtn(ussd.Abort, "", "", "User cancelled the session")},
		{Label: "timeout", BodyFile: "timeout.json", ContentType: jsonType,
			Reply: ussd.Reply{Text: "ignored"}, WantStatus: 200,
			WantBodyContains: []string{`"userInputRequired":false,"messageType":2`},
			WantRequest:      mtn(ussd.Timeout, "", "", "")},
		{Label: "continue without serviceCode", ContentType: jsonType,
			Body:       `{"sessionId":"` + session + `","messageType":"1","msisdn":"237677123456","ussdString":"1"}`,
			WantStatus: 200, WantBodyContains: []string{`"serviceCode":""`},
			WantRequest: &ussd.Request{Kind: ussd.Continue, SessionID: session, Phone: "+237677123456",
				Operator: "test", Dialect: "madapi", Input: "1"}},

		{Label: "unknown messageType", BodyFile: "broken_unknown_type.json", ContentType: jsonType,
			WantStatus: 400, WantContentType: jsonUTF8,
			WantBody:   `{"statusCode":"4000","statusMessage":"Bad Request","supportMessage":"unknown messageType \"7\"","transactionId":"tx-1","timestamp":"2024-05-14T09:21:07Z","path":"","method":""}` + "\n",
			WantNoStep: true},
		{Label: "begin without serviceCode", ContentType: jsonType,
			Body:       `{"sessionId":"` + session + `","messageType":"0","msisdn":"237677123456","ussdString":"*123#"}`,
			WantStatus: 400, WantBodyContains: []string{`"supportMessage":"missing field serviceCode"`}, WantNoStep: true},
		{Label: "missing sessionId", ContentType: jsonType,
			Body:       `{"messageType":"1","msisdn":"237677123456","serviceCode":"*123#","ussdString":"1"}`,
			WantStatus: 400, WantBodyContains: []string{`"supportMessage":"missing field sessionId"`}, WantNoStep: true},
		{Label: "missing messageType", ContentType: jsonType,
			Body:       `{"sessionId":"` + session + `","messageType":null,"msisdn":"237677123456"}`,
			WantStatus: 400, WantBodyContains: []string{`"supportMessage":"missing field messageType"`}, WantNoStep: true},
		{Label: "missing msisdn", ContentType: jsonType,
			Body:       `{"sessionId":"` + session + `","messageType":"1","ussdString":"1"}`,
			WantStatus: 400, WantBodyContains: []string{`"supportMessage":"missing field msisdn"`}, WantNoStep: true},
		{Label: "messageType of the wrong type", ContentType: jsonType,
			Body:             `{"sessionId":"` + session + `","messageType":true,"msisdn":"237677123456"}`,
			WantStatus:       400,
			WantBodyContains: []string{`"supportMessage":"field messageType must be a string or a number, not bool"`},
			WantNoStep:       true},
		{Label: "ussdString of the wrong type", ContentType: jsonType,
			Body:       `{"sessionId":"` + session + `","messageType":"1","msisdn":"237677123456","ussdString":1}`,
			WantStatus: 400, WantBodyContains: []string{`"supportMessage":"field ussdString must be a string, not number"`},
			WantNoStep: true},
		{Label: "truncated JSON", ContentType: jsonType, Body: `{"sessionId":"` + session + `","messageType":"1"`,
			WantStatus: 400, WantBodyContains: []string{`"statusCode":"4000"`, `malformed JSON`}, WantNoStep: true},
		{Label: "array", ContentType: jsonType, Body: `[{"sessionId":"1"}]`,
			WantStatus: 400, WantBodyContains: []string{`body must be a JSON object, not array`}, WantNoStep: true},
		{Label: "empty body", ContentType: jsonType, Body: " \n",
			WantStatus: 400, WantBodyContains: []string{`"supportMessage":"empty body"`}, WantNoStep: true},
		{Label: "form body", ContentType: "application/x-www-form-urlencoded", Body: "sessionId=1",
			WantStatus: 415, WantBodyContains: []string{`"statusCode":"4150"`, `"statusMessage":"Unsupported Media Type"`},
			WantNoStep: true},
	})
}

func TestCommon(t *testing.T) {
	ussdtest.Run(t, fixed, ussdtest.Common(fixed, ussdtest.Template{ContentType: jsonType, ReplyType: jsonUTF8, Hop: hop}))
}

func TestTransactionIDs(t *testing.T) {
	ids := map[string]bool{}
	for range 3 {
		id := Dialect{}.newID()
		if len(id) != 32 || ids[id] {
			t.Fatalf("transaction id %q: want 32 hex digits, each new", id)
		}
		ids[id] = true
	}
}

func FuzzDecode(f *testing.F) {
	ussdtest.Fuzz(f, fixed, jsonType, "*.json", func(b []byte) (ussd.Reply, error) {
		var r reply
		if err := json.Unmarshal(b, &r); err != nil {
			return ussd.Reply{}, err
		}
		if r.StatusCode != "0000" || r.TransactionID == "" {
			return ussd.Reply{}, errors.New("not a success envelope")
		}
		if r.Data.UserInputRequired != (r.Data.MessageType == 1) {
			return ussd.Reply{}, errors.New("userInputRequired and messageType disagree")
		}
		return ussd.Reply{Text: r.Data.InboundResponse, End: r.Data.MessageType == 2}, nil
	})
}
