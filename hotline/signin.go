package hotline

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

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
	s, token, u, err := c.SignIn(r.Context(), name, password)
	var locked lockedError
	switch {
	case errors.As(err, &locked):
		c.audit(r.Context(), staff.User{Name: strings.ToLower(name)}, "signin.locked", "", "")
		c.signInAgain(w, r, lang, tr(lang, "signin.locked", locked.until.In(c.location()).Format("15:04")))
		return
	case errors.Is(err, errBadCredentials):
		if u.Name != "" {
			c.audit(r.Context(), u, "signin.failed", "", "")
		}
		c.signInAgain(w, r, lang, tr(lang, "signin.wrong"))
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

func (c *Console) changePassword(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	f := r.PostForm
	errs := map[string]string{}
	if bcryptCompare(u.Hash, f.Get("current")) != nil {
		errs["current"] = tr(u.Lang, "password.wrong")
	}
	hash, err := staff.HashPassword(f.Get("new"))
	if err != nil {
		errs["new"] = tr(u.Lang, "password.rule", staff.MinPassword)
	} else if f.Get("new") != f.Get("again") {
		errs["again"] = tr(u.Lang, "password.mismatch")
	}
	if len(errs) > 0 {
		c.render(w, r, http.StatusBadRequest, "password", view{Errors: errs})
		return
	}
	u.Hash, u.MustChange = hash, false
	if err := c.Accounts.UpdateUser(r.Context(), u); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r.Context(), u, "password.change", "", "")
	c.redirect(w, r, "/", "password")
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
		if field == "password" {
			msg = tr(admin.Lang, "users.err.password", staff.MinPassword)
		}
		c.renderUsers(w, r, http.StatusBadRequest, map[string]string{field: msg}, f, "")
		return
	}
	nu.MustChange = true
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
