package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/web/webtest"
)

var answerField = regexp.MustCompile(`<input id="in" [^>]*inputmode="([a-z]+)"`)

// maxPage is what a screen's page may weigh: a few kilobytes, for 2G.
const maxPage = 4096

// A signed-in citizen walks a dialogue: options as buttons, a typed input
// as a field with the keyboard its type needs, back and home, a page
// sent twice stepping once, pages of a few kilobytes.
func TestDialogue(t *testing.T) {
	r := newRig(t)
	c := r.client()
	steps := []struct {
		in    string // "" : sign in
		shows []string
		mode  string // the field's inputmode, "" for none
	}{
		{"", []string{"Guichet: services publics", "1. COVID-19", "2. Acte de naissance", "Se déconnecter"}, ""},
		{"2", []string{"Centre d'état civil de naissance ?", "1. ", "Retour", "Accueil"}, ""},
		{"1", []string{"Nom complet sur l'acte ?", "Votre réponse", "Envoyer"}, "text"},
		{"Awa Ngono", []string{"Date de naissance (JJMMAAAA) ?"}, "numeric"},
		{"31129999", []string{"Date invalide, ex: 02031990."}, "numeric"},
		{"0", []string{"Nom complet sur l'acte ?"}, "text"},
		{"Awa Ngono", []string{"Date de naissance (JJMMAAAA) ?"}, "numeric"},
		{"02031990", []string{"Copie d'acte pour Awa Ngono, né(e) le 02/03/1990", "1. Oui", "2. Non"}, ""},
		{"1", []string{"enregistré", "Revenir à l'accueil"}, ""},
	}
	for _, s := range steps {
		var p webtest.Page
		if s.in == "" {
			p = c.SignIn(awa, r.code(awa))
		} else {
			p = c.Send(s.in)
		}
		if p.Status != http.StatusOK {
			t.Fatalf("after %q: %d\n%s", s.in, p.Status, webtest.Text(p.HTML))
		}
		contains(t, p, s.shows...)
		mode := ""
		if m := answerField.FindStringSubmatch(p.HTML); m != nil {
			mode = m[1]
		}
		if mode != s.mode {
			t.Errorf("after %q: inputmode %q, want %q", s.in, mode, s.mode)
		}
		if len(p.HTML) > maxPage {
			t.Errorf("after %q: the page weighs %d bytes, over %d", s.in, len(p.HTML), maxPage)
		}
		for _, a11y := range []string{`<html lang="fr">`, "<h1>", "<title>", "<main>"} {
			if !strings.Contains(p.HTML, a11y) {
				t.Errorf("after %q: no %s", s.in, a11y)
			}
		}
		if strings.Contains(p.HTML, `id="in"`) && !strings.Contains(p.HTML, `<label for="in">`) {
			t.Errorf("after %q: a field without its label", s.in)
		}
	}
	ref := regexp6or8(webtest.Text(c.Last.HTML))
	if ref == "" {
		t.Fatalf("no reference on the end page:\n%s", webtest.Text(c.Last.HTML))
	}
	k, err := r.cases.Case(context.Background(), ref)
	if err != nil || k.Phone != awa || k.Channel != "web" || k.Service != "birth-certificate" {
		t.Errorf("case %s: %+v, %v; want the citizen's birth certificate, opened on the web", ref, k, err)
	}
	// The end page starts again at home.
	if p := c.Post("new", nil); !strings.Contains(webtest.Text(p.HTML), "1. COVID-19") {
		t.Errorf("a new dialogue:\n%s", webtest.Text(p.HTML))
	}
	// Signing out: the page is the sign-in form again.
	if p := c.Post("signout", nil); !strings.Contains(webtest.Text(p.HTML), "Recevoir un code") {
		t.Errorf("signed out:\n%s", webtest.Text(p.HTML))
	}
	if p := c.Send("1"); !strings.Contains(webtest.Text(p.HTML), "Recevoir un code") {
		t.Errorf("a form after signing out:\n%s", webtest.Text(p.HTML))
	}
}

func regexp6or8(text string) string {
	for f := range strings.FieldsSeq(text) {
		f = strings.Trim(f, ".,:")
		if len(f) == 8 && strings.Trim(f, "0123456789") == "" {
			return f
		}
	}
	return ""
}

