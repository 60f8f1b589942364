// The case's life cycle: where the workflow leaves the citizen's hands
// the call ends with cases.open, and the back office's steps become the
// service's statuses, each transition an allowed move, each end event a
// final status, each status with its SMS.

package xpdl

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/guichet/guichet/menus"
)

// seed is where the life cycle starts: activity act of proc, itself a
// status when self, else the steps after it.
type seed struct {
	proc *Process
	act  *Activity
	self bool
}

// status is one status of the life cycle.
type status struct {
	name  string
	label menus.Text
	next  []string
	sms   menus.Text
	line  int
	from  string
}

// handOff enters activity a, which the citizen does not do: the call
// ends with cases.open, and a starts the case's life cycle.
func (s *service) handOff(sc *scope, a *Activity) string {
	s.seeds = append(s.seeds, seed{proc: sc.proc, act: a, self: true})
	t := s.done(a)
	sc.memo[a.ID] = t
	return t
}

// done is the node that opens the case, then tells the caller its
// reference, shared by every way out of the citizen's hands.
func (s *service) done(a *Activity) string {
	if s.submit != "" {
		return s.submit
	}
	n := s.newNode("submit", menus.KindAction, a.Line, actName(a)+": the request leaves the citizen's hands")
	n.action = "cases.open" // its args, once the screens are known: caseData
	end := s.newNode("done", menus.KindEnd, a.Line, actName(a)+": the case is open")
	end.text = both("Dossier {{ref}} enregistré. Vous recevrez un SMS à chaque étape."+s.trackHint("fr"),
		"Case {{ref}} recorded. You will get an SMS at each step."+s.trackHint("en"))
	n.next = end.name
	s.submit = n.name
	return n.name
}

// caseData gives the node that opens the case what the screens asked:
// the case's data, for staff.
func (s *service) caseData() {
	n := s.byName[s.submit]
	if n == nil {
		return
	}
	for id := range s.onScreen {
		if v := s.saved[id]; v != "" {
			if n.args == nil {
				n.args = map[string]string{}
			}
			n.args[v] = "{{" + v + "}}"
		}
	}
}

// trackHint is how the caller tracks the case from the catalogue's
// tracking shortcut, when it has one.
func (s *service) trackHint(lang string) string {
	cat := s.imp.opts.Catalogue
	if cat == nil {
		return ""
	}
	keys := slices.Sorted(maps.Keys(cat.Shortcuts))
	slices.SortStableFunc(keys, func(a, b string) int { return len(a) - len(b) }) // the shortest to dial
	for _, key := range keys {
		if svc, _, _ := strings.Cut(cat.Shortcuts[key], "/"); svc == "track" {
			code := strings.TrimSuffix(cat.Code, "#")
			if lang == "fr" {
				return " Suivi: " + code + "*" + key + "*{{ref}}#"
			}
			return " Track: " + code + "*" + key + "*{{ref}}#"
		}
	}
	return ""
}

// stage is an activity of the life cycle.
type stage struct {
	proc *Process
	act  *Activity
}

