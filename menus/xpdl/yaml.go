// Writing a service as a service file of the menu language, with a comment
// above each node that says where it comes from.

package xpdl

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/guichet/guichet/menus"
)

// yaml writes the service file, with a comment above each node naming the
// XPDL element it comes from.
func (s *service) yaml() []byte {
	pr := s.proc
	doc := mapping(false)
	doc.HeadComment = fmt.Sprintf("Imported by guichet menus import-xpdl from %s,\nWorkflowProcess %q (line %d). Review it with the import's report,\nthen run guichet menus check.",
		printable(s.imp.opts.File), firstNonEmpty(pr.Label[""], pr.ID), pr.Line)
	put(doc, "service", str(s.id))
	put(doc, "category", str("G2C"))
	put(doc, "critical", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false"})
	put(doc, "owner", str(s.owner))
	put(doc, "channels", &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: []*yaml.Node{str("ussd")}})
	if langs := s.languages(); langs != nil {
		ls := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, l := range langs {
			ls.Content = append(ls.Content, str(l))
		}
		put(doc, "languages", ls)
	}
	put(doc, "title", text(s.title))
	put(doc, "start", str(s.start))
	nodes := mapping(false)
	for _, n := range s.nodes {
		key := str(n.name)
		key.HeadComment = printable(fmt.Sprintf("line %d: %s", n.fromLine, n.from))
		nodes.Content = append(nodes.Content, key, n.yaml())
	}
	put(doc, "nodes", nodes)
	if len(s.statuses) > 0 {
		sts := mapping(false)
		msgs := mapping(false)
		put(msgs, "opened", text(both("Dossier {{ref}} enregistré.", "Case {{ref}} recorded.")))
		put(msgs, "moved", text(both("Dossier {{ref}}: {{status}}.", "Case {{ref}}: {{status}}.")))
		for _, st := range s.statuses {
			key := str(st.name)
			key.HeadComment = printable(fmt.Sprintf("line %d: %s", st.line, st.from))
			v := text(st.label)
			next := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, n := range st.next {
				next.Content = append(next.Content, str(n))
			}
			if len(next.Content) > 0 {
				put(v, "next", next)
			}
			sts.Content = append(sts.Content, key, v)
			if st.sms != nil {
				put(msgs, st.name, text(st.sms))
			}
		}
		put(doc, "statuses", sts)
		put(doc, "messages", msgs)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		panic(err) // a tree of strings always encodes
	}
	enc.Close()
	return b.Bytes()
}

func (n *node) yaml() *yaml.Node {
	m := mapping(false)
	switch n.kind {
	case menus.KindMenu:
		put(m, "menu", text(n.text))
		opts := &yaml.Node{Kind: yaml.SequenceNode}
		for _, o := range n.options {
			om := mapping(false)
			put(om, "label", text(o.label))
			put(om, "next", target(o.next))
			opts.Content = append(opts.Content, om)
		}
		put(m, "options", opts)
	case menus.KindInput:
		put(m, "ask", text(n.text))
		in := mapping(true)
		put(in, "type", str(n.input.Type))
		if n.input.Min > 0 {
			put(in, "min", num(n.input.Min))
		}
		if n.input.Max > 0 {
			put(in, "max", num(n.input.Max))
		}
		if n.input.Pattern != "" {
			put(in, "pattern", quoted(n.input.Pattern))
		}
		if n.input.Format != "" {
			put(in, "format", str(n.input.Format))
		}
		put(in, "save", str(n.input.Save))
		put(m, "input", in)
		put(m, "next", target(n.next))
	case menus.KindConfirm:
		put(m, "confirm", text(n.text))
		put(m, "yes", target(n.yes))
		put(m, "no", target(n.no))
	case menus.KindAction:
		put(m, "action", str(n.action))
		if len(n.args) > 0 {
			args := mapping(true)
			keys := make([]string, 0, len(n.args))
			for k := range n.args {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				put(args, k, quoted(n.args[k]))
			}
			put(m, "args", args)
		}
		put(m, "next", target(n.next))
	case menus.KindEnd:
		put(m, "end", text(n.text))
	}
	return m
}

func mapping(flow bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	return n
}

func put(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func quoted(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
}

func num(n int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(n)}
}

// target quotes "@service" links, which YAML reserves.
func target(s string) *yaml.Node {
	if len(s) > 0 && s[0] == '@' {
		return quoted(s)
	}
	return str(s)
}

// text writes {fr: "…", en: "…"}, leaving out a missing language for
// menus check to report.
func text(t menus.Text) *yaml.Node {
	m := mapping(true)
	for _, lang := range menus.Languages {
		if v, ok := t[lang]; ok {
			put(m, lang, quoted(v))
		}
	}
	return m
}
