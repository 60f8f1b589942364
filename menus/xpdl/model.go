package xpdl

import (
	"strconv"
	"strings"
)

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
	Updates              []FieldRef
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
}

// Label is an element's readable name per language: "fr", "en", and ""
// for a name in no stated language.
type Label map[string]string

func newPackage(root *element) (*Package, error) {
	if root.Local != "Package" {
		return nil, errorf(root.Line, "the root element is <%s>, not an XPDL <Package>", root.Local)
	}
	p := &Package{Line: root.Line, fields: map[string]*DataField{}, apps: map[string]*Application{},
		types: map[string]*element{}, participants: map[string]*Participant{}}
	version, ns := versionOf(root.Space)
	// Mark every element with the document's XPDL namespace, so that a
	// vendor's element with the same local name (xpdExt:ExternalReference)
	// is never taken for XPDL's.
	docNS := root.Space
	stack := []*element{root}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		e.ns = docNS
		stack = append(stack, e.Children...)
	}
	header := root.child("PackageHeader")
	if hv := header.child("XPDLVersion"); hv != nil {
		p.HeaderVersion, p.HeaderLine = hv.text(), hv.Line
	}
	switch {
	case version != "":
		p.Version, p.Namespace = version, ns
		if ns != root.Space {
			p.note(root.Line, "Package", "the namespace %q is taken for %s", root.Space, ns)
		}
		if p.HeaderVersion != "" && p.HeaderVersion != version {
			p.note(p.HeaderLine, "XPDLVersion", "the header says XPDL %s but the namespace is XPDL %s's: read as %s", p.HeaderVersion, version, version)
		}
	case root.Space == "":
		v := strings.TrimSpace(p.HeaderVersion)
		for k, known := range Namespaces {
			if known == v {
				ns = k
			}
		}
		if ns == "" {
			return nil, errorf(root.Line, "the <Package> has no namespace and no known XPDLVersion in its header: expected one of %s", knownNamespaces())
		}
		p.Version, p.Namespace = v, ""
		p.note(root.Line, "Package", "no XPDL namespace: read as XPDL %s, as the header says", v)
	default:
		return nil, errorf(root.Line, "the namespace %q is not XPDL's: expected one of %s", root.Space, knownNamespaces())
	}
	p.ID, p.Name, p.Label = root.attr("Id"), root.attr("Name"), p.label(root)
	if sc := root.child("Script"); sc != nil {
		p.Script = firstOf(sc.attr("Type"), sc.attr("Grammar"))
	}
	if l := header.vendorAttr("Language"); l != "" {
		p.Lang, p.LangLine = langCode(l), header.Line
	}
	for _, td := range root.all("TypeDeclarations", "TypeDeclaration") {
		if id := td.attr("Id"); id != "" {
			p.types[id] = td
		}
	}
	p.declarations(root, p.participants, p.apps, p.fields)
	for _, e := range root.all("WorkflowProcesses", "WorkflowProcess") {
		p.Processes = append(p.Processes, p.process(e))
	}
	return p, nil
}

func (p *Package) note(line int, elem, format string, args ...any) {
	p.notes = append(p.notes, item(line, elem, format, args...))
}

// langCode turns "en_US", "fr-FR", "French" into "en", "fr"; "" otherwise.
func langCode(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(s, "fr"):
		return "fr"
	case strings.HasPrefix(s, "en"):
		return "en"
	}
	return ""
}

func participant(e *element) *Participant {
	return &Participant{ID: e.attr("Id"), Name: e.attr("Name"), Type: e.path("ParticipantType").attr("Type")}
}

func (p *Package) application(e *element) *Application {
	a := &Application{ID: e.attr("Id"), Name: e.attr("Name"), Line: e.Line}
	params := e.all("FormalParameters", "FormalParameter")
	if len(params) == 0 {
		// XPDL 2.x may put them under Type/… (BusinessRule, WebService…).
		for _, t := range e.children("Type") {
			for _, c := range t.Children {
				params = append(params, c.all("FormalParameters", "FormalParameter")...)
			}
		}
	}
	for _, fp := range params {
		a.Params = append(a.Params, Param{ID: fp.attr("Id"), Mode: strings.ToUpper(fp.attr("Mode"))})
	}
	return a
}

