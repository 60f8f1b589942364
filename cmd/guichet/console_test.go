package main

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/citizens"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/postgres/pgtest"
	"github.com/guichet/guichet/sessions/sessionstest"
	"github.com/guichet/guichet/staff"
	"github.com/guichet/guichet/ussd"
)

const consolePassword = "correct horse battery"

// consoleUser is a browser signed in to a test gateway's console as a
// new account of role.
type consoleUser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func signedIn(t *testing.T, g *testGateway, name string, role staff.Role) *consoleUser {
	t.Helper()
	u, err := staff.NewUser(name, strings.ToUpper(name), role, "en", consolePassword, g.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := g.stores.accounts.AddUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	cu := &consoleUser{t: t, base: g.url, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	cu.get("/hotline/signin")
	if code, _, loc := cu.post("/hotline/signin", url.Values{"name": {name}, "password": {consolePassword}}); code != http.StatusSeeOther || loc != "/hotline/" {
		t.Fatalf("signing in as %s: %d → %s", name, code, loc)
	}
	return cu
}

func (cu *consoleUser) answer(resp *http.Response, err error) (int, string, string) {
	cu.t.Helper()
	if err != nil {
		cu.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		cu.csrf = string(m[1])
	}
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

// get fetches a page, keeping its form token.
func (cu *consoleUser) get(path string) (int, string, string) {
	cu.t.Helper()
	return cu.answer(cu.c.Get(cu.base + path))
}

// post submits a form with the last page's token, unless it has one.
func (cu *consoleUser) post(path string, form url.Values) (int, string, string) {
	cu.t.Helper()
	if !form.Has("csrf") {
		form.Set("csrf", cu.csrf)
	}
	return cu.answer(cu.c.PostForm(cu.base+path, form))
}

// The console's views of a caller's data, on PostgreSQL, are found by a
// search for the number: the callback queue (each number it showed, in
// one entry), a case page (under its phone as well as its reference),
// and the audit log's own views, with their filter.
func TestConsoleViewsAuditedOnPostgres(t *testing.T) {
	g := newTestGateway(t, func(c *Config) { c.DatabaseURL, c.Migrate, c.Seed = pgtest.DB(t), true, true; forceDemo(c) })
	ctx := t.Context()
	const p1, p2 = "+237699500001", "+237699500002"
	for _, p := range []string{p1, p2} {
		if _, err := g.cases.Do(ctx, menus.Call{Op: "callback.request", Service: "covid", Phone: p, Lang: "fr", Channel: "ussd",
			Key: "cb-" + p, Args: map[string]string{"reason": "covid-high-risk"}}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := g.cases.Do(ctx, menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: p1, Lang: "fr", Channel: "ussd",
		Key: "case-" + p1, Args: map[string]string{"office": "douala-3", "name": "Ngo Bassa", "born": "01011990"}})
	if err != nil {
		t.Fatal(err)
	}
	ref := res.Vars["ref"]
	awa := signedIn(t, g, "awa", staff.Operator)
	paul := signedIn(t, g, "paul", staff.Supervisor)
	for _, path := range []string{"/hotline/callbacks", "/hotline/cases/" + ref} {
		if code, _, _ := awa.get(path); code != http.StatusOK {
			t.Fatalf("%s: %d", path, code)
		}
	}
	if code, _, _ := paul.get("/hotline/audit?subject=" + url.QueryEscape(p1)); code != http.StatusOK {
		t.Fatalf("the audit page: %d", code)
	}
	about := func(subject string) []string {
		t.Helper()
		es, err := g.stores.trail.AuditLog(ctx, staff.AuditFilter{Subject: subject})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, strings.TrimSpace(e.User+" "+e.Action+" "+e.Detail))
		}
		return got
	}
	for _, p := range []string{p1, p2} {
		if got := about(p); !slices.Contains(got, "awa view.callbacks 2 open, 0 closed") {
			t.Errorf("the queue's view under %s: %q", p, got)
		}
	}
	got := about(p1)
	if !slices.Contains(got, "awa view.case") || len(got) == 0 || got[0] != "paul view.audit subject="+p1 {
		t.Errorf("under %s: %q, want the case's view and, newest, the audit log's", p1, got)
	}
	if got := about(ref); !slices.Contains(got, "awa view.case") {
		t.Errorf("the case's view under its reference: %q", got)
	}
}

// The ministries' reads of citizens' data through the API, on
// PostgreSQL, are in the audit log under each number they returned, one
// entry a request, their actor the key's owner.
func TestAPIReadsAuditedOnPostgres(t *testing.T) {
	g := newTestGateway(t, func(c *Config) { c.DatabaseURL, c.Migrate, c.Seed = pgtest.DB(t), true, true; forceDemo(c) })
	ctx := t.Context()
	key := apikey.New()
	if err := g.stores.keys.AddAPIKey(ctx, apikey.Key{Owner: "civil-status", Created: g.clock.Now(), PerSecond: 100}, apikey.Hash(key)); err != nil {
		t.Fatal(err)
	}
	const citizen = "+237699500003"
	res, err := g.cases.Do(ctx, menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: citizen, Lang: "fr", Channel: "ussd",
		Key: "case-" + citizen, Args: map[string]string{"office": "douala-3", "name": "Ngo Bassa", "born": "01011990"}})
	if err != nil {
		t.Fatal(err)
	}
	ref := res.Vars["ref"]
	code, body := apiCall(t, "POST", g.url+"/api/v1/messages", key, `{"to":["`+citizen+`"],"text":{"fr":"Votre acte est prêt."}}`)
	id := regexp.MustCompile(`"id":"(\d+)"`).FindStringSubmatch(body)
	if code != http.StatusAccepted || id == nil {
		t.Fatalf("sending: %d %s", code, body)
	}
	for _, path := range []string{"/api/v1/cases/" + ref, "/api/v1/cases?service=birth-certificate", "/api/v1/messages/" + id[1], "/api/v1/messages",
		"/api/v1/cases?status=collected"} {
		if code, body := apiCall(t, "GET", g.url+path, key, ""); code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
	es, err := g.stores.trail.AuditLog(ctx, staff.AuditFilter{Subject: citizen})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.User+" "+e.Action)
	}
	if want := "api:civil-status api.messages,api:civil-status api.message,api:civil-status api.cases,api:civil-status api.case"; strings.Join(got, ",") != want {
		t.Errorf("the reads under %s: %q, want %s (newest first)", citizen, got, want)
	}
	if es, _ := g.stores.trail.AuditLog(ctx, staff.AuditFilter{Subject: ref}); len(es) != 2 {
		t.Errorf("the reads under %s: %+v, want the case and the list", ref, es)
	}
}

