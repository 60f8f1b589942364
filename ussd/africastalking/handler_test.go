package africastalking

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/ussdtest"
)

const (
	form      = "application/x-www-form-urlencoded"
	plainText = "text/plain; charset=utf-8"
)

func hop(phone, text string) string {
	return "sessionId=ATUid_6a5b2c1e9f0d4c1b8e7a&phoneNumber=" + url.QueryEscape(phone) +
		"&networkCode=62401&serviceCode=%2A384%2A123%23&text=" + text
}

// at is the request Africa's Talking's hops decode to, before the case's
// own fields.
func at(sessionID, phone, text string) *ussd.Request {
	return &ussd.Request{Kind: ussd.Continue, SessionID: sessionID, Phone: phone, ServiceCode: "*384*123#",
		History: text, Cumulative: true, HopKey: text, Operator: "test", Dialect: "africastalking"}
}

func notice(kind ussd.Kind, sessionID, phone, reason string) *ussd.Request {
	return &ussd.Request{Kind: kind, SessionID: sessionID, Phone: phone, ServiceCode: "*384*123#",
		Operator: "test", Dialect: "africastalking", Reason: reason}
}

func TestHops(t *testing.T) {
	const s1, s2 = "ATUid_6a5b2c1e9f0d4c1b8e7a", "ATUid_3f0e9d8c7b6a5f4e3d2c"
	ussdtest.Run(t, Dialect{}, []ussdtest.Case{
		{Label: "first hop", BodyFile: "first.form", ContentType: form,
			Reply:      ussd.Reply{Text: "Bienvenue\n1. Acte de naissance\n2. Suivre un dossier"},
			WantStatus: 200, WantBody: "CON Bienvenue\n1. Acte de naissance\n2. Suivre un dossier",
			WantContentType: plainText, WantRequest: at(s1, "+237677123456", "")},
		{Label: "second hop", BodyFile: "second.form", ContentType: form,
			Reply:      ussd.Reply{Text: "Votre numero de dossier?"},
			WantStatus: 200, WantBody: "CON Votre numero de dossier?", WantRequest: at(s1, "+237677123456", "1")},
		{Label: "deep hop, number without +, unknown field", BodyFile: "deep.form", ContentType: form,
			Reply:      ussd.Reply{Text: "Dossier CM-0042: pret au guichet.", End: true},
			WantStatus: 200, WantBody: "END Dossier CM-0042: pret au guichet.",
			WantRequest: at(s2, "+237699876543", "1*2*12345678")},
		{Label: "national number, charset", Body: hop("677123456", "2"), ContentType: form + "; charset=UTF-8",
			Reply: ussd.Reply{Text: "Merci", End: true}, WantStatus: 200, WantBody: "END Merci",
			WantRequest: at(s1, "+237677123456", "2")},
		{Label: "star typed in an input stays in the text", Body: hop(ussdtest.Phone, "3%2A%2A7"), ContentType: form,
			WantStatus: 200, WantBody: "CON ", WantRequest: at(s1, ussdtest.Phone, "3**7")},
		{Label: "engine failure still gets an END screen", BodyFile: "second.form", ContentType: form,
			StepErr: errors.New("redis: connection refused"), WantStatus: 200, WantBodyContains: []string{"END "}},

		{Label: "missing sessionId", BodyFile: "broken_no_session.form", ContentType: form,
			WantStatus: 400, WantBody: "END missing field sessionId", WantNoStep: true},
		{Label: "missing phoneNumber", Body: "sessionId=ATUid_1&serviceCode=%2A384%23&text=", ContentType: form,
			WantStatus: 400, WantBody: "END missing field phoneNumber", WantNoStep: true},
		{Label: "missing serviceCode", Body: "sessionId=ATUid_1&phoneNumber=%2B237677123456&text=", ContentType: form,
			WantStatus: 400, WantBody: "END missing field serviceCode", WantNoStep: true},
		{Label: "escaped non-UTF-8 text", Body: hop(ussdtest.Phone, "1%FF"), ContentType: form,
			WantStatus: 400, WantBody: "END field text is not valid UTF-8", WantNoStep: true},
		{Label: "malformed escape", Body: hop(ussdtest.Phone, "1%zz"), ContentType: form,
			WantStatus: 400, WantBodyContains: []string{"END malformed form body"}, WantNoStep: true},
		{Label: "JSON body", Body: `{"sessionId":"ATUid_1"}`, ContentType: "application/json",
			WantStatus: 415, WantBody: `END Content-Type must be application/x-www-form-urlencoded, not "application/json"`,
			WantNoStep: true},
		{Label: "Latin-1 charset", Body: hop(ussdtest.Phone, "1"), ContentType: form + "; charset=ISO-8859-1",
			WantStatus: 415, WantBody: `END charset must be utf-8, not "ISO-8859-1"`, WantNoStep: true},
		{Label: "session end form sent as a hop", BodyFile: "notice_success.form", ContentType: form,
			WantStatus: 200, WantRequest: at(s1, "+237677123456", "")},
	})
}