// field reads a DataField or a FormalParameter.
func (p *Package) field(e *element) *DataField {
	f := &DataField{ID: e.attr("Id"), Name: e.attr("Name"), Label: p.label(e), Line: e.Line,
		Array: strings.EqualFold(e.attr("IsArray"), "true")}
	p.dataType(f, e.child("DataType"), 0)
	if l := e.child("Length"); l != nil && f.Length == 0 { // XPDL 1.0 puts it here
		f.Length = atoi(l.text())
	}
	return f
}

// dataType reads a DataType (or a TypeDeclaration, which has the same
// shape) into f.
func (p *Package) dataType(f *DataField, dt *element, depth int) {
	if dt == nil {
		f.Type = "none"
		return
	}
	for _, c := range dt.Children {
		if c.Space != c.ns {
			continue // a vendor's element: not a type
		}
		switch c.Local {
		case "BasicType":
			f.Type = strings.ToUpper(c.attr("Type"))
			if f.Type == "" {
				f.Type = strings.ToUpper(c.text())
			}
			if l := c.child("Length"); l != nil {
				f.Length = atoi(l.text())
			}
			return
		case "EnumerationType":
			f.Type = "ENUM"
			for _, v := range c.children("EnumerationValue") {
				f.Enum = append(f.Enum, EnumValue{Name: v.attr("Name"), Label: p.label(v)})
			}
			return
		case "DeclaredType":
			td := p.types[c.attr("Id")]
			if td == nil || depth > 8 {
				f.Type = "DeclaredType " + c.attr("Id")
				return
			}
			p.dataType(f, td, depth+1)
			return
		case "Description", "ExtendedAttributes", "ExternalReference", "SchemaType", "RecordType",
			"UnionType", "ArrayType", "ListType":
			if c.Local == "Description" || c.Local == "ExtendedAttributes" {
				continue
			}
			f.Type = c.Local
			return
		}
	}
	if f.Type == "" {
		f.Type = "none"
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1e6 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// declarations reads what a package or a process declares (XPDL scopes
// both alike): participants, applications, formal parameters (processes
// only have them) and data fields, in that order, a later one of the same
// id replacing an earlier one.
func (p *Package) declarations(e *element, parts map[string]*Participant, apps map[string]*Application, fields map[string]*DataField) {
	for _, x := range e.all("Participants", "Participant") {
		pt := participant(x)
		parts[pt.ID] = pt
	}
	for _, x := range e.all("Applications", "Application") {
		a := p.application(x)
		apps[a.ID] = a
	}
	for _, list := range [][2]string{{"FormalParameters", "FormalParameter"}, {"DataFields", "DataField"}} {
		for _, x := range e.all(list[0], list[1]) {
			f := p.field(x)
			fields[f.ID] = f
		}
	}
}

func (p *Package) process(e *element) *Process {
	pr := &Process{ID: e.attr("Id"), Name: e.attr("Name"), Label: p.label(e), Line: e.Line, pkg: p,
		acts: map[string]*Activity{}, out: map[string][]*Transition{}, in: map[string][]*Transition{},
		fields: map[string]*DataField{}, apps: map[string]*Application{}, participants: map[string]*Participant{}}
	p.declarations(e, pr.participants, pr.apps, pr.fields)
	for _, x := range e.all("Activities", "Activity") {
		a := p.activity(x)
		if a.ID == "" || pr.acts[a.ID] != nil {
			a.ID = "#" + strconv.Itoa(a.Line) // no id, or twice: keep it apart
		}
		pr.acts[a.ID] = a
		pr.Activities = append(pr.Activities, a)
		if a.SubFlow != nil {
			pr.Called = append(pr.Called, a.SubFlow.Process)
		}
	}
	for _, x := range e.all("Transitions", "Transition") {
		t := p.transition(x)
		pr.Transitions = append(pr.Transitions, t)
		pr.out[t.From] = append(pr.out[t.From], t)
		pr.in[t.To] = append(pr.in[t.To], t)
	}
	return pr
}

// gatewayType normalises the ways files spell gateways and restrictions.
func gatewayType(s string) string {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "XOR", "EXCLUSIVE", "EXCLUSIVEDATA", "DATA":
		return "XOR"
	case "AND", "PARALLEL":
		return "AND"
	case "OR", "INCLUSIVE":
		return "OR"
	case "COMPLEX":
		return "Complex"
	case "EXCLUSIVEEVENTBASED", "EVENTBASEDXOR", "EVENT", "EXCLUSIVEEVENT", "PARALLELEVENTBASED":
		return "Event"
	case "":
		return ""
	}
	return "?" + s
}

func (p *Package) activity(e *element) *Activity {
	a := &Activity{ID: e.attr("Id"), Name: e.attr("Name"), Label: p.label(e), Line: e.Line}
	for _, perf := range append(e.children("Performer"), e.all("Performers", "Performer")...) {
		if t := perf.text(); t != "" {
			a.Performers = append(a.Performers, t)
		}
	}
	for _, tr := range e.all("TransitionRestrictions", "TransitionRestriction") {
		if s := tr.child("Split"); s != nil {
			r := &Restriction{Said: s.attr("Type"), Type: gatewayType(s.attr("Type")), Line: s.Line}
			if x := s.attr("ExclusiveType"); strings.EqualFold(x, "Event") {
				r.Type = "Event"
			}
			for _, ref := range s.all("TransitionRefs", "TransitionRef") {
				r.Refs = append(r.Refs, ref.attr("Id"))
			}
			a.Split = r
		}
		if j := tr.child("Join"); j != nil {
			a.Join = &Restriction{Said: j.attr("Type"), Type: gatewayType(j.attr("Type")), Line: j.Line}
		}
	}
	for _, d := range e.children("Deadline") {
		a.Deadlines = append(a.Deadlines, d.Line)
	}
	if l := e.child("Loop"); l != nil {
		a.Loop = l.Line
	}
	if strings.EqualFold(e.attr("IsATransaction"), "true") {
		a.Transaction = e.Line
	}
	if t := e.child("Transaction"); t != nil {
		a.Transaction = t.Line
	}
	if as := e.child("Assignments"); as != nil {
		a.Assignments = as.Line
	}
	if l := e.child("Limit"); l != nil && l.text() != "" && l.text() != "0" {
		a.Limit = l.Line
	}
	// Fields the activity's form updates: Together's form attributes and
	// the standard DataMappings.
	for _, ea := range e.all("ExtendedAttributes", "ExtendedAttribute") {
		if ea.attr("Name") == "VariableToProcess_UPDATE" {
			if v := eaValue(ea); v != "" {
				a.Updates = append(a.Updates, FieldRef{ID: v, Line: ea.Line})
			}
		}
	}
	for _, dm := range e.all("DataMappings", "DataMapping") {
		if d := strings.ToUpper(dm.attr("Direction")); d == "OUT" || d == "INOUT" {
			actual := dm.child("Actual").text()
			if actual == "" {
				actual = dm.attr("Formal")
			}
			if actual != "" {
				a.Updates = append(a.Updates, FieldRef{ID: actual, Line: dm.Line})
			}
		}
	}

	switch {
	case e.child("Route") != nil:
		r := e.child("Route")
		a.Kind = kindRoute
		a.GatewaySaid = r.attr("GatewayType")
		if a.GatewaySaid == "" {
			a.GatewaySaid = r.attr("ExclusiveType") // some editors put only this
		}
		a.Gateway = gatewayType(a.GatewaySaid)
		if a.Gateway == "XOR" && strings.EqualFold(r.attr("ExclusiveType"), "Event") {
			a.Gateway = "Event"
		}
		if strings.EqualFold(r.attr("Instantiate"), "true") && a.Gateway == "" {
			a.Gateway = "Event"
		}
	case e.child("Event") != nil:
		ev := e.child("Event")
		for _, c := range ev.Children {
			if c.Space != c.ns {
				continue
			}
			switch c.Local {
			case "StartEvent":
				a.Kind = kindStart
			case "IntermediateEvent":
				a.Kind = kindIntermediate
				a.Target = c.attr("Target")
			case "EndEvent":
				a.Kind = kindEnd
			default:
				continue
			}
			a.Event = c.Local
			a.Trigger = c.attr("Trigger")
			if a.Trigger == "" {
				a.Trigger = c.attr("Result")
			}
			if l := c.child("TriggerResultLink"); l != nil {
				a.LinkName = l.attr("Name")
				if a.LinkName == "" {
					a.LinkName = l.attr("LinkId")
				}
			}
			break
		}
		if a.Kind == "" {
			a.Kind = kindIntermediate
			a.Event = "Event"
		}
	case e.child("BlockActivity") != nil:
		a.Kind = kindBlock
		a.How = "BlockActivity"
	case e.child("Implementation") != nil:
		p.implementation(a, e.child("Implementation"))
	default:
		a.Kind, a.How = kindManual, ""
	}
	return a
}

func eaValue(ea *element) string {
	if v := ea.attr("Value"); v != "" {
		return strings.TrimSpace(v)
	}
	return ea.text()
}

func (p *Package) implementation(a *Activity, im *element) {
	a.Kind = kindManual
	for _, c := range im.Children {
		if c.Space != c.ns {
			continue
		}
		switch c.Local {
		case "No":
			a.How = "No"
			return
		case "Tool":
			a.Kind, a.How = kindAuto, "Tool"
			a.Tools = append(a.Tools, Tool{App: c.attr("Id"), Kind: "Tool", Params: actuals(c), Line: c.Line})
		case "SubFlow":
			a.Kind, a.How = kindSubFlow, "SubFlow"
			a.SubFlow = &SubFlow{Process: c.attr("Id"), Execution: c.attr("Execution"), Params: actuals(c), Line: c.Line}
			return
		case "Reference":
			a.Kind, a.How = kindReference, "Reference"
			return
		case "Task":
			p.task(a, c)
			return
		}
	}
	if a.How == "" {
		a.How = "Implementation"
	}
}

func actuals(e *element) []string {
	var out []string
	for _, ap := range e.all("ActualParameters", "ActualParameter") {
		out = append(out, ap.text())
	}
	return out
}

func (p *Package) task(a *Activity, t *element) {
	for _, c := range t.Children {
		if c.Space != c.ns {
			continue
		}
		a.How = c.Local
		switch c.Local {
		case "TaskUser", "TaskManual":
			a.Kind = kindManual
			for _, perf := range c.all("Performers", "Performer") {
				if s := perf.text(); s != "" {
					a.Performers = append(a.Performers, s)
				}
			}
			// What the form sends back: MessageOut's parameters.
			for _, ap := range c.path("MessageOut").all("ActualParameters", "ActualParameter") {
				if s := ap.text(); s != "" {
					a.Updates = append(a.Updates, FieldRef{ID: s, Line: ap.Line})
				}
			}
		case "TaskApplication":
			a.Kind = kindAuto
			a.Tools = append(a.Tools, Tool{App: c.attr("Id"), Kind: c.Local, Params: actuals(c), Line: c.Line})
		case "TaskService", "TaskScript", "TaskSend", "TaskBusinessRule":
			a.Kind = kindAuto
			tool := Tool{App: c.attr("Id"), Kind: c.Local, Line: c.Line}
			if ws := c.child("WebServiceOperation"); ws != nil {
				tool.Op = ws.attr("OperationName")
			}
			for _, ap := range c.path("MessageIn").all("ActualParameters", "ActualParameter") {
				tool.Params = append(tool.Params, ap.text())
			}
			a.Tools = append(a.Tools, tool)
		case "TaskReceive":
			a.Kind = kindIntermediate
			a.Event, a.Trigger = "TaskReceive", "Message"
		case "TaskReference":
			a.Kind = kindReference
		default:
			continue
		}
		return
	}
	a.How = "Task" // an empty Task: a task of no stated kind
}

func (p *Package) transition(e *element) *Transition {
	t := &Transition{ID: e.attr("Id"), From: e.attr("From"), To: e.attr("To"), Name: e.attr("Name"),
		Label: p.label(e), Line: e.Line}
	if c := e.child("Condition"); c != nil {
		t.CondType = strings.ToUpper(c.attr("Type"))
		t.CondLine = c.Line
		expr := c.text()
		if x := c.child("Expression"); x != nil {
			expr = strings.TrimSpace(expr + " " + x.text())
			t.Grammar = x.attr("ScriptGrammar")
		}
		t.Cond = strings.TrimSpace(expr)
		if t.CondType == "" && t.Cond != "" {
			t.CondType = "CONDITION"
		}
	}
	return t
}

// field finds a data field by id: the process's, then the package's.
func (pr *Process) field(id string) *DataField {
	if f := pr.fields[id]; f != nil {
		return f
	}
	return pr.pkg.fields[id]
}

func (pr *Process) app(id string) *Application {
	if a := pr.apps[id]; a != nil {
		return a
	}
	return pr.pkg.apps[id]
}

func (pr *Process) participant(id string) *Participant {
	if pt := pr.participants[id]; pt != nil {
		return pt
	}
	return pr.pkg.participants[id]
}
