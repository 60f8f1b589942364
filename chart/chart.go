// Package chart draws small charts as inline SVG for server-rendered pages:
// stacked bars, a funnel and horizontal bars. The pictures need no script and
// no style sheet, are made of rects and texts only, and scale to their
// container (a viewBox and width="100%").
//
// Every text given (titles, labels, names, notes) is escaped, so a chart may
// be put in an html/template page as it is. Values that cannot be drawn are
// made drawable: NaN and negative values count as 0, values above MaxValue
// as MaxValue. A chart with nothing to show is drawn as a "no data" picture.
//
// Text widths are estimated, not measured: a label longer than the room
// given to it is cut and ends with "…", and its whole text is its tooltip.
package chart

import (
	"encoding/xml"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Options sizes a chart. The zero value draws a chart 600 units wide (in
// the viewBox: on the page the picture takes the width of its container)
// and as high as the chart kind needs.
type Options struct {
	// Width and Height of the viewBox; 0 is the default. Text is 12 units
	// high, so a narrower Width makes it larger relative to the picture.
	// Width is at least MinWidth. A Height too small for the content grows.
	Width, Height int
	// Unit is appended as it is to every value printed: "%", " s", " min".
	Unit string
	// NoData is the text of the picture drawn when there is nothing to
	// show; "No data" when empty.
	NoData string
}

const (
	// DefaultWidth is the viewBox width of a chart when Options.Width is 0.
	DefaultWidth = 600
	// MinWidth and MaxWidth bound Options.Width.
	MinWidth, MaxWidth = 200, 4000
	// MaxValue is the largest value drawn; larger ones (and +Inf) are
	// drawn as MaxValue.
	MaxValue = 1e12
)

// palette holds the colours of the series, in order, cycling after the
// last: Okabe and Ito's colour-blind-friendly set, with yellow (faint on
// white) and black (heavy next to the others) last.
var palette = [...]string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// Colours shared by the chart kinds.
const (
	barColour   = "#0072B2" // a single series
	ghostColour = "#C6DBEF" // what a funnel step lost
	trackColour = "#E6E6E6" // the full length of a bar with a Max
	gridColour  = "#DDDDDD"
	axisColour  = "#888888"
	mutedColour = "#555555" // secondary text: ticks, tick labels
	dropColour  = "#A33F00" // a funnel's drops: vermillion, dark enough for small text
)

// Text metrics, estimated on the wide side: the average advance of a glyph
// is 0.5 em in Segoe UI or Roboto but 0.6 in DejaVu Sans, and a digit 0.64.
const (
	fontSize   = 12
	charWidth  = fontSize * 0.6
	titleSize  = 14
	titleWidth = titleSize * 0.65 // bold
	smallSize  = 10
	smallWidth = smallSize * 0.6
)

func (o Options) width() float64 {
	if o.Width <= 0 {
		return DefaultWidth
	}
	return float64(min(max(o.Width, MinWidth), MaxWidth))
}

// height is Options.Height, or def when it is not set, bounded like the
// width.
func (o Options) height(def float64) float64 {
	if o.Height <= 0 {
		return def
	}
	return float64(min(max(o.Height, 60), MaxWidth))
}

func (o Options) noData() string {
	if s := clean(o.NoData); s != "" {
		return s
	}
	return "No data"
}

// value is v made drawable: NaN and negative values are 0, large ones are
// MaxValue.
func value(v float64) float64 {
	if math.IsNaN(v) || v <= 0 {
		return 0
	}
	return math.Min(v, MaxValue)
}

// num formats v with at most one decimal, and non-finite values as 0.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	r := math.Round(v*10) / 10
	if r == 0 || math.IsInf(r, 0) {
		return "0" // also -0
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// clean makes s one line of printable text: control characters and runs of
// white space become one space, and invalid UTF-8 becomes U+FFFD.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
}

// cut shortens s to n runes at most, the last one an ellipsis.
func cut(s string, n int) string {
	n = max(n, 1)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// runes is the length of the longest of the texts, in runes.
func runes(texts []string) int {
	n := 0
	for _, s := range texts {
		n = max(n, utf8.RuneCountInString(s))
	}
	return n
}

// esc escapes s for an SVG text or attribute value.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// svg accumulates the markup of one picture, one element a line.
type svg struct {
	b strings.Builder
}

// titleSpace is the height taken by the visible title at the top.
func titleSpace(title string) float64 {
	if clean(title) == "" {
		return 4
	}
	return 30
}

// open starts a picture w by h with its accessible name (title, or
// fallback when title is empty), desc, a text equivalent of the data, and
// the visible title, which takes titleSpace(title) at the top.
func open(title, fallback, desc string, w, h float64) *svg {
	s := &svg{}
	name := clean(title)
	if name == "" {
		name = fallback
	}
	s.b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + num(w) + " " + num(h) +
		`" width="100%" role="img" aria-label="` + esc(name) +
		`" font-family="system-ui,sans-serif" font-size="12" fill="#222">` + "\n")
	s.b.WriteString("<title>" + esc(name) + "</title>\n")
	if desc != "" {
		s.b.WriteString("<desc>" + esc(desc) + "</desc>\n")
	}
	if t := clean(title); t != "" {
		s.text(0, 16, ` font-size="14" font-weight="bold"`, t, int(w/titleWidth))
	}
	return s
}

func (s *svg) html() template.HTML {
	s.b.WriteString("</svg>\n")
	return template.HTML(s.b.String()) // every text in it went through esc
}

// rect draws a rectangle; negative sizes are drawn as 0. attrs, when
// given, starts with a space; tip, when given, is its tooltip.
func (s *svg) rect(x, y, w, h float64, attrs, tip string) {
	s.b.WriteString(`<rect x="` + num(x) + `" y="` + num(y) + `" width="` + num(max(w, 0)) + `" height="` + num(max(h, 0)) + `"` + attrs)
	if tip == "" {
		s.b.WriteString("/>\n")
		return
	}
	s.b.WriteString("><title>" + esc(tip) + "</title></rect>\n")
}

// text draws str cut to n runes; a cut text has its whole text as its
// tooltip. attrs, when given, starts with a space.
func (s *svg) text(x, y float64, attrs, str string, n int) {
	s.b.WriteString(`<text x="` + num(x) + `" y="` + num(y) + `"` + attrs + ">")
	if c := cut(str, n); c != str {
		s.b.WriteString("<title>" + esc(str) + "</title>" + esc(c))
	} else {
		s.b.WriteString(esc(str))
	}
	s.b.WriteString("</text>\n")
}

// raw writes markup made by the package, with no text from outside.
func (s *svg) raw(markup string) {
	s.b.WriteString(markup + "\n")
}

// noData draws a framed "no data" picture in place of a chart.
func noData(title, fallback string, opt Options) template.HTML {
	w, top := opt.width(), titleSpace(title)
	h := max(opt.height(120), top+40)
	msg := opt.noData()
	s := open(title, fallback, msg, w, h)
	s.rect(0.5, top+0.5, w-1, h-top-1, ` fill="none" stroke="#BBBBBB" stroke-dasharray="4 3"`, "")
	s.text(w/2, top+(h-top)/2+4, ` text-anchor="middle" fill="`+mutedColour+`"`, msg, int((w-8)/charWidth))
	return s.html()
}

// labelColumn is the width given to row labels (at most a third of the
// width w) and the number of runes that fit in it.
func labelColumn(labels []string, w float64) (width float64, fit int) {
	fit = min(runes(labels), int(w/3/charWidth))
	return float64(fit)*charWidth + 8, fit
}
