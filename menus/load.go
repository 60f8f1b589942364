package menus

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong in a menu file, with where it is.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Problems is a list of problems, as an error.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "\n")
}

// CatalogueFile is the name of the file that holds the home menu and the
// gateway's own texts; every other .yaml file in the folder is a service.
const CatalogueFile = "catalogue.yaml"

// MaxFileSize bounds a menu file.
const MaxFileSize = 1 << 20

// Load reads a catalogue folder: catalogue.yaml and one file per service. It
// reports every problem it finds at once, each with its file and line; it
// does not validate links or sizes (Check does).
func Load(fsys fs.FS, dir string) (*Catalogue, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading menu folder: %w", err)
	}
	var ps Problems
	var cat *Catalogue
	var services []*Service
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || (!strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml")) {
			continue
		}
		file := path.Join(dir, name)
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
		if name == CatalogueFile {
			cat, err = ParseCatalogue(file, data)
		} else {
			var s *Service
			s, err = ParseService(file, data)
			if s != nil {
				services = append(services, s)
			}
		}
		ps = appendProblems(ps, err)
	}
	if cat == nil {
		ps = append(ps, Problem{File: path.Join(dir, CatalogueFile), Msg: "missing: the catalogue file is required"})
		return nil, ps
	}
	for _, s := range services {
		if prev, dup := cat.Services[s.ID]; dup {
			ps = append(ps, Problem{s.File, s.Line, fmt.Sprintf("service %q is also defined in %s", s.ID, prev.File)})
			continue
		}
		cat.Services[s.ID] = s
	}
	if len(ps) > 0 {
		return cat, ps
	}
	return cat, nil
}

func appendProblems(ps Problems, err error) Problems {
	if err == nil {
		return ps
	}
	var more Problems
	if errors.As(err, &more) {
		return append(ps, more...)
	}
	return append(ps, Problem{Msg: err.Error()})
}

// reader walks a yaml.Node tree and collects problems with line numbers.
type reader struct {
	file string
	ps   Problems
}

// problems returns what the reader found, in line order (maps are walked
// in no order; the report must not flicker).
func (r *reader) problems() Problems {
	sort.SliceStable(r.ps, func(i, j int) bool {
		if r.ps[i].Line != r.ps[j].Line {
			return r.ps[i].Line < r.ps[j].Line
		}
		return r.ps[i].Msg < r.ps[j].Msg
	})
	return r.ps
}

func (r *reader) errorf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	r.ps = append(r.ps, Problem{r.file, line, fmt.Sprintf(format, args...)})
}

func (r *reader) root(data []byte) *yaml.Node {
	if len(data) > MaxFileSize {
		r.errorf(nil, "file is larger than %d bytes", MaxFileSize)
		return nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			r.errorf(nil, "file is empty")
			return nil
		}
		line := 0
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			// yaml.v3 writes "yaml: line N: msg"; keep the line as ours.
			msg := strings.TrimPrefix(err.Error(), "yaml: ")
			if rest, ok := strings.CutPrefix(msg, "line "); ok {
				if i := strings.Index(rest, ":"); i > 0 {
					if n, err := strconv.Atoi(rest[:i]); err == nil {
						line, msg = n, strings.TrimSpace(rest[i+1:])
					}
				}
			}
			r.ps = append(r.ps, Problem{r.file, line, "not valid YAML: " + msg})
			return nil
		}
		r.errorf(nil, "not valid YAML: %v", err)
		return nil
	}
	if len(doc.Content) == 0 {
		r.errorf(nil, "file is empty")
		return nil
	}
	n := doc.Content[0]
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "expected a mapping at the top of the file")
		return nil
	}
	return n
}

// fields returns a mapping's keys and values, refusing keys not in allowed.
func (r *reader) fields(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	m := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		r.errorf(n, "%s: expected a mapping", what)
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := m[k.Value]; dup {
			r.errorf(k, "%s: %q is given twice", what, k.Value)
		}
		if len(allowed) > 0 && !contains(allowed, k.Value) {
			r.errorf(k, "%s: unknown key %q (known: %s)", what, k.Value, strings.Join(allowed, ", "))
			continue
		}
		m[k.Value] = v
	}
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (r *reader) str(n *yaml.Node, what string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		r.errorf(n, "%s: expected a string", what)
		return ""
	}
	return n.Value
}