// A form sent twice (a double click, a retried POST) is one input; a form
// of a page left behind only shows the screen as it is; a form without
// the session's CSRF token is refused.
func TestDoubleSubmit(t *testing.T) {
	r := newRig(t)
	c := r.client()
	c.SignIn(awa, r.code(awa))
	home := c.Last
	c.Send("2") // birth certificate: the offices
	v1, _ := r.eng.View(context.Background(), "", awa)
	c.Last = home
	p := c.Send("2") // the same form again
	v2, _ := r.eng.View(context.Background(), "", awa)
	if v2.Hops != v1.Hops || v2.Text != v1.Text {
		t.Errorf("the form sent twice moved the dialogue: %+v, then %+v", v1, v2)
	}
	contains(t, p, "Centre d'état civil de naissance ?")
	bad := c.Post("", url.Values{"in": {"1"}, "csrf": {"forged"}})
	if bad.Status != http.StatusForbidden {
		t.Errorf("a forged form: %d", bad.Status)
	}

	// A form of an earlier dialogue, at the same hop count as the current
	// one's screen, does not move the current one.
	old := p // the offices, at the earlier dialogue's second hop
	c.Last = p
	c.Send("00")       // home
	c.Post("new", nil) // a new dialogue, at its home menu
	c.Send("1")        // its second hop: COVID-19's menu
	before, _ := r.eng.View(context.Background(), "", awa)
	c.Last = old
	c.Send("2") // the earlier dialogue's offices form, "2"
	after, _ := r.eng.View(context.Background(), "", awa)
	if after.Hops != before.Hops || after.SessionID != before.SessionID {
		t.Errorf("a form of an earlier dialogue moved the current one: %+v, then %+v", before, after)
	}
}

// A dialogue begun on the web goes on by USSD and back: the engine's
// session is the number's, and each channel offers to resume the other's;
// the web page asks before it takes over a live USSD dialogue.
func TestAcrossChannels(t *testing.T) {
	r := newRig(t)
	c := r.client()
	c.SignIn(awa, r.code(awa))
	c.Send("2")
	c.Send("1")
	c.Send("Awa Ngono") // now at the date of birth
	ctx := context.Background()
	dial := func(text string) string {
		rep, err := r.eng.Step(ctx, ussd.Request{SessionID: "ussd-1", Phone: awa, ServiceCode: "*123#", Operator: "demo",
			Dialect: "africastalking", History: text, Cumulative: true})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Text
	}
	if s := dial(""); !strings.Contains(s, "Reprendre") {
		t.Fatalf("USSD after the web: %q", s)
	}
	if s := dial("1"); !strings.Contains(s, "Date de naissance") {
		t.Fatalf("resumed by USSD: %q", s)
	}
	dial("1*02031990") // the confirmation, by USSD
	// Opening the page does not cut the USSD dialogue: the citizen says
	// to go on here, and is offered to resume it.
	p := c.Get("")
	contains(t, p, "Un dialogue est en cours sur ce numéro", "Continuer ici")
	if v, _ := r.eng.View(ctx, "", awa); v.SessionID != "ussd-1" || v.End {
		t.Errorf("the page's GET cut the USSD dialogue: %+v", v)
	}
	p = c.Post("new", nil)
	contains(t, p, "Reprendre")
	p = c.Send("1")
	contains(t, p, "Copie d'acte pour Awa Ngono, né(e) le 02/03/1990", "1. Oui")
}

// A page read for ten minutes is still the dialogue's; after the idle
// timeout the citizen signs in again.
func TestSlowReader(t *testing.T) {
	r := newRig(t)
	c := r.client()
	c.SignIn(awa, r.code(awa))
	c.Send("2")
	r.advance(10 * time.Minute)
	p := c.Send("1")
	contains(t, p, "Nom complet sur l'acte ?")
	r.advance(31 * time.Minute)
	contains(t, c.Get(""), "Recevoir un code")
}

// A session used all day still ends SessionFor after its sign-in.
func TestSessionLifetime(t *testing.T) {
	r := newRig(t)
	c := r.client()
	c.SignIn(awa, r.code(awa))
	for range 12*3 - 1 { // a page every 20 minutes, for just under 12 hours
		r.advance(20 * time.Minute)
		if p := c.Get(""); strings.Contains(p.HTML, "Recevoir un code") {
			t.Fatalf("signed out after %v of use", r.clock().Sub(time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)))
		}
	}
	r.advance(21 * time.Minute)
	contains(t, c.Get(""), "Recevoir un code")

}
