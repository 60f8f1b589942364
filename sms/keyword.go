package sms

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Kind is what an inbound SMS asks for.
type Kind int

// The kinds of command. Unknown is the zero value.
const (
	Unknown  Kind = iota
	Track         // the status of a case: SUIVI <ref> / TRACK <ref>
	Bookings      // my bookings: RDV / BOOKINGS
	Help          // AIDE / HELP
	Stop          // no more notifications: STOP / ARRET
	Start         // notifications again: START
	Language      // answer in this language from now on: FR / EN
	Menu          // walk the menus by SMS: MENU (both languages)
)

var kindNames = [...]string{"Unknown", "Track", "Bookings", "Help", "Stop", "Start", "Language", "Menu"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "Kind(?)"
	}
	return kindNames[k]
}

// Command is a keyword read from an inbound SMS.
type Command struct {
	Kind Kind
	// Arg is the case reference for Track (digits only, "" when none was
	// given) and the language chosen, "fr" or "en", for Language.
	Arg string
	// Lang is the language the keyword is written in, "fr" or "en", to
	// answer in it; "" for STOP and START, which both languages use.
	Lang string
}

var keywords = map[string]Command{
	"SUIVI":    {Kind: Track, Lang: "fr"},
	"TRACK":    {Kind: Track, Lang: "en"},
	"RDV":      {Kind: Bookings, Lang: "fr"},
	"BOOKINGS": {Kind: Bookings, Lang: "en"},
	"BOOKING":  {Kind: Bookings, Lang: "en"},
	"AIDE":     {Kind: Help, Lang: "fr"},
	"HELP":     {Kind: Help, Lang: "en"},
	"STOP":     {Kind: Stop},
	"ARRET":    {Kind: Stop, Lang: "fr"},
	"START":    {Kind: Start},
	"FR":       {Kind: Language, Arg: "fr", Lang: "fr"},
	"FRANCAIS": {Kind: Language, Arg: "fr", Lang: "fr"},
	"EN":       {Kind: Language, Arg: "en", Lang: "en"},
	"ENGLISH":  {Kind: Language, Arg: "en", Lang: "en"},
	"MENU":     {Kind: Menu},
	"MENUS":    {Kind: Menu},
}

// ParseKeyword reads the keyword an SMS starts with, in French or English,
// without regard to case or accents, and tolerant of spaces and punctuation
// around it ("  suivi   20000011 ", "Suivi:20000011", "arrêt."). The
// keyword is the first run of letters; for Track the reference is the first
// run of digits after it, which may be broken by spaces or punctuation
// ("2000 0011") but ends at the next letter. Anything else is Unknown.
func ParseKeyword(text string) Command {
	s := []rune(fold(text))
	i := 0
	for i < len(s) && !unicode.IsLetter(s[i]) {
		if isDigit(s[i]) {
			return Command{}
		}
		i++
	}
	start := i
	for i < len(s) && unicode.IsLetter(s[i]) {
		i++
	}
	cmd, ok := keywords[string(s[start:i])]
	if !ok {
		return Command{}
	}
	if cmd.Kind == Track {
		var ref []rune
		for _, r := range s[i:] {
			if isDigit(r) {
				ref = append(ref, r)
			} else if len(ref) > 0 && unicode.IsLetter(r) {
				break
			}
		}
		cmd.Arg = string(ref)
	}
	return cmd
}

// fold returns s in capitals without its accents: "Arrêt" → "ARRET".
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }
