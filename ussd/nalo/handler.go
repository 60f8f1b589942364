// Package nalo speaks Nalo Solutions' USSD dialect (Ghana): a JSON hop whose
// MSGTYPE marks the first, answered by a JSON screen whose MSGTYPE says
// whether the session goes on.
package nalo

import (
	"net/http"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/wire"
)

// Dialect is Nalo's dialect.
type Dialect struct {
	// UserID is the USERID Nalo gave the account, which every reply echoes.
	// It is configured rather than copied from each hop, as ussd.Request has
	// no room for a dialect's own fields.
	UserID string
}

var _ ussd.Dialect = Dialect{}

func (Dialect) Name() string { return "nalo" }

// inbound is a hop. USERID and NETWORK are not used.
type inbound struct {
	SessionID wire.Scalar `json:"SESSIONID"`
	MSISDN    wire.Scalar `json:"MSISDN"`
	UserData  string      `json:"USERDATA"`
	MsgType   *bool       `json:"MSGTYPE"`
}

// Decode reads a hop. On the first (MSGTYPE true), USERDATA is what the
// caller dialled, *920*44#: the service code. Then it is the caller's input.
func (Dialect) Decode(r *http.Request) (ussd.Request, error) {
	var in inbound
	if err := wire.JSON(r, &in); err != nil {
		return ussd.Request{}, err
	}
	if err := wire.Required("SESSIONID", string(in.SessionID), "MSISDN", string(in.MSISDN)); err != nil {
		return ussd.Request{}, err
	}
	if in.MsgType == nil {
		return ussd.Request{}, ussd.BadRequest("missing field MSGTYPE")
	}
	req := ussd.Request{Kind: ussd.Continue, SessionID: string(in.SessionID), Phone: string(in.MSISDN),
		Input: in.UserData}
	if *in.MsgType {
		if in.UserData == "" {
			return ussd.Request{}, ussd.BadRequest("missing field USERDATA")
		}
		req.Kind, req.ServiceCode, req.Input = ussd.Begin, in.UserData, ""
	}
	return req, nil
}

type reply struct {
	UserID  string `json:"USERID"`
	MSISDN  string `json:"MSISDN"`
	Msg     string `json:"MSG"`
	MsgType bool   `json:"MSGTYPE"` // true: wait for input
}

// Encode answers the screen, echoing the number in E.164 without the +.
func (d Dialect) Encode(w http.ResponseWriter, req ussd.Request, rep ussd.Reply) {
	wire.WriteJSON(w, http.StatusOK, reply{UserID: d.UserID, MSISDN: wire.MSISDN(req.Phone), Msg: rep.Text,
		MsgType: !wire.Ends(req, rep)})
}

// EncodeError answers a last screen with the status: Nalo has no error
// format of its own.
func (d Dialect) EncodeError(w http.ResponseWriter, status int, msg string) {
	wire.WriteJSON(w, status, reply{UserID: d.UserID, Msg: msg})
}
