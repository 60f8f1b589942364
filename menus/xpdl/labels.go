// Names and texts: reading labels, making names from them, and the screen
// texts of the services.

package xpdl

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/sms"
)

// readLabel reads an element's readable names: a vendor's DisplayName or the
// Name for no stated language, and per-language names an editor keeps as
// ExtendedAttributes named "label:fr", "label_en", "Name.fr", "fr"…
func (p *Package) readLabel(e *element) Label {
	l := Label{}
	if n := clean(e.vendorAttr("DisplayName")); n != "" {
		l[""] = n
	} else if n := clean(e.attr("Name")); n != "" {
		l[""] = n
	}
	for _, ea := range e.all("ExtendedAttributes", "ExtendedAttribute") {
		if lang := labelLang(ea.attr("Name")); lang != "" {
			if v := clean(extAttrValue(ea)); v != "" {
				l[lang] = v
			}
		}
	}
	for _, lang := range []string{"", "fr", "en"} {
		if v := l[lang]; utf8.RuneCountInString(v) > MaxLabel {
			l[lang] = string([]rune(v)[:MaxLabel-1]) + "…"
			p.note(e.Line, e.Local+" "+printable(shorten(e.attr("Id"), 40)),
				"a name of %d characters: cut to %d (a screen holds 160)", utf8.RuneCountInString(v), MaxLabel)
		}
	}
	return l
}

// MaxLabel is the longest name the reader keeps: longer ones are cut, and
// noted in the report, so that a name cannot swell every screen it is on.
const MaxLabel = 160

// labelLang tells which language an ExtendedAttribute's name gives a label
// in: "label:fr" → "fr"; "" when it is not a label.
func labelLang(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	for _, prefix := range []string{"displayname", "libellé", "libelle", "label", "name", "titre", "title"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			s = rest
			break
		}
	}
	s = strings.TrimLeft(s, "._:-/ ")
	lang, region, _ := strings.Cut(strings.ReplaceAll(s, "-", "_"), "_")
	if (lang == "fr" || lang == "en") && len(region) <= 2 {
		return lang
	}
	return ""
}

// clean makes one line of a name: editors keep newlines (Bizagi), tabs and
// runs of spaces in them, and .NET escapes spaces as _x0020_.
func clean(s string) string {
	if strings.Contains(s, "_x") {
		s = unescapeNames(s)
	}
	return strings.Join(strings.Fields(s), " ")
}

// unescapeNames decodes the _xHHHH_ escapes of .NET names.
func unescapeNames(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '_' && i+7 <= len(s) && s[i+1] == 'x' && s[i+6] == '_' {
			if r, err := strconv.ParseUint(s[i+2:i+6], 16, 32); err == nil {
				b.WriteRune(rune(r))
				i += 6
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// slug makes a node, variable or service name from a label: lower-case
// letters without accents, digits and '_', at most max long.
func slug(s string, max int) string {
	var b strings.Builder
	under := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			under = false
		case r >= 'A' && r <= 'Z':
			b.WriteRune(unicode.ToLower(r))
			under = false
		case r == 'ß':
			b.WriteString("ss")
			under = false
		default:
			if !under && b.Len() > 0 {
				b.WriteByte('_')
				under = true
			}
		}
		if b.Len() >= max {
			break
		}
	}
	out := b.String()
	if len(out) > max {
		out = out[:max]
	}
	return strings.Trim(out, "_")
}

// opName makes an operation name from an application's id: lower-case,
// dotted like the native operations (cases.open).
func opName(s string) string {
	var b strings.Builder
	prev := ' '
	for _, r := range norm.NFD.String(strings.TrimSpace(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			if prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9' {
				b.WriteByte('_') // notifyHealthCentre → notify_health_centre
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte('_')
		}
		prev = r
		if b.Len() >= 60 {
			break
		}
	}
	return strings.Trim(b.String(), "_.-")
}

// screenText returns the screen text of a label: French from the French
// label, else the name; English from the English label (or the name when
// the package says its names are English), else left out for menus check
// to report. Both are spelt in GSM-7.
func (s *service) screenText(l Label, fallback string) menus.Text {
	src := s.imp.lang
	t := menus.Text{src: s.gsm7(firstNonEmpty(l[src], l[""], clean(fallback)))}
	for _, lang := range menus.Languages {
		if v := l[lang]; v != "" && lang != src {
			t[lang] = s.gsm7(v)
		}
	}
	return t
}

// serviceTitle is the title of the service with id id, for an option
// that links to it.
func (s *service) serviceTitle(id string) menus.Text {
	for pid, sid := range s.imp.ids {
		if sid == id {
			pr := s.imp.procs[pid]
			return s.screenText(pr.Label, pr.ID)
		}
	}
	return menus.Text{"fr": id}
}

// both is a text of our own, in both languages.
func both(fr, en string) menus.Text { return menus.Text{"fr": fr, "en": en} }

// endText is the end screen of a flow that ends with no screen of its own.
func endText() menus.Text {
	return both("Merci. Votre démarche est terminée.", "Thank you. Your request is complete.")
}

// gsm7 spells t in the GSM-7 alphabet, which screens keep to, and
// remembers the respelling for the report.
func (s *service) gsm7(t string) string {
	g := sms.ToGSM7(t)
	if g != t {
		s.respelt[t] = g
	}
	return g
}

// joinTexts composes texts part by part; English only when every part
// has it.
func joinTexts(sep string, parts ...menus.Text) menus.Text {
	out := menus.Text{}
	for _, lang := range menus.Languages {
		var ss []string
		ok := true
		for _, p := range parts {
			v, has := p[lang]
			if !has {
				ok = false
				break
			}
			ss = append(ss, v)
		}
		if ok {
			out[lang] = strings.Join(ss, sep)
		}
	}
	return out
}

// question adds the question mark each language puts after a prompt.
func question(t menus.Text, hintFR, hintEN string) menus.Text {
	out := menus.Text{}
	for lang, v := range t {
		v = strings.TrimRight(v, " ?:")
		switch lang {
		case "fr":
			out[lang] = v + hintFR + " ?"
		default:
			out[lang] = v + hintEN + "?"
		}
	}
	return out
}

// shorten makes one line of s (see clean), cut to n characters.
func shorten(s string, n int) string {
	s = clean(s)
	if len([]rune(s)) > n {
		return string([]rune(s)[:n]) + "…"
	}
	return s
}
