// Package xpdl imports workflow definitions written in XPDL, the WfMC's XML
// Process Definition Language (versions 1.0, 2.0, 2.1 and 2.2), into service
// files of the menu language (docs/MENUS.md), with a report of every part
// that has no phone equivalent and of what `guichet menus check` will say
// about the result. The mapping is documented in docs/XPDL.md.
//
// Read parses a file into a Package; Import maps it to service files.
package xpdl

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// Limits of what Read accepts.
const (
	MaxFileSize = 8 << 20 // bytes
	maxDepth    = 256     // nested elements
	maxElements = 500000
)

// Namespaces maps the XPDL namespaces to their versions. The version is told
// from the root element's namespace, not from PackageHeader/XPDLVersion,
// which editors get wrong.
var Namespaces = map[string]string{
	"http://www.wfmc.org/2002/XPDL1.0":      "1.0",
	"http://www.wfmc.org/2004/XPDL2.0alpha": "2.0",
	"http://www.wfmc.org/2008/XPDL2.1":      "2.1",
	"http://www.wfmc.org/2009/XPDL2.2":      "2.2",
}

// Error is a file that cannot be read as XPDL, with the line where reading
// stopped (0 when the whole file is at fault).
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

func errorf(line int, format string, args ...any) *Error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// element is one XML element with the line of its start tag.
type element struct {
	Space, Local string
	Attrs        []xml.Attr
	Children     []*element
	Text         string // character data directly inside
	Line         int
	ns           string // the XPDL namespace of the document
}

// xpdl reports whether e is an XPDL element named local.
func (e *element) xpdl(local string) bool { return e != nil && e.Space == e.ns && e.Local == local }

// child returns e's first XPDL child named local.
func (e *element) child(local string) *element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.xpdl(local) {
			return c
		}
	}
	return nil
}

// children returns e's XPDL children named local.
func (e *element) children(local string) []*element {
	if e == nil {
		return nil
	}
	var out []*element
	for _, c := range e.Children {
		if c.xpdl(local) {
			out = append(out, c)
		}
	}
	return out
}

// path follows XPDL children: path("Performers", "Performer").
func (e *element) path(locals ...string) *element {
	for _, l := range locals {
		e = e.child(l)
	}
	return e
}

// all returns the XPDL elements named local at the end of path, e.g.
// all("TransitionRestrictions", "TransitionRestriction").
func (e *element) all(locals ...string) []*element {
	cur := []*element{e}
	for _, l := range locals {
		var next []*element
		for _, c := range cur {
			next = append(next, c.children(l)...)
		}
		cur = next
	}
	return cur
}

