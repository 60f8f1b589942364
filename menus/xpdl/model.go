// The Package that Read returns: its processes, activities, transitions,
// data fields and applications, as the importer sees them.

package xpdl

// Package is an XPDL file, read.
type Package struct {
	Version   string // "1.0", "2.0", "2.1" or "2.2", from the namespace
	Namespace string
	ID, Name  string
	Label     Label
	Line      int
	Processes []*Process

	// HeaderVersion is what PackageHeader/XPDLVersion says, at HeaderLine.
	HeaderVersion string
	HeaderLine    int
	// Script is the package's script language (Script/@Type), which its
	// conditions are written in unless they say otherwise.
	Script string
	// Lang is the language a vendor declares for the names ("en" for
	// xpdExt:Language="en_US"), or "".
	Lang     string
	LangLine int
	LangFrom string // what said it: "xpdExt:Language", "xml:lang"
	// Pools are the package's pools, each with the process it draws and
	// its lanes; MessageFlows the messages between pools.
	Pools        []*Pool
	MessageFlows []*MessageFlow

	notes        []Item // what reading noticed
	fields       map[string]*DataField
	apps         map[string]*Application
	types        map[string]*element
	participants map[string]*Participant
}

// Process is one WorkflowProcess.
type Process struct {
	ID, Name string
	Label    Label
	Line     int
	// Activities and Transitions in file order.
	Activities  []*Activity
	Transitions []*Transition
	// Called lists the processes this one starts through SubFlow.
	Called []string
	// Limit is the line of the process's time limit (ProcessHeader/Limit),
	// if it has one.
	Limit int

	pkg          *Package
	acts         map[string]*Activity
	out, in      map[string][]*Transition
	fields       map[string]*DataField
	apps         map[string]*Application
	participants map[string]*Participant
}

// Kinds of activities, as the importer sees them.
const (
	kindStart        = "start event"
	kindIntermediate = "intermediate event"
	kindEnd          = "end event"
	kindRoute        = "gateway"
	kindManual       = "manual"
	kindAuto         = "automatic"
	kindSubFlow      = "sub-process"
	kindBlock        = "embedded sub-process"
	kindReference    = "reference"
)

// Activity is one Activity of a process: a task, a gateway or an event.
type Activity struct {
	ID, Name string
	Label    Label
	Line     int
	Kind     string
	// How: "No", "TaskUser", "Tool", "TaskApplication", "Task" (empty),
	// "" (no Implementation at all)…
	How string
	// Trigger of an event ("None", "Message", "Timer"…), and the event's
	// element name.
	Trigger, Event string
	// Target is the activity a boundary event is attached to.
	Target string
	// LinkName names the link a link event throws or catches.
	LinkName string
	// Gateway is the type of a Route or of the split/join, normalised:
	// XOR, AND, OR, Complex, Event; GatewaySaid is the file's spelling ("" if
	// the file gives none).
	Gateway, GatewaySaid string
	Split, Join          *Restriction
	Tools                []Tool
	SubFlow              *SubFlow
	Performers           []string
	// Lane is the lane the activity is drawn in (NodeGraphicsInfo
	// LaneId), if said.
	Lane string
	// Description is what the file says of the step, for its SMS.
	Description string
	Updates     []FieldRef
	// Lines of what has no phone equivalent, by what it is.
	Deadlines   []int
	Loop        int
	Transaction int
	Assignments int
	Limit       int
}

// Restriction is a split or a join.
type Restriction struct {
	Type string // normalised: XOR, AND, OR, Complex, Event
	Said string // as the file says it
	Refs []string
	Line int
}

// Tool is one application an activity calls.
type Tool struct {
	App    string // the Application's Id, or "" for a task with none
	Kind   string // Tool, TaskApplication, TaskService…
	Params []string
	Line   int
	Op     string // TaskService's WebServiceOperation/@OperationName
}

// SubFlow is a call to another process.
type SubFlow struct {
	Process   string
	Execution string
	Params    []string
	Line      int
}

// FieldRef names a data field an activity updates, and where it says so.
type FieldRef struct {
	ID   string
	Line int
}

// Transition is one arrow of the flow.
type Transition struct {
	ID, From, To, Name string
	Label              Label
	Line               int
	CondType           string // CONDITION, OTHERWISE, EXCEPTION, DEFAULTEXCEPTION or ""
	Cond               string // the expression
	Grammar            string // the expression's script language, if said
	CondLine           int
}

// DataField is a process variable (or a formal parameter, which the importer
// treats alike).
type DataField struct {
	ID, Name string
	Label    Label
	Line     int
	// Type is the basic type (STRING, INTEGER, FLOAT, BOOLEAN, DATE,
	// DATETIME, TIME, REFERENCE, PERFORMER), "ENUM" for an enumeration,
	// or what the file uses instead (RecordType, SchemaType…).
	Type   string
	Enum   []EnumValue
	Length int
	Array  bool
}

// EnumValue is one value of an enumeration.
type EnumValue struct {
	Name  string
	Label Label
}

// Application is a declared application, with its formal parameters.
type Application struct {
	ID, Name string
	Line     int
	Params   []Param
}

// Param is a formal parameter.
type Param struct {
	ID   string
	Mode string // IN, OUT, INOUT
}

// Participant is a performer.
type Participant struct {
	ID, Name, Type string
	Label          Label
	Line           int
}

// Pool is a pool of a diagram: the process it draws, for a participant of
// a collaboration (the citizen, the administration), and its lanes.
type Pool struct {
	ID, Name, Process string
	Label             Label
	Line              int
	Lanes             []*Lane
}

// Lane is a lane of a pool: a participant's share of a process.
type Lane struct {
	ID, Name string
	Label    Label
	Line     int
}

// MessageFlow is a message between two pools: from an activity (or a
// pool) to another.
type MessageFlow struct {
	ID, Name       string
	Source, Target string
	Line           int
}

// Label is an element's readable name per language: "fr", "en", and ""
// for a name in no stated language.
type Label map[string]string

// field finds a data field by id: the process's, then the package's.
func (pr *Process) field(id string) *DataField {
	if f := pr.fields[id]; f != nil {
		return f
	}
	return pr.pkg.fields[id]
}

// app finds an application by id: the process's, then the package's.
func (pr *Process) app(id string) *Application {
	if a := pr.apps[id]; a != nil {
		return a
	}
	return pr.pkg.apps[id]
}

// participant finds a participant by id: the process's, then the
// package's.
func (pr *Process) participant(id string) *Participant {
	if pt := pr.participants[id]; pt != nil {
		return pt
	}
	return pr.pkg.participants[id]
}
