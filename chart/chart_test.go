package chart_test

import (
	"bytes"
	"encoding/xml"
	"flag"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/guichet/guichet/chart"
)

var update = flag.Bool("update", false, "rewrite the golden files testdata/*.svg with what the code produces")

// golden compares got with testdata/name.svg, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name+".svg")
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test ./chart -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./chart -update rewrites it: review the diff)\n%s", file, diff(string(want), got))
	}
}

// diff lists the lines only in want (-) or only in got (+).
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	inW, inG := map[string]int{}, map[string]int{}
	for _, l := range w {
		inW[l]++
	}
	for _, l := range g {
		inG[l]++
	}
	var b strings.Builder
	for _, l := range w {
		if inG[l] > 0 {
			inG[l]--
			continue
		}
		b.WriteString("- " + l + "\n")
	}
	for _, l := range g {
		if inW[l] > 0 {
			inW[l]--
			continue
		}
		b.WriteString("+ " + l + "\n")
	}
	return b.String()
}

// picture is what check read in a chart.
type picture struct {
	name  string   // the aria-label
	title string   // the first <title>
	desc  string   // the <desc>
	texts []string // the <text> elements, without their tooltips
	tips  []string // every <title> under the root: the tooltips
}

// check parses out as XML and requires it to be one well-formed svg
// element that is an accessible image, with no NaN or Inf, every number
// with one decimal at most, and every rect inside the viewBox.
func check(t testing.TB, out template.HTML) picture {
	t.Helper()
	s := string(out)
	for _, bad := range []string{"NaN", "Inf"} {
		if strings.Contains(s, bad) {
			t.Fatalf("%s in the output:\n%s", bad, s)
		}
	}
	d := xml.NewDecoder(strings.NewReader(s))
	var (
		p      picture
		stack  []string
		text   strings.Builder
		w, h   float64
		roots  int
		titles int
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			attrs := map[string]string{}
			for _, a := range tok.Attr {
				attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				roots++
				if tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root %v, want an svg element", tok.Name)
				}
				if attrs["role"] != "img" || attrs["aria-label"] == "" || attrs["width"] != "100%" {
					t.Fatalf("root attributes %v: want role=img, an aria-label and width=100%%", attrs)
				}
				p.name = attrs["aria-label"]
				vb := strings.Fields(attrs["viewBox"])
				if len(vb) != 4 || vb[0] != "0" || vb[1] != "0" {
					t.Fatalf("viewBox %q", attrs["viewBox"])
				}
				w, h = number(t, vb[2]), number(t, vb[3])
			}
			for _, a := range []string{"x", "y", "width", "height"} {
				if v, ok := attrs[a]; ok && tok.Name.Local != "svg" {
					number(t, v)
				}
			}
			if tok.Name.Local == "rect" {
				x, y := number(t, attrs["x"]), number(t, attrs["y"])
				rw, rh := number(t, attrs["width"]), number(t, attrs["height"])
				if x < 0 || y < 0 || rw < 0 || rh < 0 || x+rw > w+0.15 || y+rh > h+0.15 {
					t.Errorf("rect %v outside the viewBox 0 0 %v %v", attrs, w, h)
				}
			}
			stack = append(stack, tok.Name.Local)
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			parent := ""
			if len(stack) > 1 {
				parent = stack[len(stack)-2]
			}
			switch tok.Name.Local {
			case "title":
				titles++
				if parent == "svg" && titles == 1 {
					p.title = text.String()
				} else {
					p.tips = append(p.tips, text.String())
				}
				text.Reset()
			case "desc":
				p.desc = text.String()
			case "text":
				p.texts = append(p.texts, text.String())
			}
			stack = stack[:len(stack)-1]
		}
	}
	if roots != 1 {
		t.Fatalf("%d root elements", roots)
	}
	if p.title != p.name {
		t.Fatalf("title %q, aria-label %q: want the same", p.title, p.name)
	}
	return p
}

// number parses a number of the output: finite, with one decimal at most.
func number(t testing.TB, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		t.Fatalf("number %q: %v", s, err)
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i > 2 {
		t.Fatalf("number %q has more than one decimal", s)
	}
	return v
}

