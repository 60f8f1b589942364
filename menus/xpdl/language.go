// The language of a file's names: what the file says, else a guess from
// its words; and the languages each service is written in.

package xpdl

import (
	"strings"
	"unicode"

	"github.com/guichet/guichet/menus"
)

// sourceLanguage sets the language of the file's names, which go into
// that language's texts, and notes how it was told.
func (imp *importer) sourceLanguage() {
	pkg := imp.pkg
	if pkg.Lang != "" {
		imp.lang = pkg.Lang
		imp.rep.Notes = append(imp.rep.Notes, item(pkg.LangLine, "PackageHeader",
			"the names are in %s, as %s says: they are the %s texts", langName(pkg.Lang), pkg.LangFrom, langName(pkg.Lang)))
		return
	}
	fr, en := 0, 0
	count := func(l Label) {
		for _, w := range strings.FieldsFunc(strings.ToLower(l[""]), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
			switch {
			case frenchWords[w]:
				fr++
			case englishWords[w]:
				en++
			}
		}
	}
	count(pkg.Label)
	for _, pr := range pkg.Processes {
		count(pr.Label)
		for _, a := range pr.Activities {
			count(a.Label)
		}
		for _, t := range pr.Transitions {
			count(t.Label)
		}
		for _, f := range pr.fields {
			count(f.Label)
		}
	}
	for _, f := range pkg.fields {
		count(f.Label)
	}
	imp.lang = "fr"
	if en > fr {
		imp.lang = "en"
	}
	imp.rep.Notes = append(imp.rep.Notes, item(pkg.Line, "Package",
		"the names are taken to be in %s (the file does not say; guessed from their words: %d French, %d English): they are the %s texts",
		langName(imp.lang), fr, en, langName(imp.lang)))
}

// frenchWords and englishWords are common words that tell the two
// languages apart in the names of a workflow.
var (
	frenchWords = set("le", "la", "les", "de", "des", "du", "un", "une", "et", "ou", "pour", "par", "au", "aux",
		"en", "sur", "avec", "votre", "vos", "demande", "dossier", "reçu", "reçue", "refusé", "refusée", "accepté",
		"validé", "vérifier", "envoyer", "fin", "début", "oui", "non", "nom", "date", "pièces", "paiement", "l'")
	englishWords = set("the", "of", "and", "or", "for", "by", "to", "with", "your", "request", "application",
		"received", "rejected", "approved", "accepted", "check", "review", "send", "end", "start", "yes", "no",
		"name", "payment", "claim", "leave", "task", "submit")
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

func langName(lang string) string {
	if lang == "en" {
		return "English"
	}
	return "French"
}

// languages are those the service is written in: every one when each of
// its texts has each, else the file's (languages: in the service file),
// with a note for the administration.
func (s *service) languages() []string {
	total, complete := 0, 0
	check := func(t menus.Text) {
		if t == nil {
			return
		}
		total++
		for _, l := range menus.Languages {
			if strings.TrimSpace(t[l]) == "" {
				return
			}
		}
		complete++
	}
	check(s.title)
	for _, n := range s.nodes {
		if n.kind != menus.KindAction {
			check(n.text)
		}
		for _, o := range n.options {
			check(o.label)
		}
	}
	for _, st := range s.statuses {
		check(st.label)
		check(st.sms)
	}
	if complete == total {
		return nil
	}
	s.review(s.proc.Line, elemName("WorkflowProcess", s.proc.ID, s.proc.Label),
		"written in %s alone (languages: [%s]): %d of its %d texts have no %s label, and callers who chose %s get its screens in %s; for both, give each name its label (an ExtendedAttribute label:%s) and import again",
		langName(s.imp.lang), s.imp.lang, total-complete, total, langName(other(s.imp.lang)), langName(other(s.imp.lang)), langName(s.imp.lang), other(s.imp.lang))
	return []string{s.imp.lang}
}

func other(lang string) string {
	if lang == "en" {
		return "fr"
	}
	return "en"
}
