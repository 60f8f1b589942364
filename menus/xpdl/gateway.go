// Mapping splits: exclusive ones to menus (or straight to the answers of
// the screen before them), parallel ones to their branches in turn.

package xpdl

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/guichet/guichet/menus"
)

// splitType tells how a splits, reporting what it assumes.
func (s *service) splitType(a *Activity, outs []*Transition) string {
	switch {
	case a.Split != nil && a.Split.Type != "":
		return a.Split.Type
	case a.Kind == kindRoute && a.Gateway != "":
		return a.Gateway
	case a.Kind == kindRoute:
		s.review(a.Line, actName(a), "gateway with no type: taken as exclusive (one branch), as XPDL 2 has it")
		return "XOR"
	}
	for _, t := range outs {
		if t.CondType != "" {
			s.review(a.Line, actName(a), "several transitions with conditions but no split: taken as an exclusive split")
			return "XOR"
		}
	}
	s.review(a.Line, actName(a), "several transitions without conditions or split: taken as a parallel split")
	return "AND"
}

// describeGateway names a gateway type for the report.
func describeGateway(t string) string {
	switch t {
	case "AND":
		return "parallel (AND)"
	case "OR":
		return "inclusive (OR)"
	case "Complex":
		return "complex"
	case "Event":
		return "event-based"
	case "XOR":
		return "exclusive (XOR)"
	}
	return "unknown (" + strings.TrimPrefix(t, "?") + ")"
}

// choice maps an exclusive (or inclusive, complex, event-based) split: a
// menu whose options are the transitions; the caller chooses, since the
// menu language cannot test a variable.
func (s *service) choice(sc *scope, a *Activity, outs []*Transition, typ string) string {
	line := a.Line
	if a.Split != nil {
		line = a.Split.Line
	}
	if typ == "XOR" {
		// Decided by what the back office learns: staff take the branch,
		// once the case is open.
		// Conditions left unwritten say nothing of who decides: the
		// caller does when the file says who the caller is.
		if what := s.decidedOffPhone(sc, a, outs); what != "" && what != "no condition" &&
			(what != unwrittenConditions || s.citizen.key == "") {
			s.seeds = append(s.seeds, seed{proc: sc.proc, act: a})
			s.review(line, actName(a), "the workflow decides this branch from %s, which the caller is not asked: the call ends with cases.open here, and staff take the branch as they move the case", what)
			t := s.done(a)
			sc.memo[a.ID] = t
			return t
		}
	}
	header, named := s.choiceHeader(sc, a)
	base := "choice"
	if name := slug(firstNonEmpty(a.Label[""], a.Label["fr"]), 28); name != "" && a.Kind == kindRoute {
		base = name
	} else if name := slug(header["fr"], 28); name != "" && named {
		base = name + "_choice"
	}
	n := s.newNode(sc.prefixed(base), menus.KindMenu, line, actName(a))
	if a.Kind == kindRoute || sc.passing[a.ID] {
		sc.memo[a.ID] = n.name // a has no screen but this one: loops come back here
	}
	switch typ {
	case "XOR":
		if what := s.decidedOffPhone(sc, a, outs); what == "no condition" || what == unwrittenConditions {
			s.review(line, actName(a), "%s decide this branch: the caller chooses (node %s); if staff decide it instead, end the call with cases.open before it and make its branches statuses",
				strings.Replace(what, "no condition", "no conditions", 1), n.name)
		}
	case "OR", "Complex":
		s.unmapped(line, actName(a), "%s split: the caller takes one branch, where XPDL may take several", describeGateway(typ))
	case "Event":
		s.unmapped(line, actName(a), "event-based split: the caller says which event happened")
	default:
		s.unmapped(line, actName(a), "split of unknown type %q: the caller chooses one branch", strings.TrimPrefix(typ, "?"))
	}
	n.text = header
	labels := s.optionLabels(sc, outs)
	n.options = make([]option, len(outs))
	for i := range outs {
		n.options[i].label = labels[i]
	}
	for i, t := range outs {
		if t.CondType == "CONDITION" && t.Cond != "" {
			lang := firstNonEmpty(scriptName(t.Grammar), s.imp.pkg.script())
			if lang != "" {
				lang = " (" + lang + ")"
			}
			s.unmapped(firstPositive(t.CondLine, t.Line), elemName("Transition", t.ID, t.Label),
				"condition %s%s is not evaluated (the menu language has no test on a variable): the caller chooses it, option %d of node %s",
				shortCode(t.Cond), lang, i+1, n.name)
		}
		n.options[i].next = s.entry(sc, sc.proc.acts[t.To])
	}
	return n.name
}

