// Mapping activities: what each kind becomes (manual tasks, automatic
// ones, sub-process calls, events), and what they carry that has no phone
// equivalent.

package xpdl

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/sms"
)

// entry returns the target that enters activity a: its first node, or what
// follows it when it has no screen of its own.
func (s *service) entry(sc *scope, a *Activity) string {
	if t, ok := sc.memo[a.ID]; ok {
		return t
	}
	if sc.prefix == "" {
		s.visited[a] = true
	}
	if s.handsOff(sc.proc, a) {
		return s.handOff(sc, a)
	}
	s.reportUnsupported(sc.proc, a)
	switch a.Kind {
	case kindManual:
		if len(s.updatedFields(sc, a)) == 0 && s.systemOnly(sc.proc, a) {
			return s.passThrough(sc, a)
		}
		return s.manual(sc, a)
	case kindAuto:
		if s.unserved(sc.proc, a) {
			if r := s.imp.roleOf(sc.proc, a); r.key != "" && !r.system {
				// A person's work through an application (a worklist's
				// form): the citizen's, since another's hands off.
				s.review(a.Line, actName(a), "done by the citizen through application %s, which no operation of the gateway serves: a screen that shows the step (--map APPLICATION=OPERATION names a served one)",
					describeTools(sc.proc, a))
				return s.manual(sc, a)
			}
			s.review(a.Line, actName(a), "automatic step (%s) that no operation of the gateway does: the back office's systems do it, not the call; passed through (--map APPLICATION=OPERATION names a served one)",
				describeTools(sc.proc, a))
			return s.passThrough(sc, a)
		}
		return s.auto(sc, a)
	case kindSubFlow:
		return s.subflow(sc, a)
	case kindEnd:
		return s.endEvent(sc, a)
	case kindStart:
		if t := a.Trigger; t != "" && !strings.EqualFold(t, "None") {
			s.review(a.Line, actName(a), "start event triggered by %s: on the phone, the caller's dial starts the service", t)
		}
		return s.passThrough(sc, a)
	case kindIntermediate:
		trig := firstNonEmpty(a.Trigger, "None")
		if a.Event == "TaskReceive" {
			s.unmapped(a.Line, actName(a), "waits for a message (TaskReceive): no phone equivalent; the flow goes straight on")
		} else if strings.EqualFold(trig, "Link") {
			s.reportLink(sc, a)
		} else if !strings.EqualFold(trig, "None") {
			s.unmapped(a.Line, actName(a), "%s event: no phone equivalent (a call lasts minutes); the flow goes straight on", strings.ToLower(trig))
		}
		return s.passThrough(sc, a)
	case kindRoute:
		return s.passThrough(sc, a)
	case kindBlock:
		s.unmapped(a.Line, actName(a), "embedded sub-process (BlockActivity): not imported; the flow goes straight on")
		return s.passThrough(sc, a)
	case kindReference:
		s.unmapped(a.Line, actName(a), "reference to another activity (%s): not imported; the flow goes straight on", a.How)
		return s.passThrough(sc, a)
	}
	return s.passThrough(sc, a)
}

// reportUnsupported reports what an activity carries that has no phone
// equivalent.
func (s *service) reportUnsupported(pr *Process, a *Activity) {
	for _, l := range a.Deadlines {
		s.unmapped(l, "Deadline of "+actName(a), "no phone equivalent (a USSD session lasts minutes): not enforced; staff keep the deadline")
	}
	if a.Limit > 0 {
		s.unmapped(a.Limit, "Limit of "+actName(a), "time limit: not enforced on the phone")
	}
	if a.Loop > 0 {
		s.unmapped(a.Loop, "Loop of "+actName(a), "loop: no phone equivalent; done once")
	}
	if a.Transaction > 0 {
		s.unmapped(a.Transaction, "Transaction of "+actName(a), "transaction: no phone equivalent; its steps are not undone when a later one fails")
	}
	if a.Assignments > 0 {
		s.unmapped(a.Assignments, "Assignments of "+actName(a), "assignments are not computed: the menu language has no expressions")
	}
	for _, t := range pr.out[a.ID] {
		switch {
		case t.CondType == "EXCEPTION" || t.CondType == "DEFAULTEXCEPTION":
			s.unmapped(t.Line, elemName("Transition", t.ID, t.Label),
				"exception path (%s) to %q: no phone equivalent; not offered", t.CondType, t.To)
		case pr.acts[t.To] == nil:
			s.unmapped(t.Line, elemName("Transition", t.ID, t.Label), "leads to %q, which is not an activity of the process: left out", t.To)
		}
	}
	join, line := "", a.Line
	switch {
	case a.Join != nil && len(pr.in[a.ID]) > 1: // a join of one transition joins nothing
		join, line = a.Join.Type, a.Join.Line
	case a.Kind == kindRoute && len(pr.in[a.ID]) > 1:
		join = a.Gateway
	}
	if join != "" && join != "XOR" {
		s.unmapped(line, actName(a), "%s join: no phone equivalent; passed through once each branch has run in turn", describeGateway(join))
	}
}

