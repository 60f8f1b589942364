package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Dialect writes hops as one operator family's USSD gateway sends them and
// reads the screens it gets back: the operator's side of what
// ussd/<dialect> reads and writes on the gateway's.
type Dialect interface {
	// Name is the dialect's name in the gateway's configuration.
	Name() string
	// Write returns one hop's body and media type.
	Write(h Sent) (body []byte, contentType string)
	// Read returns the screen of a reply and whether it ends the session;
	// an error when the body is not the dialect's reply.
	Read(body []byte) (screen string, end bool, err error)
}

// Sent is one hop as a caller sends it.
type Sent struct {
	Session string
	Phone   string // E.164
	Code    string // what was dialled: *123# or a shortcut *123*4*10000048#
	Seq     int    // 0 for the dial itself, then 1, 2… for the inputs
	Input   string // this hop's input; empty on the dial
	Text    string // every input of the dial so far, joined with "*" (Africa's Talking)
}

// Dialects are the dialects the generator speaks, by name.
var Dialects = map[string]Dialect{}

func init() {
	for _, d := range []Dialect{AfricasTalking{}, madapi{}, hubtel{}, generic{}, nalo{}, arkesel{}} {
		Dialects[d.Name()] = d
	}
}

// DialectNames lists Dialects' names, sorted.
func DialectNames() []string {
	names := make([]string, 0, len(Dialects))
	for n := range Dialects {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// AfricasTalking is the form-encoded dialect with CON/END replies, whose
// text carries all the dial's inputs: the generator's default.
type AfricasTalking struct{}

func (AfricasTalking) Name() string { return "africastalking" }

func (AfricasTalking) Write(h Sent) ([]byte, string) {
	form := url.Values{"sessionId": {h.Session}, "phoneNumber": {h.Phone}, "networkCode": {"62401"},
		"serviceCode": {h.Code}, "text": {h.Text}}
	return []byte(form.Encode()), "application/x-www-form-urlencoded"
}

func (AfricasTalking) Read(body []byte) (string, bool, error) {
	s := string(body)
	if t, ok := strings.CutPrefix(s, "CON "); ok {
		return t, false, nil
	}
	if t, ok := strings.CutPrefix(s, "END "); ok {
		return t, true, nil
	}
	return "", false, errors.New("no CON or END prefix")
}

// madapi is MTN's MADAPI: JSON with a messageType, the input in ussdString.
type madapi struct{}

func (madapi) Name() string { return "madapi" }

func (madapi) Write(h Sent) ([]byte, string) {
	kind, in := "1", h.Input
	if h.Seq == 0 {
		kind, in = "0", h.Code
	}
	return mustJSON(map[string]string{"sessionId": h.Session, "messageType": kind, "msisdn": h.Phone,
		"serviceCode": serviceCode(h.Code), "ussdString": in}), "application/json"
}

func (madapi) Read(body []byte) (string, bool, error) {
	var r struct {
		StatusCode string `json:"statusCode"`
		Data       *struct {
			InboundResponse string `json:"inboundResponse"`
			MessageType     int    `json:"messageType"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Data == nil || r.StatusCode != "0000" {
		return "", false, errors.New("not a MADAPI reply with statusCode 0000 and data")
	}
	switch r.Data.MessageType {
	case 1:
		return r.Data.InboundResponse, false, nil
	case 2:
		return r.Data.InboundResponse, true, nil
	}
	return "", false, fmt.Errorf("messageType %d is neither 1 nor 2", r.Data.MessageType)
}

// hubtel is Hubtel's JSON: Type Initiation then Response, a Sequence per hop.
type hubtel struct{}

func (hubtel) Name() string { return "hubtel" }

func (hubtel) Write(h Sent) ([]byte, string) {
	kind, msg := "Response", h.Input
	if h.Seq == 0 {
		kind, msg = "Initiation", h.Code
	}
	return mustJSON(map[string]any{"Type": kind, "Mobile": h.Phone, "SessionId": h.Session,
		"ServiceCode": serviceCode(h.Code), "Message": msg, "Operator": "mtn", "Sequence": h.Seq + 1}), "application/json"
}

func (hubtel) Read(body []byte) (string, bool, error) {
	var r struct{ Type, Message string }
	if err := json.Unmarshal(body, &r); err != nil {
		return "", false, errors.New("not Hubtel's JSON reply")
	}
	switch r.Type {
	case "Response":
		return r.Message, false, nil
	case "Release":
		return r.Message, true, nil
	}
	return "", false, fmt.Errorf("type %q is neither Response nor Release", r.Type)
}

// generic is the gateway's own JSON dialect.
type generic struct{}

func (generic) Name() string { return "generic" }

func (generic) Write(h Sent) ([]byte, string) {
	kind := "continue"
	if h.Seq == 0 {
		kind = "begin"
	}
	return mustJSON(map[string]any{"session_id": h.Session, "phone": h.Phone, "service_code": h.Code,
		"input": h.Input, "hop": h.Seq, "type": kind}), "application/json"
}

func (generic) Read(body []byte) (string, bool, error) {
	var r struct {
		Text *string `json:"text"`
		End  bool    `json:"end"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Text == nil {
		return "", false, errors.New("not the generic dialect's reply (text, end)")
	}
	return *r.Text, r.End, nil
}

// nalo is Nalo's JSON: MSGTYPE true on the dial, whose USERDATA is the dial
// string.
type nalo struct{}

func (nalo) Name() string { return "nalo" }

func (nalo) Write(h Sent) ([]byte, string) {
	data := h.Input
	if h.Seq == 0 {
		data = h.Code
	}
	return mustJSON(map[string]any{"USERID": "loadgen", "MSISDN": strings.TrimPrefix(h.Phone, "+"),
		"USERDATA": data, "MSGTYPE": h.Seq == 0, "NETWORK": "MTN", "SESSIONID": h.Session}), "application/json"
}

func (nalo) Read(body []byte) (string, bool, error) {
	var r struct {
		Msg     *string `json:"MSG"`
		MsgType bool    `json:"MSGTYPE"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Msg == nil {
		return "", false, errors.New("not Nalo's reply (MSG, MSGTYPE)")
	}
	return *r.Msg, !r.MsgType, nil
}

// arkesel is Arkesel's JSON: newSession on the dial, whose userData is the
// dial string.
type arkesel struct{}

func (arkesel) Name() string { return "arkesel" }

func (arkesel) Write(h Sent) ([]byte, string) {
	data := h.Input
	if h.Seq == 0 {
		data = h.Code
	}
	return mustJSON(map[string]any{"sessionID": h.Session, "userID": "loadgen", "newSession": h.Seq == 0,
		"msisdn": strings.TrimPrefix(h.Phone, "+"), "userData": data, "network": "MTN"}), "application/json"
}

func (arkesel) Read(body []byte) (string, bool, error) {
	var r struct {
		Message         *string `json:"message"`
		ContinueSession bool    `json:"continueSession"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Message == nil {
		return "", false, errors.New("not Arkesel's reply (message, continueSession)")
	}
	return *r.Message, !r.ContinueSession, nil
}

// serviceCode is the code a shortcut dial was made on: *123# for
// *123*4*10000048#, as the operators that send both fields send it.
func serviceCode(dial string) string {
	body := strings.TrimSuffix(strings.TrimPrefix(dial, "*"), "#")
	if i := strings.IndexByte(body, '*'); i >= 0 {
		return "*" + body[:i] + "#"
	}
	return dial
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("loadgen: " + err.Error()) // maps of strings and numbers always marshal
	}
	return b
}
