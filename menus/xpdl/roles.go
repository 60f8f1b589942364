// Roles: who does each activity, which of them is the citizen on the
// phone, and where the workflow leaves the citizen's hands for the back
// office's: there the call ends with cases.open, and the rest of the
// workflow becomes the case's life cycle (lifecycle.go).

package xpdl

import (
	"fmt"
	"slices"
	"strings"
)

// role is who does an activity, as the file says it: a participant
// (Performer), else a lane, else the pool of its process when the file
// draws several pools. The zero role is nobody said.
type role struct {
	key    string // "role:" and the name's slug, else "participant:ID", "lane:ID", "pool:ID"
	kind   string // participant, lane, pool
	id     string
	name   string
	system bool // a SYSTEM participant: the back office's machines
}

// diagram indexes a package's pools, lanes and message flows.
type diagram struct {
	lanes map[string]*Lane
	pools map[string]*Pool // by the process they draw
	// collaboration: several pools with processes, talking through
	// message flows; each pool is then a participant.
	collaboration bool
	flowsFrom     map[string][]*MessageFlow // by source activity
	awaited       map[string]bool           // activities a message flow leads to
	owner         map[string]*Process       // an activity's process, by activity id
}

func (imp *importer) indexDiagram() {
	d := &diagram{lanes: map[string]*Lane{}, pools: map[string]*Pool{}, flowsFrom: map[string][]*MessageFlow{},
		owner: map[string]*Process{}, awaited: map[string]bool{}}
	drawn := 0
	for _, p := range imp.pkg.Pools {
		for _, l := range p.Lanes {
			d.lanes[l.ID] = l
		}
		if pr := imp.procs[p.Process]; pr != nil && len(pr.Activities) > 0 {
			d.pools[pr.ID] = p
			drawn++
		}
	}
	for _, pr := range imp.pkg.Processes {
		for _, a := range pr.Activities {
			d.owner[a.ID] = pr
		}
	}
	for _, f := range imp.pkg.MessageFlows {
		d.flowsFrom[f.Source] = append(d.flowsFrom[f.Source], f)
		d.awaited[f.Target] = true
	}
	d.collaboration = drawn > 1 && len(imp.pkg.MessageFlows) > 0
	imp.diagram = d
}

// roleOf says who does activity a of process pr; an editor's placeholder
// ("Lane", "Pool 1") says nobody.
func (imp *importer) roleOf(pr *Process, a *Activity) role {
	r := imp.namedRole(pr, a)
	if placeholderName(r.name) {
		return role{}
	}
	// A lane drawn for a participant bears its name: one role.
	if k := slug(r.name, 60); k != "" {
		r.key = "role:" + k
	}
	return r
}

// placeholderName reports whether a role's name is an editor's default.
func placeholderName(name string) bool {
	s := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r
		}
		return -1
	}, slug(name, 40))
	switch s {
	case "lane", "pool", "participant", "role", "swimlane", "mainprocess", "process":
		return true
	}
	return false
}

func (imp *importer) namedRole(pr *Process, a *Activity) role {
	if len(a.Performers) > 0 {
		p := a.Performers[0] // the first performer does the step
		if pt := pr.participant(p); pt != nil {
			name := firstNonEmpty(pt.Label[""], pt.Label["fr"], pt.Name, pt.ID)
			return role{key: "participant:" + pt.ID, kind: "participant", id: pt.ID,
				name: name, system: strings.EqualFold(pt.Type, "SYSTEM") || systemName(name)}
		}
		return role{key: "participant:" + p, kind: "participant", id: p, name: p}
	}
	if l := imp.diagram.lanes[a.Lane]; l != nil {
		name := firstNonEmpty(l.Label[""], l.Label["fr"], l.Name, l.ID)
		return role{key: "lane:" + l.ID, kind: "lane", id: l.ID, name: name, system: systemName(name)}
	}
	if p := imp.diagram.pools[pr.ID]; p != nil && imp.diagram.collaboration {
		return role{key: "pool:" + p.ID, kind: "pool", id: p.ID, name: firstNonEmpty(p.Label[""], p.Label["fr"], p.Name, p.ID)}
	}
	return role{}
}

// systemName reports whether a lane or participant is named as the
// system: "System", "Système", "SI".
func systemName(name string) bool {
	switch slug(name, 20) {
	case "system", "systeme", "systemes", "systems", "si", "automatique", "automatic":
		return true
	}
	return false
}

// roles lists the roles that do the activities of pr, in file order.
func (imp *importer) roles(pr *Process) []role {
	var out []role
	for _, a := range pr.Activities {
		if r := imp.roleOf(pr, a); r.key != "" && !slices.ContainsFunc(out, func(o role) bool { return o.key == r.key }) {
			out = append(out, r)
		}
	}
	return out
}

