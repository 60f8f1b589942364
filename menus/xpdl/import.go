package xpdl

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/guichet/guichet/menus"
)

// Options steer an import.
type Options struct {
	// File names the XPDL file in the report and in the comments of the
	// service files.
	File string
	// Service is the id of the main process's service (the first process
	// that no other one calls); the others take their process's name.
	Service string
	// Operations are those the adapters serve (adapters.Operations): an
	// application named like one is called as is, and the check that the
	// report announces uses them.
	Operations []menus.Operation
	// Limit is the screen limit of that check (menus.DefaultLimit if 0).
	Limit int
	// Catalogue lends its texts and services to that check (the built-in
	// catalogue if nil).
	Catalogue *menus.Catalogue
}

// File is a service file the import writes.
type File struct {
	Service string // the service's id
	Name    string // its file name: ID.yaml
	Process string // the WorkflowProcess it comes from
	YAML    []byte
	// Main marks the main process's service (the first process that no
	// other one calls), which comes first in Result.Files.
	Main bool
}

// Result is what an import produced.
type Result struct {
	Package *Package
	Files   []File
	Report  *Report
}

// ErrNothing says that an XPDL file was read but gave no service: the
// report says why.
var ErrNothing = errors.New("nothing usable came out of the XPDL file: no process with activities")

// Import reads an XPDL file and maps each of its WorkflowProcesses with
// activities to a service file. It fails when the file cannot be read
// (an *Error) or gives no service (ErrNothing, with the Result and its
// report).
func Import(data []byte, opts Options) (*Result, error) {
	pkg, err := Read(data)
	if err != nil {
		return nil, err
	}
	return Map(pkg, opts)
}

// Map maps a package read by Read; see Import.
func Map(pkg *Package, opts Options) (*Result, error) {
	if opts.Service != "" && !menus.ValidName(opts.Service) {
		return nil, fmt.Errorf("--service %q: not a service name (lower-case letters, digits, '-' and '_', at most 40)", opts.Service)
	}
	if opts.Limit == 0 {
		opts.Limit = menus.DefaultLimit
	}
	if opts.File == "" {
		opts.File = "input.xpdl"
	}
	imp := &importer{pkg: pkg, opts: opts, known: map[string]menus.Operation{}, ids: map[string]string{},
		procs: map[string]*Process{}}
	for _, op := range opts.Operations {
		imp.known[op.Name] = op
	}
	rep := &Report{File: opts.File, Version: pkg.Version, Namespace: pkg.Namespace, Package: pkgName(pkg),
		Line: pkg.Line, Limit: opts.Limit, Notes: slices.Clone(pkg.notes)}
	imp.rep = rep
	if pkg.Lang == "en" {
		rep.Notes = append(rep.Notes, item(pkg.LangLine, "PackageHeader",
			"the editor says its names are in English: they fill the English texts, and the French ones until they are translated"))
	}
	if len(pkg.Processes) == 0 {
		rep.Skipped = append(rep.Skipped, item(pkg.Line, "Package", "no WorkflowProcess in the file: nothing to map"))
	}
	imp.nameServices()

	res := &Result{Package: pkg, Report: rep}
	var built []*service
	for _, pr := range pkg.Processes {
		id := imp.ids[pr.ID]
		if id == "" {
			continue
		}
		s := imp.build(pr, id)
		built = append(built, s)
	}
	// The main service first, wherever its process is in the file: it is
	// the one --out FILE.yaml names.
	slices.SortStableFunc(built, func(a, b *service) int {
		switch {
		case a.proc.ID == imp.main && b.proc.ID != imp.main:
			return -1
		case b.proc.ID == imp.main && a.proc.ID != imp.main:
			return 1
		}
		return 0
	})
	imp.built = built
	for _, s := range built {
		data := s.yaml()
		res.Files = append(res.Files, File{Service: s.id, Name: s.id + ".yaml", Process: s.proc.ID, YAML: data,
			Main: s.proc.ID == imp.main})
		rep.Services = append(rep.Services, s.rep)
	}
	imp.check(res)
	if len(res.Files) == 0 {
		return res, ErrNothing
	}
	return res, nil
}

func pkgName(p *Package) string { return firstOf(p.Label[""], p.Label["fr"], p.Name, p.ID) }

type importer struct {
	pkg   *Package
	opts  Options
	known map[string]menus.Operation
	ids   map[string]string // process id → service id
	procs map[string]*Process
	rep   *Report
	built []*service
	main  string // the main process's id
}

