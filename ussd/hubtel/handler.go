// Package hubtel speaks Hubtel's USSD dialect (Ghana): a JSON hop with a Type
// and a Sequence, answered by a JSON screen whose Type says whether the
// session goes on.
package hubtel

import (
	"net/http"
	"strings"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/wire"
)

// Dialect is Hubtel's dialect; its zero value is ready.
type Dialect struct{}

var _ ussd.Dialect = Dialect{}

func (Dialect) Name() string { return "hubtel" }

// inbound is a hop. Operator and ClientState are not used: Guichet keeps its
// sessions itself.
type inbound struct {
	Type        string      `json:"Type"`
	Mobile      string      `json:"Mobile"`
	SessionID   string      `json:"SessionId"`
	ServiceCode string      `json:"ServiceCode"`
	Message     string      `json:"Message"`
	Sequence    wire.Scalar `json:"Sequence"`
}

// kinds maps Type, in lower case, to the hop's kind.
var kinds = map[string]ussd.Kind{
	"initiation": ussd.Begin, "response": ussd.Continue, "release": ussd.Release, "timeout": ussd.Timeout,
}

// Decode reads a hop. On Initiation, Message is what the caller dialled
// (*713*33#): it is the service code when it is a dial string, as it then
// holds a shortcut's digits that ServiceCode lacks; otherwise ServiceCode is.
// On Response, Message is the caller's input. Sequence is the hop key.
func (Dialect) Decode(r *http.Request) (ussd.Request, error) {
	var in inbound
	if err := wire.JSON(r, &in); err != nil {
		return ussd.Request{}, err
	}
	if err := wire.Required("Type", in.Type, "SessionId", in.SessionID, "Mobile", in.Mobile); err != nil {
		return ussd.Request{}, err
	}
	kind, ok := kinds[strings.ToLower(in.Type)]
	if !ok {
		return ussd.Request{}, ussd.BadRequest("unknown Type " + wire.Quote(in.Type))
	}
	req := ussd.Request{Kind: kind, SessionID: in.SessionID, Phone: in.Mobile, ServiceCode: in.ServiceCode,
		HopKey: string(in.Sequence)}
	switch kind {
	case ussd.Begin:
		if isDial(in.Message) || req.ServiceCode == "" {
			req.ServiceCode = in.Message
		}
		if req.ServiceCode == "" {
			return ussd.Request{}, ussd.BadRequest("missing field ServiceCode")
		}
	case ussd.Continue:
		req.Input = in.Message
	}
	return req, nil
}

// isDial says whether s is a USSD dial string: *713# or *713*33#.
func isDial(s string) bool {
	return len(s) > 2 && s[0] == '*' && s[len(s)-1] == '#'
}

type reply struct {
	Type        string `json:"Type"` // Response or Release
	Message     string `json:"Message"`
	Label       string `json:"Label"` // the screen's title in Hubtel's apps
	ClientState string `json:"ClientState"`
	DataType    string `json:"DataType"` // input, or display for a last screen
	FieldType   string `json:"FieldType"`
}

// Encode answers the screen, with its first line as Label.
func (Dialect) Encode(w http.ResponseWriter, req ussd.Request, rep ussd.Reply) {
	wire.WriteJSON(w, http.StatusOK, screen(rep.Text, wire.Ends(req, rep)))
}

// EncodeError answers a last screen with the status: Hubtel has no error
// format of its own.
func (Dialect) EncodeError(w http.ResponseWriter, status int, msg string) {
	wire.WriteJSON(w, status, screen(msg, true))
}

func screen(text string, end bool) reply {
	label, _, _ := strings.Cut(text, "\n")
	r := reply{Type: "Response", Message: text, Label: label, DataType: "input", FieldType: "text"}
	if end {
		r.Type, r.DataType = "Release", "display"
	}
	return r
}
