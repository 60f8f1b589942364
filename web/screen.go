package web

import (
	"regexp"
	"strconv"
	"strings"
)

// screen is an engine screen cut into what a page shows: its heading, the
// numbered options, the back and home footer, and whether it asks for a
// typed input.
type screen struct {
	Heading []string // the lines before the options
	Options []option
	Back    string // the footer's labels; "" without a footer
	Home    string
}

type option struct {
	Key   string // what the engine is sent: "1", "98"
	Label string
}

var (
	numbered = regexp.MustCompile(`^([0-9]{1,2}) (.+)$`)
	footer   = regexp.MustCompile(`^0 (.+?) 00 (.+)$`)
)

// parse cuts an engine's screen: the footer ("0 Back 00 Home") is its last
// line when it has one; the options are the numbered lines before it
// (1, 2… and 98 for the next page), the heading what comes first (at
// least the first line). With typed input, no line is an option: a
// heading may start with a number.
func parse(text string, typed bool) screen {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var sc screen
	if n := len(lines); n > 1 {
		if m := footer.FindStringSubmatch(lines[n-1]); m != nil {
			sc.Back, sc.Home = m[1], m[2]
			lines = lines[:n-1]
		}
	}
	first := len(lines)
	if !typed {
		for first > 1 {
			m := numbered.FindStringSubmatch(lines[first-1])
			if m == nil {
				break
			}
			first--
		}
		for _, l := range lines[first:] {
			m := numbered.FindStringSubmatch(l)
			sc.Options = append(sc.Options, option{Key: m[1], Label: m[2]})
		}
		if !consecutive(sc.Options) {
			first, sc.Options = len(lines), nil
		}
	}
	sc.Heading = lines[:first]
	return sc
}

// consecutive reports whether options are numbered in a row (1, 2, 3…, or
// on from where the previous page stopped), the next page's 98 last:
// anything else is heading text that looks numbered.
func consecutive(opts []option) bool {
	if len(opts) == 0 {
		return true
	}
	start, _ := strconv.Atoi(opts[0].Key)
	for i, o := range opts {
		if o.Key == "98" && i == len(opts)-1 && i > 0 {
			continue
		}
		if start < 1 || o.Key != strconv.Itoa(start+i) {
			return false
		}
	}
	return true
}

// inputMode is the keyboard a browser shows for an input type.
func inputMode(typ string) string {
	switch typ {
	case "digits", "date", "reference":
		return "numeric"
	case "phone":
		return "tel"
	}
	return "text"
}