// nameServices gives each process with activities its service id.
func (imp *importer) nameServices() {
	called := map[string]bool{}
	for _, pr := range imp.pkg.Processes {
		imp.procs[pr.ID] = pr
		for _, c := range pr.Called {
			if c != pr.ID {
				called[c] = true
			}
		}
	}
	taken := map[string]bool{}
	main := ""
	for _, pr := range imp.pkg.Processes {
		if len(pr.Activities) > 0 && !called[pr.ID] {
			main = pr.ID
			break
		}
	}
	if main == "" {
		for _, pr := range imp.pkg.Processes {
			if len(pr.Activities) > 0 {
				main = pr.ID
				break
			}
		}
	}
	imp.main = main
	if imp.opts.Service != "" && main != "" {
		imp.ids[main] = imp.opts.Service
		taken[imp.opts.Service] = true
	}
	for i, pr := range imp.pkg.Processes {
		if len(pr.Activities) == 0 {
			imp.rep.Skipped = append(imp.rep.Skipped, item(pr.Line, elemName("WorkflowProcess", pr.ID, pr.Label),
				"has no activities: no service"))
			continue
		}
		if imp.ids[pr.ID] != "" {
			continue
		}
		base := slug(firstOf(pr.Label[""], pr.Label["fr"], pr.Label["en"], pr.ID), 32)
		if base == "" || !menus.ValidName(base) {
			base = "process-" + strconv.Itoa(i+1)
		}
		id := base
		for n := 2; taken[id]; n++ {
			id = base + "-" + strconv.Itoa(n)
		}
		taken[id] = true
		imp.ids[pr.ID] = id
	}
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// service is one service being built.
type service struct {
	imp     *importer
	id      string
	proc    *Process
	nodes   []*node
	byName  map[string]*node
	start   string
	rep     *ServiceReport
	visited map[*Activity]bool
	saved   map[string]string // field id → the variable an input saves it in
	once    map[string]bool   // items already reported
	respelt map[string]string // texts spelt in GSM-7: original → screen
	suffix  map[string]int    // node name base → the next suffix to try
	asked   map[string]bool   // fields a screen asks for
	title   menus.Text        // the service's title, spelt in GSM-7
	full    bool              // too many nodes: no more inlining
	owner   string
}

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

type option struct {
	label menus.Text
	next  string
}

// maxNodes bounds a service: sub-processes are linked, not copied, past it.
const maxNodes = 500

// maxInline bounds how deep sub-processes are copied into their callers.
const maxInline = 6

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

func newScope(pr *Process) *scope {
	return &scope{proc: pr, memo: map[string]string{}, passing: map[string]bool{}, redirect: map[string]*Activity{}}
}

func (imp *importer) build(pr *Process, id string) *service {
	s := &service{imp: imp, id: id, proc: pr, byName: map[string]*node{}, visited: map[*Activity]bool{},
		saved: map[string]string{}, once: map[string]bool{}, respelt: map[string]string{}, suffix: map[string]int{}, asked: map[string]bool{}}
	s.rep = &ServiceReport{ID: id, File: id + ".yaml", Process: firstOf(pr.Label[""], pr.ID), Line: pr.Line}
	s.collect(pr, map[string]bool{})
	s.owner = slug(pkgName(imp.pkg), 32)
	if !menus.ValidName(s.owner) {
		s.owner = "administration"
	}
	s.review(pr.Line, elemName("WorkflowProcess", pr.ID, pr.Label),
		"owner set to %q (from the package) and category to G2C: set the administration that moves the cases and the category", s.owner)
	if imp.opts.Catalogue != nil && imp.opts.Catalogue.Services[id] != nil {
		s.review(pr.Line, elemName("WorkflowProcess", pr.ID, pr.Label),
			"the catalogue already has a service %q: this file would replace it; choose another id with --service", id)
	}

	sc := newScope(pr)
	first := s.startActivity(pr, true)
	target := s.entry(sc, first)
	if strings.HasPrefix(target, "@") {
		// The process only calls another: a screen to go there.
		n := s.newNode("start", menus.KindMenu, first.Line, elemName("Activity", first.ID, first.Label))
		n.text = s.text(pr.Label, pr.ID)
		n.options = []option{{label: s.serviceTitle(target[1:]), next: target}}
		target = n.name
	}
	s.start = target
	for _, t := range pr.Transitions {
		if pr.acts[t.From] == nil {
			s.unmapped(t.Line, elemName("Transition", t.ID, t.Label), "comes from %q, which is not an activity of the process: left out", t.From)
		}
	}
	for _, a := range pr.Activities {
		if s.visited[a] {
			continue
		}
		switch {
		case a.Kind == kindIntermediate && a.Target != "":
			s.unmapped(a.Line, elemName("Activity", a.ID, a.Label),
				"%s event attached to activity %q: no phone equivalent; its path is not imported", strings.ToLower(firstOf(a.Trigger, "an")), a.Target)
		default:
			s.unmapped(a.Line, elemName("Activity", a.ID, a.Label), "not reached from the start: not imported")
		}
	}
	s.title = s.text(pr.Label, pr.ID) // before the respelt names are listed
	if len(s.respelt) > 0 {
		var pairs []string
		for from, to := range s.respelt {
			pairs = append(pairs, fmt.Sprintf("%q → %q", from, to))
		}
		sort.Strings(pairs)
		s.review(pr.Line, elemName("WorkflowProcess", pr.ID, pr.Label),
			"names spelt in the GSM-7 alphabet, which screens keep to: %s", strings.Join(pairs, ", "))
	}
	byLine := func(items []Item) {
		sort.SliceStable(items, func(i, j int) bool { return items[i].Line < items[j].Line })
	}
	byLine(s.rep.Unmapped)
	byLine(s.rep.Review)
	s.rep.Start, s.rep.Nodes = s.start, len(s.nodes)
	return s
}

// collect finds the fields that inputs save, in the process and the
// sub-processes it may copy.
func (s *service) collect(pr *Process, seen map[string]bool) {
	if seen[pr.ID] {
		return
	}
	seen[pr.ID] = true
	for _, a := range pr.Activities {
		if a.Kind == kindManual {
			for _, u := range a.Updates {
				if f := pr.field(u.ID); f != nil {
					s.asked[f.ID] = true
					if savable(f) {
						s.saved[f.ID] = varName(f.ID)
					}
				}
			}
		}
		if a.SubFlow != nil {
			if c := s.imp.procs[a.SubFlow.Process]; c != nil {
				s.collect(c, seen)
			}
		}
	}
}

// varName is the session variable that keeps a field.
func varName(id string) string { return firstOf(slug(id, 40), "value") }

// savable reports whether a field's screen saves its value: inputs do;
// yes/no questions and menus of values do not.
func savable(f *DataField) bool { return f.Type != "BOOLEAN" && !(f.Type == "ENUM" && len(f.Enum) > 0) }

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
		if len(pr.in[a.ID]) == 0 && a.Target == "" && !(a.Kind == kindIntermediate && a.LinkName != "" && s.thrown(pr, a)) {
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

// thrown reports whether a link event catches a link that another throws.
func (s *service) thrown(pr *Process, catch *Activity) bool {
	for _, a := range pr.Activities {
		if a != catch && a.Kind == kindIntermediate && a.LinkName == catch.LinkName && len(pr.out[a.ID]) == 0 {
			return true
		}
	}
	return false
}

// Items for the report, each said once.
func (s *service) unmapped(line int, elem, format string, args ...any) {
	s.add(&s.rep.Unmapped, line, elem, format, args...)
}

func (s *service) review(line int, elem, format string, args ...any) {
	s.add(&s.rep.Review, line, elem, format, args...)
}

func (s *service) add(list *[]Item, line int, elem, format string, args ...any) {
	it := item(line, elem, format, args...)
	key := fmt.Sprint(it.Line, it.Element, it.Msg)
	if s.once[key] {
		return
	}
	s.once[key] = true
	*list = append(*list, it)
}

func elemName(kind, id string, l Label) string {
	name := firstOf(l[""], l["fr"], l["en"])
	id = printable(id)
	switch {
	case id == "" || strings.HasPrefix(id, "#"):
		return fmt.Sprintf("%s %q", kind, name)
	case name == "" || name == id:
		return fmt.Sprintf("%s %s", kind, id)
	}
	return fmt.Sprintf("%s %s %q", kind, id, name)
}

// printable makes an id safe in a report line and in a YAML comment.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}

func actName(a *Activity) string { return elemName("Activity", a.ID, a.Label) }

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

// nodeName is the base of a node's name in a scope.
func (sc *scope) nodeName(base string) string {
	if sc.prefix == "" {
		return base
	}
	p := sc.prefix
	if len(p) > 22 {
		p = p[len(p)-22:] // the innermost copies say most
	}
	return strings.TrimLeft(p, "_-") + base
}

// text returns the screen text of a label: French from the French label,
// else the name; English from the English label (or the name when the
// package says its names are English), else left out for menus check to
// report. Both are spelt in GSM-7.
func (s *service) text(l Label, fallback string) menus.Text {
	fr := firstOf(l["fr"], l[""], clean(fallback))
	en := l["en"]
	if en == "" && s.imp.pkg.Lang == "en" {
		en = l[""]
	}
	t := menus.Text{"fr": s.gsm7(fr)}
	if en != "" {
		t["en"] = s.gsm7(en)
	}
	return t
}

// both is a text of our own, in both languages.
func both(fr, en string) menus.Text { return menus.Text{"fr": fr, "en": en} }

func (s *service) gsm7(t string) string {
	g := menus.ToGSM7(t)
	if g != t {
		s.respelt[t] = g
	}
	return g
}

// join composes texts part by part; English only when every part has it.
func join(sep string, parts ...menus.Text) menus.Text {
	out := menus.Text{}
	for _, lang := range menus.Languages {
		var ss []string
		ok := true
		for _, p := range parts {
			v, has := p[lang]
			if !has {
				ok = false
				break
			}
			ss = append(ss, v)
		}
		if ok {
			out[lang] = strings.Join(ss, sep)
		}
	}
	return out
}

// question adds the question mark each language puts after a prompt.
func question(t menus.Text, hintFR, hintEN string) menus.Text {
	out := menus.Text{}
	for lang, v := range t {
		v = strings.TrimRight(v, " ?:")
		switch lang {
		case "fr":
			out[lang] = v + hintFR + " ?"
		default:
			out[lang] = v + hintEN + "?"
		}
	}
	return out
}

func (s *service) serviceTitle(id string) menus.Text {
	for pid, sid := range s.imp.ids {
		if sid == id {
			pr := s.imp.procs[pid]
			return s.text(pr.Label, pr.ID)
		}
	}
	return menus.Text{"fr": id}
}

// outs returns the transitions out of a, in the order its split lists
// them, less the exception paths and those to no activity (remarks
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
			continue // reported by remarks
		}
		out = append(out, t)
	}
	return out
}