// systemOnly reports whether an activity with no form is done by the
// system alone (Together's "start" activity): no screen.
func (s *service) systemOnly(pr *Process, a *Activity) bool {
	if a.How != "No" || len(a.Performers) == 0 {
		return false
	}
	for _, p := range a.Performers {
		pt := pr.participant(p)
		if pt == nil || !strings.EqualFold(pt.Type, "SYSTEM") {
			return false
		}
	}
	return true
}

// reportLink reports a link event: a jump within the process, followed when
// the process catches it.
func (s *service) reportLink(sc *scope, a *Activity) {
	if len(sc.proc.out[a.ID]) > 0 {
		if len(sc.proc.in[a.ID]) == 0 {
			s.unmapped(a.Line, actName(a), "catches link %q thrown elsewhere: no phone equivalent; the flow starts or goes on here", a.LinkName)
		}
		return
	}
	for _, c := range sc.proc.Activities {
		if c != a && c.Kind == kindIntermediate && c.LinkName == a.LinkName && len(sc.proc.out[c.ID]) > 0 {
			s.unmapped(a.Line, actName(a), "throws link %q: followed to %s", a.LinkName, actName(c))
			return
		}
	}
	s.unmapped(a.Line, actName(a), "throws link %q, which nothing in this process catches: the flow ends here", a.LinkName)
}

// endEvent maps an end event: an end screen with its name (or our thank
// you when it has none worth showing), or the way out of a copied
// sub-process.
func (s *service) endEvent(sc *scope, a *Activity) string {
	if r := a.Trigger; r != "" && !strings.EqualFold(r, "None") {
		s.unmapped(a.Line, actName(a), "end event with result %s: no phone equivalent; an end screen", r)
	}
	if sc.exit != nil {
		t := sc.exit()
		sc.memo[a.ID] = t
		return t
	}
	base := "end"
	named := firstNonEmpty(a.Label[""], a.Label["fr"], a.Label["en"]) != "" && !editorDefault(firstNonEmpty(a.Label[""], a.Label["fr"], a.Label["en"]))
	if named {
		base = firstNonEmpty(slug(firstNonEmpty(a.Label[""], a.Label["fr"]), 30), "end")
	}
	n := s.newNode(sc.prefixed(base), menus.KindEnd, a.Line, actName(a))
	sc.memo[a.ID] = n.name
	if named {
		n.text = s.screenText(a.Label, a.ID)
	} else {
		n.text = endText()
	}
	return n.name
}

// editorDefault reports whether an event's name is one an editor gives by
// default ("EndEvent1", "End Event", "Fin"): nothing to show a caller.
func editorDefault(name string) bool {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '_' || r == '-' || r >= '0' && r <= '9' {
			return -1
		}
		return unicode.ToLower(r)
	}, name)
	switch s {
	case "endevent", "end", "fin", "finish", "stop":
		return true
	}
	return false
}

// manual maps an activity a person does: a screen per field it updates,
// or one screen that shows the step when it updates none.
func (s *service) manual(sc *scope, a *Activity) string {
	fields := s.updatedFields(sc, a)
	head := s.screenText(a.Label, a.ID)
	if len(fields) == 0 {
		n := s.newNode(sc.prefixed(firstNonEmpty(slug(firstNonEmpty(a.Label[""], a.Label["fr"]), 30), "step")), menus.KindMenu, a.Line, actName(a))
		sc.memo[a.ID] = n.name
		n.text = head
		n.options = []option{{label: both("Continuer", "Continue")}}
		s.review(a.Line, actName(a), "%s with no data field to fill: a screen that shows the step, with 1 to continue (node %s)", describeImplementation(a), n.name)
		n.options[0].next = s.after(sc, a)
		return n.name
	}
	nodes := make([]*node, len(fields))
	for i, f := range fields {
		kind := menus.KindInput
		switch {
		case f.Type == "BOOLEAN":
			kind = menus.KindConfirm
		case f.Type == "ENUM" && len(f.Enum) > 0:
			kind = menus.KindMenu
		}
		nodes[i] = s.newNode(sc.prefixed(slug(f.ID, 30)), kind, a.Line, actName(a)+", field "+f.ID)
	}
	sc.memo[a.ID] = nodes[0].name
	for i, f := range fields {
		n := nodes[i]
		prompt := s.screenText(f.Label, f.ID)
		if i == 0 {
			prompt = joinTexts("\n", head, prompt)
		}
		s.askField(n, f, prompt, a)
		if i+1 < len(fields) {
			next := nodes[i+1].name
			n.next, n.yes, n.no = next, next, next
			for j := range n.options {
				n.options[j].next = next
			}
		}
	}
	last, f := nodes[len(nodes)-1], fields[len(fields)-1]
	if (last.kind == menus.KindConfirm || last.kind == menus.KindMenu) && s.branchOnAnswer(sc, a, f, last) {
		return nodes[0].name
	}
	next := s.after(sc, a)
	last.next, last.yes, last.no = next, next, next
	for j := range last.options {
		last.options[j].next = next
	}
	return nodes[0].name
}

// describeImplementation says, for the report, how a manual activity is
// implemented.
func describeImplementation(a *Activity) string {
	switch a.How {
	case "":
		return "task with no Implementation"
	case "Task":
		return "task of no stated kind (<Task/>)"
	case "No":
		return "manual task (Implementation No)"
	}
	return "manual task (" + a.How + ")"
}

// auto maps an automatic activity: a call to an adapter operation per
// application.
func (s *service) auto(sc *scope, a *Activity) string {
	nodes := make([]*node, len(a.Tools))
	for i := range a.Tools {
		base := firstNonEmpty(slug(firstNonEmpty(a.Label[""], a.Label["fr"]), 30), "action")
		nodes[i] = s.newNode(sc.prefixed(base), menus.KindAction, a.Tools[i].Line, actName(a))
	}
	sc.memo[a.ID] = nodes[0].name
	for i, t := range a.Tools {
		n := nodes[i]
		n.action, n.args = s.operation(sc, a, t)
		if n.action == "cases.open" {
			// The case is open: what follows is its life cycle.
			n.next = s.done(a)
			s.seeds = append(s.seeds, seed{proc: sc.proc, act: a})
			s.review(t.Line, actName(a), "opens a case (cases.open): the call ends there, and the steps after it become the case's statuses")
			return nodes[0].name
		}
		if i+1 < len(nodes) {
			n.next = nodes[i+1].name
		}
	}
	nodes[len(nodes)-1].next = s.after(sc, a)
	return nodes[0].name
}

// operation names the operation an application becomes, with its
// arguments: the fields collected on the phone and quoted values.
func (s *service) operation(sc *scope, a *Activity, t Tool) (string, map[string]string) {
	where := actName(a)
	var app *Application
	if t.App != "" {
		app = sc.proc.app(t.App)
	}
	op := s.operationName(sc.proc, a, t)
	if t.App != "" && app == nil {
		s.review(t.Line, where, "application %q is not declared in the file", t.App)
	}
	if t.Kind == "TaskScript" {
		s.unmapped(t.Line, where, "script task: its script is not run; the action calls operation %q instead", op)
	}
	var args map[string]string
	var unkept []string
	for i, actual := range t.Params {
		var formal Param
		if app != nil && i < len(app.Params) {
			formal = app.Params[i]
		}
		if formal.Mode == "OUT" {
			continue // a result, not an argument
		}
		key := slug(firstNonEmpty(formal.ID, actual), 40)
		if key == "" {
			key = "arg" + strconv.Itoa(i+1)
		}
		if v, ok := unquote(actual); ok {
			if args == nil {
				args = map[string]string{}
			}
			args[key] = sms.ToGSM7(v)
			continue
		}
		if f := sc.proc.field(actual); f != nil {
			if v := s.saved[f.ID]; v != "" {
				if args == nil {
					args = map[string]string{}
				}
				args[key] = "{{" + v + "}}"
			} else {
				unkept = append(unkept, actual)
			}
			continue
		}
		if actual != "" {
			s.unmapped(t.Line, where, "argument %s is an expression (%s): not evaluated, left out", key, shorten(actual, 60))
		}
	}
	if len(unkept) > 0 {
		s.review(t.Line, where, "arguments left out of operation %q, fields that no screen keeps: %s", op, strings.Join(unkept, ", "))
	}
	return op, args
}