func has(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

var hours = []string{"08h", "09h", "10h", "11h", "12h", "13h", "14h", "15h", "16h", "17h"}

// TestGolden draws each chart of the table and compares it with its
// testdata/name.svg.
func TestGolden(t *testing.T) {
	long := "Déclaration de naissance hors délai avec jugement supplétif"
	many := make([]chart.Series, 9)
	for k := range many {
		many[k].Name = "Service " + strconv.Itoa(k+1)
		for i := range 24 {
			many[k].Values = append(many[k].Values, float64((i*7+k*3)%11))
		}
	}
	day := make([]string, 24)
	for i := range day {
		day[i] = strconv.Itoa(i) + "h"
	}
	for _, c := range []struct {
		name  string
		draw  func() template.HTML
		texts []string // some of the texts expected
	}{{
		name: "stacked_sessions",
		draw: func() template.HTML {
			return chart.StackedBars("Sessions par heure", hours, []chart.Series{
				{"Santé", []float64{4, 12, 18, 15, 9, 6, 11, 14, 10, 3}},
				{"Impôts", []float64{2, 8, 10, 12, 6, 2, 7, 9, 5, 1}},
				{"État civil", []float64{1, 5, 7, 6, 4, 1, 3, 6, 4, 0}},
			}, chart.Options{})
		},
		texts: []string{"Sessions par heure", "Santé", "Impôts", "État civil", "08h", "17h", "35", "7"},
	}, {
		name: "stacked_day",
		draw: func() template.HTML {
			return chart.StackedBars("Sessions, 24 heures, 9 services", day, many, chart.Options{Width: 480, Height: 260, Unit: " s"})
		},
		texts: []string{"0h", "2h", "Service 9"},
	}, {
		name: "stacked_one",
		draw: func() template.HTML {
			return chart.StackedBars("", []string{"Lundi", long, "Mercredi"}, []chart.Series{{"", []float64{0.25, 1.5, 0.04}}}, chart.Options{})
		},
		texts: []string{"Lundi", "0.3", "1.5"},
	}, {
		name: "funnel",
		draw: func() template.HTML {
			return chart.Funnel("Demande d'acte de naissance", []chart.Step{
				{"Accueil", 200}, {"Nom", 120}, {"Date de naissance", 90}, {long, 84}, {"Confirmation", 86},
			}, chart.Options{})
		},
		texts: []string{"Nom", "200 (100%)", "120 (60%)", "−80 (−40%)", "+2 (+2.4%)", "84 (42%)"},
	}, {
		name: "hbars_sms",
		draw: func() template.HTML {
			return chart.HBars("SMS remis par opérateur", []chart.Bar{
				{"MTN", 9512, 10000, "95.1% (9512/10000)"},
				{"Orange", 7020, 8000, "87.8% (7020/8000)"},
				{"Camtel", 0, 300, "0% (0/300)"},
				{"Nexttel", 1210, 1200, ""},
			}, chart.Options{})
		},
		texts: []string{"MTN", "95.1% (9512/10000)", "0% (0/300)", "1210"},
	}, {
		name: "hbars_wait",
		draw: func() template.HTML {
			return chart.HBars("Attente des rappels", []chart.Bar{
				{Label: "Santé", Value: 12.5}, {Label: "Impôts", Value: 4}, {Label: long, Value: 31.25},
			}, chart.Options{Unit: " min", Width: 400})
		},
		texts: []string{"12.5 min", "4 min", "31.3 min"},
	}, {
		name: "nodata",
		draw: func() template.HTML {
			return chart.Funnel("Demande de passeport", []chart.Step{{"Accueil", 0}}, chart.Options{NoData: "Aucune donnée"})
		},
		texts: []string{"Demande de passeport", "Aucune donnée"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			out := c.draw()
			p := check(t, out)
			for _, s := range c.texts {
				if !has(p.texts, s) {
					t.Errorf("no text %q in %q", s, p.texts)
				}
			}
			if again := c.draw(); again != out {
				t.Error("two drawings differ")
			}
			golden(t, c.name, string(out))
		})
	}
}

// draws is each chart kind drawn with the same labels and values.
func draws(title string, labels []string, values []float64, opt chart.Options) map[string]template.HTML {
	steps := make([]chart.Step, len(labels))
	bars := make([]chart.Bar, len(labels))
	for i, l := range labels {
		v := 0.0
		if i < len(values) {
			v = values[i]
		}
		steps[i] = chart.Step{Label: l, N: int(max(min(v, 1e15), -1e15))}
		bars[i] = chart.Bar{Label: l, Value: v, Max: 100, Note: l}
	}
	return map[string]template.HTML{
		"StackedBars": chart.StackedBars(title, labels, []chart.Series{{Name: title, Values: values}, {Name: title + "2", Values: values}}, opt),
		"Funnel":      chart.Funnel(title, steps, opt),
		"HBars":       chart.HBars(title, bars, opt),
	}
}

// TestEscaping requires every text given to come out as text: the markup
// in it is never markup.
func TestEscaping(t *testing.T) {
	nasty := []string{`<script>alert(1)</script>`, `"&'`, `]]><x>`, "&amp;", `</svg>`}
	for _, s := range nasty {
		for kind, out := range draws(s, []string{s, "b"}, []float64{10, 5}, chart.Options{Unit: s, Width: 800}) {
			t.Run(kind+"/"+s, func(t *testing.T) {
				p := check(t, out)
				if strings.Contains(string(out), "<script") || strings.Contains(string(out), "<x>") || strings.Count(string(out), "</svg>") != 1 {
					t.Fatalf("markup let through:\n%s", out)
				}
				if p.name != s || p.title != s {
					t.Errorf("aria-label %q, title %q: want %q", p.name, p.title, s)
				}
				if !has(p.texts, s) {
					t.Errorf("no text %q in %q", s, p.texts)
				}
				if !strings.Contains(p.desc, s) {
					t.Errorf("desc %q does not hold %q", p.desc, s)
				}
			})
		}
	}
}

// TestOddText requires control characters, line breaks and invalid UTF-8
// in texts to come out as printable text on one line.
func TestOddText(t *testing.T) {
	for kind, out := range draws("a\x00b\nc\x1b\xffd", []string{"e\t\tf\r\n", "\xc3\x28"}, []float64{1, 1}, chart.Options{}) {
		p := check(t, out)
		for _, want := range []string{"a b c \uFFFDd", "e f", "\uFFFD("} {
			if !has(p.texts, want) {
				t.Errorf("%s: no text %q in %q", kind, want, p.texts)
			}
		}
	}
}

// TestLongLabel requires a label too long for its room to be cut with an
// ellipsis, and kept whole in its tooltip.
func TestLongLabel(t *testing.T) {
	long := strings.Repeat("Très long libellé de service ", 10)
	long = strings.TrimSpace(long)
	for kind, out := range draws(long, []string{long, "b"}, []float64{3, 4}, chart.Options{}) {
		p := check(t, out)
		cut := 0
		for _, s := range p.texts {
			if strings.HasSuffix(s, "…") {
				cut++
				if !strings.HasPrefix(long, strings.TrimSuffix(s, "…")) {
					t.Errorf("%s: %q is not a beginning of the label", kind, s)
				}
			}
			if s == long {
				t.Errorf("%s: the long label is drawn whole", kind)
			}
		}
		if cut < 2 { // the title and the label
			t.Errorf("%s: %d texts cut, want 2 at least: %q", kind, cut, p.texts)
		}
		if !has(p.tips, long) {
			t.Errorf("%s: the whole label is no tooltip: %q", kind, p.tips)
		}
	}
}

// TestNoData requires a "no data" picture when there is nothing to draw.
func TestNoData(t *testing.T) {
	opt := chart.Options{NoData: "Aucune donnée"}
	for _, c := range []struct {
		name string
		out  template.HTML
	}{
		{"stacked, no labels", chart.StackedBars("t", nil, []chart.Series{{"a", []float64{1}}}, opt)},
		{"stacked, no series", chart.StackedBars("t", hours, nil, opt)},
		{"stacked, no values", chart.StackedBars("t", hours, []chart.Series{{"a", nil}}, opt)},
		{"stacked, zeros", chart.StackedBars("t", hours, []chart.Series{{"a", make([]float64, 10)}, {"b", make([]float64, 10)}}, opt)},
		{"stacked, negative and NaN", chart.StackedBars("t", hours, []chart.Series{{"a", []float64{-1, math.NaN(), math.Inf(-1)}}}, opt)},
		{"funnel, no steps", chart.Funnel("t", nil, opt)},
		{"funnel, first step 0", chart.Funnel("t", []chart.Step{{"a", 0}, {"b", 10}}, opt)},
		{"funnel, first step negative", chart.Funnel("t", []chart.Step{{"a", -5}}, opt)},
		{"hbars, no bars", chart.HBars("t", nil, opt)},
		{"hbars, zeros", chart.HBars("t", []chart.Bar{{Label: "a"}, {Label: "b", Value: -3, Max: -1}}, opt)},
		{"no title", chart.HBars("", nil, chart.Options{})},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := check(t, c.out)
			want := opt.NoData
			if c.name == "no title" {
				want = "No data"
				if p.name != "Bar chart" {
					t.Errorf("aria-label %q, want a fallback", p.name)
				}
			}
			if !has(p.texts, want) || p.desc != want {
				t.Errorf("texts %q, desc %q: want %q", p.texts, p.desc, want)
			}
			if strings.Contains(string(c.out), "fill=\"#0072B2\"") {
				t.Error("a bar is drawn")
			}
		})
	}
	// A rate of 0 is data.
	p := check(t, chart.HBars("t", []chart.Bar{{Label: "a", Max: 100}}, opt))
	if has(p.texts, opt.NoData) {
		t.Error("a bar of 0 out of 100 is drawn as no data")
	}
}

