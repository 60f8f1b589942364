package hotline_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/citizens"
	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/ussd"
)

// citizensMock is a mock of hotline.Citizens: a call to a function left
// nil fails the test.
type citizensMock struct {
	t        *testing.T
	exportFn func(phone, by string) (citizens.Record, error)
	eraseFn  func(phone, by string) (citizens.Erasure, error)
}

var _ hotline.Citizens = (*citizensMock)(nil)

func (m *citizensMock) Export(_ context.Context, phone, by string) (citizens.Record, error) {
	if m.exportFn == nil {
		m.t.Fatal("Export was not expected")
	}
	return m.exportFn(phone, by)
}

func (m *citizensMock) Erase(_ context.Context, phone, by string) (citizens.Erasure, error) {
	if m.eraseFn == nil {
		m.t.Fatal("Erase was not expected")
	}
	return m.eraseFn(phone, by)
}

const erasable = "+237677200001"

// withCitizens gives the rig's console a mock of the citizens' store and,
// as its cache, the engine's session store (as `guichet serve` does),
// holding erasable's language and dialogue; it returns the calls made, as
// "export PHONE BY" and "erase PHONE BY".
func (r *rig) withCitizens(t *testing.T) (*[]string, *sessions.Memory) {
	var calls []string
	r.console.Citizens = &citizensMock{t: t,
		exportFn: func(phone, by string) (citizens.Record, error) {
			calls = append(calls, "export "+phone+" "+by)
			return citizens.Record{Phone: phone, Language: "en", Cases: []citizens.Case{{Ref: "20000011", Data: map[string]string{"name": "Ngo Bassa"}}}}, nil
		},
		eraseFn: func(phone, by string) (citizens.Erasure, error) {
			calls = append(calls, "erase "+phone+" "+by)
			return citizens.Erasure{Pseudonym: "erased:0123456789abcdef", Cases: 1, Language: true}, nil
		}}
	cache := r.sessions
	for _, k := range []string{ussd.LanguageKey(erasable), ussd.SessionKey(erasable)} {
		if err := cache.Set(t.Context(), k, []byte("en"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	r.console.Cache = cache
	return &calls, cache
}

// The page of a citizen's data is an administrator's: operators and
// supervisors get 403 on it and on its forms, and nothing is exported or
// erased for them; a form without its token is refused.
func TestCitizenPageRolesAndCSRF(t *testing.T) {
	r := newRig(t)
	calls, _ := r.withCitizens(t)
	form := func() url.Values { return url.Values{"phone": {erasable}, "confirm": {erasable}} }
	for _, user := range []string{"awa", "paul"} {
		b := r.browser(t)
		b.mustSignIn(user)
		if code, _, _ := b.get("/hotline/citizen?phone=" + url.QueryEscape(erasable)); code != http.StatusForbidden {
			t.Errorf("%s GET /hotline/citizen: %d, want 403", user, code)
		}
		for _, path := range []string{"/hotline/citizen/export", "/hotline/citizen/erase"} {
			if code, _, _ := b.post(path, form()); code != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", user, path, code)
			}
		}
	}
	root := r.browser(t)
	root.mustSignIn("root")
	for _, path := range []string{"/hotline/citizen/export", "/hotline/citizen/erase"} {
		for _, token := range []string{"", "forged"} {
			f := form()
			f.Set("csrf", token)
			if code, _, _ := root.post(path, f); code != http.StatusForbidden {
				t.Errorf("root POST %s with token %q: %d, want 403", path, token, code)
			}
		}
	}
	// A NUL in the number: refused before any store sees it.
	root.get("/hotline/citizen")
	if code, _, _ := root.post("/hotline/citizen/erase", url.Values{"phone": {erasable + "\x00"}, "confirm": {erasable}}); code != http.StatusBadRequest {
		t.Errorf("a NUL in the number: %d, want 400", code)
	}
	if len(*calls) != 0 {
		t.Errorf("refused requests reached the store: %q", *calls)
	}
}

// An administrator looks a number up (typed any usual way), downloads its
// export, and erases it once the number is typed again: the store does
// both under their name, and the session store's copy of the language
// and dialogue goes, with the session an operator assisted on the hotline.
func TestCitizenExportAndEraseFromTheConsole(t *testing.T) {
	r := newRig(t)
	calls, cache := r.withCitizens(t)
	// awa walks the menus for the number, and for another caller.
	const other = "+237677200002"
	op := r.browser(t)
	op.mustSignIn("awa")
	for _, p := range []string{erasable, other} {
		op.get("/hotline/assist/" + url.PathEscape(p))
		if code, body, _ := op.post("/hotline/assist/"+url.PathEscape(p), url.Values{"dial": {"1"}}); code != http.StatusOK || !strings.Contains(body, `name="dialogue" value="c-`) {
			t.Fatalf("assisting: %d\n%s", code, body)
		}
	}
	assisted := "s:hotline:awa:" + erasable // where the engine keeps it
	if _, err := cache.Get(t.Context(), assisted); err != nil {
		t.Fatalf("no assisted session in the session store: %v", err)
	}
	b := r.browser(t)
	b.mustSignIn("root")
	code, body, _ := b.get("/hotline/citizen?phone=" + url.QueryEscape("677 20 00 01"))
	if code != http.StatusOK || !strings.Contains(body, `<h2>&#43;237677200001</h2>`) || !strings.Contains(body, `id="download"`) {
		t.Fatalf("looking up: %d\n%s", code, body)
	}
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/hotline/citizen/export",
		strings.NewReader(url.Values{"phone": {erasable}, "csrf": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := b.do(req)
	var rec citizens.Record
	err := json.NewDecoder(resp.Body).Decode(&rec)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || rec.Phone != erasable || len(rec.Cases) != 1 ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="citizen-export.json"` {
		t.Fatalf("export: %d %v %+v %v", resp.StatusCode, err, rec, resp.Header)
	}

	// Typed again wrong: nothing is erased.
	b.get("/hotline/citizen?phone=" + url.QueryEscape(erasable))
	if code, body, _ := b.post("/hotline/citizen/erase", url.Values{"phone": {erasable}, "confirm": {"677200002"}}); code != http.StatusBadRequest ||
		!strings.Contains(body, `id="confirm-err"`) {
		t.Errorf("a wrong confirmation: %d", code)
	}
	if code, _, _ := b.post("/hotline/citizen/erase", url.Values{"phone": {erasable}}); code != http.StatusBadRequest {
		t.Errorf("no confirmation: %d", code)
	}
	if want := []string{"export " + erasable + " root"}; !slices.Equal(*calls, want) {
		t.Fatalf("calls %q, want %q", *calls, want)
	}
	code, body, _ = b.post("/hotline/citizen/erase", url.Values{"phone": {erasable}, "confirm": {"6 77 20 00 01"}})
	if code != http.StatusOK || !strings.Contains(body, "erased:0123456789abcdef") || !strings.Contains(body, `class="flash"`) {
		t.Fatalf("erase: %d\n%s", code, body)
	}
	if want := []string{"export " + erasable + " root", "erase " + erasable + " root"}; !slices.Equal(*calls, want) {
		t.Errorf("calls %q, want %q", *calls, want)
	}
	for _, k := range []string{ussd.LanguageKey(erasable), ussd.SessionKey(erasable), assisted} {
		if _, err := cache.Get(t.Context(), k); err == nil {
			t.Errorf("%s outlived the erasure in the session store", strings.ReplaceAll(k, erasable, "PHONE"))
		}
	}
	if _, err := cache.Get(t.Context(), "s:hotline:awa:"+other); err != nil {
		t.Errorf("another caller's assisted session went with the erasure: %v", err)
	}
}

// On the embedded default, with nothing past its process, the page says
// export and erasure need PostgreSQL, and its forms answer 501.
func TestCitizenPageNeedsPostgres(t *testing.T) {
	r := newRig(t)
	b := r.browser(t)
	b.mustSignIn("root")
	code, body, _ := b.get("/hotline/citizen")
	if code != http.StatusOK || !strings.Contains(body, `id="needsdb"`) || !strings.Contains(body, "PostgreSQL") || strings.Contains(body, `id="erase"`) {
		t.Errorf("the page on memory: %d\n%s", code, body)
	}
	if code, body, _ := b.post("/hotline/citizen/erase", url.Values{"phone": {erasable}, "confirm": {erasable}}); code != http.StatusNotImplemented ||
		!strings.Contains(body, "PostgreSQL") {
		t.Errorf("erasing on memory: %d", code)
	}
}