// choiceHeader is a split's question: the gateway's name, else the name of
// the one activity before it, else a word of our own.
func (s *service) choiceHeader(sc *scope, a *Activity) (menus.Text, bool) {
	if firstNonEmpty(a.Label[""], a.Label["fr"], a.Label["en"]) != "" {
		return s.screenText(a.Label, a.ID), true
	}
	if in := sc.proc.in[a.ID]; len(in) == 1 {
		if p := sc.proc.acts[in[0].From]; p != nil && firstNonEmpty(p.Label[""], p.Label["fr"]) != "" {
			return s.screenText(p.Label, p.ID), true
		}
	}
	return both("Choisissez", "Choose"), false
}

// optionLabels names a split's options: the transitions' names when they
// say something (not "Transition", not twice the same), else the names of
// the activities they lead to.
func (s *service) optionLabels(sc *scope, outs []*Transition) []menus.Text {
	count := map[string]int{}
	for _, t := range outs {
		count[strings.ToLower(firstNonEmpty(t.Label[""], t.Label["fr"]))]++
	}
	out := make([]menus.Text, len(outs))
	for i, t := range outs {
		name := firstNonEmpty(t.Label[""], t.Label["fr"], t.Label["en"])
		key := strings.ToLower(firstNonEmpty(t.Label[""], t.Label["fr"]))
		switch {
		case readable(name, t.ID) && count[key] <= 1:
			out[i] = s.screenText(t.Label, "")
		case conditionValue(t) != nil:
			out[i] = conditionValue(t)
			if v, ok := out[i][s.imp.lang]; ok && out[i]["fr"] == out[i]["en"] {
				out[i] = s.screenText(Label{"": v}, "") // a value the file compares, in its language
			}
		default:
			out[i] = s.targetLabel(sc, sc.proc.acts[t.To], i+1)
		}
	}
	return out
}

// readable reports whether a name can be read by a citizen: not empty,
// not an editor's default ("Transition 2", "Tool 1"), not an identifier
// (SalesReview_Pay, the element's id) and not code (status === "ok").
func readable(name, id string) bool {
	name = strings.TrimSpace(name)
	switch {
	case name == "" || name == id || defaultLabel(name):
		return false
	case strings.ContainsAny(name, "=<>(){}[]&|;\"$"):
		return false
	case !strings.Contains(name, " ") && (strings.Contains(name, "_") || camelCase(name)):
		return false
	}
	return true
}

// defaultLabel reports whether a name is one an editor gives by default.
func defaultLabel(name string) bool {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '_' || r == '-' || r >= '0' && r <= '9' {
			return -1
		}
		return unicode.ToLower(r)
	}, name)
	switch s {
	case "transition", "tool", "task", "activity", "activite", "gateway", "sequenceflow", "flow", "choice", "choix", "option", "route", "condition":
		return true
	}
	return false
}

// camelCase reports whether s mixes cases inside a word: registerCompany.
func camelCase(s string) bool {
	rs := []rune(s)
	for i := 1; i < len(rs); i++ {
		if unicode.IsLower(rs[i-1]) && unicode.IsUpper(rs[i]) {
			return true
		}
	}
	return false
}

// conditionValue is the option label a transition's condition gives: the
// value it compares (parseTest reads the simple tests), yes or no for a
// boolean, "other" for the otherwise branch; nil when it says nothing a
// citizen can read.
func conditionValue(t *Transition) menus.Text {
	if t.CondType == "OTHERWISE" {
		return both("Autre cas", "Other")
	}
	tt, ok := parseTest(strings.TrimSpace(t.Cond))
	switch {
	case !ok:
		return nil
	case tt.Value == "true" || tt.Value == "false":
		if (tt.Value == "true") != tt.Not {
			return both("Oui", "Yes")
		}
		return both("Non", "No")
	case tt.Not || !readable(tt.Value, ""):
		return nil // "anything but X" names no branch
	}
	return menus.Text{"fr": tt.Value, "en": tt.Value}
}

// targetLabel names the first named activity a transition leads to.
func (s *service) targetLabel(sc *scope, a *Activity, n int) menus.Text {
	for range 16 {
		if a == nil {
			break
		}
		if name := firstNonEmpty(a.Label[""], a.Label["fr"], a.Label["en"]); readable(name, a.ID) {
			return s.screenText(a.Label, a.ID)
		}
		if a.Kind == kindEnd {
			return both("Terminer", "Finish")
		}
		outs := sc.proc.out[a.ID]
		if len(outs) != 1 {
			break
		}
		a = sc.proc.acts[outs[0].To]
	}
	if a != nil {
		s.review(a.Line, actName(a), "option %d leads to nothing with a readable name: it reads \"Option %d\"; give the transition a Name", n, n)
	}
	return both("Option "+strconv.Itoa(n), "Option "+strconv.Itoa(n))
}