// matches reports whether --citizen names r: its id or its name, in any
// case.
func (r role) matches(name string) bool {
	name = strings.TrimSpace(name)
	return name != "" && (strings.EqualFold(r.id, name) || strings.EqualFold(r.name, name) || slug(r.name, 60) == slug(name, 60))
}

func (r role) String() string { return fmt.Sprintf("%s %q", r.kind, r.name) }

// citizenProcess picks, in a collaboration, the process of the citizen's
// pool: --citizen's, else the first whose start no message flow
// triggers (the administration's pools wait for the citizen's request).
func (imp *importer) citizenProcess() (string, error) {
	d := imp.diagram
	if !d.collaboration {
		return "", nil
	}
	for _, pr := range imp.pkg.Processes {
		p := d.pools[pr.ID]
		if p == nil {
			continue
		}
		r := role{kind: "pool", id: p.ID, name: firstNonEmpty(p.Label[""], p.Label["fr"], p.Name, p.ID)}
		if imp.opts.Citizen != "" && (r.matches(imp.opts.Citizen) || role{id: pr.ID, name: firstNonEmpty(pr.Label[""], pr.Name)}.matches(imp.opts.Citizen)) {
			return pr.ID, nil
		}
	}
	if imp.opts.Citizen != "" {
		return "", nil // maybe a lane or participant inside a pool: the process's own guess names it
	}
	targets := map[string]bool{}
	for _, f := range imp.pkg.MessageFlows {
		targets[f.Target] = true
	}
	for _, pr := range imp.pkg.Processes {
		if d.pools[pr.ID] == nil {
			continue
		}
		triggered := false
		for _, a := range pr.Activities {
			if a.Kind == kindStart && targets[a.ID] {
				triggered = true
			}
		}
		if !triggered {
			return pr.ID, nil
		}
	}
	return "", nil
}

// chooseCitizen sets the service's citizen: the role --citizen names, else
// the role of the first step a person does after the start. It reports
// the guess and why.
func (s *service) chooseCitizen() error {
	pr := s.proc
	rs := s.imp.roles(pr)
	if want := s.imp.opts.Citizen; want != "" {
		for _, r := range rs {
			if r.matches(want) {
				s.citizen = r
				s.review(pr.Line, elemName("WorkflowProcess", pr.ID, pr.Label),
					"the citizen on the phone is %s (--citizen): the steps of the others become the case's life cycle", r)
				return nil
			}
		}
		if len(rs) > 0 {
			var known []string
			for _, r := range rs {
				known = append(known, fmt.Sprintf("%q", r.name))
			}
			return fmt.Errorf("--citizen %q: process %q has no participant, lane or pool of that name or id (it has %s)",
				want, firstNonEmpty(pr.Label[""], pr.ID), strings.Join(known, ", "))
		}
	}
	if len(rs) == 0 {
		if s.imp.opts.Citizen != "" {
			s.review(pr.Line, elemName("WorkflowProcess", pr.ID, pr.Label),
				"--citizen %q: the process says nobody's role (no performer, lane or pool), so every step is the caller's", s.imp.opts.Citizen)
		}
		return nil
	}
	// The first step a person does, in the order the flow reaches them.
	seen := map[*Activity]bool{}
	queue := []*Activity{s.startActivity(pr, false)}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		if a == nil || seen[a] {
			continue
		}
		seen[a] = true
		if r := s.imp.roleOf(pr, a); r.key != "" && !r.system && (a.Kind == kindManual || a.Kind == kindAuto) {
			s.citizen = r
			if len(rs) > 1 {
				s.review(a.Line, actName(a),
					"the citizen on the phone is taken to be %s, who does the first step after the start; the steps of %s become the case's life cycle (--citizen names another)",
					r, others(rs, r))
			}
			return nil
		}
		for _, t := range pr.out[a.ID] {
			queue = append(queue, pr.acts[t.To])
		}
	}
	return nil
}

// others names the roles of rs but r.
func others(rs []role, r role) string {
	var names []string
	for _, o := range rs {
		if o.key != r.key {
			names = append(names, o.String())
		}
	}
	return strings.Join(names, ", ")
}

// handsOff reports whether entering activity a of process pr leaves the
// citizen's hands: another person does it. What the system does (a
// SYSTEM participant, a lane named System) is not a hand-off: it runs when
// it is an operation the gateway serves, and is passed through otherwise.
func (s *service) handsOff(pr *Process, a *Activity) bool {
	switch a.Kind {
	case kindManual, kindAuto, kindSubFlow:
	default:
		return false
	}
	r := s.imp.roleOf(pr, a)
	return r.key != "" && !r.system && s.citizen.key != "" && r.key != s.citizen.key
}

// unserved reports whether an automatic activity calls an operation the
// gateway does not serve (nor --map gives it): the back office's systems
// do it, not the call.
func (s *service) unserved(pr *Process, a *Activity) bool {
	for _, t := range a.Tools {
		if _, served := s.imp.known[s.operationName(pr, a, t)]; !served {
			return true
		}
	}
	return false
}
