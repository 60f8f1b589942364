package hotline

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/staff"
)

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	token, _ := newToken()
	c.setCookie(w, preCSRFCookie, token, 0)
	c.render(w, r, http.StatusOK, "signin", view{CSRF: token, Form: url.Values{"next": {r.URL.Query().Get("next")}}})
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	lang := langOf(r)
	ck, err := r.Cookie(preCSRFCookie)
	if err != nil || r.ParseForm() != nil || !sameToken(r.PostForm.Get("csrf"), ck.Value) {
		c.failStatus(w, r, http.StatusForbidden, lang, "csrf")
		return
	}
	name, password := r.PostForm.Get("name"), r.PostForm.Get("password")
	s, token, u, err := c.SignIn(r.Context(), name, password, c.clientAddr(r))
	var wait waitError
	switch {
	case errors.As(err, &wait):
		c.signInAgain(w, r, lang, tr(lang, "signin.wait", waitFor(lang, wait.until.Sub(c.now()))))
		return
	case errors.Is(err, errBadCredentials):
		c.signInAgain(w, r, lang, tr(lang, "signin.wrong"))
		return
	case errors.Is(err, errExpired):
		c.audit(r.Context(), u, "signin.expired", "", "")
		c.signInAgain(w, r, lang, tr(lang, "signin.expired"))
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	c.audit(r.Context(), u, "signin", "", "")
	c.clearCookie(w, preCSRFCookie)
	c.setCookie(w, sessionCookie, token, s.Expires.Sub(c.now()))
	http.Redirect(w, r, c.localNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

// localNext returns next if it is a path of the console, the console's
// home otherwise: never an open redirect.
func (c *Console) localNext(next string) string {
	home := c.Prefix + "/"
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, home) ||
		strings.HasPrefix(next, "//") || strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return home
	}
	return next
}

func (c *Console) signInAgain(w http.ResponseWriter, r *http.Request, lang, msg string) {
	token, _ := newToken()
	c.setCookie(w, preCSRFCookie, token, 0)
	c.render(w, r, http.StatusUnauthorized, "signin", view{Lang: lang, CSRF: token,
		Form: url.Values{"name": {r.PostForm.Get("name")}, "next": {r.PostForm.Get("next")}}, Errors: map[string]string{"password": msg}})
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	if err := c.Accounts.DeleteSession(r.Context(), sessionOf(r).TokenHash); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r.Context(), u, "signout", "", "")
	c.clearCookie(w, sessionCookie)
	http.Redirect(w, r, c.Prefix+"/signin", http.StatusSeeOther)
}

func (c *Console) passwordPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "password", view{})
}

// changePassword sets the user's own password. The current one is
// checked as a sign-in is, counted against the name and the address, so
// that a stolen session cannot guess it quickly; the new one must keep
// the rules and differ from it. The user's other sessions end.
func (c *Console) changePassword(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	f := r.PostForm
	errs := map[string]string{}
	now := c.now()
	strikes := c.strikes(u.Name, c.clientAddr(r))
	v, err := c.Accounts.Attempt(r.Context(), now, strikes)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	switch {
	case !v.OK:
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(f.Get("current")))
		errs["current"] = tr(u.Lang, "signin.wait", waitFor(u.Lang, v.Until.Sub(now)))
	case bcrypt.CompareHashAndPassword(u.Hash, []byte(f.Get("current"))) != nil:
		errs["current"] = tr(u.Lang, "password.wrong")
	default:
		if err := c.Accounts.Succeeded(r.Context(), now, strikes); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	if err := staff.CheckNewPassword(u.Name, f.Get("new"), u.Hash); err != nil {
		errs["new"] = passwordError(u.Lang, err)
	} else if f.Get("new") != f.Get("again") {
		errs["again"] = tr(u.Lang, "password.mismatch")
	}
	if errs["current"] == "" && errs["new"] == "" && errs["again"] == "" {
		hash, err := staff.HashPassword(f.Get("new"))
		if err != nil {
			c.fail(w, r, err)
			return
		}
		u.Hash, u.MustChange, u.PasswordExpires = hash, false, time.Time{}
		if err := c.Accounts.UpdateUser(r.Context(), u); err != nil {
			c.fail(w, r, err)
			return
		}
		if err := c.Accounts.DeleteSessions(r.Context(), u.Name, sessionOf(r).TokenHash); err != nil {
			c.fail(w, r, err)
			return
		}
		c.audit(r.Context(), u, "password.change", "", "")
		c.redirect(w, r, "/", "password")
		return
	}
	c.render(w, r, http.StatusBadRequest, "password", view{Errors: errs})
}

