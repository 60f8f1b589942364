// Package adapters provides the service backends that menus call by name:
// the native case store (cases, offices, visit slots, hotline callbacks) and,
// later, connectors to ministries' own systems.
package adapters

import (
	"github.com/guichet/guichet/menus"
)

// Call is one named operation, as a menu's action or choose node asks it.
type Call struct {
	Op      string            // "cases.open"
	Service string            // the calling service's id ("birth-certificate")
	Phone   string            // the caller, E.164
	Lang    string            // "fr" or "en": labels come back in it
	Channel string            // "ussd", "sms", "hotline", "api"
	Who     string            // who acts for the caller (a hotline operator); "" when the caller does
	Args    map[string]string // the node's arguments, templates filled
	// Key makes the call idempotent: a second call with the same Op and Key
	// returns the first one's result without doing anything again. The
	// engine sets it, so that an operator's retry never opens two cases.
	Key string
}

// Option is one entry of a list that a List operation returns.
type Option struct {
	ID    string
	Label string // in the call's language
}

// Result is what an operation returns: variables for the session, or the
// options of a list.
type Result struct {
	Vars    map[string]string
	Options []Option
}

// Operations is the catalogue of native operations, for the menu validator.
// Every name here is served by Native.Do; TestOperationsServed holds them
// together.
var Operations = []menus.Operation{
	{Name: "offices.list", List: true, LabelMax: 30},
	{Name: "slots.list", List: true, LabelMax: 24},
	{Name: "slots.book", Outputs: map[string]int{"ref": 12, "slot": 24, "office": 30}},
	{Name: "slots.cancel", Outputs: map[string]int{"ref": 12}},
	{Name: "cases.open", Outputs: map[string]int{"ref": 12}},
	{Name: "cases.track", Outputs: map[string]int{"ref": 12, "status": 30, "service": 30, "updated": 10}},
	{Name: "callback.request", Outputs: map[string]int{"ticket": 6}},
}
