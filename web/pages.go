package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/peer"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/ussd"
)

// view is what a page template is given.
type view struct {
	Lang, Title, Prefix, CSRF string
	Error                     string
	Phone, Sent               string // the sign-in forms
	Screen                    *screen
	End                       bool
	Input                     string // the inputmode of a typed answer; "" for options
	Hop                       string
	Again                     string // the end form's button, when not "again"
}

func (v view) Say(key string) string { return say(v.Lang, key) }
func (v view) Other() string         { return other(v.Lang) }

// The dialogue's own fields of ussd.Request on this channel.
const (
	operator = "web"
	channel  = "web"
)

func (s *Site) render(w http.ResponseWriter, status int, name string, v view) {
	v.Prefix = s.prefix()
	if v.Title == "" {
		v.Title = say(v.Lang, "title")
	}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, v); err != nil {
		s.log().Error("rendering a web page", "page", name, "err", err)
		http.Error(w, "error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (s *Site) fail(w http.ResponseWriter, status int, lang, key string) {
	s.render(w, status, "error", view{Lang: lang, Error: say(lang, key)})
}

func (s *Site) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, s.prefix(), http.StatusSeeOther)
}

// preCSRF returns the sign-in forms' token, setting its cookie when the
// browser has none.
func (s *Site) preCSRF(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	t := newToken()
	s.cookie(w, csrfCookie, t)
	return t
}

func (s *Site) samePreCSRF(r *http.Request) bool {
	ck, err := r.Cookie(csrfCookie)
	return err == nil && r.ParseForm() == nil && same(r.PostForm.Get("csrf"), ck.Value)
}

// page shows the sign-in form, or the signed-in citizen's screen: their
// dialogue as it stands, or a new one when the number's session is
// another's (a USSD dial since, or none).
func (s *Site) page(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	se, token, err := s.signedIn(r)
	if errors.Is(err, errNotKnown) {
		lang := pageLang(r)
		if l := r.URL.Query().Get("lang"); known(l) {
			s.cookie(w, langCookie, l)
		}
		s.render(w, http.StatusOK, "signin", view{Lang: lang, CSRF: s.preCSRF(w, r)})
		return
	}
	if err != nil {
		s.log().Error("reading a web session", "err", err)
		s.fail(w, http.StatusServiceUnavailable, pageLang(r), "err.down")
		return
	}
	v, ok := s.Engine.View(ctx, "", se.Phone)
	if ok && v.SessionID != se.Dialogue && !v.End && !strings.HasPrefix(v.SessionID, "web-") {
		// A live dialogue on USSD: a GET (a reload, a prefetch, a link)
		// must not cut it; the citizen says so (a POST to /new).
		lang := s.lang(ctx, r, se.Phone)
		s.render(w, http.StatusOK, "screen", view{Lang: lang, CSRF: se.CSRF, End: true, Again: say(lang, "go.on.here"),
			Screen: &screen{Heading: []string{say(lang, "elsewhere")}}})
		return
	}
	if !ok || v.SessionID != se.Dialogue || se.Dialogue == "" {
		if v, err = s.begin(ctx, token, &se); err != nil {
			s.log().Error("starting a web dialogue", "phone", phone.Mask(se.Phone), "err", err)
			s.fail(w, http.StatusServiceUnavailable, s.lang(ctx, r, se.Phone), "err.down")
			return
		}
	}
	sc := parse(v.Text, v.Input != "")
	pv := view{Lang: s.lang(ctx, r, se.Phone), CSRF: se.CSRF, Screen: &sc, End: v.End, Hop: hopToken(v.SessionID, v.Hops)}
	if v.Input != "" {
		pv.Input = inputMode(v.Input)
	}
	if len(sc.Heading) > 0 {
		pv.Title = sc.Heading[0] + " - Guichet"
	}
	s.render(w, http.StatusOK, "screen", pv)
}

