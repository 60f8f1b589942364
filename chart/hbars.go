package chart

import (
	"html/template"
	"strings"
)

// Bar is one row of a horizontal bar chart. With a Max above 0 the bar is
// drawn as the share Value/Max of a full-length track (a rate: SMS
// delivered of SMS sent); without, all such bars share one scale, the
// largest Value (a waiting time). Note is printed at the end of the bar
// (of the track, when there is one, so that the notes of rates line up);
// when empty, the value and the unit are.
type Bar struct {
	Label      string
	Value, Max float64
	Note       string
}

// HBars draws a horizontal bar for each Bar, in the order given.
//
// With no bars, or nothing to measure (every Value and Max is 0), it draws
// a "no data" picture. A bar with a Max and a Value of 0 is drawn: an
// operator that delivered nothing is news, not a lack of data.
func HBars(title string, bars []Bar, opt Options) template.HTML {
	const fallback = "Bar chart"
	n := len(bars)
	vals := make([]float64, n)
	maxs := make([]float64, n)
	top := 0.0 // the scale of the bars without a Max
	rated := false
	for i, b := range bars {
		vals[i], maxs[i] = value(b.Value), value(b.Max)
		if maxs[i] > 0 {
			rated = true
		} else {
			top = max(top, vals[i])
		}
	}
	if n == 0 || !rated && top == 0 {
		return noData(title, fallback, opt)
	}
	labels := make([]string, n)
	notes := make([]string, n)
	for i, b := range bars {
		labels[i] = clean(b.Label)
		notes[i] = clean(b.Note)
		if notes[i] == "" {
			notes[i] = num(vals[i]) + opt.Unit
		}
	}

	w := opt.width()
	y := titleSpace(title)
	labelW, fit := labelColumn(labels, w)
	noteFit := min(runes(notes), int(w/3/charWidth))
	barMax := max(w-labelW-float64(noteFit)*charWidth-12, 0)
	rowH := 24.0
	if opt.Height > 0 {
		rowH = max((opt.height(0)-y-4)/float64(n), 14)
	}
	h := y + float64(n)*rowH + 4
	barH := round1(rowH * 0.7)

	s := open(title, fallback, hbarsDesc(labels, notes), w, h)
	for i := range bars {
		ry := y + float64(i)*rowH
		mid := ry + barH/2 + 4
		var end, note float64
		if maxs[i] > 0 {
			end, note = barMax*min(vals[i]/maxs[i], 1), barMax
			s.rect(labelW, ry, barMax, barH, ` fill="`+trackColour+`"`, "")
		} else if top > 0 {
			end = barMax * vals[i] / top
			note = end
		}
		s.text(labelW-6, mid, ` text-anchor="end"`, labels[i], fit)
		s.rect(labelW, ry, end, barH, ` fill="`+barColour+`"`, "")
		s.text(labelW+note+4, mid, "", notes[i], noteFit)
	}
	return s.html()
}

// hbarsDesc is the text equivalent of a horizontal bar chart.
func hbarsDesc(labels, notes []string) string {
	var b strings.Builder
	for i, l := range labels {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(l + ": " + notes[i])
	}
	return b.String()
}
