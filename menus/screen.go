package menus

import (
	"strconv"
	"unicode/utf8"

	"github.com/guichet/guichet/sms"
)

// UCS2Limit is how many characters a USSD screen holds once a character
// outside GSM-7 forces UCS-2.
const UCS2Limit = 80

// ScreenSize returns how much of a screen s takes and the limit that applies
// to it: septets against limit when s is all GSM-7, characters against
// UCS2Limit otherwise (bad is then the first character to blame).
func ScreenSize(s string, limit int) (size, max int, bad rune) {
	n, bad := sms.Septets(s)
	if bad != 0 {
		return utf8.RuneCountInString(s), min(limit, UCS2Limit), bad
	}
	return n, limit, 0
}

// Fits reports whether s fits on a screen of limit septets.
func Fits(s string, limit int) bool {
	size, max, _ := ScreenSize(s, limit)
	return size <= max
}

// Screens composes what a node shows, the same way for the engine and for
// the validator (which fills the variables to their longest).
type Screens struct {
	Cat   *Catalogue
	Lang  string
	Limit int // septets per screen
	// Channel filters the home menu to the services offered there; ""
	// lists them all (the validator, which sizes the largest).
	Channel string
}

func (sc Screens) text(key string) string { return sc.Cat.Texts[key].Get(sc.Lang) }

// Resume is the question put to a caller whose session dropped.
func (sc Screens) Resume() string {
	return sc.text("resume") + "\n1 " + sc.text("resume_yes") + "\n2 " + sc.text("resume_no")
}

// Nav is the footer of every screen but home and end screens.
func (sc Screens) Nav() string {
	return KeyBack + " " + sc.text("back") + " " + KeyHome + " " + sc.text("home")
}

// More is the line that leads to the next page.
func (sc Screens) More() string { return KeyMore + " " + sc.text("more") }

// Numbered returns labels numbered from 1.
func Numbered(labels []string) []string {
	out := make([]string, len(labels))
	for i, l := range labels {
		out[i] = strconv.Itoa(i+1) + " " + l
	}
	return out
}

// HomeItems are the home menu's lines: one per service, then the language.
func (sc Screens) HomeItems() []string {
	order := sc.Cat.Offered(sc.Channel)
	labels := make([]string, 0, len(order)+1)
	for _, id := range order {
		if s := sc.Cat.Services[id]; s != nil {
			labels = append(labels, s.Title.Get(sc.Lang))
		}
	}
	labels = append(labels, sc.text("language"))
	return Numbered(labels)
}

// Home returns the home menu's pages.
func (sc Screens) Home() []Page {
	return Paginate(sc.Cat.Title.Get(sc.Lang), sc.HomeItems(), sc.More(), "", sc.Limit)
}

// Node returns the pages of a screen node. labels are a choose node's
// options (ignored for other kinds); prefix goes before the node's text (a
// re-prompt after bad input).
func (sc Screens) Node(n *Node, vars map[string]string, labels []string, prefix string) []Page {
	header := prefix + Fill(n.Text.Get(sc.Lang), vars)
	switch n.Kind {
	case KindMenu:
		ls := make([]string, len(n.Options))
		for i, o := range n.Options {
			ls[i] = Fill(o.Label.Get(sc.Lang), vars)
		}
		return Paginate(header, Numbered(ls), sc.More(), sc.Nav(), sc.Limit)
	case KindChoose:
		return Paginate(header, Numbered(labels), sc.More(), sc.Nav(), sc.Limit)
	case KindConfirm:
		return Paginate(header, Numbered([]string{sc.text("yes"), sc.text("no")}), sc.More(), sc.Nav(), sc.Limit)
	case KindInput:
		return []Page{{Text: header + "\n" + sc.Nav()}}
	case KindEnd:
		return []Page{{Text: header}}
	}
	return []Page{{Text: header}}
}