// decidedOffPhone says what an exclusive split decides its branch from
// when no phone screen asks for it: data that no screen collects (a
// back-office result, an application's OUT parameter), a timer or message
// that came before, or nothing at all; "" when its conditions test only
// answers.
func (s *service) decidedOffPhone(sc *scope, a *Activity, outs []*Transition) string {
	for _, w := range append([]*Activity{a}, s.predecessors(sc, a)...) {
		if w.Kind != kindIntermediate {
			continue
		}
		switch trig := strings.ToLower(w.Trigger); {
		case w.Event == "TaskReceive" || trig == "message":
			return "a message that comes after the call (" + actName(w) + ")"
		case trig == "timer":
			return "a timer that runs out after the call (" + actName(w) + ")"
		}
	}
	var what []string
	conditions, unwritten := 0, 0
	for _, t := range outs {
		if t.CondType == "CONDITION" && strings.TrimSpace(t.Cond) == "" {
			unwritten++ // the editor's condition, left for the engine's users to write
			continue
		}
		if t.CondType != "CONDITION" {
			continue
		}
		conditions++
		for _, id := range identifiers(t.Cond) {
			if s.onScreen[id] {
				continue // asked on the phone before the split
			}
			var d string
			switch f := sc.proc.field(id); {
			case f == nil:
				continue // a function or a keyword of the script
			case s.resultApp(sc.proc, id) != "":
				d = "the result " + id + " of application " + s.resultApp(sc.proc, id)
			default:
				d = "field " + id + " (no screen asks for it)"
			}
			if !slices.Contains(what, d) {
				what = append(what, d)
			}
		}
	}
	switch {
	case conditions == 0 && unwritten > 0:
		return unwrittenConditions
	case conditions == 0:
		return "no condition"
	case len(what) > 0:
		return strings.Join(what, ", ")
	}
	return ""
}

// unwrittenConditions is what decides a split whose conditions the file
// leaves empty.
const unwrittenConditions = "conditions the file leaves unwritten"

// resultApp names the application whose OUT parameter sets field id.
func (s *service) resultApp(pr *Process, id string) string {
	for _, a := range pr.Activities {
		for _, t := range a.Tools {
			app := pr.app(t.App)
			for i, actual := range t.Params {
				if actual == id && (app == nil || i < len(app.Params) && app.Params[i].Mode != "IN") {
					return firstNonEmpty(t.App, t.Op, a.ID)
				}
			}
		}
	}
	return ""
}

// branchOnAnswer wires the answers to a yes/no or menu screen straight to
// the branches of the exclusive split that follows it, when every
// condition of that split tests the field the screen asks for.
func (s *service) branchOnAnswer(sc *scope, a *Activity, f *DataField, n *node) bool {
	split, outs, ok := s.exclusiveSplitAfter(sc, a)
	if !ok {
		return false
	}
	to, ok := answerBranches(outs, f, answerValues(f))
	if !ok {
		return false
	}
	if sc.prefix == "" {
		s.visited[split] = true
	}
	if split != a {
		s.reportUnsupported(sc.proc, split)
	}
	targets := make([]string, len(to))
	for i, t := range to {
		targets[i] = s.entry(sc, sc.proc.acts[t.To])
	}
	if f.Type == "BOOLEAN" {
		n.yes, n.no = targets[0], targets[1]
	} else {
		for i := range n.options {
			n.options[i].next = targets[i]
		}
	}
	s.review(split.Line, elemName("Activity", split.ID, split.Label),
		"exclusive split on %s: its conditions test only the answer to node %s, which leads to the branches itself", f.ID, n.name)
	return true
}

// exclusiveSplitAfter finds the exclusive split right after a's screens:
// a's own split, or the gateway its one transition leads to; with the
// split's transitions. It finds none when the split is not exclusive or
// its flow goes on elsewhere (parallel branches in turn).
func (s *service) exclusiveSplitAfter(sc *scope, a *Activity) (*Activity, []*Transition, bool) {
	split, outs := a, s.outs(sc, a)
	if len(outs) == 1 {
		g := sc.proc.acts[outs[0].To]
		if g == nil || g.Kind != kindRoute || sc.redirect[a.ID] != nil {
			return nil, nil, false
		}
		split, outs = g, s.outs(sc, g)
	}
	if len(outs) < 2 || sc.redirect[split.ID] != nil {
		return nil, nil, false
	}
	typ := ""
	switch {
	case split.Split != nil && split.Split.Type != "":
		typ = split.Split.Type
	case split.Kind == kindRoute:
		typ = firstNonEmpty(split.Gateway, "XOR")
	}
	if typ != "XOR" {
		return nil, nil, false
	}
	return split, outs, true
}

// answerValues lists the answers a field's screen gives, in the order of
// its options: true and false for yes/no, the values of an enumeration.
func answerValues(f *DataField) []string {
	values := []string{"true", "false"}
	if f.Type == "ENUM" {
		values = nil
		for _, v := range f.Enum {
			values = append(values, v.Name)
		}
	}
	return values
}

// answerBranches gives the transition each answer takes: the one whose
// condition tests the field for it, else the otherwise one. It fails when
// a condition tests something else, when two conditions hold for one
// answer, or when an answer has no transition.
func answerBranches(outs []*Transition, f *DataField, values []string) ([]*Transition, bool) {
	to := make([]*Transition, len(values))
	var otherwise *Transition
	for _, t := range outs {
		switch {
		case t.CondType == "OTHERWISE" || t.CondType == "" && t.Cond == "":
			if otherwise != nil {
				return nil, false
			}
			otherwise = t
		case t.CondType == "CONDITION":
			ts, ok := parseTest(t.Cond)
			if !ok || ts.Field != f.ID {
				return nil, false
			}
			matched := false
			for i, v := range values {
				hit := strings.EqualFold(v, ts.Value)
				if f.Type == "BOOLEAN" && ts.Value != "true" && ts.Value != "false" {
					return nil, false
				}
				if hit != ts.Not {
					if to[i] != nil && to[i] != t {
						return nil, false // two branches for one answer
					}
					to[i] = t
					matched = true
				}
			}
			if !matched {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	for i := range to {
		if to[i] == nil {
			if otherwise == nil {
				return nil, false
			}
			to[i] = otherwise
		}
	}
	return to, true
}

// parallel maps a parallel split: the caller goes through the branches one
// after the other, when they are chains that meet at one join; else only
// the first branch is kept.
func (s *service) parallel(sc *scope, a *Activity, outs []*Transition) string {
	line := a.Line
	if a.Split != nil {
		line = a.Split.Line
	}
	branches, join, ok := parallelChains(sc, a, outs)
	if !ok || join == nil {
		first := sc.proc.acts[outs[0].To]
		var names []string
		for _, t := range outs[1:] {
			names = append(names, strconv.Quote(t.To))
		}
		s.unmapped(line, actName(a), "parallel (AND) split whose branches do not meet at one join: the caller follows only the first branch (to %q); the others (%s) are not imported",
			outs[0].To, strings.Join(names, ", "))
		return s.entry(sc, first)
	}
	var names []string
	for i, b := range branches {
		names = append(names, strconv.Quote(firstNonEmpty(b.first.Label[""], b.first.ID)))
		if i+1 < len(branches) {
			sc.redirect[b.last.ID] = branches[i+1].first
		} else {
			sc.redirect[b.last.ID] = join
		}
	}
	s.unmapped(line, actName(a), "parallel (AND) split: no phone equivalent; the caller goes through the branches one after the other: %s", strings.Join(names, ", then "))
	if len(branches) == 0 {
		return s.entry(sc, join)
	}
	return s.entry(sc, branches[0].first)
}

// parallelBranch is a branch of a parallel split: a chain of activities,
// one transition in and one out each.
type parallelBranch struct{ first, last *Activity }

// parallelChains follows each transition out of parallel split a along a
// chain of activities to the join where they all meet, and returns the
// chains that have activities and the join. It fails (ok false) when a
// branch comes back to a, leads nowhere, or meets the others at no one
// join.
func parallelChains(sc *scope, a *Activity, outs []*Transition) (branches []parallelBranch, join *Activity, ok bool) {
	ok = true
	for _, t := range outs {
		cur := sc.proc.acts[t.To]
		var b parallelBranch
		for range len(sc.proc.Activities) + 1 {
			if cur == a {
				ok = false
				break
			}
			if len(sc.proc.in[cur.ID]) != 1 || len(sc.proc.out[cur.ID]) != 1 || cur.Split != nil ||
				cur.Kind == kindRoute || cur.Kind == kindEnd {
				break
			}
			if b.first == nil {
				b.first = cur
			}
			b.last = cur
			cur = sc.proc.acts[sc.proc.out[cur.ID][0].To]
			if cur == nil {
				ok = false
				break
			}
		}
		if !ok || cur == nil || cur == a || (join != nil && cur != join) || cur.Kind == kindEnd && len(sc.proc.in[cur.ID]) < 2 {
			ok = false
			break
		}
		join = cur
		if b.first != nil {
			branches = append(branches, b)
		}
	}
	return branches, join, ok
}
