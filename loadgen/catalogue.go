package loadgen

import "regexp"

// Code is the built-in catalogue's service code.
const Code = "*123#"

// lang holds the screens a caller expects in one language.
type lang struct {
	name, choice, home string
	birth              [6]string // office, name, date, confirm, done; [5] the caller's name
	visit              [7]string // menu, office, slot, confirm, booked, full, booking number
	cancelled          string
	track              [2]string // ask, status of 10000048
	covid              [4]string // menu, fever, contact, low risk
}

var french = lang{
	name: "fr", choice: "1", home: "Guichet: services publics",
	birth: [6]string{"Centre d'état civil de naissance ?", "Nom complet sur l'acte ?", "Date de naissance (JJMMAAAA) ?",
		"Copie d'acte pour Ngo Bassa Marie, né(e) le 15/03/1990", "enregistré. Un SMS suivra chaque étape.", "Ngo Bassa Marie"},
	visit: [7]string{"Rendez-vous (50 personnes au plus par créneau)", "Quel bureau ?", "Créneau (places libres) ?",
		"à Mairie de Douala 3e ?", "Venez à l'heure, avec un masque.", "Ce créneau est complet", "Numéro du rendez-vous ?"},
	cancelled: "annulé. La place est libérée.",
	track:     [2]string{"Numéro du dossier ?", "Dossier 10000048 (Entreprises): En traitement"},
	covid:     [4]string{"Auto-test des symptomes", "Avez-vous de la fièvre", "en contact avec un malade", "Pas de signe d'alerte."},
}

var english = lang{
	name: "en", choice: "2", home: "Guichet: public services",
	birth: [6]string{"Civil status office of birth?", "Full name on the certificate?", "Date of birth (DDMMYYYY)?",
		"Certificate copy for John Ekane Fon, born 15/03/1990", "recorded. You will get an SMS at each step.", "John Ekane Fon"},
	visit: [7]string{"Office visits (at most 50 people per slot)", "Which office?", "Time slot (places left)?",
		"at Mairie de Douala 3e?", "Please be on time, with a mask.", "This slot is full", "Booking number?"},
	cancelled: "cancelled. The place is free again.",
	track:     [2]string{"Case number?", "Case 10000048 (Businesses):"},
	covid:     [4]string{"Symptom self-check", "Do you have a fever", "near a sick person", "No warning signs."},
}

// booking is the number of a visit just booked.
var booking = regexp.MustCompile(`(?:Visit|Rendez-vous) (\d{8}):`)

func want(s ...string) []string { return s }

// Catalogue returns the scripts of callers of the built-in catalogue, one in
// French and one in English: each picks its language on its phone's first
// dial, then walks in turn an application for a birth certificate copy to
// its reference, a visit booked then cancelled with its booking number, the
// tracking of the seeded case 10000048 (from the menu, then with the
// shortcut dial), and the COVID-19 self-check.
func Catalogue() []Script {
	return []Script{script(french), script(english)}
}

func (l lang) prelude() []Hop {
	return []Hop{
		{Want: want("Choisissez la langue / Choose language")},
		{Input: l.choice, Want: want(l.home)},
	}
}

func script(l lang) Script {
	home := Hop{Want: want(l.home)}
	return Script{Name: l.name, Prelude: l.prelude(), Paths: []Path{
		{Name: "birth-certificate", Dials: []Dial{{Code: Code, Hops: []Hop{
			home,
			{Input: "2", Want: want(l.birth[0])},
			{Input: "2", Want: want(l.birth[1])},
			{Input: l.birth[5], Want: want(l.birth[2])},
			{Input: "15031990", Want: want(l.birth[3])},
			{Input: "1", Want: want(l.birth[4])},
		}}}},
		{Name: "visit", Dials: []Dial{
			{Code: Code, Hops: []Hop{
				home,
				{Input: "3", Want: want(l.visit[0])},
				{Input: "1", Want: want(l.visit[1])},
				{Input: "1", Want: want(l.visit[2])},
				{Input: "1", Want: want(l.visit[3])},
				// Another caller may have taken the last place meanwhile.
				{Input: "1", Want: want(l.visit[4], l.visit[5]), Save: booking, As: "booking"},
			}},
			{Code: Code, If: "booking", Hops: []Hop{
				home,
				{Input: "3", Want: want(l.visit[0])},
				{Input: "2", Want: want(l.visit[6])},
				{Input: "$booking", Want: want(l.cancelled)},
			}},
		}},
		{Name: "track", Dials: []Dial{
			{Code: Code, Hops: []Hop{
				home,
				{Input: "4", Want: want(l.track[0])},
				{Input: "10000048", Want: want(l.track[1])},
			}},
			{Code: "*123*4*10000048#", Hops: []Hop{{Want: want(l.track[1])}}},
		}},
		{Name: "covid", Dials: []Dial{{Code: Code, Hops: []Hop{
			home,
			{Input: "1", Want: want(l.covid[0])},
			{Input: "2", Want: want(l.covid[1])},
			{Input: "2", Want: want(l.covid[2])},
			{Input: "2", Want: want(l.covid[3])},
		}}}},
	}}
}

// Waiting returns scripts whose callers stop on their first dial, in the
// middle of a birth certificate application, while the gateway waits for
// their name: with Config.Rounds 1, each leaves one live session (and its
// remembered language) in the store.
func Waiting() []Script {
	var scripts []Script
	for _, l := range []lang{french, english} {
		scripts = append(scripts, Script{Name: l.name, Prelude: l.prelude(), Paths: []Path{
			{Name: "birth-certificate-waiting", Dials: []Dial{{Code: Code, Hangup: true, Hops: []Hop{
				{Want: want(l.home)},
				{Input: "2", Want: want(l.birth[0])},
				{Input: "2", Want: want(l.birth[1])},
			}}}},
		}})
	}
	return scripts
}
