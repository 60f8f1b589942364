package xpdl

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// label reads an element's readable names: a vendor's DisplayName or the
// Name for no stated language, and per-language names an editor keeps as
// ExtendedAttributes named "label:fr", "label_en", "Name.fr", "fr"…
func (p *Package) label(e *element) Label {
	l := Label{}
	if n := clean(e.vendorAttr("DisplayName")); n != "" {
		l[""] = n
	} else if n := clean(e.attr("Name")); n != "" {
		l[""] = n
	}
	for _, ea := range e.all("ExtendedAttributes", "ExtendedAttribute") {
		if lang := labelLang(ea.attr("Name")); lang != "" {
			if v := clean(eaValue(ea)); v != "" {
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
