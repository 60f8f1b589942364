package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/guichet/guichet/adapters/backend"
)

// Envelope namespaces.
const (
	ns11 = "http://schemas.xmlsoap.org/soap/envelope/"
	ns12 = "http://www.w3.org/2003/05/soap-envelope"
)

// header is a SOAP header element to send.
type header struct {
	name, namespace, value string
}

// envelope writes the SOAP envelope of version (SOAP11 or SOAP12) whose Body
// holds the element name in namespace, with fields as its descendants, and
// whose Header holds hdr if it has a name. Text is escaped by encoding/xml;
// the request element declares its namespace as the default one, so that
// the fields are qualified by it too.
func envelope(version string, hdr header, name, namespace string, fields []backend.Field) ([]byte, error) {
	envNS := ns11
	if version == backend.SOAP12 {
		envNS = ns12
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	env := xml.StartElement{
		Name: xml.Name{Local: "soap:Envelope"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns:soap"}, Value: envNS}},
	}
	tokens := []xml.Token{env}
	if hdr.name != "" {
		h := xml.StartElement{Name: xml.Name{Local: "soap:Header"}}
		e := xml.StartElement{Name: xml.Name{Space: hdr.namespace, Local: hdr.name}}
		tokens = append(tokens, h, e, xml.CharData(hdr.value), e.End(), h.End())
	}
	body := xml.StartElement{Name: xml.Name{Local: "soap:Body"}}
	req := xml.StartElement{Name: xml.Name{Space: namespace, Local: name}}
	tokens = append(tokens, body, req)
	tokens = appendTree(tokens, tree(fields))
	tokens = append(tokens, req.End(), body.End(), env.End())
	for _, t := range tokens {
		if err := enc.EncodeToken(t); err != nil {
			return nil, fmt.Errorf("encoding the envelope: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding the envelope: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// field is an element of a request: a value, or fields of its own.
type field struct {
	name     string
	value    string
	children []*field
}

// tree nests fields by their paths, keeping their order: an element comes
// where its first field does.
func tree(fields []backend.Field) []*field {
	root := &field{}
	for _, f := range fields {
		n := root
		for _, seg := range f.Path {
			var next *field
			for _, c := range n.children {
				if c.name == seg {
					next = c
					break
				}
			}
			if next == nil {
				next = &field{name: seg}
				n.children = append(n.children, next)
			}
			n = next
		}
		n.value = f.Value
	}
	return root.children
}

func appendTree(tokens []xml.Token, fields []*field) []xml.Token {
	for _, f := range fields {
		start := xml.StartElement{Name: xml.Name{Local: f.name}}
		tokens = append(tokens, start)
		if len(f.children) > 0 {
			tokens = appendTree(tokens, f.children)
		} else {
			tokens = append(tokens, xml.CharData(f.value))
		}
		tokens = append(tokens, start.End())
	}
	return tokens
}

// node is an element of a parsed answer, known by its local name only: the
// answer's namespaces and prefixes do not matter. A node implements
// backend.Document with paths of local names separated by "/", starting below
// the node ("Body/OpenCaseResponse/Reference" from the Envelope).
type node struct {
	Name     string
	Text     string // the element's own text, trimmed of XML white space
	Children []*node
}

// parse reads a SOAP envelope (1.1 or 1.2) and returns its root element. It
// refuses what is not well-formed XML, a DTD, content after the root, a root
// that is not an Envelope and an Envelope without a Body.
func parse(b []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.CharsetReader = charsetReader
	var (
		root  *node
		stack []*node
		text  [][]byte // the text of each open element
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, errors.New("content after the root element")
			}
			n := &node{Name: t.Name.Local}
			if len(stack) == 0 {
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, n)
			}
			stack = append(stack, n)
			text = append(text, nil)
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.Text = string(bytes.Trim(text[len(text)-1], " \t\r\n"))
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		case xml.CharData:
			if len(stack) > 0 {
				text[len(text)-1] = append(text[len(text)-1], t...)
			} else if len(bytes.Trim(t, " \t\r\n")) > 0 {
				return nil, errors.New("text outside the root element")
			}
		case xml.Directive:
			return nil, errors.New("a DTD or directive, which SOAP forbids")
		}
	}
	switch {
	case root == nil:
		return nil, errors.New("no XML element")
	case len(stack) > 0:
		return nil, fmt.Errorf("not well-formed XML: %s is not closed", stack[len(stack)-1].Name)
	case root.Name != "Envelope":
		return nil, fmt.Errorf("the root element is %s, not a SOAP Envelope", root.Name)
	case root.child("Body") == nil:
		return nil, errors.New("the Envelope has no Body")
	}
	return root, nil
}

// charsetReader reads the encodings that encoding/xml does not know by
// itself and that old systems still declare: ISO-8859-1 and US-ASCII.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		b, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b)+len(b)/4)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	case "us-ascii", "ascii":
		return input, nil
	}
	return nil, fmt.Errorf("unsupported charset %q", charset)
}

// child returns n's first child named name, or nil.
func (n *node) child(name string) *node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// find follows path below n, taking the first child of each name.
func (n *node) find(path string) *node {
	for seg := range strings.SplitSeq(path, "/") {
		if n = n.child(seg); n == nil {
			return nil
		}
	}
	return n
}

// Value returns the text of the element at path, and false if there is none
// or if it holds elements rather than text.
func (n *node) Value(path string) (string, bool) {
	e := n.find(path)
	if e == nil || len(e.Children) > 0 {
		return "", false
	}
	return e.Text, true
}

// Items returns the elements at path: all the children named by its last
// segment of the element its other segments lead to. A list with no items
// is there as long as its parent is.
func (n *node) Items(path string) ([]backend.Document, bool) {
	parent, name := n, path
	if i := strings.LastIndex(path, "/"); i >= 0 {
		parent, name = n.find(path[:i]), path[i+1:]
	}
	if parent == nil {
		return nil, false
	}
	var items []backend.Document
	for _, c := range parent.Children {
		if c.Name == name {
			items = append(items, c)
		}
	}
	return items, true
}

// fault is a SOAP fault, of version 1.1 or 1.2.
type fault struct {
	Code     string   // 1.1 faultcode, 1.2 Code/Value, as written: "soap:Client"
	Subcodes []string // 1.2 Subcode/Value, outermost first
	Reason   string   // 1.1 faultstring, 1.2 the first Reason/Text
	node     *node
}

// fault returns the envelope's fault, if its Body holds one.
func (n *node) fault() (*fault, bool) {
	body := n.child("Body")
	if body == nil {
		return nil, false
	}
	fn := body.child("Fault")
	if fn == nil {
		return nil, false
	}
	f := &fault{node: fn}
	if code := fn.child("faultcode"); code != nil { // SOAP 1.1
		f.Code = code.Text
		f.Reason, _ = fn.Value("faultstring")
		return f, true
	}
	f.Code, _ = fn.Value("Code/Value") // SOAP 1.2
	sub := fn.find("Code/Subcode")
	for sub != nil {
		if v, ok := sub.Value("Value"); ok {
			f.Subcodes = append(f.Subcodes, v)
		}
		sub = sub.child("Subcode")
	}
	f.Reason, _ = fn.Value("Reason/Text")
	return f, true
}

// Class returns the fault's class: the local part of its code up to the
// first dot ("soap:Server.Busy" → "Server").
func (f *fault) Class() string {
	c, _, _ := strings.Cut(local(f.Code), ".")
	return c
}

// Codes returns the codes that an Errors map may name, most specific first:
// the one at path below the Fault ("detail/ErrorCode") if path is set, the
// 1.2 subcodes innermost first, the code and its class, all without their
// prefixes.
func (f *fault) Codes(path string) []string {
	var codes []string
	if path != "" {
		if v, ok := f.node.Value(path); ok && v != "" {
			codes = append(codes, v)
		}
	}
	for i := len(f.Subcodes) - 1; i >= 0; i-- {
		codes = append(codes, local(f.Subcodes[i]))
	}
	codes = append(codes, local(f.Code))
	if c := f.Class(); c != local(f.Code) {
		codes = append(codes, c)
	}
	return codes
}

func (f *fault) Error() string {
	s := "SOAP fault " + f.Code
	for _, c := range f.Subcodes {
		s += "/" + c
	}
	if f.Reason != "" {
		s += ": " + f.Reason
	}
	return s
}

// local returns a qualified name without its prefix.
func local(qname string) string {
	if i := strings.LastIndexByte(qname, ':'); i >= 0 {
		return qname[i+1:]
	}
	return qname
}
