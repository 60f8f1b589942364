package smpp

import (
	"errors"
	"fmt"
)

// StatusError is a response whose command_status is not ESME_ROK.
type StatusError struct {
	Command uint32 // the request's command id
	Status  uint32
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("smpp: %s answered with status %#02x (%s)", commandName(e.Command), e.Status, StatusName(e.Status))
}

// Retryable reports whether the same request may succeed later
// (PROTOCOLS.md): throttled, queue full, system error, temporary
// application error. Everything else, bind failures included, is permanent.
func (e *StatusError) Retryable() bool {
	switch e.Status {
	case StatusThrottled, StatusMsgQFul, StatusSysErr, StatusXTAppn:
		return true
	}
	return false
}

// Throttled reports ESME_RTHROTTLED: the whole bind should slow down.
func (e *StatusError) Throttled() bool { return e.Status == StatusThrottled }

// Is makes errors.Is(err, ErrBindRejected) true for a refused bind.
func (e *StatusError) Is(target error) bool {
	return target == ErrBindRejected && isBind(e.Command)
}

// ErrBindRejected matches a bind refused by the SMSC (0x0D bind failed,
// 0x0E password, 0x0F system_id, or any other status): stop and alert, do
// not retry in a loop.
var ErrBindRejected = errors.New("smpp: bind rejected")

// ErrTimeout is returned when no response came within RespTimeout. The
// request was sent: the SMSC may have accepted it.
var ErrTimeout = errors.New("smpp: response timeout")

// ErrClosed is returned for a request made on a closed bind, before anything
// was sent.
var ErrClosed = errors.New("smpp: bind closed")

// ConnError reports a request that failed because the connection was lost
// or closed.
type ConnError struct {
	// Sent is true when the request was written, fully or in part, before
	// the loss: the SMSC may have accepted it, and resending may duplicate
	// the message. When false the SMSC never saw it.
	Sent bool
	Err  error
}

func (e *ConnError) Error() string {
	if e.Sent {
		return fmt.Sprintf("smpp: connection lost after sending, the SMSC may have accepted the request: %v", e.Err)
	}
	return fmt.Sprintf("smpp: connection lost before sending: %v", e.Err)
}

func (e *ConnError) Unwrap() error { return e.Err }

// Retryable is true: another bind may carry the request; check Sent first
// if a duplicate matters.
func (e *ConnError) Retryable() bool { return true }

func isBind(id uint32) bool {
	switch id {
	case CmdBindReceiver, CmdBindTransmitter, CmdBindTransceiver:
		return true
	}
	return false
}

func commandName(id uint32) string {
	switch id {
	case CmdGenericNack:
		return "generic_nack"
	case CmdBindReceiver:
		return "bind_receiver"
	case CmdBindTransmitter:
		return "bind_transmitter"
	case CmdBindTransceiver:
		return "bind_transceiver"
	case CmdSubmitSM:
		return "submit_sm"
	case CmdDeliverSM:
		return "deliver_sm"
	case CmdUnbind:
		return "unbind"
	case CmdEnquireLink:
		return "enquire_link"
	case CmdDataSM:
		return "data_sm"
	case CmdAlertNotification:
		return "alert_notification"
	}
	if id&respBit != 0 && id != CmdGenericNack {
		return commandName(id&^respBit) + "_resp"
	}
	return fmt.Sprintf("command %#08x", id)
}

// StatusName spells a command_status as SMPP 3.4 names it
// ("ESME_RTHROTTLED"), "unknown" for a status it does not name.
func StatusName(s uint32) string {
	switch s {
	case StatusOK:
		return "ESME_ROK"
	case 0x01:
		return "ESME_RINVMSGLEN"
	case 0x02:
		return "ESME_RINVCMDLEN"
	case 0x04:
		return "ESME_RINVBNDSTS"
	case StatusInvCmdID:
		return "ESME_RINVCMDID"
	case StatusSysErr:
		return "ESME_RSYSERR"
	case statusInvSrcAdr:
		return "ESME_RINVSRCADR"
	case statusInvDstAdr:
		return "ESME_RINVDSTADR"
	case StatusBindFail:
		return "ESME_RBINDFAIL"
	case StatusInvPaswd:
		return "ESME_RINVPASWD"
	case StatusInvSysID:
		return "ESME_RINVSYSID"
	case StatusMsgQFul:
		return "ESME_RMSGQFUL"
	case StatusSubmitFail:
		return "ESME_RSUBMITFAIL"
	case StatusThrottled:
		return "ESME_RTHROTTLED"
	case statusInvSched:
		return "ESME_RINVSCHED"
	case statusInvExpiry:
		return "ESME_RINVEXPIRY"
	case StatusXTAppn:
		return "ESME_RX_T_APPN"
	case StatusXPAppn:
		return "ESME_RX_P_APPN"
	case StatusXRAppn:
		return "ESME_RX_R_APPN"
	}
	return "unknown"
}
