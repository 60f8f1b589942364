// Mapping a Package to service files: the options and the result of an
// import, the importer, and the naming and building of each process's
// service.

package xpdl

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

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
	// Operations are those the adapters serve (cases.Operations): an
	// application named like one is called as is, and the check that the
	// report announces uses them.
	Operations []menus.Operation
	// Limit is the screen limit of that check (menus.DefaultLimit if 0).
	Limit int
	// Catalogue lends its texts and services to that check (the built-in
	// catalogue if nil).
	Catalogue *menus.Catalogue
	// Citizen names the participant, lane or pool that is the citizen on
	// the phone (its id or its name); empty: the importer guesses, and
	// the report says how.
	Citizen string
	// Map turns an application (its id, or the operation named after it)
	// into a served operation: default_application → cases.open.
	Map map[string]string
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
	for app, op := range opts.Map {
		if _, ok := imp.known[op]; !ok {
			return nil, fmt.Errorf("--map %s=%s: %q is not an operation the gateway serves", app, op, op)
		}
	}
	for _, pr := range pkg.Processes {
		imp.procs[pr.ID] = pr
	}
	imp.indexDiagram()
	rep := &Report{File: opts.File, Version: pkg.Version, Namespace: pkg.Namespace, Package: pkgName(pkg),
		Line: pkg.Line, Limit: opts.Limit, Notes: slices.Clone(pkg.notes)}
	imp.rep = rep
	imp.sourceLanguage()
	if len(pkg.Processes) == 0 {
		rep.Skipped = append(rep.Skipped, item(pkg.Line, "Package", "no WorkflowProcess in the file: nothing to map"))
	}
	if err := imp.nameServices(); err != nil {
		return nil, err
	}

	res := &Result{Package: pkg, Report: rep}
	built, err := imp.buildAll()
	if err != nil {
		return nil, err
	}
	imp.built = built
	for _, s := range imp.built {
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

// importer is one import: the package, the options, and what naming and
// building the services found.
type importer struct {
	pkg   *Package
	opts  Options
	known map[string]menus.Operation
	ids   map[string]string // process id → service id
	procs map[string]*Process
	rep   *Report
	built []*service
	main  string // the main process's id
	// lang is the language of the file's names, which screens show
	// (language.go).
	lang string
	// diagram indexes pools, lanes and message flows (roles.go).
	diagram *diagram
	// backOffice are the processes whose pools are the administration's
	// in a collaboration, by id: their steps are the life cycle of the
	// citizen's service, not services of their own.
	backOffice map[string]bool
}

// pkgName is the package's readable name, else its id.
func pkgName(p *Package) string { return firstNonEmpty(p.Label[""], p.Label["fr"], p.Name, p.ID) }

// firstNonEmpty returns the first of ss that is not "", else "".
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// nameServices gives each process with activities its service id: the
// main one the --service id when there is one, the others (and the main
// one without it) a slug of their name, made unique.
func (imp *importer) nameServices() error {
	taken := map[string]bool{}
	main := mainProcess(imp.pkg.Processes)
	citizen, err := imp.citizenProcess()
	if err != nil {
		return err
	}
	imp.backOffice = map[string]bool{}
	if citizen != "" {
		main = citizen
		for _, pr := range imp.pkg.Processes {
			if pr.ID != citizen && imp.diagram.pools[pr.ID] != nil {
				imp.backOffice[pr.ID] = true
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
		if imp.backOffice[pr.ID] {
			imp.rep.Skipped = append(imp.rep.Skipped, item(pr.Line, elemName("WorkflowProcess", pr.ID, pr.Label),
				"the pool of %q, another participant than the citizen's: its steps become the life cycle of the citizen's service, not a service",
				firstNonEmpty(imp.diagram.pools[pr.ID].Label[""], imp.diagram.pools[pr.ID].Name, pr.ID)))
			continue
		}
		if imp.ids[pr.ID] != "" {
			continue
		}
		base := slug(firstNonEmpty(pr.Label[""], pr.Label["fr"], pr.Label["en"], pr.ID), 32)
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
	return nil
}

// mainProcess picks the id of the main process: the first with activities
// that no other process calls, else the first with activities, else "".
func mainProcess(procs []*Process) string {
	called := map[string]bool{}
	for _, pr := range procs {
		for _, c := range pr.Called {
			if c != pr.ID {
				called[c] = true
			}
		}
	}
	for _, pr := range procs {
		if len(pr.Activities) > 0 && !called[pr.ID] {
			return pr.ID
		}
	}
	for _, pr := range procs {
		if len(pr.Activities) > 0 {
			return pr.ID
		}
	}
	return ""
}

// buildAll builds the service of each named process, the main one first
// wherever its process is in the file: it is the one --out FILE.yaml
// names.
func (imp *importer) buildAll() ([]*service, error) {
	var built []*service
	for _, pr := range imp.pkg.Processes {
		id := imp.ids[pr.ID]
		if id == "" {
			continue
		}
		s, err := imp.build(pr, id)
		if err != nil {
			return nil, err
		}
		built = append(built, s)
	}
	slices.SortStableFunc(built, func(a, b *service) int {
		switch {
		case a.proc.ID == imp.main && b.proc.ID != imp.main:
			return -1
		case b.proc.ID == imp.main && a.proc.ID != imp.main:
			return 1
		}
		return 0
	})
	return built, nil
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
	// onScreen are the fields a screen of this service asks for once the
	// flow is mapped (asked also counts those of the back office's steps).
	onScreen map[string]bool
	title    menus.Text // the service's title, spelt in GSM-7
	full     bool       // too many nodes: no more inlining
	owner    string
	// citizen is the role on the phone (roles.go); submit the node that
	// opens the case where the workflow leaves the citizen's hands, and
	// seeds where the case's life cycle starts (lifecycle.go).
	citizen  role
	submit   string
	seeds    []seed
	statuses []*status
}

// build maps process pr to service id, and reports on it.
func (imp *importer) build(pr *Process, id string) (*service, error) {
	s := &service{imp: imp, id: id, proc: pr, byName: map[string]*node{}, visited: map[*Activity]bool{},
		saved: map[string]string{}, once: map[string]bool{}, respelt: map[string]string{}, suffix: map[string]int{}, asked: map[string]bool{}, onScreen: map[string]bool{}}
	s.rep = &ServiceReport{ID: id, File: id + ".yaml", Process: firstNonEmpty(pr.Label[""], pr.ID), Line: pr.Line}
	s.collectSaved(pr, map[string]bool{})
	s.setOwner()
	if err := s.chooseCitizen(); err != nil {
		return nil, err
	}
	s.mapFlow()
	s.lifeCycle()
	s.reportLeftOut()
	s.reportProcess()
	s.title = s.screenText(pr.Label, pr.ID) // before the respelt names are listed
	s.reportRespelt()
	byLine := func(items []Item) {
		sort.SliceStable(items, func(i, j int) bool { return items[i].Line < items[j].Line })
	}
	byLine(s.rep.Unmapped)
	byLine(s.rep.Review)
	s.rep.Start, s.rep.Nodes = s.start, len(s.nodes)
	return s, nil
}

// setOwner takes the service's owner from the package's name, for the
// administration to review, and warns when the catalogue has the id.
func (s *service) setOwner() {
	pr := s.proc
	s.owner = slug(pkgName(s.imp.pkg), 32)
	if !menus.ValidName(s.owner) {
		s.owner = "administration"
	}
	s.review(pr.Line, elemName("WorkflowProcess", pr.ID, pr.Label),
		"owner set to %q (from the package) and category to G2C: set the administration that moves the cases and the category", s.owner)
	if s.imp.opts.Catalogue != nil && s.imp.opts.Catalogue.Services[s.id] != nil {
		s.review(pr.Line, elemName("WorkflowProcess", pr.ID, pr.Label),
			"the catalogue already has a service %q: this file would replace it; choose another id with --service", s.id)
	}
}

// mapFlow maps the process from its start activity, and sets the start
// node.
func (s *service) mapFlow() {
	pr := s.proc
	sc := newScope(pr)
	first := s.startActivity(pr, true)
	target := s.entry(sc, first)
	if strings.HasPrefix(target, "@") {
		// The process only calls another: a screen to go there.
		n := s.newNode("start", menus.KindMenu, first.Line, elemName("Activity", first.ID, first.Label))
		n.text = s.screenText(pr.Label, pr.ID)
		n.options = []option{{label: s.serviceTitle(target[1:]), next: target}}
		target = n.name
	}
	s.start = target
}

// reportLeftOut reports the transitions from no activity and the
// activities that mapping the flow did not reach.
func (s *service) reportLeftOut() {
	pr := s.proc
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
				"%s event attached to activity %q: no phone equivalent; its path is not imported", strings.ToLower(firstNonEmpty(a.Trigger, "an")), a.Target)
		default:
			s.unmapped(a.Line, elemName("Activity", a.ID, a.Label), "not reached from the start: not imported")
		}
	}
}

// reportProcess reports what the process as a whole carries that the
// phone does not keep: its time limit, and the messages between pools
// that do not hand the request over.
func (s *service) reportProcess() {
	pr := s.proc
	if pr.Limit > 0 {
		s.unmapped(pr.Limit, "Limit of "+elemName("WorkflowProcess", pr.ID, pr.Label),
			"time limit of the whole process: not enforced on the phone; staff keep it as they move the case")
	}
	for _, f := range s.imp.pkg.MessageFlows {
		from, to := s.imp.diagram.owner[f.Source], s.imp.diagram.owner[f.Target]
		if from != pr && to != pr && !s.imp.backOffice[idOf(from)] && !s.imp.backOffice[idOf(to)] {
			continue // between others' pools
		}
		if s.handedBy(f) {
			continue // reported where the request leaves the citizen's hands
		}
		s.unmapped(f.Line, elemName("MessageFlow", f.ID, Label{"": f.Name}),
			"message from %s to %s: no phone equivalent; the case's statuses and their SMS tell the citizen instead", flowEnd(s.imp, f.Source), flowEnd(s.imp, f.Target))
	}
}

// handedBy reports whether message flow f hands the request to the back
// office (after, in flow.go).
func (s *service) handedBy(f *MessageFlow) bool {
	for _, sd := range s.seeds {
		if sd.self && sd.act != nil && sd.act.ID == f.Target {
			return true
		}
	}
	return false
}

func idOf(pr *Process) string {
	if pr == nil {
		return ""
	}
	return pr.ID
}

// flowEnd names the activity or pool at one end of a message flow.
func flowEnd(imp *importer, id string) string {
	if pr := imp.diagram.owner[id]; pr != nil {
		return actName(pr.acts[id])
	}
	for _, p := range imp.pkg.Pools {
		if p.ID == id {
			return fmt.Sprintf("pool %q", firstNonEmpty(p.Label[""], p.Name, p.ID))
		}
	}
	return fmt.Sprintf("%q", id)
}

// reportRespelt lists, for review, the names that screens spell
// differently to keep to the GSM-7 alphabet.
func (s *service) reportRespelt() {
	if len(s.respelt) == 0 {
		return
	}
	var pairs []string
	for from, to := range s.respelt {
		pairs = append(pairs, fmt.Sprintf("%q → %q", from, to))
	}
	sort.Strings(pairs)
	s.review(s.proc.Line, elemName("WorkflowProcess", s.proc.ID, s.proc.Label),
		"names spelt in the GSM-7 alphabet, which screens keep to: %s", strings.Join(pairs, ", "))
}