func (r *reader) integer(n *yaml.Node, what string) int {
	if n == nil {
		return 0
	}
	v, err := strconv.Atoi(r.str(n, what))
	if err != nil || v < 0 {
		r.errorf(n, "%s: expected a whole number ≥ 0", what)
	}
	return v
}

func (r *reader) boolean(n *yaml.Node, what string) bool {
	if n == nil {
		return false
	}
	switch r.str(n, what) {
	case "true", "yes":
		return true
	case "false", "no":
		return false
	}
	r.errorf(n, "%s: expected true or false", what)
	return false
}

func (r *reader) list(n *yaml.Node, what string) []string {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, "%s: expected a list", what)
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, r.str(c, what))
	}
	return out
}

// channels reads where a service is offered: known channels, each once.
func (r *reader) channels(n *yaml.Node) []string {
	cs := r.list(n, "channels")
	for i, c := range cs {
		switch {
		case !contains(Channels, c):
			r.errorf(n.Content[i], "channels: %q is not one of %s", c, strings.Join(Channels, ", "))
		case contains(cs[:i], c):
			r.errorf(n.Content[i], "channels: %q is listed twice", c)
		}
	}
	if n != nil && n.Kind == yaml.SequenceNode && len(cs) == 0 {
		r.errorf(n, "channels: empty: the service would be offered nowhere (leave it out for every channel)")
	}
	return cs
}

// languages reads a service's languages: ones the catalogue speaks, each
// once, at least one.
func (r *reader) languages(n *yaml.Node) []string {
	ls := r.list(n, "languages")
	if n != nil && n.Kind == yaml.SequenceNode && len(ls) == 0 {
		r.errorf(n, "languages: empty: leave it out for a service in every language")
	}
	for i, l := range ls {
		switch {
		case !contains(Languages, l):
			r.errorf(n.Content[i], "languages: %q is not one of %s", l, strings.Join(Languages, ", "))
		case contains(ls[:i], l):
			r.errorf(n.Content[i], "languages: %q is listed twice", l)
		}
	}
	return ls
}

func (r *reader) strmap(n *yaml.Node, what string) map[string]string {
	if n == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range r.fields(n, what) {
		out[k] = r.str(v, what+"."+k)
	}
	return out
}

// text reads {fr: …, en: …}. Languages other than ours are refused; missing
// ones are left for Check to report.
func (r *reader) text(n *yaml.Node, what string) Text {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		r.errorf(n, "%s: expected a text per language, like {fr: \"…\", en: \"…\"}", what)
		return nil
	}
	t := Text{}
	for k, v := range r.fields(n, what, Languages...) {
		t[k] = r.str(v, what+"."+k)
	}
	return t
}

// ParseCatalogue reads catalogue.yaml.
func ParseCatalogue(file string, data []byte) (*Catalogue, error) {
	r := &reader{file: file}
	n := r.root(data)
	if n == nil {
		return nil, r.problems()
	}
	f := r.fields(n, "catalogue", "catalogue", "code", "title", "services", "shortcuts", "texts")
	c := &Catalogue{
		Name:      r.str(f["catalogue"], "catalogue"),
		Code:      r.str(f["code"], "code"),
		Title:     r.text(f["title"], "title"),
		Order:     r.list(f["services"], "services"),
		Shortcuts: r.strmap(f["shortcuts"], "shortcuts"),
		Texts:     map[string]Text{},
		Services:  map[string]*Service{},
		File:      file,
		Line:      n.Line,
	}
	if c.Name == "" {
		r.errorf(n, "catalogue: missing name (catalogue: …)")
	}
	if !validCode(c.Code) {
		r.errorf(n, "code: %q is not a USSD code like *123#", c.Code)
	}
	if t := f["texts"]; t != nil {
		for k, v := range r.fields(t, "texts", append(slices.Clone(SystemTexts), slices.Sorted(maps.Keys(OptionalTexts))...)...) {
			c.Texts[k] = r.text(v, "texts."+k)
		}
	}
	for k, t := range OptionalTexts {
		if _, ok := c.Texts[k]; !ok {
			c.Texts[k] = t
		}
	}
	for _, k := range SystemTexts {
		if _, ok := c.Texts[k]; !ok {
			r.errorf(n, "texts: missing %q", k)
		}
	}
	if len(r.ps) > 0 {
		return c, r.problems()
	}
	return c, nil
}

