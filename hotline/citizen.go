package hotline

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/guichet/guichet/citizens"
	"github.com/guichet/guichet/phone"
)

// Citizens is what the console asks of the store of citizens' rights
// (postgres.Citizens): everything held about a number, and its erasure;
// the store records each in the audit log under who asked.
type Citizens interface {
	Export(ctx context.Context, phone, by string) (citizens.Record, error)
	Erase(ctx context.Context, phone, by string) (citizens.Erasure, error)
}

// Cache is the gateway's session store (sessions.Redis, sessions.Memory),
// which caches a caller's language and holds their dialogues, their own
// and those the hotline walked for them: an erasure deletes them all.
type Cache interface {
	Delete(ctx context.Context, key string) error
}

// citizenData is the page of a citizen's rights: the number looked up,
// what an erasure did.
type citizenData struct {
	Phone   string
	Erasure *citizens.Erasure
	None    bool // no store to ask: the embedded default
}

// citizenPage looks a number up and offers its export and its erasure.
func (c *Console) citizenPage(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	d := citizenData{None: c.Citizens == nil}
	form := url.Values{"phone": {r.URL.Query().Get("phone")}}
	if q := strings.TrimSpace(form.Get("phone")); q != "" && !d.None {
		p, err := c.normalizePhone(q)
		if err != nil {
			c.render(w, r, http.StatusBadRequest, "citizen", view{Data: d, Form: form, Errors: map[string]string{"phone": tr(u.Lang, "search.badphone", q)}})
			return
		}
		d.Phone = p
	}
	c.render(w, r, http.StatusOK, "citizen", view{Data: d, Form: form, Flash: flash(r, u.Lang)})
}

// citizenPhone reads the number a form of the page posted, or says why
// it cannot be acted on.
func (c *Console) citizenPhone(w http.ResponseWriter, r *http.Request) (string, bool) {
	u, _ := userOf(r)
	if c.Citizens == nil {
		c.failStatus(w, r, http.StatusNotImplemented, u.Lang, "needsdb")
		return "", false
	}
	p, err := c.normalizePhone(r.PostForm.Get("phone"))
	if err != nil {
		c.render(w, r, http.StatusBadRequest, "citizen", view{Data: citizenData{}, Form: r.PostForm,
			Errors: map[string]string{"phone": tr(u.Lang, "search.badphone", r.PostForm.Get("phone"))}})
		return "", false
	}
	return p, true
}

// exportCitizen downloads everything held about a number as JSON; the
// store records the export.
func (c *Console) exportCitizen(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	p, ok := c.citizenPhone(w, r)
	if !ok {
		return
	}
	rec, err := c.Citizens.Export(r.Context(), p, u.Name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	// Named without the number: downloads are listed, synced, shared.
	h.Set("Content-Disposition", `attachment; filename="citizen-export.json"`)
	w.Write(append(b, '\n'))
}

// eraseCitizen erases a number's personal data once the number is typed
// again, the store recording it, and deletes what the session store
// keeps of it (its cached language, its dialogues, assisted or not).
func (c *Console) eraseCitizen(w http.ResponseWriter, r *http.Request) {
	u, _ := userOf(r)
	p, ok := c.citizenPhone(w, r)
	if !ok {
		return
	}
	if again, err := c.normalizePhone(r.PostForm.Get("confirm")); err != nil || again != p {
		c.render(w, r, http.StatusBadRequest, "citizen", view{Data: citizenData{Phone: p}, Form: url.Values{"phone": {p}},
			Errors: map[string]string{"confirm": tr(u.Lang, "citizen.confirm.err")}})
		return
	}
	e, err := c.Citizens.Erase(r.Context(), p, u.Name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.forgetCached(r.Context(), p); err != nil {
		c.Log.Error("erased a citizen, but not the session store's copy", "phone", phone.Mask(p), "pseudonym", e.Pseudonym, "err", err)
		c.render(w, r, http.StatusInternalServerError, "citizen", view{Data: citizenData{Erasure: &e},
			Errors: map[string]string{"cache": tr(u.Lang, "citizen.cache.err")}})
		return
	}
	c.render(w, r, http.StatusOK, "citizen", view{Data: citizenData{Erasure: &e}, Flash: tr(u.Lang, "done.erased")})
}

// forgetCached deletes what the session store holds of p: its cached
// language, its dialogue and the assisted sessions every account walked
// for it (CachedKeys).
func (c *Console) forgetCached(ctx context.Context, p string) error {
	if c.Cache == nil {
		return nil
	}
	users, err := c.Accounts.Users(ctx)
	if err != nil {
		return err
	}
	var more []string
	if c.CacheKeys != nil {
		more = c.CacheKeys(p)
	}
	for _, k := range CachedKeys(p, users, more...) {
		if err := c.Cache.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}