// describeTools names an activity's applications for the report.
func describeTools(pr *Process, a *Activity) string {
	var names []string
	for _, t := range a.Tools {
		names = append(names, firstNonEmpty(t.App, t.Op, t.Kind))
	}
	return strings.Join(names, ", ")
}

// operationName is the operation an application becomes: the one --map
// gives it, else one named after it.
func (s *service) operationName(pr *Process, a *Activity, t Tool) string {
	name := t.App
	if name == "" {
		name = firstNonEmpty(t.Op, a.ID)
	}
	op := opName(name)
	if op == "" {
		op = slug(firstNonEmpty(a.Label[""], a.ID), 30)
	}
	for _, k := range []string{name, op} {
		if to, ok := s.imp.opts.Map[k]; ok {
			return to
		}
	}
	return op
}

// subflow maps a call to another process: a link to its service when
// nothing follows the call; a copy of its screens otherwise, since the menu
// language cannot come back from another service.
func (s *service) subflow(sc *scope, a *Activity) string {
	called := s.imp.procs[a.SubFlow.Process]
	where := actName(a)
	if called == nil || len(called.Activities) == 0 {
		s.unmapped(a.SubFlow.Line, where, "calls process %q, which is not in this file (or has no activities): left out; the flow goes straight on", a.SubFlow.Process)
		return s.passThrough(sc, a)
	}
	id := s.imp.ids[called.ID]
	if strings.EqualFold(a.SubFlow.Execution, "ASYNCHR") {
		s.review(a.SubFlow.Line, where, "asynchronous sub-process: on the phone the caller goes through it")
	}
	recursive := called.ID == s.proc.ID || slices.Contains(sc.chain, called.ID)
	if sc.exit == nil && s.nothingFollows(sc, a) {
		s.review(a.SubFlow.Line, where, "calls %q last: a link to its service @%s", called.ID, id)
		sc.memo[a.ID] = "@" + id
		return "@" + id
	}
	if recursive || len(sc.chain) >= maxInline || s.full || len(s.nodes) > maxNodes {
		if !recursive && !s.full {
			s.full = true
			s.unmapped(a.SubFlow.Line, where, "too many sub-processes to copy: linked to @%s instead; the caller does not come back", id)
		} else if recursive {
			s.unmapped(a.SubFlow.Line, where, "calls %q, which is already running (recursion): a link to @%s; the caller does not come back from it", called.ID, id)
		}
		sc.memo[a.ID] = "@" + id
		return "@" + id
	}
	prefix := sc.prefix + firstNonEmpty(slug(firstNonEmpty(called.Label[""], called.Label["fr"], called.ID), 10), "sub") + "-"
	s.review(a.SubFlow.Line, where, "calls %q and goes on after it: its screens are copied here (nodes %s…), since the menu language cannot come back from another service",
		called.ID, prefix)
	if len(a.SubFlow.Params) > 0 {
		s.review(a.SubFlow.Line, where, "the values passed to %q (%s) are not mapped: its screens ask for their own fields", called.ID, strings.Join(a.SubFlow.Params, ", "))
	}
	child := newScope(called)
	child.prefix = prefix
	child.chain = append(slices.Clone(sc.chain), called.ID)
	exit := ""
	done := false
	child.exit = func() string {
		if !done {
			done = true
			exit = s.after(sc, a)
		}
		return exit
	}
	start := s.startActivity(called, false)
	t := s.entry(child, start)
	sc.memo[a.ID] = t
	return t
}
