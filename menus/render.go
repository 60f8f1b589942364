package menus

import (
	"strings"
	"unicode/utf8"

	"github.com/guichet/guichet/sms"
)

// Fill replaces each {{name}} in tpl with vars[name] (empty when unset).
func Fill(tpl string, vars map[string]string) string {
	if !strings.Contains(tpl, "{{") {
		return tpl
	}
	var b strings.Builder
	for {
		i := strings.Index(tpl, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(tpl[i:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(tpl[:i])
		b.WriteString(vars[strings.TrimSpace(tpl[i+2:i+j])])
		tpl = tpl[i+j+2:]
	}
	b.WriteString(tpl)
	return b.String()
}

// Placeholders returns the variable names that tpl uses, in order.
func Placeholders(tpl string) []string {
	var out []string
	for {
		i := strings.Index(tpl, "{{")
		if i < 0 {
			return out
		}
		j := strings.Index(tpl[i:], "}}")
		if j < 0 {
			return out
		}
		out = append(out, strings.TrimSpace(tpl[i+2:i+j]))
		tpl = tpl[i+j+2:]
	}
}

// Navigation keys, the same on every screen.
const (
	KeyBack = "0"
	KeyHome = "00"
	KeyMore = "98"
)

// Page is one screen of a paged list.
type Page struct {
	Text  string
	First int // index of the first item on the page
	N     int // how many items it shows
}

// Paginate lays header, items and footer out on screens of limit septets:
// the header on the first page, as many items as fit on each, a "more" line
// on every page but the last, and the footer on every page. An item too long
// for any page still gets a page of its own (the validator reports it).
func Paginate(header string, items []string, more, footer string, limit int) []Page {
	// Sizes are added up rather than measured on joined text: this runs on
	// every hop. A page holding characters outside GSM-7 counts them as
	// UCS-2, where the limit is smaller.
	type size struct {
		n   int
		ucs bool
	}
	measure := func(s string) size {
		n, bad := sms.Septets(s)
		if bad != 0 {
			return size{utf8.RuneCountInString(s), true}
		}
		return size{n, false}
	}
	fits := func(total size) bool {
		if total.ucs {
			return total.n <= min(limit, UCS2Limit)
		}
		return total.n <= limit
	}
	add := func(a, b size) size {
		if a.n == 0 {
			return b
		}
		return size{a.n + 1 + b.n, a.ucs || b.ucs} // +1: the newline
	}
	sizes := make([]size, len(items))
	for i, it := range items {
		sizes[i] = measure(it)
	}
	moreSize, footSize := measure(more), measure(footer)
	var pages []Page
	i := 0
	for {
		var lines []string
		var used size
		if len(pages) == 0 && header != "" {
			lines = append(lines, header)
			used = measure(header)
		}
		first := i
		for i < len(items) {
			try := add(used, sizes[i])
			if i+1 < len(items) {
				try = add(try, moreSize)
			}
			if footer != "" {
				try = add(try, footSize)
			}
			if !fits(try) && i > first {
				break
			}
			lines = append(lines, items[i])
			used = add(used, sizes[i])
			i++
		}
		if i < len(items) {
			lines = append(lines, more)
		}
		if footer != "" {
			lines = append(lines, footer)
		}
		pages = append(pages, Page{Text: strings.Join(lines, "\n"), First: first, N: i - first})
		if i >= len(items) {
			return pages
		}
	}
}