func (c *Console) setLang(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	l := r.PostForm.Get("lang")
	if l != "fr" && l != "en" {
		c.fail(w, r, guichet.Errorf(guichet.EINVALID, "language: fr or en"))
		return
	}
	u.Lang = l
	if err := c.Accounts.UpdateUser(r.Context(), u); err != nil {
		c.fail(w, r, err)
		return
	}
	c.redirect(w, r, "/", "")
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	c.renderUsers(w, r, http.StatusOK, nil, url.Values{"role": {"operator"}, "lang": {"fr"}}, flash(r, u.Lang))
}

func (c *Console) renderUsers(w http.ResponseWriter, r *http.Request, status int, errs map[string]string, form url.Values, msg string) {
	users, err := c.Accounts.Users(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	u, _ := userOf(r)
	c.render(w, r, status, "users", view{Data: users, Errors: errs, Form: form, Flash: msg, Lang: u.Lang})
}

// setRole changes an account's role, or disables it; an administrator
// cannot change their own, so that the last one cannot lock everyone out.
func (c *Console) setRole(w http.ResponseWriter, r *http.Request) {
	admin, _ := userOf(r)
	name, role := chi.URLParam(r, "name"), staff.Role(r.PostForm.Get("role"))
	if !role.Valid() && role != staff.Disabled {
		c.fail(w, r, guichet.Errorf(guichet.EINVALID, "role: one of operator, supervisor, admin, disabled"))
		return
	}
	if name == admin.Name {
		c.fail(w, r, guichet.Errorf(guichet.ECONFLICT, "%s", tr(admin.Lang, "users.self")))
		return
	}
	u, err := c.Accounts.User(r.Context(), name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	u.Role = role
	if err := c.Accounts.UpdateUser(r.Context(), u); err != nil {
		c.fail(w, r, err)
		return
	}
	// Its sessions end with its old role: a disabled account's do not
	// come back if it is enabled again.
	if err := c.Accounts.DeleteSessions(r.Context(), u.Name, ""); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r.Context(), admin, "user.role", u.Name, string(role))
	c.redirect(w, r, "/users", "role")
}

func (c *Console) addUser(w http.ResponseWriter, r *http.Request) {
	admin, _ := userOf(r)
	f := r.PostForm
	nu, err := staff.NewUser(f.Get("name"), f.Get("full_name"), staff.Role(f.Get("role")), f.Get("lang"), f.Get("password"), c.now())
	if err != nil {
		// NewUser names the field before a colon; the page says it in the
		// administrator's language.
		field := strings.SplitN(guichet.ErrorMessage(err), ":", 2)[0]
		msg := tr(admin.Lang, "users.err."+field)
		var pe *staff.PasswordError
		switch {
		case errors.As(err, &pe) && (pe.Rule == staff.RuleShort || pe.Rule == staff.RuleLong):
			msg = tr(admin.Lang, "users.err.password", staff.MinPassword)
		case field == "password":
			msg = passwordError(admin.Lang, err)
		}
		c.renderUsers(w, r, http.StatusBadRequest, map[string]string{field: msg}, f, "")
		return
	}
	nu.OneTime(c.now(), c.OneTimeFor)
	if err := c.Accounts.AddUser(r.Context(), nu); err != nil {
		if guichet.ErrorCode(err) == guichet.ECONFLICT {
			c.renderUsers(w, r, http.StatusConflict, map[string]string{"name": tr(admin.Lang, "users.taken")}, f, "")
			return
		}
		c.fail(w, r, err)
		return
	}
	c.audit(r.Context(), admin, "user.add", nu.Name, string(nu.Role))
	c.redirect(w, r, "/users", "user")
}