// begin starts a dialogue of the browser's own and returns its first
// screen.
func (s *Site) begin(ctx context.Context, token string, se *session) (ussd.View, error) {
	se.Dialogue = "web-" + newToken()[:22]
	if err := s.save(ctx, token, *se); err != nil {
		return ussd.View{}, err
	}
	if _, err := s.Engine.Step(ctx, s.request(ussd.Begin, *se, "", "")); err != nil {
		return ussd.View{}, err
	}
	v, ok := s.Engine.View(ctx, "", se.Phone)
	if !ok {
		return ussd.View{}, errors.New("the dialogue just started is not in the session store")
	}
	return v, nil
}

func (s *Site) request(kind ussd.Kind, se session, in, hop string) ussd.Request {
	return ussd.Request{Kind: kind, SessionID: se.Dialogue, Phone: se.Phone, Operator: operator, Dialect: operator,
		Channel: channel, Input: in, HopKey: hop}
}

// lang is a signed-in page's language: the citizen's choice, or the
// page's.
func (s *Site) lang(ctx context.Context, r *http.Request, ph string) string {
	if l := s.Engine.Language(ctx, ph); known(l) {
		return l
	}
	return pageLang(r)
}

// signedInPost checks a signed-in form: its session and its CSRF token.
func (s *Site) signedInPost(w http.ResponseWriter, r *http.Request) (session, string, bool) {
	se, token, err := s.signedIn(r)
	if err != nil {
		if !errors.Is(err, errNotKnown) {
			s.log().Error("reading a web session", "err", err)
		}
		s.home(w, r) // signed out meanwhile: the sign-in form
		return session{}, "", false
	}
	if r.ParseForm() != nil || !same(r.PostForm.Get("csrf"), se.CSRF) {
		s.fail(w, http.StatusForbidden, s.lang(r.Context(), r, se.Phone), "err.form")
		return session{}, "", false
	}
	return se, token, true
}

// step sends the page's answer to the engine, once: a form whose hop is
// not the dialogue's (sent twice, or from a page left behind) only shows
// the screen as it is now.
func (s *Site) step(w http.ResponseWriter, r *http.Request) {
	se, _, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	v, found := s.Engine.View(ctx, "", se.Phone)
	hop, in := r.PostForm.Get("hop"), r.PostForm.Get("in")
	if !utf8.ValidString(in) || utf8.RuneCountInString(in) > ussd.MaxInput || strings.IndexByte(in, 0) >= 0 {
		s.home(w, r) // no handset sends it, and the engine refuses it: the screen again
		return
	}
	if !found || v.SessionID != se.Dialogue || v.End || hop != hopToken(v.SessionID, v.Hops) {
		s.home(w, r)
		return
	}
	if _, err := s.Engine.Step(ctx, s.request(ussd.Continue, se, in, se.Dialogue+":"+hop)); err != nil {
		s.log().Warn("a web hop failed", "phone", phone.Mask(se.Phone), "session_id", se.Dialogue, "err", err)
		s.fail(w, http.StatusServiceUnavailable, s.lang(ctx, r, se.Phone), "err.down")
		return
	}
	s.home(w, r)
}

// restart leaves an ended dialogue for a new one, at the home menu.
func (s *Site) restart(w http.ResponseWriter, r *http.Request) {
	se, token, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	if _, err := s.begin(r.Context(), token, &se); err != nil {
		s.log().Error("starting a web dialogue", "phone", phone.Mask(se.Phone), "err", err)
		s.fail(w, http.StatusServiceUnavailable, s.lang(r.Context(), r, se.Phone), "err.down")
		return
	}
	s.home(w, r)
}

func (s *Site) signOut(w http.ResponseWriter, r *http.Request) {
	_, token, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	if err := s.Store.Delete(r.Context(), sessionKey+hashOf(token)); err != nil {
		s.log().Error("ending a web session", "err", err)
	}
	s.clearCookie(w, sessionCookie)
	s.home(w, r)
}

