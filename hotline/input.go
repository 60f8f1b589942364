package hotline

import (
	"cmp"
	"net/http"
	"strings"

	"github.com/guichet/guichet"
)

// maxForm bounds a form without a file, the sign-in's included.
const maxForm = 64 << 10

// plainInput refuses, with a 400 page that names the field, a request whose
// path, query or form holds what no store keeps: a NUL, bytes that are not
// UTF-8. No handler has to check: Routes runs it before the sign-in's
// handlers, and before every other page's, once authenticated has read
// its form (the campaign's, with a file, included) and knows the user's
// language.
func (c *Console) plainInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.PostForm == nil && !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			r.ParseForm() // a form that does not parse is left to the page (its token is not found: refused)
		}
		if !guichet.ValidText(r.URL.Path) {
			c.badInput(w, r, "")
			return
		}
		if name, bad := guichet.BadValue(r.URL.Query()); bad {
			c.badInput(w, r, name)
			return
		}
		if name, bad := guichet.BadValue(r.PostForm); bad {
			c.badInput(w, r, name)
			return
		}
		if r.MultipartForm != nil {
			if name, bad := guichet.BadValue(r.MultipartForm.Value); bad {
				c.badInput(w, r, name)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// badInput answers a request plainInput refused: the field, or the address
// when name is "", and what to do.
func (c *Console) badInput(w http.ResponseWriter, r *http.Request, name string) {
	u, _ := userOf(r)
	lang := cmp.Or(u.Lang, langOf(r))
	msg := tr(lang, "error.badpath")
	if name != "" {
		msg = tr(lang, "error.badfield", name)
	}
	c.render(w, r, http.StatusBadRequest, "error", view{Lang: lang, Message: msg, Title: tr(lang, "title.error")})
}
