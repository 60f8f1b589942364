// The case's life cycle: where the workflow leaves the citizen's hands
// the call ends with cases.open, and the back office's steps become the
// service's statuses, each transition an allowed move, each end event a
// final status, each status with its SMS.

package xpdl

import (
	"slices"
	"strconv"
	"strings"

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
	n.action = "cases.open"
	n.args = map[string]string{}
	for _, v := range s.saved {
		n.args[v] = "{{" + v + "}}"
	}
	end := s.newNode("done", menus.KindEnd, a.Line, actName(a)+": the case is open")
	end.text = both("Dossier {{ref}} enregistré. Vous recevrez un SMS à chaque étape."+s.trackHint("fr"),
		"Case {{ref}} recorded. You will get an SMS at each step."+s.trackHint("en"))
	n.next = end.name
	s.submit = n.name
	return n.name
}

// trackHint is how the caller tracks the case from the catalogue's
// tracking shortcut, when it has one.
func (s *service) trackHint(lang string) string {
	cat := s.imp.opts.Catalogue
	if cat == nil {
		return ""
	}
	for key, target := range cat.Shortcuts {
		if svc, _, _ := strings.Cut(target, "/"); svc == "track" {
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
	names := map[stage]string{}
	var order []stage
	taken := map[string]bool{"received": true}
	nameOf := func(st stage) string {
		if n, ok := names[st]; ok {
			return n
		}
		base := slug(firstNonEmpty(st.act.Label[""], st.act.Label["fr"], st.act.Label["en"]), 30)
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
			if isStatus(st.act) {
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
		sms := joinTexts(" ", both("Dossier {{ref}}:", "Case {{ref}}:"), label)
		if d := strings.TrimSpace(st.act.Description); d != "" {
			sms = joinTexts(" ", sms, s.screenText(Label{"": shorten(clean(d), 100)}, ""))
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

// isStatus reports whether an activity of the life cycle is a status: a
// step someone does, or an end; gateways and events are passed through.
func isStatus(a *Activity) bool {
	switch a.Kind {
	case kindManual, kindAuto, kindSubFlow, kindEnd:
		return true
	}
	return false
}

// successors are the activities after st: by its transitions (exception
// paths included: staff take them), and by its messages to another pool.
func (s *service) successors(st stage) []stage {
	var out []stage
	for _, t := range st.proc.out[st.act.ID] {
		if a := st.proc.acts[t.To]; a != nil {
			out = append(out, stage{st.proc, a})
		}
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
	if a.Kind == kindEnd && (name == "" || editorDefault(name)) {
		return both("Terminé", "Completed")
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
