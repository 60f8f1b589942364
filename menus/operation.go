package menus

// The operation contract: what a service file's action and choose nodes ask
// of a backend, and what comes back. The engine builds a Call, a backend
// (the native case service, a ministry's REST or SOAP system) answers a
// Result; neither knows the other's types.

// Operation describes a named adapter operation that a service file may call,
// so that the validator can refuse unknown ones and size the screens that show
// their results.
type Operation struct {
	Name string
	// List operations supply the options of a choose node; the others are
	// actions whose results become session variables.
	List bool
	// LabelMax is the longest label a List operation returns, in characters.
	LabelMax int
	// Outputs are the variables an action sets, with their longest length.
	Outputs map[string]int
}

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

// Choice is one entry of a list that a List operation returns: an option
// of a choose node.
type Choice struct {
	ID    string
	Label string // in the call's language
}

// Result is what an operation returns: variables for the session, or the
// options of a list.
type Result struct {
	Vars    map[string]string
	Options []Choice
}
