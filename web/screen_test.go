package web

import (
	"reflect"
	"testing"
)

// An engine screen is cut into heading, options and footer; a heading
// that looks numbered stays a heading.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		label string
		text  string
		typed bool
		want  screen
	}{
		{"home", "Guichet: services publics\n1 COVID-19\n2 Acte de naissance\n3 English", false,
			screen{Heading: []string{"Guichet: services publics"}, Options: []option{{"1", "COVID-19"}, {"2", "Acte de naissance"}, {"3", "English"}}}},
		{"menu with footer and next page", "Creneau ?\n1 Lun 08:00\n2 Lun 09:00\n98 Suite\n0 Retour 00 Accueil", false,
			screen{Heading: []string{"Creneau ?"}, Options: []option{{"1", "Lun 08:00"}, {"2", "Lun 09:00"}, {"98", "Suite"}}, Back: "Retour", Home: "Accueil"}},
		{"second page", "Creneau ?\n9 Mar 08:00\n10 Mar 09:00\n0 Retour 00 Accueil", false,
			screen{Heading: []string{"Creneau ?"}, Options: []option{{"9", "Mar 08:00"}, {"10", "Mar 09:00"}}, Back: "Retour", Home: "Accueil"}},
		{"typed answer", "Numero du dossier ?\n0 Back 00 Home", true,
			screen{Heading: []string{"Numero du dossier ?"}, Back: "Back", Home: "Home"}},
		{"typed answer whose heading looks numbered", "Dossier\n12 pieces\n0 Back 00 Home", true,
			screen{Heading: []string{"Dossier", "12 pieces"}, Back: "Back", Home: "Home"}},
		{"numbers out of order are text", "Etapes\n2 deposer\n1 payer", false,
			screen{Heading: []string{"Etapes", "2 deposer", "1 payer"}}},
		{"end", "Dossier 20000011 enregistre.", false, screen{Heading: []string{"Dossier 20000011 enregistre."}}},
		{"a single line is the heading", "1 seul", false, screen{Heading: []string{"1 seul"}}},
	} {
		if got := parse(tc.text, tc.typed); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.label, got, tc.want)
		}
	}
}

func TestInputMode(t *testing.T) {
	for typ, want := range map[string]string{"digits": "numeric", "date": "numeric", "reference": "numeric", "phone": "tel", "text": "text", "pattern": "text"} {
		if got := inputMode(typ); got != want {
			t.Errorf("%s: %s, want %s", typ, got, want)
		}
	}
}
