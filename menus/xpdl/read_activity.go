// Reading an Activity from its element: its kind and implementation, its
// splits and joins, the fields it updates, and what has no phone
// equivalent.

package xpdl

import "strings"

// readActivity reads an Activity: what it is (a task, a gateway, an
// event), its splits and joins, the fields it updates and the lines of
// what it carries that has no phone equivalent.
func (p *Package) readActivity(e *element) *Activity {
	a := &Activity{ID: e.attr("Id"), Name: e.attr("Name"), Label: p.readLabel(e), Line: e.Line}
	for _, perf := range append(e.children("Performer"), e.all("Performers", "Performer")...) {
		if t := perf.text(); t != "" {
			a.Performers = append(a.Performers, t)
		}
	}
	if d := e.child("Description"); d != nil {
		a.Description = d.text()
	}
	for _, g := range e.all("NodeGraphicsInfos", "NodeGraphicsInfo") {
		if l := g.attr("LaneId"); l != "" && a.Lane == "" {
			a.Lane = l
		}
	}
	readRestrictions(a, e)
	readUnsupported(a, e)
	readUpdates(a, e)

	switch {
	case e.child("Route") != nil:
		readRoute(a, e.child("Route"))
	case e.child("Event") != nil:
		readEvent(a, e.child("Event"))
	case e.child("BlockActivity") != nil:
		a.Kind = kindBlock
		a.How = "BlockActivity"
	case e.child("Implementation") != nil:
		p.readImplementation(a, e.child("Implementation"))
	default:
		a.Kind, a.How = kindManual, ""
	}
	return a
}

// readRestrictions reads an activity's split and join
// (TransitionRestrictions), the last of each when there are several.
func readRestrictions(a *Activity, e *element) {
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
}

// readUnsupported notes the lines of what an activity carries that has no
// phone equivalent: deadlines, a loop, a transaction, assignments, a time
// limit.
func readUnsupported(a *Activity, e *element) {
	for _, d := range e.children("Deadline") {
		a.Deadlines = append(a.Deadlines, d.Line)
	}
	if l := e.child("Loop"); l != nil && !strings.EqualFold(l.attr("LoopType"), "None") {
		a.Loop = l.Line // LoopType="None" is an editor's way to say no loop
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
}

// readUpdates reads the fields the activity's form updates: Together's
// (and Joget's, which Shark runs) VariableToProcess_UPDATE, Bonita 4's
// property attributes (the form shows and edits each property the
// activity names), and the standard DataMappings.
func readUpdates(a *Activity, e *element) {
	for _, ea := range e.all("ExtendedAttributes", "ExtendedAttribute") {
		if n := ea.attr("Name"); n == "VariableToProcess_UPDATE" || strings.EqualFold(n, "property") {
			if v := extAttrValue(ea); v != "" {
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
}

// readRoute reads a gateway (Route) and its type.
func readRoute(a *Activity, r *element) {
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
}

// readEvent reads an Event: the first start, intermediate or end event in
// it, with its trigger (or result) and link; an intermediate event when it
// has none of them.
func readEvent(a *Activity, ev *element) {
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

// extAttrValue is an ExtendedAttribute's value: its Value attribute, else
// its text.
func extAttrValue(ea *element) string {
	if v := ea.attr("Value"); v != "" {
		return strings.TrimSpace(v)
	}
	return ea.text()
}

// readImplementation reads a task's Implementation (XPDL 1.0's No, Tool,
// SubFlow; XPDL 2's Reference and Task) into a.
func (p *Package) readImplementation(a *Activity, im *element) {
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
			a.Tools = append(a.Tools, Tool{App: c.attr("Id"), Kind: "Tool", Params: actualParams(c), Line: c.Line})
		case "SubFlow":
			a.Kind, a.How = kindSubFlow, "SubFlow"
			a.SubFlow = &SubFlow{Process: c.attr("Id"), Execution: c.attr("Execution"), Params: actualParams(c), Line: c.Line}
			return
		case "Reference":
			a.Kind, a.How = kindReference, "Reference"
			return
		case "Task":
			p.readTask(a, c)
			return
		}
	}
	if a.How == "" {
		a.How = "Implementation"
	}
}

// actualParams lists an element's ActualParameters.
func actualParams(e *element) []string {
	var out []string
	for _, ap := range e.all("ActualParameters", "ActualParameter") {
		out = append(out, ap.text())
	}
	return out
}

// readTask reads an XPDL 2 Task (TaskUser, TaskService…) into a.
func (p *Package) readTask(a *Activity, t *element) {
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
			a.Tools = append(a.Tools, Tool{App: c.attr("Id"), Kind: c.Local, Params: actualParams(c), Line: c.Line})
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
