// Following the flow of a process: scopes and nodes, the names of nodes,
// where a process starts and where the flow goes after an activity.

package xpdl

import (
	"strconv"
	"strings"

	"github.com/guichet/guichet/menus"
)

// scope is a process being mapped, on its own or copied into a caller.
type scope struct {
	proc     *Process
	prefix   string               // of node names, for a copied sub-process
	exit     func() string        // where its end events lead, when copied
	chain    []string             // the processes being copied, outermost first
	memo     map[string]string    // activity id → the target that enters it
	passing  map[string]bool      // activities being passed through (loops)
	redirect map[string]*Activity // activity → the one its flow goes on to (parallel branches in turn)
}

// newScope is the scope of process pr mapped on its own.
func newScope(pr *Process) *scope {
	return &scope{proc: pr, memo: map[string]string{}, passing: map[string]bool{}, redirect: map[string]*Activity{}}
}

// maxNodes bounds a service: sub-processes are linked, not copied, past it.
const maxNodes = 500

// maxInline bounds how deep sub-processes are copied into their callers.
const maxInline = 6

// node is a node of the menu language, with where it comes from.
type node struct {
	name    string
	kind    string
	text    menus.Text
	options []option
	input   *menus.Input
	action  string
	args    map[string]string
	next    string
	yes, no string
	// from says which XPDL element the node comes from, for the report
	// and the comment above it.
	from     string
	fromLine int
}

// option is one option of a menu node.
type option struct {
	label menus.Text
	next  string
}

// newNode adds a node named after base, made unique.
func (s *service) newNode(base, kind string, line int, from string) *node {
	base = strings.Trim(base, "_-")
	if base == "" {
		base = "step"
	}
	if len(base) > 36 {
		base = strings.TrimRight(base[:36], "_-")
	}
	name := base
	// The suffixes of a base are tried from where the last one stopped:
	// starting from 2 each time made thousands of unnamed steps quadratic.
	i := max(s.suffix[base], 2)
	for ; s.byName[name] != nil; i++ {
		suffix := "_" + strconv.Itoa(i)
		name = base[:min(len(base), 40-len(suffix))] + suffix
	}
	s.suffix[base] = i
	n := &node{name: name, kind: kind, fromLine: line, from: from}
	s.nodes = append(s.nodes, n)
	s.byName[name] = n
	return n
}

// prefixed is the base of a node's name in a scope: base, after the
// prefix of the sub-process copies it is in.
func (sc *scope) prefixed(base string) string {
	if sc.prefix == "" {
		return base
	}
	p := sc.prefix
	if len(p) > 22 {
		p = p[len(p)-22:] // the innermost copies say most
	}
	return strings.TrimLeft(p, "_-") + base
}

// startActivity picks where the process starts: its first start event,
// else its first activity that nothing leads to, else its first activity.
// It reports its guess when report is set (not for a copied process,
// whose own service reports it).
func (s *service) startActivity(pr *Process, report bool) *Activity {
	var starts, roots []*Activity
	for _, a := range pr.Activities {
		if a.Kind == kindStart {
			starts = append(starts, a)
		}
		if len(pr.in[a.ID]) == 0 && a.Target == "" && !(a.Kind == kindIntermediate && a.LinkName != "" && s.linkThrown(pr, a)) {
			roots = append(roots, a)
		}
	}
	var first *Activity
	switch {
	case len(starts) > 0:
		first = starts[0]
	case len(roots) > 0:
		first = roots[0]
		if report {
			s.review(first.Line, elemName("Activity", first.ID, first.Label),
				"no start event: the service starts here, the first activity that no transition leads to")
		}
	default:
		first = pr.Activities[0]
		if report {
			s.review(first.Line, elemName("Activity", first.ID, first.Label),
				"no start event and every activity has a transition to it: the service starts at the first one")
		}
	}
	return first
}

// linkThrown reports whether a link event catches a link that another
// throws.
func (s *service) linkThrown(pr *Process, catch *Activity) bool {
	for _, a := range pr.Activities {
		if a != catch && a.Kind == kindIntermediate && a.LinkName == catch.LinkName && len(pr.out[a.ID]) == 0 {
			return true
		}
	}
	return false
}

// outs returns the transitions out of a, in the order its split lists
// them, less the exception paths and those to no activity (reportUnsupported
// reports them when a is entered).
func (s *service) outs(sc *scope, a *Activity) []*Transition {
	all := sc.proc.out[a.ID]
	if a.Split != nil && len(a.Split.Refs) > 0 {
		// Sets and an index, not searches in loops: a split may list tens
		// of thousands of transitions.
		byID := map[string][]*Transition{}
		for _, t := range all {
			byID[t.ID] = append(byID[t.ID], t)
		}
		ordered := make([]*Transition, 0, len(all))
		in := map[*Transition]bool{}
		for _, ref := range a.Split.Refs {
			for _, t := range byID[ref] {
				if !in[t] {
					in[t] = true
					ordered = append(ordered, t)
				}
			}
		}
		for _, t := range all {
			if !in[t] {
				ordered = append(ordered, t)
			}
		}
		all = ordered
	}
	var out []*Transition
	for _, t := range all {
		if t.CondType == "EXCEPTION" || t.CondType == "DEFAULTEXCEPTION" || sc.proc.acts[t.To] == nil {
			continue // reported by reportUnsupported
		}
		out = append(out, t)
	}
	return out
}

