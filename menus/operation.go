package menus

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