func TestNotices(t *testing.T) {
	ussdtest.Run(t, Dialect{}, []ussdtest.Case{
		{Label: "success", Notice: true, BodyFile: "notice_success.form", ContentType: form,
			WantStatus: 200, WantBody: "END ",
			WantRequest: notice(ussd.Release, "ATUid_6a5b2c1e9f0d4c1b8e7a", "+237677123456", "")},
		{Label: "incomplete", Notice: true, BodyFile: "notice_incomplete.form", ContentType: form,
			Reply: ussd.Reply{Text: "ignored"}, WantStatus: 200, WantBody: "END ignored",
			WantRequest: notice(ussd.Abort, "ATUid_3f0e9d8c7b6a5f4e3d2c", "+237699876543", "")},
		{Label: "failed", Notice: true, BodyFile: "notice_failed.form", ContentType: form,
			WantStatus: 200,
			WantRequest: notice(ussd.Failed, "ATUid_9c8b7a6f5e4d3c2b1a0f", "+237677123456",
				"Timeout waiting for application response")},
		{Label: "unknown status", Notice: true, ContentType: form,
			Body:       "sessionId=ATUid_1&phoneNumber=%2B237677123456&serviceCode=%2A384%23&status=Cancelled",
			WantStatus: 400, WantBody: `END unknown status "Cancelled"`, WantNoStep: true},
		{Label: "long unknown status is cut", Notice: true, ContentType: form,
			Body:       "sessionId=ATUid_1&phoneNumber=%2B237677123456&status=" + strings.Repeat("é", 40),
			WantStatus: 400, WantBody: `END unknown status "` + strings.Repeat("é", 32) + `…"`, WantNoStep: true},
		{Label: "missing status", Notice: true, ContentType: form,
			Body:       "sessionId=ATUid_1&phoneNumber=%2B237677123456&serviceCode=%2A384%23",
			WantStatus: 400, WantBody: "END missing field status", WantNoStep: true},
		{Label: "missing sessionId", Notice: true, ContentType: form,
			Body:       "phoneNumber=%2B237677123456&status=Success",
			WantStatus: 400, WantBody: "END missing field sessionId", WantNoStep: true},
		{Label: "malformed phone", Notice: true, ContentType: form,
			Body:       "sessionId=ATUid_1&phoneNumber=%2B23767&status=Success",
			WantStatus: 400, WantBody: "END malformed phone number", WantNoStep: true},
	})
}

func TestCommon(t *testing.T) {
	ussdtest.Run(t, Dialect{}, ussdtest.Common(Dialect{}, ussdtest.Template{
		ContentType: form, ReplyType: plainText, Hop: hop, Cumulative: true,
	}))
}

func FuzzDecode(f *testing.F) {
	ussdtest.Fuzz(f, Dialect{}, form, "*.form", func(b []byte) (ussd.Reply, error) {
		s := string(b)
		switch {
		case strings.HasPrefix(s, "CON "):
			return ussd.Reply{Text: s[4:]}, nil
		case strings.HasPrefix(s, "END "):
			return ussd.Reply{Text: s[4:], End: true}, nil
		}
		return ussd.Reply{}, errors.New("neither CON nor END")
	})
}