// passThrough enters an activity with no screen of its own: what follows it.
func (s *service) passThrough(sc *scope, a *Activity) string {
	pending := "\x00loop:" + sc.prefix + a.ID
	if sc.passing[a.ID] {
		// The flow comes back here before a's target is known (a
		// transition back into a gateway): a placeholder, resolved below.
		return pending
	}
	sc.passing[a.ID] = true
	t := s.after(sc, a)
	delete(sc.passing, a.ID)
	if t == pending {
		// A loop of activities with no screen: nothing for a caller.
		s.unmapped(a.Line, actName(a), "a loop with no screen in it: ended here")
		n := s.newNode(sc.prefixed("loop"), menus.KindEnd, a.Line, actName(a))
		n.text = endText()
		t = n.name
	}
	s.resolve(sc, pending, t)
	if m, ok := sc.memo[a.ID]; !ok || m == pending {
		sc.memo[a.ID] = t
	}
	return sc.memo[a.ID]
}

// resolve points what leads to placeholder at target instead: nodes, the
// start, and what the scope remembers of the activities in the loop.
func (s *service) resolve(sc *scope, placeholder, target string) {
	for id, m := range sc.memo {
		if m == placeholder {
			sc.memo[id] = target
		}
	}
	for _, n := range s.nodes {
		for _, p := range []*string{&n.next, &n.yes, &n.no} {
			if *p == placeholder {
				*p = target
			}
		}
		for i := range n.options {
			if n.options[i].next == placeholder {
				n.options[i].next = target
			}
		}
	}
	if s.start == placeholder {
		s.start = target
	}
}

// after returns where the flow goes once a's own screens are done.
func (s *service) after(sc *scope, a *Activity) string {
	if next := sc.redirect[a.ID]; next != nil {
		return s.entry(sc, next)
	}
	// A message to another participant's pool: the request leaves the
	// citizen's hands.
	for _, f := range s.imp.diagram.flowsFrom[a.ID] {
		if pr := s.imp.diagram.owner[f.Target]; pr != nil && pr != sc.proc {
			s.seeds = append(s.seeds, seed{proc: pr, act: pr.acts[f.Target], self: true}, seed{proc: sc.proc, act: a})
			s.review(f.Line, elemName("MessageFlow", f.ID, Label{"": f.Name}),
				"the request goes to another participant's pool: the call ends with cases.open, and its steps become the case's statuses")
			return s.done(a)
		}
	}
	outs := s.outs(sc, a)
	switch len(outs) {
	case 0:
		if a.Kind == kindIntermediate && a.LinkName != "" {
			for _, c := range sc.proc.Activities {
				if c != a && c.Kind == kindIntermediate && c.LinkName == a.LinkName && len(sc.proc.out[c.ID]) > 0 {
					if sc.prefix == "" {
						s.visited[c] = true
					}
					return s.after(sc, c)
				}
			}
		}
		return s.flowEnd(sc, a)
	case 1:
		return s.entry(sc, sc.proc.acts[outs[0].To])
	}
	switch typ := s.splitType(a, outs); typ {
	case "AND":
		return s.parallel(sc, a, outs)
	default:
		return s.choice(sc, a, outs, typ)
	}
}

// flowEnd ends the flow after an activity with nowhere to go.
func (s *service) flowEnd(sc *scope, a *Activity) string {
	if sc.exit != nil {
		return sc.exit()
	}
	n := s.newNode(sc.prefixed("end"), menus.KindEnd, a.Line, actName(a))
	n.text = endText()
	return n.name
}

// nothingFollows reports whether nothing but the end follows a. A
// parallel branch that the caller goes through in turn is followed by the
// next branch.
func (s *service) nothingFollows(sc *scope, a *Activity) bool {
	cur := a
	for range len(sc.proc.Activities) + 1 {
		if sc.redirect[cur.ID] != nil {
			return false
		}
		outs := s.outs(sc, cur)
		switch {
		case len(outs) == 0:
			return true
		case len(outs) > 1:
			return false
		}
		cur = sc.proc.acts[outs[0].To]
		switch {
		case cur.Kind == kindEnd:
			s.visited[cur] = true
			return true
		case cur.Kind == kindRoute && cur.Split == nil:
			s.visited[cur] = true
			continue
		default:
			return false
		}
	}
	return false
}

// predecessors returns the activities with a transition to a.
func (s *service) predecessors(sc *scope, a *Activity) []*Activity {
	var out []*Activity
	for _, t := range sc.proc.in[a.ID] {
		if p := sc.proc.acts[t.From]; p != nil {
			out = append(out, p)
		}
	}
	return out
}
