// The import's report: its types, how it is written, and how the services
// add their items to it.

package xpdl

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/guichet/guichet/menus"
)

// Report says what an import did: every part of the file with no phone
// equivalent and what was done instead, what to review, and what `menus
// check` will report about the service files, each with the line of the
// XPDL element it comes from.
type Report struct {
	File      string
	Version   string // "1.0", "2.0", "2.1", "2.2"
	Namespace string
	Package   string
	Line      int
	Limit     int    // of the check
	Notes     []Item // about the file as a whole
	Skipped   []Item // processes that gave no service
	Services  []*ServiceReport
}

// ServiceReport is the part of the report about one service file.
type ServiceReport struct {
	ID, File string
	Process  string
	Line     int
	Start    string
	Nodes    int
	// Unmapped are the parts with no phone equivalent, each with what
	// was done instead.
	Unmapped []Item
	// Review are mapping decisions the administration should look at.
	Review []Item
	// Check is what `guichet menus check` reports about the file, Tag
	// saying what to do (see Advice).
	Check []Item
}

// Item is one line of the report.
type Item struct {
	Line    int    // in the XPDL file; 0 for the file as a whole
	Element string // the XPDL element: `Activity prepare "Prepare"`
	Msg     string
	Tag     string // check items: english, adapter, length, gsm7, service, other
}

func item(line int, elem, format string, args ...any) Item {
	return Item{Line: line, Element: elem, Msg: fmt.Sprintf(format, args...)}
}

func (it Item) String() string {
	var b strings.Builder
	if it.Line > 0 {
		fmt.Fprintf(&b, "line %d", it.Line)
	}
	if it.Element != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.Element)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(it.Msg)
	if it.Tag != "" {
		b.WriteString(" [" + it.Tag + "]")
	}
	return b.String()
}

// Advice says, per tag, what the administration does about a check item.
var Advice = map[string]string{
	"english": "the XPDL file has no English label here: write the en: text (the fr: text comes from the XPDL name).",
	"french":  "the XPDL file has no French label here: write the fr: text.",
	"adapter": "no adapter serves this operation, so the gateway refuses the file: replace it with a served operation " +
		"(cases.open records a case for staff to move through the service's statuses), or have the operation added to " +
		"cases.Operations and served, natively or by the ministry's system through the service's backend: section " +
		"(docs/MENUS.md, Operations).",
	"length":  "the screen can outgrow the operator's limit: shorten the text.",
	"gsm7":    "a character outside GSM-7 sends the screen as UCS-2 (70 characters): spell it in GSM-7.",
	"service": "the linked service is not in the catalogue: import its XPDL file too, or change the link.",
	"other":   "see docs/MENUS.md.",
}

func tagOf(msg string) string {
	switch {
	case strings.Contains(msg, `missing translation "en"`):
		return "english"
	case strings.Contains(msg, `missing translation "fr"`):
		return "french"
	case strings.Contains(msg, "unknown operation"):
		return "adapter"
	case strings.Contains(msg, "over the limit"):
		return "length"
	case strings.Contains(msg, "GSM-7"):
		return "gsm7"
	case strings.Contains(msg, "leads to service"):
		return "service"
	}
	return "other"
}

// check runs menus check on the service files as the gateway would, with
// the catalogue's texts, and puts each problem in the report with the line
// of the XPDL element its node comes from.
func (imp *importer) check(res *Result) {
	base := imp.opts.Catalogue
	if base == nil {
		var err error
		base, err = menus.Builtin()
		if base == nil {
			imp.rep.Notes = append(imp.rep.Notes, item(0, "", "menus check not run: the built-in catalogue does not load: %v", err))
			return
		}
	}
	cat := *base
	cat.Services = maps.Clone(base.Services)
	cat.Shortcuts = nil
	cat.Order = nil
	for id := range cat.Services {
		cat.Order = append(cat.Order, id)
	}
	parsed := map[string]*menus.Service{}
	for i, f := range res.Files {
		svc, err := menus.ParseService(f.Name, f.YAML)
		if err != nil {
			// The writer's own fault: say so rather than hide it.
			imp.rep.Services[i].Check = append(imp.rep.Services[i].Check,
				Item{Msg: "the service file does not load: " + err.Error(), Tag: "other"})
			continue
		}
		parsed[f.Name] = svc
		cat.Services[svc.ID] = svc
		if !slices.Contains(cat.Order, svc.ID) {
			cat.Order = append(cat.Order, svc.ID)
		}
	}
	ps := menus.Check(&cat, imp.opts.Operations, imp.opts.Limit)
	for i, f := range res.Files {
		svc := parsed[f.Name]
		if svc == nil {
			continue
		}
		sr := imp.rep.Services[i]
		src := imp.sources(sr.ID)
		for _, p := range ps {
			if p.File != f.Name {
				continue
			}
			line, elem := sr.Line, fmt.Sprintf("WorkflowProcess %q", sr.Process)
			if n := nodeAt(svc, p.Line); n != "" {
				if s, ok := src[n]; ok {
					line, elem = s.line, s.from
				}
			}
			sr.Check = append(sr.Check, Item{Line: line, Element: elem, Msg: p.Msg, Tag: tagOf(p.Msg)})
		}
		sort.SliceStable(sr.Check, func(a, b int) bool { return sr.Check[a].Line < sr.Check[b].Line })
	}
}

