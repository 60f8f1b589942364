package chart_test

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/guichet/guichet/chart"
)

// floats reads data as float64s, 8 bytes each, so that any value (NaN,
// infinities, subnormals) can come out.
func floats(data []byte) []float64 {
	var fs []float64
	for ; len(data) >= 8; data = data[8:] {
		fs = append(fs, math.Float64frombits(binary.LittleEndian.Uint64(data)))
	}
	return fs
}

func bytesOf(fs ...float64) []byte {
	var b []byte
	for _, f := range fs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	return b
}

// seed adds inputs shared by the fuzz tests: labels and names are
// separated by "|".
func seed(f *testing.F) {
	f.Add("Sessions par heure", "08h|09h|10h", "Santé|Impôts", bytesOf(4, 12, 18, 2, 8, 10), 0, 0, "")
	f.Add("", "", "", []byte{}, 0, 0, "")
	f.Add("<script>\"&'", "<b>|]]>|\x00\xff", "a|", bytesOf(math.NaN(), math.Inf(1), -1, 1e300), 1, 1, "%")
	f.Add(strings.Repeat("é", 300), strings.Repeat("x|", 100), "a|b|c|d|e|f|g|h|i", bytesOf(1, 2, 3, 4, 5, 6, 7, 8, 9), 200, 61, " min")
}

// FuzzStackedBars draws stacked bars of arbitrary labels, names and values
// and requires well-formed XML with finite coordinates inside the viewBox.
func FuzzStackedBars(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, title, labels, names string, data []byte, width, height int, unit string) {
		var series []chart.Series
		if names != "" {
			vals := floats(data)
			ns := strings.Split(names, "|")
			for k, name := range ns {
				var vs []float64
				for i := k; i < len(vals); i += len(ns) {
					vs = append(vs, vals[i])
				}
				series = append(series, chart.Series{Name: name, Values: vs})
			}
		}
		var ls []string
		if labels != "" {
			ls = strings.Split(labels, "|")
		}
		check(t, chart.StackedBars(title, ls, series, chart.Options{Width: width, Height: height, Unit: unit}))
	})
}

// FuzzRows draws a funnel and horizontal bars of arbitrary labels and
// values, with the same requirements as FuzzStackedBars.
func FuzzRows(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, title, labels, notes string, data []byte, width, height int, unit string) {
		vals := floats(data)
		ns := strings.Split(notes, "|")
		var steps []chart.Step
		var bars []chart.Bar
		for i, l := range strings.Split(labels, "|") {
			var v, m float64
			if 2*i+1 < len(vals) {
				v, m = vals[2*i], vals[2*i+1]
			}
			steps = append(steps, chart.Step{Label: l, N: int(binaryInt(v))})
			bars = append(bars, chart.Bar{Label: l, Value: v, Max: m, Note: ns[i%len(ns)]})
		}
		opt := chart.Options{Width: width, Height: height, Unit: unit}
		check(t, chart.Funnel(title, steps, opt))
		check(t, chart.HBars(title, bars, opt))
	})
}

// binaryInt is v as an int64 bit for bit: any int can come out.
func binaryInt(v float64) int64 {
	return int64(math.Float64bits(v))
}