// lifeCycle makes the statuses from the seeds: each step a person or the
// system does after the hand-off, and each end event, reached through
// gateways and events, which are not statuses.
func (s *service) lifeCycle() {
	if len(s.seeds) == 0 {
		return
	}
	s.caseData()
	names := map[stage]string{}
	var order []stage
	// received is the first status; the service's other messages are
	// named like these, and a status's SMS is named after it.
	taken := map[string]bool{"received": true, "opened": true, "moved": true, "booked": true, "reminder": true, "callback": true}
	ends := "" // the status of the end events with no name of their own
	nameOf := func(st stage) string {
		if n, ok := names[st]; ok {
			return n
		}
		if l := firstNonEmpty(st.act.Label[""], st.act.Label["fr"], st.act.Label["en"]); st.act.Kind == kindEnd && ends != "" && (l == "" || editorDefault(l)) {
			names[st] = ends
			return ends
		}
		name := firstNonEmpty(st.act.Label[""], st.act.Label["fr"], st.act.Label["en"])
		base := slug(name, 30)
		if st.act.Kind == kindEnd && len([]rune(name)) > 40 {
			base = "done" // its label is "done"; the name is its SMS
		}
		if base == "" || !menus.ValidName(base) {
			base = "step"
			if st.act.Kind == kindEnd {
				base = "done"
			}
		}
		n := base
		for i := 2; taken[n]; i++ {
			n = base + "_" + strconv.Itoa(i)
		}
		taken[n] = true
		names[st] = n
		order = append(order, st)
		if l := firstNonEmpty(st.act.Label[""], st.act.Label["fr"], st.act.Label["en"]); st.act.Kind == kindEnd && (l == "" || editorDefault(l)) {
			ends = n
		}
		return n
	}
	// next lists the statuses reached from the steps after st (or st
	// itself when self), through what is not a status.
	next := func(from []stage) []string {
		var out []string
		seen := map[stage]bool{}
		queue := from
		for len(queue) > 0 {
			st := queue[0]
			queue = queue[1:]
			if st.act == nil || seen[st] {
				continue
			}
			seen[st] = true
			s.visited[st.act] = true
			if s.isStatus(st) {
				if n := nameOf(st); !slices.Contains(out, n) {
					out = append(out, n)
				}
				continue
			}
			queue = append(queue, s.successors(st)...)
		}
		return out
	}
	var first []stage
	for _, sd := range s.seeds {
		if sd.self {
			first = append(first, stage{sd.proc, sd.act})
		} else {
			first = append(first, s.successors(stage{sd.proc, sd.act})...)
		}
	}
	received := &status{name: "received", label: both("Déposé", "Received"), next: next(first), line: s.seeds[0].act.Line,
		from: actName(s.seeds[0].act) + ": the case is opened"}
	s.statuses = []*status{received}
	for i := 0; i < len(order); i++ { // order grows as next names statuses
		st := order[i]
		s.visited[st.act] = true
		label := s.statusLabel(st.act)
		said := label // the SMS says the whole name, the label its first 40 characters
		if name := firstNonEmpty(st.act.Label[""], st.act.Label["fr"], st.act.Label["en"]); name != "" && !editorDefault(name) {
			said = s.screenText(st.act.Label, st.act.ID)
		}
		sms := joinTexts(" ", both("Dossier {{ref}}:", "Case {{ref}}:"), sentence(said))
		if d := strings.TrimSpace(st.act.Description); d != "" {
			sms = joinTexts(" ", sms, s.screenText(Label{"": sentence1(shorten(clean(d), 100))}, ""))
		}
		s.statuses = append(s.statuses, &status{name: names[st], label: label, sms: sms,
			next: next(s.successors(st)), line: st.act.Line, from: actName(st.act)})
	}
	var moves []string
	for _, st := range s.statuses {
		for _, n := range st.next {
			moves = append(moves, st.name+" → "+n)
		}
	}
	s.review(s.seeds[0].act.Line, actName(s.seeds[0].act),
		"the steps from here on are not the caller's: the call ends with cases.open, and they become %d statuses for staff to move the case through (%s), each with its SMS",
		len(s.statuses), shorten(strings.Join(moves, ", "), 300))
}

// sentence ends each text with a full stop unless it has one.
func sentence(t menus.Text) menus.Text {
	out := menus.Text{}
	for k, v := range t {
		out[k] = sentence1(v)
	}
	return out
}

func sentence1(s string) string {
	if r, _ := utf8.DecodeLastRuneInString(s); s == "" || strings.ContainsRune(".!?…", r) {
		return s
	}
	return s + "."
}

// isStatus reports whether an activity of the life cycle is a status: a
// step someone does, or an end; gateways, events and automatic steps are
// passed through.
//
// isStatus is that test.
func (s *service) isStatus(st stage) bool {
	switch st.act.Kind {
	case kindManual, kindSubFlow, kindEnd:
		return true
	case kindAuto:
		// A person's work through an application; the systems' own
		// steps are passed through.
		r := s.imp.roleOf(st.proc, st.act)
		return r.key != "" && !r.system
	}
	return false
}

// successors are the activities after st: by its transitions (exception
// paths included: staff take them), and by its messages to another pool;
// an event that waits for a message is reached by the message only.
func (s *service) successors(st stage) []stage {
	var out []stage
	for _, t := range st.proc.out[st.act.ID] {
		a := st.proc.acts[t.To]
		if a == nil || a.Kind == kindIntermediate && s.imp.diagram.awaited[a.ID] {
			continue // a wait for another pool's message: reached by that message
		}
		out = append(out, stage{st.proc, a})
	}
	for _, f := range s.imp.diagram.flowsFrom[st.act.ID] {
		if pr := s.imp.diagram.owner[f.Target]; pr != nil {
			out = append(out, stage{pr, pr.acts[f.Target]})
		}
	}
	return out
}

// statusLabel is the label of an activity's status: its name, short
// enough for the screens that show it; an end event's name, or "done".
func (s *service) statusLabel(a *Activity) menus.Text {
	name := firstNonEmpty(a.Label[""], a.Label["fr"], a.Label["en"])
	if a.Kind == kindEnd && (name == "" || editorDefault(name) || len([]rune(name)) > 40) {
		return both("Terminé", "Completed") // a long name is a message: the SMS says it
	}
	if name == "" {
		return both("En cours", "In progress")
	}
	l := Label{}
	for k, v := range a.Label {
		l[k] = shorten(v, 40)
	}
	return s.screenText(l, a.ID)
}
