package hotline

import "fmt"

// tr returns the console's text key in lang (French when lang is not
// English), filled with args; the key itself when it is missing, which the
// tests refuse.
func tr(lang, key string, args ...any) string {
	e, ok := texts[key]
	if !ok {
		return key
	}
	s := e[0]
	if lang == "en" {
		s = e[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// texts holds every text of the console: {French, English}.
var texts = map[string][2]string{
	"title.signin":    {"Connexion", "Sign in"},
	"title.home":      {"Rechercher un appelant", "Find a caller"},
	"title.password":  {"Mot de passe", "Password"},
	"title.caller":    {"Appelant", "Caller"},
	"title.case":      {"Dossier", "Case"},
	"title.callbacks": {"Rappels demandés", "Callback requests"},
	"title.assist":    {"Session assistée pour", "Assisted session for"},
	"title.phone":     {"Simulateur de téléphone", "Phone simulator"},
	"title.dashboard": {"Tableau de bord", "Dashboard"},
	"title.audit":     {"Journal d'audit", "Audit log"},
	"title.users":     {"Comptes", "Accounts"},
	"title.error":     {"Impossible", "Cannot do that"},

	"nav.search":    {"Recherche", "Search"},
	"nav.callbacks": {"Rappels", "Callbacks"},
	"nav.dashboard": {"Tableau de bord", "Dashboard"},
	"nav.audit":     {"Audit", "Audit"},
	"nav.phone":     {"Simulateur", "Simulator"},
	"nav.users":     {"Comptes", "Accounts"},
	"nav.signout":   {"Déconnexion", "Sign out"},

	"role.operator":   {"opérateur", "operator"},
	"role.supervisor": {"superviseur", "supervisor"},
	"role.admin":      {"administrateur", "administrator"},

	"signin.name":     {"Identifiant", "User name"},
	"signin.password": {"Mot de passe", "Password"},
	"signin.submit":   {"Se connecter", "Sign in"},
	"signin.wrong":    {"Identifiant ou mot de passe incorrect.", "Wrong user name or password."},
	"signin.locked":   {"Trop d'essais : compte bloqué jusqu'à %s.", "Too many tries: account locked until %s."},

	"password.first":    {"Choisissez votre propre mot de passe avant de continuer.", "Choose your own password before going on."},
	"password.current":  {"Mot de passe actuel", "Current password"},
	"password.new":      {"Nouveau mot de passe", "New password"},
	"password.again":    {"Encore une fois", "Once more"},
	"password.submit":   {"Changer", "Change"},
	"password.wrong":    {"Ce n'est pas votre mot de passe actuel.", "That is not your current password."},
	"password.rule":     {"Au moins %d caractères.", "At least %d characters."},
	"password.mismatch": {"Les deux saisies diffèrent.", "The two entries differ."},

	"search.label":    {"Numéro de téléphone ou référence de dossier", "Phone number or case reference"},
	"search.submit":   {"Chercher", "Search"},
	"search.empty":    {"Tapez un numéro ou une référence.", "Type a number or a reference."},
	"search.badphone": {"« %s » n'est pas un numéro de téléphone.", "“%s” is not a phone number."},
	"search.badref":   {"Référence %s mal saisie (chiffre de contrôle faux).", "Reference %s is mistyped (its check digit is wrong)."},
	"search.noref":    {"Aucun dossier %s.", "No case %s."},

	"caller.title":     {"Appelant", "Caller"},
	"caller.assist":    {"Parcourir les menus pour cet appelant", "Walk the menus for this caller"},
	"caller.unknown":   {"Aucun dossier, rendez-vous, SMS ni session pour ce numéro.", "No case, booking, SMS or session for this number."},
	"caller.cases":     {"Dossiers", "Cases"},
	"caller.bookings":  {"Rendez-vous", "Bookings"},
	"caller.sms":       {"SMS envoyés", "SMS sent"},
	"caller.sessions":  {"Sessions USSD récentes", "Recent USSD sessions"},
	"caller.callbacks": {"Demandes de rappel", "Callback requests"},
	"none":             {"Aucun.", "None."},

	"case.title":      {"Dossier", "Case"},
	"case.ref":        {"Référence", "Reference"},
	"case.service":    {"Service", "Service"},
	"case.status":     {"Statut", "Status"},
	"case.updated":    {"Mis à jour", "Updated"},
	"case.applicant":  {"Demandeur", "Applicant"},
	"case.channel":    {"Canal", "Channel"},
	"case.history":    {"Historique", "History"},
	"case.when":       {"Quand", "When"},
	"case.who":        {"Qui", "Who"},
	"case.note":       {"Note", "Note"},
	"case.act":        {"Agir", "Act"},
	"case.moveto":     {"Passer à", "Move to"},
	"case.movenote":   {"Message au citoyen (facultatif)", "Word to the citizen (optional)"},
	"case.move":       {"Changer le statut", "Move"},
	"case.final":      {"Ce statut est final.", "This status is final."},
	"case.addnote":    {"Note interne (sans SMS)", "Internal note (no SMS)"},
	"case.savenote":   {"Ajouter la note", "Add the note"},
	"case.pickstatus": {"Choisissez le nouveau statut.", "Choose the new status."},

	"booking.ref":      {"Référence", "Reference"},
	"booking.when":     {"Quand", "When"},
	"booking.office":   {"Bureau", "Office"},
	"booking.cancel":   {"Annuler", "Cancel"},
	"booking.move":     {"Déplacer", "Move"},
	"booking.newslot":  {"Nouveau créneau", "New slot"},
	"booking.gone":     {"Ce créneau n'est plus proposé ou est complet.", "This slot is no longer offered or is full."},
	"booking.restored": {"Déplacement impossible (%s) : l'appelant garde son créneau.", "Could not move it (%s): the caller keeps their slot."},
	"booking.lost":     {"Déplacement impossible (%s) et l'ancien créneau n'a pas pu être repris : reprenez un rendez-vous pour l'appelant.", "Could not move it (%s) and the old slot could not be taken back: book again for the caller."},
	"booking.pickslot": {"Choisissez un créneau.", "Choose a slot."},

	"sms.when":     {"Quand", "When"},
	"sms.text":     {"Texte", "Text"},
	"sms.status":   {"État", "Status"},
	"sms.template": {"Modèle", "Template"},
	"sms.lang":     {"Langue du SMS", "SMS language"},
	"sms.send":     {"Envoyer le SMS", "Send the SMS"},
	"sms.toolong":  {"Trop long : %d SMS au plus.", "Too long: %d SMS at most."},

	"sms.tpl.free.label":      {"Texte libre", "Free text"},
	"sms.tpl.free":            {"", ""},
	"sms.tpl.missed.label":    {"Appel manqué", "Missed call"},
	"sms.tpl.missed":          {"Guichet 1510 a essayé de vous rappeler. Rappelez le 1510 (gratuit).", "Guichet 1510 tried to call you back. Call 1510 (free)."},
	"sms.tpl.documents.label": {"Pièces à apporter", "Documents to bring"},
	"sms.tpl.documents":       {"Pour votre dossier, apportez votre CNI et l'original de l'acte.", "For your case, bring your ID card and the original certificate."},
	"sms.tpl.visit.label":     {"Rendez-vous", "Visit"},
	"sms.tpl.visit":           {"Votre rendez-vous est confirmé. Suivi: *123#.", "Your visit is confirmed. Details: *123#."},

	"msg.pending":       {"en attente", "waiting"},
	"msg.sending":       {"en cours d'envoi", "sending"},
	"msg.sent":          {"envoyé", "sent"},
	"msg.delivered":     {"reçu", "delivered"},
	"msg.undeliverable": {"non remis", "undeliverable"},
	"msg.expired":       {"expiré", "expired"},
	"msg.failed":        {"échec", "failed"},
	"msg.logged":        {"journalisé", "logged"},

	"session.when":     {"Fin", "Ended"},
	"session.service":  {"Service", "Service"},
	"session.node":     {"Dernier écran", "Last screen"},
	"session.result":   {"Issue", "Outcome"},
	"session.hops":     {"%d écrans", "%d screens"},
	"result.completed": {"terminée", "completed"},
	"result.abandoned": {"abandonnée", "abandoned"},
	"result.timed_out": {"expirée", "timed out"},
	"result.error":     {"erreur", "error"},

	"callbacks.oldest": {"Rappels en attente (les plus anciens)", "Callbacks waiting (oldest first)"},
	"callbacks.all":    {"Toute la file", "The whole queue"},
	"callbacks.open":   {"En attente", "Waiting"},
	"callbacks.recent": {"Traités récemment", "Done recently"},
	"callbacks.ticket": {"Ticket", "Ticket"},
	"callbacks.phone":  {"Numéro", "Number"},
	"callbacks.reason": {"Motif", "Reason"},
	"callbacks.since":  {"Demandé", "Requested"},
	"callbacks.by":     {"Pris par", "Taken by"},
	"callbacks.take":   {"Prendre", "Take"},
	"callbacks.done":   {"Fait", "Done"},
	"callbacks.closed": {"Traité", "Done"},
	"callbacks.empty":  {"Personne n'attend.", "Nobody is waiting."},

	"assist.help":   {"Lisez l'écran à l'appelant et tapez son choix : ce sont les mêmes menus que sur *123#.", "Read the screen to the caller and type their choice: these are the same menus as *123#."},
	"assist.input":  {"Réponse de l'appelant", "Caller's answer"},
	"assist.send":   {"Envoyer", "Send"},
	"assist.hangup": {"Raccrocher", "Hang up"},
	"assist.again":  {"Recommencer", "Start again"},
	"assist.start":  {"Commencer", "Start"},
	"assist.ready":  {"Prêt à composer *123# pour l'appelant.", "Ready to dial *123# for the caller."},
	"assist.hungup": {"Session terminée.", "Session ended."},

	"phone.help": {"Compose le catalogue comme un téléphone (numéro %s) : les dossiers ouverts ici sont réels.", "Dials the catalogue like a phone (number %s): cases opened here are real."},
	"phone.idle": {"Prêt.", "Ready."},
	"phone.dial": {"Composer *123#", "Dial *123#"},

	"dash.perhour":   {"Sessions par heure et par service (24 h)", "Sessions per hour by service (24 h)"},
	"dash.nodata":    {"Pas encore de données", "No data yet"},
	"dash.home":      {"Accueil", "Home"},
	"dash.funnel":    {"Où les appelants abandonnent : %s", "Where callers give up: %s"},
	"dash.entered":   {"Entrés", "Entered"},
	"dash.completed": {"Terminés", "Completed"},
	"dash.delivery":  {"SMS remis par opérateur (7 jours)", "SMS delivered per operator (7 days)"},
	"dash.nobind":    {"non envoyés", "not sent"},
	"dash.queue":     {"File de rappels : %d en attente", "Callback queue: %d waiting"},
	"dash.waitavg":   {"Attente moyenne", "Average wait"},
	"dash.waitmax":   {"Attente la plus longue", "Longest wait"},

	"audit.user":    {"Utilisateur", "User"},
	"audit.subject": {"Numéro ou référence", "Number or reference"},
	"audit.filter":  {"Filtrer", "Filter"},
	"audit.when":    {"Quand", "When"},
	"audit.action":  {"Action", "Action"},
	"audit.detail":  {"Détail", "Detail"},
	"audit.older":   {"Plus anciens", "Older"},

	"users.name":     {"Identifiant", "User name"},
	"users.fullname": {"Nom complet", "Full name"},
	"users.role":     {"Rôle", "Role"},
	"users.lang":     {"Langue", "Language"},
	"users.created":  {"Créé", "Created"},
	"users.add":      {"Nouveau compte", "New account"},
	"users.password": {"Mot de passe provisoire", "Temporary password"},
	"users.submit":   {"Créer", "Create"},
	"users.self":     {"Vous ne pouvez pas changer votre propre rôle.", "You cannot change your own role."},
	"users.change":   {"Changer", "Change"},
	"role.disabled":  {"désactivé", "disabled"},
	"users.taken":    {"Cet identifiant existe déjà.", "This user name is taken."},

	"form.required": {"À remplir.", "Required."},
	"form.toolong":  {"%d caractères au plus.", "%d characters at most."},

	"error.notfound":    {"Introuvable.", "Not found."},
	"error.invalid":     {"Saisie invalide.", "Invalid input."},
	"error.conflict":    {"Impossible maintenant.", "Not possible now."},
	"error.unavailable": {"Service momentanément indisponible. Réessayez.", "Service unavailable for a moment. Try again."},
	"error.internal":    {"Une erreur est survenue ; elle est consignée. Réessayez.", "Something went wrong; it was logged. Try again."},
	"error.csrf":        {"Formulaire expiré : rechargez la page et recommencez.", "This form expired: reload the page and try again."},
	"error.forbidden":   {"Votre rôle ne permet pas cette page.", "Your role does not allow this page."},
	"error.back":        {"Retour à la recherche", "Back to search"},

	"done.moved":     {"Statut changé ; le SMS au citoyen est dans la file d'envoi.", "Status changed; the citizen's SMS is queued."},
	"done.noted":     {"Note ajoutée.", "Note added."},
	"done.sms":       {"SMS mis dans la file d'envoi.", "SMS queued."},
	"done.cancelled": {"Rendez-vous annulé.", "Booking cancelled."},
	"done.rebooked":  {"Rendez-vous déplacé.", "Booking moved."},
	"done.taken":     {"Rappel pris : c'est à vous.", "Callback taken: it is yours."},
	"done.closed":    {"Rappel marqué fait.", "Callback marked done."},
	"done.password":  {"Mot de passe changé.", "Password changed."},
	"done.role":      {"Rôle changé.", "Role changed."},
	"done.user":      {"Compte créé ; donnez-lui son mot de passe provisoire.", "Account created; give them their temporary password."},
}
