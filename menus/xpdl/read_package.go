// Reading a Package from its elements: version, header, declarations,
// processes and transitions.

package xpdl

import (
	"strconv"
	"strings"
)

// newPackage reads a Package from the root element: its version, header,
// declarations and processes.
func newPackage(root *element) (*Package, error) {
	if root.Local != "Package" {
		return nil, errorf(root.Line, "the root element is <%s>, not an XPDL <Package>", root.Local)
	}
	p := &Package{Line: root.Line, fields: map[string]*DataField{}, apps: map[string]*Application{},
		types: map[string]*element{}, participants: map[string]*Participant{}}
	markNamespace(root)
	header := root.child("PackageHeader")
	if hv := header.child("XPDLVersion"); hv != nil {
		p.HeaderVersion, p.HeaderLine = hv.text(), hv.Line
	}
	if err := p.readVersion(root); err != nil {
		return nil, err
	}
	p.ID, p.Name, p.Label = root.attr("Id"), root.attr("Name"), p.readLabel(root)
	if sc := root.child("Script"); sc != nil {
		p.Script = firstNonEmpty(sc.attr("Type"), sc.attr("Grammar"))
	}
	if l := header.vendorAttr("Language"); l != "" {
		p.Lang, p.LangLine, p.LangFrom = langCode(l), header.Line, "the PackageHeader's Language attribute"
	} else if l := root.vendorAttr("lang"); l != "" {
		p.Lang, p.LangLine, p.LangFrom = langCode(l), root.Line, "xml:lang"
	}
	for _, td := range root.all("TypeDeclarations", "TypeDeclaration") {
		if id := td.attr("Id"); id != "" {
			p.types[id] = td
		}
	}
	p.readDeclarations(root, p.participants, p.apps, p.fields)
	for _, x := range root.all("Pools", "Pool") {
		pool := &Pool{ID: x.attr("Id"), Name: x.attr("Name"), Process: x.attr("Process"), Label: p.readLabel(x), Line: x.Line}
		for _, l := range x.all("Lanes", "Lane") {
			pool.Lanes = append(pool.Lanes, &Lane{ID: l.attr("Id"), Name: l.attr("Name"), Label: p.readLabel(l), Line: l.Line})
		}
		p.Pools = append(p.Pools, pool)
	}
	for _, x := range root.all("MessageFlows", "MessageFlow") {
		p.MessageFlows = append(p.MessageFlows, &MessageFlow{ID: x.attr("Id"), Name: x.attr("Name"),
			Source: x.attr("Source"), Target: x.attr("Target"), Line: x.Line})
	}
	for _, e := range root.all("WorkflowProcesses", "WorkflowProcess") {
		p.Processes = append(p.Processes, p.readProcess(e))
	}
	return p, nil
}

// markNamespace marks every element with the document's XPDL namespace,
// so that a vendor's element with the same local name
// (xpdExt:ExternalReference) is never taken for XPDL's.
func markNamespace(root *element) {
	docNS := root.Space
	stack := []*element{root}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		e.ns = docNS
		stack = append(stack, e.Children...)
	}
}

// readVersion sets the package's XPDL version and namespace from the root
// element's namespace, else from the header's XPDLVersion, noting how it
// read them; it fails when neither is XPDL's.
func (p *Package) readVersion(root *element) error {
	version, ns := versionOf(root.Space)
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
			return errorf(root.Line, "the <Package> has no namespace and no known XPDLVersion in its header: expected one of %s", knownNamespaces())
		}
		p.Version, p.Namespace = v, ""
		p.note(root.Line, "Package", "no XPDL namespace: read as XPDL %s, as the header says", v)
	default:
		return errorf(root.Line, "the namespace %q is not XPDL's: expected one of %s", root.Space, knownNamespaces())
	}
	return nil
}

// note adds an item to what reading noticed, for the report.
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

// readDeclarations reads what a package or a process declares (XPDL scopes
// both alike): participants, applications, formal parameters (processes
// only have them) and data fields, in that order, a later one of the same
// id replacing an earlier one.
func (p *Package) readDeclarations(e *element, parts map[string]*Participant, apps map[string]*Application, fields map[string]*DataField) {
	for _, x := range e.all("Participants", "Participant") {
		pt := &Participant{ID: x.attr("Id"), Name: x.attr("Name"), Type: x.path("ParticipantType").attr("Type"),
			Label: p.readLabel(x), Line: x.Line}
		parts[pt.ID] = pt
	}
	for _, x := range e.all("Applications", "Application") {
		a := p.readApplication(x)
		apps[a.ID] = a
	}
	for _, list := range [][2]string{{"FormalParameters", "FormalParameter"}, {"DataFields", "DataField"}} {
		for _, x := range e.all(list[0], list[1]) {
			f := p.readField(x)
			fields[f.ID] = f
		}
	}
}

// readApplication reads an Application with its formal parameters.
func (p *Package) readApplication(e *element) *Application {
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

// readField reads a DataField or a FormalParameter.
func (p *Package) readField(e *element) *DataField {
	f := &DataField{ID: e.attr("Id"), Name: e.attr("Name"), Label: p.readLabel(e), Line: e.Line,
		Array: strings.EqualFold(e.attr("IsArray"), "true")}
	p.readDataType(f, e.child("DataType"), 0)
	if l := e.child("Length"); l != nil && f.Length == 0 { // XPDL 1.0 puts it here
		f.Length = parseLength(l.text())
	}
	return f
}

// readDataType reads a DataType (or a TypeDeclaration, which has the same
// shape) into f.
func (p *Package) readDataType(f *DataField, dt *element, depth int) {
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
				f.Length = parseLength(l.text())
			}
			return
		case "EnumerationType":
			f.Type = "ENUM"
			for _, v := range c.children("EnumerationValue") {
				f.Enum = append(f.Enum, EnumValue{Name: v.attr("Name"), Label: p.readLabel(v)})
			}
			return
		case "DeclaredType":
			td := p.types[c.attr("Id")]
			if td == nil || depth > 8 {
				f.Type = "DeclaredType " + c.attr("Id")
				return
			}
			p.readDataType(f, td, depth+1)
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

// parseLength reads a Length: a decimal number, 0 when it is not one or
// is too long to be a length (past about ten million).
func parseLength(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1e6 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// readProcess reads a WorkflowProcess: its declarations, activities and
// transitions.
func (p *Package) readProcess(e *element) *Process {
	pr := &Process{ID: e.attr("Id"), Name: e.attr("Name"), Label: p.readLabel(e), Line: e.Line, pkg: p,
		acts: map[string]*Activity{}, out: map[string][]*Transition{}, in: map[string][]*Transition{},
		fields: map[string]*DataField{}, apps: map[string]*Application{}, participants: map[string]*Participant{}}
	p.readDeclarations(e, pr.participants, pr.apps, pr.fields)
	if l := e.path("ProcessHeader", "Limit"); l != nil && l.text() != "" && l.text() != "0" {
		pr.Limit = l.Line
	}
	for _, x := range e.all("Activities", "Activity") {
		a := p.readActivity(x)
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
		t := p.readTransition(x)
		pr.Transitions = append(pr.Transitions, t)
		pr.out[t.From] = append(pr.out[t.From], t)
		pr.in[t.To] = append(pr.in[t.To], t)
	}
	return pr
}

// readTransition reads a Transition and its condition.
func (p *Package) readTransition(e *element) *Transition {
	t := &Transition{ID: e.attr("Id"), From: e.attr("From"), To: e.attr("To"), Name: e.attr("Name"),
		Label: p.readLabel(e), Line: e.Line}
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
