package menus

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/guichet/guichet/sms"
)

// DefaultLimit is a USSD screen: 160 octets hold 182 GSM-7 characters. Many
// operators cut at 160: the limit is set per operator.
const DefaultLimit = 182

// SMSLimit is a screen of the SMS dialogue: one SMS of GSM-7 characters.
const SMSLimit = 160

// Check validates a loaded catalogue against the operations the adapters
// serve and a screen limit: dangling links, unreachable nodes, screens that
// can outgrow the limit in any language once paged and filled with their
// longest values, characters outside GSM-7, missing translations, unknown
// operations and input types, and variables that nothing sets.
func Check(cat *Catalogue, ops []Operation, limit int) Problems {
	c := &checker{cat: cat, ops: map[string]Operation{}, limit: limit}
	for _, op := range ops {
		c.ops[op.Name] = op
	}
	c.catalogue()
	ids := make([]string, 0, len(cat.Services))
	for id := range cat.Services {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c.service(cat.Services[id])
	}
	sort.SliceStable(c.ps, func(i, j int) bool {
		a, b := c.ps[i], c.ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Msg < b.Msg
	})
	return c.ps
}

type checker struct {
	cat   *Catalogue
	ops   map[string]Operation
	limit int
	ps    Problems
}

func (c *checker) add(file string, line int, format string, args ...any) {
	c.ps = append(c.ps, Problem{file, line, fmt.Sprintf(format, args...)})
}

// translated reports the languages of langs t lacks.
func (c *checker) translated(file string, line int, what string, t Text, langs []string) {
	for _, l := range langs {
		if strings.TrimSpace(t[l]) == "" {
			c.add(file, line, "%s: missing translation %q", what, l)
		}
	}
}

// fits reports pages that outgrow the screen.
func (c *checker) fits(file string, line int, what, lang string, pages []Page) {
	c.fitsIn(file, line, what, lang, pages, c.limit)
}

// fitsIn reports pages that outgrow a screen of limit septets.
func (c *checker) fitsIn(file string, line int, what, lang string, pages []Page, limit int) {
	for i, p := range pages {
		size, max, bad := ScreenSize(p.Text, limit)
		if bad != 0 {
			c.add(file, line, "%s (%s): %q is not in the GSM-7 alphabet: the screen would go as UCS-2, limited to %d characters", what, lang, bad, UCS2Limit)
		}
		if size > max {
			c.add(file, line, "%s (%s): screen %d can reach %d characters, over the limit of %d", what, lang, i+1, size, max)
		}
		if bad != 0 || size > max {
			return
		}
	}
}

func (c *checker) catalogue() {
	cat := c.cat
	c.translated(cat.File, cat.Line, "title", cat.Title, Languages)
	for _, k := range SystemTexts {
		if t, ok := cat.Texts[k]; ok {
			c.translated(cat.File, cat.Line, "texts."+k, t, Languages)
		}
	}
	seen := map[string]bool{}
	for _, id := range cat.Order {
		if cat.Services[id] == nil {
			c.add(cat.File, cat.Line, "services: %q has no service file", id)
		}
		if seen[id] {
			c.add(cat.File, cat.Line, "services: %q is listed twice", id)
		}
		seen[id] = true
	}
	for id, s := range cat.Services {
		if !seen[id] {
			c.add(s.File, s.Line, "service %q is not on the home menu (services: in %s)", id, CatalogueFile)
		}
	}
	for key, target := range cat.Shortcuts {
		if !allDigits(key) {
			c.add(cat.File, cat.Line, "shortcuts: %q is not a number that can be dialled", key)
		}
		svc, node, _ := strings.Cut(target, "/")
		s := cat.Services[svc]
		if s == nil || (node != "" && s.Nodes[node] == nil) {
			c.add(cat.File, cat.Line, "shortcuts: %s leads to %q, which does not exist", key, target)
		}
	}
	for _, lang := range Languages {
		sc := Screens{Cat: cat, Lang: lang, Limit: c.limit}
		c.fits(cat.File, cat.Line, "home menu", lang, sc.Home())
		for _, k := range []string{"invalid", "too_many", "slow", "retry", "failed", "empty", "busy", "error", "limited"} {
			c.fits(cat.File, cat.Line, "texts."+k, lang, []Page{{Text: sc.text(k) + "\n" + sc.Nav()}})
		}
		c.fits(cat.File, cat.Line, "texts.choose_language", lang, []Page{{Text: sc.text("choose_language")}})
		c.fits(cat.File, cat.Line, "texts.resume", lang, []Page{{Text: sc.Resume()}})
	}
}

// Notes are what menus check says of a catalogue without refusing it: the
// services callers of some language get in another.
func Notes(cat *Catalogue) Problems {
	var ps Problems
	for _, id := range cat.Order {
		s := cat.Services[id]
		if s == nil || len(s.Languages) == 0 {
			continue
		}
		for _, l := range Languages {
			if !contains(s.Languages, l) {
				ps = append(ps, Problem{s.File, s.Line, fmt.Sprintf("service %s is not written in %q: those callers get its screens in %q", id, l, s.Languages[0])})
			}
		}
	}
	return ps
}

