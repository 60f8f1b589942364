// Package arkesel speaks Arkesel's USSD dialect (Ghana): a JSON hop whose
// newSession marks the first, answered by a JSON screen whose continueSession
// says whether the session goes on.
package arkesel

import (
	"net/http"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/wire"
)

// Dialect is Arkesel's dialect.
type Dialect struct {
	// UserID is the userID of the account's USSD app, which every reply
	// echoes. It is configured rather than copied from each hop, as
	// ussd.Request has no room for a dialect's own fields.
	UserID string
}

var _ ussd.Dialect = Dialect{}

func (Dialect) Name() string { return "arkesel" }

// inbound is a hop. userID and network are not used.
type inbound struct {
	SessionID  wire.Scalar `json:"sessionID"`
	NewSession *bool       `json:"newSession"`
	MSISDN     wire.Scalar `json:"msisdn"`
	UserData   string      `json:"userData"`
}

// Decode reads a hop. On the first (newSession), userData is what the caller
// dialled, *928*01#: the service code. Then it is the caller's input.
func (Dialect) Decode(r *http.Request) (ussd.Request, error) {
	var in inbound
	if err := wire.JSON(r, &in); err != nil {
		return ussd.Request{}, err
	}
	if err := wire.Required("sessionID", string(in.SessionID), "msisdn", string(in.MSISDN)); err != nil {
		return ussd.Request{}, err
	}
	if in.NewSession == nil {
		return ussd.Request{}, ussd.BadRequest("missing field newSession")
	}
	req := ussd.Request{Kind: ussd.Continue, SessionID: string(in.SessionID), Phone: string(in.MSISDN),
		Input: in.UserData}
	if *in.NewSession {
		if in.UserData == "" {
			return ussd.Request{}, ussd.BadRequest("missing field userData")
		}
		req.Kind, req.ServiceCode, req.Input = ussd.Begin, in.UserData, ""
	}
	return req, nil
}

type reply struct {
	SessionID       string `json:"sessionID"`
	UserID          string `json:"userID"`
	MSISDN          string `json:"msisdn"`
	Message         string `json:"message"`
	ContinueSession bool   `json:"continueSession"`
}

// Encode answers the screen, echoing the session and the number in E.164
// without the +.
func (d Dialect) Encode(w http.ResponseWriter, req ussd.Request, rep ussd.Reply) {
	wire.WriteJSON(w, http.StatusOK, reply{SessionID: req.SessionID, UserID: d.UserID,
		MSISDN: wire.MSISDN(req.Phone), Message: rep.Text, ContinueSession: !wire.Ends(req, rep)})
}

// EncodeError answers a last screen with the status: Arkesel has no error
// format of its own.
func (d Dialect) EncodeError(w http.ResponseWriter, status int, msg string) {
	wire.WriteJSON(w, status, reply{UserID: d.UserID, Message: msg})
}
