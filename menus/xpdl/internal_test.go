package xpdl

import (
	"strings"
	"testing"
)

func TestParseTest(t *testing.T) {
	tests := []struct {
		expr string
		want test
		ok   bool
	}{
		{"approved", test{Field: "approved", Value: "true"}, true},
		{"!approved", test{Field: "approved", Value: "true", Not: true}, true},
		{"not publish", test{Field: "publish", Value: "true", Not: true}, true},
		{"not(publish)", test{Field: "publish", Value: "true", Not: true}, true},
		{"(approved == true);", test{Field: "approved", Value: "true"}, true},
		{"approved === false", test{Field: "approved", Value: "false"}, true},
		{"approved != true", test{Field: "approved", Value: "true", Not: true}, true},
		{"kind == 'food'", test{Field: "kind", Value: "food"}, true},
		{`kind = "Autre"`, test{Field: "kind", Value: "Autre"}, true},
		{`"Autre" == kind`, test{Field: "kind", Value: "Autre"}, true},
		{`kind.equals("food")`, test{Field: "kind", Value: "food"}, true},
		{`"food".equals(kind)`, test{Field: "kind", Value: "food"}, true},
		{"kind <> 'food'", test{Field: "kind", Value: "food", Not: true}, true},
		{"kind !== 'food'", test{Field: "kind", Value: "food", Not: true}, true},
		{"a == true && b > 0", test{}, false},
		{"days > 5", test{}, false},
		{`forme in ("SA", "SARL")`, test{}, false},
		{"", test{}, false},
		{"true", test{}, false},
		{"(a", test{}, false},
		{"f(x)", test{}, false},
		{`kind == "it"s"`, test{}, false},
		{"!!approved", test{Field: "approved", Value: "true"}, true},
		{"!(!(not approved))", test{Field: "approved", Value: "true", Not: true}, true},
		{"!(kind != 'food')", test{Field: "kind", Value: "food"}, true},
		{strings.Repeat("!", 600) + "ok", test{}, false},
		{"a" + strings.Repeat(" ", MaxCondition) + "", test{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, ok := parseTest(tt.expr)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Errorf("parseTest(%q) = %+v, %v; want %+v, %v", tt.expr, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestLabelLang(t *testing.T) {
	tests := map[string]string{
		"label:en": "en", "label_fr": "fr", "Label.en": "en", "Name_en_GB": "en", "fr": "fr",
		"DisplayName-fr-FR": "fr", "libellé:en": "en", "titre_en": "en",
		"label": "", "VariableToProcess_UPDATE": "", "en_route": "", "ParticipantID": "", "label:de": "",
	}
	for name, want := range tests {
		if got := labelLang(name); got != want {
			t.Errorf("labelLang(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		in, slug, op string
	}{
		{"Déclaration de naissance", "declaration_de_naissance", "declaration_de_naissance"},
		{"notifyHealthCentre", "notifyhealthcentre", "notify_health_centre"},
		{"  Payer la taxe d'occupation ", "payer_la_taxe_d_occupation", "payer_la_taxe_d_occupation"},
		{"cases.open", "cases_open", "cases.open"},
		{"Straße №5", "strasse_5", "stra_e__5"},
		{"!!!", "", ""},
	}
	for _, tt := range tests {
		if got := slug(tt.in, 40); got != tt.slug {
			t.Errorf("slug(%q) = %q, want %q", tt.in, got, tt.slug)
		}
		if got := opName(tt.in); got != tt.op {
			t.Errorf("opName(%q) = %q, want %q", tt.in, got, tt.op)
		}
	}
	if got := clean("Passenger \nhas no\n exit_x0020_form"); got != "Passenger has no exit form" {
		t.Errorf("clean: %q", got)
	}
}

func TestEditorDefault(t *testing.T) {
	for name, want := range map[string]bool{
		"EndEvent1": true, "End Event": true, "Fin": true, "end_2": true,
		"Déclaration enregistrée": false, "Refus": false, "Endorsement": false,
	} {
		if got := editorDefault(name); got != want {
			t.Errorf("editorDefault(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestOptionLabels: a citizen reads a branch's meaning, never an id, an
// editor's default or code.
func TestOptionLabels(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"Refusé", true}, {"Oui, prendre rendez-vous", true}, {"approved", true},
		{"SalesReview_Pay", false}, {"registerCompany", false}, {"Tool 1", false}, {"Transition 3", false},
		{"Choix 2", false}, {`status === "ok"`, false}, {"t17", false}, {"", false},
	} {
		if got := readable(tt.name, "t17"); got != tt.ok {
			t.Errorf("readable(%q) = %v", tt.name, got)
		}
	}
	for _, tt := range []struct {
		typ, cond string
		want      string // the French label, "" for none
	}{
		{"CONDITION", `status === "approved"`, "approved"},
		{"CONDITION", `decision.equals('Refusé')`, "Refusé"},
		{"CONDITION", `paid == true`, "Oui"},
		{"CONDITION", `!paid`, "Non"},
		{"CONDITION", `not publish`, "Non"},
		{"CONDITION", `publish`, "Oui"},
		{"CONDITION", `kind == Commercial`, "Commercial"},
		{"OTHERWISE", ``, "Autre cas"},
		{"CONDITION", `amount > 300 && urgent`, ""},
		{"CONDITION", `status != "closed"`, ""},
	} {
		got := conditionValue(&Transition{CondType: tt.typ, Cond: tt.cond})
		if got["fr"] != tt.want {
			t.Errorf("conditionValue(%s %q) = %v, want %q", tt.typ, tt.cond, got, tt.want)
		}
	}
}