func validCode(s string) bool {
	if len(s) < 3 || s[0] != '*' || s[len(s)-1] != '#' {
		return false
	}
	for _, part := range strings.Split(s[1:len(s)-1], "*") {
		if part == "" {
			return false
		}
		for _, c := range part {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

var nodeKeys = []string{"menu", "options", "ask", "input", "choose", "confirm", "yes", "no",
	"action", "args", "save", "next", "fail", "end"}

// ParseService reads one service file.
func ParseService(file string, data []byte) (*Service, error) {
	r := &reader{file: file}
	n := r.root(data)
	if n == nil {
		return nil, r.problems()
	}
	f := r.fields(n, "service", "service", "category", "critical", "owner", "channels", "languages",
		"title", "start", "nodes", "statuses", "messages", "transliterate", "backend", "retention")
	s := &Service{
		ID:        r.str(f["service"], "service"),
		Category:  r.str(f["category"], "category"),
		Critical:  r.boolean(f["critical"], "critical"),
		Owner:     r.str(f["owner"], "owner"),
		Channels:  r.channels(f["channels"]),
		Languages: r.languages(f["languages"]),
		Title:     r.text(f["title"], "title"),
		Start:     r.str(f["start"], "start"),
		Nodes:     map[string]*Node{},
		Statuses:  map[string]*Status{},
		Messages:  map[string]Text{},
		File:      file,
		Line:      n.Line,
	}
	if !ValidName(s.ID) {
		r.errorf(n, "service: %q is not a name (lower-case letters, digits, '-' and '_')", s.ID)
	}
	if nodes := f["nodes"]; nodes == nil {
		r.errorf(n, "nodes: a service needs at least one node")
	} else if nodes.Kind != yaml.MappingNode {
		r.errorf(nodes, "nodes: expected a mapping of node names to nodes")
	} else {
		for i := 0; i+1 < len(nodes.Content); i += 2 {
			k, v := nodes.Content[i], nodes.Content[i+1]
			if !ValidName(k.Value) {
				r.errorf(k, "node %q: not a name (lower-case letters, digits, '-' and '_')", k.Value)
				continue
			}
			if _, dup := s.Nodes[k.Value]; dup {
				r.errorf(k, "node %q is defined twice", k.Value)
				continue
			}
			s.Nodes[k.Value] = r.node(k.Value, v)
			s.Order = append(s.Order, k.Value)
		}
	}
	if st := f["statuses"]; st != nil && st.Kind != yaml.MappingNode {
		r.errorf(st, "statuses: expected a mapping of status names to labels")
	} else if st != nil {
		for i := 0; i+1 < len(st.Content); i += 2 {
			k, v := st.Content[i], st.Content[i+1]
			if !ValidName(k.Value) {
				r.errorf(k, "status %q: not a name (lower-case letters, digits, '-' and '_')", k.Value)
				continue
			}
			if _, dup := s.Statuses[k.Value]; dup {
				r.errorf(k, "status %q is defined twice", k.Value)
				continue
			}
			sf := r.fields(v, "status "+k.Value, append([]string{"next"}, Languages...)...)
			label := Text{}
			for _, l := range Languages {
				if sf[l] != nil {
					label[l] = r.str(sf[l], "status "+k.Value+"."+l)
				}
			}
			s.Statuses[k.Value] = &Status{Label: label, Next: r.list(sf["next"], "status "+k.Value+".next"), Line: k.Line}
		}
	}
	if b := f["backend"]; b != nil {
		if b.Kind != yaml.MappingNode {
			r.errorf(b, "backend: expected a mapping (type, endpoint, operations…)")
		} else {
			s.Backend = b
		}
	}
	if m := f["messages"]; m != nil {
		for k, v := range r.fields(m, "messages") {
			s.Messages[k] = r.text(v, "messages."+k)
		}
	}
	if t := f["transliterate"]; t != nil {
		s.Transliterate = r.list(t, "transliterate")
		for i, k := range s.Transliterate {
			if _, ok := s.Messages[k]; !ok {
				r.errorf(t.Content[i], "transliterate: %q is not one of the service's messages", k)
			}
		}
	}
	if rt := f["retention"]; rt != nil {
		rf := r.fields(rt, "retention", "closed")
		s.Retention.Line = rt.Line
		if c := rf["closed"]; c != nil {
			d, err := ParsePeriod(r.str(c, "retention.closed"))
			if err != nil {
				r.errorf(c, "retention.closed: %v", err)
			}
			s.Retention.Closed = d
		}
	}
	if len(r.ps) > 0 {
		return s, r.problems()
	}
	return s, nil
}

func (r *reader) node(name string, v *yaml.Node) *Node {
	what := "node " + name
	f := r.fields(v, what, nodeKeys...)
	n := &Node{Name: name, Line: v.Line}
	var kinds []string
	for _, k := range Kinds {
		if f[k] != nil {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	if len(kinds) != 1 {
		// input and choose take their prompt from "ask".
		r.errorf(v, "%s: needs exactly one of %s (found %d: %s)", what, strings.Join(Kinds, ", "), len(kinds), strings.Join(kinds, ", "))
		return n
	}
	n.Kind = kinds[0]
	n.Next = r.str(f["next"], what+".next")
	n.Fail = r.strmap(f["fail"], what+".fail")
	allowed := map[string][]string{
		KindMenu:    {"menu", "options"},
		KindInput:   {"ask", "input", "next"},
		KindChoose:  {"ask", "choose", "next", "fail"},
		KindConfirm: {"confirm", "yes", "no"},
		KindAction:  {"action", "args", "save", "next", "fail"},
		KindEnd:     {"end"},
	}[n.Kind]
	for k, kv := range f {
		if !contains(allowed, k) {
			r.errorf(kv, "%s: %q does not go with a %s node", what, k, n.Kind)
		}
	}
	switch n.Kind {
	case KindMenu:
		n.Text = r.text(f["menu"], what+".menu")
		opts := f["options"]
		if opts == nil || opts.Kind != yaml.SequenceNode || len(opts.Content) == 0 {
			r.errorf(v, "%s: a menu needs a list of options", what)
			break
		}
		for i, o := range opts.Content {
			of := r.fields(o, fmt.Sprintf("%s option %d", what, i+1), "label", "next")
			n.Options = append(n.Options, Option{
				Label: r.text(of["label"], fmt.Sprintf("%s option %d label", what, i+1)),
				Next:  r.str(of["next"], "next"),
				Line:  o.Line,
			})
		}
	case KindInput:
		n.Text = r.text(f["ask"], what+".ask")
		inf := r.fields(f["input"], what+".input", "type", "save", "min", "max", "pattern", "format", "when", "retries", "error")
		n.Input = &Input{
			Type:    r.str(inf["type"], "input.type"),
			Save:    r.str(inf["save"], "input.save"),
			Min:     r.integer(inf["min"], "input.min"),
			Max:     r.integer(inf["max"], "input.max"),
			Pattern: r.str(inf["pattern"], "input.pattern"),
			Format:  r.str(inf["format"], "input.format"),
			When:    r.str(inf["when"], "input.when"),
			Retries: r.integer(inf["retries"], "input.retries"),
			Error:   r.text(inf["error"], "input.error"),
		}
	case KindChoose:
		n.Text = r.text(f["ask"], what+".ask")
		cf := r.fields(f["choose"], what+".choose", "from", "save", "args")
		n.Choose = &Choose{From: r.str(cf["from"], "choose.from"), Save: r.str(cf["save"], "choose.save"),
			Args: r.strmap(cf["args"], "choose.args")}
	case KindConfirm:
		n.Text = r.text(f["confirm"], what+".confirm")
		n.Yes = r.str(f["yes"], what+".yes")
		n.No = r.str(f["no"], what+".no")
	case KindAction:
		n.Action = r.str(f["action"], what+".action")
		n.Args = r.strmap(f["args"], what+".args")
		n.Save = r.str(f["save"], what+".save")
	case KindEnd:
		n.Text = r.text(f["end"], what+".end")
	}
	return n
}

// ValidName reports whether s may name a service, a node or a status:
// 1 to 40 lower-case letters, digits, '-' and '_'.
func ValidName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