// askCode sends a one-time code to the number typed, within the hourly
// limits, by SMS in the citizen's language.
func (s *Site) askCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pageLang(r)
	if !s.samePreCSRF(r) {
		s.fail(w, http.StatusForbidden, lang, "err.form")
		return
	}
	raw := r.PostForm.Get("phone")
	ph, err := phone.Normalize(raw, s.Region)
	if err != nil || len(raw) > 32 {
		s.render(w, http.StatusUnprocessableEntity, "signin", view{Lang: lang, CSRF: s.preCSRF(w, r), Error: say(lang, "err.phone")})
		return
	}
	if err := s.limit(ctx, ph, peer.Addr(r, s.TrustedProxies)); err != nil {
		if !errors.Is(err, errLimited) {
			s.log().Error("counting a web sign-in code", "err", err)
			s.fail(w, http.StatusServiceUnavailable, lang, "err.down")
			return
		}
		s.log().Warn("web sign-in codes over the hourly limit", "phone", phone.Mask(ph))
		s.render(w, http.StatusTooManyRequests, "signin", view{Lang: lang, CSRF: s.preCSRF(w, r), Error: say(lang, "err.limited")})
		return
	}
	c, err := s.issue(ctx, ph)
	if err == nil {
		smsLang := s.lang(ctx, r, ph)
		err = s.Outbox.Enqueue(ctx, []outbox.Message{{Phone: ph, Lang: smsLang, Kind: KindCode,
			Body: fmt.Sprintf(say(smsLang, "sms"), c)}})
	}
	if err != nil {
		s.log().Error("sending a web sign-in code", "phone", phone.Mask(ph), "err", err)
		s.fail(w, http.StatusServiceUnavailable, lang, "err.down")
		return
	}
	s.log().Info("web sign-in code sent", "phone", phone.Mask(ph))
	s.render(w, http.StatusOK, "code", view{Lang: lang, CSRF: s.preCSRF(w, r), Phone: ph, Sent: fmt.Sprintf(say(lang, "code.sent"), ph)})
}

// KindCode is the outbox kind of a sign-in code's SMS.
const KindCode = outbox.KindSignIn

// signIn checks the code typed; right, it opens the browser's session for
// the number, whose language becomes the page's if it never chose one.
func (s *Site) signIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pageLang(r)
	if !s.samePreCSRF(r) {
		s.fail(w, http.StatusForbidden, lang, "err.form")
		return
	}
	ph, err := phone.Normalize(r.PostForm.Get("phone"), s.Region)
	if err != nil {
		s.render(w, http.StatusUnprocessableEntity, "signin", view{Lang: lang, CSRF: s.preCSRF(w, r), Error: say(lang, "err.phone")})
		return
	}
	switch err := s.verify(ctx, ph, r.PostForm.Get("code")); {
	case errors.Is(err, errWrong):
		s.render(w, http.StatusUnauthorized, "code", view{Lang: lang, CSRF: s.preCSRF(w, r), Phone: ph,
			Sent: fmt.Sprintf(say(lang, "code.sent"), ph), Error: say(lang, "err.wrong")})
		return
	case errors.Is(err, errNoCode), errors.Is(err, errTooMany):
		s.log().Info("web sign-in refused", "phone", phone.Mask(ph), "err", err)
		s.render(w, http.StatusUnauthorized, "signin", view{Lang: lang, CSRF: s.preCSRF(w, r), Error: say(lang, "err.expired")})
		return
	case err != nil:
		s.log().Error("checking a web sign-in code", "phone", phone.Mask(ph), "err", err)
		s.fail(w, http.StatusServiceUnavailable, lang, "err.down")
		return
	}
	if s.Engine.Language(ctx, ph) == "" {
		if err := s.Engine.SetLanguage(ctx, ph, lang); err != nil {
			s.log().Warn("could not remember a web citizen's language", "phone", phone.Mask(ph), "err", err)
		}
	}
	if err := s.open(ctx, w, r, ph); err != nil {
		s.log().Error("opening a web session", "phone", phone.Mask(ph), "err", err)
		s.fail(w, http.StatusServiceUnavailable, lang, "err.down")
		return
	}
	s.clearCookie(w, csrfCookie)
	s.log().Info("web sign-in", "phone", phone.Mask(ph))
	s.home(w, r)
}

// hopToken names a screen of a dialogue in its form: the dialogue (a
// short hash of its id) and the hop. A form left from an earlier dialogue,
// whose hop counts started again, cannot move the current one.
func hopToken(dialogue string, hops int) string {
	sum := sha256.Sum256([]byte(dialogue))
	return hex.EncodeToString(sum[:6]) + "-" + strconv.Itoa(hops)
}