// entry returns the target that enters activity a: its first node, or what
// follows it when it has no screen of its own.
func (s *service) entry(sc *scope, a *Activity) string {
	if t, ok := sc.memo[a.ID]; ok {
		return t
	}
	if sc.prefix == "" {
		s.visited[a] = true
	}
	s.remarks(sc.proc, a)
	switch a.Kind {
	case kindManual:
		if len(s.fields(sc, a)) == 0 && s.systemOnly(sc.proc, a) {
			return s.pass(sc, a)
		}
		return s.manual(sc, a)
	case kindAuto:
		return s.auto(sc, a)
	case kindSubFlow:
		return s.subflow(sc, a)
	case kindEnd:
		return s.end(sc, a)
	case kindStart:
		if t := a.Trigger; t != "" && !strings.EqualFold(t, "None") {
			s.review(a.Line, actName(a), "start event triggered by %s: on the phone, the caller's dial starts the service", t)
		}
		return s.pass(sc, a)
	case kindIntermediate:
		trig := firstOf(a.Trigger, "None")
		if a.Event == "TaskReceive" {
			s.unmapped(a.Line, actName(a), "waits for a message (TaskReceive): no phone equivalent; the flow goes straight on")
		} else if strings.EqualFold(trig, "Link") {
			s.linked(sc, a)
		} else if !strings.EqualFold(trig, "None") {
			s.unmapped(a.Line, actName(a), "%s event: no phone equivalent (a call lasts minutes); the flow goes straight on", strings.ToLower(trig))
		}
		return s.pass(sc, a)
	case kindRoute:
		return s.pass(sc, a)
	case kindBlock:
		s.unmapped(a.Line, actName(a), "embedded sub-process (BlockActivity): not imported; the flow goes straight on")
		return s.pass(sc, a)
	case kindReference:
		s.unmapped(a.Line, actName(a), "reference to another activity (%s): not imported; the flow goes straight on", a.How)
		return s.pass(sc, a)
	}
	return s.pass(sc, a)
}

