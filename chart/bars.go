package chart

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Series is one layer of a stacked bar chart: a value for each label, in
// the order of the labels. Missing values count as 0, extra ones are left
// out.
type Series struct {
	Name   string
	Values []float64
}

// StackedBars draws a vertical bar for each label, stacking the values of
// the series from the first one at the bottom, with each bar's total above
// it when it fits, and a legend of the series' names and colours. Labels
// that do not fit under their bars are shown one in two (or three…), and
// each part of a bar has its label, series and value as its tooltip.
//
// With no labels, no series or nothing but zeros, it draws a "no data"
// picture.
func StackedBars(title string, labels []string, series []Series, opt Options) template.HTML {
	const fallback = "Bar chart"
	n := len(labels)
	vals := make([][]float64, len(series))
	totals := make([]float64, n)
	for k, se := range series {
		vals[k] = make([]float64, n)
		for i := 0; i < n && i < len(se.Values); i++ {
			vals[k][i] = value(se.Values[i])
			totals[i] += vals[k][i]
		}
	}
	top := 0.0
	for _, t := range totals {
		top = max(top, t)
	}
	if n == 0 || len(series) == 0 || top == 0 {
		return noData(title, fallback, opt)
	}
	names := make([]string, len(series))
	for k, se := range series {
		names[k] = clean(se.Name)
	}
	xs := make([]string, n)
	for i, l := range labels {
		xs[i] = clean(l)
	}

	w := opt.width()
	y := titleSpace(title)
	leg := legend(names, w, y)
	if len(leg) > 0 {
		y = leg[len(leg)-1].y + 6
	}

	// The scale: about four steps of 1, 2 or 5 times a power of ten.
	step := niceStep(top / 4)
	ticks := max(1, int(math.Ceil(top/step-1e-9)))
	tickText := make([]string, ticks+1)
	for t := range tickText {
		tickText[t] = num(float64(t)*step) + opt.Unit
	}
	totalText := make([]string, n)
	for i, t := range totals {
		totalText[i] = num(t) + opt.Unit
	}

	h := opt.height(300)
	tickFit := min(runes(tickText), int(w/4/charWidth)) // a long Unit is cut
	plotX := float64(tickFit)*charWidth + 8
	plotW := w - plotX - 4
	slot := plotW / float64(n)
	showTotals := float64(runes(totalText))*smallWidth <= slot+2
	plotTop := y + 8
	if showTotals {
		plotTop = y + 14
	}
	h = max(h, plotTop+60+20) // room for the bars and their labels
	plotBottom := h - 20
	plotH := plotBottom - plotTop
	scale := plotH / (float64(ticks) * step)

	s := open(title, fallback, stackedDesc(xs, names, vals, totals, opt.Unit), w, h)
	for k, e := range leg {
		s.rect(e.x, e.y-9, 10, 10, ` fill="`+palette[k%len(palette)]+`"`, "")
		s.text(e.x+14, e.y, "", names[k], min(legendRunes, int((w-28)/charWidth)))
	}

	// Grid and scale.
	var grid strings.Builder
	for t := 1; t <= ticks; t++ {
		grid.WriteString("M" + num(plotX) + " " + num(plotBottom-float64(t)*step*scale) + "h" + num(plotW))
	}
	s.raw(`<path d="` + grid.String() + `" stroke="` + gridColour + `"/>`)
	s.raw(`<g text-anchor="end" fill="` + mutedColour + `">`)
	for t, tt := range tickText {
		s.text(plotX-4, plotBottom-float64(t)*step*scale+4, "", tt, tickFit)
	}
	s.raw("</g>")

	// Bars, one group a series, from the bottom of the stack.
	barW := slot * 0.7
	if slot-barW < 1 {
		barW = slot
	}
	base := make([]float64, n) // the value stacked so far under each bar
	for k := range series {
		s.raw(`<g fill="` + palette[k%len(palette)] + `">`)
		for i, v := range vals[k] {
			if v == 0 {
				continue
			}
			y0 := round1(plotBottom - base[i]*scale)
			base[i] += v
			y1 := round1(plotBottom - base[i]*scale)
			if y0-y1 < 0.1 {
				continue // too thin to see: the tooltip would have no room
			}
			tip := xs[i] + " · " + names[k] + ": " + num(v) + opt.Unit
			if names[k] == "" {
				tip = xs[i] + ": " + num(v) + opt.Unit
			}
			s.rect(plotX+float64(i)*slot+(slot-barW)/2, y1, barW, y0-y1, "", tip)
		}
		s.raw("</g>")
	}
	s.raw(`<path d="M` + num(plotX) + " " + num(plotBottom) + "h" + num(plotW) + `" stroke="` + axisColour + `"/>`)

	// Totals above the bars, labels under them.
	if showTotals {
		s.raw(`<g text-anchor="middle" font-size="10">`)
		for i, t := range totals {
			if t > 0 {
				s.text(plotX+(float64(i)+0.5)*slot, plotBottom-t*scale-4, "", totalText[i], len(totalText[i]))
			}
		}
		s.raw("</g>")
	}
	want := min(runes(xs), 12)
	every := max(1, int(math.Ceil((float64(want)*charWidth+6)/slot)))
	fit := max(1, int((slot*float64(every)-6)/charWidth))
	s.raw(`<g text-anchor="middle">`)
	for i := 0; i < n; i += every {
		s.text(plotX+(float64(i)+0.5)*slot, plotBottom+15, "", xs[i], fit)
	}
	s.raw("</g>")
	return s.html()
}

// legendRunes is the longest series name shown in a legend.
const legendRunes = 24

// entry places a legend entry: its swatch at x and its text's baseline at y.
type entry struct{ x, y float64 }

// legend lays out the entries of the named series in rows from y down;
// there is none when no series has a name.
func legend(names []string, w, y float64) []entry {
	if runes(names) == 0 {
		return nil
	}
	var es []entry
	x := 0.0
	y += 10
	for _, name := range names {
		width := 14 + float64(min(utf8.RuneCountInString(name), legendRunes))*charWidth + 14
		if x > 0 && x+width > w {
			x, y = 0, y+16
		}
		es = append(es, entry{x, y})
		x += width
	}
	return es
}

// niceStep is the smallest of 1, 2 or 5 times a power of ten that is at
// least raw, and 0.1 at least: values are printed with one decimal.
func niceStep(raw float64) float64 {
	if raw <= 0.1 {
		return 0.1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= raw*(1-1e-9) {
			return f * p
		}
	}
	return 10 * p
}

// round1 rounds v to one decimal, so that stacked parts meet exactly.
func round1(v float64) float64 {
	return math.Round(v*10) / 10
}

// stackedDesc is the text equivalent of a stacked bar chart: each label
// with its total and its non-zero parts.
func stackedDesc(labels, names []string, vals [][]float64, totals []float64, unit string) string {
	var b strings.Builder
	for i, l := range labels {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(l + ": " + num(totals[i]) + unit)
		sep := " ("
		for k := range vals {
			if vals[k][i] == 0 {
				continue
			}
			name := names[k]
			if name == "" {
				name = "#" + strconv.Itoa(k+1)
			}
			b.WriteString(sep + name + " " + num(vals[k][i]) + unit)
			sep = ", "
		}
		if sep == ", " {
			b.WriteString(")")
		}
	}
	return b.String()
}