// The console's page of a citizen's data, on PostgreSQL and Redis: an
// administrator's export holds the number's case and language, audited
// under their name; the erasure, once confirmed, leaves the number
// nowhere (its cached language in Redis included), audited too;
// operators and supervisors get 403, a form without its token is
// refused, and neither erases anything.
func TestCitizenPageOnPostgres(t *testing.T) {
	_, prefix := sessionstest.Redis(t)
	g := newTestGateway(t, func(c *Config) {
		c.DatabaseURL, c.Migrate, c.Seed = pgtest.DB(t), true, true
		c.RedisURL, c.RedisPrefix = cmp.Or(os.Getenv("REDIS_URL"), sessionstest.DefaultRedisURL), prefix
		forceDemo(c)
	})
	ctx := t.Context()
	const citizen = "+237699500004"
	if _, err := g.cases.Do(ctx, menus.Call{Op: "cases.open", Service: "birth-certificate", Phone: citizen, Lang: "en", Channel: "ussd",
		Key: "case-" + citizen, Args: map[string]string{"office": "douala-3", "name": "Ngo Bassa", "born": "01011990"}}); err != nil {
		t.Fatal(err)
	}
	if err := g.engine.SetLanguage(ctx, citizen, "en"); err != nil {
		t.Fatal(err)
	}
	form := func() url.Values { return url.Values{"phone": {citizen}, "confirm": {citizen}} }
	for name, role := range map[string]staff.Role{"awa": staff.Operator, "paul": staff.Supervisor} {
		cu := signedIn(t, g, name, role)
		if code, _, _ := cu.get("/hotline/citizen"); code != http.StatusForbidden {
			t.Errorf("%s GET /hotline/citizen: %d, want 403", name, code)
		}
		for _, path := range []string{"/hotline/citizen/export", "/hotline/citizen/erase"} {
			if code, _, _ := cu.post(path, form()); code != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", name, path, code)
			}
		}
	}
	root := signedIn(t, g, "root", staff.Admin)
	f := form()
	f.Set("csrf", "forged")
	if code, _, _ := root.post("/hotline/citizen/erase", f); code != http.StatusForbidden {
		t.Errorf("erasing with a forged token: %d, want 403", code)
	}

	if code, _, _ := root.get("/hotline/citizen?phone=699500004"); code != http.StatusOK {
		t.Fatalf("looking up: %d", code)
	}
	code, body, _ := root.post("/hotline/citizen/export", url.Values{"phone": {citizen}})
	var rec citizens.Record
	if err := json.Unmarshal([]byte(body), &rec); code != http.StatusOK || err != nil || rec.Language != "en" || len(rec.Cases) != 1 ||
		rec.Cases[0].Data["name"] != "Ngo Bassa" {
		t.Fatalf("export: %d %v %s", code, err, body)
	}
	root.get("/hotline/citizen?phone=699500004")
	if code, _, _ := root.post("/hotline/citizen/erase", url.Values{"phone": {citizen}, "confirm": {"699500005"}}); code != http.StatusBadRequest {
		t.Errorf("a wrong confirmation: %d, want 400", code)
	}
	if r, err := g.stores.citizens.Export(ctx, citizen, "test"); err != nil || len(r.Cases) != 1 {
		t.Fatalf("refused erasures erased: %+v %v", r, err)
	}
	code, body, _ = root.post("/hotline/citizen/erase", url.Values{"phone": {citizen}, "confirm": {"699 50 00 04"}})
	if code != http.StatusOK || !strings.Contains(body, "erased:") {
		t.Fatalf("erase: %d\n%s", code, body)
	}
	if _, err := g.sessions.Get(ctx, ussd.LanguageKey(citizen)); err == nil {
		t.Error("the language cached in Redis outlived the erasure")
	}
	if got := g.engine.Language(ctx, citizen); got != "" {
		t.Errorf("the gateway still knows the erased number's language: %q", got)
	}
	if r, err := g.stores.citizens.Export(ctx, citizen, "test"); err != nil || len(r.Cases)+len(r.Messages) != 0 || r.Language != "" {
		t.Errorf("exported after the erasure: %+v %v", r, err)
	}
	es, err := g.stores.trail.AuditLog(ctx, staff.AuditFilter{User: "root"})
	if err != nil {
		t.Fatal(err)
	}
	var did []string
	for _, e := range es {
		if strings.HasPrefix(e.Action, "citizen.") {
			did = append(did, e.Action)
			if strings.Contains(e.Subject+e.Detail, citizen) {
				t.Errorf("%s still names the number: %+v", e.Action, e)
			}
		}
	}
	if !slices.Equal(did, []string{"citizen.erase", "citizen.export"}) {
		t.Errorf("root's audited actions on citizens: %q, want the export and the erasure", did)
	}
}