var categories = []string{"G2C", "G2B", "G2G"}

func (c *checker) service(s *Service) {
	f := s.File
	if !contains(categories, s.Category) {
		c.add(f, s.Line, "category: %q is not one of %s", s.Category, strings.Join(categories, ", "))
	}
	if s.Owner == "" {
		c.add(f, s.Line, "owner: missing (the administration that moves the cases)")
	}
	c.translated(f, s.Line, "title", s.Title, s.languages())
	if s.Nodes[s.Start] == nil {
		c.add(f, s.Line, "start: %q is not a node of this service", s.Start)
	}

	vars := c.variables(s)
	for _, name := range s.Order {
		c.node(s, s.Nodes[name], vars)
	}

	// Reachability from the start, and from shortcuts into this service.
	reached := map[string]bool{}
	queue := []string{s.Start}
	for target, dest := range c.cat.Shortcuts {
		_ = target
		if svc, node, ok := strings.Cut(dest, "/"); ok && svc == s.ID {
			queue = append(queue, node)
		}
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		n := s.Nodes[name]
		if n == nil || reached[name] {
			continue
		}
		reached[name] = true
		queue = append(queue, targets(n)...)
	}
	for _, name := range s.Order {
		if !reached[name] {
			c.add(f, s.Nodes[name].Line, "node %q is unreachable from start %q", name, s.Start)
		}
	}

	for name, st := range s.Statuses {
		c.translated(f, st.Line, "status "+name, st.Label, s.languages())
		for _, lang := range s.languages() {
			// Labels show on screens through {{status}}.
			if _, bad := sms.Septets(st.Label[lang]); bad != 0 {
				c.add(f, st.Line, "status %s (%s): %q is not in the GSM-7 alphabet, and the label shows on screens", name, lang, bad)
			}
		}
		for _, next := range st.Next {
			if s.Statuses[next] == nil {
				c.add(f, st.Line, "status %s: moves to %q, which is not a status", name, next)
			}
		}
	}
	for name, m := range s.Messages {
		c.translated(f, s.Line, "messages."+name, m, s.languages())
	}
	if r := s.Retention; r.Closed > 0 {
		switch {
		case len(c.cat.Closed(s.ID)) == 0:
			c.add(f, r.Line, "retention.closed: the service has no closed status (one that moves nowhere) for it to count from")
		case r.Closed < 30*24*time.Hour:
			c.add(f, r.Line, "retention.closed: %d days is under 30, too soon for a citizen to come back about their case", r.Closed/(24*time.Hour))
		}
	}
}

// targets lists where a node can lead within its service.
func targets(n *Node) []string {
	var ts []string
	for _, o := range n.Options {
		ts = append(ts, o.Next)
	}
	ts = append(ts, n.Next, n.Yes, n.No)
	for _, t := range n.Fail {
		ts = append(ts, t)
	}
	return ts
}

// variables returns every variable the service can set, with its longest
// length.
func (c *checker) variables(s *Service) map[string]int {
	vars := map[string]int{}
	for _, name := range s.Order {
		n := s.Nodes[name]
		switch n.Kind {
		case KindInput:
			if t, ok := InputTypes[n.Input.Type]; ok && n.Input.Save != "" {
				vars[n.Input.Save] = t.MaxLen(n.Input)
			}
		case KindChoose:
			if op, ok := c.ops[n.Choose.From]; ok && n.Choose.Save != "" {
				vars[n.Choose.Save] = op.LabelMax
				vars[n.Choose.Save+"_id"] = 40
			}
		case KindAction:
			if op, ok := c.ops[n.Action]; ok {
				for out, max := range op.Outputs {
					vars[n.Save+out] = max
				}
			}
		}
	}
	return vars
}

func (c *checker) link(s *Service, n *Node, what, target string, required bool) {
	c.linkAt(s, n, n.Line, what, target, required)
}

func (c *checker) linkAt(s *Service, n *Node, line int, what, target string, required bool) {
	switch {
	case target == "":
		if required {
			c.add(s.File, line, "node %s: %s is missing", n.Name, what)
		}
	case target == TargetHome:
	case strings.HasPrefix(target, "@"):
		if c.cat.Services[target[1:]] == nil {
			c.add(s.File, line, "node %s: %s leads to service %q, which does not exist", n.Name, what, target[1:])
		}
	case s.Nodes[target] == nil:
		c.add(s.File, line, "node %s: %s leads to %q, which is not a node of this service", n.Name, what, target)
	}
}