// attr returns an unqualified attribute (XPDL's own attributes have no
// namespace).
func (e *element) attr(name string) string {
	if e == nil {
		return ""
	}
	for _, a := range e.Attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// vendorAttr returns an attribute that a vendor namespace adds, by local
// name (xpdExt:DisplayName).
func (e *element) vendorAttr(local string) string {
	if e == nil {
		return ""
	}
	for _, a := range e.Attrs {
		if a.Name.Space != "" && a.Name.Space != "xmlns" && a.Name.Space != e.ns && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// text returns e's character data, trimmed.
func (e *element) text() string {
	if e == nil {
		return ""
	}
	return strings.TrimSpace(e.Text)
}

// lines turns byte offsets into line numbers.
type lines []int // offsets of '\n'

func newLines(data []byte) lines {
	var ls lines
	for i, b := range data {
		if b == '\n' {
			ls = append(ls, i)
		}
	}
	return ls
}

func (ls lines) at(off int64) int {
	return sort.SearchInts(ls, int(off)) + 1
}

// Read parses an XPDL file. It refuses what is not well-formed XML, a root
// that is not an XPDL Package, and a namespace that is not XPDL's (a file
// with no namespace at all is read by its header's XPDLVersion); what it
// cannot map it leaves to Import to report.
func Read(data []byte) (*Package, error) {
	root, err := parse(data)
	if err != nil {
		return nil, err
	}
	return newPackage(root)
}

// parse reads the element tree, with line numbers.
func parse(data []byte) (*element, error) {
	if len(data) > MaxFileSize {
		return nil, errorf(0, "the file is larger than %d bytes", MaxFileSize)
	}
	data, err := toUTF8(data)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errorf(0, "the file is empty")
	}
	ls := newLines(data)
	dec := xml.NewDecoder(bytes.NewReader(data))
	// toUTF8 has already converted the text: whatever the declaration
	// says, what the decoder reads is UTF-8.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var root *element
	var stack []*element
	var texts [][]byte // the text of each element of stack, so far
	count := 0
	textSize := 0
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, xmlError(err, ls.at(dec.InputOffset()))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line := ls.at(off)
			if len(stack) == 0 && root != nil {
				return nil, errorf(line, "a second root element <%s> after </%s>", t.Name.Local, root.Local)
			}
			if len(stack) >= maxDepth {
				return nil, errorf(line, "elements are nested more than %d deep", maxDepth)
			}
			if count++; count > maxElements {
				return nil, errorf(line, "more than %d elements", maxElements)
			}
			e := &element{Space: t.Name.Space, Local: t.Name.Local, Attrs: t.Copy().Attr, Line: line}
			if len(stack) == 0 {
				root = e
			} else {
				top := stack[len(stack)-1]
				top.Children = append(top.Children, e)
			}
			stack = append(stack, e)
			texts = append(texts, nil)
		case xml.EndElement:
			top := len(stack) - 1
			stack[top].Text = string(texts[top])
			stack, texts = stack[:top], texts[:top]
		case xml.CharData:
			if len(stack) > 0 {
				// Appended to a buffer per open element, not to a string:
				// text cut by many children once made reading quadratic.
				if textSize += len(t); textSize <= MaxFileSize {
					texts[len(texts)-1] = append(texts[len(texts)-1], t...)
				}
			} else if text := bytes.TrimSpace(t); len(text) > 0 {
				if root == nil {
					return nil, errorf(ls.at(off), "not XML: the file starts with text (%q), not an element", shortText(text))
				}
				return nil, errorf(ls.at(off), "text after the root element")
			}
		}
	}
	if root == nil {
		return nil, errorf(0, "no XML element in the file")
	}
	return root, nil
}

// xmlError makes encoding/xml's errors read like ours, with their line.
func xmlError(err error, line int) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return errorf(se.Line, "not well-formed XML: %s", se.Msg)
	}
	msg := strings.TrimPrefix(err.Error(), "xml: ")
	return errorf(line, "not well-formed XML: %s", msg)
}

// toUTF8 converts a file in UTF-16 (with a byte order mark) or in the
// encoding its XML declaration names into UTF-8, keeping its lines.
func toUTF8(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:], nil
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}), bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		out, err := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return nil, errorf(0, "the file starts as UTF-16 but is not: %v", err)
		}
		return out, nil
	}
	label := declaredEncoding(data)
	switch strings.ToLower(label) {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		if !utf8.Valid(data) {
			return nil, errorf(firstInvalidLine(data), "the file is not valid UTF-8 and its XML declaration names no other encoding")
		}
		return data, nil
	}
	enc, err := htmlindex.Get(label)
	if err != nil || enc == encoding.Replacement {
		return nil, errorf(1, "unknown character encoding %q in the XML declaration", label)
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return nil, errorf(1, "the file is not in %s, as its XML declaration says: %v", label, err)
	}
	return out, nil
}

// declaredEncoding returns the encoding named by the XML declaration.
func declaredEncoding(data []byte) string {
	if !bytes.HasPrefix(data, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(data, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := string(data[:end])
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	rest, ok := strings.CutPrefix(rest, "=")
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := rest[0]
	j := strings.IndexByte(rest[1:], q)
	if j < 0 {
		return ""
	}
	return rest[1 : j+1]
}

func firstInvalidLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return line
}

// versionOf tells the XPDL version from the root's namespace, leniently
// about a trailing slash or https.
func versionOf(ns string) (version, canonical string) {
	if v, ok := Namespaces[ns]; ok {
		return v, ns
	}
	n := strings.TrimSuffix(strings.TrimSpace(ns), "/")
	n = strings.Replace(n, "https://", "http://", 1)
	for k, v := range Namespaces {
		if strings.EqualFold(k, n) {
			return v, k
		}
	}
	return "", ""
}

func knownNamespaces() string {
	ns := make([]string, 0, len(Namespaces))
	for k := range Namespaces {
		ns = append(ns, k)
	}
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}

func shortText(b []byte) string {
	s := string(b)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if r := []rune(s); len(r) > 30 {
		s = string(r[:30]) + "…"
	}
	return s
}
