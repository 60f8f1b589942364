package generic

import (
	"net/http"
	"strconv"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/wire"
)

// Dialect is Guichet's own dialect; its zero value is ready.
type Dialect struct{}

var _ ussd.Dialect = Dialect{}

func (Dialect) Name() string { return "generic" }

type inbound struct {
	SessionID   string `json:"session_id"`
	Phone       string `json:"phone"`
	ServiceCode string `json:"service_code"`
	Input       string `json:"input"`
	Hop         *int64 `json:"hop"`
	Type        string `json:"type"`
	Language    string `json:"language"`
}

var kinds = map[string]ussd.Kind{
	"": ussd.Continue, "continue": ussd.Continue, "begin": ussd.Begin,
	"end": ussd.Release, "abort": ussd.Abort, "timeout": ussd.Timeout,
}

// Decode reads a hop as the package documentation describes.
func (Dialect) Decode(r *http.Request) (ussd.Request, error) {
	var in inbound
	if err := wire.JSON(r, &in); err != nil {
		return ussd.Request{}, err
	}
	if err := wire.Required("session_id", in.SessionID, "phone", in.Phone); err != nil {
		return ussd.Request{}, err
	}
	kind, ok := kinds[in.Type]
	if !ok {
		return ussd.Request{}, ussd.BadRequest("unknown type " + wire.Quote(in.Type) +
			": want begin, continue, end, abort or timeout")
	}
	req := ussd.Request{Kind: kind, SessionID: in.SessionID, Phone: in.Phone, ServiceCode: in.ServiceCode,
		Input: in.Input, Language: in.Language}
	if kind == ussd.Begin {
		if in.ServiceCode == "" {
			return ussd.Request{}, ussd.BadRequest("missing field service_code")
		}
		req.Input = ""
	}
	if in.Hop != nil {
		req.HopKey = strconv.FormatInt(*in.Hop, 10)
	}
	return req, nil
}

type reply struct {
	SessionID string `json:"session_id"`
	Text      string `json:"text"`
	End       bool   `json:"end"`
}

func (Dialect) Encode(w http.ResponseWriter, req ussd.Request, rep ussd.Reply) {
	wire.WriteJSON(w, http.StatusOK, reply{SessionID: req.SessionID, Text: rep.Text, End: wire.Ends(req, rep)})
}

func (Dialect) EncodeError(w http.ResponseWriter, status int, msg string) {
	wire.WriteJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}
