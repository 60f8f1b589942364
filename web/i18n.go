package web

import (
	"net/http"
	"strings"

	"github.com/guichet/guichet/menus"
)

// words are the pages' own texts, French first; the screens' texts are the
// catalogue's.
var words = map[string][2]string{
	"title":        {"Guichet : services publics", "Guichet: public services"},
	"signin":       {"Connexion", "Sign in"},
	"phone":        {"Votre numéro de téléphone", "Your phone number"},
	"phone.hint":   {"Nous vous envoyons un code par SMS.", "We send you a code by SMS."},
	"send.code":    {"Recevoir un code", "Get a code"},
	"code":         {"Code reçu par SMS (6 chiffres)", "Code received by SMS (6 digits)"},
	"code.sent":    {"Un code a été envoyé au %s. Il expire dans 5 minutes.", "A code was sent to %s. It expires in 5 minutes."},
	"code.again":   {"Changer de numéro ou recevoir un autre code", "Change the number or get another code"},
	"enter":        {"Se connecter", "Sign in"},
	"answer":       {"Votre réponse", "Your answer"},
	"send":         {"Envoyer", "Send"},
	"choices":      {"Choix", "Choices"},
	"nav":          {"Navigation", "Navigation"},
	"again":        {"Revenir à l'accueil", "Back to the start"},
	"signout":      {"Se déconnecter", "Sign out"},
	"other":        {"English", "Français"},
	"err.phone":    {"Ce numéro n'est pas valide.", "This number is not valid."},
	"err.limited":  {"Trop de codes demandés : réessayez dans une heure.", "Too many codes asked: try again in an hour."},
	"err.wrong":    {"Code incorrect.", "Wrong code."},
	"err.expired":  {"Code expiré ou épuisé : demandez-en un autre.", "The code expired or was used up: get another one."},
	"err.form":     {"Formulaire expiré : recommencez.", "This form expired: try again."},
	"err.down":     {"Service momentanément indisponible : réessayez.", "The service is unavailable for a moment: try again."},
	"sms":          {"Guichet: votre code est %s. Il expire dans 5 minutes. Ne le donnez à personne.", "Guichet: your code is %s. It expires in 5 minutes. Never share it."},
	"skip":         {"Aller au contenu", "Skip to content"},
	"signed.in.as": {"Connecté : %s", "Signed in: %s"},
	"page.choose":  {"Choisissez une option", "Choose an option"},
	"screen.ended": {"Fin du service", "End of the service"},
	"elsewhere":    {"Un dialogue est en cours sur ce numéro, au téléphone (*123#). Le continuer ici l'interrompra là-bas.", "A dialogue is going on for this number, on the phone (*123#). Going on here will end it there."},
	"go.on.here":   {"Continuer ici", "Go on here"},
}

// say returns a page text in lang.
func say(lang, key string) string {
	w := words[key]
	if lang == menus.Languages[1] {
		return w[1]
	}
	return w[0]
}

// pageLang is the language of a page before sign-in: ?lang=, then the
// cookie, then the browser's first choice among ours, then French.
func pageLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); known(l) {
		return l
	}
	if ck, err := r.Cookie(langCookie); err == nil && known(ck.Value) {
		return ck.Value
	}
	for part := range strings.SplitSeq(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if known(base) {
			return base
		}
	}
	return menus.Languages[0]
}

func known(l string) bool {
	for _, k := range menus.Languages {
		if l == k {
			return true
		}
	}
	return false
}

func other(lang string) string {
	if lang == menus.Languages[1] {
		return menus.Languages[0]
	}
	return menus.Languages[1]
}