func (c *checker) node(s *Service, n *Node, vars map[string]int) {
	f := s.File
	if n.Kind == "" {
		return // the loader already said why
	}
	if n.Kind != KindAction {
		c.translated(f, n.Line, "node "+n.Name, n.Text, s.languages())
	}
	var labels []string
	switch n.Kind {
	case KindMenu:
		for i, o := range n.Options {
			c.translated(f, o.Line, fmt.Sprintf("node %s option %d", n.Name, i+1), o.Label, s.languages())
			c.linkAt(s, n, o.Line, fmt.Sprintf("option %d", i+1), o.Next, true)
		}
	case KindInput:
		c.link(s, n, "next", n.Next, true)
		t, ok := InputTypes[n.Input.Type]
		if !ok {
			c.add(f, n.Line, "node %s: unknown input type %q (known: %s)", n.Name, n.Input.Type, strings.Join(inputTypeNames(), ", "))
		} else if t.Verify != nil {
			if msg := t.Verify(n.Input); msg != "" {
				c.add(f, n.Line, "node %s: input %s", n.Name, msg)
			}
		}
		if n.Input.Save == "" {
			c.add(f, n.Line, "node %s: input needs save (the variable that keeps it)", n.Name)
		}
		if n.Input.Error != nil {
			c.translated(f, n.Line, "node "+n.Name+" input.error", n.Input.Error, s.languages())
		}
	case KindChoose:
		c.link(s, n, "next", n.Next, true)
		op, ok := c.ops[n.Choose.From]
		switch {
		case !ok:
			c.add(f, n.Line, "node %s: unknown operation %q", n.Name, n.Choose.From)
		case !op.List:
			c.add(f, n.Line, "node %s: operation %q does not return a list to choose from", n.Name, n.Choose.From)
		default:
			// Two options at their longest: page 1 then carries "98 more".
			labels = []string{strings.Repeat("W", op.LabelMax), strings.Repeat("W", op.LabelMax)}
		}
		if n.Choose.Save == "" {
			c.add(f, n.Line, "node %s: choose needs save (the variable that keeps the choice)", n.Name)
		}
		c.args(s, n, n.Choose.Args, vars)
		c.fails(s, n)
	case KindConfirm:
		c.link(s, n, "yes", n.Yes, true)
		c.link(s, n, "no", n.No, false)
	case KindAction:
		c.link(s, n, "next", n.Next, true)
		op, ok := c.ops[n.Action]
		switch {
		case !ok:
			c.add(f, n.Line, "node %s: unknown operation %q", n.Name, n.Action)
		case op.List:
			c.add(f, n.Line, "node %s: operation %q returns a list: use it in a choose node", n.Name, n.Action)
		}
		c.args(s, n, n.Args, vars)
		c.fails(s, n)
		return
	}

	for _, lang := range s.languages() {
		long := map[string]string{}
		for _, name := range Placeholders(n.Text.Get(lang)) {
			max, ok := vars[name]
			if !ok {
				c.add(f, n.Line, "node %s (%s): variable {{%s}} is never set in this service", n.Name, lang, name)
			}
			long[name] = strings.Repeat("W", min(max, c.limit+1))
		}
		for _, o := range n.Options {
			for _, name := range Placeholders(o.Label.Get(lang)) {
				if _, ok := vars[name]; !ok {
					c.add(f, o.Line, "node %s (%s): variable {{%s}} is never set in this service", n.Name, lang, name)
				}
				long[name] = strings.Repeat("W", min(vars[name], c.limit+1))
			}
		}
		prefix := ""
		if n.Kind == KindInput {
			// The longest it gets is the re-prompt after bad input.
			prefix = Screens{Cat: c.cat, Lang: lang}.text("invalid") + " "
			if n.Input.Error != nil {
				prefix = n.Input.Error.Get(lang) + " "
			}
		}
		// A service offered by SMS has its screens in one SMS each.
		limit, what := c.limit, "node "+n.Name
		if s.Offers("sms") && SMSLimit < limit {
			limit, what = SMSLimit, "node "+n.Name+" by SMS"
		}
		sc := Screens{Cat: c.cat, Lang: lang, Limit: limit}
		c.fitsIn(f, n.Line, what, lang, sc.Node(n, long, labels, prefix), limit)
	}
}

func (c *checker) args(s *Service, n *Node, args map[string]string, vars map[string]int) {
	for k, v := range args {
		for _, name := range Placeholders(v) {
			if _, ok := vars[name]; !ok {
				c.add(s.File, n.Line, "node %s: argument %s uses {{%s}}, which is never set in this service", n.Name, k, name)
			}
		}
	}
}

var failCodes = []string{"invalid", "not_found", "conflict", "empty"}

func (c *checker) fails(s *Service, n *Node) {
	for code, target := range n.Fail {
		if !contains(failCodes, code) {
			c.add(s.File, n.Line, "node %s: fail: %q is not an error code (%s)", n.Name, code, strings.Join(failCodes, ", "))
		}
		c.link(s, n, "fail."+code, target, true)
	}
}

func inputTypeNames() []string {
	names := make([]string, 0, len(InputTypes))
	for k := range InputTypes {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