// remarks reports what an activity carries that has no phone equivalent.
func (s *service) remarks(pr *Process, a *Activity) {
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
	case a.Join != nil:
		join, line = a.Join.Type, a.Join.Line
	case a.Kind == kindRoute && len(pr.in[a.ID]) > 1:
		join = a.Gateway
	}
	if join != "" && join != "XOR" {
		s.unmapped(line, actName(a), "%s join: no phone equivalent; passed through once each branch has run in turn", gatewayWord(join))
	}
}

func gatewayWord(t string) string {
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

// linked reports a link event: a jump within the process, followed when
// the process catches it.
func (s *service) linked(sc *scope, a *Activity) {
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

// pass enters an activity with no screen of its own: what follows it.
func (s *service) pass(sc *scope, a *Activity) string {
	if sc.passing[a.ID] {
		// A loop of activities with no screen: nothing for a caller.
		s.unmapped(a.Line, actName(a), "a loop with no screen in it: ended here")
		n := s.newNode(sc.nodeName("loop"), menus.KindEnd, a.Line, actName(a))
		n.text = endText()
		sc.memo[a.ID] = n.name
		return n.name
	}
	sc.passing[a.ID] = true
	t := s.after(sc, a)
	delete(sc.passing, a.ID)
	if _, ok := sc.memo[a.ID]; !ok {
		sc.memo[a.ID] = t
	}
	return sc.memo[a.ID]
}

func endText() menus.Text {
	return both("Merci. Votre démarche est terminée.", "Thank you. Your request is complete.")
}

// after returns where the flow goes once a's own screens are done.
func (s *service) after(sc *scope, a *Activity) string {
	if next := sc.redirect[a.ID]; next != nil {
		return s.entry(sc, next)
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
		return s.leaf(sc, a)
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

// leaf ends the flow after an activity with nowhere to go.
func (s *service) leaf(sc *scope, a *Activity) string {
	if sc.exit != nil {
		return sc.exit()
	}
	n := s.newNode(sc.nodeName("end"), menus.KindEnd, a.Line, actName(a))
	n.text = endText()
	return n.name
}

func (s *service) end(sc *scope, a *Activity) string {
	if r := a.Trigger; r != "" && !strings.EqualFold(r, "None") {
		s.unmapped(a.Line, actName(a), "end event with result %s: no phone equivalent; an end screen", r)
	}
	if sc.exit != nil {
		t := sc.exit()
		sc.memo[a.ID] = t
		return t
	}
	base := "end"
	named := firstOf(a.Label[""], a.Label["fr"], a.Label["en"]) != "" && !editorDefault(firstOf(a.Label[""], a.Label["fr"], a.Label["en"]))
	if named {
		base = firstOf(slug(firstOf(a.Label[""], a.Label["fr"]), 30), "end")
	}
	n := s.newNode(sc.nodeName(base), menus.KindEnd, a.Line, actName(a))
	sc.memo[a.ID] = n.name
	if named {
		n.text = s.text(a.Label, a.ID)
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

// fields returns the data fields a manual activity updates, once each.
func (s *service) fields(sc *scope, a *Activity) []*DataField {
	var out []*DataField
	seen := map[string]bool{}
	for _, u := range a.Updates {
		f := sc.proc.field(u.ID)
		if f == nil {
			s.unmapped(u.Line, actName(a), "updates %q, which is not a data field of the process: no screen", u.ID)
			continue
		}
		if !seen[f.ID] {
			seen[f.ID] = true
			out = append(out, f)
		}
	}
	return out
}

// manual maps an activity a person does: a screen per field it updates,
// or one screen that shows the step when it updates none.
func (s *service) manual(sc *scope, a *Activity) string {
	fields := s.fields(sc, a)
	head := s.text(a.Label, a.ID)
	if len(fields) == 0 {
		n := s.newNode(sc.nodeName(firstOf(slug(firstOf(a.Label[""], a.Label["fr"]), 30), "step")), menus.KindMenu, a.Line, actName(a))
		sc.memo[a.ID] = n.name
		n.text = head
		n.options = []option{{label: both("Continuer", "Continue")}}
		s.review(a.Line, actName(a), "%s with no data field to fill: a screen that shows the step, with 1 to continue (node %s)", describeHow(a), n.name)
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
		nodes[i] = s.newNode(sc.nodeName(slug(f.ID, 30)), kind, a.Line, actName(a)+", field "+f.ID)
	}
	sc.memo[a.ID] = nodes[0].name
	for i, f := range fields {
		n := nodes[i]
		prompt := s.text(f.Label, f.ID)
		if i == 0 {
			prompt = join("\n", head, prompt)
		}
		s.field(n, f, prompt, a)
		if i+1 < len(fields) {
			next := nodes[i+1].name
			n.next, n.yes, n.no = next, next, next
			for j := range n.options {
				n.options[j].next = next
			}
		}
	}
	last, f := nodes[len(nodes)-1], fields[len(fields)-1]
	if (last.kind == menus.KindConfirm || last.kind == menus.KindMenu) && s.branch(sc, a, f, last) {
		return nodes[0].name
	}
	next := s.after(sc, a)
	last.next, last.yes, last.no = next, next, next
	for j := range last.options {
		last.options[j].next = next
	}
	return nodes[0].name
}

func describeHow(a *Activity) string {
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

// field sets up the screen that asks for one data field.
func (s *service) field(n *node, f *DataField, prompt menus.Text, a *Activity) {
	where := fmt.Sprintf("DataField %s, asked by %s", f.ID, actName(a))
	if f.Array {
		s.review(f.Line, where, "a list (IsArray): one value is asked")
	}
	maxLen := func(def, limit int) int {
		if f.Length > 0 && f.Length <= limit {
			return f.Length
		}
		return def
	}
	switch f.Type {
	case "BOOLEAN":
		n.text = question(prompt, "", "")
		if s.usedLater(f) {
			s.review(f.Line, where, "yes/no: a confirm screen; the menu language keeps no variable from it, so the answer only steers the flow")
		}
	case "ENUM":
		if len(f.Enum) == 0 {
			n.kind, n.text = menus.KindInput, question(prompt, "", "")
			n.input = &menus.Input{Type: "text", Min: 1, Max: 40, Save: s.saved[f.ID]}
			s.review(f.Line, where, "an enumeration with no values: free text")
			return
		}
		n.text = prompt
		for _, v := range f.Enum {
			n.options = append(n.options, option{label: s.text(v.Label, v.Name)})
		}
		if s.usedLater(f) {
			s.review(f.Line, where, "enumeration: a menu of its values; the menu language keeps no variable from a menu, so the choice only steers the flow")
		}
	case "INTEGER":
		n.text = question(prompt, "", "")
		n.input = &menus.Input{Type: "digits", Min: 1, Max: maxLen(9, 18)}
	case "FLOAT":
		n.text = question(prompt, "", "")
		n.input = &menus.Input{Type: "pattern", Pattern: `[0-9]+([.,][0-9]+)?`, Max: 15}
	case "DATE", "DATETIME":
		n.text = question(prompt, " (JJMMAAAA)", " (DDMMYYYY)")
		n.input = &menus.Input{Type: "date", Format: "DDMMYYYY"}
		if f.Type == "DATETIME" {
			s.review(f.Line, where, "DATETIME: a date screen; the time of day is not asked")
		}
	case "TIME":
		n.text = question(prompt, " (HHMM)", " (HHMM)")
		n.input = &menus.Input{Type: "pattern", Pattern: `([01]?[0-9]|2[0-3])[:H]?[0-5][0-9]`, Max: 5}
	case "STRING", "REFERENCE", "PERFORMER":
		n.text = question(prompt, "", "")
		n.input = &menus.Input{Type: "text", Min: 1, Max: maxLen(40, 160)}
		if f.Length > 160 {
			s.review(f.Line, where, "Length %d is more than a phone sends in one screen: at most 40 characters asked", f.Length)
		}
	case "none":
		n.text = question(prompt, "", "")
		n.input = &menus.Input{Type: "text", Min: 1, Max: 40}
		s.review(f.Line, where, "no data type: free text")
	default:
		n.text = question(prompt, "", "")
		n.input = &menus.Input{Type: "text", Min: 1, Max: 40}
		s.review(f.Line, where, "type %s has no screen of its own: free text", f.Type)
	}
	if n.input != nil {
		n.input.Save = firstOf(s.saved[f.ID], varName(f.ID))
	}
}

// usedLater reports whether a field's value is passed to an application
// in this process (a yes/no or menu screen cannot keep it).
func (s *service) usedLater(f *DataField) bool {
	for _, a := range s.proc.Activities {
		for _, t := range a.Tools {
			if slices.Contains(t.Params, f.ID) {
				return true
			}
		}
	}
	return false
}

// branch wires the answers to a yes/no or menu screen straight to the
// branches of the exclusive split that follows it, when every condition
// of that split tests the field the screen asks for.
func (s *service) branch(sc *scope, a *Activity, f *DataField, n *node) bool {
	split, outs := a, s.outs(sc, a)
	if len(outs) == 1 {
		g := sc.proc.acts[outs[0].To]
		if g == nil || g.Kind != kindRoute || sc.redirect[a.ID] != nil {
			return false
		}
		split, outs = g, s.outs(sc, g)
	}
	if len(outs) < 2 || sc.redirect[split.ID] != nil {
		return false
	}
	typ := ""
	switch {
	case split.Split != nil && split.Split.Type != "":
		typ = split.Split.Type
	case split.Kind == kindRoute:
		typ = firstOf(split.Gateway, "XOR")
	}
	if typ != "XOR" {
		return false
	}
	values := []string{"true", "false"}
	if f.Type == "ENUM" {
		values = nil
		for _, v := range f.Enum {
			values = append(values, v.Name)
		}
	}
	to := make([]*Transition, len(values))
	var otherwise *Transition
	for _, t := range outs {
		switch {
		case t.CondType == "OTHERWISE" || t.CondType == "" && t.Cond == "":
			if otherwise != nil {
				return false
			}
			otherwise = t
		case t.CondType == "CONDITION":
			ts, ok := parseTest(t.Cond)
			if !ok || ts.Field != f.ID {
				return false
			}
			matched := false
			for i, v := range values {
				hit := strings.EqualFold(v, ts.Value)
				if f.Type == "BOOLEAN" && ts.Value != "true" && ts.Value != "false" {
					return false
				}
				if hit != ts.Not {
					if to[i] != nil && to[i] != t {
						return false // two branches for one answer
					}
					to[i] = t
					matched = true
				}
			}
			if !matched {
				return false
			}
		default:
			return false
		}
	}
	for i := range to {
		if to[i] == nil {
			if otherwise == nil {
				return false
			}
			to[i] = otherwise
		}
	}
	if sc.prefix == "" {
		s.visited[split] = true
	}
	if split != a {
		s.remarks(sc.proc, split)
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

// auto maps an automatic activity: a call to an adapter operation per
// application.
func (s *service) auto(sc *scope, a *Activity) string {
	nodes := make([]*node, len(a.Tools))
	for i := range a.Tools {
		base := firstOf(slug(firstOf(a.Label[""], a.Label["fr"]), 30), "action")
		nodes[i] = s.newNode(sc.nodeName(base), menus.KindAction, a.Tools[i].Line, actName(a))
	}
	sc.memo[a.ID] = nodes[0].name
	for i, t := range a.Tools {
		n := nodes[i]
		n.action, n.args = s.operation(sc, a, t)
		if n.action == "cases.open" {
			s.review(t.Line, actName(a), "opens a case (cases.open): add the service's statuses: (its life cycle, from received) so that staff can move it")
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
	name := t.App
	if name != "" {
		app = sc.proc.app(name)
	}
	if name == "" {
		name = firstOf(t.Op, a.ID)
	}
	op := opName(name)
	if op == "" {
		op = slug(firstOf(a.Label[""], a.ID), 30)
	}
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
		key := slug(firstOf(formal.ID, actual), 40)
		if key == "" {
			key = "arg" + strconv.Itoa(i+1)
		}
		if v, ok := unquote(actual); ok {
			if args == nil {
				args = map[string]string{}
			}
			args[key] = menus.ToGSM7(v)
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

func shorten(s string, n int) string {
	s = clean(s)
	if len([]rune(s)) > n {
		return string([]rune(s)[:n]) + "…"
	}
	return s
}

// subflow maps a call to another process: a link to its service when
// nothing follows the call; a copy of its screens otherwise, since the menu
// language cannot come back from another service.
func (s *service) subflow(sc *scope, a *Activity) string {
	called := s.imp.procs[a.SubFlow.Process]
	where := actName(a)
	if called == nil || len(called.Activities) == 0 {
		s.unmapped(a.SubFlow.Line, where, "calls process %q, which is not in this file (or has no activities): left out; the flow goes straight on", a.SubFlow.Process)
		return s.pass(sc, a)
	}
	id := s.imp.ids[called.ID]
	if strings.EqualFold(a.SubFlow.Execution, "ASYNCHR") {
		s.review(a.SubFlow.Line, where, "asynchronous sub-process: on the phone the caller goes through it")
	}
	recursive := called.ID == s.proc.ID || slices.Contains(sc.chain, called.ID)
	if sc.exit == nil && s.tail(sc, a) {
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
	prefix := sc.prefix + firstOf(slug(firstOf(called.Label[""], called.Label["fr"], called.ID), 10), "sub") + "-"
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

// tail reports whether nothing but the end follows a. A parallel branch
// that the caller goes through in turn is followed by the next branch.
func (s *service) tail(sc *scope, a *Activity) bool {
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

// choice maps an exclusive (or inclusive, complex, event-based) split: a
// menu whose options are the transitions; the caller chooses, since the
// menu language cannot test a variable.
func (s *service) choice(sc *scope, a *Activity, outs []*Transition, typ string) string {
	line := a.Line
	if a.Split != nil {
		line = a.Split.Line
	}
	header, named := s.choiceHeader(sc, a)
	base := "choice"
	if name := slug(firstOf(a.Label[""], a.Label["fr"]), 28); name != "" && a.Kind == kindRoute {
		base = name
	} else if name := slug(header["fr"], 28); name != "" && named {
		base = name + "_choice"
	}
	n := s.newNode(sc.nodeName(base), menus.KindMenu, line, actName(a))
	if a.Kind == kindRoute || sc.passing[a.ID] {
		sc.memo[a.ID] = n.name // a has no screen but this one: loops come back here
	}
	switch typ {
	case "XOR":
		if what := s.undecided(sc, a, outs); what != "" {
			why := "the workflow decides this branch from " + what + ", which the caller is not asked"
			if what == "no condition" {
				why = "no condition decides this branch: in the workflow, whoever runs the case does, not the caller"
			}
			s.unmapped(line, actName(a), "no phone equivalent: %s; the import lets the caller choose (node %s); "+
				"the administration should rather end the call with cases.open and move the case through statuses: "+
				"(one per branch) for staff to decide", why, n.name)
		}
	case "OR", "Complex":
		s.unmapped(line, actName(a), "%s split: the caller takes one branch, where XPDL may take several", gatewayWord(typ))
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
			lang := firstOf(scriptName(t.Grammar), s.imp.pkg.script())
			if lang != "" {
				lang = " (" + lang + ")"
			}
			s.unmapped(firstOf0(t.CondLine, t.Line), elemName("Transition", t.ID, t.Label),
				"condition %s%s is not evaluated (the menu language has no test on a variable): the caller chooses it, option %d of node %s",
				shortCode(t.Cond), lang, i+1, n.name)
		}
		n.options[i].next = s.entry(sc, sc.proc.acts[t.To])
	}
	return n.name
}

// undecided says what an exclusive split decides its branch from when no
// phone screen asks for it: data that no screen collects (a back-office
// result, an application's OUT parameter), a timer or message that came
// before, or nothing at all; "" when its conditions test only answers.
func (s *service) undecided(sc *scope, a *Activity, outs []*Transition) string {
	for _, w := range append([]*Activity{a}, s.before(sc, a)...) {
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
	conditions := 0
	for _, t := range outs {
		if t.CondType != "CONDITION" || strings.TrimSpace(t.Cond) == "" {
			continue
		}
		conditions++
		for _, id := range identifiers(t.Cond) {
			if s.asked[id] {
				continue
			}
			var d string
			switch f := sc.proc.field(id); {
			case f == nil:
				continue // a function or a keyword of the script
			case s.result(sc.proc, id) != "":
				d = "the result " + id + " of application " + s.result(sc.proc, id)
			default:
				d = "field " + id + ", which no screen asks for"
			}
			if !slices.Contains(what, d) {
				what = append(what, d)
			}
		}
	}
	switch {
	case conditions == 0:
		return "no condition"
	case len(what) > 0:
		return strings.Join(what, ", ")
	}
	return ""
}

// before returns the activities with a transition to a.
func (s *service) before(sc *scope, a *Activity) []*Activity {
	var out []*Activity
	for _, t := range sc.proc.in[a.ID] {
		if p := sc.proc.acts[t.From]; p != nil {
			out = append(out, p)
		}
	}
	return out
}

// result names the application whose OUT parameter sets field id.
func (s *service) result(pr *Process, id string) string {
	for _, a := range pr.Activities {
		for _, t := range a.Tools {
			app := pr.app(t.App)
			for i, actual := range t.Params {
				if actual == id && (app == nil || i < len(app.Params) && app.Params[i].Mode != "IN") {
					return firstOf(t.App, t.Op, a.ID)
				}
			}
		}
	}
	return ""
}

// identifiers lists the names a condition uses, outside quoted strings.
func identifiers(cond string) []string {
	if len(cond) > MaxCondition {
		cond = cond[:MaxCondition]
	}
	var out []string
	var quote byte
	start := -1
	for i := 0; i <= len(cond); i++ {
		c := byte(' ')
		if i < len(cond) {
			c = cond[i]
		}
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		word := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || start >= 0 && c >= '0' && c <= '9'
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			if w := cond[start:i]; !slices.Contains(out, w) && (start == 0 || cond[start-1] != '.') {
				out = append(out, w)
			}
			start = -1
		}
		if !word && (c == '"' || c == '\'') {
			quote = c
		}
	}
	return out
}

func shortCode(s string) string { return "`" + shorten(s, 60) + "`" }

func firstOf0(ns ...int) int {
	for _, n := range ns {
		if n > 0 {
			return n
		}
	}
	return 0
}

// script names the package's script language (Script/@Type).
func (p *Package) script() string { return scriptName(p.Script) }

// scriptName makes "text/javascript" read "JavaScript".
func scriptName(s string) string {
	switch t := strings.ToLower(s); {
	case strings.Contains(t, "javascript"), strings.Contains(t, "ecmascript"):
		return "JavaScript"
	case strings.Contains(t, "python"):
		return "Python"
	case strings.Contains(t, "java"):
		return "Java"
	}
	return s
}

// choiceHeader is a split's question: the gateway's name, else the name of
// the one activity before it, else a word of our own.
func (s *service) choiceHeader(sc *scope, a *Activity) (menus.Text, bool) {
	if firstOf(a.Label[""], a.Label["fr"], a.Label["en"]) != "" {
		return s.text(a.Label, a.ID), true
	}
	if in := sc.proc.in[a.ID]; len(in) == 1 {
		if p := sc.proc.acts[in[0].From]; p != nil && firstOf(p.Label[""], p.Label["fr"]) != "" {
			return s.text(p.Label, p.ID), true
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
		count[strings.ToLower(firstOf(t.Label[""], t.Label["fr"]))]++
	}
	out := make([]menus.Text, len(outs))
	for i, t := range outs {
		name := firstOf(t.Label[""], t.Label["fr"], t.Label["en"])
		key := strings.ToLower(firstOf(t.Label[""], t.Label["fr"]))
		if name != "" && !strings.EqualFold(name, "transition") && count[key] <= 1 {
			out[i] = s.text(t.Label, "")
			continue
		}
		out[i] = s.targetLabel(sc, sc.proc.acts[t.To], i+1)
	}
	return out
}

// targetLabel names the first named activity a transition leads to.
func (s *service) targetLabel(sc *scope, a *Activity, n int) menus.Text {
	for range 16 {
		if a == nil {
			break
		}
		if firstOf(a.Label[""], a.Label["fr"], a.Label["en"]) != "" {
			return s.text(a.Label, a.ID)
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
	return both("Choix "+strconv.Itoa(n), "Choice "+strconv.Itoa(n))
}

// parallel maps a parallel split: the caller goes through the branches one
// after the other, when they are chains that meet at one join; else only
// the first branch is kept.
func (s *service) parallel(sc *scope, a *Activity, outs []*Transition) string {
	line := a.Line
	if a.Split != nil {
		line = a.Split.Line
	}
	type branch struct{ first, last *Activity }
	var branches []branch
	var join *Activity
	ok := true
	for _, t := range outs {
		cur := sc.proc.acts[t.To]
		var b branch
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
		names = append(names, strconv.Quote(firstOf(b.first.Label[""], b.first.ID)))
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