type source struct {
	line int
	from string
}

// sources maps a service's node names to their XPDL elements.
func (imp *importer) sources(id string) map[string]source {
	for _, s := range imp.built {
		if s.id == id {
			out := map[string]source{}
			for _, n := range s.nodes {
				out[n.name] = source{n.fromLine, n.from}
			}
			return out
		}
	}
	return nil
}

// nodeAt returns the node whose YAML holds line.
func nodeAt(s *menus.Service, line int) string {
	best, bestLine := "", 0
	for _, name := range s.Order {
		n := s.Nodes[name]
		if n.Line <= line && n.Line > bestLine {
			best, bestLine = name, n.Line
		}
	}
	return best
}

// WriteTo writes the report as text.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: XPDL %s", r.File, r.Version)
	if r.Namespace != "" {
		fmt.Fprintf(&b, " (%s)", r.Namespace)
	}
	if r.Package != "" {
		fmt.Fprintf(&b, ", package %q", r.Package)
	}
	b.WriteString("\n")
	for _, it := range r.Notes {
		b.WriteString("  " + it.String() + "\n")
	}
	for _, it := range r.Skipped {
		b.WriteString("  " + it.String() + "\n")
	}
	tags := map[string]bool{}
	for _, s := range r.Services {
		fmt.Fprintf(&b, "\nservice %s (%s), from WorkflowProcess %q at line %d: start %s, %d nodes\n",
			s.ID, s.File, s.Process, s.Line, s.Start, s.Nodes)
		section(&b, "no phone equivalent, and what was done instead", s.Unmapped)
		section(&b, "mapped, to review", s.Review)
		if len(s.Check) == 0 {
			fmt.Fprintf(&b, "  menus check (limit %d) will report nothing about %s\n", r.Limit, s.File)
		} else {
			section(&b, fmt.Sprintf("menus check (limit %d) will report, to fix in %s", r.Limit, s.File), s.Check)
		}
		for _, it := range s.Check {
			tags[it.Tag] = true
		}
	}
	if len(tags) > 0 {
		b.WriteString("\nwhat to do about what menus check reports:\n")
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  [%s] %s\n", k, Advice[k])
		}
	}
	if len(r.Services) > 0 {
		ids := make([]string, len(r.Services))
		for i, s := range r.Services {
			ids[i] = s.ID
		}
		fmt.Fprintf(&b, "\nthen: put the service files in the menu folder, add %s to services: in catalogue.yaml, "+
			"and run guichet menus check on the folder until it says ok.\n", strings.Join(ids, ", "))
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func (r *Report) String() string {
	var b strings.Builder
	r.WriteTo(&b)
	return b.String()
}

func section(b *strings.Builder, title string, items []Item) {
	if len(items) == 0 {
		return
	}
	b.WriteString("  " + title + ":\n")
	for _, it := range items {
		b.WriteString("    " + it.String() + "\n")
	}
}

// unmapped reports, once, a part with no phone equivalent and what was
// done instead.
func (s *service) unmapped(line int, elem, format string, args ...any) {
	s.addOnce(&s.rep.Unmapped, line, elem, format, args...)
}

// review reports, once, something for the administration to review.
func (s *service) review(line int, elem, format string, args ...any) {
	s.addOnce(&s.rep.Review, line, elem, format, args...)
}

// addOnce adds an item to list unless the service already reported it.
func (s *service) addOnce(list *[]Item, line int, elem, format string, args ...any) {
	it := item(line, elem, format, args...)
	key := fmt.Sprint(it.Line, it.Element, it.Msg)
	if s.once[key] {
		return
	}
	s.once[key] = true
	*list = append(*list, it)
}

// firstPositive returns the first of ns above 0 (the first line number
// known), else 0.
func firstPositive(ns ...int) int {
	for _, n := range ns {
		if n > 0 {
			return n
		}
	}
	return 0
}

// elemName names an XPDL element in the report: its kind, id and name.
func elemName(kind, id string, l Label) string {
	name := firstNonEmpty(l[""], l["fr"], l["en"])
	id = printable(id)
	switch {
	case id == "" || strings.HasPrefix(id, "#"):
		return fmt.Sprintf("%s %q", kind, name)
	case name == "" || name == id:
		return fmt.Sprintf("%s %s", kind, id)
	}
	return fmt.Sprintf("%s %s %q", kind, id, name)
}

// actName names an activity in the report.
func actName(a *Activity) string { return elemName("Activity", a.ID, a.Label) }

// printable makes an id safe in a report line and in a YAML comment.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
}
