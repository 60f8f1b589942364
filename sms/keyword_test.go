package sms

import "testing"

func TestParseKeyword(t *testing.T) {
	tests := []struct {
		text string
		want Command
	}{
		{"SUIVI 20000011", Command{Track, "20000011", "fr"}},
		{"  suivi   20000011 ", Command{Track, "20000011", "fr"}},
		{"Suivi:20000011", Command{Track, "20000011", "fr"}},
		{"suivi20000011", Command{Track, "20000011", "fr"}},
		{"Suivi 2000 0011", Command{Track, "20000011", "fr"}},
		{"suivi 2000-0011.", Command{Track, "20000011", "fr"}},
		{"SUIVI dossier 20000011 merci 5", Command{Track, "20000011", "fr"}},
		{"SUIVI", Command{Track, "", "fr"}},
		{"track #20000011", Command{Track, "20000011", "en"}},
		{"Track: 20000011!", Command{Track, "20000011", "en"}},
		{"SUÏVI ２０", Command{Track, "", "fr"}}, // only ASCII digits make a reference
		{"rdv", Command{Bookings, "", "fr"}},
		{"RDV?", Command{Bookings, "", "fr"}},
		{"Bookings", Command{Bookings, "", "en"}},
		{"booking please", Command{Bookings, "", "en"}},
		{"aide", Command{Help, "", "fr"}},
		{"HELP", Command{Help, "", "en"}},
		{"Stop", Command{Stop, "", ""}},
		{"STOP!!!", Command{Stop, "", ""}},
		{"arret", Command{Stop, "", "fr"}},
		{"arrêt.", Command{Stop, "", "fr"}},
		{"ARRÊT", Command{Stop, "", "fr"}},
		{"Arre\u0302t", Command{Stop, "", "fr"}}, // accent as a combining mark
		{"start", Command{Start, "", ""}},
		{"EN", Command{Language, "en", "en"}},
		{"fr.", Command{Language, "fr", "fr"}},
		{"Français", Command{Language, "fr", "fr"}},
		{"english", Command{Language, "en", "en"}},
		{"MENU", Command{Menu, "", ""}},
		{"menu.", Command{Menu, "", ""}},
		{"Menus", Command{Menu, "", ""}},
		{"", Command{}},
		{"   ", Command{}},
		{"bonjour", Command{}},
		{"stopper", Command{}},
		{"ENCORE", Command{}},
		{"20000011", Command{}},
		{"1 SUIVI 20000011", Command{}},
		{"SUIVIS 20000011", Command{}},
	}
	for _, tt := range tests {
		if got := ParseKeyword(tt.text); got != tt.want {
			t.Errorf("ParseKeyword(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Unknown: "Unknown", Track: "Track", Language: "Language", Menu: "Menu", Kind(42): "Kind(?)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
