package chart

import (
	"html/template"
	"strconv"
	"strings"
)

// Step is one step of a funnel: how many got that far.
type Step struct {
	Label string
	N     int
}

// Funnel draws a horizontal bar for each step, on one scale, labelled with
// its count and its share of the first step ("120 (60%)"). What a step lost
// since the previous one is drawn as a pale extension of its bar and
// written at the right ("−80 (−40%)", the share of the previous step); a
// step larger than the one before it shows its gain ("+5 (+4.2%)").
//
// With no steps or a first step of 0 (negative counts are 0), it draws a
// "no data" picture.
func Funnel(title string, steps []Step, opt Options) template.HTML {
	const fallback = "Funnel"
	if len(steps) == 0 || steps[0].N <= 0 {
		return noData(title, fallback, opt)
	}
	n := len(steps)
	ns := make([]float64, n)
	top := 0.0
	for i, st := range steps {
		ns[i] = value(float64(st.N))
		top = max(top, ns[i])
	}
	labels := make([]string, n)
	counts := make([]string, n)
	drops := make([]string, n)
	for i, st := range steps {
		labels[i] = clean(st.Label)
		counts[i] = num(ns[i]) + opt.Unit + " (" + percent(ns[i], ns[0]) + ")"
		if i > 0 {
			drops[i] = change(ns[i]-ns[i-1], ns[i-1], opt.Unit)
		}
	}

	w := opt.width()
	y := titleSpace(title)
	labelW, fit := labelColumn(labels, w)
	countFit := min(runes(counts), int(w/4/charWidth)) // a long Unit is cut
	dropFit := min(runes(drops), int(w/4/charWidth))
	countW := float64(countFit)*charWidth + 8
	dropW := float64(dropFit)*charWidth + 8
	barMax := max(w-labelW-countW-dropW-4, 0)
	rowH := 26.0
	if opt.Height > 0 {
		rowH = max((opt.height(0)-y-4)/float64(n), 14)
	}
	h := y + float64(n)*rowH + 4
	barH := round1(rowH * 0.7)

	s := open(title, fallback, funnelDesc(labels, counts, drops), w, h)
	for i := range steps {
		ry := y + float64(i)*rowH
		mid := ry + barH/2 + 4
		end := barMax * ns[i] / top
		s.text(labelW-6, mid, ` text-anchor="end"`, labels[i], fit)
		if i > 0 && ns[i] < ns[i-1] {
			s.rect(labelW+end, ry, barMax*(ns[i-1]-ns[i])/top, barH, ` fill="`+ghostColour+`"`, "")
		}
		s.rect(labelW, ry, end, barH, ` fill="`+barColour+`"`, "")
		s.text(labelW+end+4, mid, "", counts[i], countFit)
		if drops[i] != "" {
			s.text(w-2, mid, ` text-anchor="end" fill="`+dropColour+`"`, drops[i], dropFit)
		}
	}
	return s.html()
}

// percent is part as a share of whole, with one decimal at most.
func percent(part, whole float64) string {
	if whole == 0 {
		return "0%"
	}
	return num(100*part/whole) + "%"
}

// change writes a difference d from a previous count prev: "−80 (−40%)",
// "+5 (+4.2%)", or "0"; with no percentage when prev is 0.
func change(d, prev float64, unit string) string {
	if num(d) == "0" {
		return "0"
	}
	sign := "+"
	if d < 0 {
		sign, d = "−", -d
	}
	if prev == 0 {
		return sign + num(d) + unit
	}
	return sign + num(d) + unit + " (" + sign + percent(d, prev) + ")"
}

// funnelDesc is the text equivalent of a funnel: each step with its count,
// share and change.
func funnelDesc(labels, counts, drops []string) string {
	var b strings.Builder
	for i, l := range labels {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strconv.Itoa(i+1) + ". " + l + ": " + counts[i])
		if drops[i] != "" {
			b.WriteString(", " + drops[i])
		}
	}
	return b.String()
}
