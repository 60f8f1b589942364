package menus

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Graph writes the catalogue as a diagram: format "mermaid" (a flowchart
// that renders in Markdown viewers) or "dot" (Graphviz). Labels are in lang.
func Graph(w io.Writer, cat *Catalogue, format, lang string) error {
	type edge struct{ from, to, label string }
	type vertex struct{ id, label, shape string }
	var vs []vertex
	var es []edge
	// Vertices are numbered: names may hold characters that Mermaid and
	// dot ids may not, and any escaping risks two names meeting.
	ids := map[string]string{}
	id := func(svc, node string) string {
		k := svc + "/" + node
		if v, ok := ids[k]; ok {
			return v
		}
		v := fmt.Sprintf("n%d", len(ids))
		ids[k] = v
		return v
	}
	target := func(svc, t string) string {
		switch {
		case t == TargetHome:
			return "home"
		case strings.HasPrefix(t, "@"):
			if s := cat.Services[t[1:]]; s != nil {
				return id(s.ID, s.Start)
			}
		}
		return id(svc, t)
	}
	vs = append(vs, vertex{"home", cat.Title.Get(lang), "menu"})
	for i, sid := range cat.Order {
		if s := cat.Services[sid]; s != nil {
			es = append(es, edge{"home", id(s.ID, s.Start), fmt.Sprintf("%d", i+1)})
		}
	}
	names := make([]string, 0, len(cat.Services))
	for k := range cat.Services {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, sid := range names {
		s := cat.Services[sid]
		for _, name := range s.Order {
			n := s.Nodes[name]
			label := n.Text.Get(lang)
			if n.Kind == KindAction {
				label = n.Action
			}
			vs = append(vs, vertex{id(sid, name), s.ID + "/" + name + ": " + label, n.Kind})
			for i, o := range n.Options {
				es = append(es, edge{id(sid, name), target(sid, o.Next), fmt.Sprintf("%d", i+1)})
			}
			if n.Next != "" {
				es = append(es, edge{id(sid, name), target(sid, n.Next), ""})
			}
			if n.Yes != "" {
				es = append(es, edge{id(sid, name), target(sid, n.Yes), cat.Texts["yes"].Get(lang)})
			}
			if n.No != "" {
				es = append(es, edge{id(sid, name), target(sid, n.No), cat.Texts["no"].Get(lang)})
			}
			codes := make([]string, 0, len(n.Fail))
			for c := range n.Fail {
				codes = append(codes, c)
			}
			sort.Strings(codes)
			for _, c := range codes {
				es = append(es, edge{id(sid, name), target(sid, n.Fail[c]), c})
			}
		}
	}
	clean := func(s string) string {
		s = strings.ReplaceAll(s, "\n", " ")
		s = strings.ReplaceAll(s, `"`, "'")
		if r := []rune(s); len(r) > 48 {
			s = string(r[:47]) + "…"
		}
		return s
	}
	var b strings.Builder
	switch format {
	case "mermaid":
		b.WriteString("flowchart TD\n")
		for _, v := range vs {
			open, close := "[", "]"
			switch v.shape {
			case KindAction:
				open, close = "[[", "]]"
			case KindEnd:
				open, close = "([", "])"
			case KindConfirm, KindChoose:
				open, close = "{", "}"
			}
			fmt.Fprintf(&b, "  %s%s\"%s\"%s\n", v.id, open, clean(v.label), close)
		}
		for _, e := range es {
			if e.label != "" {
				fmt.Fprintf(&b, "  %s -->|%s| %s\n", e.from, clean(e.label), e.to)
			} else {
				fmt.Fprintf(&b, "  %s --> %s\n", e.from, e.to)
			}
		}
	case "dot":
		b.WriteString("digraph guichet {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n")
		for _, v := range vs {
			shape := map[string]string{KindAction: "component", KindEnd: "doubleoctagon", KindConfirm: "diamond",
				KindChoose: "diamond", KindInput: "parallelogram"}[v.shape]
			if shape == "" {
				shape = "box"
			}
			fmt.Fprintf(&b, "  %s [label=\"%s\", shape=%s];\n", v.id, clean(v.label), shape)
		}
		for _, e := range es {
			fmt.Fprintf(&b, "  %s -> %s [label=\"%s\"];\n", e.from, e.to, clean(e.label))
		}
		b.WriteString("}\n")
	default:
		return fmt.Errorf("unknown graph format %q (mermaid or dot)", format)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