// TestOddValues requires values that cannot be drawn as they are (NaN,
// infinities, negative, huge, tiny) and odd sizes to give a picture with
// finite coordinates inside its viewBox.
func TestOddValues(t *testing.T) {
	values := [][]float64{
		{math.NaN(), 1, 2},
		{math.Inf(1), 1, 2},
		{math.Inf(-1), -3, 2},
		{math.MaxFloat64, math.MaxFloat64, math.MaxFloat64},
		{math.SmallestNonzeroFloat64, 0, 0},
		{1e-3, 2e-3, 0},
		{1, 1e12, 3},
		{0.05, 0.05, 0.05},
	}
	sizes := []chart.Options{
		{}, {Width: 1, Height: 1}, {Width: -5, Height: -5}, {Width: 1 << 40, Height: 1 << 40}, {Width: 200, Height: 61},
		{Unit: strings.Repeat("u", 100)}, {Width: 200, Unit: strings.Repeat("u", 100)},
	}
	for _, v := range values {
		for _, opt := range sizes {
			for kind, out := range draws("t", []string{"a", "b", "c"}, v, opt) {
				t.Run(kind, func(t *testing.T) { check(t, out) })
			}
		}
	}
	// The funnel's counts are ints: the extremes.
	for _, steps := range [][]chart.Step{
		{{"a", math.MaxInt}, {"b", math.MinInt}, {"c", 1}},
		{{"a", 1}, {"b", math.MaxInt}},
		{{"a", 3}, {"b", 0}, {"c", 0}, {"d", 2}},
	} {
		check(t, chart.Funnel("t", steps, chart.Options{}))
	}
}

// TestTemplate puts a chart in an html/template page: it is not escaped
// again.
func TestTemplate(t *testing.T) {
	page := template.Must(template.New("").Parse(`<figure>{{.}}</figure>`))
	var b bytes.Buffer
	out := chart.HBars("<Attente>", []chart.Bar{{Label: "a&b", Value: 3}}, chart.Options{})
	if err := page.Execute(&b, out); err != nil {
		t.Fatal(err)
	}
	if b.String() != "<figure>"+string(out)+"</figure>" {
		t.Errorf("the template changed the chart:\n%s", b.String())
	}
}
