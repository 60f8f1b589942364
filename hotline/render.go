package hotline

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/staff"
)

// view is what every page's template gets.
type view struct {
	Lang    string
	User    staff.User
	CSRF    string
	Prefix  string
	Title   string
	Flash   string
	Errors  map[string]string // form field → what is wrong with it
	Form    url.Values
	Data    any
	Signed  bool
	Status  int
	Message string
}

var funcs = template.FuncMap{
	"t":    tr,
	"mask": phone.Mask,
	"when": func(lang string, t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		t = t.In(cases.Cameroon)
		if lang == "en" {
			return t.Format("02/01/2006 15:04")
		}
		return t.Format("02/01/2006 15h04")
	},
	"seconds":    func(d time.Duration) string { return fmt.Sprintf("%.0f s", d.Seconds()) },
	"atLeast":    func(u staff.User, r string) bool { return u.Role.AtLeast(staff.Role(r)) },
	"pathEscape": url.PathEscape,
	"roles":      func() []staff.Role { return staff.Roles },
	"list":       func(s ...string) []string { return s },
	"div":        func(a, b int) int { return a / b },
	"mod":        func(a, b int) int { return a % b },
	// canMove says whether a campaign in state may take the action.
	"canMove": func(state, action string) bool {
		m, ok := campaigns.Actions[action]
		return ok && slices.Contains(m.From, state)
	},
}

// parsePages parses each page with the layout.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		if path.Base(n) == "layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", n, err)
		}
		pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return pages, nil
}

// render writes a page; a template that fails gives the error page, never
// half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	u, signed := userOf(r)
	if v.Lang == "" {
		v.Lang = u.Lang
		if !signed {
			v.Lang = langOf(r)
		}
	}
	v.User, v.Signed, v.Prefix = u, signed, c.Prefix
	if v.CSRF == "" {
		v.CSRF = sessionOf(r).CSRF
	}
	if v.Title == "" {
		v.Title = tr(v.Lang, "title."+name)
	}
	v.Status = status
	var buf bytes.Buffer
	t := c.pages[name]
	if t == nil {
		c.Log.Error("no such console page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.Execute(&buf, v); err != nil {
		c.Log.Error("rendering a console page", "page", name, "err", err)
		if name == "error" {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		c.failStatus(w, r, http.StatusInternalServerError, v.Lang, "internal")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail maps an error to a status and a page that says what happened in
// the user's words: never a stack trace nor an internal message.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	u, _ := userOf(r)
	status, key := http.StatusInternalServerError, "internal"
	switch guichet.ErrorCode(err) {
	case guichet.ENOTFOUND:
		status, key = http.StatusNotFound, "notfound"
	case guichet.EINVALID:
		status, key = http.StatusBadRequest, "invalid"
	case guichet.ECONFLICT:
		status, key = http.StatusConflict, "conflict"
	case guichet.EUNAVAILABLE:
		status, key = http.StatusServiceUnavailable, "unavailable"
	default:
		if !errors.Is(err, r.Context().Err()) {
			c.Log.Error("console request failed", "route", route(r), "err", err)
		}
	}
	lang := u.Lang
	if lang == "" {
		lang = langOf(r)
	}
	msg := tr(lang, "error."+key)
	if status != http.StatusInternalServerError && status != http.StatusServiceUnavailable {
		msg += " " + guichet.ErrorMessage(err)
	}
	c.render(w, r, status, "error", view{Lang: lang, Message: msg, Title: tr(lang, "title.error")})
}

func (c *Console) failStatus(w http.ResponseWriter, r *http.Request, status int, lang, key string) {
	if lang == "" {
		lang = langOf(r)
	}
	c.render(w, r, status, "error", view{Lang: lang, Message: tr(lang, "error."+key), Title: tr(lang, "title.error")})
}

// route names the page for logs: its pattern, never its path, which may
// hold a phone number.
func route(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		return r.Method + " " + rc.RoutePattern()
	}
	return r.Method
}

// langOf reads the language of a visitor not signed in yet.
func langOf(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "fr" {
		return l
	}
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Accept-Language")), "en") {
		return "en"
	}
	return "fr"
}

// redirect sends the browser to p under the console, after a change (the
// POST/redirect/GET pattern: reloading never repeats an action), with a
// short message for the next page.
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, p, flash string) {
	if flash != "" {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		p += sep + "done=" + url.QueryEscape(flash)
	}
	http.Redirect(w, r, c.Prefix+p, http.StatusSeeOther)
}

// flash reads the message a redirect carried, if it is one of ours.
func flash(r *http.Request, lang string) string {
	k := r.URL.Query().Get("done")
	if k == "" {
		return ""
	}
	if s := tr(lang, "done."+k); s != "done."+k {
		return s
	}
	return ""
}
